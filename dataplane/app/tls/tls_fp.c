/* TLS as a transform of the application layer (sl_app_xform), per
 * connection: a BIO of our own reads records straight from the layer's raw
 * input queue and writes them into payload mbufs the TCP stack sends
 * (one copy each way, none through a memory BIO); the handshake is driven
 * from input, decrypted records are pushed to the application's input,
 * what the application sends is encrypted. While the handshake runs the
 * connection's ops are ours; once it is done the application above (HTTP)
 * is accepted with the VS the SNI chose and sees only plaintext. Our ops
 * stay in front of it to flush what TCP refused when send space returns.
 *
 * Per-packet code: no heap allocation of ours (the SSL object, its BIO and
 * its record buffers are OpenSSL's own allocations), no lock, no log. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <rte_mbuf.h>

#include "tls_conn.h"

enum tls_state { TS_HS, TS_UP, TS_FAILED };

#define T(c) ((struct tls_conn *)(c)->xctx)

static inline struct sl_app_tls_worker *TW(const struct sl_app_conn *c)
{
	return c->aw->tls;
}

/* ---- our BIO: raw queue in, mbufs out */
static int bio_read(BIO *b, char *out, int len)
{
	struct tls_conn *t = BIO_get_data(b);
	struct sl_app_conn *c = t->c;
	uint32_t n = sl_app_raw_len(c);
	const uint8_t *p;

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (!n) {
		if (c->eof)
			return 0;
		BIO_set_retry_read(b);
		return -1;
	}
	if (n > (uint32_t)len)
		n = (uint32_t)len;
	/* a pointer into the first buffer, or the bytes copied into out */
	p = sl_app_raw_view(c, n, (uint8_t *)out);
	if (p != (const uint8_t *)out)
		memcpy(out, p, n);
	sl_app_raw_consume(c, n);
	return (int)n;
}

/* Appends to the pending chain: into the tail mbuf while it has room (it
 * is ours alone until sent), else fresh ones from the worker's pool. */
static int bio_write(BIO *b, const char *d, int len)
{
	struct tls_conn *t = BIO_get_data(b);
	int done = 0;

	BIO_clear_retry_flags(b);
	while (done < len) {
		struct rte_mbuf *m = t->pend_tail;
		uint32_t room = m ? rte_pktmbuf_tailroom(m) : 0, n;

		if (!room) {
			m = sl_app_mbuf(t->c->aw);
			if (!m)
				return done ? done : -1;     /* out of buffers: the SSL call fails */
			m->next = NULL;
			if (t->pend_tail)
				t->pend_tail->next = m;
			else
				t->pend = m;
			t->pend_tail = m;
			room = rte_pktmbuf_tailroom(m);
		}
		n = RTE_MIN(room, (uint32_t)(len - done));
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len), d + done, n);
		m->data_len = (uint16_t)(m->data_len + n);
		m->pkt_len = m->data_len;
		t->pend_bytes += n;
		done += (int)n;
	}
	return done;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

BIO_METHOD *sl_tls_bio_method;

int sl_tls_bio_init(void);
int sl_tls_bio_init(void)
{
	BIO_METHOD *m;

	if (sl_tls_bio_method)
		return 0;
	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sluice-app");
	if (!m || !BIO_meth_set_read(m, bio_read) || !BIO_meth_set_write(m, bio_write) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create)) {
		BIO_meth_free(m);
		return -ENOMEM;
	}
	sl_tls_bio_method = m;
	return 0;
}

/* ---- pending output: sent mbuf by mbuf; what TCP refuses waits for the
 * writable callback (the refusal armed it) */
static void pend_unlink_head(struct tls_conn *t)
{
	struct rte_mbuf *m = t->pend;

	t->pend = m->next;
	if (!t->pend)
		t->pend_tail = NULL;
	m->next = NULL;
	t->pend_bytes -= m->data_len;
}

static int flush(struct tls_conn *t)
{
	while (t->pend) {
		struct rte_mbuf *m = t->pend, *next = m->next;
		int rc;

		m->next = NULL;
		rc = sl_app_raw_send(t->c, m, 0, m->data_len);
		m->next = next;
		if (rc)
			return rc;
		pend_unlink_head(t);
		rte_pktmbuf_free(m);          /* the stack took its own reference */
	}
	return 0;
}

static void pend_drop(struct tls_conn *t)
{
	while (t->pend) {
		struct rte_mbuf *m = t->pend;

		pend_unlink_head(t);
		rte_pktmbuf_free(m);
	}
}

