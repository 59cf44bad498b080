/* Packetdrill-style harness. Script lines:
 *
 *   TIME CMD ARGS...        TIME = N (ms from start) or +N (ms after the previous line)
 *
 *   <  FLAGS k=v...   inject a segment from the peer. FLAGS: S F R P and '.' (ACK).
 *                     seq= (relative to the peer ISN), ack= (relative to our ISN),
 *                     len=, win= (raw field, default 65535), mss=, ws=, sackok,
 *                     ts=VAL:ECR (ECR '$' = our last TSval), sack=L:R[,L:R] (our ISN
 *                     relative), sport= (default 40000).
 *   >  FLAGS k=v...   the next segment the stack emitted must have exactly these
 *                     flags, have been emitted at TIME, and match every field given:
 *                     seq= ack= len= win= mss= ws= ts=*:ECR sack=L:R,.. (peer ISN
 *                     relative), and the words sackok nosackok nots nows nomss nosack.
 *   app listen | connect | send N | send_eagain N | close | shutdown | abort
 *       | nodelay | manual | consume N | keepalive | refuse | newpeer PORT | bufs SND RCV
 *       | switch PORT (back to the connection of an earlier newpeer)
 *   expect event NAME | rcvd N | state NAME | counter NAME N | conns N | tw N
 *          | writable N | noevent | blocks SNDQ OOO (queue blocks in use)
 *          | waiters N (connections waiting for a send block)
 *
 * Before any line other than '>', every segment emitted so far must have been
 * matched; at the end nothing may be left unmatched (segments or events).
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TB_MAGIC 0x7b0f5eedu

long tbuf_live;

struct tbuf *tbuf_new(const void *data, uint32_t len)
{
	struct tbuf *b = malloc(sizeof(*b) + len + 1);
	cr_assert(b);
	b->magic = TB_MAGIC;
	b->refs = 1;
	b->len = len;
	b->next = NULL;
	if (data && len)
		memcpy(b->data, data, len);
	tbuf_live++;
	return b;
}

void tbuf_put(struct tbuf *b)
{
	while (b) {
		cr_assert_eq(b->magic, TB_MAGIC, "unref of a freed buffer");
		cr_assert_gt(b->refs, 0, "refcount underflow");
		if (--b->refs)
			return;
		struct tbuf *n = b->next;
		b->magic = 0;
		free(b);
		tbuf_live--;
		b = n;
	}
}

static void tb_ref(void *ctx, struct sl_buf *sb)
{
	(void)ctx;
	struct tbuf *b = (struct tbuf *)sb;
	cr_assert_eq(b->magic, TB_MAGIC, "ref of a freed buffer");
	b->refs++;
}

static void tb_unref(void *ctx, struct sl_buf *sb)
{
	(void)ctx;
	tbuf_put((struct tbuf *)sb);
}

static const uint8_t *tb_data(void *ctx, const struct sl_buf *sb, uint32_t *len)
{
	(void)ctx;
	const struct tbuf *b = (const struct tbuf *)sb;
	*len = b->len;
	return b->data;
}

static struct sl_buf *tb_next(void *ctx, const struct sl_buf *sb)
{
	(void)ctx;
	return (struct sl_buf *)((const struct tbuf *)sb)->next;
}

const struct sl_buf_ops tbuf_ops = { tb_ref, tb_unref, tb_data, tb_next };

void tbuf_copy(const struct sl_buf *sb, uint32_t off, uint32_t len, uint8_t *out)
{
	const struct tbuf *b = (const struct tbuf *)sb;
	while (len) {
		cr_assert(b, "payload reference beyond the buffer chain");
		cr_assert_eq(b->magic, TB_MAGIC, "payload reference to a freed buffer");
		if (off >= b->len) {
			off -= b->len;
			b = b->next;
			continue;
		}
		uint32_t n = b->len - off < len ? b->len - off : len;
		memcpy(out, b->data + off, n);
		out += n;
		len -= n;
		off = 0;
		b = b->next;
	}
}

/* ------------------------------------------------------------ capture */
static int pd_tx(void *arg, const struct sl_tcp_seg_out *o)
{
	struct pd *p = arg;
	cr_assert_lt(p->cap_n, PD_MAX_CAP, "too many unmatched segments");
	struct cap *c = &p->cap[(p->cap_head + p->cap_n++) % PD_MAX_CAP];
	c->o = *o;
	c->t_ms = (p->now_us - p->base_us) / 1000;
	cr_assert_eq(sl_tcp_parse_hdr(o->hdr, o->hdr_len, &c->parsed), 0, "emitted header does not parse");
	cr_assert_eq(c->parsed.seq, o->h.seq);
	cr_assert_eq(c->parsed.ack, o->h.ack);
	cr_assert_eq(c->parsed.flags, o->h.flags);
	cr_assert(o->csum_flags & SL_TCP_CSUM_NEEDED);
	free(c->payload);
	c->payload = malloc(o->payload_len + 1);
	uint32_t got = 0;
	for (unsigned i = 0; i < o->n_iov; i++) {
		tbuf_copy(o->iov[i].buf, o->iov[i].off, o->iov[i].len, c->payload + got);
		got += o->iov[i].len;
	}
	cr_assert_eq(got, o->payload_len, "iov lengths do not add up");
	if (o->h.opts.has_ts)
		p->last_tsval = o->h.opts.ts_val;
	return 0;
}

