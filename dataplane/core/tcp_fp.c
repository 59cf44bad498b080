/* TCP on the workers: the glue between the packet path and the user-space
 * stack (dataplane/tcp), and the stack's first consumers: DNS over TCP on
 * DNS virtual services, and the test-only echo/sink/source endpoints.
 *
 * Per-packet code: no heap allocation (contexts come from per-worker free
 * lists sized at start), no locks, no logging. Payload travels as mbufs:
 * a received segment's mbuf is lent to the stack, which takes references
 * to what it keeps; the echo endpoint sends the very mbufs it received. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <arpa/inet.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "engine.h"
#include "sl_gen.h"
#include "sl_lb.h"
#include "sl_tcp.h"

/* received segments waiting for send space: must cover the largest receive
 * window of a relaying connection (PROXY_RCVBUF / MSS) */
#define ECHO_PEND 1024
#define DNS_TCP_MAX 1024         /* largest query accepted over TCP */
#define DNS_TCP_IDLE_US (10ull * 1000000)
#define MAX_LISTEN 256

enum tapp_kind { TAPP_NONE, TAPP_ECHO, TAPP_SINK, TAPP_SOURCE, TAPP_DNS, TAPP_PROXY };

/* A proxied stream's in-flight data toward one side is bounded by that
 * side's send buffer; 256 KiB at the bed's ~1.5 ms loaded RTT held one
 * stream to ~1.1 Gbit/s. 1 MiB needs sndq_max >= 1 MiB / MSS entries. The
 * receive window bounds the sender's flight toward us the same way; what it
 * lets in waits in ECHO_PEND until relayed. */
#define PROXY_SNDBUF (1u << 20)
#define PROXY_RCVBUF (1u << 20)
#define PROXY_CONNECT_TRIES 3    /* a failed server connect moves on to another server */
#define PROXY_CONNECT_TIMEOUT_US (3ull * 1000000)
#define PROXY_IDLE_DEFAULT_S 600
/* Passive health (nginx max_fails / fail_timeout): this many consecutive
 * failed connects take a server out of this worker's picks for a while */
#define PASSIVE_MAX_FAILS 3
#define PASSIVE_OUT_MS 10000
#define PASSIVE_OUT_MAX 256
#define CONNECT_FAIL_PENALTY_US 1000000

struct echo_pend {
	struct rte_mbuf *m;
	uint32_t off, len;
};

struct echo_state {
	struct echo_state *next_free;
	uint16_t head, n;
	struct echo_pend q[ECHO_PEND];
};

struct dns_state {
	struct dns_state *next_free;
	uint16_t have;
	uint8_t buf[2 + DNS_TCP_MAX];
};

/* Per connection; the small part every consumer needs. Kind-specific
 * state comes from its own pool, so an idle sink connection costs the TCB
 * and this only. */
struct tapp {
	struct tapp *next_free;
	struct sl_worker *w;
	struct sl_tcp_conn *c;
	uint8_t kind;
	bool peer_closed;
	uint32_t vip, client;        /* DNS: the VS is looked up per query */
	uint16_t port;
	uint64_t last_us;            /* DNS idle timeout */
	uint64_t sent;               /* source: stream offset, drives the pattern */
	union {
		struct echo_state *echo;   /* echo and proxy: data received, not yet sent on */
		struct dns_state *dns;
	};
	struct tapp *prev_dns, *next_dns;  /* DNS idle-timeout scan */
	/* L4 proxy: the other side, and the server this side talks to. Only
	 * values are kept (slots, timeouts), never pointers into a generation,
	 * which may be freed while the connection lives. */
	struct tapp *peer;
	bool is_server, connected, shut_sent;
	uint8_t tries;
	uint8_t pp;                  /* client side: PROXY protocol version to send, 0 = none */
	uint32_t srv_ip, vs_slot;
	uint16_t srv_port, cport;
	uint32_t srv_slot;           /* server side: counted in open_srv while != SL_GEN_NONE */
	uint32_t pool_slot;          /* client side: pool object the server came from */
	int32_t grace_min;           /* ...its graceful_disable_timeout when the connection began */
	uint32_t idle_s;             /* client side: idle timeout */
	uint64_t drain_since;        /* client side: when its server left the configuration (0 = not) */
	uint32_t tried[PROXY_CONNECT_TRIES];   /* server slots a connect failed on */
	struct tapp *prev_px, *next_px;         /* client sides of proxied connections (timers) */
};

/* This worker's view of one server (by health slot), kept across
 * generations; the main lcore reads racy snapshots for /api and /metrics. */
struct srv_ctr {
	uint64_t total, bytes_in, bytes_out, connect_fail, passive_out;   /* total: established */
	uint32_t out_until_ms;
};


struct sl_tcp_worker {
	struct sl_tcp_stack *st;
	bool mem_pressure;
	uint64_t mem_pressure_events;
	size_t conn_mem, block_mem;
	struct tapp *apps, *free_apps;
	struct echo_state *echos, *free_echo;
	struct dns_state *dnss, *free_dns;
	struct tapp *dns_list;
	uint64_t next_idle_scan;
	unsigned n_listen;
	struct tlisten {
		struct sl_worker *w;
		uint32_t ip;
		uint16_t port;
		uint8_t kind;
		struct sl_tcp_listener *l;
	} listen[MAX_LISTEN];
	uint8_t dns_resp[65535];
	uint64_t no_ctx, dns_tcp_queries, dns_tcp_dropped, echo_overflow, idle_closed;
	uint64_t proxy_accepted, proxy_connect_fail, proxy_no_server, proxy_bytes_c2s, proxy_bytes_s2c;
	/* proxy, per server slot: connect-time EWMA, passive health (nonzero =
	 * out), counters; servers present and enabled in the generation live_gen
	 * (open connections are counted engine-wide: open_srv) */
	struct sl_lb_rt *srv_rt;
	uint8_t *srv_live;
	struct srv_ctr *srv;
	uint64_t live_gen;
	uint32_t n_out, out_list[PASSIVE_OUT_MAX];
	struct sl_proxy_vs_stats *vs;           /* by VS slot */
	struct tapp *px_list;
};

/* ---- sl_buf over rte_mbuf: one segment is one sl_buf */
static void buf_ref(void *ctx, struct sl_buf *b)
{
	(void)ctx;
	rte_mbuf_refcnt_update((struct rte_mbuf *)b, 1);
}

static void buf_unref(void *ctx, struct sl_buf *b)
{
	(void)ctx;
	rte_pktmbuf_free_seg((struct rte_mbuf *)b);
}

static const uint8_t *buf_data(void *ctx, const struct sl_buf *b, uint32_t *len)
{
	const struct rte_mbuf *m = (const struct rte_mbuf *)b;

	(void)ctx;
	*len = m->data_len;
	return rte_pktmbuf_mtod(m, const uint8_t *);
}

static struct sl_buf *buf_next(void *ctx, const struct sl_buf *b)
{
	(void)ctx;
	return (struct sl_buf *)((const struct rte_mbuf *)b)->next;
}

static const struct sl_buf_ops mbuf_ops = { buf_ref, buf_unref, buf_data, buf_next };

/* ---- output: one frame per segment. The payload is copied behind the
 * headers (at most one MSS, so it fits one mbuf); attaching the queued
 * mbufs as indirect segments instead is the next step for bulk speed. */
