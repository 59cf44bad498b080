/* L4 TCP proxy: a client connection accepted on an L4 VS, a server
 * connection opened to a pool member, and each side's received mbufs
 * relayed to the other by reference as the other's send space allows
 * (sl_app_in_relay). The layer's windows are manual, so a slow side
 * back-pressures the fast one through TCP itself; half-close and RST cross
 * over. Both sides pin the generation current when the client connected,
 * so retries pick from the configuration the connection began with.
 *
 * Per-packet code: no heap allocation, locks or logging; the per-server
 * and per-VS shared counters below take one atomic per connection open and
 * close, never per packet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_byteorder.h>

#include "../app_priv.h"
#include "../upstream.h"
#include "sl_l4.h"
#include "sl_lb.h"

/* A proxied stream's in-flight data toward one side is bounded by that
 * side's send buffer; 256 KiB at the bed's ~1.5 ms loaded RTT held one
 * stream to ~1.1 Gbit/s. 1 MiB needs the stack's sndq_max >= 1 MiB / MSS. */
#define PROXY_SNDBUF (1u << 20)
#define PROXY_RCVBUF (1u << 20)
#define PROXY_CONNECT_TRIES 3    /* a failed server connect moves on to another server */
#define PROXY_IDLE_DEFAULT_S 600
#define MAX_L4_WORKERS 64

/* One side of a proxied connection (the conn's inline state). Only values
 * are kept across generations (slots, timeouts); pointers into a
 * generation are safe only for the one the connection pinned. */
struct side {
	struct sl_app_conn *peer;
	bool is_server, connected, shut_sent;
	uint8_t tries;               /* client side: server connects tried */
	uint8_t pp;                  /* client side: PROXY protocol version to send, 0 = none */
	uint16_t srv_port;
	uint32_t srv_ip;
	uint32_t vs_slot;            /* client side: counted in open_vs while < SL_MAX_VS */
	uint32_t srv_slot;           /* server side: counted in the open-connection counts while < SL_MAX_HEALTH */
	uint32_t pool_slot;          /* client side: pool object the server came from */
	int32_t grace_min;           /* ...its graceful_disable_timeout when the connection began */
	uint32_t idle_s;             /* client side: idle timeout */
	uint64_t last_us;            /* last byte received (server side: connect start until connected) */
	uint64_t drain_since;        /* client side: when its server left the configuration (0 = not) */
	uint32_t tried[PROXY_CONNECT_TRIES];
	struct sl_app_conn *prev_px, *next_px;   /* client sides of this worker (drain scan) */
};

struct sl_app_l4_worker {
	struct sl_app_worker *aw;
	struct sl_proxy_stats st;
	uint64_t next_scan;
	struct sl_proxy_vs_stats *vs;    /* by VS slot */
	struct sl_app_conn *px_list;
};

/* Open proxied connections per VS slot, shared by all workers: the VS's
 * connection limit is global (as in Avi). */
static uint32_t *open_vs;
static struct sl_app_l4_worker *l4w[MAX_L4_WORKERS];

static inline struct side *S(struct sl_app_conn *c)
{
	return sl_app_priv(c, struct side);
}

static inline struct sl_app_l4_worker *L(struct sl_app_conn *c)
{
	return c->aw->l4;
}

static const struct sl_app_ops srv_ops;

static void px_unlink(struct sl_app_l4_worker *t, struct side *s)
{
	if (s->prev_px)
		S(s->prev_px)->next_px = s->next_px;
	else if (t->px_list && S(t->px_list) == s)
		t->px_list = s->next_px;
	if (s->next_px)
		S(s->next_px)->prev_px = s->prev_px;
	s->prev_px = s->next_px = NULL;
}

