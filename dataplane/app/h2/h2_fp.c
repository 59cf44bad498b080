/* HTTP/2 to clients: an nghttp2 server session per connection, driven over
 * the application layer's byte stream (mem_recv / mem_send, no sockets),
 * whose every stream becomes a virtual connection (sl_app_vconn_open) the
 * HTTP/1.1 proxy serves as if a client had sent the request over HTTP/1.1:
 * the same policies, pools, keep-alive server connections, access logs and
 * counters, with no second proxy to keep in step. The stream's request is
 * written as an HTTP/1.1 head (pseudo-headers to the request line and
 * Host) plus its body (chunked when the client gave no length); what the
 * proxy answers is parsed back (sl_h1) into HEADERS and DATA frames.
 *
 * Flow control follows back-pressure end to end: request DATA is
 * acknowledged to the client (WINDOW_UPDATE) only as the proxy consumes it
 * towards the server; a stream holds at most H2_STREAM_OUT_MAX bytes of
 * response, beyond which the proxy stops reading the server; frames go to
 * TCP only while it has send space.
 *
 * Re-entrancy: nghttp2's callbacks and the virtual connections' hooks only
 * record what happened; the proxy is called, and connections end, from the
 * carrier's own callbacks or from the deferred pass (sl_app_defer), never
 * from inside the proxy's call stack.
 *
 * Per-packet code: nghttp2 allocates from the worker's arena (h2_mem.c),
 * sessions and streams come from per-worker pools; no lock, no log. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "h2_priv.h"

#define NGH(c) (C(c)->s)

static inline struct h2c *C(struct sl_app_conn *c) { return sl_app_priv(c, struct h2c); }

static const struct sl_app_vops stream_vops;
static void sess_end(struct sl_app_conn *c, bool rst);

/* ---- pools */
static struct h2_stream *strm_get(struct h2_sess *s)
{
	struct sl_app_h2_worker *w = s->w;
	struct h2_stream *st = w->free_strm;

	if (!st)
		return NULL;
	w->free_strm = st->next_free;
	memset(st, 0, sizeof(*st));
	st->s = s;
	st->next = s->streams;
	if (s->streams)
		s->streams->prev = st;
	s->streams = st;
	s->n_streams++;
	return st;
}

static void strm_put(struct h2_stream *st)
{
	struct h2_sess *s = st->s;
	struct sl_app_worker *aw = s->w->aw;

	sl_app_q_release(aw, &st->hq);
	sl_app_q_release(aw, &st->pq);
	sl_app_q_release(aw, &st->aq);
	sl_app_q_release(aw, &st->out);
	if (st->prev)
		st->prev->next = st->next;
	else
		s->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	s->n_streams--;
	st->s = NULL;
	st->next_free = s->w->free_strm;
	s->w->free_strm = st;
}

/* A stream is given back once nghttp2 closed it and the proxy's virtual
 * connection ended. */
static void strm_maybe_free(struct h2_stream *st)
{
	if (st->s && st->ng_closed && !st->vc)
		strm_put(st);
}

/* ---- request: the HTTP/1.1 head, assembled from the header block */
static int qput(struct h2_stream *st, struct sl_app_inq *q, const void *d, size_t n)
{
	return sl_app_q_copy_in(st->s->w->aw, q, d, (uint32_t)n);
}