static int tcp_tx(void *arg, const struct sl_tcp_seg_out *seg)
{
	struct sl_worker *w = arg;
	struct rte_mbuf *m;
	uint32_t nh, l2, tcp_len = seg->hdr_len + seg->payload_len;
	int pidx = sl_route(seg->daddr, &nh);
	uint8_t *f, *tcp, *p;
	const struct sl_port *port;
	uint16_t psum;

	if (pidx < 0)
		return -ENETUNREACH;
	port = &sl_eng.ports[pidx];
	m = rte_pktmbuf_alloc(w->pool);
	if (!m)
		return -ENOBUFS;
	l2 = sl_l2_hlen(port->conf.vlan);
	if (l2 + SL_IPV4_HLEN + tcp_len > rte_pktmbuf_tailroom(m)) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	f = rte_pktmbuf_mtod(m, uint8_t *);
	sl_eth_hdr_build(f, port->mac.addr_bytes, port->mac.addr_bytes, port->conf.vlan,
			 SL_ETHERTYPE_IPV4_BE);
	sl_ipv4_hdr_build(f + l2, seg->saddr, seg->daddr, IPPROTO_TCP, 64, 0, tcp_len);
	tcp = f + l2 + SL_IPV4_HLEN;
	memcpy(tcp, seg->hdr, seg->hdr_len);
	p = tcp + seg->hdr_len;
	for (unsigned i = 0; i < seg->n_iov; i++) {
		const struct rte_mbuf *b = (const struct rte_mbuf *)seg->iov[i].buf;
		uint32_t off = seg->iov[i].off, left = seg->iov[i].len;

		while (b && off >= b->data_len) {
			off -= b->data_len;
			b = b->next;
		}
		while (b && left) {
			uint32_t n = RTE_MIN(left, (uint32_t)b->data_len - off);

			memcpy(p, rte_pktmbuf_mtod_offset(b, const uint8_t *, off), n);
			p += n;
			left -= n;
			off = 0;
			b = b->next;
		}
	}
	if (port->tx_csum) {
		/* the device sums the segment; it wants the pseudo header
		 * sum in the field (DPDK's convention for TCP_CKSUM) */
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + l2);

		m->l2_len = l2;
		m->l3_len = SL_IPV4_HLEN;
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
		ip->hdr_checksum = 0;
		*(uint16_t *)(tcp + 16) = rte_ipv4_phdr_cksum(ip, m->ol_flags);
		w->st.tx_csum_offloaded++;
	} else {
		/* the checksum field is zero in seg->hdr. A segment that is
		 * exactly one received segment's payload (a relay with equal MSS
		 * both ways) adds the sum taken on receive to its headers' */
		if (seg->n_iov == 1 && sl_psum_get((const struct rte_mbuf *)seg->iov[0].buf, seg->iov[0].off,
						   seg->iov[0].len, &psum)) {
			w->st.tx_csum_reused++;
			*(uint16_t *)(tcp + 16) = (uint16_t)~sl_csum_fold(
				sl_csum_add(tcp, seg->hdr_len,
					    sl_pseudo_sum(seg->saddr, seg->daddr, IPPROTO_TCP, tcp_len) + psum));
		} else {
			*(uint16_t *)(tcp + 16) = sl_l4_csum(seg->saddr, seg->daddr, IPPROTO_TCP, tcp, tcp_len);
		}
	}
	m->data_len = m->pkt_len = l2 + SL_IPV4_HLEN + tcp_len;
	sl_l2_output(w, m, pidx, nh);
	return 0;
}

/* An active open must pick a port whose return tuple this worker owns. */
static bool tcp_port_ok(void *arg, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	const struct sl_worker *w = arg;

	return sl_flow_owner(sl_flow_hash(lip, rip, rte_cpu_to_be_16(lport), rte_cpu_to_be_16(rport),
					  IPPROTO_TCP), sl_eng.n_workers) == w->id;
}

/* ---- contexts */
static struct tapp *tapp_get(struct sl_tcp_worker *t)
{
	struct tapp *a = t->free_apps;

	if (a)
		t->free_apps = a->next_free;
	return a;
}

static void dns_unlink(struct sl_tcp_worker *t, struct tapp *a)
{
	if (a->prev_dns)
		a->prev_dns->next_dns = a->next_dns;
	else
		t->dns_list = a->next_dns;
	if (a->next_dns)
		a->next_dns->prev_dns = a->prev_dns;
	a->prev_dns = a->next_dns = NULL;
}

static struct echo_state *q_get(struct sl_tcp_worker *t)
{
	struct echo_state *e = t->free_echo;

	if (e) {
		t->free_echo = e->next_free;
		e->head = e->n = 0;
	}
	return e;
}

static void q_put(struct sl_tcp_worker *t, struct echo_state *e)
{
	for (unsigned i = 0; i < e->n; i++)
		rte_pktmbuf_free_seg(e->q[(e->head + i) % ECHO_PEND].m);
	e->next_free = t->free_echo;
	t->free_echo = e;
}

/* Returns the context and what it holds; the connection is gone, going,
 * or was never accepted. */
static void tapp_put(struct sl_tcp_worker *t, struct tapp *a)
{
	if ((a->kind == TAPP_ECHO || a->kind == TAPP_PROXY) && a->echo) {
		q_put(t, a->echo);
	} else if (a->kind == TAPP_DNS && a->dns) {
		dns_unlink(t, a);
		a->dns->next_free = t->free_dns;
		t->free_dns = a->dns;
	}
	memset(a, 0, sizeof(*a));
	a->next_free = t->free_apps;
	t->free_apps = a;
}

static void app_close(struct tapp *a)
{
	struct sl_tcp_worker *t = a->w->tcp;

	sl_tcp_close(a->c);
	tapp_put(t, a);
}

static void app_abort(struct tapp *a)
{
	struct sl_tcp_worker *t = a->w->tcp;

	sl_tcp_abort(a->c);
	tapp_put(t, a);
}

/* ---- echo: the received mbufs go straight back out */
static void echo_flush(struct tapp *a)
{
	struct echo_state *e = a->echo;

	while (e->n) {
		struct echo_pend *p = &e->q[e->head];
		int rc = sl_tcp_send(a->c, (struct sl_buf *)p->m, p->off, p->len);

		if (rc == -EAGAIN)
			return;
		sl_tcp_consumed(a->c, p->len);
		rte_pktmbuf_free_seg(p->m);
		e->head = (uint16_t)((e->head + 1) % ECHO_PEND);
		e->n--;
		if (rc) {
			app_abort(a);
			return;
		}
	}
	if (a->peer_closed)
		sl_tcp_shutdown(a->c, 1);
}

/* Keeps a reference to received bytes until they can be sent on. False
 * when the queue is full: a peer dribbling tiny segments while we cannot
 * send; the caller ends that connection, nobody else's. */
static bool pend_push(struct tapp *a, struct echo_state *e, struct sl_buf *b, uint32_t off, uint32_t len)
{
	struct rte_mbuf *m = (struct rte_mbuf *)b;

	if (e->n == ECHO_PEND) {
		a->w->tcp->echo_overflow++;
		return false;
	}
	rte_mbuf_refcnt_update(m, 1);
	e->q[(e->head + e->n) % ECHO_PEND] = (struct echo_pend){ m, off, len };
	e->n++;
	return true;
}

static void echo_recv(struct tapp *a, struct sl_buf *b, uint32_t off, uint32_t len)
{
	if (!pend_push(a, a->echo, b, off, len)) {
		app_abort(a);
		return;
	}
	echo_flush(a);
}

/* ---- source: sends a byte pattern (i & 0xff of the stream offset) until
 * the peer closes, filling the send space with fresh mbufs */
#define SOURCE_CHUNK 1448
/* byte i of the stream is i & 0xff: any chunk is a slice of this table */
static uint8_t source_pattern[256 + SOURCE_CHUNK];

static void source_fill(struct tapp *a)
{
	/* until the stack says -EAGAIN: only that arms its writable callback */
	for (;;) {
		struct rte_mbuf *m = sl_payload_alloc(a->w->pool);
		uint32_t n = SOURCE_CHUNK;
		int rc;

		if (!m)
			return;
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), source_pattern + (a->sent & 0xff), n);
		m->data_len = m->pkt_len = (uint16_t)n;
		rc = sl_tcp_send(a->c, (struct sl_buf *)m, 0, n);
		rte_pktmbuf_free(m);
		if (rc)
			return;
		a->sent += n;
	}
}

/* ---- DNS over TCP (RFC 7766): 2-byte length framing, several queries
 * per connection, answered in order, idle connections closed */
