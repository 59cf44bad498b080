/* The application layer over two back-to-back stacks (app_harness.h): the
 * test endpoints, the L4 proxy on generations from a real control
 * instance, classification of 2,000 VIP:port services at SYN time with a
 * type change and a removal, generation pins, the transform slot, tiny
 * segments, timers and the operator's snapshot taken by the worker. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_harness.h"
#include "sl_l4.h"

static struct harness H;

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *b = malloc(n);

	cr_assert(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 131 + seed + (i >> 9));
	return b;
}

struct want { struct peer_conn *p; size_t len; };

static bool got_all_and_fin(struct harness *h, void *arg)
{
	struct want *w = arg;

	(void)h;
	return w->p->rx_len >= w->len && (w->p->peer_closed || w->p->dead);
}

static bool got_len(struct harness *h, void *arg)
{
	struct want *w = arg;

	(void)h;
	return w->p->rx_len >= w->len || w->p->dead;
}

static bool no_conns(struct harness *h, void *arg)
{
	struct sl_app_stats st;

	(void)arg;
	sl_app_worker_stats(h->aw, &st);
	return st.conns == 0;
}

static void setup(void)
{
	h_init(&H, 7, 9);
}

static void teardown(void)
{
	h_fini(&H);
}

TestSuite(app, .init = setup, .fini = teardown, .timeout = 120);

Test(app, echo_returns_every_byte_and_closes)
{
	size_t n = 300000;
	uint8_t *d = pattern(n, 1);
	struct peer_conn *p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.1"), 7);
	struct want w = { p, n };

	p->close_when_sent = true;
	h_send(&H, p, d, n);
	cr_assert(h_pump_until(&H, got_all_and_fin, &w, 200000), "echoed %zu of %zu, fin %d", p->rx_len, n,
		  p->peer_closed);
	cr_assert_eq(p->rx_len, n);
	cr_assert(!memcmp(p->rx, d, n), "echoed bytes differ");
	cr_assert(h_pump_until(&H, no_conns, NULL, 20000), "context not given back");
	free(d);
}

Test(app, endpoints_are_on_interface_addresses_only)
{
	struct peer_conn *p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.77"), 7);

	h_pump(&H, 200, 1000);
	cr_assert(p->dead && !p->connected, "echo answered on a non-interface address");
}

Test(app, tiny_segments_are_coalesced_not_queued_one_by_one)
{
	struct peer_conn *p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.1"), 7);
	struct sl_app_stats st;
	static uint8_t d[3000];
	struct want w = { p, sizeof(d) };

	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 7);
	h_pump(&H, 20, 200);
	cr_assert(p->connected);
	sl_tcp_set_nodelay(p->c, true);
	/* one byte per segment, no pumping in between: the engine gets them in one batch */
	for (size_t i = 0; i < sizeof(d); i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(H.pool);

		*rte_pktmbuf_mtod(m, uint8_t *) = d[i];
		m->data_len = 1;
		m->pkt_len = 1;
		cr_assert_eq(sl_tcp_send(p->c, (struct sl_buf *)m, 0, 1), 0);
		rte_pktmbuf_free(m);
		if (i % 100 == 99)
			h_pump(&H, 1, 100);
	}
	cr_assert(h_pump_until(&H, got_len, &w, 50000));
	cr_assert_eq(p->rx_len, sizeof(d));
	cr_assert(!memcmp(p->rx, d, sizeof(d)));
	sl_app_worker_stats(H.aw, &st);
	cr_expect_geq(st.in_coalesced, 1000, "coalesced %lu", (unsigned long)st.in_coalesced);
	cr_expect_eq(st.in_no_block, 0);
}

Test(app, sink_takes_a_megabyte)
{
	size_t n = 1 << 20;
	uint8_t *d = pattern(n, 3);
	struct peer_conn *p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.1"), 9);
	struct want w = { p, 0 };

	p->close_when_sent = true;
	h_send(&H, p, d, n);
	cr_assert(h_pump_until(&H, got_all_and_fin, &w, 200000), "sink did not finish");
	cr_assert_eq(p->tx_off, n);
	cr_assert_eq(p->rx_len, 0);
	free(d);
}

