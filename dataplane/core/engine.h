/* Engine internals shared by the files of dataplane/core. Not a public
 * header: other components talk to the engine through the control hooks. */
#ifndef SL_ENGINE_H
#define SL_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_rcu_qsbr.h>

#include "sl_dns.h"
#include "sl_net.h"
#include "sl_startup.h"
#include "qlog.h"

#define SL_MAX_WORKERS 16
#define SL_BURST 32
#define SL_TXBUF 128
#define SL_ARP_SLOTS 256          /* per worker, power of two */
#define SL_ARP_PENDING 64         /* packets waiting on resolution, per worker */
#define SL_ARP_PENDING_PER_NH 4   /* ...of which for one next hop (Linux: unres_qlen) */
#define SL_ARP_RETRY_US (1000000ull)
#define SL_ARP_TRIES 3
#define SL_HANDOFF_RING 1024
#define SL_DELAY_SLOTS 1024
#define SL_REORDER_HOLD_US 1000
#define SL_VIP_SEEN 32768         /* VIPs announced by gratuitous ARP, power of two */

/* What a handed-off mbuf asks its new worker to do. Kept in hash.usr. */
enum sl_ho_kind { SL_HO_PROCESS = 0, SL_HO_ARP_LEARN = 1, SL_HO_TX = 2 };

struct sl_port {
	struct sl_port_conf conf;
	uint16_t port_id;
	uint16_t n_rxq, n_txq;
	struct rte_ether_addr mac;
	uint32_t mask;               /* network order */
	/* checksum offloads the device offers and the port enabled: TX fills
	 * IPv4 and TCP checksums, RX reports TCP checksums it verified */
	bool tx_csum, rx_csum;
	uint16_t rx_ring, tx_ring;   /* descriptors per queue in use */
};

/* Counters of one worker. Plain uint64: only the owner writes, readers sum
 * racy snapshots, which is exact enough for monitoring and costs nothing. */
struct sl_wstats {
	uint64_t rx_pkts, tx_pkts, rx_bytes, tx_bytes;
	uint64_t arp_replied, arp_requests_sent, arp_learned, arp_expired, garp_sent;
	uint64_t icmp_echo_replied, udp_echo_replied, udp_probes_sent, tcp_segs_in;
	uint64_t rx_csum_offloaded, tx_csum_offloaded, tx_csum_reused;
	uint64_t dns_queries, dns_answered, dns_dropped;
	uint64_t handoff_out, handoff_in;
	uint64_t loops, idle_sleeps, impair_dup, impair_reorder, impair_delay;
	uint64_t drop[SL_DROP__MAX];
};

struct sl_arp_entry {
	uint32_t ip;                 /* network order, 0 = empty */
	uint8_t port;
	bool valid;
	uint8_t tries;
	struct rte_ether_addr mac;
	uint64_t expire_us;          /* valid: when to forget; pending: next retry */
};

struct sl_pending {
	struct rte_mbuf *m;
	uint32_t nh;
	uint8_t port;
	uint64_t since_us;
};

struct sl_rng { uint64_t s; };

struct sl_delayed { struct rte_mbuf *m; uint64_t due_us; uint8_t port; uint8_t dir; };

struct sl_impair_state {
	struct sl_rng rng;
	struct rte_mbuf *held;       /* reorder: one packet waits for the next */
	uint64_t held_us;            /* ...or at most SL_REORDER_HOLD_US */
};

struct sl_txq_state {
	uint16_t n;
	struct rte_mbuf *buf[SL_TXBUF];
};