/* Gives up one side's bookkeeping (not its connection). */
static void side_release(struct sl_app_conn *c)
{
	struct sl_app_l4_worker *t = L(c);
	struct side *s = S(c);

	if (s->is_server) {
		sl_up_drop(s->srv_slot);
		s->srv_slot = SL_GEN_NONE;
	} else if (s->vs_slot < SL_MAX_VS) {
		t->vs[s->vs_slot].cur--;
		__atomic_fetch_sub(&open_vs[s->vs_slot], 1, __ATOMIC_RELAXED);
		s->vs_slot = SL_GEN_NONE;
		px_unlink(t, s);
	}
	if (s->peer)
		S(s->peer)->peer = NULL;
	s->peer = NULL;
}

/* One side failed: the other gets an RST, both are released. */
static void proxy_abort(struct sl_app_conn *a)
{
	struct sl_app_conn *b = S(a)->peer;

	side_release(a);
	if (b) {
		side_release(b);
		sl_app_abort(b);
	}
	sl_app_abort(a);
}

static void proxy_maybe_done(struct sl_app_conn *a)
{
	struct sl_app_conn *b = S(a)->peer;

	/* both directions finished: FINs crossed, nothing left to relay */
	if (b && S(a)->shut_sent && S(b)->shut_sent && !sl_app_in_len(a) && !sl_app_in_len(b)) {
		side_release(a);
		side_release(b);
		sl_app_close(a);
		sl_app_close(b);
	}
}

static void count_bytes(struct sl_app_l4_worker *t, const struct side *a, const struct side *b, uint32_t len)
{
	const struct side *cli = a->is_server ? b : a, *srv = a->is_server ? a : b;

	if (a->is_server)
		t->st.bytes_s2c += len;
	else
		t->st.bytes_c2s += len;
	if (cli->vs_slot < SL_MAX_VS) {
		if (a->is_server)
			t->vs[cli->vs_slot].bytes_out += len;
		else
			t->vs[cli->vs_slot].bytes_in += len;
	}
	if (a->is_server)
		sl_up_bytes(t->aw, srv->srv_slot, len, 0);
	else
		sl_up_bytes(t->aw, srv->srv_slot, 0, len);
}

/* Sends what side a received on to its peer; FIN once a's input is done. */
static void proxy_flush(struct sl_app_conn *a)
{
	struct side *s = S(a);
	struct sl_app_conn *b = s->peer;
	uint32_t moved = 0;
	int rc;

	if (!b || !S(b)->connected || !S(a)->connected)
		return;
	rc = sl_app_in_relay(a, b, UINT32_MAX, &moved);
	if (moved)
		count_bytes(L(a), s, S(b), moved);
	if (rc == -EAGAIN)
		return;
	if (rc) {
		proxy_abort(a);
		return;
	}
	if (a->eof && !s->shut_sent) {
		sl_app_shutdown(b);
		s->shut_sent = true;
	}
	proxy_maybe_done(a);
}

static void on_data(struct sl_app_conn *a)
{
	S(a)->last_us = sl_app_now(a);
	proxy_flush(a);
}

/* Send space came back on a: what its peer holds can move. */
static void on_writable(struct sl_app_conn *a)
{
	if (S(a)->peer)
		proxy_flush(S(a)->peer);
}

static void on_eof(struct sl_app_conn *a)
{
	if (!S(a)->peer) {
		sl_app_close(a);
		return;
	}
	proxy_flush(a);
}

/* Opens a server side for client a from a's pinned generation. Returns 0,
 * or -errno when no server is left to try (-EBUSY: the usable ones are at
 * their connection limit). */
