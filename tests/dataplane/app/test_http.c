/* The HTTP/1.1 proxy over two back-to-back stacks (app_harness.h): a tiny
 * HTTP server on the peer's side, real generations from control. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_harness.h"
#include "sl_gen.h"
#include "sl_http_stats.h"
#include "sl_l4.h"

static struct harness H;

static void setup(void)
{
	h_init(&H, 0, 0);
}

static void teardown(void)
{
	h_fini(&H);
}

TestSuite(http, .init = setup, .fini = teardown, .timeout = 120);

static const char *BASE =
	"[{'model_name':'Pool','data':{'name':'p','servers':[{'ip':{'addr':'198.18.1.2'},'port':8081}]}},"
	"{'model_name':'Pool','data':{'name':'img','servers':[{'ip':{'addr':'198.18.1.3'},'port':8081}]}},"
	"{'model_name':'Pool','data':{'name':'down','servers':[{'ip':{'addr':'198.18.1.4'},'port':8081,'enabled':false}]}},"
	"{'model_name':'PoolGroup','data':{'name':'imgpg','members':[{'pool_ref':'/api/pool?name=img','ratio':100}]}},"
	"{'model_name':'HTTPPolicySet','data':{'name':'rules','http_request_policy':{'rules':["
	"{'name':'to-img','index':1,'enable':true,'match':{'host_hdr':{'match_criteria':'HDR_EQUALS','value':['img.example']}},"
	" 'switching_action':{'action':'HTTP_SWITCHING_SELECT_POOLGROUP','pool_group_ref':'/api/poolgroup/?name=imgpg'}},"
	"{'name':'old','index':2,'enable':true,'match':{'path':{'match_criteria':'BEGINS_WITH','match_str':['/old']}},"
	" 'redirect_action':{'protocol':'HTTPS','port':443,'path':{'type':'URI_PARAM_TYPE_TOKENIZED','tokens':[{'type':'URI_TOKEN_TYPE_STRING','str_value':'new'}]},'keep_query':true,'status_code':'HTTP_REDIRECT_STATUS_CODE_301'}},"
	"{'name':'deny','index':3,'enable':true,'match':{'path':{'match_criteria':'EQUALS','match_str':['/admin']}},"
	" 'switching_action':{'action':'HTTP_SWITCHING_SELECT_LOCAL','status_code':'HTTP_LOCAL_RESPONSE_STATUS_CODE_403'}},"
	"{'name':'nowhere','index':4,'enable':true,'match':{'path':{'match_criteria':'EQUALS','match_str':['/down']}},"
	" 'switching_action':{'action':'HTTP_SWITCHING_SELECT_POOL','pool_ref':'/api/pool?name=down'}}"
	"]}}},"
	"{'model_name':'VirtualService','data':{'name':'web','vip':[{'ip_address':{'addr':'198.18.0.20'}}],"
	"'services':[{'port':80}],'application_profile_ref':'System-HTTP','pool_ref':'p',"
	"'http_policies':[{'index':1,'http_policy_set_ref':'/api/httppolicyset/?name=rules'}]}}]";

static struct peer_conn *client(void)
{
	return h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.20"), 80);
}

static void up(void)
{
	h_listen_http(&H, h_ip("198.18.1.2"), 8081);
	h_listen_http(&H, h_ip("198.18.1.3"), 8081);
	cr_assert_eq(h_api(&H, "POST", "/api/macro", BASE), 200);
}

/* responses seen by p: count of "HTTP/1.1 " status lines */
static unsigned responses(const struct peer_conn *p)
{
	unsigned n = 0;

	for (size_t i = 0; i + 9 <= p->rx_len; i++)
		if (!memcmp(p->rx + i, "HTTP/1.1 ", 9))
			n++;
	return n;
}

struct want { struct peer_conn *p; unsigned n; const char *tail; };

static bool contains(const struct peer_conn *p, const char *s);

/* n responses seen, and the last one's body (tail) when given */
static bool got_responses(struct harness *h, void *arg)
{
	struct want *w = arg;

	(void)h;
	return (responses(w->p) >= w->n && (!w->tail || contains(w->p, w->tail))) || w->p->dead;
}

static bool closed(struct harness *h, void *arg)
{
	struct peer_conn *p = arg;

	(void)h;
	return p->peer_closed || p->dead;
}

static bool contains(const struct peer_conn *p, const char *s)
{
	size_t k = strlen(s);

	for (size_t i = 0; i + k <= p->rx_len; i++)
		if (!memcmp(p->rx + i, s, k))
			return true;
	return false;
}

