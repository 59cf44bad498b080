/* TCP fast path: segment input, output, timers, application calls.
 * Per-packet code: no allocation, no locks, no logging, no syscalls. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "tcp_priv.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define US_PER_MS 1000ull
#define PAWS_IDLE_US (24ull * 24 * 3600 * 1000000) /* RFC 7323 5.5 */

static inline bool synchronized(int s)
{
	return s >= SL_TCP_ESTABLISHED && s <= SL_TCP_LAST_ACK;
}
static inline bool can_send_data(int s)
{
	return s == SL_TCP_ESTABLISHED || s == SL_TCP_CLOSE_WAIT || s == SL_TCP_FIN_WAIT_1 ||
	       s == SL_TCP_CLOSING || s == SL_TCP_LAST_ACK;
}
static inline bool can_recv_data(int s)
{
	return s == SL_TCP_ESTABLISHED || s == SL_TCP_FIN_WAIT_1 || s == SL_TCP_FIN_WAIT_2;
}

/* ------------------------------------------------------------------ buffers */
static inline void buf_ref(struct sl_tcp_stack *st, struct sl_buf *b)
{
	st->conf.buf_ops->ref(st->conf.buf_ctx, b);
}
static inline void buf_unref(struct sl_tcp_stack *st, struct sl_buf *b)
{
	st->conf.buf_ops->unref(st->conf.buf_ctx, b);
}

/* ------------------------------------------------------------ queue blocks */
/* A connection holds a send-queue block only while it has data queued and
 * an out-of-order block only while it holds segments, so an idle
 * connection costs its TCB alone. Blocks come from per-stack free lists
 * (stacks of block indices): O(1), no allocation. */
static bool sndq_get(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	if (!st->sndq_nfree)
		return false;
	uint32_t b = st->sndq_free[--st->sndq_nfree];
	c->sndq = st->sndq_pool + (size_t)b * st->conf.sndq_max;
	c->sndq_head = 0;
	c->gq_ok = false;
	return true;
}

static void sndq_put(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	if (!c->sndq)
		return;
	st->sndq_free[st->sndq_nfree++] = (uint32_t)((size_t)(c->sndq - st->sndq_pool) / st->conf.sndq_max);
	c->sndq = NULL;
	c->sndq_head = 0;
}

static bool ooo_get(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	if (!st->ooo_nfree)
		return false;
	uint32_t b = st->ooo_free[--st->ooo_nfree];
	c->ooo_blk = st->ooo_pool + (size_t)b * st->conf.ooo_max;
	c->ooo_first = 0;
	return true;
}

static void ooo_put(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	if (!c->ooo_blk)
		return;
	st->ooo_free[st->ooo_nfree++] = (uint32_t)((size_t)(c->ooo_blk - st->ooo_pool) / st->conf.ooo_max);
	c->ooo_blk = NULL;
	c->ooo_first = 0;
}

static inline struct ooo_ent *ooo_q(const struct sl_tcp_conn *c)
{
	return c->ooo_blk ? c->ooo_blk + c->ooo_first : NULL;
}

/* FIFO of connections that got -EAGAIN for want of a send block. Each
 * connection is linked at most once; conn_stop unlinks it, so a freed TCB
 * is never on the list. */
static void wq_push(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	if (c->in_wq)
		return;
	uint32_t idx = (uint32_t)(c - st->conns);
	c->in_wq = true;
	c->wq_next = WQ_NONE;
	c->wq_prev = st->wq_tail;
	if (st->wq_tail == WQ_NONE)
		st->wq_head = idx;
	else
		st->conns[st->wq_tail].wq_next = idx;
	st->wq_tail = idx;
	st->wq_len++;
}

static void wq_unlink(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	if (!c->in_wq)
		return;
	if (c->wq_prev == WQ_NONE)
		st->wq_head = c->wq_next;
	else
		st->conns[c->wq_prev].wq_next = c->wq_next;
	if (c->wq_next == WQ_NONE)
		st->wq_tail = c->wq_prev;
	else
		st->conns[c->wq_next].wq_prev = c->wq_prev;
	c->in_wq = false;
	st->wq_len--;
}

/* --------------------------------------------------------------- flow table */
static uint32_t flow_hash(const struct sl_tcp_stack *st, uint32_t lip, uint16_t lport, uint32_t rip,
			  uint16_t rport)
{
	/* keyed so that remote peers cannot aim at one probe chain */
	uint64_t a = ((uint64_t)lip << 32 | rip) ^ st->key_flow[0];
	uint64_t b = ((uint64_t)lport << 16 | rport) ^ st->key_flow[1];
	a ^= b * 0x9e3779b97f4a7c15ull;
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdull;
	a ^= a >> 33;
	a *= 0xc4ceb9fe1a85ec53ull;
	a ^= a >> 33;
	return (uint32_t)a;
}

static struct flow_ent *ft_find(struct sl_tcp_stack *st, uint32_t lip, uint16_t lport, uint32_t rip,
				uint16_t rport)
{
	uint32_t i = flow_hash(st, lip, lport, rip, rport) & st->ft_mask;
	for (;;) {
		struct flow_ent *e = &st->ft[i];
		if (e->ref == FLOW_EMPTY)
			return NULL;
		if (e->lip == lip && e->rip == rip && e->lport == lport && e->rport == rport)
			return e;
		i = (i + 1) & st->ft_mask;
	}
}

/* The table holds twice the TCB + TIME_WAIT capacity, so there is always an
 * empty slot and probe chains stay short. */
static void ft_insert(struct sl_tcp_stack *st, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
		      uint32_t ref)
{
	uint32_t i = flow_hash(st, lip, lport, rip, rport) & st->ft_mask;
	while (st->ft[i].ref != FLOW_EMPTY)
		i = (i + 1) & st->ft_mask;
	st->ft[i] = (struct flow_ent){ .lip = lip, .rip = rip, .lport = lport, .rport = rport, .ref = ref };
}

/* Backward-shift deletion keeps linear probing tombstone-free. */
static void ft_remove(struct sl_tcp_stack *st, struct flow_ent *e)
{
	uint32_t mask = st->ft_mask;
	uint32_t i = (uint32_t)(e - st->ft), j = i;
	for (;;) {
		j = (j + 1) & mask;
		struct flow_ent *f = &st->ft[j];
		if (f->ref == FLOW_EMPTY)
			break;
		uint32_t k = flow_hash(st, f->lip, f->lport, f->rip, f->rport) & mask;
		bool move = (i <= j) ? (k <= i || k > j) : (k <= i && k > j);
		if (move) {
			st->ft[i] = *f;
			i = j;
		}
	}
	st->ft[i].ref = FLOW_EMPTY;
}

/* -------------------------------------------------------------- timer wheel */
static void tn_unlink(struct tnode *n)
{
	if (n->next) {
		n->prev->next = n->next;
		n->next->prev = n->prev;
		n->next = n->prev = NULL;
	}
	n->when = 0;
}

static void tn_arm(struct sl_tcp_stack *st, struct tnode *n, uint64_t tick)
{
	if (tick <= st->last_tick)
		tick = st->last_tick + 1;
	tn_unlink(n);
	struct tnode *h = &st->wheel[tick & (SL_TCP_WHEEL - 1)];
	n->next = h->next;
	n->prev = h;
	h->next->prev = n;
	h->next = n;
	n->when = tick;
}

static void conn_timer_update(struct sl_tcp_conn *c)
{
	uint64_t m = 0;
	uint64_t t[4] = { c->t_rtx, c->t_delack, c->t_keep, c->t_misc };
	for (int i = 0; i < 4; i++)
		if (t[i] && (!m || t[i] < m))
			m = t[i];
	if (!m) {
		tn_unlink(&c->tn);
		return;
	}
	uint64_t tick = (m + US_PER_MS - 1) / US_PER_MS;
	if (tick != c->tn.when)
		tn_arm(c->st, &c->tn, tick);
}