static bool lname_is(const uint8_t *n, size_t len, const char *s)
{
	return len == strlen(s) && !memcmp(n, s, len);
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct h2_sess *s = ud;
	struct h2_stream *st;

	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (s->closing) {
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	st = strm_get(s);
	if (!st) {
		s->w->st.streams_refused++;
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	st->id = f->hd.stream_id;
	nghttp2_session_set_stream_user_data(ng, st->id, st);
	s->w->st.streams++;
	if (s->vs->http->h2_max_requests && ++s->n_req >= s->vs->http->h2_max_requests && !s->goaway) {
		/* the profile's requests per connection: this one is the last, the
		 * client opens a new connection for the next (GOAWAY NO_ERROR) */
		s->goaway = s->closing = true;
		s->w->st.goaway_sent++;
		nghttp2_submit_goaway(ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR, NULL, 0);
	}
	return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
		     const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct h2_sess *s = ud;
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	int rc = 0;

	(void)flags;
	if (!st || st->bad)
		return 0;
	if (f->headers.cat != NGHTTP2_HCAT_REQUEST) {
		/* trailers: not forwarded (the HTTP/1.1 side would need them
		 * chunked); bounded like the head */
		st->hdr_bytes += (uint32_t)(nlen + vlen + 32);
		return st->hdr_bytes > H2_HDR_LIST_MAX ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
	}
	st->hdr_bytes += (uint32_t)(nlen + vlen + 32);
	if (st->hdr_bytes > H2_HDR_LIST_MAX || nlen + vlen > s->vs->http->h2_field_max) {
		s->w->st.header_list_too_large++;
		st->bad = true;
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;   /* RST_STREAM; the HPACK state stays whole */
	}
	if (nlen && name[0] == ':') {
		/* nghttp2 checked the set (RFC 9113 8.3): each once, before
		 * the regular fields, none unknown */
		if (lname_is(name, nlen, ":method")) {
			if (vlen >= sizeof(st->method))
				return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
			memcpy(st->method, value, vlen);
			st->method_len = (uint8_t)vlen;
			st->head_req = vlen == 4 && !memcmp(value, "HEAD", 4);
		} else if (lname_is(name, nlen, ":path")) {
			rc = qput(st, &st->pq, value, vlen);
		} else if (lname_is(name, nlen, ":authority")) {
			rc = qput(st, &st->aq, value, vlen);
		}
		return rc ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
	}
	if (lname_is(name, nlen, "host")) {
		/* :authority wins (RFC 9113 8.3.1); Host only stands in for it */
		if (!st->aq.bytes)
			rc = qput(st, &st->aq, value, vlen);
		return rc ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
	}
	if (lname_is(name, nlen, "te"))
		return 0;    /* only "trailers" is allowed (nghttp2 checks): hop-by-hop */
	if (lname_is(name, nlen, "content-length"))
		st->has_cl = true;
	if (qput(st, &st->hq, name, nlen) || qput(st, &st->hq, ": ", 2) || qput(st, &st->hq, value, vlen) ||
	    qput(st, &st->hq, "\r\n", 2))
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

/* Moves the bytes of q onto the virtual connection's input. */
static int q_move(struct h2_stream *st, struct sl_app_inq *q)
{
	struct sl_app_worker *aw = st->s->w->aw;
	const uint8_t *p;
	uint32_t n;

	while ((p = sl_app_q_first(q, &n)) != NULL) {
		if (sl_app_in_push(st->vc, p, n))
			return -ENOBUFS;
		sl_app_q_consume(aw, q, n);
	}
	return 0;
}

static int vpush(struct h2_stream *st, const char *s)
{
	return sl_app_in_push(st->vc, s, (uint32_t)strlen(s));
}

/* The header block is complete: the virtual connection is opened and the
 * HTTP/1.1 head pushed to it. */
static int request_head(struct h2_sess *s, struct h2_stream *st, bool end_stream)
{
	struct sl_app_conn *vc;

	vc = sl_app_vconn_open(s->c, &sl_app_http_ops, &stream_vops, st);
	if (!vc)
		return -ENOBUFS;
	st->vc = vc;
	if (sl_app_http_ops.accept(vc, s->vs) < 0)
		return -ENOENT;
	/* a body without a length goes chunked; a POST that ends with its
	 * headers says so with a zero length (RFC 9110 8.6) */
	st->req_chunked = !end_stream && !st->has_cl;
	if (sl_app_in_push(vc, st->method, st->method_len) || vpush(st, " ") || q_move(st, &st->pq) ||
	    vpush(st, " HTTP/1.1\r\nHost: ") || q_move(st, &st->aq) || vpush(st, "\r\n") || q_move(st, &st->hq) ||
	    (st->req_chunked && vpush(st, "Transfer-Encoding: chunked\r\n")) ||
	    (end_stream && !st->has_cl && st->method_len != 3 && vpush(st, "Content-Length: 0\r\n")) ||
	    vpush(st, "\r\n"))
		return -ENOBUFS;
	st->head_in = true;
	return 0;
}

/* The session ends: GOAWAY with code, once; in-flight streams are
 * dropped (nghttp2 stops reading and the session ends once it is out). */
static void goaway(struct h2_sess *s, uint32_t code)
{
	if (s->goaway)
		return;
	s->goaway = true;
	s->w->st.goaway_sent++;
	nghttp2_session_terminate_session(s->ng, code);
}

static void stream_reset(struct h2_sess *s, struct h2_stream *st, uint32_t code)
{
	s->w->st.stream_errors++;
	st->bad = true;
	nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, code);
}

/* Frames that carry no request forward, counted per second: a client that
 * sends more than the profile's budget of them floods (SETTINGS, PING, PRIORITY,
 * WINDOW_UPDATE, empty DATA). */
static bool ctrl_flood(struct h2_sess *s)
{
	uint64_t now = sl_app_now(s->c);

	if (now - s->win_start_us > 1000000) {
		s->win_start_us = now;
		s->ctrl_frames = 0;
	}
	return s->vs->http->h2_ctrl_per_s && ++s->ctrl_frames > s->vs->http->h2_ctrl_per_s;
}

/* Empty DATA frames without END_STREAM carry nothing: the profile's
 * budget a second, apart from the control frames'. */
static bool empty_flood(struct h2_sess *s)
{
	uint64_t now = sl_app_now(s->c);

	if (now - s->empty_start_us > 1000000) {
		s->empty_start_us = now;
		s->empty_frames = 0;
	}
	return s->vs->http->h2_empty_per_s && ++s->empty_frames > s->vs->http->h2_empty_per_s;
}

/* Rapid reset (CVE-2023-44487): streams a client opens and resets at
 * once cost us a request each and it nothing; more than H2_RST_BURST in a
 * second end the session. nghttp2's own token bucket is the backstop. */
static bool rst_flood(struct h2_sess *s)
{
	uint64_t now = sl_app_now(s->c);

	if (now - s->rst_start_us > 1000000) {
		s->rst_start_us = now;
		s->rst_frames = 0;
	}
	return ++s->rst_frames > H2_RST_BURST;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct h2_sess *s = ud;
	struct h2_stream *st;
	bool end = f->hd.flags & NGHTTP2_FLAG_END_STREAM;

	switch (f->hd.type) {
	case NGHTTP2_DATA:
		if (!f->hd.length && !end && empty_flood(s))
			goto flood;
		break;
	case NGHTTP2_HEADERS:
		break;
	case NGHTTP2_RST_STREAM:
		s->w->st.client_resets++;
		if (rst_flood(s)) {
			if (!s->goaway)
				s->w->st.flood_reset++;
			goaway(s, NGHTTP2_ENHANCE_YOUR_CALM);
			return 0;
		}
		if (ctrl_flood(s))
			goto flood;
		return 0;
	case NGHTTP2_SETTINGS:
	case NGHTTP2_PING:
	case NGHTTP2_PRIORITY:
	case NGHTTP2_WINDOW_UPDATE:
		if (ctrl_flood(s))
			goto flood;
		return 0;
	default:
		return 0;
	}
	st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (!st || st->bad)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
		int rc = request_head(s, st, end);

		if (rc) {
			stream_reset(s, st, rc == -ENOENT ? NGHTTP2_REFUSED_STREAM : NGHTTP2_INTERNAL_ERROR);
			return 0;
		}
		st->deferred_data = true;
	}
	if (end && !st->req_end) {
		st->req_end = true;
		if (st->req_chunked && st->vc && vpush(st, "0\r\n\r\n"))
			stream_reset(s, st, NGHTTP2_INTERNAL_ERROR);
		st->deferred_data = true;
	}
	return 0;
flood:
	if (!s->goaway)
		s->w->st.flood_ctrl++;
	goaway(s, NGHTTP2_ENHANCE_YOUR_CALM);
	return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
			 void *ud)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
	char sz[24];

	(void)flags;
	(void)ud;
	if (!st || st->bad || !st->vc) {
		/* nobody reads it: the window comes back at once */
		nghttp2_session_consume(ng, id, len);
		return 0;
	}
	if (st->req_chunked) {
		int n = snprintf(sz, sizeof(sz), "%zx\r\n", len);

		if (sl_app_in_push(st->vc, sz, (uint32_t)n))
			goto fail;
	}
	if (sl_app_in_push(st->vc, data, (uint32_t)len) || (st->req_chunked && vpush(st, "\r\n")))
		goto fail;
	st->unacked += len;
	st->deferred_data = true;
	return 0;
fail:
	nghttp2_session_consume(ng, id, len);
	stream_reset(st->s, st, NGHTTP2_INTERNAL_ERROR);
	return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *ud)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);

	(void)ud;
	if (!st)
		return 0;
	nghttp2_session_set_stream_user_data(ng, id, NULL);
	st->ng_closed = true;
	if (st->vc) {
		struct sl_app_conn *vc = st->vc;

		/* the proxy's connection ends with the stream, through the
		 * proxy's own error path: it may still hold a transaction on it
		 * (a server that answered before the request body ended), and
		 * only it knows what to do with the server connection */
		(void)code;
		sl_app_vconn_error(vc, SL_TCP_ERR_RESET);
		if (!vc->dead)
			sl_app_abort(vc);
	}
	strm_maybe_free(st);
	return 0;
}

