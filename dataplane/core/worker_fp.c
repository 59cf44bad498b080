/* Worker lcore: the per-packet path. Run to completion per burst:
 *   rx (+impair) -> eth -> ARP | IPv4 -> ICMP | UDP -> app -> route/ARP -> tx (+impair)
 * Nothing here allocates from the heap, locks, logs or makes a syscall,
 * except the idle back-off sleep, which only runs when there is no work. */
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "engine.h"
#include "health.h"
#include "l2.h"
#include "stack.h"
#include "worker.h"
#include "sl_gen.h"
#include "sl_dns.h"

#define DROP(w, r) ((w)->st.drop[(r)]++)

static void udp_probe(struct sl_worker *w)
{
	static const char msg[] = "sluice udp-probe\n";
	static const uint8_t zero[6];
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	uint32_t nh, len;
	uint8_t *f;
	int pidx = sl_route(sl_eng.su.udp_probe_ip, &nh);

	if (!m)
		return;
	if (pidx < 0) {
		DROP(w, SL_DROP_ARP_UNRESOLVED);
		rte_pktmbuf_free(m);
		return;
	}
	f = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(f + sl_udp_payload_off(sl_eng.ports[pidx].conf.vlan), msg, sizeof(msg) - 1);
	len = sl_ipv4_udp_build(f, sl_eng.ports[pidx].mac.addr_bytes, zero,
				sl_eng.ports[pidx].conf.vlan, sl_eng.ports[pidx].conf.ip,
				sl_eng.su.udp_probe_ip, rte_cpu_to_be_16(7),
				rte_cpu_to_be_16(sl_eng.su.udp_probe_port), sizeof(msg) - 1, true);
	m->data_len = m->pkt_len = len;
	w->st.udp_probes_sent++;
	sl_l2_output(w, m, pidx, nh);
}

/* ---- addresses we own */
static inline int local_port_of(uint32_t ip)
{
	for (unsigned i = 0; i < sl_eng.n_ports; i++)
		if (sl_eng.ports[i].conf.ip == ip)
			return (int)i;
	return -1;
}

static inline bool is_vip(const struct sl_worker *w, uint32_t ip)
{
	return w->gen && sl_gen_is_vip(w->gen, ip);
}

static void garp(struct sl_worker *w, unsigned pidx, uint32_t ip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	sl_arp_send(w, pidx, 1, ip, NULL, bcast, ip);
	w->st.garp_sent++;
}

/* Remembers a VIP as announced; false if it already was. A full table
 * stops remembering, so VIPs beyond it are announced on every change:
 * chatty, but never silent. */
static bool vip_first_seen(struct sl_worker *w, uint32_t ip)
{
	uint32_t h = (rte_be_to_cpu_32(ip) * 2654435761u) & (SL_VIP_SEEN - 1);

	for (unsigned i = 0; i < 32; i++) {
		uint32_t *e = &w->vip_seen[(h + i) & (SL_VIP_SEEN - 1)];

		if (*e == ip)
			return false;
		if (!*e) {
			*e = ip;
			return true;
		}
	}
	return true;
}

/* Gratuitous ARP: interface addresses at start, and each VIP the first
 * time a generation carries it, so neighbours learn it without the cost
 * of re-announcing thousands of VIPs on every configuration change. */
void sl_worker_garp(struct sl_worker *w, bool ports_too)
{
	const uint32_t *vips = NULL;
	size_t n = w->gen ? sl_gen_vips(w->gen, &vips) : 0;

	for (unsigned i = 0; i < sl_eng.n_ports; i++)
		if (ports_too)
			garp(w, i, sl_eng.ports[i].conf.ip);
	for (size_t k = 0; k < n; k++) {
		if (!vip_first_seen(w, vips[k]))
			continue;
		for (unsigned i = 0; i < sl_eng.n_ports; i++)
			if (sl_eng.ports[i].conf.role & SL_ROLE_FRONTEND)
				garp(w, i, vips[k]);
	}
}