/* the peer-side server connection that accepted on ip (the first one) */
static struct peer_conn *server_at(const char *ip)
{
	for (unsigned i = 0; i < H.n_pc; i++) {
		uint32_t lip, rip;
		uint16_t lport, rport;

		if (!H.pc[i].http || !H.pc[i].c)
			continue;
		sl_tcp_conn_tuple(H.pc[i].c, &lip, &lport, &rip, &rport);
		if (lip == h_ip(ip))
			return &H.pc[i];
	}
	return NULL;
}

static void send_str(struct peer_conn *p, const char *s)
{
	h_send(&H, p, s, strlen(s));
}

Test(http, keep_alive_both_sides_and_rewritten_heads)
{
	struct peer_conn *c, *s;
	struct want w;

	up();
	c = client();
	send_str(c, "GET /a?x=1 HTTP/1.1\r\nHost: shop.example\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
		    "X-Test: one\r\n\r\n");
	w = (struct want){ c, 1, "\r\n\r\nr0" };
	cr_assert(h_pump_until(&H, got_responses, &w, 20000), "no response");
	cr_assert(contains(c, "HTTP/1.1 200 OK"), "%.*s", (int)c->rx_len, c->rx);
	cr_assert(contains(c, "\r\n\r\nr0"), "%.*s", (int)c->rx_len, c->rx);
	send_str(c, "GET /b HTTP/1.1\r\nHost: shop.example\r\n\r\n");
	w.n = 2;
	w.tail = "\r\n\r\nr1";
	cr_assert(h_pump_until(&H, got_responses, &w, 20000), "no second response");
	cr_assert(contains(c, "r1"), "the second request did not reuse the server connection");
	s = server_at("198.18.1.2");
	cr_assert(s);
	cr_expect_eq(H.accepted, 1, "server connections: %u", H.accepted);
	cr_expect(contains(s, "GET /a?x=1 HTTP/1.1\r\n"));
	cr_expect(contains(s, "Host: shop.example\r\n"));
	cr_expect(contains(s, "X-Forwarded-For: 198.18.0.2\r\n"), "%.*s", (int)s->rx_len, s->rx);
	cr_expect(contains(s, "X-Test: one\r\n"));
	cr_expect(!contains(s, "Keep-Alive:"), "hop-by-hop field forwarded");
	cr_expect(!contains(s, "Connection: keep-alive"), "hop-by-hop field forwarded");
	cr_expect(!c->peer_closed, "the client connection was closed");
}

Test(http, pipelined_requests_answered_in_order)
{
	struct peer_conn *c;
	struct want w;

	up();
	c = client();
	send_str(c, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
	w = (struct want){ c, 3, "r2" };
	cr_assert(h_pump_until(&H, got_responses, &w, 50000), "%u responses", responses(c));
	const char *r0 = memmem(c->rx, c->rx_len, "r0", 2), *r1 = memmem(c->rx, c->rx_len, "r1", 2),
		   *r2 = memmem(c->rx, c->rx_len, "r2", 2);
	cr_assert(r0 && r1 && r2 && r0 < r1 && r1 < r2, "out of order");
}

Test(http, malformed_requests_refused_and_never_forwarded)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1\r\n\r\n",                                            /* no Host */
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",                 /* obs-fold */
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",                               /* space before colon */
		"GET / HTTP/1.1\nHost: a\n\n",                                        /* bare LF */
	};

	up();
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct peer_conn *c = client();

		send_str(c, bad[i]);
		cr_assert(h_pump_until(&H, closed, c, 20000), "case %u: connection not closed", i);
		cr_assert(contains(c, "HTTP/1.1 400"), "case %u: %.*s", i, (int)c->rx_len, c->rx);
	}
	cr_assert_eq(H.accepted, 0, "a malformed request reached a server");
}

Test(http, slow_header_gets_408)
{
	struct peer_conn *c;

	up();
	c = client();
	send_str(c, "GET / HTTP/1.1\r\nHost: a\r\n");
	h_pump(&H, 9000, 1000);
	cr_assert(!contains(c, "HTTP/1.1"), "answered before the header timeout");
	h_pump(&H, 3000, 1000);
	cr_assert(contains(c, "HTTP/1.1 408"), "%.*s", (int)c->rx_len, c->rx);
	cr_assert(h_pump_until(&H, closed, c, 2000));
}