/* ------------------------------------------------------------- hash helpers */
static uint64_t tuple_hash(const uint64_t key[2], uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
			   uint32_t extra1, uint32_t extra2)
{
	uint8_t b[20];
	memcpy(b, &lip, 4);
	memcpy(b + 4, &rip, 4);
	memcpy(b + 8, &lport, 2);
	memcpy(b + 10, &rport, 2);
	memcpy(b + 12, &extra1, 4);
	memcpy(b + 16, &extra2, 4);
	return sl_tcp_siphash(key, b, sizeof(b));
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 us clock. */
static uint32_t isn_gen(struct sl_tcp_stack *st, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	return (uint32_t)tuple_hash(st->key_isn, lip, lport, rip, rport, 0, 0) +
	       (uint32_t)((st->conf.clock_base_us + st->now_us) / 4);
}

/* RFC 7323 5.4: per-connection random timestamp offset, derivable from the
 * tuple so SYN cookies need no state. */
static uint32_t ts_off_gen(struct sl_tcp_stack *st, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	return (uint32_t)tuple_hash(st->key_ts, lip, lport, rip, rport, 0, 0);
}

static inline uint32_t ts_clock(const struct sl_tcp_stack *st, uint32_t off)
{
	return (uint32_t)((st->conf.clock_base_us + st->now_us) / US_PER_MS) + off;
}

/* --------------------------------------------------------------- emission */
static int emit(struct sl_tcp_stack *st, struct sl_tcp_seg_out *o)
{
	int hl = sl_tcp_build_hdr(&o->h, o->hdr);
	if (hl < 0) {
		st->cnt.tx_fail++;
		return hl;
	}
	o->hdr_len = (uint8_t)hl;
	o->csum_flags = SL_TCP_CSUM_NEEDED;
	int rc = st->conf.tx(st->conf.tx_arg, o);
	if (rc < 0) {
		st->cnt.tx_fail++;
		return rc;
	}
	st->cnt.segs_out++;
	st->cnt.bytes_out += o->payload_len;
	if (o->h.flags & SL_TCP_RST)
		st->cnt.rst_out++;
	return 0;
}

/* RST in reply to a segment that has no connection (RFC 9293 3.10.7.1). */
static void send_rst_reply(struct sl_tcp_stack *st, uint32_t lip, uint32_t rip, const struct sl_tcp_hdr *h,
			   uint32_t plen)
{
	if (h->flags & SL_TCP_RST)
		return;
	struct sl_tcp_seg_out o;
	memset(&o, 0, sizeof(o));
	o.saddr = lip;
	o.daddr = rip;
	o.h.sport = h->dport;
	o.h.dport = h->sport;
	if (h->flags & SL_TCP_ACK) {
		o.h.seq = h->ack;
		o.h.flags = SL_TCP_RST;
	} else {
		o.h.seq = 0;
		o.h.ack = h->seq + plen + !!(h->flags & SL_TCP_SYN) + !!(h->flags & SL_TCP_FIN);
		o.h.flags = SL_TCP_RST | SL_TCP_ACK;
	}
	emit(st, &o);
}

/* The send limit: sndbuf, but no more than SL_TCP_SND_WND_MULT times the
 * window the peer offers now (at least SL_TCP_TIGHT_BUF). Bytes queued far
 * beyond what the peer can take only hold buffers: a client that reads
 * slowly or not at all (a small or zero window) must not pin a whole
 * sndbuf each, while one that reads fast offers a window that lifts the
 * cap (Linux sizes its send buffers from the congestion window for the
 * same reason). */
#define SL_TCP_SND_WND_MULT 4u
static inline uint32_t snd_buf(const struct sl_tcp_conn *c)
{
	uint32_t b = __builtin_expect(c->st->mem_tight, 0) ? MIN(c->sndbuf, SL_TCP_TIGHT_BUF) : c->sndbuf;
	uint32_t w = c->snd_wnd > UINT32_MAX / SL_TCP_SND_WND_MULT ? UINT32_MAX : c->snd_wnd * SL_TCP_SND_WND_MULT;

	return MIN(b, MAX(w, SL_TCP_TIGHT_BUF));
}

static uint32_t rcv_space(const struct sl_tcp_conn *c)
{
	uint32_t used = c->ooo_bytes + c->rcv_unconsumed;
	uint32_t buf = __builtin_expect(c->st->mem_tight, 0) ? MIN(c->rcvbuf, SL_TCP_TIGHT_BUF) : c->rcvbuf;
	return buf > used ? buf - used : 0;
}

/* Window to advertise: never shrink the right edge, and apply receiver-side
 * silly window avoidance (RFC 9293 3.8.6.2.2). Updates rcv_adv. */
static uint16_t win_field(struct sl_tcp_conn *c, bool syn)
{
	uint32_t cur = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t w = rcv_space(c);
	uint32_t thresh = MIN(c->rcvbuf / 2, (uint32_t)c->mss);
	if (w < cur || w - cur < thresh)
		w = cur;
	uint32_t field;
	if (syn) {
		field = MIN(w, 65535u);
		w = field;
	} else {
		uint8_t s = c->rcv_wscale;
		w = MIN(w, 65535u << s);
		field = (w + (1u << s) - 1) >> s; /* round up so the edge never moves back */
		if (field > 65535)
			field = 65535;
		w = field << s;
	}
	if (SEQ_GT(c->rcv_nxt + w, c->rcv_adv))
		c->rcv_adv = c->rcv_nxt + w;
	return (uint16_t)field;
}

/* SACK blocks for our ACKs: the block holding the latest out-of-order
 * arrival first (RFC 2018 4), then the rest in order. */
static unsigned sack_blocks(const struct sl_tcp_conn *c, struct sl_tcp_opts *o, unsigned max)
{
	struct range first = { 0, 0 }, rest[SL_TCP_MAX_SACK];
	unsigned nrest = 0;
	bool have_first = false;
	const struct ooo_ent *q = ooo_q(c);
	for (unsigned i = 0; i < c->n_ooo;) {
		struct range b = { q[i].seq, q[i].seq + q[i].len };
		for (i++; i < c->n_ooo && q[i].seq == b.r; i++)
			b.r += q[i].len; /* adjacent entries form one block */
		if (!have_first && SEQ_LEQ(b.l, c->last_sack.l) && SEQ_GEQ(b.r, c->last_sack.r)) {
			first = b;
			have_first = true;
		} else if (nrest < SL_TCP_MAX_SACK) {
			rest[nrest++] = b;
		}
	}
	unsigned out = 0;
	if (have_first && out < max) {
		o->sack[out].left = first.l;
		o->sack[out++].right = first.r;
	}
	for (unsigned i = 0; i < nrest && out < max; i++) {
		o->sack[out].left = rest[i].l;
		o->sack[out++].right = rest[i].r;
	}
	o->n_sack = (uint8_t)out;
	return out;
}

static void delack_clear(struct sl_tcp_conn *c)
{
	c->delack_segs = 0;
	c->ack_now = false;
	c->ack_deferred = false;
	c->t_delack = 0;
}

/* Gather payload from the send queue: bytes [rel, rel+len) counted from
 * snd_una. Segments mostly go out in sequence, so the walk resumes at the
 * entry the previous one ended in (the cursor) rather than at the head: with
 * a megabyte in flight the head is hundreds of entries back. The cursor
 * stays right while its entry's start is at or beyond snd_una: acknowledged
 * entries leave only from the head, and only the head entry is trimmed. */
static uint32_t sndq_gather(struct sl_tcp_conn *c, uint32_t rel, uint32_t len, struct sl_tcp_seg_out *o)
{
	const uint16_t qmax = c->st->conf.sndq_max;
	uint32_t got = 0, want = rel, pos = 0; /* pos: offset of entry idx from snd_una */
	uint16_t idx = c->sndq_head, left = c->sndq_cnt;

	/* a cursor behind snd_una wraps to a huge offset and fails the test */
	if (c->gq_ok && c->gq_seq - c->snd_una <= rel) {
		pos = c->gq_seq - c->snd_una;
		idx = c->gq_idx;
		left = (uint16_t)(c->sndq_cnt - (idx + qmax - c->sndq_head) % qmax);
	}
	for (; left && got < len; left--) {
		const struct sndq_ent *e = &c->sndq[idx];
		if (want - pos < e->len) {
			if (o->n_iov == SL_TCP_MAX_IOV)
				break;
			uint32_t skip = want - pos, take = MIN(e->len - skip, len - got);
			o->iov[o->n_iov++] = (struct sl_tcp_iov){ e->b, e->off + skip, take };
			got += take;
			want += take;
			c->gq_idx = idx;
			c->gq_seq = c->snd_una + pos;
			c->gq_ok = true;
			if (want - pos < e->len)
				break; /* the segment ends inside this entry */
		}
		pos += e->len;
		idx = idx + 1 == qmax ? 0 : (uint16_t)(idx + 1);
	}
	return got;
}

/* Emit one segment of this connection starting at seq with up to len bytes
 * of queued data. Returns the payload length actually carried. */
static uint32_t send_seg(struct sl_tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
	struct sl_tcp_stack *st = c->st;
	struct sl_tcp_seg_out o;
	memset(&o.h, 0, sizeof(o.h));
	o.n_iov = 0;
	o.saddr = c->lip;
	o.daddr = c->rip;
	o.h.sport = c->lport;
	o.h.dport = c->rport;
	o.h.seq = seq;
	bool syn = flags & SL_TCP_SYN;
	if (c->state != SL_TCP_SYN_SENT)
		flags |= SL_TCP_ACK;
	o.h.ack = (flags & SL_TCP_ACK) ? c->rcv_nxt : 0;
	struct sl_tcp_opts *op = &o.h.opts;
	if (syn) {
		op->has_mss = true;
		op->mss = st->our_mss;
		bool active = c->state == SL_TCP_SYN_SENT;
		/* answer only with what the peer offered (RFC 7323, 2018) */
		op->has_ws = active || c->ws_ok;
		op->ws = st->our_wscale;
		op->sack_ok = active || c->sack_ok;
		op->has_ts = active || c->ts_ok;
	} else {
		op->has_ts = c->ts_ok;
	}
	if (op->has_ts) {
		op->ts_val = ts_clock(st, c->ts_off);
		op->ts_ecr = (flags & SL_TCP_ACK) ? c->ts_recent : 0;
	}
	if (!syn && c->sack_ok && c->n_ooo && (flags & SL_TCP_ACK)) {
		unsigned n = sack_blocks(c, op, c->ts_ok ? 3 : 4);
		uint32_t room = c->mss > 4 + 8 * n ? c->mss - 4 - 8 * n : 0;
		if (len > room)
			len = room;
	}
	if (len) {
		len = sndq_gather(c, seq - c->snd_una, len, &o);
		if (seq + len != c->snd_una + c->sndq_bytes)
			flags &= (uint8_t)~SL_TCP_FIN; /* FIN only rides on the last byte */
	}
	if (len && seq + len == c->snd_una + c->sndq_bytes)
		flags |= SL_TCP_PSH;
	o.payload_len = len;
	o.h.flags = flags;
	o.h.win = win_field(c, syn);
	/* a failed tx counts as a lost segment: the peer retransmits */
	emit(st, &o);
	if (flags & SL_TCP_ACK)
		delack_clear(c);
	return len;
}

static void send_ack(struct sl_tcp_conn *c)
{
	/* snd_max, not snd_nxt: after an RTO rewinds snd_nxt the peer has
	 * already seen up to snd_max and would find a lower seq unacceptable
	 * (the two sides would then trade duplicate ACKs forever). But never
	 * beyond the right edge of the peer's window: a peer whose window is
	 * shut accepts only SEG.SEQ = RCV.NXT and otherwise ignores the ACK
	 * field, so it would never learn what we received (as Linux's
	 * tcp_acceptable_seq). */
	uint32_t wnd_end = c->snd_una + c->snd_wnd;

	send_seg(c, SEQ_LEQ(c->snd_max, wnd_end) ? c->snd_max : wnd_end, 0, SL_TCP_ACK);
}

static void send_rst(struct sl_tcp_conn *c)
{
	struct sl_tcp_seg_out o;
	memset(&o, 0, sizeof(o));
	o.saddr = c->lip;
	o.daddr = c->rip;
	o.h.sport = c->lport;
	o.h.dport = c->rport;
	o.h.seq = c->snd_max;
	o.h.ack = c->rcv_nxt;
	o.h.flags = SL_TCP_RST | SL_TCP_ACK;
	emit(c->st, &o);
}

/* RFC 5961 7: challenge ACKs are rate limited per stack. */
static void challenge_ack(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	if (st->now_us - st->chal_window_us >= 1000000) {
		st->chal_window_us = st->now_us;
		st->chal_count = 0;
	}
	if (st->chal_count >= st->conf.challenge_ack_limit) {
		st->cnt.challenge_ack_limited++;
		return;
	}
	st->chal_count++;
	st->cnt.challenge_acks++;
	send_ack(c);
}

/* ------------------------------------------------------------- connections */
static struct sl_tcp_conn *conn_alloc(struct sl_tcp_stack *st)
{
	if (!st->n_free)
		return NULL;
	uint32_t idx = st->conn_free[--st->n_free];
	struct sl_tcp_conn *c = &st->conns[idx];
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->in_use = true;
	c->tn.kind = TN_CONN;
	c->nodelay = st->conf.nodelay;
	c->keepalive = st->conf.keepalive;
	c->cc = st->conf.cc;
	c->sndbuf = st->conf.sndbuf;
	c->rcvbuf = st->conf.rcvbuf;
	c->rto_us = st->conf.rto_init_ms * 1000;
	c->mss = (uint16_t)(st->our_mss);
	st->n_active++;
	return c;
}

static void conn_drop_queues(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	for (unsigned k = 0; k < c->sndq_cnt; k++)
		buf_unref(st, c->sndq[(c->sndq_head + k) % st->conf.sndq_max].b);
	c->sndq_cnt = 0;
	c->sndq_bytes = 0;
	sndq_put(c);
	wq_unlink(c);
	c->need_writable = false;
	for (unsigned i = 0; i < c->n_ooo; i++)
		buf_unref(st, ooo_q(c)[i].b);
	c->n_ooo = 0;
	c->ooo_bytes = 0;
	ooo_put(c);
}

static void conn_unhash(struct sl_tcp_conn *c)
{
	if (c->in_ft) {
		struct flow_ent *e = ft_find(c->st, c->lip, c->lport, c->rip, c->rport);
		if (e)
			ft_remove(c->st, e);
		c->in_ft = false;
	}
	if (c->ho) {
		c->ho = false;
		c->st->half_open--;
	}
}

static void conn_stop(struct sl_tcp_conn *c)
{
	conn_drop_queues(c);
	conn_unhash(c);
	c->t_rtx = c->t_delack = c->t_keep = c->t_misc = 0;
	tn_unlink(&c->tn);
}

/* Free once the application has let go and the protocol is done. */
static void conn_gc(struct sl_tcp_conn *c)
{
	if (!c->in_use || c->busy)
		return;
	if (c->app_closed && (c->state == SL_TCP_CLOSED || c->state == SL_TCP_TIME_WAIT)) {
		struct sl_tcp_stack *st = c->st;
		conn_stop(c);
		c->in_use = false;
		st->conn_free[st->n_free++] = (uint32_t)(c - st->conns);
		st->n_active--;
		return;
	}
	conn_timer_update(c);
}

static void conn_dead(struct sl_tcp_conn *c, int reason)
{
	c->state = SL_TCP_CLOSED;
	conn_stop(c);
	if (reason == SL_TCP_ERR_RESET || reason == SL_TCP_ERR_REFUSED)
		c->st->cnt.conn_reset++;
	else if (reason == SL_TCP_ERR_TIMEOUT)
		c->st->cnt.conn_timeout++;
	if (!c->app_closed && c->ops && c->ops->error)
		c->ops->error(c->uarg, c, reason);
}

static void enter_time_wait(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	struct sl_tcp_tw *tw = st->tw_free;
	uint16_t win = win_field(c, false);
	if (!tw) {
		/* like Linux's tw bucket overflow: close without TIME_WAIT */
		st->cnt.tw_overflow++;
		conn_stop(c);
		c->state = SL_TCP_TIME_WAIT;
		return;
	}
	st->tw_free = (struct sl_tcp_tw *)tw->tn.prev;
	struct flow_ent *e = c->in_ft ? ft_find(st, c->lip, c->lport, c->rip, c->rport) : NULL;
	tw->lip = c->lip;
	tw->rip = c->rip;
	tw->lport = c->lport;
	tw->rport = c->rport;
	tw->snd_nxt = c->snd_max;
	tw->rcv_nxt = c->rcv_nxt;
	tw->ts_ok = c->ts_ok;
	tw->ts_recent = c->ts_recent;
	tw->ts_off = c->ts_off;
	tw->rcv_win = win;
	tw->rcv_wscale = c->rcv_wscale;
	tw->in_use = true;
	tw->tn.kind = TN_TW;
	uint32_t ref = FLOW_TW | (uint32_t)(tw - st->tws);
	if (e)
		e->ref = ref;
	else
		ft_insert(st, tw->lip, tw->lport, tw->rip, tw->rport, ref);
	c->in_ft = false;
	st->n_tw++;
	st->cnt.tw_entered++;
	tn_arm(st, &tw->tn, (st->now_us + 2ull * st->conf.msl_ms * US_PER_MS + US_PER_MS - 1) / US_PER_MS);
	conn_stop(c);
	c->state = SL_TCP_TIME_WAIT;
}

static void tw_kill(struct sl_tcp_stack *st, struct sl_tcp_tw *tw)
{
	struct flow_ent *e = ft_find(st, tw->lip, tw->lport, tw->rip, tw->rport);
	if (e)
		ft_remove(st, e);
	tn_unlink(&tw->tn);
	tw->in_use = false;
	tw->tn.prev = (struct tnode *)st->tw_free; /* off the wheel: prev links the free list */
	st->tw_free = tw;
	st->n_tw--;
}

static void tw_send_ack(struct sl_tcp_stack *st, struct sl_tcp_tw *tw)
{
	struct sl_tcp_seg_out o;
	memset(&o, 0, sizeof(o));
	o.saddr = tw->lip;
	o.daddr = tw->rip;
	o.h.sport = tw->lport;
	o.h.dport = tw->rport;
	o.h.seq = tw->snd_nxt;
	o.h.ack = tw->rcv_nxt;
	o.h.flags = SL_TCP_ACK;
	o.h.win = tw->rcv_win;
	if (tw->ts_ok) {
		o.h.opts.has_ts = true;
		o.h.opts.ts_val = ts_clock(st, tw->ts_off);
		o.h.opts.ts_ecr = tw->ts_recent;
	}
	emit(st, &o);
}

/* Options from the peer's SYN (passive) or SYN-ACK (active). */
static int negotiate(struct sl_tcp_conn *c, const struct sl_tcp_opts *o)
{
	struct sl_tcp_stack *st = c->st;
	uint32_t pm = o->has_mss ? o->mss : 536; /* RFC 9293 3.7.1 default */
	if (pm < st->conf.refuse_mss) {
		st->cnt.mss_refused++;
		return -EINVAL;
	}
	if (pm < st->conf.min_snd_mss) {
		/* CVE-2019-11477 class: tiny MSS turns SACK into a resource attack */
		st->cnt.mss_floored++;
		pm = st->conf.min_snd_mss;
	}
	c->peer_mss = (uint16_t)pm;
	c->ws_ok = o->has_ws;
	c->snd_wscale = o->has_ws ? o->ws : 0;
	c->rcv_wscale = o->has_ws ? st->our_wscale : 0;
	c->ts_ok = o->has_ts;
	if (c->ts_ok) {
		c->ts_recent = o->ts_val;
		c->ts_recent_us = st->now_us;
	}
	c->sack_ok = o->sack_ok;
	uint32_t m = MIN(pm, (uint32_t)st->our_mss);
	if (c->ts_ok)
		m -= 12;
	c->mss = (uint16_t)m;
	return 0;
}

static void cc_init(struct sl_tcp_conn *c)
{
	/* RFC 6928 IW10 */
	c->cwnd = (uint32_t)c->st->conf.init_cwnd_segs * c->mss;
	c->ssthresh = 0x7fffffff;
	c->recover = c->snd_una;
	c->high_rxt = c->snd_una;
	c->snd_sml = c->snd_una;
}

static void keepalive_arm(struct sl_tcp_conn *c)
{
	if (c->keepalive && (c->state == SL_TCP_ESTABLISHED || c->state == SL_TCP_CLOSE_WAIT))
		c->t_keep = c->last_rx_us + (uint64_t)c->st->conf.keepalive_idle_ms * US_PER_MS;
	else
		c->t_keep = 0;
}

static void rtt_sample(struct sl_tcp_conn *c, uint32_t r)
{
	if (!r)
		r = 1;
	if (!c->srtt_us) {
		c->srtt_us = r;
		c->rttvar_us = r / 2;
	} else {
		uint32_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
		c->rttvar_us = (3 * c->rttvar_us + d) / 4;
		c->srtt_us = (7 * c->srtt_us + r) / 8;
	}
	/* RFC 6298 2.3 with clock granularity G = 1 ms */
	uint64_t rto = (uint64_t)c->srtt_us + MAX(1000u, 4u * c->rttvar_us);
	uint64_t lo = (uint64_t)c->st->conf.rto_min_ms * 1000, hi = (uint64_t)c->st->conf.rto_max_ms * 1000;
	c->rto_us = (uint32_t)(rto < lo ? lo : rto > hi ? hi : rto);
}

static uint32_t flight(const struct sl_tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

/* ---------------------------------------------------------- SACK scoreboard */
static void score_trim(struct sl_tcp_conn *c)
{
	unsigned j = 0;
	for (unsigned i = 0; i < c->n_score; i++) {
		struct range r = c->score[i];
		if (SEQ_LEQ(r.r, c->snd_una))
			continue;
		if (SEQ_LT(r.l, c->snd_una))
			r.l = c->snd_una;
		c->score[j++] = r;
	}
	c->n_score = (uint8_t)j;
}

static void score_add(struct sl_tcp_conn *c, uint32_t l, uint32_t r)
{
	/* only trust blocks inside what we sent (RFC 6675; RFC 2883 D-SACKs
	 * below snd_una are ignored) */
	if (SEQ_LEQ(r, l) || SEQ_LEQ(r, c->snd_una) || SEQ_GT(r, c->snd_max))
		return;
	if (SEQ_LT(l, c->snd_una))
		l = c->snd_una;
	struct range tmp[SL_TCP_SCORE + 1];
	unsigned n = 0;
	bool placed = false;
	for (unsigned i = 0; i < c->n_score; i++) {
		struct range s = c->score[i];
		if (SEQ_LT(s.r, l)) {
			tmp[n++] = s;
		} else if (SEQ_GT(s.l, r)) {
			if (!placed) {
				tmp[n++] = (struct range){ l, r };
				placed = true;
			}
			tmp[n++] = s;
		} else {
			l = SEQ_MIN(l, s.l);
			r = SEQ_MAX(r, s.r);
		}
	}
	if (!placed)
		tmp[n++] = (struct range){ l, r };
	if (n > SL_TCP_SCORE)
		n = SL_TCP_SCORE; /* forget the highest: it is only an optimisation */
	memcpy(c->score, tmp, n * sizeof(tmp[0]));
	c->n_score = (uint8_t)n;
}

static uint32_t score_bytes(const struct sl_tcp_conn *c)
{
	uint32_t s = 0;
	for (unsigned i = 0; i < c->n_score; i++)
		s += c->score[i].r - c->score[i].l;
	return s;
}

/* RFC 6675 pipe, simplified: every un-SACKed byte below the highest SACKed
 * byte is lost unless we retransmitted it already. */
static uint32_t sack_pipe(const struct sl_tcp_conn *c)
{
	uint32_t holes = 0, cur = c->snd_una, rx = SEQ_MAX(c->high_rxt, c->snd_una);
	for (unsigned i = 0; i < c->n_score; i++) {
		uint32_t hl = SEQ_MAX(cur, rx), hr = c->score[i].l;
		if (SEQ_LT(hl, hr))
			holes += hr - hl;
		cur = c->score[i].r;
	}
	return flight(c) - score_bytes(c) - holes;
}

/* First lost-and-not-yet-retransmitted hole (NextSeg rule 1). */
static bool sack_next_hole(const struct sl_tcp_conn *c, uint32_t *seq, uint32_t *len)
{
	uint32_t cur = c->snd_una, rx = SEQ_MAX(c->high_rxt, c->snd_una);
	for (unsigned i = 0; i < c->n_score; i++) {
		uint32_t hl = SEQ_MAX(cur, rx), hr = c->score[i].l;
		if (SEQ_LT(hl, hr)) {
			*seq = hl;
			*len = MIN(hr - hl, (uint32_t)c->mss);
			return true;
		}
		cur = c->score[i].r;
	}
	return false;
}

/* ------------------------------------------------------------------- output */
static void rtx_arm(struct sl_tcp_conn *c)
{
	if (!c->t_rtx)
		c->t_rtx = c->st->now_us + c->rto_us;
}

/* Tail loss probe (RFC 8985 7): instead of the RTO, a probe after
 * PTO = 2*SRTT (+ a delayed-ACK allowance for a single segment) makes the
 * receiver reveal a tail loss through SACK. Needs SACK and an RTT sample;
 * one probe per flight. */
static void arm_rto_or_tlp(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	uint64_t rto = st->now_us + c->rto_us;
	c->tlp_armed = false;
	c->t_rtx = rto;
	if (!c->sack_ok || !c->srtt_us || c->in_recovery || c->tlp_high || c->persist ||
	    (c->state != SL_TCP_ESTABLISHED && c->state != SL_TCP_CLOSE_WAIT))
		return;
	uint64_t pto = 2ull * c->srtt_us + (flight(c) <= c->mss ? 200000u : 2000u);
	if (st->now_us + pto < rto) {
		c->t_rtx = st->now_us + pto;
		c->tlp_armed = true;
	}
}

static void note_sent(struct sl_tcp_conn *c, uint32_t seq, uint32_t len, bool retrans)
{
	if (retrans) {
		c->retrans++;
		c->st->cnt.retrans_segs++;
		if (c->rtt_timing && SEQ_LT(seq, c->rtt_seq) && !c->ts_ok)
			c->rtt_timing = false; /* Karn */
	} else if (!c->rtt_timing && len) {
		c->rtt_timing = true;
		c->rtt_seq = seq + len;
		c->rtt_start_us = c->st->now_us;
	}
	if (!retrans && (c->tlp_armed || !c->t_rtx))
		arm_rto_or_tlp(c); /* new data restarts the probe timer */
	else
		rtx_arm(c);
}

static void tcp_output(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	bool sent = false;
	if (!can_send_data(c->state))
		goto ack;
	uint32_t data_end = c->snd_una + c->sndq_bytes;

	if (c->in_recovery && c->rec_sack) {
		uint32_t pipe = sack_pipe(c);
		uint32_t seq, len;
		while (pipe < c->cwnd) {
			if (sack_next_hole(c, &seq, &len)) {
				uint32_t n = send_seg(c, seq, len, 0);
				if (!n)
					break;
				if (seq == c->snd_una)
					c->rxt_snd_max = c->snd_max;
				c->high_rxt = seq + n;
				note_sent(c, seq, n, true);
				pipe += n;
				sent = true;
				continue;
			}
			uint32_t avail = SEQ_GT(data_end, c->snd_nxt) ? data_end - c->snd_nxt : 0;
			uint32_t wnd_end = c->snd_una + c->snd_wnd;
			uint32_t usable = SEQ_GT(wnd_end, c->snd_nxt) ? wnd_end - c->snd_nxt : 0;
			len = MIN(MIN(avail, usable), (uint32_t)c->mss);
			if (!len)
				break;
			uint32_t n = send_seg(c, c->snd_nxt, len, 0);
			if (!n)
				break;
			note_sent(c, c->snd_nxt, n, false);
			c->snd_nxt += n;
			c->snd_max = SEQ_MAX(c->snd_max, c->snd_nxt);
			pipe += n;
			sent = true;
		}
		goto ack;
	}

	/* RFC 3042 limited transmit: each of the first two duplicate ACKs lets
	 * one new segment out, so small windows still produce three dupacks */
	uint32_t lt = (!c->in_recovery && c->dupacks) ? MIN(c->dupacks, (uint8_t)2) * (uint32_t)c->mss : 0;
	for (;;) {
		uint32_t wnd = MIN(c->snd_wnd, c->cwnd + lt);
		uint32_t fl = c->snd_nxt - c->snd_una;
		uint32_t avail = SEQ_GT(data_end, c->snd_nxt) ? data_end - c->snd_nxt : 0;
		uint32_t usable = wnd > fl ? wnd - fl : 0;
		uint32_t len = MIN(MIN(avail, usable), (uint32_t)c->mss);
		bool fin = c->fin_queued && c->snd_nxt + len == c->fin_seq && SEQ_LEQ(c->snd_nxt, c->fin_seq);
		if (!len && !fin)
			break;
		if (len && len < c->mss) {
			if (len < avail) {
				/* window-limited: sender SWS avoidance; but after a
				 * retransmission timeout (nothing in flight, retries
				 * counted) what fits must go, or a peer whose window
				 * stays under half its maximum never sees data again
				 * and the RTO backs off forever (RFC 9293 3.8.6.2.1's
				 * override) */
				if ((len < c->max_sndwnd / 2 || fl) && !(c->retries && !fl))
					break;
				fin = false;
			} else if (!c->nodelay && fl && !fin && SEQ_GT(c->snd_sml, c->snd_una)) {
				/* Nagle (RFC 896) in Minshall's form, as Linux: hold a
				 * small segment only while another small one is unacked */
				break;
			}
		}
		if (fin && len < avail)
			fin = false;
		uint32_t seq = c->snd_nxt;
		bool retrans = SEQ_LT(seq, c->snd_max);
		uint32_t n = len ? send_seg(c, seq, len, fin ? SL_TCP_FIN : 0) : 0;
		if (!len)
			send_seg(c, seq, 0, SL_TCP_FIN);
		if (len && !n)
			break;
		if (n < len)
			fin = false;
		note_sent(c, seq, n, retrans);
		if (n && n < c->mss)
			c->snd_sml = seq + n;
		c->snd_nxt += n + (fin ? 1 : 0);
		c->snd_max = SEQ_MAX(c->snd_max, c->snd_nxt);
		sent = true;
		if (fin)
			break;
	}
	/* Persist (RFC 9293 3.8.6.1): data waits, nothing in flight, window shut. */
	{
		uint32_t avail = SEQ_GT(data_end, c->snd_nxt) ? data_end - c->snd_nxt : 0;
		if (avail && c->snd_max == c->snd_una && !c->t_rtx && c->snd_wnd < MIN(avail, (uint32_t)c->mss)) {
			c->persist = true;
			c->retries = 0;
			c->pbackoff = 0;
			c->t_rtx = st->now_us + c->rto_us;
		}
	}
ack:
	if (c->ack_now && !sent && c->state != SL_TCP_SYN_SENT && c->state != SL_TCP_CLOSED)
		send_ack(c);
}

/* --------------------------------------------------------------- receiving */
/* Holds the every-second-segment ACK to the end of the receive batch.
 * False outside a batch or when the batch's list is full: ACK now. */
static bool ack_defer(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;

	if (!st->batching)
		return false;
	if (c->ack_deferred)
		return true;
	if (st->n_ack_defer == SL_TCP_ACK_DEFER)
		return false;
	c->ack_deferred = true;
	st->ack_defer[st->n_ack_defer++] = (uint32_t)(c - st->conns);
	return true;
}

void sl_tcp_set_mem_pressure(struct sl_tcp_stack *st, bool on)
{
	st->mem_pressure = on;
}

void sl_tcp_set_mem_tight(struct sl_tcp_stack *st, bool on)
{
	st->mem_tight = on;
}

void sl_tcp_batch_begin(struct sl_tcp_stack *st)
{
	st->batching = true;
}

void sl_tcp_batch_end(struct sl_tcp_stack *st)
{
	st->batching = false;
	for (unsigned i = 0; i < st->n_ack_defer; i++) {
		struct sl_tcp_conn *c = &st->conns[st->ack_defer[i]];

		/* sent meanwhile with data (delack_clear), or closed and freed */
		if (!c->in_use || !c->ack_deferred || c->state == SL_TCP_CLOSED)
			continue;
		c->ack_deferred = false;
		send_ack(c);
	}
	st->n_ack_defer = 0;
}

static void deliver(struct sl_tcp_conn *c, struct sl_buf *b, uint32_t off, uint32_t len)
{
	c->rcv_nxt += len;
	if (c->manual_window)
		c->rcv_unconsumed += len;
	if (!c->app_closed && c->ops && c->ops->recv)
		c->ops->recv(c->uarg, c, b, off, len);
}

static void ooo_insert(struct sl_tcp_conn *c, uint32_t seq, struct sl_buf *b, uint32_t off, uint32_t len)
{
	struct sl_tcp_stack *st = c->st;
	struct ooo_ent *q = ooo_q(c);
	uint32_t end = seq + len;
	unsigned i = 0;
	/* trim against entries that start before us */
	for (; i < c->n_ooo; i++) {
		struct ooo_ent *e = &q[i];
		uint32_t ee = e->seq + e->len;
		if (SEQ_GEQ(e->seq, seq))
			break;
		if (SEQ_GT(ee, seq)) {
			if (SEQ_GEQ(ee, end)) {
				st->cnt.dup_data++;
				c->last_sack = (struct range){ e->seq, ee };
				return;
			}
			off += ee - seq;
			seq = ee;
		}
	}
	/* drop entries we cover entirely; trim our tail against the next one */
	while (i < c->n_ooo && SEQ_LEQ(q[i].seq + q[i].len, end)) {
		c->ooo_bytes -= q[i].len;
		buf_unref(st, q[i].b);
		memmove(&q[i], &q[i + 1], (c->n_ooo - i - 1) * sizeof(q[0]));
		c->n_ooo--;
	}
	if (i < c->n_ooo && SEQ_LT(q[i].seq, end))
		end = q[i].seq;
	len = end - seq;
	if (!len) {
		if (!c->n_ooo)
			ooo_put(c);
		return;
	}
	if (c->n_ooo == st->conf.ooo_max) {
		st->cnt.ooo_drops++;
		return;
	}
	if (!c->ooo_blk) {
		/* the first segment held: take a block, or drop it (the peer
		 * retransmits; the ACK that follows carries no SACK for it) */
		if (!ooo_get(c)) {
			st->cnt.ooo_no_block++;
			return;
		}
		q = ooo_q(c);
	} else if (c->ooo_first + c->n_ooo == st->conf.ooo_max) {
		/* the window reached the end of the block: slide it back */
		memmove(c->ooo_blk, q, c->n_ooo * sizeof(q[0]));
		c->ooo_first = 0;
		q = c->ooo_blk;
	}
	memmove(&q[i + 1], &q[i], (c->n_ooo - i) * sizeof(q[0]));
	q[i] = (struct ooo_ent){ .seq = seq, .len = len, .b = b, .off = off };
	buf_ref(st, b);
	c->n_ooo++;
	c->ooo_bytes += len;
	c->last_sack = (struct range){ seq, end };
}

static void ooo_drain(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	while (c->n_ooo && SEQ_LEQ(ooo_q(c)->seq, c->rcv_nxt) && c->in_use) {
		struct ooo_ent e = *ooo_q(c);
		c->ooo_first++;
		if (!--c->n_ooo)
			ooo_put(c); /* holes filled: the block goes back at once */
		c->ooo_bytes -= e.len;
		uint32_t skip = c->rcv_nxt - e.seq;
		if (skip < e.len && c->state != SL_TCP_CLOSED)
			deliver(c, e.b, e.off + skip, e.len - skip);
		buf_unref(st, e.b);
	}
}

static void rcv_fin(struct sl_tcp_conn *c)
{
	c->rcv_nxt++;
	c->rcv_fin = true;
	c->rcv_fin_pending = false;
	c->ack_now = true;
	switch (c->state) {
	case SL_TCP_SYN_RCVD:
	case SL_TCP_ESTABLISHED:
		c->state = SL_TCP_CLOSE_WAIT;
		break;
	case SL_TCP_FIN_WAIT_1:
		c->state = SL_TCP_CLOSING;
		break;
	case SL_TCP_FIN_WAIT_2:
		send_ack(c);
		enter_time_wait(c);
		break;
	default:
		break;
	}
	c->t_keep = 0;
	if (!c->app_closed && c->ops && c->ops->peer_closed)
		c->ops->peer_closed(c->uarg, c);
}

/* ------------------------------------------------------------- ACK handling */
#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

/* ssthresh after a congestion event; CUBIC also remembers W_max. */
static uint32_t cc_ssthresh(struct sl_tcp_conn *c)
{
	uint32_t fl = flight(c);
	if (c->cc == SL_TCP_CC_CUBIC) {
		/* RFC 9438 4.6, 4.7 (fast convergence) */
		if (c->cwnd < c->w_max)
			c->w_max = (uint32_t)(c->cwnd * (1.0 + CUBIC_BETA) / 2.0);
		else
			c->w_max = c->cwnd;
		c->epoch_us = 0;
		return MAX((uint32_t)(fl * CUBIC_BETA), 2u * c->mss);
	}
	return MAX(fl / 2, 2u * c->mss);
}

/* RFC 9438 4.2-4.4, congestion avoidance, per ACK of `acked` bytes. */
static void cubic_ca(struct sl_tcp_conn *c, uint32_t acked)
{
	double mss = c->mss;
	uint64_t now = c->st->now_us;
	if (!c->epoch_us) {
		c->epoch_us = now;
		c->w_est = c->cwnd;
		c->cwnd_acc = 0;
		if (c->w_max > c->cwnd) {
			c->k_s = cbrt((c->w_max - c->cwnd) / mss / CUBIC_C);
		} else {
			c->k_s = 0;
			c->w_max = c->cwnd;
		}
	}
	double t = (double)(now - c->epoch_us) / 1e6;
	double rtt = c->srtt_us ? c->srtt_us / 1e6 : 0.1;
	double wmax = c->w_max / mss, cw = c->cwnd / mss;
	double d = t + rtt - c->k_s;
	double target = CUBIC_C * d * d * d + wmax; /* W_cubic(t + RTT), segments */
	if (target < cw)
		target = cw;
	else if (target > 1.5 * cw)
		target = 1.5 * cw;
	/* Reno-friendly estimate, alpha = 3(1 - beta)/(1 + beta) */
	c->w_est += (3.0 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA)) * acked * mss / c->cwnd;
	double dn = t - c->k_s;
	if ((CUBIC_C * dn * dn * dn + wmax) * mss < c->w_est) {
		if (c->w_est > c->cwnd)
			c->cwnd = (uint32_t)c->w_est;
		return;
	}
	c->cwnd_acc += (target - cw) / cw * acked;
	if (c->cwnd_acc >= 1.0) {
		uint32_t inc = (uint32_t)c->cwnd_acc;
		c->cwnd += inc;
		c->cwnd_acc -= inc;
	}
}

static void cc_on_newack(struct sl_tcp_conn *c, uint32_t acked)
{
	if (c->in_recovery)
		return;
	if (c->cwnd < c->ssthresh) {
		c->cwnd += MIN(acked, (uint32_t)c->mss); /* RFC 5681 (3.1), L = 1 SMSS */
	} else if (c->cc == SL_TCP_CC_CUBIC) {
		cubic_ca(c, acked);
	} else {
		c->bytes_acked += acked; /* RFC 5681 (3.3) appropriate byte counting */
		if (c->bytes_acked >= c->cwnd) {
			c->bytes_acked -= c->cwnd;
			c->cwnd += c->mss;
		}
	}
}

static void enter_recovery(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	c->in_recovery = true;
	c->recover = c->snd_max;
	c->ssthresh = cc_ssthresh(c);
	c->high_rxt = c->snd_una;
	st->cnt.fast_retrans++;
	c->rec_sack = c->sack_ok && c->n_score;
	if (c->rec_sack) {
		/* RFC 6675 5: cwnd = ssthresh, pipe decides what goes out */
		c->cwnd = c->ssthresh;
		st->cnt.sack_recoveries++;
		uint32_t seq, len;
		if (sack_next_hole(c, &seq, &len)) {
			uint32_t n = send_seg(c, seq, len, 0);
			c->rxt_snd_max = c->snd_max;
			c->high_rxt = seq + n;
			note_sent(c, seq, n, true);
		}
	} else {
		/* RFC 6582 NewReno */
		c->cwnd = c->ssthresh + 3u * c->mss;
		uint32_t len = MIN(c->sndq_bytes, (uint32_t)c->mss);
		bool fin = c->fin_queued && len == c->sndq_bytes && SEQ_LT(c->fin_seq, c->snd_max);
		uint32_t n = send_seg(c, c->snd_una, len, fin ? SL_TCP_FIN : 0);
		c->high_rxt = c->snd_una + n;
		note_sent(c, c->snd_una, n, true);
	}
	c->t_rtx = st->now_us + c->rto_us;
}

/* Is this ACK at SND.UNA a duplicate? RFC 5681 (no data, no SYN/FIN, same
 * window), or RFC 6675 (it SACKs data not SACKed before, whatever the
 * window says). Records the SACK blocks either way. */
static bool dupack_sacks(struct sl_tcp_conn *c, const struct sl_tcp_hdr *h, uint32_t plen, uint32_t nwnd)
{
	bool classic = !plen && !(h->flags & (SL_TCP_SYN | SL_TCP_FIN)) && nwnd == c->snd_wnd;
	if (!c->sack_ok || !h->opts.n_sack)
		return classic;
	uint32_t before = score_bytes(c);
	for (unsigned i = 0; i < h->opts.n_sack; i++)
		score_add(c, h->opts.sack[i].left, h->opts.sack[i].right);
	return classic || score_bytes(c) > before;
}

/* A retransmission of the hole at SND.UNA is itself lost when DupThresh
 * segments sent after it have been SACKed (the idea of RACK, RFC 8985, for
 * that one hole). RFC 6675 alone would wait for the RTO. */
static void lost_rxt_check(struct sl_tcp_conn *c)
{
	if (!c->in_recovery || !c->rec_sack || !c->rxt_snd_max || !c->n_score)
		return;
	uint32_t above = 0;
	for (unsigned i = 0; i < c->n_score; i++) {
		struct range r = c->score[i];
		if (SEQ_LEQ(r.r, c->rxt_snd_max))
			continue;
		above += r.r - SEQ_MAX(r.l, c->rxt_snd_max);
	}
	if (above >= 3u * c->mss) {
		c->st->cnt.lost_retrans++;
		c->high_rxt = c->snd_una; /* its holes are eligible again */
		c->rxt_snd_max = 0;
	}
}

/* Returns false if processing of the segment must stop. */
static bool rcv_ack(struct sl_tcp_conn *c, const struct sl_tcp_hdr *h, uint32_t seq, uint32_t plen)
{
	struct sl_tcp_stack *st = c->st;
	uint32_t ack = h->ack;
	if (SEQ_GT(ack, c->snd_max)) {
		st->cnt.bad_acks++;
		send_ack(c);
		return false;
	}
	if (SEQ_LT(ack, c->snd_una - c->max_sndwnd)) {
		/* RFC 5961 5.2 */
		st->cnt.bad_acks++;
		challenge_ack(c);
		return false;
	}
	uint32_t nwnd = (uint32_t)h->win << c->snd_wscale;
	if (c->persist)
		c->retries = 0; /* the peer is alive: keep probing (RFC 9293 3.8.6.1) */
	if (SEQ_GT(ack, c->snd_una)) {
		uint32_t acked = ack - c->snd_una;
		if (c->ts_ok && h->opts.has_ts && h->opts.ts_ecr) {
			uint32_t d = ts_clock(st, c->ts_off) - h->opts.ts_ecr;
			if (d < 60000)
				rtt_sample(c, d * 1000);
		} else if (c->rtt_timing && SEQ_GEQ(ack, c->rtt_seq)) {
			rtt_sample(c, (uint32_t)(st->now_us - c->rtt_start_us));
		}
		if (c->rtt_timing && SEQ_GEQ(ack, c->rtt_seq))
			c->rtt_timing = false;
		/* release acknowledged send-queue bytes */
		uint32_t d = MIN(acked, c->sndq_bytes);
		c->sndq_bytes -= d;
		while (d) {
			struct sndq_ent *e = &c->sndq[c->sndq_head];
			uint32_t t = MIN(d, e->len);
			e->off += t;
			e->len -= t;
			d -= t;
			if (!e->len) {
				buf_unref(st, e->b);
				c->sndq_head = (uint16_t)((c->sndq_head + 1) % st->conf.sndq_max);
				c->sndq_cnt--;
			}
		}
		if (!c->sndq_cnt)
			sndq_put(c); /* all acknowledged: the block goes back at once */
		c->snd_una = ack;
		if (SEQ_LT(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		score_trim(c);
		c->retries = 0;
		/* the hole now at SND.UNA, if already retransmitted, went out
		 * before anything sent from here on */
		if (c->in_recovery && c->rec_sack)
			c->rxt_snd_max = SEQ_LT(c->snd_una, c->high_rxt) ? c->snd_max : 0;
		if (c->in_recovery) {
			if (SEQ_GEQ(ack, c->recover)) {
				c->in_recovery = false;
				c->cwnd = MIN(c->ssthresh, MAX(flight(c), (uint32_t)c->mss) + c->mss); /* RFC 6582 3.2 (3) */
				c->dupacks = 0;
			} else if (!c->rec_sack) {
				/* partial ACK: retransmit the next hole, deflate (RFC 6582 3.2) */
				uint32_t len = MIN(c->sndq_bytes, (uint32_t)c->mss);
				uint32_t n = send_seg(c, c->snd_una, len, 0);
				note_sent(c, c->snd_una, n, true);
				c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
				if (acked >= c->mss)
					c->cwnd += c->mss;
				c->high_rxt = SEQ_MAX(c->high_rxt, c->snd_una + n);
			}
		} else {
			c->dupacks = 0;
			cc_on_newack(c, acked);
		}
		c->persist = false;
		if (c->tlp_high && SEQ_GEQ(ack, c->tlp_high))
			c->tlp_high = 0;
		c->t_rtx = 0;
		c->tlp_armed = false;
		if (c->snd_una != c->snd_max)
			arm_rto_or_tlp(c);
	} else if (ack == c->snd_una && c->snd_max != c->snd_una && dupack_sacks(c, h, plen, nwnd)) {
		st->cnt.dupacks_in++;
		c->dupacks++;
		/* a SACKed loss probe was sent last: whatever is still missing
		 * below it was sent earlier and is lost (RFC 8985 time order) */
		bool probe_sacked = c->tlp_high && c->n_score && SEQ_GEQ(c->score[c->n_score - 1].r, c->tlp_high);
		c->tlp_high = 0;
		if (!c->in_recovery) {
			bool lost = c->dupacks >= 3 || probe_sacked ||
				    (c->sack_ok && c->n_score && score_bytes(c) > 3u * c->mss);
			if (lost && SEQ_GT(ack, c->recover))
				enter_recovery(c);
			else if (lost && c->snd_una == c->recover)
				enter_recovery(c);
		} else if (!c->rec_sack) {
			c->cwnd += c->mss; /* NewReno inflation */
		}
	}
	if (c->sack_ok && h->opts.n_sack)
		for (unsigned i = 0; i < h->opts.n_sack; i++)
			score_add(c, h->opts.sack[i].left, h->opts.sack[i].right);
	lost_rxt_check(c);
	/* window update (RFC 9293 3.10.7.4) */
	if (SEQ_LT(c->snd_wl1, seq) || (c->snd_wl1 == seq && SEQ_LEQ(c->snd_wl2, ack))) {
		c->snd_wnd = nwnd;
		c->snd_wl1 = seq;
		c->snd_wl2 = ack;
		if (nwnd > c->max_sndwnd)
			c->max_sndwnd = nwnd;
		if (c->persist && nwnd) {
			c->persist = false;
			c->t_rtx = 0;
			c->retries = 0;
		}
	}
	return true;
}

/* ------------------------------------------------------------ conn input */
/* RTT of the handshake: from the echoed timestamp, or (Karn) from the clock
 * when our SYN / SYN-ACK went out only once. */
static void handshake_rtt(struct sl_tcp_conn *c, const struct sl_tcp_hdr *h)
{
	struct sl_tcp_stack *st = c->st;
	if (c->ts_ok && h->opts.has_ts && h->opts.ts_ecr) {
		uint32_t d = ts_clock(st, c->ts_off) - h->opts.ts_ecr;
		if (d < 60000)
			rtt_sample(c, d * 1000);
	} else if (c->rtt_timing) {
		rtt_sample(c, (uint32_t)(st->now_us - c->rtt_start_us));
	}
	c->rtt_timing = false;
}

static void syn_timing(struct sl_tcp_conn *c)
{
	c->rtt_timing = true;
	c->rtt_seq = c->iss + 1;
	c->rtt_start_us = c->st->now_us;
}

static void conn_establish(struct sl_tcp_conn *c)
{
	c->state = SL_TCP_ESTABLISHED;
	c->st->cnt.established++;
	if (c->ho) {
		c->ho = false;
		c->st->half_open--;
	}
	c->retries = 0;
	c->t_rtx = 0;
	cc_init(c);
	keepalive_arm(c);
}

static void passive_accept(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	struct sl_tcp_listener *l = c->lst;
	st->cnt.passive_opens++;
	c->accepted = true;
	c->app_closed = false;
	if (!l || !l->in_use || !l->ops->accept || l->ops->accept(l->arg, c) < 0) {
		st->cnt.accept_refused++;
		c->app_closed = true;
		send_rst(c);
		conn_dead(c, SL_TCP_ERR_RESET);
	}
}

static void conn_input(struct sl_tcp_conn *c, const struct sl_tcp_hdr *h, struct sl_buf *pb, uint32_t poff,
		       uint32_t plen)
{
	struct sl_tcp_stack *st = c->st;
	uint8_t fl = h->flags;
	uint32_t seq = h->seq;
	c->last_rx_us = st->now_us;
	c->ka_probes = 0;

	if (c->state == SL_TCP_SYN_SENT) {
		if ((fl & SL_TCP_ACK) && (SEQ_LEQ(h->ack, c->iss) || SEQ_GT(h->ack, c->snd_max))) {
			if (!(fl & SL_TCP_RST))
				send_rst_reply(st, c->lip, c->rip, h, plen);
			return;
		}
		if (fl & SL_TCP_RST) {
			st->cnt.rst_in++;
			if (fl & SL_TCP_ACK)
				conn_dead(c, SL_TCP_ERR_REFUSED);
			return;
		}
		if (!(fl & SL_TCP_SYN))
			return;
		if (negotiate(c, &h->opts) < 0) {
			send_rst_reply(st, c->lip, c->rip, h, plen);
			conn_dead(c, SL_TCP_ERR_RESET);
			return;
		}
		c->irs = seq;
		c->rcv_nxt = seq + 1;
		c->rcv_adv = c->rcv_nxt;
		if (fl & SL_TCP_ACK) {
			c->snd_una = h->ack;
			c->snd_wnd = h->win; /* never scaled in SYNs */
			c->max_sndwnd = c->snd_wnd;
			c->snd_wl1 = seq;
			c->snd_wl2 = h->ack;
			handshake_rtt(c, h);
			conn_establish(c);
			st->cnt.active_opens++;
			c->ack_now = true;
			if (c->ops && c->ops->connected)
				c->ops->connected(c->uarg, c);
			if (c->state == SL_TCP_CLOSED)
				return;
			tcp_output(c);
		} else {
			/* simultaneous open */
			c->state = SL_TCP_SYN_RCVD;
			c->snd_wnd = h->win;
			c->snd_wl1 = seq;
			c->rtt_timing = false;
			send_seg(c, c->iss, 0, SL_TCP_SYN | SL_TCP_ACK);
			c->t_rtx = st->now_us + c->rto_us;
		}
		return;
	}

	if (c->state == SL_TCP_SYN_RCVD && (fl & SL_TCP_SYN) && seq == c->irs) {
		if (!(fl & SL_TCP_ACK) && !(fl & SL_TCP_RST)) {
			/* the peer lost our SYN-ACK */
			send_seg(c, c->iss, 0, SL_TCP_SYN | SL_TCP_ACK);
			return;
		}
		if ((fl & SL_TCP_ACK) && !c->passive && h->ack == c->snd_max) {
			/* simultaneous open: peer's SYN-ACK completes it */
			fl &= (uint8_t)~SL_TCP_SYN;
			seq++;
		}
	}

	/* PAWS (RFC 7323 5) */
	if (c->ts_ok && h->opts.has_ts && !(fl & SL_TCP_RST) && SEQ_LT(h->opts.ts_val, c->ts_recent) &&
	    st->now_us - c->ts_recent_us < PAWS_IDLE_US) {
		st->cnt.paws_drops++;
		send_ack(c);
		return;
	}

	/* acceptability (RFC 9293 3.10.7.4, first check) */
	uint32_t slen = plen + !!(fl & SL_TCP_SYN) + !!(fl & SL_TCP_FIN);
	uint32_t rwnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	/* One change from the RFC's table, as Linux (tcp_sequence): a segment
	 * starting exactly at the right edge counts. A peer that has filled our
	 * window while we hold a hole (loss, or data dropped under memory
	 * pressure) sends its ACKs with SEG.SEQ = RCV.NXT + RCV.WND; refusing
	 * them ignores every ACK of our own data, and our sends then back off
	 * to rto_max (found under 5 % loss on the L4 proxy: 60 s stalls). */
	bool ok;
	if (!slen || !rwnd)
		ok = SEQ_GEQ(seq, c->rcv_nxt) && SEQ_LEQ(seq, c->rcv_nxt + rwnd); /* data beyond is trimmed */
	else
		ok = (SEQ_GEQ(seq, c->rcv_nxt) && SEQ_LEQ(seq, c->rcv_nxt + rwnd)) ||
		     (SEQ_GEQ(seq + slen - 1, c->rcv_nxt) && SEQ_LT(seq + slen - 1, c->rcv_nxt + rwnd));
	if (!ok) {
		if (!plen && !(fl & (SL_TCP_SYN | SL_TCP_FIN | SL_TCP_RST))) {
			/* a pure ACK out of the window: answer at most every 500 ms,
			 * which breaks ACK loops with a confused peer (as Linux) */
			if (c->last_oow_ack_us && st->now_us - c->last_oow_ack_us < 500000) {
				st->cnt.oow_acks_limited++;
				return;
			}
			c->last_oow_ack_us = st->now_us;
		}
		if (!(fl & SL_TCP_RST)) {
			if (SEQ_LT(seq, c->rcv_nxt))
				st->cnt.dup_data++;
			c->ack_now = true;
			send_ack(c);
		}
		return;
	}

	/* RST (RFC 5961 3.2) */
	if (fl & SL_TCP_RST) {
		st->cnt.rst_in++;
		if (seq != c->rcv_nxt) {
			challenge_ack(c);
			return;
		}
		if (c->state == SL_TCP_SYN_RCVD && c->passive) {
			c->state = SL_TCP_CLOSED; /* back to LISTEN: drop the half-open TCB */
			conn_stop(c);
			return;
		}
		conn_dead(c, c->state == SL_TCP_SYN_RCVD ? SL_TCP_ERR_REFUSED : SL_TCP_ERR_RESET);
		return;
	}

	/* timestamps: remember the newest in-order value (RFC 7323 4.3) */
	if (c->ts_ok && h->opts.has_ts && SEQ_LEQ(seq, c->rcv_nxt) && SEQ_GEQ(h->opts.ts_val, c->ts_recent)) {
		c->ts_recent = h->opts.ts_val;
		c->ts_recent_us = st->now_us;
	}

	/* trim to the window */
	if (SEQ_LT(seq, c->rcv_nxt)) {
		uint32_t d = c->rcv_nxt - seq;
		if (fl & SL_TCP_SYN) {
			fl &= (uint8_t)~SL_TCP_SYN;
			d--;
			seq++;
		}
		if (d > plen) {
			d = plen;
			fl &= (uint8_t)~SL_TCP_FIN; /* old FIN */
		}
		poff += d;
		plen -= d;
		seq += d;
		st->cnt.dup_data++;
		c->ack_now = true;
	}
	if (SEQ_GT(seq + plen, c->rcv_nxt + rwnd)) {
		plen = SEQ_GT(c->rcv_nxt + rwnd, seq) ? c->rcv_nxt + rwnd - seq : 0;
		fl &= (uint8_t)~SL_TCP_FIN;
		st->cnt.rcv_wnd_drops++;
		c->ack_now = true;
	}
	if (__builtin_expect(st->mem_pressure, 0) && plen) {
		plen = 0;
		fl &= (uint8_t)~SL_TCP_FIN;
		st->cnt.mem_drops++;
	}

	/* SYN in a synchronized state (RFC 5961 4.2) */
	if (fl & SL_TCP_SYN) {
		challenge_ack(c);
		return;
	}
	if (!(fl & SL_TCP_ACK))
		return;

	if (c->state == SL_TCP_SYN_RCVD) {
		if (!(SEQ_GT(h->ack, c->snd_una) && SEQ_LEQ(h->ack, c->snd_max))) {
			send_rst_reply(st, c->lip, c->rip, h, plen);
			return;
		}
		c->snd_una = c->iss + 1;
		c->snd_wnd = (uint32_t)h->win << c->snd_wscale;
		c->max_sndwnd = c->snd_wnd;
		c->snd_wl1 = seq;
		c->snd_wl2 = h->ack;
		handshake_rtt(c, h);
		conn_establish(c);
		if (c->passive) {
			passive_accept(c);
		} else {
			st->cnt.active_opens++;
			if (c->ops && c->ops->connected)
				c->ops->connected(c->uarg, c);
		}
		if (c->state == SL_TCP_CLOSED)
			return;
	}

	if (!rcv_ack(c, h, seq, plen))
		return;

	bool fin_acked = c->fin_queued && SEQ_GT(c->snd_una, c->fin_seq);
	switch (c->state) {
	case SL_TCP_FIN_WAIT_1:
		if (fin_acked) {
			c->state = SL_TCP_FIN_WAIT_2;
			c->t_rtx = 0;
			if (c->app_closed)
				c->t_misc = st->now_us + (uint64_t)st->conf.fin_wait2_ms * US_PER_MS;
		}
		break;
	case SL_TCP_CLOSING:
		if (fin_acked) {
			enter_time_wait(c);
			return;
		}
		break;
	case SL_TCP_LAST_ACK:
		if (fin_acked) {
			c->state = SL_TCP_CLOSED;
			st->cnt.conn_closed++;
			conn_stop(c);
			return;
		}
		break;
	default:
		break;
	}

	/* data */
	if (plen && can_recv_data(c->state)) {
		if (c->app_closed) {
			/* nobody will read it: tell the peer (as Linux does) */
			send_rst(c);
			conn_dead(c, SL_TCP_ERR_RESET);
			return;
		}
		st->cnt.bytes_in += plen;
		if (seq == c->rcv_nxt) {
			bool filled = c->n_ooo > 0;
			bool idle = st->now_us - c->last_data_rx_us > (uint64_t)st->conf.delack_ms * US_PER_MS * 25;
			deliver(c, pb, poff, plen);
			if (c->state == SL_TCP_CLOSED)
				return;
			if (filled) {
				ooo_drain(c);
				c->ack_now = true; /* RFC 5681 4.2: ACK at once when a hole fills */
			}
			if (c->state == SL_TCP_CLOSED)
				return;
			if (c->delack_segs < UINT8_MAX)
				c->delack_segs++;
			if (c->delack_segs >= 2) {
				if (!ack_defer(c))
					c->ack_now = true;
			} else if ((fl & SL_TCP_PSH) && idle) {
				st->cnt.quick_acks++;
				c->ack_now = true;
			} else if (!c->t_delack) {
				c->t_delack = st->now_us + (uint64_t)st->conf.delack_ms * US_PER_MS;
			}
		} else {
			st->cnt.ooo_segs++;
			ooo_insert(c, seq, pb, poff, plen);
			st->cnt.quick_acks++;
			c->ack_now = true; /* dup ACK with SACK at once */
		}
		c->last_data_rx_us = st->now_us;
	}

	/* FIN */
	if ((fl & SL_TCP_FIN) && c->state != SL_TCP_CLOSED) {
		if (seq + plen == c->rcv_nxt) {
			if (!c->rcv_fin)
				rcv_fin(c);
		} else if (can_recv_data(c->state)) {
			c->rcv_fin_pending = true;
			c->rcv_fin_seq = seq + plen;
			c->ack_now = true;
		}
	}
	if (c->rcv_fin_pending && c->rcv_fin_seq == c->rcv_nxt && !c->rcv_fin && c->state != SL_TCP_CLOSED)
		rcv_fin(c);
	if (c->state == SL_TCP_CLOSED || c->state == SL_TCP_TIME_WAIT)
		return;
	keepalive_arm(c);
	tcp_output(c);
	if (c->need_writable && c->sndq_bytes < snd_buf(c) && c->sndq_cnt < st->conf.sndq_max &&
	    (c->sndq || st->sndq_nfree) && !c->app_closed && !c->fin_queued) {
		c->need_writable = false;
		wq_unlink(c);
		if (c->ops && c->ops->writable)
			c->ops->writable(c->uarg, c);
	}
}

/* Offer freed send blocks to connections that were refused one, oldest
 * first. Runs at the end of sl_tcp_input/sl_tcp_tick rather than where a
 * block is freed, so that no callback of one connection runs in the middle
 * of another's processing. At most as many wake-ups as free blocks: a woken
 * connection that does not send leaves its block for the next round. */
static void wq_wake(struct sl_tcp_stack *st)
{
	if (st->waking || st->wq_head == WQ_NONE || !st->sndq_nfree)
		return;
	st->waking = true;
	uint32_t budget = st->sndq_nfree;
	while (budget && st->sndq_nfree && st->wq_head != WQ_NONE) {
		budget--;
		struct sl_tcp_conn *c = &st->conns[st->wq_head];
		wq_unlink(c);
		if (!c->need_writable || c->app_closed || c->fin_queued || c->sndq)
			continue;
		c->need_writable = false;
		if (c->ops && c->ops->writable) {
			c->busy++;
			c->ops->writable(c->uarg, c);
			c->busy--;
			conn_gc(c);
		}
	}
	st->waking = false;
}

/* ------------------------------------------------------------- SYN cookies */
static const uint16_t cookie_mss[8] = { 536, 1200, 1360, 1400, 1440, 1452, 1460, 8940 };

static uint32_t cookie_count(uint64_t now_us)
{
	return (uint32_t)(now_us >> 26); /* ~67 s */
}

static uint32_t cookie_hash24(struct sl_tcp_stack *st, uint32_t lip, uint16_t lport, uint32_t rip,
			      uint16_t rport, uint32_t peer_isn, uint32_t count, uint32_t idx)
{
	return (uint32_t)tuple_hash(st->key_cookie, lip, lport, rip, rport, peer_isn, count << 3 | idx) &
	       0xffffff;
}

static void send_cookie_synack(struct sl_tcp_stack *st, uint32_t lip, uint32_t rip, const struct sl_tcp_hdr *h)
{
	const struct sl_tcp_opts *po = &h->opts;
	uint32_t pm = po->has_mss ? po->mss : 536;
	unsigned idx = 0;
	for (unsigned i = 0; i < 8; i++)
		if (cookie_mss[i] <= pm)
			idx = i;
	uint32_t cnt = cookie_count(st->now_us);
	uint32_t isn = (cnt & 31) << 27 | idx << 24 |
		       cookie_hash24(st, lip, h->dport, rip, h->sport, h->seq, cnt, idx);
	struct sl_tcp_seg_out o;
	memset(&o, 0, sizeof(o));
	o.saddr = lip;
	o.daddr = rip;
	o.h.sport = h->dport;
	o.h.dport = h->sport;
	o.h.seq = isn;
	o.h.ack = h->seq + 1;
	o.h.flags = SL_TCP_SYN | SL_TCP_ACK;
	o.h.win = (uint16_t)MIN(st->conf.rcvbuf, 65535u);
	o.h.opts.has_mss = true;
	o.h.opts.mss = st->our_mss;
	if (po->has_ts) {
		/* wscale and SACK ride in the low 6 bits of our TSval (as Linux) */
		uint32_t bits = (po->has_ws ? po->ws : 0xf) | (po->sack_ok ? 0x10 : 0);
		uint32_t ts = ts_clock(st, ts_off_gen(st, lip, h->dport, rip, h->sport));
		uint32_t base = ts & ~0x3fu;
		if ((ts & 0x3f) < bits)
			base -= 0x40;
		o.h.opts.has_ts = true;
		o.h.opts.ts_val = base | bits;
		o.h.opts.ts_ecr = po->ts_val;
		o.h.opts.sack_ok = po->sack_ok;
		o.h.opts.has_ws = po->has_ws;
		o.h.opts.ws = st->our_wscale;
	}
	st->last_cookie_us = st->now_us;
	st->cnt.syncookies_sent++;
	emit(st, &o);
}

/* A returning cookie ACK: rebuild the connection. NULL if not a cookie. */
static struct sl_tcp_conn *cookie_ack(struct sl_tcp_stack *st, struct sl_tcp_listener *l, uint32_t lip,
				      uint32_t rip, const struct sl_tcp_hdr *h)
{
	uint32_t cookie = h->ack - 1, peer_isn = h->seq - 1;
	uint32_t c5 = cookie >> 27, idx = (cookie >> 24) & 7, now_c = cookie_count(st->now_us);
	bool ok = false;
	for (uint32_t d = 0; d < 2 && !ok; d++) {
		uint32_t cc = now_c - d;
		if ((cc & 31) == c5 &&
		    cookie_hash24(st, lip, h->dport, rip, h->sport, peer_isn, cc, idx) == (cookie & 0xffffff))
			ok = true;
	}
	if (!ok) {
		st->cnt.syncookies_bad++;
		return NULL;
	}
	struct sl_tcp_conn *c = conn_alloc(st);
	if (!c) {
		st->cnt.conn_refused++;
		return NULL;
	}
	st->cnt.syncookies_ok++;
	c->lip = lip;
	c->rip = rip;
	c->lport = h->dport;
	c->rport = h->sport;
	c->passive = true;
	c->app_closed = true;
	c->lst = l;
	c->ts_off = ts_off_gen(st, lip, c->lport, rip, c->rport);
	struct sl_tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.has_mss = true;
	o.mss = cookie_mss[idx];
	if (h->opts.has_ts) {
		uint32_t bits = h->opts.ts_ecr & 0x3f;
		o.has_ts = true;
		o.ts_val = h->opts.ts_val;
		o.has_ws = (bits & 0xf) != 0xf;
		o.ws = (uint8_t)MIN(bits & 0xf, 14u);
		o.sack_ok = bits & 0x10;
	}
	negotiate(c, &o);
	c->iss = cookie;
	c->snd_una = c->snd_nxt = c->snd_max = h->ack;
	c->irs = peer_isn;
	c->rcv_nxt = h->seq;
	c->rcv_adv = c->rcv_nxt + MIN(st->conf.rcvbuf, 65535u);
	c->snd_wnd = (uint32_t)h->win << c->snd_wscale;
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = h->seq;
	c->snd_wl2 = h->ack;
	c->state = SL_TCP_SYN_RCVD;
	ft_insert(st, lip, c->lport, rip, c->rport, (uint32_t)(c - st->conns));
	c->in_ft = true;
	conn_establish(c);
	c->busy++;
	passive_accept(c);
	c->busy--;
	return c;
}

/* ------------------------------------------------------------- listen path */
static struct sl_tcp_listener *listener_find(struct sl_tcp_stack *st, uint32_t ip, uint16_t port)
{
	struct sl_tcp_listener *any = NULL, *wild = NULL;
	for (uint32_t i = 0; i < st->conf.max_listeners; i++) {
		struct sl_tcp_listener *l = &st->lst[i];
		if (!l->in_use)
			continue;
		if (!l->port) {
			wild = l;
			continue;
		}
		if (l->port != port)
			continue;
		if (l->ip == ip)
			return l;
		if (!l->ip)
			any = l;
	}
	if (any)
		return any;
	if (wild && st->conf.serves && st->conf.serves(st->conf.serves_arg, ip, port))
		return wild;
	return NULL;
}

static void syn_to_listener(struct sl_tcp_stack *st, struct sl_tcp_listener *l, uint32_t lip, uint32_t rip,
			    const struct sl_tcp_hdr *h)
{
	st->cnt.syn_in++;
	uint32_t pm = h->opts.has_mss ? h->opts.mss : 536;
	if (pm < st->conf.refuse_mss) {
		st->cnt.mss_refused++;
		st->cnt.syn_drops++;
		return;
	}
	if (st->half_open >= st->conf.syncookie_threshold) {
		send_cookie_synack(st, lip, rip, h);
		return;
	}
	struct sl_tcp_conn *c = conn_alloc(st);
	if (!c) {
		st->cnt.conn_refused++;
		st->cnt.syn_drops++;
		return;
	}
	c->lip = lip;
	c->rip = rip;
	c->lport = h->dport;
	c->rport = h->sport;
	c->passive = true;
	c->app_closed = true; /* nobody owns it until accept */
	c->lst = l;
	c->state = SL_TCP_SYN_RCVD;
	c->ts_off = ts_off_gen(st, lip, c->lport, rip, c->rport);
	negotiate(c, &h->opts);
	c->irs = h->seq;
	c->rcv_nxt = h->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->iss = isn_gen(st, lip, c->lport, rip, c->rport);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->snd_wnd = h->win;
	c->ho = true;
	st->half_open++;
	ft_insert(st, lip, c->lport, rip, c->rport, (uint32_t)(c - st->conns));
	c->in_ft = true;
	send_seg(c, c->iss, 0, SL_TCP_SYN | SL_TCP_ACK);
	syn_timing(c);
	c->t_rtx = st->now_us + c->rto_us;
	conn_timer_update(c);
}

static void no_flow_input(struct sl_tcp_stack *st, uint32_t lip, uint32_t rip, const struct sl_tcp_hdr *h,
			  struct sl_buf *pb, uint32_t poff, uint32_t plen)
{
	struct sl_tcp_listener *l = listener_find(st, lip, h->dport);
	uint8_t fl = h->flags;
	if (!l) {
		st->cnt.no_conn++;
		send_rst_reply(st, lip, rip, h, plen);
		return;
	}
	if (fl & SL_TCP_RST)
		return;
	if ((fl & SL_TCP_ACK) && !(fl & SL_TCP_SYN)) {
		struct sl_tcp_conn *c = NULL;
		if (st->last_cookie_us && st->now_us - st->last_cookie_us < (2ull << 26))
			c = cookie_ack(st, l, lip, rip, h);
		if (!c) {
			st->cnt.no_conn++;
			send_rst_reply(st, lip, rip, h, plen);
			return;
		}
		if (c->state == SL_TCP_CLOSED) {
			conn_gc(c);
			return;
		}
		c->busy++;
		if (plen || (fl & SL_TCP_FIN))
			conn_input(c, h, pb, poff, plen);
		c->busy--;
		conn_gc(c);
		return;
	}
	if ((fl & SL_TCP_SYN) && !(fl & SL_TCP_ACK)) {
		syn_to_listener(st, l, lip, rip, h);
		return;
	}
	if (fl & SL_TCP_ACK)
		send_rst_reply(st, lip, rip, h, plen);
}

static void tw_input(struct sl_tcp_stack *st, struct sl_tcp_tw *tw, uint32_t lip, uint32_t rip,
		     const struct sl_tcp_hdr *h, struct sl_buf *pb, uint32_t poff, uint32_t plen)
{
	uint8_t fl = h->flags;
	if (fl & SL_TCP_RST)
		return; /* RFC 1337: TIME_WAIT assassination */
	if ((fl & SL_TCP_SYN) && !(fl & SL_TCP_ACK)) {
		/* safe reuse: the new incarnation is provably newer (RFC 6191) */
		bool newer = (tw->ts_ok && h->opts.has_ts) ? SEQ_GT(h->opts.ts_val, tw->ts_recent)
							   : SEQ_GT(h->seq, tw->rcv_nxt);
		if (newer) {
			st->cnt.tw_reuse++;
			tw_kill(st, tw);
			no_flow_input(st, lip, rip, h, pb, poff, plen);
			return;
		}
		tw_send_ack(st, tw);
		return;
	}
	if (tw->ts_ok && h->opts.has_ts && SEQ_LT(h->opts.ts_val, tw->ts_recent)) {
		st->cnt.paws_drops++;
		return;
	}
	if ((fl & SL_TCP_FIN) || plen) {
		if (fl & SL_TCP_FIN)
			tn_arm(st, &tw->tn,
			       (st->now_us + 2ull * st->conf.msl_ms * US_PER_MS + US_PER_MS - 1) / US_PER_MS);
		tw_send_ack(st, tw);
	}
}

int sl_tcp_input(struct sl_tcp_stack *st, const struct sl_tcp_seg_in *seg, uint64_t now_us)
{
	if (now_us > st->now_us)
		st->now_us = now_us;
	st->cnt.segs_in++;
	struct sl_tcp_hdr h;
	if (sl_tcp_parse_hdr(seg->tcp, seg->tcp_len, &h) < 0 || (seg->payload_len && !seg->payload) ||
	    !h.sport || !h.dport || ((h.flags & SL_TCP_SYN) && (h.flags & (SL_TCP_FIN | SL_TCP_RST)))) {
		st->cnt.bad_segs++;
		return -EINVAL;
	}
	uint32_t lip = seg->daddr, rip = seg->saddr;
	struct flow_ent *e = ft_find(st, lip, h.dport, rip, h.sport);
	if (!e) {
		no_flow_input(st, lip, rip, &h, seg->payload, seg->payload_off, seg->payload_len);
		return 0;
	}
	if (e->ref & FLOW_TW) {
		tw_input(st, &st->tws[e->ref & ~FLOW_TW], lip, rip, &h, seg->payload, seg->payload_off,
			 seg->payload_len);
		return 0;
	}
	struct sl_tcp_conn *c = &st->conns[e->ref];
	c->busy++;
	conn_input(c, &h, seg->payload, seg->payload_off, seg->payload_len);
	c->busy--;
	conn_gc(c);
	wq_wake(st);
	return 0;
}

/* ------------------------------------------------------------------ timers */
static void tlp_probe(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	c->tlp_armed = false;
	st->cnt.tlp_probes++;
	uint32_t data_end = c->snd_una + c->sndq_bytes;
	uint32_t avail = SEQ_GT(data_end, c->snd_nxt) ? data_end - c->snd_nxt : 0;
	uint32_t wnd_end = c->snd_una + c->snd_wnd;
	uint32_t usable = SEQ_GT(wnd_end, c->snd_nxt) ? wnd_end - c->snd_nxt : 0;
	uint32_t len = MIN(MIN(avail, usable), (uint32_t)c->mss);
	if (len && c->snd_nxt == c->snd_max) {
		/* new data is the best probe */
		uint32_t n = send_seg(c, c->snd_nxt, len, 0);
		note_sent(c, c->snd_nxt, n, false);
		c->snd_nxt += n;
		c->snd_max = c->snd_nxt;
	} else {
		/* else the last segment again (with the FIN if that was last) */
		bool fin = c->fin_queued && SEQ_GT(c->snd_max, c->fin_seq);
		uint32_t end = fin ? c->fin_seq : c->snd_max;
		len = MIN(end - c->snd_una, (uint32_t)c->mss);
		uint32_t n = send_seg(c, end - len, len, fin ? SL_TCP_FIN : 0);
		note_sent(c, end - len, n, true);
	}
	c->tlp_high = c->snd_max;
	c->t_rtx = st->now_us + c->rto_us;
}

static void rtx_timeout(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	uint8_t limit = c->state == SL_TCP_SYN_SENT	 ? st->conf.syn_retries
			: c->state == SL_TCP_SYN_RCVD ? st->conf.synack_retries
						      : st->conf.data_retries;
	if (c->persist) {
		if (++c->retries > limit) {
			send_rst(c);
			conn_dead(c, SL_TCP_ERR_TIMEOUT);
			return;
		}
		/* zero-window probe: one byte beyond the window (RFC 9293 3.8.6.1) */
		st->cnt.zwin_probes++;
		uint32_t n = send_seg(c, c->snd_una, 1, 0);
		if (n)
			c->snd_max = SEQ_MAX(c->snd_max, c->snd_una + n);
		if (c->pbackoff < 16)
			c->pbackoff++;
		uint64_t t = (uint64_t)c->rto_us << c->pbackoff;
		c->t_rtx = st->now_us + MIN(t, (uint64_t)st->conf.rto_max_ms * 1000);
		return;
	}
	if (c->tlp_armed) {
		tlp_probe(c);
		return;
	}
	if (++c->retries > limit) {
		if (c->state == SL_TCP_SYN_RCVD && c->passive) {
			c->state = SL_TCP_CLOSED; /* half-open that never completed */
			conn_stop(c);
			return;
		}
		if (c->state != SL_TCP_SYN_SENT)
			send_rst(c);
		conn_dead(c, SL_TCP_ERR_TIMEOUT);
		return;
	}
	st->cnt.rto_expired++;
	/* RFC 6298 5.5: back off */
	c->rto_us = (uint32_t)MIN((uint64_t)c->rto_us * 2, (uint64_t)st->conf.rto_max_ms * 1000);
	c->rtt_timing = false;
	if (c->state == SL_TCP_SYN_SENT || c->state == SL_TCP_SYN_RCVD) {
		c->retrans++;
		st->cnt.retrans_segs++;
		send_seg(c, c->iss, 0, c->state == SL_TCP_SYN_SENT ? SL_TCP_SYN : SL_TCP_SYN | SL_TCP_ACK);
		c->t_rtx = st->now_us + c->rto_us;
		return;
	}
	/* RFC 5681 (4): loss window; RFC 6675 5.1: forget the scoreboard */
	if (c->retries == 1)
		c->ssthresh = cc_ssthresh(c);
	c->cwnd = c->mss;
	c->bytes_acked = 0;
	c->in_recovery = false;
	c->recover = c->snd_max;
	c->dupacks = 0;
	c->tlp_high = 0;
	c->n_score = 0;
	c->high_rxt = c->snd_una;
	c->snd_nxt = c->snd_una;
	c->t_rtx = 0;
	tcp_output(c);
	c->t_rtx = st->now_us + c->rto_us;
}

static void keep_timeout(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	uint64_t idle = (uint64_t)st->conf.keepalive_idle_ms * US_PER_MS;
	if (c->snd_max != c->snd_una) {
		c->t_keep = st->now_us + idle; /* the retransmission timer watches the peer */
		return;
	}
	if (st->now_us - c->last_rx_us < idle && !c->ka_probes) {
		keepalive_arm(c);
		return;
	}
	if (c->ka_probes >= st->conf.keepalive_probes) {
		st->cnt.keepalive_timeouts++;
		send_rst(c);
		conn_dead(c, SL_TCP_ERR_TIMEOUT);
		return;
	}
	c->ka_probes++;
	st->cnt.keepalive_probes++;
	/* seq = SND.UNA - 1 forces the peer to ACK (RFC 9293 3.8.4) */
	send_seg(c, c->snd_una - 1, 0, SL_TCP_ACK);
	c->t_keep = st->now_us + (uint64_t)st->conf.keepalive_intvl_ms * US_PER_MS;
}

static void conn_timer(struct sl_tcp_conn *c)
{
	struct sl_tcp_stack *st = c->st;
	uint64_t now = st->now_us;
	c->busy++;
	if (c->t_delack && c->t_delack <= now) {
		c->t_delack = 0;
		st->cnt.delayed_acks++;
		send_ack(c);
	}
	if (c->t_rtx && c->t_rtx <= now && c->state != SL_TCP_CLOSED) {
		c->t_rtx = 0;
		rtx_timeout(c);
	}
	if (c->t_keep && c->t_keep <= now && c->state != SL_TCP_CLOSED) {
		c->t_keep = 0;
		keep_timeout(c);
	}
	if (c->t_misc && c->t_misc <= now && c->state != SL_TCP_CLOSED) {
		c->t_misc = 0;
		if (c->state == SL_TCP_FIN_WAIT_2 && c->app_closed) {
			c->state = SL_TCP_CLOSED;
			conn_stop(c);
		}
	}
	c->busy--;
	conn_gc(c);
}

static void tick_wheel(struct sl_tcp_stack *st, uint64_t now_us)
{
	if (now_us > st->now_us)
		st->now_us = now_us;
	uint64_t target = st->now_us / US_PER_MS;
	if (target <= st->last_tick)
		return;
	uint64_t from = st->last_tick + 1;
	if (target - from >= SL_TCP_WHEEL)
		from = target - SL_TCP_WHEEL + 1;
	for (uint64_t t = from; t <= target; t++) {
		struct tnode *h = &st->wheel[t & (SL_TCP_WHEEL - 1)];
		struct tnode due = { .next = &due, .prev = &due };
		for (struct tnode *n = h->next, *nx; n != h; n = nx) {
			nx = n->next;
			if (n->when > target)
				continue;
			n->prev->next = n->next;
			n->next->prev = n->prev;
			n->next = due.next;
			n->prev = &due;
			due.next->prev = n;
			due.next = n;
		}
		st->last_tick = t;
		while (due.next != &due) {
			struct tnode *n = due.next;
			tn_unlink(n);
			if (n->kind == TN_TW) {
				st->cnt.tw_expired++;
				tw_kill(st, (struct sl_tcp_tw *)n);
			} else {
				conn_timer((struct sl_tcp_conn *)n);
			}
		}
	}
	st->last_tick = target;
}

void sl_tcp_tick(struct sl_tcp_stack *st, uint64_t now_us)
{
	tick_wheel(st, now_us);
	/* also catches blocks freed by API calls made outside any callback */
	wq_wake(st);
}

/* ---------------------------------------------------------- application API */
struct sl_tcp_listener *sl_tcp_listen(struct sl_tcp_stack *st, uint32_t ip, uint16_t port,
				      const struct sl_tcp_listen_ops *ops, void *arg, int *err)
{
	struct sl_tcp_listener *fr = NULL;
	int e = 0;
	if ((!port && ip) || !ops || !ops->accept) {
		e = -EINVAL;
		goto out;
	}
	for (uint32_t i = 0; i < st->conf.max_listeners; i++) {
		struct sl_tcp_listener *l = &st->lst[i];
		if (l->in_use && l->port == port && l->ip == ip) {
			e = -EADDRINUSE;
			goto out;
		}
		if (!l->in_use && !fr)
			fr = l;
	}
	if (!fr) {
		e = -ENOSPC;
		goto out;
	}
	*fr = (struct sl_tcp_listener){ .st = st, .ip = ip, .port = port, .in_use = true, .ops = ops, .arg = arg };
out:
	if (err)
		*err = e;
	return e ? NULL : fr;
}

void sl_tcp_set_serves(struct sl_tcp_stack *st, bool (*serves)(void *arg, uint32_t lip, uint16_t lport), void *arg)
{
	st->conf.serves = serves;
	st->conf.serves_arg = arg;
}

void sl_tcp_unlisten(struct sl_tcp_listener *l)
{
	struct sl_tcp_stack *st = l->st;
	for (uint32_t i = 0; i < st->conf.max_conns; i++)
		if (st->conns[i].in_use && st->conns[i].lst == l)
			st->conns[i].lst = NULL;
	l->in_use = false;
}

struct sl_tcp_conn *sl_tcp_connect(struct sl_tcp_stack *st, uint32_t lip, uint32_t rip, uint16_t rport,
				   const struct sl_tcp_ops *ops, void *uarg, int *err)
{
	int e = 0;
	struct sl_tcp_conn *c = NULL;
	if (!st->n_free) {
		st->cnt.conn_refused++;
		e = -ENOBUFS;
		goto out;
	}
	uint32_t lo = st->conf.ephemeral_lo, range = (uint32_t)st->conf.ephemeral_hi - lo + 1;
	uint16_t port = 0;
	for (uint32_t i = 0; i < range; i++) {
		uint16_t p = (uint16_t)(lo + (st->next_eph + i) % range);
		if (ft_find(st, lip, p, rip, rport))
			continue;
		if (listener_find(st, lip, p))
			continue;
		if (st->conf.port_ok && !st->conf.port_ok(st->conf.port_ok_arg, lip, p, rip, rport))
			continue;
		port = p;
		st->next_eph = (uint16_t)((st->next_eph + i + 1) % range);
		break;
	}
	if (!port) {
		e = -EADDRNOTAVAIL;
		goto out;
	}
	c = conn_alloc(st);
	c->lip = lip;
	c->rip = rip;
	c->lport = port;
	c->rport = rport;
	c->ops = ops;
	c->uarg = uarg;
	c->state = SL_TCP_SYN_SENT;
	c->ts_off = ts_off_gen(st, lip, port, rip, rport);
	c->iss = isn_gen(st, lip, port, rip, rport);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->fin_seq = 0;
	ft_insert(st, lip, port, rip, rport, (uint32_t)(c - st->conns));
	c->in_ft = true;
	/* rcv_wscale is what we offer; negotiate() resets it if the peer declines */
	c->rcv_wscale = st->our_wscale;
	send_seg(c, c->iss, 0, SL_TCP_SYN);
	syn_timing(c);
	c->rcv_wscale = 0;
	c->t_rtx = st->now_us + c->rto_us;
	conn_timer_update(c);
out:
	if (err)
		*err = e;
	return c;
}

void sl_tcp_set_ops(struct sl_tcp_conn *c, const struct sl_tcp_ops *ops, void *uarg)
{
	c->ops = ops;
	c->uarg = uarg;
}

void sl_tcp_set_nodelay(struct sl_tcp_conn *c, bool on)
{
	c->nodelay = on;
	if (on && !c->busy) {
		c->busy++;
		tcp_output(c);
		c->busy--;
		conn_gc(c);
	}
}

void sl_tcp_set_keepalive(struct sl_tcp_conn *c, bool on)
{
	c->keepalive = on;
	if (!c->last_rx_us)
		c->last_rx_us = c->st->now_us;
	keepalive_arm(c);
	conn_timer_update(c);
}

int sl_tcp_set_bufs(struct sl_tcp_conn *c, uint32_t sndbuf, uint32_t rcvbuf)
{
	if (!sndbuf || rcvbuf < 2u * c->st->our_mss)
		return -EINVAL;
	/* a smaller rcvbuf takes effect as data is consumed: the right edge
	 * already advertised never moves back */
	c->sndbuf = sndbuf;
	c->rcvbuf = rcvbuf;
	return 0;
}

int sl_tcp_set_cc(struct sl_tcp_conn *c, int cc)
{
	if (cc != SL_TCP_CC_NEWRENO && cc != SL_TCP_CC_CUBIC)
		return -EINVAL;
	c->cc = (uint8_t)cc;
	c->epoch_us = 0;
	return 0;
}

void sl_tcp_set_manual_window(struct sl_tcp_conn *c, bool on)
{
	c->manual_window = on;
	if (!on)
		c->rcv_unconsumed = 0;
}

void sl_tcp_consumed(struct sl_tcp_conn *c, uint32_t bytes)
{
	uint32_t cur = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	c->rcv_unconsumed = bytes > c->rcv_unconsumed ? 0 : c->rcv_unconsumed - bytes;
	if (!synchronized(c->state) || c->rcv_fin)
		return;
	/* A window update of its own only when the opening is worth it (RFC
	 * 9293 3.8.6.2.2) and the window the peer has is down to half or less
	 * (as Linux's tcp_cleanup_rbuf): a relay consumes every segment as it
	 * arrives, and an update per segment would double the ACKs. A wider
	 * window rides on the next ACK; in a receive batch the update waits
	 * for the batch's end like that ACK. */
	uint32_t thresh = MIN(c->rcvbuf / 2, (uint32_t)c->mss);
	if (rcv_space(c) >= cur + thresh && cur <= c->rcvbuf / 2 && !ack_defer(c)) {
		c->busy++;
		send_ack(c);
		c->busy--;
		conn_gc(c);
	}
}

uint32_t sl_tcp_snd_wnd(const struct sl_tcp_conn *c)
{
	return c->snd_wnd;
}

uint32_t sl_tcp_send_space(const struct sl_tcp_conn *c)
{
	uint32_t buf = snd_buf(c);
	if (c->sndq_cnt >= c->st->conf.sndq_max || c->sndq_bytes >= buf || (!c->sndq && !c->st->sndq_nfree))
		return 0;
	return buf - c->sndq_bytes;
}

int sl_tcp_send(struct sl_tcp_conn *c, struct sl_buf *b, uint32_t off, uint32_t len)
{
	int s = c->state;
	if (c->app_closed || c->fin_queued ||
	    !(s == SL_TCP_SYN_SENT || s == SL_TCP_SYN_RCVD || s == SL_TCP_ESTABLISHED || s == SL_TCP_CLOSE_WAIT))
		return -EPIPE;
	if (!len)
		return 0;
	if (!c->sndq && !sndq_get(c)) {
		c->st->cnt.snd_no_block++;
		c->need_writable = true;
		wq_push(c);
		return -EAGAIN;
	}
	if (!sl_tcp_send_space(c)) {
		c->need_writable = true;
		return -EAGAIN;
	}
	uint16_t qmax = c->st->conf.sndq_max;
	struct sndq_ent *last = c->sndq_cnt ? &c->sndq[(c->sndq_head + c->sndq_cnt - 1) % qmax] : NULL;
	if (last && last->b == b && last->off + last->len == off) {
		last->len += len; /* contiguous bytes of the same buffer */
	} else {
		buf_ref(c->st, b);
		c->sndq[(c->sndq_head + c->sndq_cnt) % qmax] = (struct sndq_ent){ b, off, len };
		c->sndq_cnt++;
	}
	c->sndq_bytes += len;
	if (can_send_data(s)) {
		c->busy++;
		tcp_output(c);
		c->busy--;
		conn_gc(c);
	}
	return 0;
}

static void queue_fin(struct sl_tcp_conn *c)
{
	if (c->fin_queued)
		return;
	c->fin_queued = true;
	c->fin_seq = c->snd_una + c->sndq_bytes;
	if (c->state == SL_TCP_ESTABLISHED)
		c->state = SL_TCP_FIN_WAIT_1;
	else if (c->state == SL_TCP_CLOSE_WAIT)
		c->state = SL_TCP_LAST_ACK;
	c->t_keep = 0;
	tcp_output(c);
}

int sl_tcp_shutdown(struct sl_tcp_conn *c, int how)
{
	if (how != 1 /* SHUT_WR */)
		return -EINVAL;
	if (c->state != SL_TCP_ESTABLISHED && c->state != SL_TCP_CLOSE_WAIT)
		return c->fin_queued ? 0 : -ENOTCONN;
	c->busy++;
	queue_fin(c);
	c->busy--;
	conn_gc(c);
	return 0;
}

void sl_tcp_close(struct sl_tcp_conn *c)
{
	c->app_closed = true;
	c->ops = NULL;
	c->busy++;
	switch (c->state) {
	case SL_TCP_SYN_SENT:
		c->state = SL_TCP_CLOSED;
		conn_stop(c);
		break;
	case SL_TCP_SYN_RCVD:
		send_rst(c);
		c->state = SL_TCP_CLOSED;
		conn_stop(c);
		break;
	case SL_TCP_ESTABLISHED:
	case SL_TCP_CLOSE_WAIT:
		queue_fin(c);
		break;
	case SL_TCP_FIN_WAIT_2:
		c->t_misc = c->st->now_us + (uint64_t)c->st->conf.fin_wait2_ms * US_PER_MS;
		break;
	default:
		break;
	}
	c->busy--;
	conn_gc(c);
}

void sl_tcp_abort(struct sl_tcp_conn *c)
{
	c->app_closed = true;
	c->ops = NULL;
	if (synchronized(c->state) || c->state == SL_TCP_SYN_RCVD)
		send_rst(c);
	c->state = SL_TCP_CLOSED;
	conn_stop(c);
	conn_gc(c);
}

int sl_tcp_conn_state(const struct sl_tcp_conn *c)
{
	return c->state;
}

void sl_tcp_conn_tuple(const struct sl_tcp_conn *c, uint32_t *lip, uint16_t *lport, uint32_t *rip,
		       uint16_t *rport)
{
	*lip = c->lip;
	*lport = c->lport;
	*rip = c->rip;
	*rport = c->rport;
}

void sl_tcp_conn_info(const struct sl_tcp_conn *c, struct sl_tcp_conn_info *ci)
{
	ci->snd_mss = c->mss;
	ci->cwnd = c->cwnd;
	ci->ssthresh = c->ssthresh;
	ci->snd_wnd = c->snd_wnd;
	ci->rcv_wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	ci->srtt_us = c->srtt_us;
	ci->rto_us = c->rto_us;
	ci->snd_wscale = c->snd_wscale;
	ci->rcv_wscale = c->rcv_wscale;
	ci->ts_ok = c->ts_ok;
	ci->sack_ok = c->sack_ok;
	ci->ws_ok = c->ws_ok;
	ci->cc = c->cc;
	ci->retrans = c->retrans;
}