/* ---- input */
static void handle_arp(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m,
		       const struct sl_pkt *p, bool learn_only)
{
	const struct sl_port *port = &sl_eng.ports[pidx];
	bool for_us = p->tpa == port->conf.ip ||
		      ((port->conf.role & SL_ROLE_FRONTEND) && is_vip(w, p->tpa));

	/* RFC 826: update an existing entry from any ARP; create one only
	 * when the packet is for us. */
	sl_arp_learn(w, pidx, p->spa, p->sha, for_us && p->spa);
	if (learn_only) {
		rte_pktmbuf_free(m);
		return;
	}
	if (sl_eng.n_workers > 1 && p->spa) {
		/* every worker keeps its own cache: tell the others */
		for (unsigned d = 0; d < sl_eng.n_workers; d++) {
			if (d == w->id)
				continue;
			rte_mbuf_refcnt_update(m, 1);
			m->hash.usr = SL_HO_ARP_LEARN;
			m->port = (uint16_t)pidx;
			if (rte_ring_sp_enqueue(sl_eng.ho[w->id][d], m)) {
				rte_mbuf_refcnt_update(m, -1);
				DROP(w, SL_DROP_HANDOFF_FULL);
			} else {
				w->st.handoff_out++;
			}
		}
	}
	if (!for_us) {
		DROP(w, SL_DROP_ARP_NOT_FOR_US);
		rte_pktmbuf_free(m);
		return;
	}
	if (p->arp_op == rte_cpu_to_be_16(1) && p->spa != p->tpa) {
		sl_arp_send(w, pidx, 2, p->spa, p->sha, p->sha, p->tpa);
		w->st.arp_replied++;
	}
	rte_pktmbuf_free(m);
}


/* The reply's payload (plen bytes) is already at the request's payload
 * offset; the net library turns the request headers around. */
static void udp_reply(struct sl_worker *w, struct rte_mbuf *m, const struct sl_pkt *p,
		      uint16_t plen)
{
	unsigned pidx = m->port;
	uint32_t len = sl_udp_reply_inplace(rte_pktmbuf_mtod(m, uint8_t *), p,
					    sl_eng.ports[pidx].mac.addr_bytes, plen, true);

	m->data_len = m->pkt_len = len;
	sl_tx_pkt(w, pidx, m);
}