static int on_invalid_frame(nghttp2_session *ng, const nghttp2_frame *f, int err, void *ud)
{
	struct h2_sess *s = ud;

	(void)ng;
	(void)f;
	(void)err;
	s->w->st.stream_errors++;
	return 0;
}

/* ---- response: the proxy's HTTP/1.1 bytes back into frames */
static ssize_t body_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
			 nghttp2_data_source *src, void *ud)
{
	struct h2_stream *st = src->ptr;
	struct sl_app_worker *aw = st->s->w->aw;
	size_t done = 0;

	(void)ng;
	(void)id;
	(void)ud;
	while (done < length && st->out.bytes && !st->rsp_done) {
		uint32_t n;
		const uint8_t *p = sl_app_q_first(&st->out, &n);

		if (st->body == SL_H1_BODY_CHUNKED) {
			size_t used;
			struct sl_h1_span d = { 0, 0 };
			int rc = sl_h1_chunked_feed(&st->ck, p, RTE_MIN((size_t)n, length - done), &used, &d);

			if (rc < 0)
				return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
			if (d.len) {
				memcpy(buf + done, p + d.off, d.len);
				done += d.len;
			}
			sl_app_q_consume(aw, &st->out, (uint32_t)used);
			if (rc == 1)
				st->rsp_done = true;
		} else {
			size_t k = RTE_MIN((size_t)n, length - done);

			if (st->body == SL_H1_BODY_LENGTH)
				k = RTE_MIN((uint64_t)k, st->rsp_left);
			memcpy(buf + done, p, k);
			done += k;
			sl_app_q_consume(aw, &st->out, (uint32_t)k);
			if (st->body == SL_H1_BODY_LENGTH && !(st->rsp_left -= k))
				st->rsp_done = true;
		}
	}
	if (st->body == SL_H1_BODY_CLOSE && st->vc_gone && !st->out.bytes)
		st->rsp_done = true;
	if (st->want_wr && st->out.bytes < H2_STREAM_OUT_MAX / 2)
		sl_app_defer(st->s->c);      /* the proxy may send again: told after this send */
	if (st->rsp_done) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return (ssize_t)done;
	}
	if (!done) {
		if (st->vc_gone)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;   /* truncated: RST_STREAM */
		return NGHTTP2_ERR_DEFERRED;
	}
	return (ssize_t)done;
}