struct cap *pd_pop(struct pd *p)
{
	if (!p->cap_n)
		return NULL;
	struct cap *c = &p->cap[p->cap_head];
	p->cap_head = (p->cap_head + 1) % PD_MAX_CAP;
	p->cap_n--;
	return c;
}

static void ev_push(struct pd *p, const char *name)
{
	cr_assert_lt(p->ev_n, PD_MAX_EV);
	snprintf(p->ev[(p->ev_head + p->ev_n++) % PD_MAX_EV], sizeof(p->ev[0]), "%s", name);
}

static void cb_connected(void *u, struct sl_tcp_conn *c)
{
	(void)c;
	ev_push(u, "connected");
}
static void cb_recv(void *u, struct sl_tcp_conn *c, struct sl_buf *b, uint32_t off, uint32_t len)
{
	(void)c;
	struct pd *p = u;
	uint8_t tmp[65536];
	cr_assert_leq(len, sizeof(tmp));
	tbuf_copy(b, off, len, tmp); /* also proves the reference is live */
	p->rcvd += len;
}
static void cb_writable(void *u, struct sl_tcp_conn *c)
{
	(void)c;
	((struct pd *)u)->writable++;
}
static void cb_peer_closed(void *u, struct sl_tcp_conn *c)
{
	(void)c;
	ev_push(u, "peer_closed");
}
static void cb_error(void *u, struct sl_tcp_conn *c, int reason)
{
	(void)c;
	ev_push(u, reason == SL_TCP_ERR_RESET	  ? "error_reset"
		   : reason == SL_TCP_ERR_TIMEOUT ? "error_timeout"
						  : "error_refused");
}
static const struct sl_tcp_ops pd_ops = { cb_connected, cb_recv, cb_writable, cb_peer_closed, cb_error };

static int cb_accept(void *arg, struct sl_tcp_conn *c)
{
	struct pd *p = arg;
	if (p->accept_refuse)
		return -ECONNREFUSED;
	ev_push(p, "accept");
	p->conn = c;
	sl_tcp_set_ops(c, &pd_ops, p);
	return 0;
}
static const struct sl_tcp_listen_ops pd_lops = { cb_accept };

void pd_init(struct pd *p, pd_tweak_fn tweak)
{
	memset(p, 0, sizeof(*p));
	sl_tcp_conf_defaults(&p->conf);
	p->conf.max_conns = 64;
	p->conf.seed = 42;
	p->conf.buf_ops = &tbuf_ops;
	p->conf.tx = pd_tx;
	p->conf.tx_arg = p;
	if (tweak)
		tweak(&p->conf);
	p->base_us = p->now_us = 100ull * 1000000; /* 100 s: the connection starts "idle" */
	p->st = sl_tcp_stack_create(&p->conf, p->now_us);
	cr_assert(p->st);
	p->lip = 0x010012c6;  /* 198.18.0.1 in network order (little-endian host) */
	p->rip = 0x020012c6;  /* 198.18.0.2 */
	p->lport = 8080;
	p->rport = 40000;
	p->peer_isn = 1000000;
}

