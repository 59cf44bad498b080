/* Health probes on the workers (fast path: no heap, no locks, no logs).
 *
 * Control hands a worker struct sl_hm_probe pointers through an SP/SC ring (main lcore -> worker);
 * the worker runs them through its own stack and returns the same pointers on a second ring, which
 * the main lcore drains from sl_ctl_poll. Probe state lives in a fixed per-worker table reserved at
 * start-up. TCP and HTTP probes are connections of the application layer (dataplane/app/probe,
 * sl_probe.h: an sl_app_connect active open, the status line read by the strict HTTP parser), so
 * they share its machinery (input queue, transform slot for a later HTTPS monitor); this table
 * keeps their deadlines. Replies come back to the worker that asked:
 *   TCP   the stack picks a source port whose return tuple hashes to this worker;
 *   UDP   (DNS) the same rule for a port of SL_HM_UDP_LO.., so the UDP demux's flow handoff delivers
 *         the answer here;
 *   ICMP  echo replies are not flow-hashed: the identifier carries the worker id and the receiving
 *         worker hands the reply over (sl_hm_icmp_owner). */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <netinet/in.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "engine.h"
#include "health.h"
#include "l2.h"
#include "stack.h"
#include "sl_hm.h"
#include "sl_net.h"
#include "sl_probe.h"
#include "sl_tcp.h"

#define HM_SLOTS 1024               /* probes in flight per worker (control keeps below this) */
#define HM_RING 1024
#define HM_ICMP_ID_TAG 0xa500u      /* identifier = tag | worker id */
#define HM_UDP_PORTS 4096           /* SL_HM_UDP_LO .. +4095 */
#define HM_TICK_US 5000             /* timeouts are checked this often */

struct hslot {
	struct sl_hm_probe *p;
	struct sl_app_conn *c;           /* TCP, HTTP: the probe's connection (sl_probe.h) */
	struct hm_worker *hw;
	uint64_t start_us, deadline_us;
	uint16_t seq, uport;
};

struct hm_worker {
	struct sl_worker *w;
	struct hslot s[HM_SLOTS];
	uint16_t free[HM_SLOTS];
	unsigned nfree, nactive;
	uint16_t seq;                    /* ICMP sequence: slot index + a generation in the high bits */
	uint16_t ucursor;
	uint16_t uport_slot[HM_UDP_PORTS];   /* port - SL_HM_UDP_LO -> slot + 1 */
	uint64_t next_scan_us;
	uint64_t started, finished, busy, lost_results;
};

static struct rte_ring *hm_req[SL_MAX_WORKERS], *hm_res[SL_MAX_WORKERS];
static struct hm_worker *hmw[SL_MAX_WORKERS];

