/* sl_tcp.h - user-space TCP stack, one instance per worker (shared-nothing).
 *
 * The stack never touches packet bytes of payload, never allocates after
 * sl_tcp_stack_create(), never locks and never logs. Payload is carried as
 * embedder buffers (struct sl_buf, e.g. rte_mbuf chains) with refcount hooks.
 * Addresses are IPv4 in network byte order; ports are host byte order.
 * Time is passed in by the caller (microseconds, monotonic).
 */
#ifndef SL_TCP_H
#define SL_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- header flags ---- */
#define SL_TCP_FIN 0x01
#define SL_TCP_SYN 0x02
#define SL_TCP_RST 0x04
#define SL_TCP_PSH 0x08
#define SL_TCP_ACK 0x10
#define SL_TCP_URG 0x20

#define SL_TCP_MAX_SACK 4 /* blocks that fit in 40 bytes of options */
#define SL_TCP_MAX_IOV 8  /* payload references per emitted segment */

/* ---- parsed options (also the fuzzed parser) ---- */
struct sl_tcp_opts {
	bool has_mss, has_ws, sack_ok, has_ts;
	uint8_t ws;
	uint8_t n_sack;
	uint16_t mss;
	uint32_t ts_val, ts_ecr;
	struct {
		uint32_t left, right;
	} sack[SL_TCP_MAX_SACK];
};

struct sl_tcp_hdr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t hdr_len; /* data offset in bytes */
	uint8_t flags;
	uint16_t win; /* raw field, unscaled */
	uint16_t urg;
	struct sl_tcp_opts opts;
};

/* Parse a TCP header (with options) of `len` available bytes.
 * Returns 0, or -EINVAL if truncated, data offset < 5 or options malformed. */
int sl_tcp_parse_hdr(const uint8_t *tcp, size_t len, struct sl_tcp_hdr *h);
/* Parse only the option bytes. Unknown options are skipped; malformed -> -EINVAL. */
int sl_tcp_parse_opts(const uint8_t *p, size_t len, struct sl_tcp_opts *o);
/* Build a header with options into out[60]; returns header length (20..60)
 * or -EINVAL if the options do not fit. Checksum is left zero. */
int sl_tcp_build_hdr(const struct sl_tcp_hdr *h, uint8_t out[60]);

/* ---- buffers ---- */
struct sl_buf; /* embedder-defined: rte_mbuf in the engine, heap buffer in tests */
struct sl_buf_ops {
	void (*ref)(void *ctx, struct sl_buf *b);
	void (*unref)(void *ctx, struct sl_buf *b);
	/* bytes of this chain element */
	const uint8_t *(*data)(void *ctx, const struct sl_buf *b, uint32_t *len);
	/* next chain element or NULL */
	struct sl_buf *(*next)(void *ctx, const struct sl_buf *b);
};

/* A payload reference: bytes [off, off+len) of the chain starting at buf. */
struct sl_tcp_iov {
	struct sl_buf *buf;
	uint32_t off, len;
};

/* ---- segments in and out ---- */
struct sl_tcp_seg_in {
	uint32_t saddr, daddr;   /* network order, from the IPv4 header */
	const uint8_t *tcp;      /* TCP header bytes (checksum already verified) */
	uint32_t tcp_len;        /* bytes available at tcp (>= header length) */
	struct sl_buf *payload;  /* may be NULL when payload_len == 0; borrowed */
	uint32_t payload_off, payload_len;
};

#define SL_TCP_CSUM_NEEDED 0x01 /* engine computes or offloads the TCP checksum */

struct sl_tcp_seg_out {
	uint32_t saddr, daddr; /* network order */
	struct sl_tcp_hdr h;   /* fields as written into hdr[] */
	uint8_t hdr[60];       /* complete TCP header, network order, checksum 0 */
	uint8_t hdr_len;
	uint8_t csum_flags;
	uint8_t n_iov;
	uint32_t payload_len;
	/* Borrowed for the duration of the tx call: the embedder takes its own
	 * reference (e.g. attaches indirect mbufs) if it keeps them. */
	struct sl_tcp_iov iov[SL_TCP_MAX_IOV];
};