void pd_fini(struct pd *p)
{
	cr_assert_eq(p->cap_n, 0, "line %d: %u unmatched segment(s) left, first flags 0x%x seq %u at %llu ms",
		     p->line, p->cap_n, p->cap_n ? p->cap[p->cap_head].o.h.flags : 0,
		     p->cap_n ? p->cap[p->cap_head].o.h.seq - p->our_isn : 0,
		     p->cap_n ? (unsigned long long)p->cap[p->cap_head].t_ms : 0ull);
	cr_assert_eq(p->ev_n, 0, "unmatched event '%s'", p->ev_n ? p->ev[p->ev_head] : "");
	for (unsigned i = 0; i < PD_MAX_CAP; i++)
		free(p->cap[i].payload), p->cap[i].payload = NULL;
	sl_tcp_stack_destroy(p->st);
	cr_assert_eq(tbuf_live, 0, "%ld buffer(s) leaked", tbuf_live);
}

void pd_step_to(struct pd *p, uint64_t ms)
{
	uint64_t target = p->base_us + ms * 1000;
	while (p->now_us < target) {
		p->now_us += 1000;
		sl_tcp_tick(p->st, p->now_us);
	}
}

void pd_inject(struct pd *p, uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
	       const struct sl_tcp_opts *o, uint32_t len)
{
	struct sl_tcp_hdr h;
	memset(&h, 0, sizeof(h));
	h.sport = sport;
	h.dport = p->lport;
	h.seq = seq;
	h.ack = ack;
	h.flags = flags;
	h.win = win;
	if (o)
		h.opts = *o;
	uint8_t hdr[60];
	int hl = sl_tcp_build_hdr(&h, hdr);
	cr_assert_gt(hl, 0);
	struct tbuf *b = NULL;
	if (len) {
		b = tbuf_new(NULL, len);
		for (uint32_t i = 0; i < len; i++)
			b->data[i] = (uint8_t)(seq + i);
	}
	struct sl_tcp_seg_in in = { .saddr = p->rip, .daddr = p->lip, .tcp = hdr, .tcp_len = (uint32_t)hl,
				    .payload = (struct sl_buf *)b, .payload_off = 0, .payload_len = len };
	sl_tcp_input(p->st, &in, p->now_us);
	if (b)
		tbuf_put(b); /* the stack took its own references if it kept data */
}

/* ------------------------------------------------------------ counters */
uint64_t pd_counter(const struct pd *p, const char *name)
{
	const uint64_t *c = (const uint64_t *)sl_tcp_counters(p->st);
	for (size_t i = 0; i < SL_TCP_N_COUNTERS; i++)
		if (!strcmp(sl_tcp_counter_names[i], name))
			return c[i];
	cr_assert_fail("unknown counter %s", name);
	return 0;
}

/* ------------------------------------------------------------ script */
static uint8_t parse_flags(struct pd *p, const char *s)
{
	uint8_t f = 0;
	for (; *s; s++) {
		switch (*s) {
		case 'S': f |= SL_TCP_SYN; break;
		case 'F': f |= SL_TCP_FIN; break;
		case 'R': f |= SL_TCP_RST; break;
		case 'P': f |= SL_TCP_PSH; break;
		case '.': f |= SL_TCP_ACK; break;
		default: cr_assert_fail("line %d: bad flag '%c'", p->line, *s);
		}
	}
	return f;
}

static int64_t num(struct pd *p, const char *s)
{
	char *e;
	long long v = strtoll(s, &e, 0);
	cr_assert(e != s && (*e == 0 || *e == ':' || *e == ','), "line %d: bad number '%s'", p->line, s);
	return v;
}

struct fields {
	bool seq, ack, len, win, mss, ws, ts, sack, sackok, nosackok, nots, nows, nomss, nosack, sport;
	bool ts_any_ecr, ts_ecr_last;
	uint32_t vseq, vack, vlen, vwin, vmss, vws, vtsv, vtse, vsport;
	unsigned nsack;
	uint32_t sl[4], sr[4];
};