Test(http, chunked_upload_reaches_the_server_intact)
{
	struct peer_conn *c, *s;
	struct want w;

	up();
	c = client();
	send_str(c, "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n");
	w = (struct want){ c, 1 };
	cr_assert(h_pump_until(&H, got_responses, &w, 20000));
	cr_assert(contains(c, "200 OK"));
	s = server_at("198.18.1.2");
	cr_assert(s && contains(s, "Transfer-Encoding: chunked\r\n") &&
			  contains(s, "\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n"),
		  "%.*s", s ? (int)s->rx_len : 0, s ? (char *)s->rx : "");
}

Test(http, policies_switch_redirect_and_answer_locally)
{
	struct peer_conn *c;
	struct want w;

	up();
	c = client();
	send_str(c, "GET /logo.png HTTP/1.1\r\nHost: img.example\r\n\r\n");
	w = (struct want){ c, 1 };
	cr_assert(h_pump_until(&H, got_responses, &w, 20000));
	cr_assert(server_at("198.18.1.3"), "host switching did not reach the pool group's pool");
	cr_assert(!server_at("198.18.1.2"));

	send_str(c, "GET /old/page?q=2 HTTP/1.1\r\nHost: shop.example\r\n\r\n");
	w.n = 2;
	cr_assert(h_pump_until(&H, got_responses, &w, 20000));
	cr_assert(contains(c, "HTTP/1.1 301"), "%.*s", (int)c->rx_len, c->rx);
	cr_assert(contains(c, "Location: https://shop.example/new?q=2\r\n"), "%.*s", (int)c->rx_len, c->rx);

	send_str(c, "GET /admin HTTP/1.1\r\nHost: shop.example\r\n\r\n");
	w.n = 3;
	cr_assert(h_pump_until(&H, got_responses, &w, 20000));
	cr_assert(contains(c, "HTTP/1.1 403"), "%.*s", (int)c->rx_len, c->rx);

	send_str(c, "GET /down HTTP/1.1\r\nHost: shop.example\r\n\r\n");
	w.n = 4;
	cr_assert(h_pump_until(&H, got_responses, &w, 20000));
	cr_assert(contains(c, "HTTP/1.1 503"), "no server up: %.*s", (int)c->rx_len, c->rx);
	cr_assert(!c->peer_closed, "a local answer to a bodyless request keeps the connection");
}