static bool drop_field(const uint8_t *n, size_t len)
{
	static const char *const hop[] = { "connection", "keep-alive", "proxy-connection", "transfer-encoding",
					   "upgrade", "te", "trailer" };

	for (unsigned i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (len == strlen(hop[i]) && !strncasecmp((const char *)n, hop[i], len))
			return true;
	return false;
}

/* Parses the proxy's response head once it is all there and submits it;
 * 1xx interim answers are dropped (HTTP/2 has no 100-continue wait here:
 * the request body is already flowing). */
static int response_head(struct h2_sess *s, struct h2_stream *st)
{
	struct sl_app_h2_worker *w = s->w;
	struct sl_h1_parser p;
	const uint8_t *buf;
	uint32_t n = RTE_MIN(st->out.bytes, (uint32_t)sizeof(w->scratch) - 2);
	char status[8];
	size_t nb = 0, nv = 0;
	nghttp2_data_provider prd = { .source.ptr = st, .read_callback = body_read };
	int rc;

again:
	buf = sl_app_q_view(&st->out, n, w->scratch);
	if (!buf)
		return 0;
	sl_h1_init(&p, SL_H1_RESPONSE, NULL, w->hdrs, SL_H1_DEF_HEADERS);
	p.req_method = st->head_req ? SL_H1_M_HEAD : SL_H1_M_GET;
	rc = sl_h1_parse(&p, buf, n);
	if (rc == -EAGAIN)
		return 0;
	if (rc < 0 || p.msg.status == 101)
		return -EBADMSG;
	if (p.msg.status < 200) {
		sl_app_q_consume(w->aw, &st->out, p.msg.head_len);
		n = RTE_MIN(st->out.bytes, (uint32_t)sizeof(w->scratch) - 2);
		if (!n)
			return 0;
		goto again;
	}
	snprintf(status, sizeof(status), "%03u", p.msg.status);
	w->nv[nv++] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)status, 7, 3, NGHTTP2_NV_FLAG_NONE };
	for (uint32_t i = 0; i < p.msg.n_hdrs && nv < RTE_DIM(w->nv); i++) {
		const struct sl_h1_header *h = &w->hdrs[i];
		uint8_t *lname = w->names + nb;

		if (drop_field(buf + h->name.off, h->name.len) || nb + h->name.len > sizeof(w->names))
			continue;
		for (uint32_t k = 0; k < h->name.len; k++) {
			uint8_t ch = buf[h->name.off + k];

			lname[k] = ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch + 32) : ch;
		}
		nb += h->name.len;
		w->nv[nv++] = (nghttp2_nv){ lname, (uint8_t *)(uintptr_t)(buf + h->value.off), h->name.len,
					    h->value.len, NGHTTP2_NV_FLAG_NONE };
	}
	st->body = (uint8_t)p.msg.body;
	st->rsp_left = p.msg.content_length;
	if (st->body == SL_H1_BODY_CHUNKED)
		sl_h1_chunked_init(&st->ck, NULL);
	st->rsp_done = st->body == SL_H1_BODY_NONE || (st->body == SL_H1_BODY_LENGTH && !st->rsp_left);
	/* nghttp2 copies the fields: the view may go */
	rc = nghttp2_submit_response(s->ng, st->id, w->nv, nv, st->rsp_done ? NULL : &prd);
	sl_app_q_consume(w->aw, &st->out, p.msg.head_len);
	if (rc)
		return -EIO;
	st->rsp_head = st->submitted = true;
	return 0;
}