/* ---- L4 proxy */
static const char *POOL = "{'model_name':'Pool','data':{'name':'p','servers':[{'ip':{'addr':'198.18.1.2'},'port':8080}]}}";

static void l4_vs(char *out, size_t cap, const char *name, const char *vip, unsigned port, const char *profile)
{
	snprintf(out, cap,
		 "{'model_name':'VirtualService','data':{'name':'%s','vip':[{'ip_address':{'addr':'%s'}}],"
		 "'services':[{'port':%u}],'application_profile_ref':'%s','pool_ref':'p'}}",
		 name, vip, port, profile);
}

Test(app, l4_proxies_both_ways_and_releases)
{
	char vs[512], body[1024];
	size_t n = 200000;
	uint8_t *d = pattern(n, 5);
	struct peer_conn *p;
	struct want w;
	struct sl_proxy_vs_stats vst;

	h_listen_echo(&H, h_ip("198.18.1.2"), 8080);
	l4_vs(vs, sizeof(vs), "v", "198.18.0.10", 80, "System-L4-Application");
	snprintf(body, sizeof(body), "[%s,%s]", POOL, vs);
	cr_assert_eq(h_api(&H, "POST", "/api/macro", body), 200);
	p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.10"), 80);
	w = (struct want){ p, n };
	p->close_when_sent = true;
	h_send(&H, p, d, n);
	cr_assert(h_pump_until(&H, got_all_and_fin, &w, 200000), "proxied %zu of %zu, fin %d dead %d err %d state %s/%s off %zu cws %d", p->rx_len,
		  n, p->peer_closed, p->dead, p->err, p->c ? sl_tcp_state_name(sl_tcp_conn_state(p->c)) : "-",
		  H.pc[1].c ? sl_tcp_state_name(sl_tcp_conn_state(H.pc[1].c)) : "-", p->tx_off, p->close_when_sent);
	cr_assert(!memcmp(p->rx, d, n), "proxied bytes differ");
	cr_assert(h_pump_until(&H, no_conns, NULL, 50000), "contexts not given back");
	sl_proxy_vs_stats(((const struct sl_gen *)H.gen)->vs[0].slot, &vst);
	cr_expect_eq(vst.total, 1);
	cr_expect_eq(vst.cur, 0);
	cr_expect_eq(vst.bytes_in, n);
	cr_expect_eq(vst.bytes_out, n);
	free(d);
}

#define N_VIPS 20
#define N_PORTS 100

static bool all_echoed(struct harness *h, void *arg)
{
	size_t want = *(size_t *)arg;

	for (unsigned i = 0; i < N_VIPS * N_PORTS; i++)
		if (h->pc[i].rx_len < want && !h->pc[i].dead)
			return false;
	return true;
}

static bool dead_or_connected(struct harness *h, void *arg)
{
	struct peer_conn *p = arg;

	(void)h;
	return p->dead || p->rx_len;
}