/* ---- counters */
static void count_fail(struct tls_conn *t, uint8_t why)
{
	struct sl_tls_vs_stats *st = sl_tls_st(&t->s);

	st->hs_failed++;
	switch (why) {
	case TLS_FAIL_NO_SHARED_CIPHER: st->fail_no_shared_cipher++; break;
	case TLS_FAIL_BAD_RECORD: st->fail_bad_record++; break;
	case TLS_FAIL_TIMEOUT: st->fail_timeout++; break;
	case TLS_FAIL_BAD_SNI: st->fail_bad_sni++; break;
	case TLS_FAIL_VERSION: st->fail_version++; break;
	default: st->fail_other++; break;
	}
}

/* Why a handshake failed, from the callbacks' verdict or OpenSSL's error
 * queue (which is then cleared: it is per thread and must not leak into
 * the next connection). */
static uint8_t fail_reason(struct tls_conn *t)
{
	unsigned long e;
	uint8_t why = t->s.fail;

	while ((e = ERR_get_error())) {
		int r = ERR_GET_REASON(e);

		if (why)
			continue;
		if (r == SSL_R_NO_SHARED_CIPHER || r == SSL_R_NO_SHARED_GROUPS || r == SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM)
			why = TLS_FAIL_NO_SHARED_CIPHER;
		else if (r == SSL_R_UNSUPPORTED_PROTOCOL || r == SSL_R_WRONG_VERSION_NUMBER || r == SSL_R_VERSION_TOO_LOW ||
			 r == SSL_R_VERSION_TOO_HIGH || r == SSL_R_UNKNOWN_PROTOCOL)
			why = TLS_FAIL_VERSION;
		else if (r == SSL_R_CALLBACK_FAILED && t->s.fail)
			why = t->s.fail;
		else
			why = TLS_FAIL_BAD_RECORD;
	}
	return why ? why : TLS_FAIL_OTHER;
}

static void count_up(struct tls_conn *t)
{
	struct sl_tls_vs_stats *st = sl_tls_st(&t->s);
	const SSL_CIPHER *ci = SSL_get_current_cipher(t->ssl);
	const char *cn = ci ? SSL_CIPHER_get_name(ci) : "";

	if (SSL_session_reused(t->ssl))
		st->hs_resumed++;
	else
		st->hs_full++;
	if (SSL_version(t->ssl) == TLS1_3_VERSION)
		st->tls13++;
	else
		st->tls12++;
	if (strstr(cn, "AES128-GCM") || strstr(cn, "AES_128_GCM"))
		st->aes128gcm++;
	else if (strstr(cn, "AES256-GCM") || strstr(cn, "AES_256_GCM"))
		st->aes256gcm++;
	else if (strstr(cn, "CHACHA20"))
		st->chacha20++;
	else
		st->cipher_other++;
}

/* ---- ending */
static void tls_free(struct sl_app_conn *c, struct tls_conn *t)
{
	struct sl_app_tls_worker *w = TW(c);

	if (t->ssl) {
		t->s.wk->vs[t->s.vs->slot].conns_active--;
		SSL_free(t->ssl);          /* frees the BIO too */
	}
	ERR_clear_error();
	pend_drop(t);
	t->ssl = NULL;
	t->bio = NULL;
	t->c = NULL;
	t->next_free = w->free;
	w->free = t;
	w->used--;
	c->xctx = NULL;
}

/* Before the layer's FIN (shutdown/close): close_notify, and what TCP
 * refused so far forced in ahead of the FIN (the send limit raised for
 * this closing connection) so the application's last bytes are not lost. */
static void x_end(struct sl_app_conn *c, void *xctx, int how)
{
	struct tls_conn *t = xctx;

	if (!t)
		return;
	if (how != SL_APP_XF_ABORT && t->state == TS_UP && !t->shut) {
		t->shut = true;
		(void)SSL_shutdown(t->ssl);
		ERR_clear_error();
		if (flush(t) == -EAGAIN && sl_app_set_bufs(c, 1u << 30, 1u << 16) == 0)
			(void)flush(t);
	}
	if (how != SL_APP_XF_SHUTDOWN)
		tls_free(c, t);
}

/* A failed handshake: the alert OpenSSL wrote goes out, then FIN. */
static void hs_fail(struct sl_app_conn *c, struct tls_conn *t, uint8_t why)
{
	t->state = TS_FAILED;
	count_fail(t, why);
	(void)flush(t);
	sl_app_close(c);
}

/* After the handshake the application owns the connection: a fatal record
 * error is reported to it as a reset from the timer (never from inside an
 * application call that got us here through sl_app_in_consume). */
