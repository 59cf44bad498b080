/* The application layer: connection contexts, input queues, the transform
 * slot, timers, generation pins and the operator's snapshot (sl_app.h).
 *
 * Per-packet code: contexts and queue blocks come from per-worker free
 * lists sized at start; nothing here allocates from the heap after
 * sl_app_worker_create, locks, logs or blocks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "app_priv.h"
#include "upstream.h"

/* ---- queue blocks */
static struct sl_app_qblk *qblk_get(struct sl_app_worker *aw)
{
	struct sl_app_qblk *b = aw->free_qblk;

	if (!b)
		return NULL;
	aw->free_qblk = b->next;
	b->next = NULL;
	aw->qblk_used++;
	return b;
}

static void qblk_put(struct sl_app_worker *aw, struct sl_app_qblk *b)
{
	b->next = aw->free_qblk;
	aw->free_qblk = b;
	aw->qblk_used--;
}

static void q_release(struct sl_app_worker *aw, struct sl_app_inq *q)
{
	while (q->head) {
		struct sl_app_qblk *b = q->head;
		uint16_t end = b == q->tail ? q->tidx : QBLK_ENTRIES;

		for (uint16_t i = q->head == b ? q->hidx : 0; i < end; i++)
			rte_pktmbuf_free_seg(b->e[i].m);
		q->head = b->next;
		qblk_put(aw, b);
		q->hidx = 0;
	}
	memset(q, 0, sizeof(*q));
}

static struct sl_app_qent *q_tail_ent(struct sl_app_inq *q)
{
	if (!q->tail || !q->tidx || (q->tail == q->head && q->tidx == q->hidx))
		return NULL;
	return &q->tail->e[q->tidx - 1];
}

static int q_append(struct sl_app_worker *aw, struct sl_app_inq *q, struct rte_mbuf *m, uint32_t off, uint32_t len,
		    bool owned)
{
	if (!q->tail || q->tidx == QBLK_ENTRIES) {
		struct sl_app_qblk *b = qblk_get(aw);

		if (!b) {
			aw->st.in_no_block++;
			return -ENOBUFS;
		}
		if (q->tail)
			q->tail->next = b;
		else
			q->head = b;
		q->tail = b;
		q->tidx = 0;
		if (q->head == b)
			q->hidx = 0;
	}
	q->tail->e[q->tidx++] = (struct sl_app_qent){ m, off, (uint16_t)len, owned };
	q->bytes += len;
	return 0;
}

/* Copies d onto the queue: into the tail buffer while it is ours alone and
 * has room, else into fresh buffers. */
static int q_copy_in(struct sl_app_worker *aw, struct sl_app_inq *q, const uint8_t *d, uint32_t len)
{
	while (len) {
		struct sl_app_qent *t = q_tail_ent(q);
		uint32_t n;

		if (t && t->owned && rte_mbuf_refcnt_read(t->m) == 1 &&
		    t->off + t->len == t->m->data_len && rte_pktmbuf_tailroom(t->m) > 0 &&
		    t->len < UINT16_MAX) {
			n = RTE_MIN(len, (uint32_t)rte_pktmbuf_tailroom(t->m));
			n = RTE_MIN(n, (uint32_t)(UINT16_MAX - t->len));
			memcpy(rte_pktmbuf_mtod_offset(t->m, uint8_t *, t->m->data_len), d, n);
			t->m->data_len = (uint16_t)(t->m->data_len + n);
			t->m->pkt_len = t->m->data_len;
			t->len = (uint16_t)(t->len + n);
			q->bytes += n;
		} else {
			struct rte_mbuf *m = sl_app_mbuf(aw);

			if (!m)
				return -ENOBUFS;
			n = RTE_MIN(len, (uint32_t)rte_pktmbuf_tailroom(m));
			memcpy(rte_pktmbuf_mtod(m, uint8_t *), d, n);
			m->data_len = (uint16_t)n;
			m->pkt_len = n;
			if (q_append(aw, q, m, 0, n, true)) {
				rte_pktmbuf_free(m);
				return -ENOBUFS;
			}
		}
		d += n;
		len -= n;
	}
	return 0;
}