/* ---- the virtual connection's hooks (inside the proxy: record only) */
static int vsend(struct sl_app_conn *vc, void *vctx, struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	struct h2_stream *st = vctx;

	(void)vc;
	if (st->ng_closed)
		return -EPIPE;
	if (st->out.bytes >= H2_STREAM_OUT_MAX) {
		st->want_wr = true;
		return -EAGAIN;
	}
	if (sl_app_q_push_ref(st->s->w->aw, &st->out, m, off, len))
		return -ENOBUFS;
	sl_app_defer(st->s->c);
	return 0;
}

static void vconsumed(struct sl_app_conn *vc, void *vctx, uint32_t n)
{
	struct h2_stream *st = vctx;
	uint64_t k = RTE_MIN((uint64_t)n, st->unacked);

	(void)vc;
	if (!k || st->ng_closed)
		return;
	st->unacked -= k;
	nghttp2_session_consume(st->s->ng, st->id, k);
	sl_app_defer(st->s->c);     /* the WINDOW_UPDATE goes out */
}

static uint32_t vspace(const struct sl_app_conn *vc, const void *vctx)
{
	const struct h2_stream *st = vctx;

	(void)vc;
	return st->out.bytes >= H2_STREAM_OUT_MAX ? 0 : H2_STREAM_OUT_MAX - st->out.bytes;
}

static void vend(struct sl_app_conn *vc, void *vctx, int how)
{
	struct h2_stream *st = vctx;

	(void)vc;
	st->vc = NULL;
	st->vc_gone = true;
	if (!st->ng_closed) {
		if (how == SL_APP_XF_ABORT && !st->rsp_done && st->body != SL_H1_BODY_CLOSE)
			stream_reset(st->s, st, NGHTTP2_INTERNAL_ERROR);
		else if (st->submitted)
			nghttp2_session_resume_data(st->s->ng, st->id);
		else if (!st->rsp_head && !st->out.bytes)
			stream_reset(st->s, st, NGHTTP2_INTERNAL_ERROR);
		sl_app_defer(st->s->c);
	}
	strm_maybe_free(st);
}

static const struct sl_app_vops stream_vops = {
	.send = vsend, .consumed = vconsumed, .space = vspace, .end = vend,
};

/* ---- driving the session */
static int out_write(struct sl_app_conn *c, struct h2_sess *s, const uint8_t *d, size_t len)
{
	int n;

	if (s->pend.bytes)   /* behind what TCP already refused: in order */
		return sl_app_q_copy_in(s->w->aw, &s->pend, d, (uint32_t)len) ? -ENOBUFS : 0;
	n = sl_app_write(c, d, (uint32_t)len);

	if (n == -EAGAIN)
		n = 0;
	if (n < 0)
		return n;
	if ((size_t)n < len && sl_app_q_copy_in(s->w->aw, &s->pend, d + n, (uint32_t)(len - (size_t)n)))
		return -ENOBUFS;
	return 0;
}

/* Frames go out while TCP takes them; what it refuses waits in pend. */
static int send_frames(struct sl_app_conn *c, struct h2_sess *s)
{
	while (s->pend.bytes) {
		uint32_t n;
		const uint8_t *p = sl_app_q_first(&s->pend, &n);
		int k = sl_app_write(c, p, n);

		if (k == -EAGAIN || k == 0)
			return 0;
		if (k < 0)
			return k;
		sl_app_q_consume(s->w->aw, &s->pend, (uint32_t)k);
	}
	/* no look at the send space first: a write TCP refuses is what arms
	 * the writable callback, and what it refused waits in pend (one
	 * chunk of mem_send at most) */
	/* small frames (HEADERS, WINDOW_UPDATE, short DATA of many streams)
	 * are gathered into one write, so they leave in one segment rather
	 * than a segment each */
	struct sl_app_h2_worker *w = s->w;
	size_t held = 0;

	while (!s->pend.bytes) {
		const uint8_t *d;
		ssize_t n = nghttp2_session_mem_send(s->ng, &d);

		if (n < 0)
			return -EPROTO;
		if (!n)
			break;
		s->last_us = sl_app_now(c);
		if (held + (size_t)n <= sizeof(w->ob)) {
			memcpy(w->ob + held, d, (size_t)n);
			held += (size_t)n;
			continue;
		}
		if ((held && out_write(c, s, w->ob, held)) || out_write(c, s, d, (size_t)n))
			return -ENOBUFS;
		held = 0;
	}
	if (held && out_write(c, s, w->ob, held))
		return -ENOBUFS;
	return 0;
}