static void parse_fields(struct pd *p, char **tok, int n, struct fields *f)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < n; i++) {
		char *t = tok[i], *v = strchr(t, '=');
		if (v)
			*v++ = 0;
		if (!strcmp(t, "seq")) f->seq = true, f->vseq = (uint32_t)num(p, v);
		else if (!strcmp(t, "ack")) f->ack = true, f->vack = (uint32_t)num(p, v);
		else if (!strcmp(t, "len")) f->len = true, f->vlen = (uint32_t)num(p, v);
		else if (!strcmp(t, "win")) f->win = true, f->vwin = (uint32_t)num(p, v);
		else if (!strcmp(t, "mss")) f->mss = true, f->vmss = (uint32_t)num(p, v);
		else if (!strcmp(t, "ws")) f->ws = true, f->vws = (uint32_t)num(p, v);
		else if (!strcmp(t, "sport")) f->sport = true, f->vsport = (uint32_t)num(p, v);
		else if (!strcmp(t, "sackok")) f->sackok = true;
		else if (!strcmp(t, "nosackok")) f->nosackok = true;
		else if (!strcmp(t, "nots")) f->nots = true;
		else if (!strcmp(t, "nows")) f->nows = true;
		else if (!strcmp(t, "nomss")) f->nomss = true;
		else if (!strcmp(t, "nosack")) f->nosack = true;
		else if (!strcmp(t, "ts")) {
			f->ts = true;
			char *c = strchr(v, ':');
			cr_assert(c, "line %d: ts=VAL:ECR", p->line);
			*c++ = 0;
			f->vtsv = *v == '*' ? 0 : (uint32_t)num(p, v);
			if (*c == '*')
				f->ts_any_ecr = true;
			else if (*c == '$')
				f->ts_ecr_last = true;
			else
				f->vtse = (uint32_t)num(p, c);
		} else if (!strcmp(t, "sack")) {
			f->sack = true;
			for (char *b = strtok(v, ","); b; b = strtok(NULL, ",")) {
				cr_assert_lt(f->nsack, 4u);
				char *c = strchr(b, ':');
				cr_assert(c, "line %d: sack=L:R", p->line);
				*c++ = 0;
				f->sl[f->nsack] = (uint32_t)num(p, b);
				f->sr[f->nsack++] = (uint32_t)num(p, c);
			}
		} else {
			cr_assert_fail("line %d: unknown field '%s'", p->line, t);
		}
	}
}

static void do_inbound(struct pd *p, uint8_t flags, struct fields *f)
{
	struct sl_tcp_opts o;
	memset(&o, 0, sizeof(o));
	if (f->mss) o.has_mss = true, o.mss = (uint16_t)f->vmss;
	if (f->ws) o.has_ws = true, o.ws = (uint8_t)f->vws;
	if (f->sackok) o.sack_ok = true;
	if (f->ts) {
		o.has_ts = true;
		o.ts_val = f->vtsv;
		o.ts_ecr = f->ts_ecr_last ? p->last_tsval : f->vtse;
	}
	for (unsigned i = 0; i < f->nsack; i++) {
		o.sack[i].left = p->our_isn + f->sl[i];
		o.sack[i].right = p->our_isn + f->sr[i];
	}
	o.n_sack = (uint8_t)f->nsack;
	pd_inject(p, f->sport ? (uint16_t)f->vsport : p->rport, flags, p->peer_isn + f->vseq,
		  f->ack ? p->our_isn + f->vack : 0, f->win ? (uint16_t)f->vwin : 65535, &o, f->vlen);
}