/* ---- configuration ---- */
struct sl_tcp_stack;
struct sl_tcp_conn;
struct sl_tcp_listener;

struct sl_tcp_conf {
	uint32_t max_conns;      /* TCB pool size (default 4096) */
	uint32_t max_tw;         /* TIME_WAIT table size (default max_conns) */
	uint32_t max_listeners;  /* default 64 */
	uint16_t mtu;            /* IP MTU; our MSS = mtu - 40 (default 1500) */
	uint16_t min_snd_mss;    /* peer MSS below this is floored up (default 536) */
	uint16_t refuse_mss;     /* peer MSS below this refuses the SYN (default 64) */
	uint32_t sndbuf, rcvbuf; /* per-connection limits in bytes (default 256 KiB) */
	/* Largest rcvbuf sl_tcp_set_bufs may give a connection: sizes the window
	 * scale we offer (0 = rcvbuf), since a window can only grow as far as
	 * the scale agreed in the handshake allows. */
	uint32_t rcvbuf_max;
	/* per-connection buffer references: queued for sending / held out of
	 * order (default 256 each, 4..4096). They live in blocks of sndq_max /
	 * ooo_max entries (16 / 24 bytes each) that a connection takes from a
	 * per-stack pool when it first queues data / stores an out-of-order
	 * segment and gives back as soon as that queue is empty again, so an
	 * idle connection holds none. */
	uint16_t sndq_max, ooo_max;
	/* Blocks in each pool, reserved at create. 0 (the default) = max_conns/4,
	 * at least 64; always clamped to max_conns (one block per connection is
	 * the most a connection can use). Out of send blocks, sl_tcp_send
	 * returns -EAGAIN (counted in snd_no_block) and the writable callback
	 * follows when a block is free again; out of out-of-order blocks, the
	 * segment is dropped (ooo_no_block) and the peer retransmits it. */
	uint32_t sndq_blocks, ooo_blocks;
	uint32_t rto_min_ms, rto_max_ms, rto_init_ms; /* default 200, 60000, 1000 */
	uint32_t delack_ms;      /* default 40 */
	uint32_t msl_ms;         /* TIME_WAIT lasts 2*msl (default 30000) */
	uint32_t fin_wait2_ms;   /* orphaned FIN_WAIT_2 timeout (default 60000) */
	uint8_t syn_retries;     /* active SYN retransmissions (default 6) */
	uint8_t synack_retries;  /* default 5 */
	uint8_t data_retries;    /* RTO expiries before abort (default 15) */
	uint8_t keepalive_probes;/* default 9 */
	uint32_t keepalive_idle_ms, keepalive_intvl_ms; /* 7200000, 75000 */
	bool keepalive;          /* default for new connections */
	bool nodelay;            /* default for new connections: Nagle off */
	uint8_t cc;              /* enum sl_tcp_cc, default for new connections */
	uint8_t init_cwnd_segs;  /* default 10 (IW10) */
	uint32_t syncookie_threshold; /* half-open count that switches to cookies (default 256) */
	uint32_t challenge_ack_limit; /* per second per stack (default 1000) */
	uint16_t ephemeral_lo, ephemeral_hi; /* default 32768..60999 */
	/* 32 bytes of secret for ISNs / cookies / hash; zero = derive from seed */
	uint8_t secret[32];
	uint64_t seed;
	/* Added to the stack's clock for ISNs and timestamps only. With the same
	 * secret and seed, a base from a clock that outlives the process (boot
	 * time) keeps both increasing across restarts, so a restarted engine's
	 * SYN on a 4-tuple a peer still holds in TIME_WAIT is accepted as new
	 * (RFC 6191) instead of meeting the old connection's ACK. Default 0. */
	uint64_t clock_base_us;

