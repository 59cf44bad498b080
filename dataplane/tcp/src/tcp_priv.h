/* Private structures of the TCP stack. Not part of the public interface. */
#ifndef SL_TCP_PRIV_H
#define SL_TCP_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_tcp.h"

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))

#define SL_TCP_SCORE 8     /* SACK scoreboard ranges */
#define SL_TCP_WHEEL 4096  /* timer wheel slots of 1 ms */

uint64_t sl_tcp_siphash(const uint64_t key[2], const uint8_t *in, size_t len);
/* Block pool sizes after defaults and clamping (conf as given to create). */
uint32_t sl_tcp_sndq_blocks(const struct sl_tcp_conf *c);
uint32_t sl_tcp_ooo_blocks(const struct sl_tcp_conf *c);

struct tnode {
	struct tnode *next, *prev;
	uint64_t when; /* tick (ms); 0 = not armed */
	uint8_t kind;  /* TN_CONN or TN_TW */
};
enum { TN_CONN = 1, TN_TW = 2 };

struct sndq_ent {
	struct sl_buf *b;
	uint32_t off, len;
};

struct ooo_ent {
	uint32_t seq, len;
	struct sl_buf *b;
	uint32_t off;
};

struct range {
	uint32_t l, r;
};

/* Fields are grouped by width so that the TCB has no padding holes: every
 * TCB is reserved at create time, so its size is the fixed per-connection
 * cost (see sl_tcp_conn_mem). Flags are one-bit fields. */
struct sl_tcp_conn {
	struct tnode tn; /* first: container_of is a cast */
	struct sl_tcp_stack *st;
	const struct sl_tcp_ops *ops;
	void *uarg;
	struct sl_tcp_listener *lst;

	/* send queue: NULL, or a block of conf.sndq_max entries from the
	 * stack's free list, held only while data is queued (ring; entry
	 * sndq_head begins at snd_una) */
	struct sndq_ent *sndq;
	/* out-of-order queue: NULL, or a block of conf.ooo_max entries held
	 * only while segments are stored; sorted by seq, non-overlapping:
	 * ooo_blk[ooo_first .. ooo_first + n_ooo) is a window that slides
	 * through the block so that delivering from the front costs nothing */
	struct ooo_ent *ooo_blk;

	uint64_t ts_recent_us;
	uint64_t rtt_start_us;
	uint64_t epoch_us; /* CUBIC epoch start */
	double k_s, w_est, cwnd_acc; /* CUBIC (RFC 9438): K in seconds, W_est and cwnd growth in bytes */
	/* timer deadlines in us; 0 = off */
	uint64_t t_rtx, t_delack, t_keep, t_misc;
	uint64_t last_rx_us, last_data_rx_us, last_oow_ack_us;
	uint64_t retrans;

	uint32_t lip, rip;
	/* send sequence space */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_sndwnd;
	uint32_t fin_seq; /* valid when fin_queued */
	uint32_t snd_sml; /* end of the last sub-MSS segment (Minshall's Nagle) */
	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge advertised */
	uint32_t rcv_unconsumed;
	uint32_t rcv_fin_seq; /* FIN seen beyond rcv_nxt */
	uint32_t sndbuf, rcvbuf; /* per-connection limits (conf defaults) */
	uint32_t ts_recent, ts_off;
	/* RTT / RTO (RFC 6298) */
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t rtt_seq;
	/* congestion control (RFC 5681 / 6582 / 6675) */
	uint32_t cwnd, ssthresh, recover, high_rxt, bytes_acked;
	uint32_t rxt_snd_max; /* SND.MAX when the hole at SND.UNA was retransmitted, 0 = none */
	uint32_t tlp_high;    /* SND.MAX at the last tail loss probe, 0 = none outstanding */
	uint32_t w_max;       /* CUBIC, bytes */
	struct range score[SL_TCP_SCORE];
	struct range last_sack; /* most recently changed block reported first (RFC 2018) */
	uint32_t sndq_bytes;
	uint32_t gq_seq; /* gather cursor: the send-queue entry at gq_idx starts here (valid while gq_ok) */
	uint32_t ooo_bytes;
	/* links in the stack's FIFO of connections waiting for a send block
	 * (conn indices; valid while in_wq) */
	uint32_t wq_next, wq_prev;