static void do_outbound(struct pd *p, uint8_t flags, struct fields *f)
{
	struct cap *c = pd_pop(p);
	int ln = p->line;
	cr_assert(c, "line %d: expected a segment (flags 0x%x), none emitted", ln, flags);
	const struct sl_tcp_hdr *h = &c->parsed;
	if ((h->flags & SL_TCP_SYN) && !p->have_isn) {
		p->our_isn = h->seq;
		p->have_isn = true;
	}
	uint32_t rseq = h->seq - p->our_isn, rack = h->ack - p->peer_isn;
	cr_assert_eq(h->flags, flags, "line %d: flags 0x%x, expected 0x%x (seq %u ack %u len %u at %llu ms)", ln,
		     h->flags, flags, rseq, rack, c->o.payload_len, (unsigned long long)c->t_ms);
	cr_assert_eq(c->t_ms, p->line_ms, "line %d: segment emitted at %llu ms, expected %llu ms", ln,
		     (unsigned long long)c->t_ms, (unsigned long long)p->line_ms);
	cr_assert_eq(h->sport, p->lport, "line %d: sport", ln);
	if (f->seq) cr_assert_eq(rseq, f->vseq, "line %d: seq %u, expected %u", ln, rseq, f->vseq);
	if (f->ack) cr_assert_eq(rack, f->vack, "line %d: ack %u, expected %u", ln, rack, f->vack);
	if (f->len) cr_assert_eq(c->o.payload_len, f->vlen, "line %d: len %u, expected %u", ln, c->o.payload_len, f->vlen);
	if (f->win) cr_assert_eq(h->win, f->vwin, "line %d: win %u, expected %u", ln, h->win, f->vwin);
	if (f->mss) cr_assert(h->opts.has_mss && h->opts.mss == f->vmss, "line %d: mss %u", ln, h->opts.mss);
	if (f->nomss) cr_assert(!h->opts.has_mss, "line %d: unexpected mss", ln);
	if (f->ws) cr_assert(h->opts.has_ws && h->opts.ws == f->vws, "line %d: ws %u", ln, h->opts.ws);
	if (f->nows) cr_assert(!h->opts.has_ws, "line %d: unexpected ws", ln);
	if (f->sackok) cr_assert(h->opts.sack_ok, "line %d: sackOK missing", ln);
	if (f->nosackok) cr_assert(!h->opts.sack_ok, "line %d: unexpected sackOK", ln);
	if (f->nots) cr_assert(!h->opts.has_ts, "line %d: unexpected timestamp", ln);
	if (f->ts) {
		cr_assert(h->opts.has_ts, "line %d: timestamp missing", ln);
		if (!f->ts_any_ecr)
			cr_assert_eq(h->opts.ts_ecr, f->vtse, "line %d: ts ecr %u expected %u", ln, h->opts.ts_ecr,
				     f->vtse);
	}
	if (f->nosack) cr_assert_eq(h->opts.n_sack, 0, "line %d: unexpected SACK blocks", ln);
	if (f->sack) {
		cr_assert_eq(h->opts.n_sack, f->nsack, "line %d: %u SACK blocks, expected %u", ln, h->opts.n_sack,
			     f->nsack);
		for (unsigned i = 0; i < f->nsack; i++) {
			uint32_t l = h->opts.sack[i].left - p->peer_isn, r = h->opts.sack[i].right - p->peer_isn;
			cr_assert(l == f->sl[i] && r == f->sr[i], "line %d: SACK block %u is %u:%u, expected %u:%u",
				  ln, i, l, r, f->sl[i], f->sr[i]);
		}
	}
}

/* Remember the current connection (by peer port) before talking to another. */
static void peer_save(struct pd *p)
{
	unsigned i;
	for (i = 0; i < p->n_peers && p->peers[i].rport != p->rport; i++)
		;
	if (i == p->n_peers) {
		cr_assert_lt(p->n_peers, sizeof(p->peers) / sizeof(p->peers[0]));
		p->n_peers++;
	}
	p->peers[i] = (struct pd_peer){ p->rport, p->have_isn, p->our_isn, p->conn };
}