static void handle_dns(struct sl_worker *w, struct rte_mbuf *m, const struct sl_pkt *p,
		       const struct sl_gen_vs *vs)
{
	uint64_t t0 = rte_rdtsc();
	uint8_t q[1500];
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t qlen = (uint32_t)p->l4_len - 8;
	struct sl_dns_qlog ql;
	size_t cap, rlen;
	uint16_t mtu = sl_eng.ports[m->port].conf.mtu;

	w->st.dns_queries++;
	if (qlen > sizeof(q)) {
		w->st.dns_dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	/* the answer is written where the query was, so keep a copy to read */
	memcpy(q, f + p->l4_off + 8, qlen);
	/* no IP fragmentation: an answer must fit the port MTU */
	cap = RTE_MIN((size_t)rte_pktmbuf_tailroom(m) + rte_pktmbuf_data_len(m) - p->l4_off - 8,
		      (size_t)mtu - 28);
	rlen = sl_dns_answer(vs->app, w->id, q, qlen, sl_udp_payload(f, p), cap, p->ip_src,
			     false, &ql);
	sl_dns_account(w, vs, &ql, rlen);
	if (vs->log_queries)
		sl_qlog_push(w, vs, p->ip_src, rte_be_to_cpu_16(p->sport), false, &ql, t0);
	if (!rlen) {
		w->st.dns_dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	w->st.dns_answered++;
	udp_reply(w, m, p, (uint16_t)rlen);
}

static void handle_udp(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m, struct sl_pkt *p,
		       bool owned)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct sl_gen_vs *vs;
	enum sl_drop r = sl_udp_parse(f + p->l4_off, p->l4_len, p);

	if (r) {
		DROP(w, r);
		rte_pktmbuf_free(m);
		return;
	}
	if (!owned && sl_eng.n_workers > 1) {
		unsigned owner = sl_flow_owner(sl_flow_hash(p->ip_src, p->ip_dst, p->sport, p->dport,
							    IPPROTO_UDP), sl_eng.n_workers);

		if (owner != w->id) {
			sl_handoff(w, owner, pidx, m);
			return;
		}
	}
	m->port = (uint16_t)pidx;
	if (unlikely(rte_be_to_cpu_16(p->dport) >= SL_HM_UDP_LO) && local_port_of(p->ip_dst) >= 0 &&
	    sl_hm_udp_reply(w, p->ip_src, rte_be_to_cpu_16(p->sport), rte_be_to_cpu_16(p->dport),
			    f + p->l4_off + 8, p->l4_len - 8)) {
		rte_pktmbuf_free(m);
		return;
	}
	vs = w->gen ? sl_gen_lookup(w->gen, p->ip_dst, IPPROTO_UDP, rte_be_to_cpu_16(p->dport)) : NULL;
	if (vs && vs->enabled && vs->app_type == SL_APP_DNS && vs->app) {
		handle_dns(w, m, p, vs);
		return;
	}
	if (sl_eng.su.udp_echo_port && p->dport == rte_cpu_to_be_16(sl_eng.su.udp_echo_port) &&
	    local_port_of(p->ip_dst) >= 0) {
		uint16_t plen = (uint16_t)(p->l4_len - 8);

		w->st.udp_echo_replied++;
		udp_reply(w, m, p, plen);
		return;
	}
	DROP(w, SL_DROP_UDP_NO_LISTENER);
	rte_pktmbuf_free(m);
}

static void handle_icmp(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m, struct sl_pkt *p)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	enum sl_drop r = sl_icmp_parse(f + p->l4_off, p->l4_len, p);

	if (r == SL_DROP_ICMP_UNHANDLED && p->icmp_type == SL_ICMP_ECHO_REPLY && p->icmp_code == 0) {
		/* an answer to a health probe: its identifier names the worker that waits for it */
		int owner = sl_hm_icmp_owner(f + p->l4_off);

		if (owner >= 0 && (unsigned)owner != w->id) {
			sl_handoff(w, (unsigned)owner, pidx, m);
			return;
		}
		if (owner >= 0 && sl_hm_icmp_reply(w, p->ip_src, f + p->l4_off)) {
			rte_pktmbuf_free(m);
			return;
		}
	}
	if (r) {
		DROP(w, r);
		rte_pktmbuf_free(m);
		return;
	}
	/* back to the sender's MAC on the ingress port, see reply_out() */
	m->data_len = m->pkt_len = sl_icmp_echo_reply_inplace(f, p, sl_eng.ports[pidx].mac.addr_bytes);
	w->st.icmp_echo_replied++;
	sl_tx_pkt(w, pidx, m);
}

static void rx_one(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m, bool owned)
{
	const struct sl_port *port = &sl_eng.ports[pidx];
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	struct sl_pkt p;
	enum sl_drop r;

	if (unlikely(m->nb_segs != 1)) {
		/* jumbo chains are not expected below the MTU we configure */
		r = SL_DROP_IP_BAD_TOTAL_LEN;
		goto drop;
	}
	r = sl_eth_parse(f, len, &p);
	if (r)
		goto drop;
	if ((rte_be_to_cpu_16(p.vlan_tci) & 0xfff) != port->conf.vlan) {
		r = SL_DROP_ETH_BAD_VLAN;
		goto drop;
	}
	if (p.ethertype == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		r = sl_arp_parse(f + p.l3_off, len - p.l3_off, &p);
		if (r)
			goto drop;
		handle_arp(w, pidx, m, &p, false);
		return;
	}
	r = sl_ipv4_parse(f + p.l3_off, len - p.l3_off, &p);
	if (r)
		goto drop;
	if (local_port_of(p.ip_dst) < 0 && !is_vip(w, p.ip_dst)) {
		r = SL_DROP_IP_NOT_FOR_US;
		goto drop;
	}
	switch (p.ip_proto) {
	case IPPROTO_ICMP:
		handle_icmp(w, pidx, m, &p);
		return;
	case IPPROTO_UDP:
		handle_udp(w, pidx, m, &p, owned);
		return;
	case IPPROTO_TCP:
		sl_tcp_rx(w, pidx, m, &p, owned);
		return;
	default:
		r = SL_DROP_L4_UNHANDLED;
		goto drop;
	}
drop:
	DROP(w, r);
	rte_pktmbuf_free(m);
}