	const struct sl_buf_ops *buf_ops;
	void *buf_ctx;
	/* Emit one segment. Return 0, or -errno (counted, treated as lost). */
	int (*tx)(void *arg, const struct sl_tcp_seg_out *seg);
	void *tx_arg;
	/* Active open: may a source port be used? (e.g. return flow hashes to
	 * this worker). NULL = any free port. */
	bool (*port_ok)(void *arg, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport);
	void *port_ok_arg;
	/* Wildcard listener (sl_tcp_listen with port 0): does it take a SYN to
	 * lip:lport no other listener matches? Asked once per SYN (and per
	 * cookie ACK), so an embedder can serve whatever its configuration
	 * says without a listener per address and port. NULL = never. */
	bool (*serves)(void *arg, uint32_t lip, uint16_t lport);
	void *serves_arg;
	/* Init-time memory; NULL = aligned_alloc/free. */
	void *(*alloc)(void *arg, size_t size, size_t align);
	void (*free)(void *arg, void *p);
	void *alloc_arg;
};

void sl_tcp_conf_defaults(struct sl_tcp_conf *c);

enum sl_tcp_cc { SL_TCP_CC_NEWRENO = 0, SL_TCP_CC_CUBIC = 1 };

/* ---- per-stack counters (plain uint64, summed on read) ---- */
struct sl_tcp_counters {
	uint64_t segs_in, segs_out, bytes_in, bytes_out, bad_segs, tx_fail;
	uint64_t rst_in, rst_out, no_conn;
	uint64_t active_opens, passive_opens, established, conn_refused, accept_refused;
	uint64_t conn_reset, conn_timeout, conn_closed;
	uint64_t retrans_segs, rto_expired, fast_retrans, sack_recoveries, dupacks_in, lost_retrans;
	uint64_t ooo_segs, ooo_drops, dup_data, rcv_wnd_drops;
	uint64_t challenge_acks, challenge_ack_limited, paws_drops, bad_acks, oow_acks_limited;
	uint64_t syn_in, syn_drops, syncookies_sent, syncookies_ok, syncookies_bad;
	uint64_t mss_floored, mss_refused;
	uint64_t tw_entered, tw_overflow, tw_reuse, tw_expired;
	uint64_t delayed_acks, quick_acks, zwin_probes, keepalive_probes, keepalive_timeouts, tlp_probes;
	/* send refused for want of a send-queue block (-EAGAIN); out-of-order
	 * segment dropped for want of an out-of-order block */
	uint64_t snd_no_block, ooo_no_block;
	/* data dropped (its ACK taken) while under memory pressure */
	uint64_t mem_drops;
};

/* The counters struct is an array of uint64_t; these are its field names in
 * order (for telemetry / Prometheus export). */
#define SL_TCP_N_COUNTERS (sizeof(struct sl_tcp_counters) / sizeof(uint64_t))
extern const char *const sl_tcp_counter_names[];

/* ---- application interface ---- */
enum sl_tcp_err { SL_TCP_ERR_RESET = 1, SL_TCP_ERR_TIMEOUT = 2, SL_TCP_ERR_REFUSED = 3 };

enum sl_tcp_state {
	SL_TCP_CLOSED = 0, SL_TCP_LISTEN, SL_TCP_SYN_SENT, SL_TCP_SYN_RCVD,
	SL_TCP_ESTABLISHED, SL_TCP_FIN_WAIT_1, SL_TCP_FIN_WAIT_2, SL_TCP_CLOSE_WAIT,
	SL_TCP_CLOSING, SL_TCP_LAST_ACK, SL_TCP_TIME_WAIT,
};
const char *sl_tcp_state_name(int state);

/* Callbacks run inside sl_tcp_input/sl_tcp_tick/API calls; they may call
 * any API function on the same stack (close, send, ...). After
 * sl_tcp_close/abort returns no callback is made for that connection. */
struct sl_tcp_ops {
	void (*connected)(void *uarg, struct sl_tcp_conn *c);
	/* In-order data ("readable"); buffer is borrowed: ref it to keep it. */
	void (*recv)(void *uarg, struct sl_tcp_conn *c, struct sl_buf *b, uint32_t off, uint32_t len);
	void (*writable)(void *uarg, struct sl_tcp_conn *c);
	void (*peer_closed)(void *uarg, struct sl_tcp_conn *c);
	/* Connection is dead (enum sl_tcp_err); the handle stays valid until close. */
	void (*error)(void *uarg, struct sl_tcp_conn *c, int reason);
};