Test(app, two_thousand_services_each_proxied_type_change_and_removal)
{
	size_t cap = (size_t)N_VIPS * N_PORTS * 300 + 4096, o = 0;
	char *body = malloc(cap), vs[512], vip[32];
	static char msg[N_VIPS * N_PORTS][16];
	size_t want = 12;
	struct peer_conn *old, *p;

	h_listen_echo(&H, h_ip("198.18.1.2"), 8080);
	o += (size_t)snprintf(body + o, cap - o, "[%s", POOL);
	for (unsigned v = 0; v < N_VIPS; v++)
		for (unsigned k = 0; k < N_PORTS; k++) {
			char name[32];

			snprintf(vip, sizeof(vip), "198.18.0.%u", 10 + v);
			snprintf(name, sizeof(name), "v%u_%u", v, k);
			l4_vs(vs, sizeof(vs), name, vip, 1000 + k, "System-L4-Application");
			o += (size_t)snprintf(body + o, cap - o, ",%s", vs);
		}
	snprintf(body + o, cap - o, "]");
	cr_assert_eq(h_api(&H, "POST", "/api/macro", body), 200);
	/* every VIP:port at once: no listener table to run out of */
	for (unsigned v = 0; v < N_VIPS; v++)
		for (unsigned k = 0; k < N_PORTS; k++) {
			unsigned i = v * N_PORTS + k;

			snprintf(vip, sizeof(vip), "198.18.0.%u", 10 + v);
			p = h_connect(&H, h_ip("198.18.0.2"), h_ip(vip), (uint16_t)(1000 + k));
			snprintf(msg[i], sizeof(msg[i]), "svc-%07u", i);
			h_send(&H, p, msg[i], want);
		}
	cr_assert(h_pump_until(&H, all_echoed, &want, 100000), "not every service answered");
	for (unsigned i = 0; i < N_VIPS * N_PORTS; i++) {
		cr_assert(!H.pc[i].dead, "service %u refused", i);
		cr_assert(!memcmp(H.pc[i].rx, msg[i], want), "service %u: wrong bytes", i);
	}
	cr_expect_eq(H.accepted, N_VIPS * N_PORTS, "servers saw %u connections", H.accepted);

	/* a type change applies to new connections: the VS is HTTP now, so a
	 * new connection speaks to the HTTP proxy (the echo server's "response"
	 * is the request itself: not HTTP, so a 502), the old ones stay L4 */
	cr_assert_eq(h_api(&H, "PUT", "/api/virtualservice/v0_0",
			   "{'name':'v0_0','vip':[{'ip_address':{'addr':'198.18.0.10'}}],'services':[{'port':1000}],"
			   "'application_profile_ref':'System-HTTP','pool_ref':'p'}"), 200);
	p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.10"), 1000);
	h_send(&H, p, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27);
	struct want w0 = { p, 12 };
	cr_assert(h_pump_until(&H, got_len, &w0, 20000));
	cr_assert(p->rx_len >= 12 && !memcmp(p->rx, "HTTP/1.1 502", 12), "not answered by the HTTP proxy: %.*s",
		  (int)RTE_MIN(p->rx_len, (size_t)40), p->rx);
	h_send(&H, &H.pc[0], "still-l4-ok!", 12);
	struct want w1 = { &H.pc[0], 24 };
	cr_assert(h_pump_until(&H, got_len, &w1, 20000));
	cr_assert(!memcmp(H.pc[0].rx + 12, "still-l4-ok!", 12), "the open L4 connection changed type");

	/* removal: new connections refused, the open one keeps its generation */
	old = &H.pc[1];              /* v0_1, open since before */
	cr_assert_eq(h_api(&H, "DELETE", "/api/virtualservice/v0_1", NULL), 204);
	p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.10"), 1001);
	cr_assert(h_pump_until(&H, dead_or_connected, p, 10000));
	cr_assert(p->dead && !p->connected, "a removed VS still accepted");
	h_send(&H, old, "after-delete", 12);
	struct want w = { old, 24 };
	cr_assert(h_pump_until(&H, got_len, &w, 20000));
	cr_assert(!memcmp(old->rx + 12, "after-delete", 12), "the open connection lost its service");
	free(body);
}

