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

#include "sl_clock.h"
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
	/* TSC cycles of loop iterations that found work and of those that did
	 * not (idle back-off included), and the busy iterations: busy cycles
	 * over packets or operations is the cost of each, as VPP's clocks per
	 * vector; busy / (busy + idle) is the worker's load */
	uint64_t cycles_busy, cycles_idle, loops_busy;
	/* of the busy cycles, those inside the PMD's rx/tx burst calls: with
	 * AF_XDP on veth they carry the syscalls and the kernel's own delivery
	 * work, which a NIC's PMD does not have; busy - io is the engine's own
	 * cost (VPP's per-node clocks, two nodes' worth) */
	uint64_t cycles_io;
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
	uint64_t iter_io;             /* cycles in rx/tx bursts this loop iteration */
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
	struct sl_tcp_worker *tcp;          /* the stack and the application layer, stack_fp.c */
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
	uint64_t start_tsc;          /* engine clock 0; "test clock-offset-cycles" moves it back */
	struct sl_tsc_scale tsc_us, tsc_ns;
	/* wall clock and CLOCK_BOOTTIME (the TCP clock base) minus the engine
	 * clock at start-up, so base + sl_now_us() is that clock whatever the
	 * start offset (modulo 2^64: the sums are all that is used) */
	uint64_t wall_base_us;
	uint64_t boot_base_us;
	/* TCP ISN/cookie/timestamp secret, kept in the state dir so ISNs and
	 * timestamps continue across restarts (docs/tcp.md); all zero = none */
	uint8_t tcp_secret[32];
};

extern struct sl_engine sl_eng;

/* the engine clock in microseconds at TSC value tsc */
static inline uint64_t sl_tsc_us(uint64_t tsc)
{
	return sl_tsc_to(&sl_eng.tsc_us, tsc - sl_eng.start_tsc);
}

static inline uint64_t sl_now_us(void)
{
	return sl_tsc_us(rte_rdtsc());
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

/* port.c */
int sl_ports_init(struct sl_engine *e, char *err, size_t errlen);
void sl_ports_stop(struct sl_engine *e);

/* stats.c */
void sl_stats_sum(const struct sl_engine *e, int worker, struct sl_wstats *out);
int sl_telemetry_init(void);
void sl_stats_visit(const struct sl_wstats *s, void (*fn)(void *, const char *, uint64_t), void *arg);

#endif