struct sl_tcp_listen_ops {
	/* A passive connection reached ESTABLISHED. Set its ops with
	 * sl_tcp_set_ops() and return 0, or return <0 to reset it. */
	int (*accept)(void *arg, struct sl_tcp_conn *c);
};

struct sl_tcp_stack *sl_tcp_stack_create(const struct sl_tcp_conf *conf, uint64_t now_us);
void sl_tcp_stack_destroy(struct sl_tcp_stack *st);

/* Per-segment entry point. Returns 0, or -errno when the segment was dropped
 * as malformed (already counted). */
int sl_tcp_input(struct sl_tcp_stack *st, const struct sl_tcp_seg_in *seg, uint64_t now_us);
/* Drive timers (1 ms granularity). Call at least every few ms. */
void sl_tcp_tick(struct sl_tcp_stack *st, uint64_t now_us);
/* A receive batch (one poll of the ports): between begin and end, the ACK a
 * connection owes for every second full segment (RFC 5681 4.2), and a window
 * update sl_tcp_consumed() would send, are held and sent once at end,
 * acknowledging all it received in the batch, as GRO's coalescing gives
 * Linux. Fewer pure ACKs for the sender to process; ACKs that must not wait
 * (out of order, a filled hole, PSH after idle, FIN) still go at once, and
 * data sent meanwhile carries the held one. */
void sl_tcp_batch_begin(struct sl_tcp_stack *st);
void sl_tcp_batch_end(struct sl_tcp_stack *st);
/* Memory pressure (the engine's buffer pool is nearly empty): received
 * segments still deliver their ACK, window and SACK information, but their
 * data (and FIN) are dropped and counted (mem_drops); the peer sends them
 * again. Holding more could leave no buffer for the ACKs that free the
 * send queues: a deadlock (Linux prunes its queues for the same reason). */
void sl_tcp_set_mem_pressure(struct sl_tcp_stack *st, bool on);
/* The pool is getting short (before the pressure above): every connection's
 * send space and receive window are held to SL_TCP_TIGHT_BUF, whatever its
 * sndbuf/rcvbuf, so connections that do not drain (slow or stalled readers)
 * stop taking buffers long before the pool runs out; windows already
 * advertised are honoured (the right edge never moves back). Linux's tcp_mem
 * pressure mode does the same. */
#define SL_TCP_TIGHT_BUF (16u << 10)
void sl_tcp_set_mem_tight(struct sl_tcp_stack *st, bool on);

/* ip 0 = any local address; port 0 = the wildcard listener (conf.serves
 * decides per SYN; one per stack). -EADDRINUSE, -ENOSPC. */
struct sl_tcp_listener *sl_tcp_listen(struct sl_tcp_stack *st, uint32_t ip, uint16_t port,
				      const struct sl_tcp_listen_ops *ops, void *arg, int *err);
void sl_tcp_unlisten(struct sl_tcp_listener *l);
/* conf.serves after create (its embedder may need the stack first). */
void sl_tcp_set_serves(struct sl_tcp_stack *st, bool (*serves)(void *arg, uint32_t lip, uint16_t lport), void *arg);

/* Active open; the source port is chosen from the ephemeral range honouring
 * conf.port_ok. NULL with *err = -ENOBUFS (no TCB), -EADDRNOTAVAIL (no port). */
struct sl_tcp_conn *sl_tcp_connect(struct sl_tcp_stack *st, uint32_t lip, uint32_t rip, uint16_t rport,
				   const struct sl_tcp_ops *ops, void *uarg, int *err);
void sl_tcp_set_ops(struct sl_tcp_conn *c, const struct sl_tcp_ops *ops, void *uarg);
void sl_tcp_set_nodelay(struct sl_tcp_conn *c, bool on);
void sl_tcp_set_keepalive(struct sl_tcp_conn *c, bool on);
/* Per-connection send/receive limits (e.g. from a network profile); the
 * receive limit drives the advertised window, capped by the window scale
 * negotiated from conf.rcvbuf. -EINVAL if sndbuf is 0 or rcvbuf < 2 MSS. */