/* After input or deferred work: requests to the proxy, response heads in,
 * frames out, the proxy told of room again, the session ended when done. */
static void process(struct sl_app_conn *c)
{
	struct h2_sess *s = NGH(c);

	for (struct h2_stream *st = s->streams, *next; st; st = next) {
		next = st->next;
		if (st->deferred_data && st->vc) {
			st->deferred_data = false;
			sl_app_vconn_data(st->vc);
			if (c->dead)
				return;
		}
	}
	for (struct h2_stream *st = s->streams; st; st = st->next) {
		if (st->ng_closed || st->bad)
			continue;
		if (!st->rsp_head && st->out.bytes) {
			if (response_head(s, st))
				stream_reset(s, st, NGHTTP2_INTERNAL_ERROR);
		} else if (st->submitted && (st->out.bytes || st->vc_gone)) {
			nghttp2_session_resume_data(s->ng, st->id);
		}
	}
	if (send_frames(c, s)) {
		sess_end(c, true);
		return;
	}
	for (struct h2_stream *st = s->streams, *next; st; st = next) {
		next = st->next;
		if (st->want_wr && st->vc && st->out.bytes < H2_STREAM_OUT_MAX / 2) {
			st->want_wr = false;
			sl_app_vconn_writable(st->vc);
			if (c->dead)
				return;
		}
	}
	if (!s->pend.bytes && ((!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng)) ||
			       (s->closing && !s->n_streams && !nghttp2_session_want_write(s->ng)))) {
		sess_end(c, false);
		return;
	}
	if (!s->n_streams && !s->closing)
		sl_app_timer_set(c, sl_app_now(c) + (uint64_t)s->vs->http->keepalive_timeout_ms * 1000);
	else if (s->n_streams)
		sl_app_timer_set(c, s->last_us + H2_STALL_US);
}

/* After our last frame (a GOAWAY, most often): FIN, and what the client
 * still sends is read and dropped until it closes or H2_LINGER_US pass.
 * Closing with its input unread would answer that input with an RST, and
 * the RST makes the client's kernel drop the GOAWAY before it is read. */
static void linger(struct sl_app_conn *c)
{
	struct h2c *hc = C(c);

	if (c->eof || sl_app_shutdown(c)) {
		sl_app_close(c);
		return;
	}
	hc->linger = true;
	sl_app_in_consume(c, sl_app_in_len(c));
	sl_app_timer_set(c, sl_app_now(c) + H2_LINGER_US);
}

/* A GOAWAY nghttp2 cannot write any more (it stopped at a fatal error). */
static void raw_goaway(struct sl_app_conn *c, struct h2_sess *s, uint32_t code)
{
	uint32_t last = (uint32_t)nghttp2_session_get_last_proc_stream_id(s->ng);
	uint8_t f[17] = { 0, 0, 8, NGHTTP2_GOAWAY, 0, 0, 0, 0, 0 };

	f[9] = (uint8_t)(last >> 24 & 0x7f);
	f[10] = (uint8_t)(last >> 16);
	f[11] = (uint8_t)(last >> 8);
	f[12] = (uint8_t)last;
	f[13] = (uint8_t)(code >> 24);
	f[14] = (uint8_t)(code >> 16);
	f[15] = (uint8_t)(code >> 8);
	f[16] = (uint8_t)code;
	(void)out_write(c, s, f, sizeof(f));
}

static void sess_end(struct sl_app_conn *c, bool rst)
{
	struct h2_sess *s = NGH(c);
	struct sl_app_h2_worker *w;

	if (!s)
		return;
	w = s->w;
	C(c)->s = NULL;
	/* the streams' proxy connections go first (their servers too) */
	while (s->streams) {
		struct h2_stream *st = s->streams;

		st->ng_closed = true;
		if (st->vc) {
			struct sl_app_conn *vc = st->vc;

			sl_app_vconn_error(vc, SL_TCP_ERR_RESET);
			if (!vc->dead)
				sl_app_abort(vc);
		}
		if (st->s)
			strm_put(st);
	}
	nghttp2_session_del(s->ng);
	s->ng = NULL;
	sl_app_q_release(w->aw, &s->pend);
	s->next_free = w->free_sess;
	w->free_sess = s;
	if (rst)
		sl_app_abort(c);
	else
		linger(c);
}