/* A received span [off, off+len) of the chain b: by reference, one entry
 * per segment it touches, tiny ones copied. */
static int q_push_ref(struct sl_app_worker *aw, struct sl_app_inq *q, struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	while (m && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (m && len) {
		uint32_t n = RTE_MIN(len, (uint32_t)m->data_len - off);
		int rc;

		if (n < COALESCE_MAX) {
			aw->st.in_coalesced++;
			rc = q_copy_in(aw, q, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n);
		} else {
			rte_mbuf_refcnt_update(m, 1);
			rc = q_append(aw, q, m, off, n, false);
			if (rc)
				rte_pktmbuf_free_seg(m);
		}
		if (rc)
			return rc;
		len -= n;
		off = 0;
		m = m->next;
	}
	return 0;
}

static const uint8_t *q_view(struct sl_app_inq *q, uint32_t n, uint8_t *scratch)
{
	struct sl_app_qblk *b = q->head;
	uint16_t i = q->hidx;
	uint32_t got = 0;

	if (!b || n > q->bytes)
		return NULL;
	if (b->e[i].len >= n)
		return rte_pktmbuf_mtod_offset(b->e[i].m, const uint8_t *, b->e[i].off);
	while (got < n) {
		const struct sl_app_qent *e = &b->e[i];
		uint32_t k = RTE_MIN((uint32_t)e->len, n - got);

		memcpy(scratch + got, rte_pktmbuf_mtod_offset(e->m, const uint8_t *, e->off), k);
		got += k;
		if (++i == QBLK_ENTRIES) {
			b = b->next;
			i = 0;
		}
	}
	return scratch;
}

static void q_consume(struct sl_app_worker *aw, struct sl_app_inq *q, uint32_t n)
{
	n = RTE_MIN(n, q->bytes);
	q->bytes -= n;
	while (n) {
		struct sl_app_qblk *b = q->head;
		struct sl_app_qent *e = &b->e[q->hidx];

		if (e->len > n) {
			e->off += n;
			e->len = (uint16_t)(e->len - n);
			return;
		}
		n -= e->len;
		rte_pktmbuf_free_seg(e->m);
		q->hidx++;
		if (b == q->tail && q->hidx == q->tidx) {
			qblk_put(aw, b);
			q->head = q->tail = NULL;
			q->hidx = q->tidx = 0;
			return;
		}
		if (q->hidx == QBLK_ENTRIES) {
			q->head = b->next;
			q->hidx = 0;
			qblk_put(aw, b);
		}
	}
}

int sl_app_q_push_ref(struct sl_app_worker *aw, struct sl_app_inq *q, struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	return q_push_ref(aw, q, m, off, len);
}

int sl_app_q_copy_in(struct sl_app_worker *aw, struct sl_app_inq *q, const void *d, uint32_t len)
{
	return q_copy_in(aw, q, d, len);
}

const uint8_t *sl_app_q_view(struct sl_app_inq *q, uint32_t n, uint8_t *scratch)
{
	return q_view(q, n, scratch);
}

const uint8_t *sl_app_q_first(const struct sl_app_inq *q, uint32_t *len)
{
	const struct sl_app_qent *e;

	if (!q->head || !q->bytes) {
		*len = 0;
		return NULL;
	}
	e = &q->head->e[q->hidx];
	*len = e->len;
	return rte_pktmbuf_mtod_offset(e->m, const uint8_t *, e->off);
}

void sl_app_q_consume(struct sl_app_worker *aw, struct sl_app_inq *q, uint32_t n)
{
	q_consume(aw, q, n);
}

void sl_app_q_release(struct sl_app_worker *aw, struct sl_app_inq *q)
{
	q_release(aw, q);
}

/* ---- contexts */
static struct sl_app_conn *conn_get(struct sl_app_worker *aw)
{
	struct sl_app_conn *c = aw->free_conns;

	if (!c) {
		aw->st.no_ctx++;
		return NULL;
	}
	aw->free_conns = c->next_free;
	memset(c, 0, sizeof(*c));
	c->aw = aw;
	c->pin_idx = PIN_NONE;
	aw->n_conns++;
	return c;
}

static void conn_free(struct sl_app_conn *c)
{
	struct sl_app_worker *aw = c->aw;

	c->ops = NULL;
	c->tc = NULL;
	c->next_free = aw->free_conns;
	aw->free_conns = c;
	aw->n_conns--;
}

/* ---- generation pins: per-worker counts by generation, written by the
 * worker only; the main lcore reads them after the generation's grace
 * period, when they can only go down */
static int gen_pin(struct sl_app_conn *c, const struct sl_gen *g)
{
	struct sl_app_worker *aw = c->aw;
	int fr = -1;

	c->gen = g;
	if (!g)
		return 0;
	if (aw->pin_gen[aw->pin_last] == g) {
		c->pin_idx = aw->pin_last;
		goto take;
	}
	for (int i = 0; i < PIN_MAX; i++) {
		if (aw->pin_gen[i] == g) {
			c->pin_idx = (uint8_t)i;
			goto take;
		}
		if (fr < 0 && !__atomic_load_n(&aw->pin_cnt[i], __ATOMIC_RELAXED))
			fr = i;
	}
	if (fr < 0) {
		aw->st.no_pin++;
		c->gen = NULL;
		return -ENOSPC;
	}
	__atomic_store_n(&aw->pin_gen[fr], g, __ATOMIC_RELAXED);
	c->pin_idx = (uint8_t)fr;
take:
	aw->pin_last = c->pin_idx;
	__atomic_store_n(&aw->pin_cnt[c->pin_idx], aw->pin_cnt[c->pin_idx] + 1, __ATOMIC_RELEASE);
	return 0;
}

static void gen_unpin(struct sl_app_conn *c)
{
	struct sl_app_worker *aw = c->aw;

	if (c->pin_idx != PIN_NONE)
		__atomic_store_n(&aw->pin_cnt[c->pin_idx], aw->pin_cnt[c->pin_idx] - 1, __ATOMIC_RELEASE);
	c->pin_idx = PIN_NONE;
	c->gen = NULL;
}

bool sl_app_gen_pinned(const struct sl_app_worker *aw, const struct sl_gen *g)
{
	for (int i = 0; i < PIN_MAX; i++)
		if (__atomic_load_n(&aw->pin_gen[i], __ATOMIC_RELAXED) == g &&
		    __atomic_load_n(&aw->pin_cnt[i], __ATOMIC_ACQUIRE))
			return true;
	return false;
}

/* ---- timers: a wheel of 1 ms slots; a deadline past the wheel's horizon
 * goes round again until it is due */
static void timer_unlink(struct sl_app_conn *c)
{
	struct sl_app_worker *aw = c->aw;

	if (!c->deadline_us)
		return;
	if (c->tprev)
		c->tprev->tnext = c->tnext;
	else
		aw->wheel[(c->deadline_us / 1000) & WHEEL_MASK] = c->tnext;
	if (c->tnext)
		c->tnext->tprev = c->tprev;
	c->tprev = c->tnext = NULL;
	c->deadline_us = 0;
}

static void timer_link(struct sl_app_conn *c, uint64_t deadline)
{
	struct sl_app_worker *aw = c->aw;
	struct sl_app_conn **slot;

	/* a slot the wheel already passed would wait a whole round */
	if (deadline / 1000 <= aw->wheel_ms)
		deadline = (aw->wheel_ms + 1) * 1000;
	slot = &aw->wheel[(deadline / 1000) & WHEEL_MASK];
	c->deadline_us = deadline;
	c->tprev = NULL;
	c->tnext = *slot;
	if (*slot)
		(*slot)->tprev = c;
	*slot = c;
}

void sl_app_timer_set(struct sl_app_conn *c, uint64_t deadline_us)
{
	timer_unlink(c);
	if (deadline_us)
		timer_link(c, deadline_us);
}

/* ---- deferred work: a doubly linked list, so a connection that ends
 * leaves it at once and its context can be reused */
static void defer_unlink(struct sl_app_conn *c)
{
	if (!c->deferred)
		return;
	if (c->dprev)
		c->dprev->dnext = c->dnext;
	else
		c->aw->dhead = c->dnext;
	if (c->dnext)
		c->dnext->dprev = c->dprev;
	c->dprev = c->dnext = NULL;
	c->deferred = false;
}

void sl_app_defer(struct sl_app_conn *c)
{
	struct sl_app_worker *aw = c->aw;

	if (c->deferred || c->dead || !c->ops || !c->ops->deferred)
		return;
	c->deferred = true;
	c->dprev = NULL;
	c->dnext = aw->dhead;
	if (aw->dhead)
		aw->dhead->dprev = c;
	aw->dhead = c;
}

/* ---- entering and leaving a connection's callbacks: an app may end the
 * connection inside one; its context is given back once the outermost
 * callback returns */
static inline void enter(struct sl_app_conn *c)
{
	c->in_ops++;
}

static inline bool leave(struct sl_app_conn *c)
{
	if (--c->in_ops || !c->dead)
		return !c->dead;
	conn_free(c);
	return false;
}

static void conn_end(struct sl_app_conn *c, bool rst)
{
	struct sl_app_worker *aw = c->aw;

	if (c->dead)
		return;
	if (c->xf && c->xf->end) {
		const struct sl_app_xform *xf = c->xf;

		/* once: a transform that ends the connection from its hook does not recurse */
		c->xf = NULL;
		xf->end(c, c->xctx, rst ? SL_APP_XF_ABORT : SL_APP_XF_CLOSE);
		if (c->dead)
			return;
	}
	if (c->vo) {
		const struct sl_app_vops *vo = c->vo;

		c->vo = NULL;
		vo->end(c, c->vctx, rst ? SL_APP_XF_ABORT : SL_APP_XF_CLOSE);
	}
	if (c->tc) {
		if (rst)
			sl_tcp_abort(c->tc);
		else
			sl_tcp_close(c->tc);
	}
	c->tc = NULL;
	timer_unlink(c);
	defer_unlink(c);
	q_release(aw, &c->in);
	q_release(aw, &c->raw);
	gen_unpin(c);
	c->dead = true;
	if (!c->in_ops)
		conn_free(c);
}

void sl_app_close(struct sl_app_conn *c)
{
	conn_end(c, false);
}

void sl_app_abort(struct sl_app_conn *c)
{
	conn_end(c, true);
}

int sl_app_shutdown(struct sl_app_conn *c)
{
	/* a virtual connection has no half-close: its application closes it */
	if (c->vo)
		return -EPIPE;
	if (c->tc && c->xf && c->xf->end)
		c->xf->end(c, c->xctx, SL_APP_XF_SHUTDOWN);
	return c->tc ? sl_tcp_shutdown(c->tc, 1) : -EPIPE;
}

/* ---- input */
static void run_xform_input(struct sl_app_conn *c)
{
	uint32_t before = c->in.bytes;

	if (c->xf->input(c, c->xctx)) {
		sl_app_abort(c);
		return;
	}
	if (!c->dead && c->in.bytes > before && c->ops->data)
		c->ops->data(c);
}

const uint8_t *sl_app_in_view(struct sl_app_conn *c, uint32_t n, uint8_t *scratch)
{
	return q_view(&c->in, n, scratch);
}

const uint8_t *sl_app_in_first(const struct sl_app_conn *c, uint32_t *len)
{
	return sl_app_q_first(&c->in, len);
}

void sl_app_in_consume(struct sl_app_conn *c, uint32_t n)
{
	n = RTE_MIN(n, c->in.bytes);
	q_consume(c->aw, &c->in, n);
	if (c->vo) {
		c->vo->consumed(c, c->vctx, n);
		return;
	}
	if (!c->tc)
		return;
	if (!c->xf)
		sl_tcp_consumed(c->tc, n);
	else if (c->raw.bytes && !c->dead)
		/* room for more plaintext: the transform may decode what it held back */
		(void)c->xf->input(c, c->xctx);
}

const uint8_t *sl_app_raw_view(struct sl_app_conn *c, uint32_t n, uint8_t *scratch)
{
	return q_view(&c->raw, n, scratch);
}

void sl_app_raw_consume(struct sl_app_conn *c, uint32_t n)
{
	n = RTE_MIN(n, c->raw.bytes);
	q_consume(c->aw, &c->raw, n);
	if (c->tc)
		sl_tcp_consumed(c->tc, n);
}

int sl_app_in_push(struct sl_app_conn *c, const void *data, uint32_t len)
{
	return q_copy_in(c->aw, &c->in, data, len);
}

int sl_app_in_relay(struct sl_app_conn *c, struct sl_app_conn *to, uint32_t max, uint32_t *moved)
{
	uint32_t done = 0;
	int rc = 0;

	while (c->in.head && done < max) {
		struct sl_app_qent *e = &c->in.head->e[c->in.hidx];
		uint32_t n = RTE_MIN((uint32_t)e->len, max - done);

		rc = sl_app_send_ref(to, e->m, e->off, n);
		if (rc)
			break;
		done += n;
		sl_app_in_consume(c, n);
	}
	*moved = done;
	return rc;
}

void sl_app_set_nodelay(struct sl_app_conn *c, bool on)
{
	if (c->tc)
		sl_tcp_set_nodelay(c->tc, on);
}

int sl_app_set_bufs(struct sl_app_conn *c, uint32_t sndbuf, uint32_t rcvbuf)
{
	return c->tc ? sl_tcp_set_bufs(c->tc, sndbuf, rcvbuf) : -EPIPE;
}

/* ---- output */
uint32_t sl_app_send_space(const struct sl_app_conn *c)
{
	if (c->vo)
		return c->vo->space(c, c->vctx);
	return c->tc ? sl_tcp_send_space(c->tc) : 0;
}

uint32_t sl_app_peer_window(const struct sl_app_conn *c)
{
	if (c->vo)
		return c->vo->space(c, c->vctx);
	return c->tc ? sl_tcp_snd_wnd(c->tc) : 0;
}

int sl_app_raw_send(struct sl_app_conn *c, struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	if (!c->tc)
		return -EPIPE;
	return sl_tcp_send(c->tc, (struct sl_buf *)m, off, len);
}

int sl_app_send_ref(struct sl_app_conn *c, struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	if (c->vo)
		return c->vo->send(c, c->vctx, m, off, len);
	if (!c->tc)
		return -EPIPE;
	if (c->xf)
		return c->xf->output(c, c->xctx, m, off, len);
	return sl_tcp_send(c->tc, (struct sl_buf *)m, off, len);
}

int sl_app_write(struct sl_app_conn *c, const void *data, uint32_t len)
{
	const uint8_t *d = data;
	uint32_t done = 0;

	if (!c->tc && !c->vo)
		return -EPIPE;
	while (done < len) {
		struct rte_mbuf *m = sl_app_mbuf(c->aw);
		uint32_t n;
		int rc;

		if (!m)
			return done ? (int)done : -ENOBUFS;
		n = RTE_MIN(len - done, (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), d + done, n);
		m->data_len = (uint16_t)n;
		m->pkt_len = n;
		rc = sl_app_send_ref(c, m, 0, n);
		rte_pktmbuf_free(m);
		if (rc == -EAGAIN)
			break;       /* the refusal armed the writable callback */
		if (rc)
			return done ? (int)done : rc;
		done += n;
	}
	return done || !len ? (int)done : -EAGAIN;
}

void sl_app_set_xform(struct sl_app_conn *c, const struct sl_app_xform *xf, void *xctx)
{
	c->xf = xf;
	c->xctx = xctx;
}

void sl_app_run_deferred(struct sl_app_worker *aw)
{
	/* work deferred while running goes on the list again and runs in
	 * this pass; bounded so a connection that keeps deferring cannot hold
	 * the loop */
	for (unsigned n = 0; aw->dhead && n < 4096; n++) {
		struct sl_app_conn *c = aw->dhead;

		defer_unlink(c);
		enter(c);
		c->ops->deferred(c);
		leave(c);
	}
}

/* ---- virtual connections */
struct sl_app_conn *sl_app_vconn_open(struct sl_app_conn *carrier, const struct sl_app_ops *ops,
				      const struct sl_app_vops *vo, void *vctx)
{
	struct sl_app_conn *c = conn_get(carrier->aw);

	if (!c)
		return NULL;
	if (carrier->gen && gen_pin(c, carrier->gen)) {
		conn_free(c);
		return NULL;
	}
	c->lip = carrier->lip;
	c->rip = carrier->rip;
	c->lport = carrier->lport;
	c->rport = carrier->rport;
	c->passive = true;
	c->carrier = carrier;
	c->ops = ops;
	c->vo = vo;
	c->vctx = vctx;
	c->aw->st.vconns++;
	return c;
}

#define VCALL(c, cb, ...) do { \
		if ((c)->dead || !(c)->ops->cb) \
			break; \
		enter(c); \
		(c)->ops->cb((c), ##__VA_ARGS__); \
		leave(c); \
	} while (0)

void sl_app_vconn_data(struct sl_app_conn *c)
{
	VCALL(c, data);
}

void sl_app_vconn_writable(struct sl_app_conn *c)
{
	VCALL(c, writable);
}

void sl_app_vconn_eof(struct sl_app_conn *c)
{
	c->eof = true;
	VCALL(c, eof);
}

void sl_app_vconn_error(struct sl_app_conn *c, int reason)
{
	VCALL(c, error, reason);
}

/* ---- the stack's callbacks */
static void tcp_recv(void *uarg, struct sl_tcp_conn *tc, struct sl_buf *b, uint32_t off, uint32_t len)
{
	struct sl_app_conn *c = uarg;
	int rc;

	(void)tc;
	if (c->dead)
		return;
	enter(c);
	rc = q_push_ref(c->aw, c->xf ? &c->raw : &c->in, (struct rte_mbuf *)b, off, len);
	if (rc) {
		/* out of queue blocks or buffers: this connection alone ends, and
		 * its application hears of it like of a reset (a proxy resets its
		 * other side too) */
		if (c->ops->error)
			c->ops->error(c, SL_TCP_ERR_RESET);
		if (!c->dead)
			sl_app_abort(c);
	} else if (c->xf) {
		run_xform_input(c);
	} else if (c->ops->data) {
		c->ops->data(c);
	} else {
		sl_app_in_consume(c, c->in.bytes);
	}
	leave(c);
}

static void tcp_writable(void *uarg, struct sl_tcp_conn *tc)
{
	struct sl_app_conn *c = uarg;

	(void)tc;
	if (c->dead || !c->ops->writable)
		return;
	enter(c);
	c->ops->writable(c);
	leave(c);
}

static void tcp_peer_closed(void *uarg, struct sl_tcp_conn *tc)
{
	struct sl_app_conn *c = uarg;

	(void)tc;
	if (c->dead)
		return;
	c->eof = true;
	enter(c);
	if (c->ops->eof)
		c->ops->eof(c);
	else
		sl_app_close(c);
	leave(c);
}

static void tcp_error(void *uarg, struct sl_tcp_conn *tc, int reason)
{
	struct sl_app_conn *c = uarg;

	(void)tc;
	if (c->dead)
		return;
	enter(c);
	if (c->ops->error)
		c->ops->error(c, reason);
	if (!c->dead)
		sl_app_abort(c);
	leave(c);
}

static void tcp_connected(void *uarg, struct sl_tcp_conn *tc)
{
	struct sl_app_conn *c = uarg;

	(void)tc;
	if (c->dead)
		return;
	enter(c);
	if (c->ops->connected)
		c->ops->connected(c);
	leave(c);
}

static const struct sl_tcp_ops tcp_ops = {
	.connected = tcp_connected, .recv = tcp_recv, .writable = tcp_writable,
	.peer_closed = tcp_peer_closed, .error = tcp_error,
};

/* ---- classification: which application serves lip:lport. Test endpoints
 * on the interface addresses first, then the current generation: a VS's
 * application type decides, so a type change applies to new connections
 * at once and a removed VS refuses them. */
static bool is_local(const struct sl_app_worker *aw, uint32_t ip)
{
	for (unsigned i = 0; i < aw->n_local_ips; i++)
		if (aw->local_ips[i] == ip)
			return true;
	return false;
}

static const struct sl_app_ops *classify(struct sl_app_worker *aw, uint32_t lip, uint16_t lport,
					 const struct sl_gen_vs **vsp)
{
	const struct sl_gen *g = sl_app_current_gen(aw);
	const struct sl_gen_vs *vs;

	*vsp = NULL;
	if (lport && is_local(aw, lip)) {
		if (lport == aw->conf.echo_port)
			return &sl_app_echo_ops;
		if (lport == aw->conf.sink_port)
			return &sl_app_sink_ops;
		if (lport == aw->conf.source_port)
			return &sl_app_source_ops;
	}
	if (!g)
		return NULL;
	vs = sl_gen_lookup(g, lip, IPPROTO_TCP, lport);
	if (vs && vs->enabled && vs->app_type == SL_APP_L4) {
		*vsp = vs;
		return &sl_app_l4_ops;
	}
	if (vs && vs->enabled && vs->app_type == SL_APP_HTTP && vs->http) {
		*vsp = vs;
		return &sl_app_http_ops;
	}
	/* DNS VSs answer over TCP on their UDP service port (RFC 7766) */
	vs = sl_gen_lookup(g, lip, IPPROTO_UDP, lport);
	if (vs && vs->enabled && vs->app_type == SL_APP_DNS && vs->app) {
		*vsp = vs;
		return &sl_app_dns_ops;
	}
	return NULL;
}

bool sl_app_serves(void *arg, uint32_t lip, uint16_t lport)
{
	struct sl_app_worker *aw = arg;
	const struct sl_gen_vs *vs;

	return classify(aw, lip, lport, &vs) != NULL;
}

static int on_accept(void *arg, struct sl_tcp_conn *tc)
{
	struct sl_app_worker *aw = arg;
	const struct sl_gen_vs *vs;
	const struct sl_gen_listener *lst;
	const struct sl_app_ops *ops;
	struct sl_app_conn *c;
	int rc;

	c = conn_get(aw);
	if (!c)
		return -ENOBUFS;
	sl_tcp_conn_tuple(tc, &c->lip, &c->lport, &c->rip, &c->rport);
	/* classified again: the generation may have changed since the SYN */
	ops = classify(aw, c->lip, c->lport, &vs);
	if (!ops || gen_pin(c, sl_app_current_gen(aw))) {
		conn_free(c);
		return -ENOENT;
	}
	c->tc = tc;
	c->ops = ops;
	c->passive = true;
	sl_tcp_set_ops(tc, &tcp_ops, c);
	/* the window opens as the application consumes, not as bytes arrive */
	sl_tcp_set_manual_window(tc, true);
	enter(c);
	lst = vs ? sl_gen_lookup_listener(c->gen, c->lip, IPPROTO_TCP, c->lport) : NULL;
	if (lst && lst->enable_http2 && ops == &sl_app_http_ops)
		/* HTTP/2 beside HTTP/1.1: ALPN (TLS) or the preface (cleartext) picks */
		c->ops = ops = &sl_app_h2c_ops;
	if (lst && lst->enable_ssl && vs->tls)
		/* TLS under the application, which it accepts after the handshake */
		rc = sl_app_tls_accept(c, vs, ops);
	else
		rc = ops->accept ? ops->accept(c, vs) : 0;
	if (rc < 0 && !c->dead) {
		/* the stack resets it on our refusal: give up the context only */
		c->tc = NULL;
		timer_unlink(c);
		q_release(aw, &c->in);
		gen_unpin(c);
		c->dead = true;
	}
	leave(c);
	if (rc < 0)
		return rc;
	aw->st.accepted++;
	return 0;
}

const struct sl_tcp_listen_ops sl_app_listen_ops = { .accept = on_accept };

struct sl_app_conn *sl_app_connect(struct sl_app_worker *aw, uint32_t ip, uint16_t port,
				   const struct sl_app_ops *ops, void *ctx, int *err)
{
	const struct sl_app_env *env = &aw->env;
	uint32_t src = env->src_for ? env->src_for(env->arg, ip) : 0;
	struct sl_app_conn *c;

	if (!src) {
		*err = -EHOSTUNREACH;
		return NULL;
	}
	c = conn_get(aw);
	if (!c) {
		*err = -ENOBUFS;
		return NULL;
	}
	/* no pin of its own: an active open serves a connection that holds one
	 * (a pooled server connection outlives its first client's generation) */
	c->ops = ops;
	c->ctx = ctx;
	c->tc = sl_tcp_connect(env->st, src, ip, port, &tcp_ops, c, err);
	if (!c->tc) {
		conn_free(c);
		return NULL;
	}
	sl_tcp_conn_tuple(c->tc, &c->lip, &c->lport, &c->rip, &c->rport);
	sl_tcp_set_manual_window(c->tc, true);
	return c;
}

/* ---- clock and generation */
uint64_t sl_app_now(const struct sl_app_conn *c)
{
	return *c->aw->env.now_us;
}

const struct sl_gen *sl_app_current_gen(const struct sl_app_worker *aw)
{
	return __atomic_load_n((const struct sl_gen *const *)aw->env.gen, __ATOMIC_RELAXED);
}

const struct sl_app_env *sl_app_env(const struct sl_app_worker *aw)
{
	return &aw->env;
}

struct rte_mbuf *sl_app_mbuf(struct sl_app_worker *aw)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(aw->env.pool);

	/* its hash.fdir may carry a stale received-payload sum (engine.h, sl_psum_*) */
	if (m)
		m->hash.fdir.hi = 0;
	return m;
}