Test(app, a_connection_pins_its_generation_until_it_ends)
{
	char vs[512], body[1024];
	const struct sl_gen *g1;
	struct peer_conn *p;
	struct want w;

	h_listen_echo(&H, h_ip("198.18.1.2"), 8080);
	l4_vs(vs, sizeof(vs), "v", "198.18.0.10", 80, "System-L4-Application");
	snprintf(body, sizeof(body), "[%s,%s]", POOL, vs);
	cr_assert_eq(h_api(&H, "POST", "/api/macro", body), 200);
	g1 = H.gen;
	p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.10"), 80);
	h_send(&H, p, "hello", 5);
	w = (struct want){ p, 5 };
	cr_assert(h_pump_until(&H, got_len, &w, 20000));
	cr_assert(sl_app_gen_pinned(H.aw, g1));
	cr_assert_eq(h_api(&H, "PUT", "/api/pool/p",
			   "{'name':'p','servers':[{'ip':{'addr':'198.18.1.2'},'port':8080},{'ip':{'addr':'198.18.1.3'},'port':8080}]}"),
		     200);
	cr_assert_neq(H.gen, g1, "no new generation");
	cr_assert(sl_app_gen_pinned(H.aw, g1), "the old generation lost its pin");
	cr_assert(!sl_app_gen_pinned(H.aw, H.gen), "nothing started on the new one yet");
	sl_tcp_shutdown(p->c, 1);
	cr_assert(h_pump_until(&H, no_conns, NULL, 50000));
	cr_assert(!sl_app_gen_pinned(H.aw, g1), "the pin outlived the connection");
}

Test(app, idle_l4_connection_times_out_on_the_timer_wheel)
{
	struct peer_conn *p;
	struct sl_proxy_vs_stats vst;

	h_listen_echo(&H, h_ip("198.18.1.2"), 8080);
	cr_assert_eq(h_api(&H, "POST", "/api/macro",
			   "[{'model_name':'Pool','data':{'name':'p','servers':[{'ip':{'addr':'198.18.1.2'},'port':8080}]}},"
			   "{'model_name':'NetworkProfile','data':{'name':'tcp5','profile':{'type':'PROTOCOL_TYPE_TCP_PROXY',"
			   "'tcp_proxy_profile':{'idle_connection_timeout':5}}}},"
			   "{'model_name':'VirtualService','data':{'name':'v','vip':[{'ip_address':{'addr':'198.18.0.10'}}],"
			   "'services':[{'port':80}],'application_profile_ref':'System-L4-Application',"
			   "'network_profile_ref':'tcp5','pool_ref':'p'}}]"), 200);
	p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.10"), 80);
	h_send(&H, p, "x", 1);
	h_pump(&H, 20, 1000);
	uint64_t t0 = H.now;
	/* the deadline fires within a few ms of 5 s, whatever its place in a
	 * wheel slot (a slot run before its millisecond ended once left the
	 * rest of it waiting a whole round: 4 s late) */
	while (!p->peer_closed && !p->dead && H.now - t0 < 12000000)
		h_pump(&H, 1, 250);
	cr_assert(p->peer_closed || p->dead, "not closed after its idle timeout");
	cr_assert(H.now - t0 >= 4900000 && H.now - t0 <= 5100000, "closed after %.3f s",
		  (double)(H.now - t0) / 1e6);
	sl_proxy_vs_stats(((const struct sl_gen *)H.gen)->vs[0].slot, &vst);
	cr_expect_eq(vst.idle_closed, 1);
}

/* ---- the transform slot, with a toy transform: every byte XOR 0x5a */
static int x_in(struct sl_app_conn *c, void *xctx)
{
	uint8_t buf[2048];

	(void)xctx;
	while (sl_app_raw_len(c) && sl_app_in_len(c) < 8192) {
		uint32_t n = RTE_MIN(sl_app_raw_len(c), (uint32_t)sizeof(buf));
		const uint8_t *r = sl_app_raw_view(c, n, buf);
		uint8_t out[2048];

		for (uint32_t i = 0; i < n; i++)
			out[i] = r[i] ^ 0x5a;
		if (sl_app_in_push(c, out, n))
			return -ENOBUFS;
		sl_app_raw_consume(c, n);
	}
	return 0;
}

static int x_out(struct sl_app_conn *c, void *xctx, struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	struct rte_mbuf *e = rte_pktmbuf_alloc(H.pool);
	const uint8_t *s = rte_pktmbuf_mtod_offset(m, const uint8_t *, off);
	uint8_t *d;
	int rc;

	(void)xctx;
	if (!e)
		return -ENOBUFS;
	d = rte_pktmbuf_mtod(e, uint8_t *);
	for (uint32_t i = 0; i < len; i++)
		d[i] = s[i] ^ 0x5a;
	e->data_len = (uint16_t)len;
	e->pkt_len = len;
	rc = sl_app_raw_send(c, e, 0, len);
	rte_pktmbuf_free(e);
	return rc;
}

