/* HTTP/2 to clients over two back-to-back stacks (app_harness.h): an
 * nghttp2 client session on the peer's side speaks h2c by prior knowledge
 * to a VS whose port enables HTTP/2; the peer's tiny HTTP/1.1 servers
 * answer. Runs under the sanitizers with the rest of the unit suite. */
#include <criterion/criterion.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_harness.h"
#include "sl_gen.h"
#include "sl_h2_stats.h"
#include "sl_http_stats.h"

static struct harness H;

static void setup(void)
{
	h_init(&H, 0, 0);
}

static void teardown(void)
{
	h_fini(&H);
}

TestSuite(h2, .init = setup, .fini = teardown, .timeout = 120);

static const char *CFG =
	"[{'model_name':'Pool','data':{'name':'p','servers':[{'ip':{'addr':'198.18.1.2'},'port':8081}]}},"
	"{'model_name':'HTTPPolicySet','data':{'name':'rules','http_request_policy':{'rules':["
	"{'name':'deny','index':3,'enable':true,'match':{'path':{'match_criteria':'EQUALS','match_str':['/admin']}},"
	" 'switching_action':{'action':'HTTP_SWITCHING_SELECT_LOCAL','status_code':'HTTP_LOCAL_RESPONSE_STATUS_CODE_403'}}"
	"]}}},"
	"{'model_name':'VirtualService','data':{'name':'web','vip':[{'ip_address':{'addr':'198.18.0.20'}}],"
	"'services':[{'port':80,'enable_http2':true}],'application_profile_ref':'System-HTTP','pool_ref':'p',"
	"'http_policies':[{'index':1,'http_policy_set_ref':'/api/httppolicyset/?name=rules'}]}}]";

#define MAXS 128

/* the client: an nghttp2 session whose bytes go through the peer stack */
struct cli {
	nghttp2_session *ng;
	struct peer_conn *pc;
	size_t fed;                  /* pc->rx bytes given to the session */
	int status[MAXS * 2 + 2];    /* by stream id */
	char body[MAXS * 2 + 2][64];
	unsigned closed, goaway;
	uint8_t *out;                /* everything the session wrote: h_send keeps a pointer */
	size_t out_len, out_cap, base;   /* base: where the peer's current send began */
	uint32_t goaway_code, rst_code[MAXS * 2 + 2];
};

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *n, size_t nl, const uint8_t *v,
		     size_t vl, uint8_t fl, void *ud)
{
	struct cli *c = ud;

	(void)s;
	(void)fl;
	if (f->hd.stream_id < (int32_t)(sizeof(c->status) / sizeof(c->status[0])) && nl == 7 &&
	    !memcmp(n, ":status", 7))
		c->status[f->hd.stream_id] = atoi((const char *)v) + 0 * (int)vl;
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t fl, int32_t id, const uint8_t *d, size_t len, void *ud)
{
	struct cli *c = ud;
	size_t have;

	(void)s;
	(void)fl;
	if (id >= (int32_t)(sizeof(c->body) / sizeof(c->body[0])))
		return 0;
	have = strlen(c->body[id]);
	if (have + len < sizeof(c->body[id]))
		memcpy(c->body[id] + have, d, len);
	return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
	struct cli *c = ud;

	(void)s;
	c->closed++;
	if (id < (int32_t)(sizeof(c->rst_code) / sizeof(c->rst_code[0])))
		c->rst_code[id] = code;
	return 0;
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	struct cli *c = ud;

	(void)s;
	if (f->hd.type == NGHTTP2_GOAWAY) {
		c->goaway++;
		c->goaway_code = f->goaway.error_code;
	}
	return 0;
}

static void cli_init(struct cli *c)
{
	nghttp2_session_callbacks *cb;

	memset(c, 0, sizeof(*c));
	cr_assert_eq(nghttp2_session_callbacks_new(&cb), 0);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
	cr_assert_eq(nghttp2_session_client_new(&c->ng, cb, c), 0);
	nghttp2_session_callbacks_del(cb);
	cr_assert_eq(nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, NULL, 0), 0);
	c->pc = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.20"), 80);
}

/* what the session has to send goes out (the preface first) */
static void cli_flush(struct cli *c)
{
	const uint8_t *d;
	ssize_t n;
	size_t at;

	while ((n = nghttp2_session_mem_send(c->ng, &d)) > 0) {
		if (c->out_len + (size_t)n > c->out_cap) {
			c->out_cap = (c->out_len + (size_t)n) * 2;
			c->out = realloc(c->out, c->out_cap);
			cr_assert(c->out);
		}
		memcpy(c->out + c->out_len, d, (size_t)n);
		c->out_len += (size_t)n;
	}
	at = c->pc->tx ? c->base + c->pc->tx_off : c->base;
	if (at < c->out_len) {
		c->base = at;
		h_send(&H, c->pc, c->out + at, c->out_len - at);
	}
}