/* ---- snapshot for the operator: asked by a reader thread, filled by the
 * worker in sl_app_tick, so the reader never reads a live context */
static void snap_fill(struct sl_app_worker *aw)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < aw->conf.max_conns && n < aw->snap_max; i++) {
		const struct sl_app_conn *c = &aw->conns[i];
		struct sl_app_snap *s;
		struct sl_tcp_conn_info ci;

		if (!c->ops || c->dead || !c->tc)
			continue;
		s = &aw->snap[n++];
		sl_tcp_conn_info(c->tc, &ci);
		s->lip = c->lip;
		s->rip = c->rip;
		s->lport = c->lport;
		s->rport = c->rport;
		s->state = (uint8_t)sl_tcp_conn_state(c->tc);
		s->app = c->ops->name;
		s->in_bytes = c->in.bytes;
		s->eof = c->eof;
		s->snd_wnd = ci.snd_wnd;
		s->rcv_wnd = ci.rcv_wnd;
		s->cwnd = ci.cwnd;
		s->rto_us = ci.rto_us;
		s->space = sl_tcp_send_space(c->tc);
		s->gen = c->gen ? c->gen->id : 0;
		s->detail[0] = 0;
		if (c->ops->describe)
			c->ops->describe(c, s->detail, sizeof(s->detail));
	}
	aw->snap_n = n;
}


