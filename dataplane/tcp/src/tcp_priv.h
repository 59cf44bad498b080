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

struct sl_tcp_conn {
	struct tnode tn; /* first: container_of is a cast */
	struct sl_tcp_stack *st;
	uint32_t lip, rip;
	uint16_t lport, rport;
	uint8_t state;
	bool in_use, app_closed, passive, accepted, ws_ok, ts_ok, sack_ok;
	bool nodelay, keepalive, manual_window, fin_queued, rcv_fin, in_recovery, persist;
	bool ack_now, rtt_timing, need_writable, ho, in_ft, rec_sack;
	uint8_t snd_wscale, rcv_wscale, dupacks, retries, ka_probes, delack_segs;
	uint32_t busy; /* API/callback nesting: free is deferred while > 0 */

	const struct sl_tcp_ops *ops;
	void *uarg;
	struct sl_tcp_listener *lst;

	/* send sequence space */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_sndwnd;
	uint32_t fin_seq; /* valid when fin_queued */
	uint32_t snd_sml; /* end of the last sub-MSS segment (Minshall's Nagle) */
	uint8_t pbackoff; /* persist back-off exponent */
	uint16_t mss;     /* effective send MSS, options excluded */
	uint16_t peer_mss;
	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge advertised */
	uint32_t rcv_unconsumed;
	uint32_t sndbuf, rcvbuf; /* per-connection limits (conf defaults) */
	uint32_t ts_recent, ts_off;
	uint64_t ts_recent_us;

	/* RTT / RTO (RFC 6298) */
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t rtt_seq;
	uint64_t rtt_start_us;

	/* congestion control (RFC 5681 / 6582 / 6675) */
	uint32_t cwnd, ssthresh, recover, high_rxt, bytes_acked;
	uint32_t rxt_snd_max; /* SND.MAX when the hole at SND.UNA was retransmitted, 0 = none */
	uint32_t tlp_high;    /* SND.MAX at the last tail loss probe, 0 = none outstanding */
	bool tlp_armed;       /* t_rtx is a probe timeout, not the RTO */
	/* CUBIC (RFC 9438): w_max in bytes, epoch start, K in seconds */
	uint8_t cc;
	uint32_t w_max;
	uint64_t epoch_us;
	double k_s, w_est, cwnd_acc;
	struct range score[SL_TCP_SCORE];
	uint8_t n_score;

	/* send queue (ring of conf.sndq_max in the stack's pool): entry
	 * sndq_head begins at snd_una */
	struct sndq_ent *sndq;
	uint16_t sndq_head, sndq_cnt;
	uint32_t sndq_bytes;

	/* out-of-order queue, sorted by seq, non-overlapping: ooo[0..n_ooo)
	 * is a window that slides through ooo_base[0..conf.ooo_max) so that
	 * delivering from the front costs nothing */
	struct ooo_ent *ooo, *ooo_base;
	uint16_t n_ooo;
	uint32_t ooo_bytes;
	uint32_t rcv_fin_seq; /* FIN seen beyond rcv_nxt */
	bool rcv_fin_pending;
	struct range last_sack; /* most recently changed block reported first (RFC 2018) */

	/* timer deadlines in us; 0 = off */
	uint64_t t_rtx, t_delack, t_keep, t_misc;
	uint64_t last_rx_us, last_data_rx_us, last_oow_ack_us;
	uint64_t retrans;
};

struct sl_tcp_tw {
	struct tnode tn;
	uint32_t lip, rip;
	uint16_t lport, rport;
	uint32_t snd_nxt, rcv_nxt, ts_recent, ts_off;
	uint16_t rcv_win;
	uint8_t rcv_wscale;
	bool ts_ok, in_use;
	struct sl_tcp_tw *next_free;
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
#define FLOW_TW 0x80000000u

struct sl_tcp_stack {
	struct sl_tcp_conf conf;
	struct sl_tcp_counters cnt;
	uint64_t now_us;
	uint64_t last_tick;
	uint64_t key_isn[2], key_cookie[2], key_ts[2], key_flow[2];

	struct sl_tcp_conn *conns;
	struct sndq_ent *sndq_pool;
	struct ooo_ent *ooo_pool;
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