static void rx_emit(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m)
{
	rx_one(w, pidx, m, false);
}

/* The whole next frame, not just its headers: TCP payload is summed on
 * arrival, and a frame the kernel wrote on another CPU is cold here. */
static inline void prefetch_frame(const struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);

	for (uint32_t o = 0; o < m->data_len; o += RTE_CACHE_LINE_SIZE)
		rte_prefetch0(d + o);
}

static unsigned poll_ports(struct sl_worker *w)
{
	struct rte_mbuf *b[SL_BURST];
	unsigned total = 0;

	for (unsigned pidx = 0; pidx < sl_eng.n_ports; pidx++) {
		const struct sl_port *p = &sl_eng.ports[pidx];
		bool imp = p->conf.impair[SL_DIR_RX].on;

		for (uint16_t q = 0; q < p->n_rxq; q++) {
			uint16_t n;

			if (!w->has_rxq[pidx][q])
				continue;
			uint64_t t0 = rte_rdtsc();

			n = rte_eth_rx_burst(p->port_id, q, b, SL_BURST);
			w->iter_io += rte_rdtsc() - t0;
			total += n;
			w->st.rx_pkts += n;
			for (uint16_t i = 0; i < n; i++) {
				struct rte_mbuf *m = b[i];

				if (i + 1 < n)
					prefetch_frame(b[i + 1]);
				w->st.rx_bytes += rte_pktmbuf_pkt_len(m);
				if (unlikely(imp)) {
					m = sl_impair(w, pidx, SL_DIR_RX, m, rx_emit);
					if (!m)
						continue;
				}
				rx_one(w, pidx, m, false);
			}
		}
	}
	return total;
}

static unsigned poll_handoff(struct sl_worker *w)
{
	struct rte_mbuf *b[SL_BURST];
	unsigned total = 0;

	for (unsigned s = 0; s < sl_eng.n_workers; s++) {
		unsigned n;

		if (s == w->id)
			continue;
		n = rte_ring_sc_dequeue_burst(sl_eng.ho[s][w->id], (void **)b, SL_BURST, NULL);
		total += n;
		w->st.handoff_in += n;
		for (unsigned i = 0; i < n; i++) {
			struct rte_mbuf *m = b[i];
			unsigned pidx = m->port;

			switch (m->hash.usr) {
			case SL_HO_TX:
				sl_tx_raw(w, pidx, m);
				break;
			case SL_HO_ARP_LEARN: {
				struct sl_pkt p;
				const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);

				if (!sl_eth_parse(f, rte_pktmbuf_data_len(m), &p) &&
				    !sl_arp_parse(f + p.l3_off, rte_pktmbuf_data_len(m) - p.l3_off, &p))
					handle_arp(w, pidx, m, &p, true);
				else
					rte_pktmbuf_free(m);
				break;
			}
			default:
				rx_one(w, pidx, m, true);
				break;
			}
		}
	}
	return total;
}

static void delay_release(struct sl_worker *w, uint64_t now)
{
	unsigned j = 0;

	for (unsigned i = 0; i < w->delay_n; i++) {
		struct sl_delayed *d = &w->delayq[i];

		if (d->due_us > now) {
			w->delayq[j++] = *d;
			continue;
		}
		if (d->dir == SL_DIR_TX)
			sl_tx_raw(w, d->port, d->m);
		else
			rx_one(w, d->port, d->m, false);
	}
	w->delay_n = j;
}