struct sl_worker {
	unsigned id, lcore;
	bool has_rxq[SL_MAX_PORTS][SL_MAX_WORKERS];
	struct sl_txq_state tx[SL_MAX_PORTS];
	struct sl_impair_state imp[SL_MAX_PORTS][2];
	struct sl_delayed delayq[SL_DELAY_SLOTS];
	unsigned delay_n;
	struct sl_arp_entry arp[SL_ARP_SLOTS];
	struct sl_pending pending[SL_ARP_PENDING];
	unsigned pending_n;
	uint64_t now_us;             /* clock at the start of this loop iteration */
	unsigned idle_polls;
	uint32_t sleep_us;
	struct rte_mempool *pool;
	const void *gen;             /* generation seen in this loop iteration */
	struct sl_qlog_worker qlog;
	struct sl_dns_stats *dns_stats;     /* [SL_MAX_VS], by VS slot */
	uint64_t *member_answers;           /* [SL_MAX_HEALTH], by health slot */
	struct sl_tcp_worker *tcp;          /* stack and its consumers, tcp_fp.c */
	uint32_t *vip_seen;                 /* worker 0: [SL_VIP_SEEN] announced VIPs */
	struct sl_wstats st __rte_cache_aligned;
} __rte_cache_aligned;

struct sl_engine {
	struct sl_startup su;
	unsigned n_ports, n_workers;
	struct sl_port ports[SL_MAX_PORTS];
	struct sl_worker *w[SL_MAX_WORKERS];
	/* ring[src][dst]: single producer, single consumer, so no CAS per packet */
	struct rte_ring *ho[SL_MAX_WORKERS][SL_MAX_WORKERS];
	struct rte_mempool *pools[SL_MAX_WORKERS];
	struct rte_rcu_qsbr *qs;
	void *gen;                   /* current struct sl_gen *, RCU-published */
	volatile bool stop;
	uint64_t tsc_hz;
	uint64_t start_tsc;
	uint64_t wall_base_us;       /* wall clock at start_tsc */
	uint64_t boot_base_us;       /* CLOCK_BOOTTIME at start_tsc: TCP clock base */
	/* TCP ISN/cookie/timestamp secret, kept in the state dir so ISNs and
	 * timestamps continue across restarts (docs/tcp.md); all zero = none */
	uint8_t tcp_secret[32];
};

extern struct sl_engine sl_eng;

static inline uint64_t sl_now_us(void)
{
	return (rte_rdtsc() - sl_eng.start_tsc) * 1000000ull / sl_eng.tsc_hz;
}

/* A received TCP segment's payload sum rides in its mbuf (hash.fdir, unused
 * once the segment is past hand-off) so that relaying it (L4 proxy, echo)
 * sums only the new headers: the payload was summed once, when it arrived.
 * lo = folded sum | payload offset << 16, hi = tag | payload length. Every
 * mbuf the engine fills with TCP payload itself clears it (sl_payload_alloc),
 * so a stale tag from an mbuf's earlier life is never read. */
#define SL_PSUM_TAG 0x80000000u

static inline void sl_psum_set(struct rte_mbuf *m, uint16_t sum, uint32_t off, uint32_t len)
{
	m->hash.fdir.lo = sum | off << 16;
	m->hash.fdir.hi = SL_PSUM_TAG | len;
}

static inline void sl_psum_clear(struct rte_mbuf *m)
{
	m->hash.fdir.hi = 0;
}

/* the folded sum of m's bytes [off, off+len) if that is the span it carries */
static inline bool sl_psum_get(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *sum)
{
	if (m->hash.fdir.hi != (SL_PSUM_TAG | len) || m->hash.fdir.lo >> 16 != off)
		return false;
	*sum = (uint16_t)m->hash.fdir.lo;
	return true;
}

static inline struct rte_mbuf *sl_payload_alloc(struct rte_mempool *mp)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

	if (m)
		sl_psum_clear(m);
	return m;
}

/* worker_fp.c */
int sl_worker_main(void *arg);
void sl_worker_garp(struct sl_worker *w, bool ports_too);
int sl_route(uint32_t dst, uint32_t *nh);
void sl_l2_output(struct sl_worker *w, struct rte_mbuf *m, int pidx, uint32_t nh);
void sl_handoff(struct sl_worker *w, unsigned owner, unsigned pidx, struct rte_mbuf *m);
struct sl_gen_vs;
void sl_dns_account(struct sl_worker *w, const struct sl_gen_vs *vs, const struct sl_dns_qlog *ql, size_t rlen);
void sl_qlog_push(struct sl_worker *w, const struct sl_gen_vs *vs, uint32_t client_ip, uint16_t client_port,
		  bool tcp, const struct sl_dns_qlog *ql, uint64_t t0);