	uint16_t lport, rport;
	uint16_t mss; /* effective send MSS, options excluded */
	uint16_t peer_mss;
	uint16_t sndq_head, sndq_cnt, gq_idx;
	uint16_t ooo_first, n_ooo;
	uint16_t busy; /* API/callback nesting: free is deferred while > 0 */

	uint8_t state;
	uint8_t snd_wscale, rcv_wscale, dupacks, retries, ka_probes, delack_segs;
	uint8_t pbackoff; /* persist back-off exponent */
	uint8_t cc;
	uint8_t n_score;

	bool in_use : 1, app_closed : 1, passive : 1, accepted : 1, ws_ok : 1, ts_ok : 1, sack_ok : 1;
	bool nodelay : 1, keepalive : 1, manual_window : 1, fin_queued : 1, rcv_fin : 1, in_recovery : 1;
	bool persist : 1, ack_now : 1, rtt_timing : 1, need_writable : 1, ho : 1, in_ft : 1, rec_sack : 1;
	bool tlp_armed : 1;       /* t_rtx is a probe timeout, not the RTO */
	bool rcv_fin_pending : 1;
	bool in_wq : 1;           /* waiting for a send block */
	bool ack_deferred : 1;    /* owes an ACK at the end of the receive batch */
	bool gq_ok : 1;           /* gq_idx/gq_seq name a queued entry, if gq_seq >= snd_una */
};

struct sl_tcp_tw {
	struct tnode tn;
	uint32_t lip, rip;
	uint16_t lport, rport;
	uint32_t snd_nxt, rcv_nxt, ts_recent, ts_off;
	uint16_t rcv_win;
	uint8_t rcv_wscale;
	bool ts_ok, in_use;
	/* a free entry is off the wheel (tn.next NULL) and tn.prev links the
	 * free list: no separate link field */
};

struct sl_tcp_listener {
	struct sl_tcp_stack *st;
	uint32_t ip;
	uint16_t port;
	bool in_use;
	const struct sl_tcp_listen_ops *ops;
	void *arg;
};

struct flow_ent {
	uint32_t lip, rip;
	uint16_t lport, rport;
	uint32_t ref; /* FLOW_EMPTY, conn index, or FLOW_TW | tw index */
};
#define FLOW_EMPTY 0xffffffffu
#define SL_TCP_ACK_DEFER 128 /* connections per receive batch; more ACK at once */
#define WQ_NONE 0xffffffffu /* end of the send-block wait FIFO */
#define FLOW_TW 0x80000000u

struct sl_tcp_stack {
	struct sl_tcp_conf conf;
	struct sl_tcp_counters cnt;
	uint64_t now_us;
	uint64_t last_tick;
	uint64_t key_isn[2], key_cookie[2], key_ts[2], key_flow[2];

	struct sl_tcp_conn *conns;
	/* queue blocks: free lists are stacks of block indices */
	struct sndq_ent *sndq_pool;
	struct ooo_ent *ooo_pool;
	uint32_t *sndq_free, *ooo_free;
	uint32_t sndq_nfree, ooo_nfree;
	/* FIFO of connections waiting for a send block (conn indices) */
	uint32_t wq_head, wq_tail, wq_len;
	bool waking;
	/* receive batch: connections owing an ACK at sl_tcp_batch_end */
	bool batching;
	bool mem_pressure;
	bool mem_tight;
	uint16_t n_ack_defer;
	uint32_t ack_defer[SL_TCP_ACK_DEFER];
	uint32_t *conn_free;
	uint32_t n_free, n_active, half_open;

	struct sl_tcp_tw *tws;
	struct sl_tcp_tw *tw_free;
	uint32_t n_tw;

	struct flow_ent *ft;
	uint32_t ft_mask;

	struct sl_tcp_listener *lst;

	struct tnode wheel[SL_TCP_WHEEL]; /* list heads */

	uint64_t chal_window_us;
	uint32_t chal_count;
	uint64_t last_cookie_us;
	uint16_t next_eph;
	uint16_t our_mss;
	uint8_t our_wscale;
} __attribute__((aligned(64)));

#endif