/* ---- ticks */
void sl_app_tick(struct sl_app_worker *aw, uint64_t now)
{
	uint64_t ms = now / 1000;
	unsigned steps = 0;
	uint32_t req = __atomic_load_n(&aw->snap_req, __ATOMIC_ACQUIRE);

	if (req != aw->snap_done) {
		snap_fill(aw);
		__atomic_store_n(&aw->snap_done, req, __ATOMIC_RELEASE);
	}
	/* a slot is run once its whole millisecond has passed, so every
	 * deadline in it is due (a slot run early would leave the rest of its
	 * millisecond waiting a whole round of the wheel) */
	while (aw->wheel_ms + 1 < ms && steps++ <= WHEEL_MASK) {
		struct sl_app_conn **slot;

		aw->wheel_ms++;
		slot = &aw->wheel[aw->wheel_ms & WHEEL_MASK];
		for (struct sl_app_conn *c = *slot, *next; c; c = next) {
			next = c->tnext;
			if (c->deadline_us > now)
				continue;        /* a later round */
			timer_unlink(c);
			if (c->dead || !c->ops->timer)
				continue;
			/* the callback may end c or others in this slot: restart the
			 * slot's walk after it (a fired timer is off the wheel, so the
			 * walk ends) */
			enter(c);
			c->ops->timer(c);
			leave(c);
			next = *slot;
		}
	}
	if (aw->wheel_ms + 1 < ms)
		aw->wheel_ms = ms - 1;   /* far behind (a stalled loop): the rest fire next round */
	sl_up_tick(aw, now);
	sl_app_l4_tick(aw, now);
	sl_app_http_tick(aw, now);
	sl_app_h2_tick(aw, now);
	sl_app_run_deferred(aw);
}
