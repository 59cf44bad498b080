/* The worker's output path: transmit queues with the seeded impairment on
 * them, the ARP cache and its pending queue, routing to a port, and the
 * hand-off of packets to the worker that owns their flow. The lowest layer
 * of dataplane/core: everything above (the receive path, the TCP glue,
 * health probes) sends through it; it calls none of them.
 *
 * Per-packet code: no heap allocation, locks, logging or syscalls. */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "engine.h"
#include "l2.h"

#define DROP(w, r) ((w)->st.drop[(r)]++)

/* ---- random numbers for impairment: xorshift64*, seeded per port/dir/worker */
static inline uint64_t rng_next(struct sl_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static inline bool chance(struct sl_rng *r, double p)
{
	return p > 0 && (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0) < p;
}

/* ---- transmit */
void sl_tx_flush(struct sl_worker *w, unsigned pidx)
{
	struct sl_txq_state *t = &w->tx[pidx];
	const struct sl_port *p = &sl_eng.ports[pidx];
	unsigned sent;

	if (!t->n)
		return;
	if (w->id < p->n_txq) {
		uint64_t t0 = rte_rdtsc();

		sent = rte_eth_tx_burst(p->port_id, (uint16_t)w->id, t->buf, t->n);
		w->iter_io += rte_rdtsc() - t0;
	} else {
		/* More workers than TX queues (AF_XDP on veth has one): the owner
		 * of queue (id % n_txq) sends for us. */
		unsigned owner = w->id % p->n_txq;

		for (unsigned i = 0; i < t->n; i++) {
			t->buf[i]->hash.usr = SL_HO_TX;
			t->buf[i]->port = (uint16_t)pidx;
		}
		sent = rte_ring_sp_enqueue_burst(sl_eng.ho[w->id][owner], (void **)t->buf, t->n, NULL);
		w->st.handoff_out += sent;
	}
	for (unsigned i = 0; i < sent; i++)
		w->st.tx_bytes += rte_pktmbuf_pkt_len(t->buf[i]);
	w->st.tx_pkts += sent;
	if (sent < t->n) {
		w->st.drop[SL_DROP_TX_FULL] += t->n - sent;
		rte_pktmbuf_free_bulk(&t->buf[sent], t->n - sent);
	}
	t->n = 0;
}

void sl_tx_raw(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m)
{
	struct sl_txq_state *t = &w->tx[pidx];

	if (t->n == SL_TXBUF)
		sl_tx_flush(w, pidx);
	t->buf[t->n++] = m;
}

static void delay_push(struct sl_worker *w, struct rte_mbuf *m, unsigned pidx, unsigned dir,
		       uint32_t us)
{
	if (w->delay_n == SL_DELAY_SLOTS) {
		DROP(w, SL_DROP_IMPAIR);
		rte_pktmbuf_free(m);
		return;
	}
	w->delayq[w->delay_n++] = (struct sl_delayed){ m, sl_now_us() + us, (uint8_t)pidx, (uint8_t)dir };
	w->st.impair_delay++;
}

/* Applies the port's seeded impairment. Returns the packet to pass on now,
 * or NULL when it was dropped, delayed or held back for reordering. A
 * duplicate or a released reordered packet goes out through emit(). */
struct rte_mbuf *sl_impair(struct sl_worker *w, unsigned pidx, unsigned dir,
			       struct rte_mbuf *m,
			       void (*emit)(struct sl_worker *, unsigned, struct rte_mbuf *))
{
	const struct sl_impair_conf *c = &sl_eng.ports[pidx].conf.impair[dir];
	struct sl_impair_state *s = &w->imp[pidx][dir];

	if (chance(&s->rng, c->drop)) {
		DROP(w, SL_DROP_IMPAIR);
		rte_pktmbuf_free(m);
		return NULL;
	}
	if (chance(&s->rng, c->dup)) {
		struct rte_mbuf *d = rte_pktmbuf_copy(m, w->pool, 0, UINT32_MAX);

		if (d) {
			w->st.impair_dup++;
			emit(w, pidx, d);
		}
	}
	if (chance(&s->rng, c->delay)) {
		delay_push(w, m, pidx, dir, c->delay_us);
		return NULL;
	}
	if (!s->held && chance(&s->rng, c->reorder)) {
		s->held = m;
		s->held_us = sl_now_us();
		w->st.impair_reorder++;
		return NULL;
	}
	if (s->held) {
		/* the held packet leaves right after the one that overtook it */
		struct rte_mbuf *h = s->held;

		s->held = NULL;
		emit(w, pidx, m);
		return h;
	}
	return m;
}

static void tx_emit(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m)
{
	sl_tx_raw(w, pidx, m);
}

void sl_tx_pkt(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m)
{
	if (unlikely(sl_eng.ports[pidx].conf.impair[SL_DIR_TX].on)) {
		m = sl_impair(w, pidx, SL_DIR_TX, m, tx_emit);
		if (!m)
			return;
	}
	sl_tx_raw(w, pidx, m);
}

/* ---- ARP cache, per worker */
static inline unsigned arp_slot(uint32_t ip)
{
	return (rte_be_to_cpu_32(ip) * 2654435761u) >> (32 - 8);
}

static struct sl_arp_entry *arp_find(struct sl_worker *w, uint32_t ip, bool create)
{
	unsigned h = arp_slot(ip);
	struct sl_arp_entry *oldest = NULL;

	for (unsigned i = 0; i < 8; i++) {
		struct sl_arp_entry *e = &w->arp[(h + i) & (SL_ARP_SLOTS - 1)];

		if (e->ip == ip)
			return e;
		if (!e->ip) {
			if (!create)
				return NULL;
			e->ip = ip;
			return e;
		}
		if (!oldest || e->expire_us < oldest->expire_us)
			oldest = e;
	}
	if (!create)
		return NULL;
	/* a full probe window evicts the entry closest to expiry */
	memset(oldest, 0, sizeof(*oldest));
	oldest->ip = ip;
	return oldest;
}

static void eth_fill(struct rte_mbuf *m, const struct sl_port *p, const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rte_ether_addr_copy(dst, &eh->dst_addr);
	rte_ether_addr_copy(&p->mac, &eh->src_addr);
}

void sl_arp_send(struct sl_worker *w, unsigned pidx, uint16_t op, uint32_t tpa,
		     const uint8_t *tha, const uint8_t *eth_dst, uint32_t spa)
{
	const struct sl_port *p = &sl_eng.ports[pidx];
	static const uint8_t zero[6];
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	uint32_t len;

	if (!m) {
		DROP(w, SL_DROP_TX_FULL);
		return;
	}
	len = sl_arp_build(rte_pktmbuf_mtod(m, uint8_t *), op, p->mac.addr_bytes, spa,
			   tha ? tha : zero, tpa, eth_dst, p->conf.vlan);
	m->data_len = m->pkt_len = len;
	sl_tx_pkt(w, pidx, m);
}

static void pending_flush(struct sl_worker *w, uint32_t ip)
{
	unsigned j = 0;

	for (unsigned i = 0; i < w->pending_n; i++) {
		struct sl_pending *pd = &w->pending[i];

		if (pd->nh == ip) {
			struct sl_arp_entry *e = arp_find(w, ip, false);

			eth_fill(pd->m, &sl_eng.ports[pd->port], &e->mac);
			sl_tx_pkt(w, pd->port, pd->m);
		} else {
			w->pending[j++] = *pd;
		}
	}
	w->pending_n = j;
}

void sl_arp_learn(struct sl_worker *w, unsigned pidx, uint32_t ip, const uint8_t *mac,
		      bool create)
{
	struct sl_arp_entry *e = arp_find(w, ip, create);

	if (!e)
		return;
	e->port = (uint8_t)pidx;
	memcpy(e->mac.addr_bytes, mac, 6);
	e->expire_us = sl_now_us() + sl_eng.su.arp_ttl_s * 1000000ull;
	e->tries = 0;
	if (!e->valid) {
		e->valid = true;
		w->st.arp_learned++;
		pending_flush(w, ip);
	}
}

/* Which port and next hop reach dst: the connected subnet first, then the
 * first port with a gateway. Returns port index or -1. */
static int route(uint32_t dst, uint32_t *nh)
{
	for (unsigned i = 0; i < sl_eng.n_ports; i++) {
		const struct sl_port *p = &sl_eng.ports[i];

		if ((dst & p->mask) == (p->conf.ip & p->mask)) {
			*nh = dst;
			return (int)i;
		}
	}
	for (unsigned i = 0; i < sl_eng.n_ports; i++)
		if (sl_eng.ports[i].conf.gw) {
			*nh = sl_eng.ports[i].conf.gw;
			return (int)i;
		}
	return -1;
}

int sl_route(uint32_t dst, uint32_t *nh)
{
	return route(dst, nh);
}

static unsigned pending_for(const struct sl_worker *w, uint32_t nh)
{
	unsigned n = 0;

	for (unsigned i = 0; i < w->pending_n; i++)
		n += w->pending[i].nh == nh;
	return n;
}

/* An entry past its lifetime is still used while it is re-confirmed by
 * unicast requests to the MAC we have, one per retry interval (Linux's
 * STALE/PROBE). Any ARP from the neighbour renews it; after SL_ARP_TRIES
 * unanswered requests it is invalid and the next packet asks by broadcast,
 * so a neighbour that changed its MAC without telling is found again.
 * Returns whether the entry may still be used. */
static bool arp_stale(struct sl_worker *w, struct sl_arp_entry *e, uint64_t now)
{
	if (e->tries >= SL_ARP_TRIES) {
		e->valid = false;
		e->tries = 0;
		w->st.arp_expired++;
		return false;
	}
	e->tries++;
	e->expire_us = now + SL_ARP_RETRY_US;
	sl_arp_send(w, e->port, 1, e->ip, e->mac.addr_bytes, e->mac.addr_bytes, sl_eng.ports[e->port].conf.ip);
	w->st.arp_requests_sent++;
	return true;
}

/* m holds a full frame for port pidx whose Ethernet destination is still
 * to be filled: the next hop's MAC from the ARP cache, or a wait in the
 * pending queue while it is resolved. */
void sl_l2_output(struct sl_worker *w, struct rte_mbuf *m, int pidx, uint32_t nh)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct sl_arp_entry *e;

	if (pidx < 0) {
		DROP(w, SL_DROP_ARP_UNRESOLVED);
		rte_pktmbuf_free(m);
		return;
	}
	e = arp_find(w, nh, true);
	if (likely(e->valid) && (likely(w->now_us < e->expire_us) || arp_stale(w, e, w->now_us))) {
		eth_fill(m, &sl_eng.ports[pidx], &e->mac);
		sl_tx_pkt(w, (unsigned)pidx, m);
		return;
	}
	/* Resolve first, queue second: a full queue must not stop us from
	 * asking, or one unresolvable neighbour (a spoofed SYN flood's source)
	 * would starve every other one. */
	if (!e->tries) {
		e->port = (uint8_t)pidx;
		e->tries = 1;
		e->expire_us = sl_now_us() + SL_ARP_RETRY_US;
		sl_arp_send(w, (unsigned)pidx, 1, nh, NULL, bcast, sl_eng.ports[pidx].conf.ip);
		w->st.arp_requests_sent++;
	}
	if (w->pending_n == SL_ARP_PENDING || pending_for(w, nh) >= SL_ARP_PENDING_PER_NH) {
		DROP(w, SL_DROP_ARP_PENDING_FULL);
		rte_pktmbuf_free(m);
		return;
	}
	w->pending[w->pending_n++] = (struct sl_pending){ m, nh, (uint8_t)pidx, sl_now_us() };
}