static void do_app(struct pd *p, char **tok, int n)
{
	int ln = p->line;
	cr_assert_geq(n, 1, "line %d: app what?", ln);
	const char *w = tok[0];
	if (!strcmp(w, "listen")) {
		int err;
		p->lst = sl_tcp_listen(p->st, 0, 8080, &pd_lops, p, &err);
		cr_assert(p->lst, "line %d: listen failed %d", ln, err);
	} else if (!strcmp(w, "connect")) {
		int err;
		p->conn = sl_tcp_connect(p->st, p->lip, p->rip, 80, &pd_ops, p, &err);
		cr_assert(p->conn, "line %d: connect failed %d", ln, err);
		uint32_t a, b;
		uint16_t lp, rp;
		sl_tcp_conn_tuple(p->conn, &a, &lp, &b, &rp);
		p->lport = lp;
		p->rport = rp;
	} else if (!strcmp(w, "send") || !strcmp(w, "send_eagain")) {
		cr_assert_eq(n, 2);
		uint32_t len = (uint32_t)num(p, tok[1]);
		struct tbuf *b = tbuf_new(NULL, len);
		for (uint32_t i = 0; i < len; i++)
			b->data[i] = (uint8_t)(p->data_off + i);
		int rc = sl_tcp_send(p->conn, (struct sl_buf *)b, 0, len);
		tbuf_put(b);
		if (!strcmp(w, "send")) {
			cr_assert_eq(rc, 0, "line %d: send returned %d", ln, rc);
			p->data_off += len;
		} else {
			cr_assert_eq(rc, -EAGAIN, "line %d: send returned %d, expected -EAGAIN", ln, rc);
		}
	} else if (!strcmp(w, "close")) {
		sl_tcp_close(p->conn);
		p->conn = NULL;
	} else if (!strcmp(w, "abort")) {
		sl_tcp_abort(p->conn);
		p->conn = NULL;
	} else if (!strcmp(w, "shutdown")) {
		cr_assert_eq(sl_tcp_shutdown(p->conn, 1), 0, "line %d: shutdown", ln);
	} else if (!strcmp(w, "nodelay")) {
		sl_tcp_set_nodelay(p->conn, true);
	} else if (!strcmp(w, "manual")) {
		sl_tcp_set_manual_window(p->conn, true);
	} else if (!strcmp(w, "consume")) {
		sl_tcp_consumed(p->conn, (uint32_t)num(p, tok[1]));
	} else if (!strcmp(w, "keepalive")) {
		sl_tcp_set_keepalive(p->conn, true);
	} else if (!strcmp(w, "bufs")) {
		cr_assert_eq(n, 3);
		cr_assert_eq(sl_tcp_set_bufs(p->conn, (uint32_t)num(p, tok[1]), (uint32_t)num(p, tok[2])), 0,
			     "line %d: set_bufs", ln);
	} else if (!strcmp(w, "newpeer")) {
		/* following lines talk about a new connection from this port */
		cr_assert_eq(n, 2);
		peer_save(p);
		p->rport = (uint16_t)num(p, tok[1]);
		p->have_isn = false;
	} else if (!strcmp(w, "switch")) {
		cr_assert_eq(n, 2);
		peer_save(p);
		uint16_t port = (uint16_t)num(p, tok[1]);
		unsigned i;
		for (i = 0; i < p->n_peers && p->peers[i].rport != port; i++)
			;
		cr_assert_lt(i, p->n_peers, "line %d: no earlier connection from port %u", ln, port);
		p->rport = port;
		p->have_isn = p->peers[i].have_isn;
		p->our_isn = p->peers[i].our_isn;
		p->conn = p->peers[i].conn;
	} else if (!strcmp(w, "refuse")) {
		p->accept_refuse = true;
	} else {
		cr_assert_fail("line %d: unknown app command %s", ln, w);
	}
}