static int proxy_connect(struct sl_app_conn *a)
{
	struct sl_app_l4_worker *t = L(a);
	struct side *s = S(a);
	const struct sl_gen *g = a->gen;
	const struct sl_gen_vs *vs = g ? sl_gen_lookup(g, a->lip, IPPROTO_TCP, a->lport) : NULL;
	uint64_t now = sl_app_now(a);
	struct sl_up_pick x = { .tried = s->tried };

	if (vs && (!vs->enabled || vs->app_type != SL_APP_L4))
		vs = NULL;
	x.hash_ip = sl_lb_client_hash(a->rip, a->rport, SL_LB_HASH_SOURCE_IP);
	x.hash_port = sl_lb_client_hash(a->rip, a->rport, SL_LB_HASH_SOURCE_IP_AND_PORT);
	while (vs && s->tries < PROXY_CONNECT_TRIES) {
		int idx, err = 0;
		const struct sl_gen_server *sv;
		struct sl_app_conn *b;
		struct side *bs;

		x.n_tried = s->tries;
		idx = sl_up_pick(a->aw, g, vs->pool_idx, vs->poolgroup_idx, &x);
		if (idx < 0)
			break;
		sv = &g->servers[idx];
		s->tried[s->tries++] = sv->slot;
		if (!sl_up_take(sv->slot, g->pools[x.pool_idx].max_conns)) {
			x.limit_hit = true;
			continue;
		}
		b = sl_app_connect(a->aw, sv->ip, sv->port, &srv_ops, NULL, &err);
		if (!b) {
			sl_up_drop(sv->slot);
			if (err == -EHOSTUNREACH) {
				sl_up_fail(a->aw, sv->slot, now, now);
			} else {
				/* no TCB or source port here: not the server's fault */
				t->st.connect_fail++;
			}
			continue;
		}
		bs = S(b);
		memset(bs, 0, sizeof(*bs));
		bs->is_server = true;
		bs->peer = a;
		bs->srv_slot = sv->slot;
		bs->srv_ip = sv->ip;
		bs->srv_port = sv->port;
		bs->vs_slot = SL_GEN_NONE;
		bs->last_us = now;       /* connect start: timeout and connect time */
		s->peer = b;
		s->pool_slot = g->pools[x.pool_idx].slot;
		s->grace_min = g->pools[x.pool_idx].graceful_timeout;
		sl_app_set_bufs(b, PROXY_SNDBUF, PROXY_RCVBUF);
		sl_app_timer_set(b, now + UP_CONNECT_TIMEOUT_US);
		return 0;
	}
	t->st.no_server++;
	if (s->vs_slot < SL_MAX_VS) {
		if (x.limit_hit)
			t->vs[s->vs_slot].limit_server++;
		else
			t->vs[s->vs_slot].no_server++;
	}
	return x.limit_hit ? -EBUSY : -EHOSTUNREACH;
}

/* PROXY protocol header (haproxy.org proxy-protocol.txt) for client a,
 * queued on the server connection before any client byte. */
static int proxy_header(struct sl_app_conn *a, struct sl_app_conn *b)
{
	uint8_t d[108];
	uint32_t len;

	if (S(a)->pp == 2) {
		static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
		uint16_t cp = rte_cpu_to_be_16(a->rport), vp = rte_cpu_to_be_16(a->lport);

		memcpy(d, sig, 12);
		d[12] = 0x21;   /* version 2, PROXY */
		d[13] = 0x11;   /* TCP over IPv4 */
		d[14] = 0;
		d[15] = 12;
		memcpy(d + 16, &a->rip, 4);
		memcpy(d + 20, &a->lip, 4);
		memcpy(d + 24, &cp, 2);
		memcpy(d + 26, &vp, 2);
		len = 28;
	} else {
		char c[INET_ADDRSTRLEN], v[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &a->rip, c, sizeof(c));
		inet_ntop(AF_INET, &a->lip, v, sizeof(v));
		len = (uint32_t)snprintf((char *)d, sizeof(d), "PROXY TCP4 %s %s %u %u\r\n", c, v, a->rport, a->lport);
	}
	return sl_app_write(b, d, len) == (int)len ? 0 : -ENOBUFS;
}

static void srv_connected(struct sl_app_conn *b)
{
	struct side *bs = S(b);
	struct sl_app_conn *a = bs->peer;
	uint64_t now = sl_app_now(b);

	if (!a) {
		sl_app_abort(b);
		return;
	}
	bs->connected = true;
	sl_app_timer_set(b, 0);
	sl_up_connected(b->aw, bs->srv_slot, bs->last_us, now);
	bs->last_us = now;
	if (S(a)->pp && proxy_header(a, b)) {
		proxy_abort(a);
		return;
	}
	proxy_flush(a);
}