static void up_fail(struct sl_app_conn *c, struct tls_conn *t)
{
	t->state = TS_FAILED;
	sl_tls_st(&t->s)->fail_bad_record++;
	ERR_clear_error();
	sl_app_timer_set(c, sl_app_now(c));
}

/* ---- the transform */
static int hs_step(struct sl_app_conn *c, struct tls_conn *t)
{
	int rc = SSL_do_handshake(t->ssl);

	if (rc != 1) {
		int e = SSL_get_error(t->ssl, rc);

		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			(void)flush(t);
			return 0;
		}
		hs_fail(c, t, fail_reason(t));
		return 1;
	}
	t->state = TS_UP;
	t->s.up = true;
	count_up(t);
	(void)flush(t);
	/* the application is accepted now, with the VS the SNI chose (and
	 * the protocol ALPN chose, where the port serves HTTP/2) */
	if (t->inner == &sl_app_h2c_ops) {
		const unsigned char *a;
		unsigned int alen;

		SSL_get0_alpn_selected(t->ssl, &a, &alen);
		t->inner = alen == 2 && !memcmp(a, "h2", 2) ? &sl_app_h2_ops : &sl_app_http_ops;
	}
	c->ops = t->inner;
	rc = t->inner->accept ? t->inner->accept(c, t->s.svs) : 0;
	if (c->dead)
		return 1;
	if (rc < 0) {
		c->ops = &sl_tls_ops;
		sl_app_abort(c);
		return 1;
	}
	c->ops = &sl_tls_ops;
	return 0;
}

static int x_input(struct sl_app_conn *c, void *xctx)
{
	struct tls_conn *t = xctx;
	struct sl_app_tls_worker *w = TW(c);

	if (!t || t->state == TS_FAILED)
		return 0;
	if (t->state == TS_HS && (hs_step(c, t) || t->state != TS_UP))
		return 0;
	while (sl_app_in_len(c) < TLS_APPETITE) {
		size_t n = 0;

		if (SSL_read_ex(t->ssl, w->buf, sizeof(w->buf), &n) != 1) {
			int e = SSL_get_error(t->ssl, 0);

			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				break;
			if (e == SSL_ERROR_ZERO_RETURN) {
				/* close_notify: nothing more will come; TCP's FIN says so to the app */
				break;
			}
			(void)flush(t);      /* the alert */
			up_fail(c, t);
			return 0;
		}
		if (sl_app_in_push(c, w->buf, (uint32_t)n)) {
			up_fail(c, t);
			return 0;
		}
	}
	/* records the reads produced (a TLS 1.3 key update answer, tickets) */
	(void)flush(t);
	return 0;
}