/* tcp_fp.c */
#include "sl_tcp.h"
struct sl_tcp_engine_stats {
	struct sl_tcp_counters c;
	uint64_t active, time_wait, no_ctx, dns_tcp_queries, dns_tcp_dropped, echo_overflow,
		idle_closed;
	uint64_t proxy_accepted, proxy_connect_fail, proxy_no_server, proxy_bytes_c2s, proxy_bytes_s2c;
	uint64_t mem_per_conn, mem_blocks;
	uint64_t mem_pressure, mem_pressure_events; /* now (workers in it), times entered */
};
int sl_tcp_worker_init(struct sl_worker *w);
void sl_tcp_rx(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m, struct sl_pkt *p, bool owned);
void sl_tcp_worker_tick(struct sl_worker *w, uint64_t now);
/* around one poll of the ports and hand-off rings: ACKs owed for the
 * received segments go once per connection at the end (sl_tcp_batch_*) */
void sl_tcp_worker_batch(struct sl_worker *w, bool begin);
void sl_tcp_worker_stats(const struct sl_worker *w, struct sl_tcp_engine_stats *out);
unsigned sl_tcp_worker_conns(const struct sl_worker *w, void (*fn)(void *, const char *), void *arg,
			     unsigned max);
/* stats.c: TCP counters by name, summed over workers (worker < 0) or one */
void sl_tcp_stats_visit(const struct sl_engine *e, int worker,
			void (*fn)(void *, const char *, uint64_t), void *arg);

struct sl_tcp_stack *sl_tcp_worker_stack(struct sl_worker *w);
/* L4 proxy counters, summed over workers (racy snapshots, main lcore): per VS by VS slot and per
 * server by health slot. cur = open proxied connections. */
struct sl_proxy_vs_stats {
	uint64_t cur, total, bytes_in, bytes_out, connect_fail, no_server, limit_vs, limit_server,
		idle_closed, drain_reset;
};
struct sl_proxy_srv_stats {
	uint64_t cur, total, bytes_in, bytes_out, connect_fail, passive_out;
	uint32_t out_workers;        /* workers that have it out by passive health now */
	uint32_t connect_us;         /* connect-time EWMA, mean over workers that measured it */
};
void sl_proxy_vs_stats(uint32_t vs_slot, struct sl_proxy_vs_stats *out);
void sl_proxy_srv_stats(uint32_t slot, struct sl_proxy_srv_stats *out);

/* hm_fp.c: health probes (control/sl_hm.h); UDP probes use local ports SL_HM_UDP_LO.. */
#define SL_HM_UDP_LO 61440
struct sl_hm_probe;
int sl_hm_engine_init(unsigned n_workers);
int sl_hm_submit(void *arg, unsigned worker, struct sl_hm_probe *p);          /* main lcore */
unsigned sl_hm_collect(void *arg, struct sl_hm_probe **out, unsigned max);   /* main lcore */
void sl_hm_worker_tick(struct sl_worker *w, uint64_t now);
/* worker that sent the echo request this reply answers, or -1 when not ours */
int sl_hm_icmp_owner(const uint8_t *icmp);
bool sl_hm_icmp_reply(struct sl_worker *w, uint32_t src, const uint8_t *icmp);
bool sl_hm_udp_reply(struct sl_worker *w, uint32_t src, uint16_t sport_h, uint16_t dport_h, const uint8_t *payload,
		     uint32_t len);
void sl_hm_worker_stats(unsigned worker, uint64_t *started, uint64_t *finished, uint64_t *active);

/* port.c */
int sl_ports_init(struct sl_engine *e, char *err, size_t errlen);
void sl_ports_stop(struct sl_engine *e);

/* stats.c */
void sl_stats_sum(const struct sl_engine *e, int worker, struct sl_wstats *out);
int sl_telemetry_init(void);
void sl_stats_visit(const struct sl_wstats *s, void (*fn)(void *, const char *, uint64_t), void *arg);

#endif