/* A server connect failed (refused, timed out) before any byte moved: try
 * another server, so the client never sees one dead server. */
static void srv_failed(struct sl_app_conn *b, bool timed_out)
{
	struct side *bs = S(b);
	struct sl_app_conn *a = bs->peer;
	struct sl_app_l4_worker *t = L(b);

	t->st.connect_fail++;
	if (a && S(a)->vs_slot < SL_MAX_VS)
		t->vs[S(a)->vs_slot].connect_fail++;
	sl_up_fail(b->aw, bs->srv_slot, bs->last_us, sl_app_now(b));
	side_release(b);
	if (timed_out)
		sl_app_abort(b);
	else
		sl_app_close(b);
	if (a && proxy_connect(a)) {
		side_release(a);
		sl_app_abort(a);
	}
}

static void on_error(struct sl_app_conn *c, int reason)
{
	(void)reason;
	if (S(c)->is_server && !S(c)->connected)
		srv_failed(c, false);
	else
		proxy_abort(c);   /* a reset or a timeout on one side resets the other */
}

static void idle_check(struct sl_app_conn *a)
{
	struct side *s = S(a);
	struct sl_app_conn *b = s->peer;
	uint64_t now = sl_app_now(a), last = s->last_us, idle = (uint64_t)s->idle_s * 1000000;

	if (b && S(b)->last_us > last)
		last = S(b)->last_us;
	if (now - last < idle) {
		sl_app_timer_set(a, last + idle);
		return;
	}
	if (s->vs_slot < SL_MAX_VS)
		L(a)->vs[s->vs_slot].idle_closed++;
	L(a)->st.idle_closed++;
	a->aw->st.idle_closed++;
	side_release(a);
	if (b) {
		side_release(b);
		sl_app_close(b);
	}
	sl_app_close(a);
}

static void srv_timer(struct sl_app_conn *b)
{
	if (!S(b)->connected)
		srv_failed(b, true);
}

static void describe(const struct sl_app_conn *c, char *buf, size_t len)
{
	const struct side *s = (const struct side *)(const void *)c->priv;

	snprintf(buf, len, "%s%s%s", s->is_server ? "server" : "client", s->shut_sent ? " shut_sent" : "",
		 s->is_server && !s->connected ? " connecting" : "");
}

static int cli_accept(struct sl_app_conn *a, const struct sl_gen_vs *vs)
{
	struct sl_app_l4_worker *t = L(a);
	struct side *s = S(a);
	struct sl_proxy_vs_stats *vc;
	uint32_t was;
	int rc;

	memset(s, 0, sizeof(*s));
	s->vs_slot = SL_GEN_NONE;
	s->srv_slot = SL_GEN_NONE;
	if (!vs || vs->slot >= SL_MAX_VS) {
		t->st.no_server++;
		return -EHOSTUNREACH;
	}
	vc = &t->vs[vs->slot];
	was = __atomic_fetch_add(&open_vs[vs->slot], 1, __ATOMIC_RELAXED);
	if (vs->max_conns && was >= vs->max_conns) {
		__atomic_fetch_sub(&open_vs[vs->slot], 1, __ATOMIC_RELAXED);
		vc->limit_vs++;
		return -EBUSY;
	}
	s->connected = true;
	s->idle_s = vs->idle_timeout_s ? vs->idle_timeout_s : PROXY_IDLE_DEFAULT_S;
	s->pp = vs->proxy_protocol;
	s->vs_slot = vs->slot;
	s->last_us = sl_app_now(a);
	vc->cur++;
	if ((rc = proxy_connect(a))) {
		vc->cur--;
		__atomic_fetch_sub(&open_vs[vs->slot], 1, __ATOMIC_RELAXED);
		s->vs_slot = SL_GEN_NONE;
		return rc;
	}
	vc->total++;
	t->st.accepted++;
	s->next_px = t->px_list;
	if (t->px_list)
		S(t->px_list)->prev_px = a;
	t->px_list = a;
	sl_app_set_bufs(a, PROXY_SNDBUF, PROXY_RCVBUF);
	sl_app_timer_set(a, s->last_us + (uint64_t)s->idle_s * 1000000);
	return 0;
}