Test(http, requests_keep_the_generation_their_connection_pinned)
{
	struct peer_conn *c;
	struct want w;
	const void *g1;

	up();
	c = client();
	send_str(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	w = (struct want){ c, 1 };
	cr_assert(h_pump_until(&H, got_responses, &w, 20000));
	g1 = H.gen;
	/* the VS now sends everything to 'img'; the open connection keeps 'p' */
	cr_assert_eq(h_api(&H, "PUT", "/api/virtualservice/web",
			   "{'name':'web','vip':[{'ip_address':{'addr':'198.18.0.20'}}],'services':[{'port':80}],"
			   "'application_profile_ref':'System-HTTP','pool_ref':'img'}"), 200);
	cr_assert_neq(H.gen, g1);
	send_str(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	w.n = 2;
	cr_assert(h_pump_until(&H, got_responses, &w, 20000));
	cr_assert(!server_at("198.18.1.3"), "a request on an open connection used the new generation");
	struct peer_conn *c2 = client();

	send_str(c2, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	w = (struct want){ c2, 1 };
	cr_assert(h_pump_until(&H, got_responses, &w, 20000));
	cr_assert(server_at("198.18.1.3"), "a new connection did not use the new generation");
}

Test(http, counters_by_status_class)
{
	struct peer_conn *c;
	struct want w;
	struct sl_http_vs_stats st;
	const struct sl_gen *g;

	up();
	c = client();
	send_str(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n");
	w = (struct want){ c, 2 };
	cr_assert(h_pump_until(&H, got_responses, &w, 20000));
	g = H.gen;
	sl_http_vs_stats(g->vs[0].slot, &st);
	cr_expect_eq(st.requests, 2);
	cr_expect_eq(st.resp_2xx, 1);
	cr_expect_eq(st.resp_4xx, 1);
	cr_expect_eq(st.local, 1);
	cr_expect_gt(st.bytes_out, 0);
}

/* The smuggling corpus (tests/dataplane/http/smuggling) against the proxy:
 * each reject gets its status and reaches no server with a whole body;
 * each accept is answered by the server. */
static char *slurp_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	cr_assert(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	cr_assert(b && fread(b, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

Test(http, smuggling_corpus)
{
	char path[512], line[512];
	FILE *v;
	unsigned n = 0, bad = 0;

	up();
	snprintf(path, sizeof(path), "%s/verdicts.txt", SL_SMUGGLING);
	v = fopen(path, "r");
	cr_assert(v, "%s", path);
	while (fgets(line, sizeof(line), v)) {
		char file[128], want[64];
		struct peer_conn *c;
		size_t len;
		char *raw;
		unsigned st = 0;

		if (line[0] == '#' || sscanf(line, "%127s %63s", file, want) != 2)
			continue;
		snprintf(path, sizeof(path), "%s/%s", SL_SMUGGLING, file);
		raw = slurp_file(path, &len);
		c = client();
		c->close_when_sent = true;
		h_send(&H, c, raw, len);
		h_pump_until(&H, closed, c, 40000);
		if (c->rx_len >= 12 && !memcmp(c->rx, "HTTP/1.1 ", 9))
			st = (unsigned)atoi((const char *)c->rx + 9);
		n++;
		if (!strncmp(want, "reject:", 7) ? st != (unsigned)atoi(want + 7) : st != 200) {
			bad++;
			fprintf(stderr, "%s: want %s, got %u (%zu bytes back, dead %d err %d)\n", file, want, st, c->rx_len, c->dead, c->err);
		}
		free(raw);
	}
	fclose(v);
	cr_assert_geq(n, 40);
	cr_assert_eq(bad, 0, "%u of %u corpus cases answered wrongly", bad, n);
}

/* ---- passive health from responses, per-server bytes */
static const char *TWO =
	"[{'model_name':'Pool','data':{'name':'two','servers':[{'ip':{'addr':'198.18.1.2'},'port':8081},"
	"{'ip':{'addr':'198.18.1.3'},'port':8081}]}},"
	"{'model_name':'VirtualService','data':{'name':'two','vip':[{'ip_address':{'addr':'198.18.0.21'}}],"
	"'services':[{'port':80}],'application_profile_ref':'System-HTTP','pool_ref':'two'}}]";

static uint32_t slot_of(const char *ip)
{
	const struct sl_gen *g = H.gen;

	for (uint32_t i = 0; i < g->n_servers; i++)
		if (g->servers[i].ip == h_ip(ip))
			return g->servers[i].slot;
	cr_assert_fail("no server %s", ip);
	return 0;
}

static unsigned count_of(const struct peer_conn *p, const char *s)
{
	size_t k = strlen(s);
	unsigned n = 0;

	for (size_t i = 0; i + k <= p->rx_len; i++)
		if (!memcmp(p->rx + i, s, k))
			n++;
	return n;
}

/* n keep-alive requests one after the other on c */
static void requests(struct peer_conn *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct want w = { c, responses(c) + 1, NULL };

		send_str(c, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
		cr_assert(h_pump_until(&H, got_responses, &w, 20000), "no response %u", i);
		cr_assert(!c->dead);
	}
}

Test(http, passive_health_takes_a_5xx_server_out_and_back)
{
	struct peer_conn *c;
	struct sl_proxy_srv_stats bad, good;
	uint32_t s3;

	h_listen_http(&H, h_ip("198.18.1.2"), 8081);
	h_listen_http(&H, h_ip("198.18.1.3"), 8081);
	h_http_status(&H, h_ip("198.18.1.3"), 503);
	cr_assert_eq(h_api(&H, "POST", "/api/macro", TWO), 200);
	s3 = slot_of("198.18.1.3");
	c = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.21"), 80);
	/* round robin: the 503 server gets every other request until its third
	 * failure, then none */
	requests(c, 16);
	cr_expect_eq(count_of(c, "HTTP/1.1 503"), 3, "%.*s", (int)c->rx_len, c->rx);
	cr_expect_eq(count_of(c, "HTTP/1.1 200"), 13);
	sl_proxy_srv_stats(s3, &bad);
	cr_expect_eq(bad.response_fail, 3);
	cr_expect_eq(bad.passive_out, 1);
	cr_expect_eq(bad.out_workers, 1);
	/* 10 s later it is back in the picks; healthy now, a 200 clears its run */
	h_http_status(&H, h_ip("198.18.1.3"), 200);
	h_pump(&H, 1100, 10000);
	requests(c, 8);
	cr_expect_eq(count_of(c, "HTTP/1.1 503"), 3);
	sl_proxy_srv_stats(s3, &bad);
	cr_expect_eq(bad.out_workers, 0, "still out after 11 s");
	cr_expect_eq(bad.response_fail, 3);
	cr_expect_gt(server_at("198.18.1.3")->served, 3u, "no request reached it after its time out");
	/* two more failures do not take it out: the 200s cleared the count */
	h_http_status(&H, h_ip("198.18.1.3"), 502);
	requests(c, 4);
	sl_proxy_srv_stats(s3, &bad);
	cr_expect_eq(bad.response_fail, 5);
	cr_expect_eq(bad.passive_out, 1);
	sl_proxy_srv_stats(slot_of("198.18.1.2"), &good);
	cr_expect_eq(good.response_fail, 0);
	cr_expect_eq(good.passive_out, 0);
}

Test(http, per_server_bytes_are_the_bytes_on_the_server_connection)
{
	struct peer_conn *c, *s;
	struct sl_proxy_srv_stats st;
	uint64_t sent = 0;
	char o[256];

	h_listen_http(&H, h_ip("198.18.1.2"), 8081);
	cr_assert_eq(h_api(&H, "POST", "/api/macro", BASE), 200);
	c = client();
	requests(c, 12);
	s = server_at("198.18.1.2");
	cr_assert(s);
	cr_assert_eq(s->served, 12);
	for (unsigned i = 0; i < s->served; i++)
		sent += (uint64_t)snprintf(o, sizeof(o), "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\nr%u",
					   i < 10 ? 2u : 3u, i);
	sl_proxy_srv_stats(slot_of("198.18.1.2"), &st);
	cr_expect_eq(st.bytes_out, s->rx_len, "to the server: %lu, it got %zu", (unsigned long)st.bytes_out, s->rx_len);
	cr_expect_eq(st.bytes_in, sent, "from the server: %lu, it sent %lu", (unsigned long)st.bytes_in,
		     (unsigned long)sent);
	cr_expect_eq(st.response_fail, 0);
}

/* ---- slow readers: a response blocked on a client that takes nothing for
 * client_body_timeout resets both sides; a reading client gets it all */
static const char *SLOW =
	"[{'model_name':'Pool','data':{'name':'p','servers':[{'ip':{'addr':'198.18.1.2'},'port':8081}]}},"
	"{'model_name':'ApplicationProfile','data':{'name':'h2s','type':'APPLICATION_PROFILE_TYPE_HTTP',"
	"'http_profile':{'client_body_timeout':2000}}},"
	"{'model_name':'VirtualService','data':{'name':'web','vip':[{'ip_address':{'addr':'198.18.0.20'}}],"
	"'services':[{'port':80}],'application_profile_ref':'/api/applicationprofile?name=h2s','pool_ref':'p'}}]";

static bool got_bytes(struct harness *h, void *arg)
{
	struct want *w = arg;

	(void)h;
	return w->p->rx_len >= w->n || w->p->dead;
}

Test(http, slow_reader_reset_after_client_body_timeout)
{
	struct peer_conn *c, *r, *s;
	struct want w;
	const uint32_t body = 1u << 20;

	h_listen_http(&H, h_ip("198.18.1.2"), 8081);
	h_http_body(&H, h_ip("198.18.1.2"), body);
	cr_assert_eq(h_api(&H, "POST", "/api/macro", SLOW), 200);
	/* a reading client gets the whole megabyte */
	r = client();
	send_str(r, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
	w = (struct want){ r, body + 40, NULL };
	cr_assert(h_pump_until(&H, got_bytes, &w, 200000), "reader got %zu bytes", r->rx_len);
	cr_assert(!r->dead);
	/* a client whose window stays shut once its 4 KiB are in */
	c = client();
	sl_tcp_set_bufs(c->c, 65536, 4096);
	sl_tcp_set_manual_window(c->c, true);
	send_str(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
	w = (struct want){ c, 1, "HTTP/1.1 200" };
	cr_assert(h_pump_until(&H, got_responses, &w, 20000), "no response head");
	h_pump(&H, 150, 10000);   /* 1.5 s: still inside the timeout */
	cr_expect(!c->dead, "reset before client_body_timeout");
	cr_expect_lt(c->rx_len, (size_t)65536, "a shut window let %zu bytes through", c->rx_len);
	/* its server connection: the one still in the middle of an answer (the
	 * reader's connection went back to the pool and may be this one) */
	s = NULL;
	for (unsigned i = 0; i < H.n_pc; i++)
		if (H.pc[i].http && !H.pc[i].dead && H.pc[i].tx_off < H.pc[i].tx_len)
			s = &H.pc[i];
	cr_assert(s, "the slow client's server connection, blocked mid-answer");
	h_pump(&H, 150, 10000);   /* 3 s in all */
	cr_expect(c->dead, "a client that reads nothing was not reset after client_body_timeout (got %zu bytes)",
		  c->rx_len);
	cr_expect(s->dead || s->peer_closed, "its server connection is still open");
}