/* A held packet with nothing behind it to overtake it leaves on its own
 * after SL_REORDER_HOLD_US, so the last packet of a burst is not lost. */
static void reorder_release(struct sl_worker *w, uint64_t now)
{
	for (unsigned p = 0; p < sl_eng.n_ports; p++)
		for (unsigned d = 0; d < 2; d++) {
			struct sl_impair_state *s = &w->imp[p][d];
			struct rte_mbuf *m = s->held;

			if (!m || now - s->held_us < SL_REORDER_HOLD_US)
				continue;
			s->held = NULL;
			if (d == SL_DIR_TX)
				sl_tx_raw(w, p, m);
			else
				rx_one(w, p, m, false);
		}
}

static void idle_backoff(struct sl_worker *w, unsigned work)
{
	if (work) {
		w->idle_polls = 0;
		w->sleep_us = 1;
		return;
	}
	if (!sl_eng.su.idle_backoff || ++w->idle_polls < 512)
		return;
	if (w->idle_polls < 4096) {
		rte_pause();
		return;
	}
	/* Quiet for a while: give the CPU back, a little longer each time, so
	 * an idle engine on a shared VM costs almost nothing. Latency of the
	 * first packet after a pause is bounded by idle_max_sleep_us. */
	rte_rcu_qsbr_thread_offline(sl_eng.qs, w->id);
	usleep(w->sleep_us);
	rte_rcu_qsbr_thread_online(sl_eng.qs, w->id);
	w->st.idle_sleeps++;
	w->sleep_us = RTE_MIN(w->sleep_us * 2, sl_eng.su.idle_max_sleep_us);
}

int sl_worker_main(void *arg)
{
	struct sl_worker *w = arg;
	const void *last_gen = NULL;
	bool first = true;
	uint64_t next_timer = 0, next_probe = 0, last_tsc = rte_rdtsc();
	unsigned work = 0;

	rte_rcu_qsbr_thread_register(sl_eng.qs, w->id);
	rte_rcu_qsbr_thread_online(sl_eng.qs, w->id);
	while (!sl_eng.stop) {
		uint64_t now, tsc = rte_rdtsc();

		/* the iteration that just ended, its back-off included, is charged
		 * by whether it found packets; the clock reuses the same TSC read */
		if (work) {
			w->st.cycles_busy += tsc - last_tsc;
			w->st.cycles_io += w->iter_io;
			w->st.loops_busy++;
		} else {
			w->st.cycles_idle += tsc - last_tsc;
		}
		last_tsc = tsc;
		w->iter_io = 0;
		w->now_us = sl_tsc_us(tsc);
		w->gen = __atomic_load_n(&sl_eng.gen, __ATOMIC_ACQUIRE);
		if (w->id == 0 && (first || w->gen != last_gen)) {
			last_gen = w->gen;
			sl_worker_garp(w, first);
			first = false;
		}
		sl_tcp_worker_batch(w, true);
		work = poll_ports(w);
		work += poll_handoff(w);
		sl_tcp_worker_batch(w, false);
		now = sl_now_us();
		if (unlikely(w->delay_n))
			delay_release(w, now);
		if (unlikely(now >= next_timer)) {
			if (w->pending_n)
				sl_arp_timer(w, now);
			reorder_release(w, now);
			sl_tcp_worker_tick(w, now);
			sl_hm_worker_tick(w, now);
			next_timer = now + 1000;
			if (w->id == 0 && sl_eng.su.udp_probe_port && now >= next_probe) {
				udp_probe(w);
				next_probe = now + 1000000;
			}
		}
		for (unsigned p = 0; p < sl_eng.n_ports; p++)
			sl_tx_flush(w, p);
		w->st.loops++;
		w->gen = NULL;
		rte_rcu_qsbr_quiescent(sl_eng.qs, w->id);
		idle_backoff(w, work);
	}
	rte_rcu_qsbr_thread_offline(sl_eng.qs, w->id);
	rte_rcu_qsbr_thread_unregister(sl_eng.qs, w->id);
	return 0;
}
