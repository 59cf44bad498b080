/* The glue between the packet path and the TCP stack (dataplane/tcp): the
 * stack's buffers are mbufs, its output goes out through L2, its input
 * comes from the worker's receive path; above it, the application layer
 * (dataplane/app) serves what the current generation says. No listener per
 * VIP:port: the stack's one wildcard listener asks the application layer
 * per SYN (sl_app_serves), so every configured service is reachable at
 * once and a removed one refuses new connections.
 *
 * Per-packet code: no heap allocation, no locks, no logging. A received
 * segment's mbuf is lent to the stack, which takes references to what it
 * keeps. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "alog.h"
#include "engine.h"
#include "l2.h"
#include "sl_app.h"
#include "sl_gen.h"
#include "sl_l4.h"
#include "sl_tcp.h"
#include "stack.h"

/* the L4 proxy's receive window (sizes the window scale we offer) */
#define PROXY_RCVBUF (1u << 20)

struct sl_tcp_worker {
	struct sl_tcp_stack *st;
	struct sl_app_worker *aw;
	struct sl_tcp_listener *wild;
	bool mem_pressure, mem_tight;
	uint64_t mem_pressure_events, mem_tight_events;
	size_t conn_mem, block_mem;
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
	if (begin) {
		sl_tcp_batch_begin(w->tcp->st);
	} else {
		/* what applications deferred goes out in this batch */
		sl_app_run_deferred(w->tcp->aw);
		sl_tcp_batch_end(w->tcp->st);
	}
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
	/* The tight level first, under 5/8 free until 3/4 is again: buffers
	 * per connection shrink to SL_TCP_TIGHT_BUF, so clients that do not
	 * read cannot take the pool from those that do. */
	if (!t->mem_tight && avail < w->pool->size / 8 * 5) {
		t->mem_tight = true;
		t->mem_tight_events++;
		sl_tcp_set_mem_tight(t->st, true);
	} else if (t->mem_tight && avail > w->pool->size / 4 * 3) {
		t->mem_tight = false;
		sl_tcp_set_mem_tight(t->st, false);
	}
	if (!t->mem_pressure && avail < w->pool->size / 8) {
		t->mem_pressure = true;
		t->mem_pressure_events++;
		sl_tcp_set_mem_pressure(t->st, true);
	} else if (t->mem_pressure && avail > w->pool->size / 4) {
		t->mem_pressure = false;
		sl_tcp_set_mem_pressure(t->st, false);
	}
	sl_tcp_tick(t->st, now);
	sl_app_tick(t->aw, now);
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

/* ---- the application layer's environment */
static uint32_t app_src_for(void *arg, uint32_t dst)
{
	uint32_t nh;
	int pidx = sl_route(dst, &nh);

	(void)arg;
	return pidx < 0 ? 0 : sl_eng.ports[pidx].conf.ip;
}

static void app_dns_done(void *arg, const struct sl_gen_vs *vs, const struct sl_dns_qlog *ql, size_t rlen,
			 uint32_t client, uint16_t cport, uint64_t t0)
{
	struct sl_worker *w = arg;

	sl_dns_account(w, vs, ql, rlen);
	if (vs->log_queries)
		sl_qlog_push(w, vs, client, cport, true, ql, t0);
}

int sl_tcp_worker_init(struct sl_worker *w)
{
	const struct sl_startup *su = &sl_eng.su;
	uint32_t n = su->tcp_max_conns, ips[SL_MAX_PORTS];
	struct sl_tcp_conf conf;
	struct sl_tcp_worker *t;
	struct sl_app_env env;
	struct sl_app_conf ac;
	uint16_t mtu = 1500;
	int err = 0;

	t = rte_zmalloc("sl_tcp_worker", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (!t)
		return -ENOMEM;
	w->tcp = t;
	for (unsigned i = 0; i < sl_eng.n_ports; i++) {
		mtu = RTE_MIN(mtu, sl_eng.ports[i].conf.mtu);
		ips[i] = sl_eng.ports[i].conf.ip;
	}
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
	/* the wildcard listener only: services come from the generation */
	conf.max_listeners = 4;
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
	if (!t->st)
		return -ENOMEM;
	t->conn_mem = sl_tcp_conn_mem(&conf);
	t->block_mem = sl_tcp_block_mem(&conf);

	env = (struct sl_app_env){
		.worker_id = w->id, .n_workers = sl_eng.n_workers, .pool = w->pool, .st = t->st,
		.now_us = &w->now_us, .gen = (const void *const *)&w->gen, .src_for = app_src_for,
		.dns_done = app_dns_done, .http_log = sl_alog_push, .arg = w,
	};
	ac = (struct sl_app_conf){
		.max_conns = n, .echo_port = su->tcp_echo_port, .sink_port = su->tcp_sink_port,
		.source_port = su->tcp_source_port, .local_ips = ips, .n_local_ips = sl_eng.n_ports,
	};
	t->aw = sl_app_worker_create(&env, &ac);
	if (!t->aw)
		return -ENOMEM;
	/* set after create: the stack must not ask the layer before it exists */
	sl_tcp_set_serves(t->st, sl_app_serves, t->aw);
	t->wild = sl_tcp_listen(t->st, 0, 0, &sl_app_listen_ops, t->aw, &err);
	return t->wild ? 0 : err;
}

/* Connections of one worker for the operator: a snapshot the worker takes
 * itself (sl_app_conns_dump), never a read of live contexts. */
unsigned sl_tcp_worker_conns(const struct sl_worker *w, void (*fn)(void *, const char *), void *arg,
			     unsigned max)
{
	int n = sl_app_conns_dump(w->tcp->aw, fn, arg, max, 1000);

	return n < 0 ? 0 : (unsigned)n;
}

void sl_tcp_worker_stats(const struct sl_worker *w, struct sl_tcp_engine_stats *out)
{
	const struct sl_tcp_worker *t = w->tcp;
	struct sl_app_stats as;
	struct sl_proxy_stats ps;

	sl_app_worker_stats(t->aw, &as);
	sl_proxy_worker_stats(w->id, &ps);
	out->c = *sl_tcp_counters(t->st);
	out->active = sl_tcp_active_conns(t->st);
	out->time_wait = sl_tcp_tw_count(t->st);
	out->no_ctx = as.no_ctx;
	out->dns_tcp_queries = as.dns_tcp_queries;
	out->dns_tcp_dropped = as.dns_tcp_dropped;
	out->echo_overflow = as.in_no_block;
	out->idle_closed = as.idle_closed;
	out->app_conns = as.conns;
	out->app_no_pin = as.no_pin;
	out->app_in_coalesced = as.in_coalesced;
	out->app_in_blocks_used = as.in_blocks_used;
	out->app_pinned_gens = as.pinned_gens;
	out->mem_pressure = t->mem_pressure;
	out->mem_pressure_events = t->mem_pressure_events;
	out->mem_tight = t->mem_tight;
	out->mem_tight_events = t->mem_tight_events;
	out->mem_per_conn = t->conn_mem + sl_app_conn_mem();
	out->mem_blocks = t->block_mem;
	out->proxy_accepted = ps.accepted;
	out->proxy_connect_fail = ps.connect_fail;
	out->proxy_no_server = ps.no_server;
	out->proxy_bytes_c2s = ps.bytes_c2s;
	out->proxy_bytes_s2c = ps.bytes_s2c;
}

/* The worker's stack, for other consumers on the same worker (health probes). */
struct sl_tcp_stack *sl_tcp_worker_stack(struct sl_worker *w)
{
	return w->tcp->st;
}

/* The worker's application layer, for probes that open connections on it. */
struct sl_app_worker *sl_tcp_worker_app(struct sl_worker *w)
{
	return w->tcp ? w->tcp->aw : NULL;
}

bool sl_tcp_worker_pins(const struct sl_worker *w, const void *gen)
{
	return w->tcp && w->tcp->aw && sl_app_gen_pinned(w->tcp->aw, gen);
}