static const struct sl_app_xform xor_xf = { "xor", x_in, x_out };
static uint8_t xgot[65536];
static size_t xgot_len;

static void xa_connected(struct sl_app_conn *c)
{
	cr_assert_eq(sl_app_write(c, "plaintext through a transform", 29), 29);
}

static void xa_data(struct sl_app_conn *c)
{
	uint32_t n = sl_app_in_len(c);
	const uint8_t *v = sl_app_in_view(c, n, c->aw ? xgot + 32768 : NULL);

	memcpy(xgot + xgot_len, v, n);
	xgot_len += n;
	sl_app_in_consume(c, n);
}

static const struct sl_app_ops xapp = { .name = "xor-test", .connected = xa_connected, .data = xa_data };

static bool xdone(struct harness *h, void *arg)
{
	(void)h;
	(void)arg;
	return xgot_len >= 29;
}

Test(app, transform_sits_between_tcp_and_the_application)
{
	struct sl_app_conn *c;
	int err = 0;

	h_listen_echo(&H, h_ip("198.18.1.2"), 8080);
	c = sl_app_connect(H.aw, h_ip("198.18.1.2"), 8080, &xapp, NULL, &err);
	cr_assert(c, "connect: %d", err);
	sl_app_set_xform(c, &xor_xf, NULL);
	cr_assert(h_pump_until(&H, xdone, NULL, 20000), "nothing came back through the transform");
	cr_assert_eq(xgot_len, 29);
	cr_assert(!memcmp(xgot, "plaintext through a transform", 29));
	/* on the wire the peer saw the transformed bytes */
	cr_assert_eq(H.pc[0].rx_len, 29);
	cr_assert_eq(H.pc[0].rx[0], (uint8_t)('p' ^ 0x5a));
}

/* ---- the operator's snapshot: asked from another thread, taken by the worker */
struct dump_ctx { int rc; unsigned lines; bool proxy_seen; bool done; };

static void dump_line(void *arg, const char *line)
{
	struct dump_ctx *d = arg;

	d->lines++;
	if (strstr(line, " proxy "))
		d->proxy_seen = true;
}

static void *dump_thread(void *arg)
{
	struct dump_ctx *d = arg;

	d->rc = sl_app_conns_dump(H.aw, dump_line, d, 100, 5000);
	__atomic_store_n(&d->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static bool dump_done(struct harness *h, void *arg)
{
	(void)h;
	return __atomic_load_n(&((struct dump_ctx *)arg)->done, __ATOMIC_ACQUIRE);
}

Test(app, connection_snapshot_is_taken_by_the_worker)
{
	char vs[512], body[1024];
	struct dump_ctx d = { 0 };
	pthread_t th;
	struct peer_conn *p;
	struct want w;

	h_listen_echo(&H, h_ip("198.18.1.2"), 8080);
	l4_vs(vs, sizeof(vs), "v", "198.18.0.10", 80, "System-L4-Application");
	snprintf(body, sizeof(body), "[%s,%s]", POOL, vs);
	cr_assert_eq(h_api(&H, "POST", "/api/macro", body), 200);
	p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.10"), 80);
	h_send(&H, p, "abc", 3);
	w = (struct want){ p, 3 };
	cr_assert(h_pump_until(&H, got_len, &w, 20000));
	cr_assert_eq(pthread_create(&th, NULL, dump_thread, &d), 0);
	/* the reader waits for the worker: nothing is read until it ticks */
	cr_assert(h_pump_until(&H, dump_done, &d, 1000000));
	pthread_join(th, NULL);
	cr_assert_eq(d.rc, 2, "snapshot: %d", d.rc);
	cr_assert_eq(d.lines, 2);
	cr_assert(d.proxy_seen);
}