static int32_t cli_get(struct cli *c, const char *path)
{
	nghttp2_nv nv[] = {
		{ (uint8_t *)":method", (uint8_t *)"GET", 7, 3, 0 },
		{ (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0 },
		{ (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0 },
		{ (uint8_t *)":authority", (uint8_t *)"shop.example", 10, 12, 0 },
	};

	return nghttp2_submit_request(c->ng, NULL, nv, 4, NULL, NULL);
}

struct until { struct cli *c; unsigned closed; };

/* feeds the client what arrived; true once want.closed streams closed */
static bool cli_done(struct harness *h, void *arg)
{
	struct until *u = arg;
	struct cli *c = u->c;

	(void)h;
	if (c->pc->rx_len > c->fed) {
		ssize_t n = nghttp2_session_mem_recv(c->ng, c->pc->rx + c->fed, c->pc->rx_len - c->fed);

		cr_assert(n >= 0, "client session: %s", nghttp2_strerror((int)n));
		c->fed += (size_t)n;
		cli_flush(c);   /* SETTINGS ACK, WINDOW_UPDATE */
	}
	return c->closed >= u->closed || c->goaway || c->pc->dead;
}

static void up(void)
{
	h_listen_http(&H, h_ip("198.18.1.2"), 8081);
	cr_assert_eq(h_api(&H, "POST", "/api/macro", CFG), 200);
}

Test(h2, many_streams_on_one_connection_reach_the_http11_server)
{
	struct cli c;
	struct until u = { &c, 40 };
	int32_t ids[40];
	unsigned conns;
	struct sl_app_stats before, after;

	up();
	sl_app_worker_stats(H.aw, &before);
	cli_init(&c);
	for (int i = 0; i < 40; i++) {
		char p[16];

		snprintf(p, sizeof(p), i == 7 ? "/admin" : "/s%d", i);
		ids[i] = cli_get(&c, p);
		cr_assert(ids[i] > 0);
	}
	cli_flush(&c);
	cr_assert(h_pump_until(&H, cli_done, &u, 50000), "%u of 40 streams closed", c.closed);
	for (int i = 0; i < 40; i++) {
		cr_expect_eq(c.status[ids[i]], i == 7 ? 403 : 200, "stream %d: status %d", ids[i], c.status[ids[i]]);
		if (i != 7)
			cr_expect(c.body[ids[i]][0] == 'r', "stream %d: body '%s'", ids[i], c.body[ids[i]]);
		cr_expect_eq(c.rst_code[ids[i]], NGHTTP2_NO_ERROR);
	}
	cr_expect(H.accepted >= 1 && H.accepted <= 40, "server connections: %u", H.accepted);
	/* every stream's virtual connection is given back */
	sl_app_worker_stats(H.aw, &after);
	cr_expect_eq(after.vconns - before.vconns, 40);
	/* a second round: the pooled server connections carry it */
	conns = H.accepted;
	u.closed = 80;
	for (int i = 0; i < 40; i++)
		ids[i] = cli_get(&c, "/again");
	cli_flush(&c);
	cr_assert(h_pump_until(&H, cli_done, &u, 50000), "%u of 80 streams closed", c.closed);
	for (int i = 0; i < 40; i++)
		cr_expect_eq(c.status[ids[i]], 200, "stream %d: status %d", ids[i], c.status[ids[i]]);
	{
		const struct sl_gen *g = H.gen;
		struct sl_http_vs_stats hs;

		sl_http_vs_stats(g->vs[0].slot, &hs);
		/* at most one more than the first round's (its 40 requests were concurrent) */
		cr_expect(H.accepted <= conns + 1, "server connections %u, then %u", conns, H.accepted);
		cr_expect(hs.server_reused >= 39, "requests on a pooled server connection: %lu",
			  (unsigned long)hs.server_reused);
		cr_expect_eq(hs.requests, 80, "requests %lu", (unsigned long)hs.requests);
	}
	nghttp2_session_del(c.ng);
	free(c.out);
}

Test(h2, a_control_frame_flood_ends_with_goaway_and_frees_everything)
{
	struct cli c;
	struct until u = { &c, 1000 };
	struct sl_h2_stats st0, st1;
	uint8_t op[8] = { 0 };

	up();
	sl_h2_stats(&st0);
	cli_init(&c);
	for (int i = 0; i < 3000; i++)
		nghttp2_submit_ping(c.ng, NGHTTP2_FLAG_NONE, op);
	cli_flush(&c);
	cr_assert(h_pump_until(&H, cli_done, &u, 50000), "no GOAWAY");
	cr_expect(c.goaway, "no GOAWAY");
	cr_expect_eq(c.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM, "code %u", c.goaway_code);
	sl_h2_stats(&st1);
	cr_expect_eq(st1.flood_ctrl - st0.flood_ctrl, 1);
	nghttp2_session_del(c.ng);
	free(c.out);
}

Test(h2, http11_still_served_on_an_http2_port)
{
	struct peer_conn *p;

	up();
	p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.20"), 80);
	h_send(&H, p, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", 28);
	h_pump(&H, 20000, 100);
	cr_assert(p->rx_len > 12 && !memcmp(p->rx, "HTTP/1.1 200", 12), "%.*s", (int)p->rx_len, p->rx);
}