int sl_tcp_set_bufs(struct sl_tcp_conn *c, uint32_t sndbuf, uint32_t rcvbuf);
/* Congestion control (enum sl_tcp_cc); -EINVAL for an unknown one. */
int sl_tcp_set_cc(struct sl_tcp_conn *c, int cc);
/* Receive window follows sl_tcp_consumed() instead of delivery. */
void sl_tcp_set_manual_window(struct sl_tcp_conn *c, bool on);
void sl_tcp_consumed(struct sl_tcp_conn *c, uint32_t bytes);

/* Queue bytes [off, off+len) of b (the stack takes its own reference).
 * -EAGAIN: send limit full, or no send-queue block free for a connection
 * whose queue was empty (wait for writable); -EPIPE: shut down/closed. */
int sl_tcp_send(struct sl_tcp_conn *c, struct sl_buf *b, uint32_t off, uint32_t len);
/* Bytes that may still be queued before -EAGAIN (0 also when the queue is
 * empty and no block is free; only a refused sl_tcp_send arms writable).
 * The limit is sndbuf, held to 4x the peer's current window (at least
 * SL_TCP_TIGHT_BUF) so slow readers do not pin whole send buffers. */
uint32_t sl_tcp_send_space(const struct sl_tcp_conn *c);
/* The peer's current send window in bytes. */
uint32_t sl_tcp_snd_wnd(const struct sl_tcp_conn *c);
/* Half-close: FIN after queued data. how must be SHUT_WR (1). */
int sl_tcp_shutdown(struct sl_tcp_conn *c, int how);
/* Graceful close: FIN after queued data; the stack finishes the handshake
 * (and TIME_WAIT) on its own. The handle is invalid after the call. */
void sl_tcp_close(struct sl_tcp_conn *c);
/* Send RST, drop queues; the handle is invalid after the call. */
void sl_tcp_abort(struct sl_tcp_conn *c);

int sl_tcp_conn_state(const struct sl_tcp_conn *c);
void sl_tcp_conn_tuple(const struct sl_tcp_conn *c, uint32_t *lip, uint16_t *lport, uint32_t *rip,
		       uint16_t *rport);
struct sl_tcp_conn_info {
	uint32_t snd_mss, cwnd, ssthresh, snd_wnd, rcv_wnd, srtt_us, rto_us;
	uint8_t snd_wscale, rcv_wscale;
	bool ts_ok, sack_ok, ws_ok;
	uint8_t cc;
	uint64_t retrans;
};
void sl_tcp_conn_info(const struct sl_tcp_conn *c, struct sl_tcp_conn_info *ci);

/* Memory accounting. sl_tcp_conn_mem: bytes reserved per connection slot
 * whether used or not (TCB, its free-list entry, and its share of the
 * TIME_WAIT table and the flow table). sl_tcp_block_mem: bytes of the two
 * queue-block pools (with their free lists). Both for conf as it would be
 * passed to sl_tcp_stack_create (defaults resolved the same way). */
size_t sl_tcp_conn_mem(const struct sl_tcp_conf *conf);
size_t sl_tcp_block_mem(const struct sl_tcp_conf *conf);

/* Queue blocks right now (gauges, for telemetry and tests). */
struct sl_tcp_block_usage {
	uint32_t sndq_total, sndq_used, ooo_total, ooo_used;
	uint32_t sndq_waiters; /* connections waiting for a send block */
};
void sl_tcp_block_usage(const struct sl_tcp_stack *st, struct sl_tcp_block_usage *u);

const struct sl_tcp_counters *sl_tcp_counters(const struct sl_tcp_stack *st);
uint32_t sl_tcp_active_conns(const struct sl_tcp_stack *st);
uint32_t sl_tcp_tw_count(const struct sl_tcp_stack *st);

#endif