const struct sl_app_ops sl_app_l4_ops = {
	.name = "proxy", .accept = cli_accept, .data = on_data, .writable = on_writable, .eof = on_eof,
	.timer = idle_check, .error = on_error, .describe = describe,
};

static const struct sl_app_ops srv_ops = {
	.name = "proxy", .connected = srv_connected, .data = on_data, .writable = on_writable, .eof = on_eof,
	.timer = srv_timer, .error = on_error, .describe = describe,
};

/* Once a second: connections whose server left the current configuration
 * are reset once their pool's graceful_disable_timeout passed.
 * O(proxied connections of this worker). */
void sl_app_l4_tick(struct sl_app_worker *aw, uint64_t now)
{
	struct sl_app_l4_worker *t = aw->l4;
	const struct sl_gen *g = sl_app_current_gen(aw);

	if (now < t->next_scan)
		return;
	t->next_scan = now + 1000000;
	if (!t->px_list || !g)
		return;
	for (struct sl_app_conn *a = t->px_list, *next; a; a = next) {
		struct side *s = S(a);
		struct sl_app_conn *b = s->peer;

		next = s->next_px;
		if (!b || !S(b)->connected || sl_up_live(aw, g, S(b)->srv_slot)) {
			s->drain_since = 0;
			continue;
		}
		if (!s->drain_since)
			s->drain_since = now;
		uint32_t pidx = s->pool_slot < g->n_pool_slots ? g->pool_by_slot[s->pool_slot] : SL_GEN_NONE;
		int32_t grace = pidx != SL_GEN_NONE ? g->pools[pidx].graceful_timeout : s->grace_min;

		if (grace >= 0 && now - s->drain_since >= (uint64_t)grace * 60 * 1000000) {
			t->vs[s->vs_slot].drain_reset++;
			proxy_abort(a);
		}
	}
}

int sl_app_l4_init(struct sl_app_worker *aw)
{
	struct sl_app_l4_worker *t = calloc(1, sizeof(*t));
	unsigned id = sl_app_env(aw)->worker_id;

	if (!t || id >= MAX_L4_WORKERS) {
		free(t);
		return -ENOMEM;
	}
	aw->l4 = t;
	t->aw = aw;
	t->vs = calloc(SL_MAX_VS, sizeof(*t->vs));
	if (!open_vs)
		open_vs = calloc(SL_MAX_VS, sizeof(*open_vs));
	if (!t->vs || !open_vs)
		return -ENOMEM;
	l4w[id] = t;
	return 0;
}

void sl_app_l4_fini(struct sl_app_worker *aw)
{
	struct sl_app_l4_worker *t = aw->l4;

	if (!t)
		return;
	for (unsigned i = 0; i < MAX_L4_WORKERS; i++)
		if (l4w[i] == t)
			l4w[i] = NULL;
	free(t->vs);
	free(t);
	aw->l4 = NULL;
}

/* ---- counters for the main lcore */
void sl_proxy_vs_stats(uint32_t vs_slot, struct sl_proxy_vs_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < MAX_L4_WORKERS && vs_slot < SL_MAX_VS; i++) {
		const uint64_t *src;
		uint64_t *dst = (uint64_t *)out;

		if (!l4w[i])
			continue;
		src = (const uint64_t *)&l4w[i]->vs[vs_slot];
		/* all uint64_t: summed word by word */
		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
}

void sl_proxy_worker_stats(unsigned worker, struct sl_proxy_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (worker < MAX_L4_WORKERS && l4w[worker])
		*out = l4w[worker]->st;
}