static void do_expect(struct pd *p, char **tok, int n)
{
	int ln = p->line;
	cr_assert_geq(n, 1);
	const char *w = tok[0];
	if (!strcmp(w, "event")) {
		cr_assert(p->ev_n, "line %d: expected event %s, none", ln, tok[1]);
		const char *e = p->ev[p->ev_head];
		cr_assert_str_eq(e, tok[1], "line %d: event %s, expected %s", ln, e, tok[1]);
		p->ev_head = (p->ev_head + 1) % PD_MAX_EV;
		p->ev_n--;
	} else if (!strcmp(w, "noevent")) {
		cr_assert_eq(p->ev_n, 0, "line %d: unexpected event %s", ln, p->ev[p->ev_head]);
	} else if (!strcmp(w, "rcvd")) {
		cr_assert_eq(p->rcvd, (uint64_t)num(p, tok[1]), "line %d: rcvd %llu", ln, (unsigned long long)p->rcvd);
	} else if (!strcmp(w, "writable")) {
		cr_assert_eq(p->writable, (unsigned)num(p, tok[1]), "line %d: writable %u", ln, p->writable);
	} else if (!strcmp(w, "state")) {
		cr_assert(p->conn, "line %d: no connection", ln);
		const char *s = sl_tcp_state_name(sl_tcp_conn_state(p->conn));
		cr_assert_str_eq(s, tok[1], "line %d: state %s, expected %s", ln, s, tok[1]);
	} else if (!strcmp(w, "counter")) {
		uint64_t v = pd_counter(p, tok[1]);
		cr_assert_eq(v, (uint64_t)num(p, tok[2]), "line %d: counter %s = %llu, expected %s", ln, tok[1],
			     (unsigned long long)v, tok[2]);
	} else if (!strcmp(w, "conns")) {
		cr_assert_eq(sl_tcp_active_conns(p->st), (uint32_t)num(p, tok[1]), "line %d: conns %u", ln,
			     sl_tcp_active_conns(p->st));
	} else if (!strcmp(w, "blocks")) {
		cr_assert_eq(n, 3);
		struct sl_tcp_block_usage u;
		sl_tcp_block_usage(p->st, &u);
		cr_assert(u.sndq_used == (uint32_t)num(p, tok[1]) && u.ooo_used == (uint32_t)num(p, tok[2]),
			  "line %d: blocks in use: %u send, %u out-of-order", ln, u.sndq_used, u.ooo_used);
	} else if (!strcmp(w, "waiters")) {
		struct sl_tcp_block_usage u;
		sl_tcp_block_usage(p->st, &u);
		cr_assert_eq(u.sndq_waiters, (uint32_t)num(p, tok[1]), "line %d: %u waiters", ln, u.sndq_waiters);
	} else if (!strcmp(w, "tw")) {
		cr_assert_eq(sl_tcp_tw_count(p->st), (uint32_t)num(p, tok[1]), "line %d: tw %u", ln,
			     sl_tcp_tw_count(p->st));
	} else {
		cr_assert_fail("line %d: unknown expectation %s", ln, w);
	}
}

void pd_run(struct pd *p, const char *script)
{
	char *copy = strdup(script), *save = NULL;
	uint64_t t_ms = 0;
	p->line = 0;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		p->line++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *tok[32];
		int n = 0;
		for (char *s2 = NULL, *t = strtok_r(line, " \t", &s2); t && n < 32; t = strtok_r(NULL, " \t", &s2))
			tok[n++] = t;
		if (!n)
			continue;
		if (tok[0][0] == '+')
			t_ms += (uint64_t)num(p, tok[0] + 1);
		else
			t_ms = (uint64_t)num(p, tok[0]);
		p->line_ms = t_ms;
		cr_assert_geq(n, 2, "line %d: command missing", p->line);
		const char *cmd = tok[1];
		if (strcmp(cmd, ">")) {
			cr_assert_eq(p->cap_n, 0,
				     "line %d: unexpected segment flags 0x%x seq %u ack %u len %u emitted at %llu ms",
				     p->line, p->cap[p->cap_head].parsed.flags,
				     p->cap[p->cap_head].parsed.seq - p->our_isn,
				     p->cap[p->cap_head].parsed.ack - p->peer_isn, p->cap[p->cap_head].o.payload_len,
				     (unsigned long long)p->cap[p->cap_head].t_ms);
		}
		pd_step_to(p, t_ms);
		struct fields f;
		if (!strcmp(cmd, "<")) {
			cr_assert_geq(n, 3);
			uint8_t fl = parse_flags(p, tok[2]);
			parse_fields(p, tok + 3, n - 3, &f);
			do_inbound(p, fl, &f);
		} else if (!strcmp(cmd, ">")) {
			cr_assert_geq(n, 3);
			uint8_t fl = parse_flags(p, tok[2]);
			parse_fields(p, tok + 3, n - 3, &f);
			do_outbound(p, fl, &f);
		} else if (!strcmp(cmd, "app")) {
			do_app(p, tok + 2, n - 2);
		} else if (!strcmp(cmd, "expect")) {
			do_expect(p, tok + 2, n - 2);
		} else if (strcmp(cmd, "tick")) {
			cr_assert_fail("line %d: unknown command %s", p->line, cmd);
		}
	}
	free(copy);
}