int sl_hm_engine_init(unsigned n_workers)
{
	for (unsigned i = 0; i < n_workers; i++) {
		char name[32];

		snprintf(name, sizeof(name), "sl_hmq_%u", i);
		hm_req[i] = rte_ring_create(name, HM_RING, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "sl_hmr_%u", i);
		hm_res[i] = rte_ring_create(name, HM_RING, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		hmw[i] = rte_zmalloc("sl_hm", sizeof(*hmw[i]), RTE_CACHE_LINE_SIZE);
		if (!hm_req[i] || !hm_res[i] || !hmw[i])
			return -ENOMEM;
		hmw[i]->w = sl_eng.w[i];
		for (unsigned k = 0; k < HM_SLOTS; k++) {
			hmw[i]->free[k] = (uint16_t)(HM_SLOTS - 1 - k);
			hmw[i]->s[k].hw = hmw[i];
		}
		hmw[i]->nfree = HM_SLOTS;
	}
	return 0;
}

/* ---- main lcore side (control hooks) */
int sl_hm_submit(void *arg, unsigned worker, struct sl_hm_probe *p)
{
	(void)arg;
	if (worker >= sl_eng.n_workers || !hm_req[worker])
		return -EINVAL;
	return rte_ring_sp_enqueue(hm_req[worker], p) ? -ENOBUFS : 0;
}

unsigned sl_hm_collect(void *arg, struct sl_hm_probe **out, unsigned max)
{
	unsigned n = 0;

	(void)arg;
	for (unsigned i = 0; i < sl_eng.n_workers && n < max; i++)
		if (hm_res[i])
			n += rte_ring_sc_dequeue_burst(hm_res[i], (void **)out + n, max - n, NULL);
	return n;
}

/* ---- worker side */
static void finish(struct hslot *s, uint8_t outcome)
{
	struct hm_worker *hw = s->hw;
	struct sl_hm_probe *p = s->p;
	uint16_t idx = (uint16_t)(s - hw->s);

	s->c = NULL;   /* the probe application closed it before its verdict */
	if (s->uport)
		hw->uport_slot[s->uport - SL_HM_UDP_LO] = 0;
	p->outcome = outcome;
	p->rtt_us = (uint32_t)(sl_now_us() - s->start_us);
	if (rte_ring_sp_enqueue(hm_res[hw->w->id], p))
		hw->lost_results++;   /* control caps probes in flight below the ring size */
	s->p = NULL;
	s->uport = 0;
	hw->free[hw->nfree++] = idx;
	hw->nactive--;
	hw->finished++;
}

static void resp_add(struct sl_hm_probe *p, const uint8_t *d, uint32_t len)
{
	uint32_t room = SL_HM_RESP_MAX - p->resp_len;

	if (len > room)
		len = room;
	memcpy(p->resp + p->resp_len, d, len);
	p->resp_len = (uint16_t)(p->resp_len + len);
}

static void probe_done(void *arg, uint8_t outcome)
{
	finish(arg, outcome);
}

/* Ethernet + IPv4 + 8 bytes of L4 header + payload, for port pidx to dst; the L4 header and payload
 * are the caller's. Built as UDP (the net library's builder), turned into ICMP by the caller. */
static struct rte_mbuf *frame(struct sl_worker *w, int pidx, uint32_t dst, uint16_t sport, uint16_t dport,
			      const uint8_t *payload, uint32_t plen, uint8_t **l4)
{
	static const uint8_t zero[6];
	const struct sl_port *port = &sl_eng.ports[pidx];
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	uint32_t poff = sl_udp_payload_off(port->conf.vlan), len;
	uint8_t *f;

	if (!m)
		return NULL;
	if (poff + plen > rte_pktmbuf_tailroom(m)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	f = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(f + poff, payload, plen);
	len = sl_ipv4_udp_build(f, port->mac.addr_bytes, zero, port->conf.vlan, port->conf.ip, dst,
				rte_cpu_to_be_16(sport), rte_cpu_to_be_16(dport), plen, true);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	*l4 = f + sl_l2_hlen(port->conf.vlan) + SL_IPV4_HLEN;
	return m;
}

static uint8_t start_ping(struct hm_worker *hw, struct hslot *s, uint16_t idx)
{
	struct sl_worker *w = hw->w;
	uint32_t nh;
	int pidx = sl_route(s->p->ip, &nh);
	uint8_t payload[16] = "sluice-health", *icmp;
	struct rte_mbuf *m;
	uint8_t *ip;
	uint16_t id = (uint16_t)(HM_ICMP_ID_TAG | w->id);

	if (pidx < 0)
		return SL_HM_NO_ROUTE;
	m = frame(w, pidx, s->p->ip, 0, 0, payload, sizeof(payload), &icmp);
	if (!m)
		return SL_HM_BUSY;
	/* slot in the low bits, a rolling generation above, so a late reply to an earlier probe in
	   the same slot does not count */
	hw->seq = (uint16_t)(hw->seq + HM_SLOTS);
	s->seq = (uint16_t)(hw->seq | idx);
	ip = icmp - SL_IPV4_HLEN;
	ip[9] = IPPROTO_ICMP;
	ip[10] = ip[11] = 0;
	{
		uint16_t cs = sl_ipv4_hdr_csum(ip);

		memcpy(ip + 10, &cs, 2);
	}
	icmp[0] = SL_ICMP_ECHO_REQUEST;
	icmp[1] = 0;
	icmp[2] = icmp[3] = 0;
	icmp[4] = (uint8_t)(id >> 8);
	icmp[5] = (uint8_t)id;
	icmp[6] = (uint8_t)(s->seq >> 8);
	icmp[7] = (uint8_t)s->seq;
	{
		uint16_t cs = sl_inet_csum(icmp, SL_ICMP_HLEN + sizeof(payload));

		memcpy(icmp + 2, &cs, 2);
	}
	sl_l2_output(w, m, pidx, nh);
	return 0;
}

static uint8_t start_dns(struct hm_worker *hw, struct hslot *s, uint16_t idx)
{
	struct sl_worker *w = hw->w;
	uint32_t nh;
	int pidx = sl_route(s->p->ip, &nh);
	uint8_t *l4;
	struct rte_mbuf *m;
	uint16_t port = 0;

	if (pidx < 0)
		return SL_HM_NO_ROUTE;
	/* a free port whose reply tuple belongs to this worker */
	for (unsigned k = 0; k < HM_UDP_PORTS; k++) {
		uint16_t i = (uint16_t)((hw->ucursor + k) % HM_UDP_PORTS), cand = (uint16_t)(SL_HM_UDP_LO + i);

		if (hw->uport_slot[i])
			continue;
		if (sl_eng.n_workers > 1 &&
		    sl_flow_owner(sl_flow_hash(s->p->ip, sl_eng.ports[pidx].conf.ip, rte_cpu_to_be_16(s->p->port),
					       rte_cpu_to_be_16(cand), IPPROTO_UDP), sl_eng.n_workers) != w->id)
			continue;
		port = cand;
		hw->ucursor = (uint16_t)((i + 1) % HM_UDP_PORTS);
		break;
	}
	if (!port)
		return SL_HM_BUSY;
	m = frame(w, pidx, s->p->ip, port, s->p->port, s->p->req, s->p->req_len, &l4);
	if (!m)
		return SL_HM_BUSY;
	s->uport = port;
	hw->uport_slot[port - SL_HM_UDP_LO] = (uint16_t)(idx + 1);
	sl_l2_output(w, m, pidx, nh);
	return 0;
}

static uint8_t start_tcp(struct hm_worker *hw, struct hslot *s)
{
	struct sl_app_worker *aw = sl_tcp_worker_app(hw->w);
	struct sl_hm_probe *p = s->p;
	struct sl_app_conn *c;
	uint8_t rc = SL_HM_BUSY;

	if (!aw)
		return SL_HM_BUSY;
	c = sl_probe_start(aw, p, probe_done, s, &rc);
	if (!c)
		return rc;
	/* the probe may have ended already (then the slot is free again) */
	if (s->p == p)
		s->c = c;
	return 0;
}

static void start(struct hm_worker *hw, struct sl_hm_probe *p, uint64_t now)
{
	struct hslot *s;
	uint16_t idx;
	uint8_t rc;

	if (!hw->nfree) {
		/* cannot happen while control respects its cap; answer rather than lose the probe */
		p->outcome = SL_HM_BUSY;
		hw->busy++;
		if (rte_ring_sp_enqueue(hm_res[hw->w->id], p))
			hw->lost_results++;
		return;
	}
	idx = hw->free[--hw->nfree];
	s = &hw->s[idx];
	s->p = p;
	s->c = NULL;
	s->uport = 0;
	s->start_us = now;
	s->deadline_us = now + (uint64_t)p->timeout_ms * 1000;
	p->resp_len = 0;
	p->status = 0;
	hw->nactive++;
	hw->started++;
	switch (p->kind) {
	case SL_HM_PING:
		rc = start_ping(hw, s, idx);
		break;
	case SL_HM_DNS:
		rc = start_dns(hw, s, idx);
		break;
	case SL_HM_TCP:
	case SL_HM_HTTP:
		rc = start_tcp(hw, s);
		break;
	default:
		rc = SL_HM_BUSY;
	}
	if (rc && s->p == p)
		finish(s, rc);
}

void sl_hm_worker_tick(struct sl_worker *w, uint64_t now)
{
	struct hm_worker *hw = hmw[w->id];
	struct sl_hm_probe *ps[32];
	unsigned n;

	if (!hw)
		return;
	n = rte_ring_sc_dequeue_burst(hm_req[w->id], (void **)ps, RTE_DIM(ps), NULL);
	for (unsigned i = 0; i < n; i++)
		start(hw, ps[i], now);
	if (!hw->nactive || now < hw->next_scan_us)
		return;
	hw->next_scan_us = now + HM_TICK_US;
	for (unsigned i = 0; i < HM_SLOTS && hw->nactive; i++) {
		struct hslot *s = &hw->s[i];

		if (s->p && now >= s->deadline_us) {
			if (s->c) {
				struct sl_app_conn *c = s->c;

				s->c = NULL;
				sl_probe_cancel(c);
			}
			finish(s, SL_HM_TIMEOUT);
		}
	}
}

int sl_hm_icmp_owner(const uint8_t *icmp)
{
	uint16_t id = (uint16_t)(icmp[4] << 8 | icmp[5]);

	if ((id & 0xff00) != HM_ICMP_ID_TAG || (id & 0xff) >= sl_eng.n_workers)
		return -1;
	return id & 0xff;
}

bool sl_hm_icmp_reply(struct sl_worker *w, uint32_t src, const uint8_t *icmp)
{
	struct hm_worker *hw = hmw[w->id];
	uint16_t seq = (uint16_t)(icmp[6] << 8 | icmp[7]);
	struct hslot *s;

	if (!hw || sl_hm_icmp_owner(icmp) != (int)w->id)
		return false;
	s = &hw->s[seq % HM_SLOTS];
	if (!s->p || s->p->kind != SL_HM_PING || s->seq != seq || s->p->ip != src)
		return false;
	finish(s, SL_HM_DONE);
	return true;
}

bool sl_hm_udp_reply(struct sl_worker *w, uint32_t src, uint16_t sport_h, uint16_t dport_h, const uint8_t *payload,
		     uint32_t len)
{
	struct hm_worker *hw = hmw[w->id];
	struct hslot *s;
	uint16_t v;

	if (!hw || dport_h < SL_HM_UDP_LO)   /* the range runs to 65535 */
		return false;
	v = hw->uport_slot[dport_h - SL_HM_UDP_LO];
	if (!v)
		return false;
	s = &hw->s[v - 1];
	/* the answer must come from the server we asked and carry our query id */
	if (!s->p || s->p->ip != src || s->p->port != sport_h || len < 2 || memcmp(payload, s->p->req, 2))
		return false;
	resp_add(s->p, payload, len);
	finish(s, SL_HM_DONE);
	return true;
}

void sl_hm_worker_stats(unsigned worker, uint64_t *started, uint64_t *finished, uint64_t *active)
{
	const struct hm_worker *hw = worker < SL_MAX_WORKERS ? hmw[worker] : NULL;

	*started = hw ? hw->started : 0;
	*finished = hw ? hw->finished : 0;
	*active = hw ? hw->nactive : 0;
}