static void dns_answer_one(struct tapp *a, const uint8_t *q, uint16_t qlen)
{
	struct sl_tcp_worker *t = a->w->tcp;
	const struct sl_gen *g = a->w->gen;
	const struct sl_gen_vs *vs = g ? sl_gen_lookup(g, a->vip, IPPROTO_UDP, a->port) : NULL;
	struct sl_dns_qlog ql;
	size_t rlen;
	uint32_t off = 0;
	uint64_t t0 = rte_rdtsc();

	t->dns_tcp_queries++;
	if (!vs || vs->app_type != SL_APP_DNS || !vs->app) {
		/* the VS went away under an open connection */
		app_close(a);
		return;
	}
	rlen = sl_dns_answer(vs->app, a->w->id, q, qlen, t->dns_resp + 2, sizeof(t->dns_resp) - 2,
			     a->client, true, &ql);
	sl_dns_account(a->w, vs, &ql, rlen);
	if (vs->log_queries) {
		uint32_t lip, rip;
		uint16_t lport, rport;

		sl_tcp_conn_tuple(a->c, &lip, &lport, &rip, &rport);
		sl_qlog_push(a->w, vs, rip, rport, true, &ql, t0);
	}
	if (!rlen) {
		t->dns_tcp_dropped++;
		return;
	}
	t->dns_resp[0] = (uint8_t)(rlen >> 8);
	t->dns_resp[1] = (uint8_t)rlen;
	rlen += 2;
	while (off < rlen) {
		struct rte_mbuf *m = sl_payload_alloc(a->w->pool);
		uint32_t n;
		int rc;

		if (!m) {
			app_abort(a);
			return;
		}
		n = RTE_MIN((uint32_t)rlen - off, (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), t->dns_resp + off, n);
		m->data_len = m->pkt_len = (uint16_t)n;
		rc = sl_tcp_send(a->c, (struct sl_buf *)m, 0, n);
		rte_pktmbuf_free(m);
		if (rc) {
			/* a client that does not read its answers loses its connection */
			app_abort(a);
			return;
		}
		off += n;
	}
}

static void dns_recv(struct tapp *a, struct sl_buf *b, uint32_t off, uint32_t len)
{
	struct dns_state *d = a->dns;
	const struct rte_mbuf *m = (const struct rte_mbuf *)b;

	a->last_us = sl_now_us();
	while (m && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (m && len) {
		uint32_t avail = RTE_MIN((uint32_t)m->data_len - off, len);
		/* the 2-byte length first, then exactly that many bytes */
		uint32_t need = d->have < 2 ? 2 : 2u + ((uint32_t)d->buf[0] << 8 | d->buf[1]);
		uint32_t take = RTE_MIN(avail, need - d->have);

		memcpy(d->buf + d->have, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), take);
		d->have = (uint16_t)(d->have + take);
		off += take;
		len -= take;
		if (off == m->data_len) {
			m = m->next;
			off = 0;
		}
		if (d->have == 2) {
			uint32_t qlen = (uint32_t)d->buf[0] << 8 | d->buf[1];

			if (qlen < 12 || qlen > DNS_TCP_MAX) {
				app_abort(a);
				return;
			}
		} else if (d->have == need) {
			struct sl_tcp_conn *c = a->c;

			dns_answer_one(a, d->buf + 2, (uint16_t)(d->have - 2));
			if (a->c != c)
				return; /* closed while answering */
			d->have = 0;
		}
	}
}

/* ---- L4 proxy: a client connection accepted on a VS, a server connection
 * opened from the backend address to a pool member, and each side's
 * received mbufs relayed to the other as the other's send space allows.
 * Both receive windows are manual, so a slow side back-pressures the fast
 * one through TCP itself; half-close and RST cross over. */

static inline uint32_t now_ms32(void)
{
	return (uint32_t)(sl_now_us() / 1000);
}

/* Open (or connecting) proxied connections per server slot and per VS slot,
 * shared by all workers: connection limits are global (as in Avi), so they
 * need one count. One atomic add per connection open and close, never per
 * packet; picks read them with plain loads and srv_take settles the race
 * for a last place. Least connections and the two-choice random pick
 * balance on these engine-wide counts too: with per-worker counts each
 * worker would balance only its own share, and N workers could each send
 * their first connection to the same server. Reading them costs a shared
 * cache line per server per pick (per connection, never per packet). */
static uint32_t *open_srv, *open_vs;
/* Passive health is engine-wide too (nginx's max_fails is per upstream, not
 * per worker): consecutive failed connects on any worker count against a
 * server, and once out it is out of every worker's picks. The worker that
 * took it out brings it back when its time is up (its out_list). */
static uint8_t *out_g;              /* nonzero: out of the picks */
static uint32_t *fails_g;           /* consecutive failed connects */

/* Reserves a connection on the server in slot: false when its limit (0 =
 * none) is reached, counting the other workers' connections. */
static bool srv_take(struct tapp *b, uint32_t slot, uint32_t limit)
{
	if (slot < SL_MAX_HEALTH) {
		uint32_t was = __atomic_fetch_add(&open_srv[slot], 1, __ATOMIC_RELAXED);

		if (limit && was >= limit) {
			/* another worker took the last place since the pick */
			__atomic_fetch_sub(&open_srv[slot], 1, __ATOMIC_RELAXED);
			return false;
		}
	}
	b->srv_slot = slot;
	return true;
}

static void srv_drop(struct tapp *b)
{
	if (b->srv_slot < SL_MAX_HEALTH) {
		__atomic_fetch_sub(&open_srv[b->srv_slot], 1, __ATOMIC_RELAXED);
	}
	b->srv_slot = SL_GEN_NONE;
}

static void px_unlink(struct sl_tcp_worker *t, struct tapp *a)
{
	if (a->prev_px)
		a->prev_px->next_px = a->next_px;
	else if (t->px_list == a)
		t->px_list = a->next_px;
	if (a->next_px)
		a->next_px->prev_px = a->prev_px;
	a->prev_px = a->next_px = NULL;
}

static void proxy_release(struct tapp *a)
{
	struct sl_tcp_worker *t = a->w->tcp;

	if (a->is_server) {
		srv_drop(a);
	} else if (a->vs_slot < SL_MAX_VS) {
		t->vs[a->vs_slot].cur--;
		__atomic_fetch_sub(&open_vs[a->vs_slot], 1, __ATOMIC_RELAXED);
		px_unlink(t, a);
	}
	tapp_put(t, a);
}

/* One side failed: the other gets an RST, both contexts are released. */
static void proxy_abort(struct tapp *a)
{
	struct tapp *b = a->peer;

	if (b) {
		sl_tcp_abort(b->c);
		proxy_release(b);
	}
	sl_tcp_abort(a->c);
	proxy_release(a);
}

static void proxy_maybe_done(struct tapp *a)
{
	struct tapp *b = a->peer;

	/* both directions finished: FINs crossed, nothing left to relay */
	if (b && a->shut_sent && b->shut_sent && !a->echo && !b->echo) {
		sl_tcp_close(a->c);
		sl_tcp_close(b->c);
		proxy_release(a);
		proxy_release(b);
	}
}

static void count_bytes(struct sl_tcp_worker *t, const struct tapp *a, const struct tapp *b, uint32_t len)
{
	const struct tapp *cli = a->is_server ? b : a, *srv = a->is_server ? a : b;

	if (a->is_server)
		t->proxy_bytes_s2c += len;
	else
		t->proxy_bytes_c2s += len;
	if (cli->vs_slot < SL_MAX_VS) {
		if (a->is_server)
			t->vs[cli->vs_slot].bytes_out += len;
		else
			t->vs[cli->vs_slot].bytes_in += len;
	}
	if (srv->srv_slot < SL_MAX_HEALTH) {
		if (a->is_server)
			t->srv[srv->srv_slot].bytes_in += len;
		else
			t->srv[srv->srv_slot].bytes_out += len;
	}
}