static int h2_accept(struct sl_app_conn *c, const struct sl_gen_vs *vs)
{
	struct sl_app_h2_worker *w = c->aw->h2;
	struct h2c *hc = C(c);
	struct h2_sess *s;
	nghttp2_mem mem = sl_h2_mem_proto;
	const struct sl_gen_http *hp = vs && vs->http ? vs->http : NULL;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, hp ? hp->h2_max_streams : H2_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
		  hp ? RTE_MIN(hp->h2_window_kb * 1024u, (uint32_t)NGHTTP2_MAX_WINDOW_SIZE) : H2_STREAM_WINDOW },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, H2_HDR_LIST_MAX },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
	};

	memset(hc, 0, sizeof(*hc));
	if (!w || !vs || !vs->http || !(s = w->free_sess))
		return -ENOBUFS;
	w->free_sess = s->next_free;
	memset(s, 0, sizeof(*s));
	s->w = w;
	s->c = c;
	s->vs = vs;
	mem.mem_user_data = s;
	if (nghttp2_session_server_new3(&s->ng, w->cbs, s, w->opt, &mem)) {
		s->next_free = w->free_sess;
		w->free_sess = s;
		w->st.no_memory++;
		return -ENOMEM;
	}
	hc->s = s;
	if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, RTE_DIM(iv)) ||
	    nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW)) {
		nghttp2_session_del(s->ng);
		hc->s = NULL;
		s->next_free = w->free_sess;
		w->free_sess = s;
		return -ENOMEM;
	}
	s->last_us = sl_app_now(c);
	w->st.conns++;
	if (sl_app_secure(c))
		w->st.conns_tls++;
	sl_app_set_nodelay(c, true);
	sl_app_timer_set(c, sl_app_now(c) + (uint64_t)vs->http->client_header_timeout_ms * 1000);
	/* the SETTINGS go out now: a client may wait for them */
	if (send_frames(c, s)) {
		sess_end(c, true);
		return 0;
	}
	return 0;
}

static void h2_data(struct sl_app_conn *c)
{
	struct h2_sess *s = NGH(c);
	const uint8_t *p;
	uint32_t n;

	if (C(c)->linger)
		sl_app_in_consume(c, sl_app_in_len(c));
	if (!s)
		return;
	s->last_us = sl_app_now(c);
	while ((p = sl_app_in_first(c, &n)) != NULL) {
		ssize_t rc = nghttp2_session_mem_recv(s->ng, p, n);

		if (rc < 0) {
			struct sl_h2_stats *st = &s->w->st;
			uint32_t code = NGHTTP2_ENHANCE_YOUR_CALM;

			if (rc == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
				st->bad_preface++;
				code = NGHTTP2_PROTOCOL_ERROR;
			} else if (rc == NGHTTP2_ERR_FLOODED) {
				st->flood_ctrl++;
			} else if (rc == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) {
				st->flood_continuation++;
			} else if (rc == NGHTTP2_ERR_NOMEM) {
				st->no_memory++;
			} else {
				st->protocol_errors++;
				code = NGHTTP2_INTERNAL_ERROR;
			}
			/* nghttp2 stopped: what it had queued goes first, then our GOAWAY */
			sl_app_in_consume(c, sl_app_in_len(c));
			(void)send_frames(c, s);
			if (!s->goaway) {
				s->goaway = true;
				st->goaway_sent++;
				raw_goaway(c, s, code);
			}
			sess_end(c, false);
			return;
		}
		sl_app_in_consume(c, n);
		if (c->dead || !NGH(c))
			return;
	}
	process(c);
}

static void h2_writable(struct sl_app_conn *c)
{
	if (NGH(c))
		process(c);
}

static void h2_deferred(struct sl_app_conn *c)
{
	if (NGH(c))
		process(c);
}

static void h2_eof(struct sl_app_conn *c)
{
	/* the client sends nothing more: what is in flight finishes, then
	 * the session ends (nghttp2 stops wanting to read) */
	struct h2_sess *s = NGH(c);

	if (!s) {
		sl_app_close(c);   /* lingering: the client closed too */
		return;
	}
	if (!s->n_streams) {
		sess_end(c, false);
		return;
	}
	s->closing = true;
}

static void h2_error(struct sl_app_conn *c, int reason)
{
	(void)reason;
	if (NGH(c))
		sess_end(c, true);
	else
		sl_app_abort(c);
}

static void h2_timer(struct sl_app_conn *c)
{
	struct h2_sess *s = NGH(c);

	if (!s) {
		sl_app_close(c);   /* the lingering close's end */
		return;
	}
	if (s->n_streams) {
		if (sl_app_now(c) - s->last_us < H2_STALL_US) {
			sl_app_timer_set(c, s->last_us + H2_STALL_US);
			return;
		}
		/* streams open and not a byte either way for that long: a
		 * client that opens no window (or stopped reading TCP) holds
		 * their buffers and servers; it loses its connection */
		s->w->st.stalled++;
		sess_end(c, true);
		return;
	}
	/* idle: GOAWAY, then the connection ends once it went out */
	s->w->st.idle_closed++;
	s->closing = true;
	goaway(s, NGHTTP2_NO_ERROR);
	(void)send_frames(c, s);
	sess_end(c, false);
}