static int x_output(struct sl_app_conn *c, void *xctx, struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	struct tls_conn *t = xctx;
	int rc;

	(void)c;
	if (!t || t->state != TS_UP || t->shut)
		return -EPIPE;
	/* what TCP refused before goes first; while it waits, so does this */
	if (t->pend && (rc = flush(t)))
		return rc;
	while (m && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (m && len) {
		uint32_t n = RTE_MIN(len, (uint32_t)m->data_len - off);
		size_t wr = 0;

		if (SSL_write_ex(t->ssl, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n, &wr) != 1 || wr != n) {
			ERR_clear_error();
			return -EIO;
		}
		len -= n;
		off = 0;
		m = m->next;
	}
	rc = flush(t);
	/* refused now: the plaintext is taken (the records wait in pend) and
	 * the refusal armed writable */
	return rc == -EAGAIN ? 0 : rc;
}

/* For the application's access log: SNI, version, cipher, resumed. */
static void x_info(const struct sl_app_conn *c, const void *xctx, struct sl_app_xf_info *out)
{
	const struct tls_conn *t = xctx;
	const char *sni;

	(void)c;
	memset(out, 0, sizeof(*out));
	if (!t || !t->ssl || !t->s.up)
		return;
	out->resumed = SSL_session_reused(t->ssl);
	snprintf(out->version, sizeof(out->version), "%s", SSL_get_version(t->ssl));
	snprintf(out->cipher, sizeof(out->cipher), "%s", SSL_get_cipher_name(t->ssl));
	sni = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
	if (sni)
		snprintf(out->sni, sizeof(out->sni), "%s", sni);
}

static const struct sl_app_xform tls_xf = { "tls", x_input, x_output, x_end, true, x_info };

/* ---- our ops: the handshake, then in front of the application */
static void o_data(struct sl_app_conn *c)
{
	struct tls_conn *t = T(c);

	if (t && t->state == TS_UP && t->inner->data)
		t->inner->data(c);
}

static void o_writable(struct sl_app_conn *c)
{
	struct tls_conn *t = T(c);

	if (!t || (t->pend && flush(t)))
		return;
	if (t->state == TS_UP && t->inner->writable)
		t->inner->writable(c);
}

static void o_eof(struct sl_app_conn *c)
{
	struct tls_conn *t = T(c);

	if (t && t->state == TS_UP) {
		if (t->inner->eof)
			t->inner->eof(c);
		else
			sl_app_close(c);
		return;
	}
	if (t && t->state == TS_HS)
		count_fail(t, TLS_FAIL_OTHER);   /* the client gave up mid-handshake */
	sl_app_close(c);
}

static void o_timer(struct sl_app_conn *c)
{
	struct tls_conn *t = T(c);

	if (!t) {
		sl_app_abort(c);
		return;
	}
	if (t->state == TS_HS) {
		count_fail(t, TLS_FAIL_TIMEOUT);
		t->state = TS_FAILED;
		sl_app_abort(c);
		return;
	}
	if (t->state == TS_FAILED && t->s.up) {
		/* a record error after the handshake, reported from here */
		if (t->inner->error)
			t->inner->error(c, SL_TCP_ERR_RESET);
		if (!c->dead)
			sl_app_abort(c);
		return;
	}
	if (t->state == TS_FAILED) {
		sl_app_abort(c);
		return;
	}
	if (t->inner->timer)
		t->inner->timer(c);
}

static void o_error(struct sl_app_conn *c, int reason)
{
	struct tls_conn *t = T(c);

	if (t && t->s.up && t->inner->error) {
		t->inner->error(c, reason);
		return;
	}
	if (t && t->state == TS_HS)
		count_fail(t, TLS_FAIL_OTHER);
	sl_app_abort(c);
}

static void o_describe(const struct sl_app_conn *c, char *buf, size_t len)
{
	const struct tls_conn *t = c->xctx;

	if (t && t->state == TS_UP && t->inner->describe) {
		t->inner->describe(c, buf, len);
		return;
	}
	snprintf(buf, len, "tls %s", !t ? "-" : t->state == TS_HS ? "handshake" : t->state == TS_UP ? "up" : "failed");
}

/* work the application above deferred (HTTP/2 sessions) */
static void o_deferred(struct sl_app_conn *c)
{
	struct tls_conn *t = T(c);

	if (t && t->state == TS_UP && t->inner->deferred)
		t->inner->deferred(c);
}

const struct sl_app_ops sl_tls_ops = {
	.name = "tls", .data = o_data, .writable = o_writable, .eof = o_eof, .timer = o_timer, .error = o_error,
	.describe = o_describe, .deferred = o_deferred,
};

int sl_app_tls_accept(struct sl_app_conn *c, const struct sl_gen_vs *vs, const struct sl_app_ops *inner)
{
	struct sl_app_tls_worker *w = TW(c);
	unsigned wid = sl_app_env(c->aw)->worker_id;
	struct tls_conn *t;

	if (!w || !vs->tls || wid >= vs->tls->n_workers || !w->free || !sl_tls_wks[wid].vs)
		return -ENOBUFS;
	t = w->free;
	t->ssl = SSL_new(vs->tls->ctx[wid]);
	t->bio = t->ssl ? BIO_new(sl_tls_bio_method) : NULL;
	if (!t->bio) {
		SSL_free(t->ssl);
		t->ssl = NULL;
		ERR_clear_error();
		return -ENOMEM;
	}
	w->free = t->next_free;
	w->used++;
	t->next_free = NULL;
	t->c = c;
	t->inner = inner;
	t->pend = t->pend_tail = NULL;
	t->pend_bytes = 0;
	t->state = TS_HS;
	t->shut = false;
	t->s = (struct sl_tls_sess){ .gen = c->gen, .vs = vs, .svs = vs, .wk = &sl_tls_wks[wid], .worker = wid,
				     .h2 = inner == &sl_app_h2c_ops };
	BIO_set_data(t->bio, t);
	SSL_set_bio(t->ssl, t->bio, t->bio);
	SSL_set_app_data(t->ssl, &t->s);
	SSL_set_accept_state(t->ssl);
	t->s.wk->vs[vs->slot].conns_active++;
	c->ops = &sl_tls_ops;
	sl_app_set_xform(c, &tls_xf, t);
	sl_app_set_nodelay(c, true);
	sl_app_timer_set(c, sl_app_now(c) + (uint64_t)vs->tls->hs_timeout_ms * 1000);
	return 0;
}