/* Sends what side a received on to its peer. Returns false if a is gone. */
static bool proxy_flush(struct tapp *a)
{
	struct sl_tcp_worker *t = a->w->tcp;
	struct tapp *b = a->peer;
	struct echo_state *e = a->echo;

	if (!b || !b->connected)
		return true;
	while (e && e->n) {
		struct echo_pend *p = &e->q[e->head];
		int rc = sl_tcp_send(b->c, (struct sl_buf *)p->m, p->off, p->len);

		if (rc == -EAGAIN)
			return true;
		if (rc) {
			proxy_abort(a);
			return false;
		}
		sl_tcp_consumed(a->c, p->len);
		count_bytes(t, a, b, p->len);
		rte_pktmbuf_free_seg(p->m);
		e->head = (uint16_t)((e->head + 1) % ECHO_PEND);
		e->n--;
	}
	if (e) {
		q_put(t, e);
		a->echo = NULL;
	}
	if (a->peer_closed && !a->shut_sent) {
		sl_tcp_shutdown(b->c, 1);
		a->shut_sent = true;
	}
	proxy_maybe_done(a);
	return true;
}

static void proxy_recv(struct tapp *a, struct sl_buf *b, uint32_t off, uint32_t len)
{
	struct sl_tcp_worker *t = a->w->tcp;

	a->last_us = a->w->now_us;
	if (!a->echo && !(a->echo = q_get(t))) {
		t->echo_overflow++;
		proxy_abort(a);
		return;
	}
	if (!pend_push(a, a->echo, b, off, len)) {
		proxy_abort(a);
		return;
	}
	proxy_flush(a);
}

/* ---- server selection (dataplane/lb). The pick structures come with the
 * generation (built by control); what must outlive a generation (open
 * connections, connect times, passive health) is kept here by server slot. */
struct pick_ctx {
	struct sl_worker *w;
	const struct sl_gen *g;
	const struct tapp *b;        /* server side: slots already failed */
	uint64_t hash_ip, hash_port; /* client hashes by kind */
	const struct sl_gen_pg_member *members;    /* pool group being picked from */
	bool limit_hit;              /* a server was skipped only for its connection limit */
	int32_t pool_idx;            /* out: pool of the pick */
};

/* Server index (into g->servers) for a new connection from pool idx, or -ENOENT. */
static int pick_in_pool(struct pick_ctx *x, uint32_t idx)
{
	const struct sl_gen *g = x->g;
	const struct sl_gen_pool *pool = &g->pools[idx];
	const struct sl_gen_lb *lb = pool->lb;
	struct sl_tcp_worker *t = x->w->tcp;
	uint32_t failed[SL_LB_MAX_EXCLUDE], nf = 0;
	struct sl_lb_pool_state *st;
	int r;

	if (!pool->enabled || !lb || !lb->pool || x->w->id >= lb->n_workers)
		return -ENOENT;
	st = (struct sl_lb_pool_state *)((char *)lb->states + x->w->id * lb->stride);
	struct sl_lb_in in = {
		.hash = pool->lb_hash == SL_LB_HASH_SOURCE_IP_AND_PORT ? x->hash_port : x->hash_ip,
		.now_ms = now_ms32(), .up = g->health, .draining = out_g,
		.conns = open_srv, .limit_conns = open_srv,
		.rt = t->srv_rt, .by_slot = true, .n_slots = SL_MAX_HEALTH,
		.max_conns_all = pool->max_conns,
	};
	/* servers a connect already failed on: their positions in this pool
	 * (rare path, so a scan) */
	for (uint32_t i = 0; i < pool->n_servers && x->b->tries; i++) {
		uint32_t slot = g->servers[pool->first_server + i].slot;

		for (unsigned k = 0; k < x->b->tries && nf < SL_LB_MAX_EXCLUDE; k++)
			if (x->b->tried[k] == slot && slot != SL_GEN_NONE) {
				failed[nf++] = i;
				break;
			}
	}
	r = sl_lb_pick_retry(lb->pool, st, &in, failed, nf);
	if (r < 0 && in.max_conns_all) {
		/* only to tell a limit from no server at all */
		in.max_conns_all = 0;
		x->limit_hit |= sl_lb_pick_retry(lb->pool, st, &in, failed, nf) >= 0;
		return -ENOENT;
	}
	if (r < 0)
		return r;
	x->pool_idx = (int32_t)idx;
	return (int)(pool->first_server + (uint32_t)r);
}

/* Member k of the group being picked from: its pool in this generation. */
static int pg_pick_cb(void *arg, uint32_t k)
{
	struct pick_ctx *x = arg;

	return pick_in_pool(x, x->members[k].pool_idx);
}

static int pick_server(struct pick_ctx *x, const struct sl_gen_vs *vs)
{
	const struct sl_gen *g = x->g;

	if (vs->pool_idx != SL_GEN_NONE)
		return pick_in_pool(x, vs->pool_idx);
	if (vs->poolgroup_idx != SL_GEN_NONE) {
		const struct sl_gen_poolgroup *pg = &g->poolgroups[vs->poolgroup_idx];
		const struct sl_gen_lb *lb = pg->lb;
		uint32_t k;

		if (!lb || !lb->pg || x->w->id >= lb->n_workers)
			return -ENOENT;
		x->members = &g->pg_members[pg->first_member];
		return sl_lb_pg_pick(lb->pg, (struct sl_lb_pg_state *)((char *)lb->states + x->w->id * lb->stride),
				     pg_pick_cb, x, &k);
	}
	return -ENOENT;
}

static const struct sl_tcp_ops app_ops;

/* A connect to the server in slot failed or timed out: counted against it;
 * PASSIVE_MAX_FAILS in a row (on any worker) take it out of the picks for
 * PASSIVE_OUT_MS (then one more failure is enough to take it out again). */