static void h2_describe(const struct sl_app_conn *c, char *buf, size_t len)
{
	const struct h2c *hc = (const struct h2c *)(const void *)c->priv;

	if (hc->s)
		snprintf(buf, len, "h2 streams=%u mem=%lu", hc->s->n_streams, (unsigned long)hc->s->mem);
	else
		snprintf(buf, len, "h2");
}

const struct sl_app_ops sl_app_h2_ops = {
	.name = "h2", .accept = h2_accept, .data = h2_data, .writable = h2_writable, .eof = h2_eof,
	.timer = h2_timer, .error = h2_error, .describe = h2_describe, .deferred = h2_deferred,
};

/* ---- cleartext ports with HTTP/2: the client's first bytes decide (the
 * prior-knowledge preface, RFC 9113 3.3), else HTTP/1.1 serves it */
static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static int sniff_accept(struct sl_app_conn *c, const struct sl_gen_vs *vs)
{
	struct h2c *hc = C(c);

	memset(hc, 0, sizeof(*hc));
	hc->sniffing = true;
	hc->vs = vs;
	sl_app_timer_set(c, sl_app_now(c) + (uint64_t)vs->http->client_header_timeout_ms * 1000);
	return 0;
}

static void sniff_data(struct sl_app_conn *c)
{
	const struct sl_gen_vs *vs = C(c)->vs;
	uint8_t tmp[sizeof(preface)];
	uint32_t n = RTE_MIN(sl_app_in_len(c), (uint32_t)sizeof(preface) - 1);
	const uint8_t *p = sl_app_in_view(c, n, tmp);
	bool h2 = !memcmp(p, preface, n);
	const struct sl_app_ops *ops;

	if (h2 && n < sizeof(preface) - 1)
		return;     /* so far a preface: wait for the rest */
	ops = h2 ? &sl_app_h2_ops : &sl_app_http_ops;
	c->ops = ops;
	if (ops->accept(c, vs) < 0) {
		sl_app_abort(c);
		return;
	}
	if (!c->dead)
		ops->data(c);
}

static void sniff_timer(struct sl_app_conn *c)
{
	sl_app_close(c);
}

static void sniff_eof(struct sl_app_conn *c)
{
	if (sl_app_in_len(c))
		sniff_data(c);
	if (!c->dead && c->ops != &sl_app_h2c_ops && c->ops->eof)
		c->ops->eof(c);
	else if (!c->dead && c->ops == &sl_app_h2c_ops)
		sl_app_close(c);
}

static void sniff_error(struct sl_app_conn *c, int reason)
{
	(void)reason;
	sl_app_abort(c);
}

const struct sl_app_ops sl_app_h2c_ops = {
	.name = "h2c?", .accept = sniff_accept, .data = sniff_data, .eof = sniff_eof, .timer = sniff_timer,
	.error = sniff_error,
};

/* ---- the VS left the configuration: GOAWAY with the last stream taken,
 * in-flight streams finish, then the session ends (RFC 9113 6.8) */
static bool vs_gone(const struct sl_gen *cur, const struct sl_gen_vs *vs)
{
	uint32_t idx;

	if (!cur || vs->slot >= SL_MAX_VS)
		return false;
	idx = cur->vs_by_slot[vs->slot];
	return idx == SL_GEN_NONE || !cur->vs[idx].enabled || cur->vs[idx].app_type != SL_APP_HTTP;
}

void sl_app_h2_tick(struct sl_app_worker *aw, uint64_t now)
{
	struct sl_app_h2_worker *w = aw->h2;
	const struct sl_gen *cur = sl_app_current_gen(aw);

	if (!w || now < w->next_scan_us || cur == w->scanned_gen)
		return;
	w->next_scan_us = now + 100000;
	w->scanned_gen = cur;
	for (uint32_t i = 0; i < w->n_sess; i++) {
		struct h2_sess *s = &w->sess[i];

		if (!s->ng || s->closing || !vs_gone(cur, s->vs))
			continue;
		s->closing = true;
		if (!s->goaway) {
			s->goaway = true;
			w->st.goaway_sent++;
			w->st.drained++;
			nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(s->ng),
					      NGHTTP2_NO_ERROR, NULL, 0);
		}
		sl_app_defer(s->c);
	}
}

/* ---- set-up (h2.c) */
void sl_h2_set_callbacks(nghttp2_session_callbacks *cbs)
{
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, on_invalid_frame);
}