/* Retries unanswered requests and drops what waited too long. */
void sl_arp_timer(struct sl_worker *w, uint64_t now)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	unsigned j = 0;

	for (unsigned i = 0; i < w->pending_n; i++) {
		struct sl_pending *pd = &w->pending[i];
		struct sl_arp_entry *e = arp_find(w, pd->nh, false);

		if (!e || (!e->valid && e->tries >= SL_ARP_TRIES && now >= e->expire_us)) {
			DROP(w, SL_DROP_ARP_UNRESOLVED);
			rte_pktmbuf_free(pd->m);
			/* keep the slot's address: zeroing it would cut the probe
			 * chain of entries placed after it; the next miss asks again */
			if (e)
				e->tries = 0;
			continue;
		}
		if (!e->valid && now >= e->expire_us) {
			e->tries++;
			e->expire_us = now + SL_ARP_RETRY_US;
			sl_arp_send(w, pd->port, 1, pd->nh, NULL, bcast, sl_eng.ports[pd->port].conf.ip);
			w->st.arp_requests_sent++;
		}
		w->pending[j++] = *pd;
	}
	w->pending_n = j;
}

/* Replies go back out the port their request came in on, to the MAC it
 * came from (the net builders swap the addresses), like an LB's "auto
 * gateway": no route or ARP lookup per packet, and correct when the client
 * sits behind a router we have no route to. Traffic the engine originates
 * uses sl_route() + sl_l2_output() and the ARP cache. */

/* Test hook (start-up "test udp-probe IP PORT"): an engine-originated
 * datagram, so route, ARP request, pending queue and resolution are
 * exercised against a real neighbour before TCP brings real users. */

void sl_handoff(struct sl_worker *w, unsigned owner, unsigned pidx, struct rte_mbuf *m)
{
	m->hash.usr = SL_HO_PROCESS;
	m->port = (uint16_t)pidx;
	if (unlikely(rte_ring_sp_enqueue(sl_eng.ho[w->id][owner], m))) {
		DROP(w, SL_DROP_HANDOFF_FULL);
		rte_pktmbuf_free(m);
		return;
	}
	w->st.handoff_out++;
}