static void passive_fail(struct sl_tcp_worker *t, uint32_t slot, uint64_t started_us, uint64_t now)
{
	struct srv_ctr *s;

	if (slot >= SL_MAX_HEALTH)
		return;
	s = &t->srv[slot];
	s->connect_fail++;
	/* a failure weighs at least as much as a very slow connect (fastest response) */
	sl_lb_rt_sample(&t->srv_rt[slot], (uint32_t)RTE_MAX(now - started_us, (uint64_t)CONNECT_FAIL_PENALTY_US),
			(uint32_t)(now / 1000));
	if (__atomic_add_fetch(&fails_g[slot], 1, __ATOMIC_RELAXED) >= PASSIVE_MAX_FAILS &&
	    !__atomic_load_n(&out_g[slot], __ATOMIC_RELAXED) && t->n_out < PASSIVE_OUT_MAX) {
		uint8_t in = 0;

		/* one worker takes it out (and later back in) */
		if (__atomic_compare_exchange_n(&out_g[slot], &in, 1, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			s->out_until_ms = (uint32_t)(now / 1000) + PASSIVE_OUT_MS;
			s->passive_out++;
			t->out_list[t->n_out++] = slot;
		}
	}
}

/* Opens the server side for client a. Returns 0, or -errno when no server
 * is left to try (-EBUSY: the usable ones are at their connection limit). */
static int proxy_connect(struct tapp *a, struct tapp *b)
{
	struct sl_worker *w = a->w;
	struct sl_tcp_worker *t = w->tcp;
	const struct sl_gen *g = w->gen;
	const struct sl_gen_vs *vs = g ? sl_gen_lookup(g, a->vip, IPPROTO_TCP, a->port) : NULL;
	struct pick_ctx x = { .w = w, .g = g, .b = b, .pool_idx = -1 };

	if (vs && (!vs->enabled || vs->app_type != SL_APP_L4))
		vs = NULL;
	x.hash_ip = sl_lb_client_hash(a->client, a->cport, SL_LB_HASH_SOURCE_IP);
	x.hash_port = sl_lb_client_hash(a->client, a->cport, SL_LB_HASH_SOURCE_IP_AND_PORT);
	while (vs && b->tries < PROXY_CONNECT_TRIES) {
		int idx = pick_server(&x, vs), err = 0;
		const struct sl_gen_server *sv;
		uint32_t nh;
		int pidx;

		if (idx < 0)
			break;
		sv = &g->servers[idx];
		b->tried[b->tries++] = sv->slot;
		pidx = sl_route(sv->ip, &nh);
		if (pidx < 0) {
			passive_fail(t, sv->slot, w->now_us, w->now_us);
			continue;
		}
		if (!srv_take(b, sv->slot, g->pools[x.pool_idx].max_conns)) {
			x.limit_hit = true;
			continue;
		}
		b->srv_ip = sv->ip;
		b->srv_port = sv->port;
		b->last_us = w->now_us;         /* connect start: timeout and connect time */
		b->c = sl_tcp_connect(t->st, sl_eng.ports[pidx].conf.ip, sv->ip, sv->port, &app_ops, b, &err);
		if (b->c) {
			a->pool_slot = g->pools[x.pool_idx].slot;
			a->grace_min = g->pools[x.pool_idx].graceful_timeout;
			sl_tcp_set_manual_window(b->c, true);
			sl_tcp_set_bufs(b->c, PROXY_SNDBUF, PROXY_RCVBUF);
			return 0;
		}
		/* no TCB or source port here: not the server's fault */
		srv_drop(b);
		t->proxy_connect_fail++;
	}
	t->proxy_no_server++;
	if (a->vs_slot < SL_MAX_VS) {
		if (x.limit_hit)
			t->vs[a->vs_slot].limit_server++;
		else
			t->vs[a->vs_slot].no_server++;
	}
	return x.limit_hit ? -EBUSY : -EHOSTUNREACH;
}

/* PROXY protocol header (haproxy.org proxy-protocol.txt) for client a,
 * queued on the server connection before any client byte. */
static int proxy_header(struct tapp *a, struct tapp *b)
{
	struct rte_mbuf *m = sl_payload_alloc(a->w->pool);
	uint8_t *d;
	uint32_t len;
	int rc;

	if (!m)
		return -ENOBUFS;
	d = rte_pktmbuf_mtod(m, uint8_t *);
	if (a->pp == 2) {
		static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
		uint16_t cp = rte_cpu_to_be_16(a->cport), vp = rte_cpu_to_be_16(a->port);

		memcpy(d, sig, 12);
		d[12] = 0x21;   /* version 2, PROXY */
		d[13] = 0x11;   /* TCP over IPv4 */
		d[14] = 0;
		d[15] = 12;
		memcpy(d + 16, &a->client, 4);
		memcpy(d + 20, &a->vip, 4);
		memcpy(d + 24, &cp, 2);
		memcpy(d + 26, &vp, 2);
		len = 28;
	} else {
		char c[INET_ADDRSTRLEN], v[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &a->client, c, sizeof(c));
		inet_ntop(AF_INET, &a->vip, v, sizeof(v));
		len = (uint32_t)snprintf((char *)d, 108, "PROXY TCP4 %s %s %u %u\r\n", c, v, a->cport, a->port);
	}
	m->data_len = m->pkt_len = (uint16_t)len;
	rc = sl_tcp_send(b->c, (struct sl_buf *)m, 0, len);
	rte_pktmbuf_free(m);
	return rc;
}

static void proxy_connected(struct tapp *b)
{
	struct sl_tcp_worker *t = b->w->tcp;
	struct tapp *a = b->peer;
	uint64_t now = sl_now_us();

	b->connected = true;
	if (b->srv_slot < SL_MAX_HEALTH) {
		sl_lb_rt_sample(&t->srv_rt[b->srv_slot], (uint32_t)RTE_MIN(now - b->last_us, (uint64_t)UINT32_MAX),
				(uint32_t)(now / 1000));
		/* read first: a store per connection would bounce the line */
		if (__atomic_load_n(&fails_g[b->srv_slot], __ATOMIC_RELAXED))
			__atomic_store_n(&fails_g[b->srv_slot], 0, __ATOMIC_RELAXED);
		t->srv[b->srv_slot].total++;
	}
	b->last_us = now;
	if (a->pp && proxy_header(a, b)) {
		proxy_abort(a);
		return;
	}
	proxy_flush(a);
}

/* A server connect failed (refused, timed out) before any byte moved: try
 * another server, so the client never sees one dead server. */
static void proxy_server_failed(struct tapp *b, bool timed_out)
{
	struct tapp *a = b->peer;
	struct sl_tcp_worker *t = a->w->tcp;

	t->proxy_connect_fail++;
	if (a->vs_slot < SL_MAX_VS)
		t->vs[a->vs_slot].connect_fail++;
	passive_fail(t, b->srv_slot, b->last_us, sl_now_us());
	srv_drop(b);
	if (timed_out)
		sl_tcp_abort(b->c);
	else
		sl_tcp_close(b->c);
	b->c = NULL;
	if (proxy_connect(a, b)) {
		sl_tcp_abort(a->c);
		proxy_release(a);
		proxy_release(b);
	}
}

/* Servers present and enabled (in an enabled pool) in generation g, by slot:
 * a proxied connection whose server is not is draining. */
static void live_refresh(struct sl_tcp_worker *t, const struct sl_gen *g)
{
	memset(t->srv_live, 0, SL_MAX_HEALTH);
	for (uint32_t p = 0; p < g->n_pools; p++) {
		const struct sl_gen_pool *pool = &g->pools[p];

		for (uint32_t i = 0; pool->enabled && i < pool->n_servers; i++) {
			const struct sl_gen_server *sv = &g->servers[pool->first_server + i];

			if (sv->enabled && sv->slot < SL_MAX_HEALTH)
				t->srv_live[sv->slot] = 1;
		}
	}
	t->live_gen = g->id;
}

/* Once a second: passive-health outs that expired, server connects that
 * took too long, idle connections, and draining ones past their pool's
 * graceful_disable_timeout. O(proxied connections of this worker). */
static void proxy_scan(struct sl_worker *w, uint64_t now)
{
	struct sl_tcp_worker *t = w->tcp;
	const struct sl_gen *g = w->gen;
	uint32_t ms = (uint32_t)(now / 1000);

	for (uint32_t i = 0; i < t->n_out;) {
		uint32_t slot = t->out_list[i];

		if ((int32_t)(ms - t->srv[slot].out_until_ms) >= 0) {
			__atomic_store_n(&out_g[slot], 0, __ATOMIC_RELAXED);
			t->out_list[i] = t->out_list[--t->n_out];
		} else {
			i++;
		}
	}
	if (!t->px_list)
		return;
	if (g && t->live_gen != g->id)
		live_refresh(t, g);
	for (struct tapp *a = t->px_list, *next; a; a = next) {
		struct tapp *b = a->peer;
		struct sl_proxy_vs_stats *vc = &t->vs[a->vs_slot];

		next = a->next_px;
		if (!b)
			continue;
		if (!b->connected) {
			if (now - b->last_us > PROXY_CONNECT_TIMEOUT_US)
				proxy_server_failed(b, true);
			continue;
		}
		if (now - RTE_MAX(a->last_us, b->last_us) > (uint64_t)a->idle_s * 1000000) {
			vc->idle_closed++;
			t->idle_closed++;
			sl_tcp_close(a->c);
			sl_tcp_close(b->c);
			proxy_release(a);
			proxy_release(b);
			continue;
		}
		if (!g || b->srv_slot >= SL_MAX_HEALTH || t->srv_live[b->srv_slot]) {
			a->drain_since = 0;
			continue;
		}
		if (!a->drain_since)
			a->drain_since = now;
		uint32_t pidx = a->pool_slot < g->n_pool_slots ? g->pool_by_slot[a->pool_slot] : SL_GEN_NONE;
		int32_t grace = pidx != SL_GEN_NONE ? g->pools[pidx].graceful_timeout : a->grace_min;

		if (grace >= 0 && now - a->drain_since >= (uint64_t)grace * 60 * 1000000) {
			vc->drain_reset++;
			proxy_abort(a);
		}
	}
}

/* ---- stack callbacks */
static void cb_recv(void *uarg, struct sl_tcp_conn *c, struct sl_buf *b, uint32_t off, uint32_t len)
{
	struct tapp *a = uarg;

	(void)c;
	switch (a->kind) {
	case TAPP_ECHO:
		echo_recv(a, b, off, len);
		break;
	case TAPP_DNS:
		dns_recv(a, b, off, len);
		break;
	case TAPP_PROXY:
		proxy_recv(a, b, off, len);
		break;
	default:
		break; /* sink and source discard what they receive */
	}
}

static void cb_writable(void *uarg, struct sl_tcp_conn *c)
{
	struct tapp *a = uarg;

	(void)c;
	if (a->kind == TAPP_PROXY)
		proxy_flush(a->peer);
	else if (a->kind == TAPP_ECHO)
		echo_flush(a);
	else if (a->kind == TAPP_SOURCE && !a->peer_closed)
		source_fill(a);
}

static void cb_peer_closed(void *uarg, struct sl_tcp_conn *c)
{
	struct tapp *a = uarg;

	(void)c;
	a->peer_closed = true;
	if (a->kind == TAPP_PROXY) {
		proxy_flush(a);
		return;
	}
	if (a->kind == TAPP_ECHO && a->echo->n)
		return; /* echo_flush sends our FIN once the backlog is out */
	app_close(a);
}

static void cb_error(void *uarg, struct sl_tcp_conn *c, int reason)
{
	struct tapp *a = uarg;

	(void)c;
	(void)reason;
	if (a->kind == TAPP_PROXY) {
		if (a->is_server && !a->connected)
			proxy_server_failed(a, false);
		else
			proxy_abort(a); /* a reset or a timeout on one side resets the other */
		return;
	}
	app_close(a);
}

static void cb_connected(void *uarg, struct sl_tcp_conn *c)
{
	(void)c;
	proxy_connected(uarg);
}

static const struct sl_tcp_ops app_ops = {
	.connected = cb_connected, .recv = cb_recv, .writable = cb_writable,
	.peer_closed = cb_peer_closed, .error = cb_error,
};

static int proxy_accept(struct sl_worker *w, struct tapp *a)
{
	struct sl_tcp_worker *t = w->tcp;
	const struct sl_gen *g = w->gen;
	const struct sl_gen_vs *vs = g ? sl_gen_lookup(g, a->vip, IPPROTO_TCP, a->port) : NULL;
	struct tapp *b;
	struct sl_proxy_vs_stats *vc;
	uint32_t was;
	int rc;

	a->vs_slot = SL_GEN_NONE;
	a->srv_slot = SL_GEN_NONE;
	if (!vs || !vs->enabled || vs->app_type != SL_APP_L4 || vs->slot >= SL_MAX_VS) {
		t->proxy_no_server++;
		return -EHOSTUNREACH;
	}
	vc = &t->vs[vs->slot];
	was = __atomic_fetch_add(&open_vs[vs->slot], 1, __ATOMIC_RELAXED);
	if (vs->max_conns && was >= vs->max_conns) {
		__atomic_fetch_sub(&open_vs[vs->slot], 1, __ATOMIC_RELAXED);
		vc->limit_vs++;
		return -EBUSY;
	}
	b = tapp_get(t);
	if (!b) {
		__atomic_fetch_sub(&open_vs[vs->slot], 1, __ATOMIC_RELAXED);
		t->no_ctx++;
		return -ENOBUFS;
	}
	b->w = w;
	b->kind = TAPP_PROXY;
	b->is_server = true;
	b->vs_slot = SL_GEN_NONE;
	b->srv_slot = SL_GEN_NONE;
	b->peer = a;
	a->peer = b;
	a->connected = true;
	a->idle_s = vs->idle_timeout_s ? vs->idle_timeout_s : PROXY_IDLE_DEFAULT_S;
	a->pp = vs->proxy_protocol;
	a->vs_slot = vs->slot;
	vc->cur++;
	if ((rc = proxy_connect(a, b))) {
		vc->cur--;
		__atomic_fetch_sub(&open_vs[vs->slot], 1, __ATOMIC_RELAXED);
		a->vs_slot = SL_GEN_NONE;
		tapp_put(t, b);
		return rc;
	}
	vc->total++;
	t->proxy_accepted++;
	a->next_px = t->px_list;
	if (t->px_list)
		t->px_list->prev_px = a;
	t->px_list = a;
	sl_tcp_set_manual_window(a->c, true);
	sl_tcp_set_bufs(a->c, PROXY_SNDBUF, PROXY_RCVBUF);
	return 0;
}

static int on_accept(void *arg, struct sl_tcp_conn *c)
{
	const struct tlisten *l = arg;
	struct sl_worker *w = l->w;
	struct sl_tcp_worker *t = w->tcp;
	struct tapp *a = tapp_get(t);
	uint32_t lip, rip;
	uint16_t lport, rport;
	uint8_t kind = l->kind;

	if (!a) {
		t->no_ctx++;
		return -ENOBUFS;
	}
	sl_tcp_conn_tuple(c, &lip, &lport, &rip, &rport);
	a->w = w;
	a->c = c;
	a->kind = kind;
	a->vip = lip;
	a->port = lport;
	a->client = rip;
	a->cport = rport;
	a->last_us = sl_now_us();
	if (kind == TAPP_ECHO) {
		a->echo = t->free_echo;
		if (a->echo) {
			t->free_echo = a->echo->next_free;
			a->echo->head = a->echo->n = 0;
			/* the window opens as echoed bytes leave, not as they arrive */
			sl_tcp_set_manual_window(c, true);
		}
	} else if (kind == TAPP_DNS) {
		a->dns = t->free_dns;
		if (a->dns) {
			t->free_dns = a->dns->next_free;
			a->dns->have = 0;
			a->next_dns = t->dns_list;
			if (t->dns_list)
				t->dns_list->prev_dns = a;
			t->dns_list = a;
		}
	}
	if (kind == TAPP_NONE || ((kind == TAPP_ECHO || kind == TAPP_DNS) && !a->echo)) {
		t->no_ctx++;
		tapp_put(t, a);
		return -ENOBUFS;
	}
	sl_tcp_set_ops(c, &app_ops, a);
	if (kind == TAPP_PROXY) {
		int rc = proxy_accept(w, a);

		if (rc)
			tapp_put(t, a);
		return rc;
	}
	if (kind == TAPP_SOURCE)
		source_fill(a);
	return 0;
}

static const struct sl_tcp_listen_ops listen_ops = { .accept = on_accept };

static int listen_on(struct sl_worker *w, uint32_t ip, uint16_t port, uint8_t kind)
{
	struct sl_tcp_worker *t = w->tcp;
	int err = 0;

	for (unsigned i = 0; i < t->n_listen; i++)
		if (t->listen[i].ip == ip && t->listen[i].port == port)
			return 0;
	if (t->n_listen == MAX_LISTEN)
		return -ENOSPC;
	t->listen[t->n_listen].w = w;
	t->listen[t->n_listen].kind = kind;
	t->listen[t->n_listen].l = sl_tcp_listen(t->st, ip, port, &listen_ops, &t->listen[t->n_listen], &err);
	if (!t->listen[t->n_listen].l)
		return err ? err : -ENOSPC;
	t->listen[t->n_listen].ip = ip;
	t->listen[t->n_listen].port = port;
	t->listen[t->n_listen].kind = kind;
	t->n_listen++;
	return 0;
}

/* Listeners for virtual services are created on the first SYN, so a
 * configuration change never has to touch the workers' stacks: L4 VSs on
 * their TCP services, DNS VSs over TCP on their UDP port. */
static void ensure_vs_listener(struct sl_worker *w, uint32_t dst, uint16_t port_h)
{
	const struct sl_gen_vs *vs = w->gen ? sl_gen_lookup(w->gen, dst, IPPROTO_TCP, port_h) : NULL;

	if (vs && vs->enabled && vs->app_type == SL_APP_L4) {
		listen_on(w, dst, port_h, TAPP_PROXY);
		return;
	}
	vs = w->gen ? sl_gen_lookup(w->gen, dst, IPPROTO_UDP, port_h) : NULL;
	if (vs && vs->enabled && vs->app_type == SL_APP_DNS)
		listen_on(w, dst, port_h, TAPP_DNS);
}

void sl_tcp_rx(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m, struct sl_pkt *p, bool owned)
{
	struct sl_tcp_worker *t = w->tcp;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *tcp = f + p->l4_off;
	struct sl_tcp_seg_in seg;
	uint32_t hlen;
	bool hdr_ok;

	if (p->l4_len < 20) {
		w->st.drop[SL_DROP_TCP_TRUNCATED]++;
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(&p->sport, tcp, 2);
	memcpy(&p->dport, tcp + 2, 2);
	if (!owned && sl_eng.n_workers > 1) {
		unsigned owner = sl_flow_owner(sl_flow_hash(p->ip_src, p->ip_dst, p->sport, p->dport,
							    IPPROTO_TCP), sl_eng.n_workers);

		if (owner != w->id) {
			sl_handoff(w, owner, pidx, m);
			return;
		}
	}
	/* a device that verified the checksum says so; UNKNOWN (or no
	 * offload) means we sum it ourselves. A bad checksum is counted as
	 * such even when the data offset is bad too. */
	hlen = (uint32_t)(tcp[12] >> 4) * 4;
	hdr_ok = hlen >= 20 && hlen <= p->l4_len;
	if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
		w->st.rx_csum_offloaded++;
		sl_psum_clear(m);
	} else if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
		goto bad_csum;
	} else if (!hdr_ok) {
		if (sl_l4_csum(p->ip_src, p->ip_dst, IPPROTO_TCP, tcp, p->l4_len))
			goto bad_csum;
	} else {
		/* header and payload apart (hlen is even, so the sums add up):
		 * the payload's sum is kept for sending it on */
		uint64_t hs = sl_csum_add(tcp, hlen, sl_pseudo_sum(p->ip_src, p->ip_dst, IPPROTO_TCP, p->l4_len));
		uint16_t ps = sl_csum_fold(sl_csum_add(tcp + hlen, p->l4_len - hlen, 0));

		if (sl_csum_fold(hs + ps) != 0xffff)
			goto bad_csum;
		sl_psum_set(m, ps, p->l4_off + hlen, p->l4_len - hlen);
	}
	if (!hdr_ok) {
		w->st.drop[SL_DROP_TCP_TRUNCATED]++;
		rte_pktmbuf_free(m);
		return;
	}
	if ((tcp[13] & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN)
		ensure_vs_listener(w, p->ip_dst, rte_be_to_cpu_16(p->dport));
	seg.saddr = p->ip_src;
	seg.daddr = p->ip_dst;
	seg.tcp = tcp;
	seg.tcp_len = p->l4_len;
	seg.payload = (struct sl_buf *)m;
	seg.payload_off = p->l4_off + hlen;
	seg.payload_len = p->l4_len - hlen;
	if (sl_tcp_input(t->st, &seg, sl_now_us()))
		w->st.drop[SL_DROP_TCP_MALFORMED]++;
	w->st.tcp_segs_in++;
	/* the stack took references to whatever payload it keeps */
	rte_pktmbuf_free(m);
	return;
bad_csum:
	w->st.drop[SL_DROP_TCP_BAD_CSUM]++;
	rte_pktmbuf_free(m);
}

void sl_tcp_worker_batch(struct sl_worker *w, bool begin)
{
	if (begin)
		sl_tcp_batch_begin(w->tcp->st);
	else
		sl_tcp_batch_end(w->tcp->st);
}

void sl_tcp_worker_tick(struct sl_worker *w, uint64_t now)
{
	struct sl_tcp_worker *t = w->tcp;
	unsigned avail = rte_mempool_avail_count(w->pool);

	/* Memory pressure with hysteresis: under 1/8 of the pool free, TCP data
	 * is dropped (ACKs still taken) until 1/4 is free again, so queued data
	 * can never take the last buffers the receive rings need for the ACKs
	 * that free it (sl_tcp_set_mem_pressure). Checked once a millisecond:
	 * the count walks every lcore's cache. */
	if (!t->mem_pressure && avail < w->pool->size / 8) {
		t->mem_pressure = true;
		t->mem_pressure_events++;
		sl_tcp_set_mem_pressure(t->st, true);
	} else if (t->mem_pressure && avail > w->pool->size / 4) {
		t->mem_pressure = false;
		sl_tcp_set_mem_pressure(t->st, false);
	}
	sl_tcp_tick(t->st, now);
	if (now < t->next_idle_scan)
		return;
	t->next_idle_scan = now + 1000000;
	proxy_scan(w, now);
	for (struct tapp *a = t->dns_list, *next; a; a = next) {
		next = a->next_dns;
		if (now - a->last_us > DNS_TCP_IDLE_US) {
			t->idle_closed++;
			app_close(a);
		}
	}
}

static void *tcp_alloc(void *arg, size_t size, size_t align)
{
	(void)arg;
	return rte_zmalloc("sl_tcp", size, align < RTE_CACHE_LINE_SIZE ? RTE_CACHE_LINE_SIZE : align);
}

static void tcp_free(void *arg, void *p)
{
	(void)arg;
	rte_free(p);
}

int sl_tcp_worker_init(struct sl_worker *w)
{
	const struct sl_startup *su = &sl_eng.su;
	uint32_t n = su->tcp_max_conns, n_echo = RTE_MIN(n, 1024u), n_dns = RTE_MIN(n, 4096u);
	struct sl_tcp_conf conf;
	struct sl_tcp_worker *t;
	uint16_t mtu = 1500;

	for (unsigned i = 0; i < sizeof(source_pattern); i++)
		source_pattern[i] = (uint8_t)i;
	t = rte_zmalloc("sl_tcp_worker", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (!t)
		return -ENOMEM;
	w->tcp = t;
	for (unsigned i = 0; i < sl_eng.n_ports; i++)
		mtu = RTE_MIN(mtu, sl_eng.ports[i].conf.mtu);
	sl_tcp_conf_defaults(&conf);
	conf.max_conns = n;
	conf.max_tw = n;
	conf.mtu = mtu;
	conf.syncookie_threshold = su->tcp_syncookie_threshold;
	/* 1024 send-queue entries per connection (the proxy's 1 MiB send
	 * buffer); a block of them is 16 KiB, held only while data is queued,
	 * so the pool is capped: 8192 connections of a worker sending at once */
	conf.sndq_max = 1024;
	conf.rcvbuf_max = PROXY_RCVBUF;
	conf.sndq_blocks = n / 4 < 64 ? 64 : n / 4 > 8192 ? 8192 : n / 4;
	conf.max_listeners = MAX_LISTEN;
	if (su->tcp_data_retries)
		conf.data_retries = (uint8_t)su->tcp_data_retries;
	if (su->tcp_rto_max_ms)
		conf.rto_max_ms = su->tcp_rto_max_ms;
	/* RFC 6528 ISNs and SYN cookies need a secret an attacker cannot guess;
	 * the engine's persisted one (main.c) and a seed that only depends on the
	 * worker make a restart continue the last run's ISN and timestamp clocks */
	memcpy(conf.secret, sl_eng.tcp_secret, sizeof(conf.secret));
	if (!memcmp(conf.secret, (const uint8_t[32]){ 0 }, sizeof(conf.secret)) &&
	    getrandom(conf.secret, sizeof(conf.secret), 0) != (ssize_t)sizeof(conf.secret))
		return -EIO;
	conf.seed = 0x736c75696365ull ^ ((uint64_t)w->id << 56);
	conf.clock_base_us = sl_eng.boot_base_us;
	conf.buf_ops = &mbuf_ops;
	conf.tx = tcp_tx;
	conf.tx_arg = w;
	conf.port_ok = tcp_port_ok;
	conf.port_ok_arg = w;
	conf.alloc = tcp_alloc;
	conf.free = tcp_free;
	t->st = sl_tcp_stack_create(&conf, sl_now_us());
	t->conn_mem = sl_tcp_conn_mem(&conf);
	t->block_mem = sl_tcp_block_mem(&conf);
	t->apps = rte_zmalloc("sl_tapp", sizeof(*t->apps) * n, RTE_CACHE_LINE_SIZE);
	t->echos = rte_zmalloc("sl_techo", sizeof(*t->echos) * n_echo, RTE_CACHE_LINE_SIZE);
	t->dnss = rte_zmalloc("sl_tdns", sizeof(*t->dnss) * n_dns, RTE_CACHE_LINE_SIZE);
	/* per server slot and per VS: ordinary memory, the hugepages are for packets */
	t->srv_rt = calloc(SL_MAX_HEALTH, sizeof(*t->srv_rt));
	t->srv_live = calloc(SL_MAX_HEALTH, 1);
	t->srv = calloc(SL_MAX_HEALTH, sizeof(*t->srv));
	t->vs = calloc(SL_MAX_VS, sizeof(*t->vs));
	t->live_gen = UINT64_MAX;
	/* workers are set up one after the other on the main lcore */
	if (!open_srv)
		open_srv = calloc(SL_MAX_HEALTH, sizeof(*open_srv));
	if (!open_vs)
		open_vs = calloc(SL_MAX_VS, sizeof(*open_vs));
	if (!out_g)
		out_g = calloc(SL_MAX_HEALTH, sizeof(*out_g));
	if (!fails_g)
		fails_g = calloc(SL_MAX_HEALTH, sizeof(*fails_g));
	if (!t->st || !t->apps || !t->echos || !t->dnss || !t->srv_rt || !out_g || !fails_g ||
	    !t->srv_live || !t->srv || !t->vs || !open_srv || !open_vs)
		return -ENOMEM;
	for (uint32_t i = n; i-- > 0;) {
		t->apps[i].next_free = t->free_apps;
		t->free_apps = &t->apps[i];
	}
	for (uint32_t i = n_echo; i-- > 0;) {
		t->echos[i].next_free = t->free_echo;
		t->free_echo = &t->echos[i];
	}
	for (uint32_t i = n_dns; i-- > 0;) {
		t->dnss[i].next_free = t->free_dns;
		t->free_dns = &t->dnss[i];
	}
	if ((su->tcp_echo_port && listen_on(w, 0, su->tcp_echo_port, TAPP_ECHO)) ||
	    (su->tcp_sink_port && listen_on(w, 0, su->tcp_sink_port, TAPP_SINK)) ||
	    (su->tcp_source_port && listen_on(w, 0, su->tcp_source_port, TAPP_SOURCE)))
		return -ENOSPC;
	return 0;
}

/* Connections of one worker for the operator (telemetry thread: a racy
 * snapshot read, fine for a look, never written). At most max lines. */
unsigned sl_tcp_worker_conns(const struct sl_worker *w, void (*fn)(void *, const char *), void *arg,
			     unsigned max)
{
	static const char *kinds[] = { "none", "echo", "sink", "source", "dns", "proxy" };
	const struct sl_tcp_worker *t = w->tcp;
	unsigned n = 0;

	for (uint32_t i = 0; i < sl_eng.su.tcp_max_conns && n < max; i++) {
		const struct tapp *a = &t->apps[i];
		struct sl_tcp_conn_info ci;
		uint32_t lip, rip;
		uint16_t lport, rport;
		char line[256], l[16], r[16];

		if (a->kind == TAPP_NONE || !a->c)
			continue;
		sl_tcp_conn_tuple(a->c, &lip, &lport, &rip, &rport);
		sl_tcp_conn_info(a->c, &ci);
		inet_ntop(AF_INET, &lip, l, sizeof(l));
		inet_ntop(AF_INET, &rip, r, sizeof(r));
		snprintf(line, sizeof(line),
			 "%s:%u-%s:%u %s %s%s q=%u%s%s%s snd_wnd=%u rcv_wnd=%u cwnd=%u rto_us=%u space=%u",
			 l, lport, r, rport, sl_tcp_state_name(sl_tcp_conn_state(a->c)), kinds[a->kind],
			 a->kind == TAPP_PROXY ? (a->is_server ? "/server" : "/client") : "",
			 a->echo && (a->kind == TAPP_PROXY || a->kind == TAPP_ECHO) ? a->echo->n : 0,
			 a->peer_closed ? " peer_closed" : "", a->shut_sent ? " shut_sent" : "",
			 a->kind == TAPP_PROXY && !a->connected ? " connecting" : "", ci.snd_wnd, ci.rcv_wnd,
			 ci.cwnd, ci.rto_us, sl_tcp_send_space(a->c));
		fn(arg, line);
		n++;
	}
	return n;
}

void sl_tcp_worker_stats(const struct sl_worker *w, struct sl_tcp_engine_stats *out)
{
	const struct sl_tcp_worker *t = w->tcp;
	const struct sl_tcp_counters *c = sl_tcp_counters(t->st);

	out->c = *c;
	out->active = sl_tcp_active_conns(t->st);
	out->time_wait = sl_tcp_tw_count(t->st);
	out->no_ctx = t->no_ctx;
	out->dns_tcp_queries = t->dns_tcp_queries;
	out->dns_tcp_dropped = t->dns_tcp_dropped;
	out->echo_overflow = t->echo_overflow;
	out->idle_closed = t->idle_closed;
	out->mem_pressure = t->mem_pressure;
	out->mem_pressure_events = t->mem_pressure_events;
	out->mem_per_conn = t->conn_mem + sizeof(struct tapp);
	out->mem_blocks = t->block_mem;
	out->proxy_accepted = t->proxy_accepted;
	out->proxy_connect_fail = t->proxy_connect_fail;
	out->proxy_no_server = t->proxy_no_server;
	out->proxy_bytes_c2s = t->proxy_bytes_c2s;
	out->proxy_bytes_s2c = t->proxy_bytes_s2c;
}

/* The worker's stack, for other consumers on the same worker (health probes). */
struct sl_tcp_stack *sl_tcp_worker_stack(struct sl_worker *w)
{
	return w->tcp->st;
}

void sl_proxy_vs_stats(uint32_t vs_slot, struct sl_proxy_vs_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < sl_eng.n_workers && vs_slot < SL_MAX_VS; i++) {
		const uint64_t *src = (const uint64_t *)&sl_eng.w[i]->tcp->vs[vs_slot];
		uint64_t *dst = (uint64_t *)out;

		/* all uint64_t: summed word by word */
		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
}

void sl_proxy_srv_stats(uint32_t slot, struct sl_proxy_srv_stats *out)
{
	uint64_t rt = 0;
	uint32_t n_rt = 0;

	memset(out, 0, sizeof(*out));
	if (slot < SL_MAX_HEALTH && open_srv)
		out->cur = __atomic_load_n(&open_srv[slot], __ATOMIC_RELAXED);
	/* out of the picks: of every worker's */
	if (slot < SL_MAX_HEALTH && out_g && __atomic_load_n(&out_g[slot], __ATOMIC_RELAXED))
		out->out_workers = sl_eng.n_workers;
	for (unsigned i = 0; i < sl_eng.n_workers && slot < SL_MAX_HEALTH; i++) {
		const struct sl_tcp_worker *t = sl_eng.w[i]->tcp;
		const struct srv_ctr *s = &t->srv[slot];

		out->total += s->total;
		out->bytes_in += s->bytes_in;
		out->bytes_out += s->bytes_out;
		out->connect_fail += s->connect_fail;
		out->passive_out += s->passive_out;
		if (t->srv_rt[slot].us) {
			rt += t->srv_rt[slot].us;
			n_rt++;
		}
	}
	out->connect_us = n_rt ? (uint32_t)(rt / n_rt) : 0;
}
