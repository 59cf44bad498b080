/* HTTP/1.1 reverse proxy on an HTTP VS: a client connection's requests
 * parsed (dataplane/http, strict), matched against the VS's HTTPPolicySets
 * (dataplane/policy), answered locally (redirect, local response, errors)
 * or sent to a server of the chosen pool / pool group over this worker's
 * keep-alive connections, and the response sent back.
 *
 * One request at a time per client connection: a pipelined request waits
 * in the input queue (and so in the TCP window) until the response before
 * it is done. Heads are rewritten by copy (hop-by-hop fields dropped,
 * framing regenerated, X-Forwarded-For/-Proto and policy header actions
 * applied); bodies are relayed by reference, Content-Length or chunked
 * (decoded only to find where the message ends), with back-pressure through
 * the windows both ways. A bodyless idempotent request stays in the client's
 * input until its response head arrives, so a keep-alive server connection
 * the server closed under us is retried on a new one.
 *
 * Per-request code, never per packet of a body: no heap allocation
 * (transactions come from a per-worker pool sized at start), no locks, no
 * logging. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_malloc.h>

#include "../app_priv.h"
#include "../upstream.h"
#include "sl_h1.h"
#include "sl_http_stats.h"
#include "sl_lb.h"
#include "sl_policy.h"
#include "http_priv.h"

const uint32_t sl_http_lat_bounds_us[SL_HTTP_LAT_BUCKETS - 1] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 1000000,
};


static const struct sl_app_ops srv_ops;

static inline struct hc *C(struct sl_app_conn *c) { return sl_app_priv(c, struct hc); }
static inline struct hs *SV(struct sl_app_conn *c) { return sl_app_priv(c, struct hs); }
static inline struct sl_app_http_worker *W(struct sl_app_conn *c) { return c->aw->http; }

static struct sl_http_vs_stats *vst(struct sl_app_conn *cli)
{
	const struct sl_gen_vs *vs = C(cli)->vs;

	return &W(cli)->vs[vs && vs->slot < SL_MAX_VS ? vs->slot : 0];
}

static void hist_add(uint64_t *h, uint64_t us)
{
	unsigned i = 0;

	while (i < SL_HTTP_LAT_BUCKETS - 1 && us > sl_http_lat_bounds_us[i])
		i++;
	h[i]++;
}

/* ---- transactions */
static struct txn *txn_get(struct sl_app_conn *cli)
{
	struct sl_app_http_worker *w = W(cli);
	struct txn *t = w->free_txn;

	if (!t)
		return NULL;
	w->free_txn = t->next_free;
	w->txn_used++;
	memset(t, 0, offsetof(struct txn, ri));
	/* after ri, so not cleared above: a stale count would keep the last
	 * requests' header actions, pointers into generations since freed */
	t->n_hdr = 0;
	t->cli = cli;
	t->rule_index = -1;
	t->pool_idx = t->pg_idx = t->pool_used = SL_GEN_NONE;
	t->srv_slot = SL_GEN_NONE;
	t->t0 = sl_app_now(cli);
	sl_h1_init(&t->req, SL_H1_REQUEST, NULL, t->req_h, MAX_HDRS);
	sl_h1_init(&t->rsp, SL_H1_RESPONSE, NULL, t->rsp_h, MAX_HDRS);
	return t;
}

static void txn_put(struct sl_app_http_worker *w, struct txn *t)
{
	t->next_free = w->free_txn;
	w->free_txn = t;
	w->txn_used--;
}

/* ---- the keep-alive pool of server connections */
static void idle_unlink(struct sl_app_conn *s)
{
	struct sl_app_http_worker *w = W(s);
	struct hs *h = SV(s);

	if (!h->idle)
		return;
	if (h->iprev)
		SV(h->iprev)->inext = h->inext;
	else
		w->idle[h->slot] = h->inext;
	if (h->inext)
		SV(h->inext)->iprev = h->iprev;
	h->iprev = h->inext = NULL;
	h->idle = false;
	w->n_idle[h->slot]--;
}

static void srv_end(struct sl_app_conn *s, bool rst)
{
	struct hs *h = SV(s);

	idle_unlink(s);
	if (h->owner && C(h->owner)->own == s)
		C(h->owner)->own = NULL;
	sl_up_drop(h->slot);
	h->slot = SL_GEN_NONE;
	h->t = NULL;
	if (rst)
		sl_app_abort(s);
	else
		sl_app_close(s);
}

/* A server connection done with a request: pooled for the next one (of any
 * client, or of its owner when multiplexing is off), or closed. */
static void srv_release(struct sl_app_conn *s, bool reusable)
{
	struct sl_app_http_worker *w = W(s);
	struct hs *h = SV(s);

	h->t = NULL;
	if (!reusable || s->eof || h->slot >= SL_MAX_HEALTH) {
		srv_end(s, false);
		return;
	}
	h->since = sl_app_now(s);
	sl_app_timer_set(s, h->since + SRV_IDLE_TIMEOUT_US);
	if (h->owner)
		return;   /* kept on its client (struct hc.own) */
	if (w->n_idle[h->slot] >= SRV_IDLE_MAX) {
		srv_end(s, false);
		return;
	}
	h->idle = true;
	h->iprev = NULL;
	h->inext = w->idle[h->slot];
	if (h->inext)
		SV(h->inext)->iprev = s;
	w->idle[h->slot] = s;
	w->n_idle[h->slot]++;
}

/* ---- local answers */
const char *sl_http_log_err_name(unsigned e)
{
	static const char *const n[SL_HTTP_LOG__MAX] = {
		"", "bad_request", "header_timeout", "too_large", "no_server", "connect_failed", "bad_response",
		"server_timeout", "server_reset", "client_abort", "local_response", "redirect", "misdirected",
	};

	return e < SL_HTTP_LOG__MAX ? n[e] : "other";
}

static const char *reason(unsigned st)
{
	switch (st) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 421: return "Misdirected Request";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

static void txn_done(struct sl_app_conn *cli);

static void cli_close(struct sl_app_conn *cli);

/* The connection ends after what is queued: FIN now, the client's
 * remaining bytes read and dropped until it closes too or LINGER_US. */
static void cli_linger(struct sl_app_conn *cli)
{
	struct hc *hc = C(cli);

	if (cli->eof) {
		cli_close(cli);
		return;
	}
	hc->state = HC_LINGER;
	sl_app_in_consume(cli, sl_app_in_len(cli));
	if (sl_app_shutdown(cli)) {
		cli_close(cli);
		return;
	}
	sl_app_timer_set(cli, sl_app_now(cli) + LINGER_US);
}

/* Graceful end of a client connection (FIN after what is queued) and of
 * the server connection it owns, if any. */
static void cli_close(struct sl_app_conn *cli)
{
	struct hc *hc = C(cli);

	if (hc->own)
		srv_end(hc->own, false);
	sl_app_close(cli);
}

/* Answers the current request from the engine; close: the connection ends
 * after it (the request could not be read to its end, or was refused). */
static void local_reply(struct sl_app_conn *cli, unsigned status, const char *ctype, const char *body, size_t blen,
			const char *location, bool close)
{
	struct hc *hc = C(cli);
	struct txn *t = hc->t;
	char *o = (char *)cli->aw->out;
	size_t cap = sizeof(cli->aw->out), n;
	int w;

	/* a request body left unread ends the connection after the answer */
	if (t && !t->req_done && t->req_body != SL_H1_BODY_NONE)
		close = true;
	n = (size_t)snprintf(o, cap, "HTTP/1.1 %u %s\r\nServer: sluice\r\nContent-Length: %zu\r\n", status,
			     reason(status), blen);
	if (blen && n < cap)
		n += (size_t)snprintf(o + n, cap - n, "Content-Type: %s\r\n", ctype ? ctype : "text/plain");
	if (location && n < cap)
		n += (size_t)snprintf(o + n, cap - n, "Location: %s\r\n", location);
	if (close || (t && t->client_close))
		n += (size_t)snprintf(o + n, cap - n, "Connection: close\r\n");
	else if (t && t->client_minor == 0)
		n += (size_t)snprintf(o + n, cap - n, "Connection: keep-alive\r\n");
	n += (size_t)snprintf(o + n, cap - n, "\r\n");
	if (blen && !(t && t->head_req) && n + blen < cap) {
		memcpy(o + n, body, blen);
		n += blen;
	}
	if (n > cap)
		n = cap;
	vst(cli)->local++;
	if (t) {
		t->status = (uint16_t)status;
		t->bytes_out += n;
		t->rsp_done = true;
		t->req_done = t->req_done || close;
		if (close)
			t->client_close = true;
	}
	w = sl_app_write(cli, o, (uint32_t)n);
	if (w != (int)n) {
		sl_app_abort(cli);
		return;
	}
	if (t && close)
		/* what is left of the request is not read: the connection ends */
		t->req_done = true;
	if (!t) {
		cli_linger(cli);
		return;
	}
	txn_done(cli);
}

static void error_reply(struct sl_app_conn *cli, unsigned status, uint64_t *counter)
{
	struct sl_http_vs_stats *v = vst(cli);
	struct txn *t = C(cli)->t;
	char body[64];
	int n = snprintf(body, sizeof(body), "%u %s\n", status, reason(status));

	(*counter)++;
	if (t)
		t->err = counter == &v->header_timeout ? SL_HTTP_LOG_HEADER_TIMEOUT
			 : counter == &v->too_large ? SL_HTTP_LOG_TOO_LARGE
			 : counter == &v->misdirected ? SL_HTTP_LOG_MISDIRECTED
			 : counter == &v->no_server ? SL_HTTP_LOG_NO_SERVER
			 : counter == &v->connect_fail ? SL_HTTP_LOG_CONNECT_FAIL
			 : counter == &v->server_timeout ? SL_HTTP_LOG_SERVER_TIMEOUT
			 : counter == &v->bad_response ? SL_HTTP_LOG_BAD_RESPONSE
			 : SL_HTTP_LOG_BAD_REQUEST;
	local_reply(cli, status, "text/plain", body, (size_t)n, NULL, status < 500 || status == 505 || status == 501);
}

/* ---- request views for the policy engine: headers by name from the
 * parsed head (the bytes are the current view of the input) */
struct hdr_ctx {
	const struct sl_h1_msg *m;
	const uint8_t *buf;
};

static const char *hdr_lookup(void *arg, const char *name, size_t name_len, unsigned nth, size_t *vlen)
{
	struct hdr_ctx *h = arg;
	int i = -1;

	for (unsigned k = 0; k <= nth; k++) {
		i = sl_h1_find(h->m, h->buf, name, name_len, (uint32_t)(i + 1));
		if (i < 0)
			return NULL;
	}
	*vlen = h->m->hdrs[i].value.len;
	return (const char *)h->buf + h->m->hdrs[i].value.off;
}

/* Copies method, host, path and query into t->ri (bounded) and points
 * t->preq at them, so logs and response rules keep them after the head
 * left the input queue. */
static void keep_request(struct txn *t, const uint8_t *buf, uint16_t vs_port)
{
	const struct sl_h1_msg *m = &t->req.msg;
	struct sl_h1_span path = m->path.len || m->form == SL_H1_T_ORIGIN ? m->path : m->target;
	const uint8_t *p = buf + path.off, *q = memchr(p, '?', path.len);
	uint32_t plen = q ? (uint32_t)(q - p) : path.len, qlen = q ? path.len - plen - 1 : 0;
	size_t o = 0;

#define KEEP(field, src, len)                                                          \
	do {                                                                           \
		size_t n_ = RTE_MIN((size_t)(len), sizeof(t->ri) - o);                 \
		memcpy(t->ri + o, (src), n_);                                          \
		t->preq.field = t->ri + o;                                             \
		t->preq.field##_len = n_;                                              \
		o += n_;                                                               \
	} while (0)
	KEEP(method, buf + m->method.off, m->method.len);
	KEEP(host, buf + m->host.off, m->host.len);
	if (!plen) {
		KEEP(path, "/", 1);
	} else {
		KEEP(path, p, plen);
	}
	KEEP(query, q ? q + 1 : p, qlen);
#undef KEEP
	t->ri_len = (uint16_t)o;
	t->preq.vs_port = vs_port;
	t->preq.proto = SL_POLICY_HTTP;
}

/* ---- rewriting heads */
struct out {
	char *p;
	size_t n, cap;
	bool over;
};

static void put(struct out *o, const void *d, size_t len)
{
	if (o->n + len > o->cap) {
		o->over = true;
		return;
	}
	memcpy(o->p + o->n, d, len);
	o->n += len;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static bool name_is(const uint8_t *n, size_t len, const char *s, size_t slen)
{
	return len == slen && !strncasecmp((const char *)n, s, len);
}

/* a policy action removes or replaces every field of this name */
static bool dropped_by_action(const struct txn *t, const struct sl_policy_result *rsp, const uint8_t *n, size_t len)
{
	unsigned cnt = rsp ? rsp->n_hdr : t->n_hdr;

	for (unsigned i = 0; i < cnt; i++) {
		const struct sl_policy_hdr_action *a = rsp ? rsp->hdr[i] : t->hdr[i];

		if (a->op != SL_POLICY_HDR_ADD && name_is(n, len, a->name, a->name_len))
			return true;
	}
	return false;
}

static void put_actions(struct out *o, const struct txn *t, const struct sl_policy_result *rsp)
{
	unsigned cnt = rsp ? rsp->n_hdr : t->n_hdr;

	for (unsigned i = 0; i < cnt; i++) {
		const struct sl_policy_hdr_action *a = rsp ? rsp->hdr[i] : t->hdr[i];

		if (a->op == SL_POLICY_HDR_REMOVE)
			continue;
		put(o, a->name, a->name_len);
		puts_(o, ": ");
		put(o, a->value, a->value_len);
		puts_(o, "\r\n");
	}
}

/* The request head as the server gets it. */
static int build_request(struct sl_app_conn *cli, struct txn *t, const uint8_t *buf, struct out *o)
{
	const struct sl_h1_msg *m = &t->req.msg;
	const struct sl_gen_http *hp = C(cli)->vs->http;
	char ip[INET_ADDRSTRLEN];

	put(o, buf + m->method.off, m->method.len);
	puts_(o, " ");
	if (m->form == SL_H1_T_ABSOLUTE) {
		/* origin-form to the server; the authority becomes Host */
		if (m->path.len)
			put(o, buf + m->path.off, m->path.len);
		else
			puts_(o, "/");
	} else {
		put(o, buf + m->target.off, m->target.len);
	}
	puts_(o, " HTTP/1.1\r\n");
	if (m->host.len) {
		puts_(o, "Host: ");
		put(o, buf + m->host.off, m->host.len);
		puts_(o, "\r\n");
	}
	for (uint32_t i = 0; i < m->n_hdrs; i++) {
		const struct sl_h1_header *h = &m->hdrs[i];
		const uint8_t *n = buf + h->name.off;

		if (h->id == SL_H1_H_HOST || h->id == SL_H1_H_CONTENT_LENGTH ||
		    sl_h1_is_hop_by_hop(m, buf, n, h->name.len) || dropped_by_action(t, NULL, n, h->name.len))
			continue;
		if (hp->xfp && name_is(n, h->name.len, "X-Forwarded-Proto", 17))
			continue;
		put(o, n, h->name.len);
		puts_(o, ": ");
		put(o, buf + h->value.off, h->value.len);
		puts_(o, "\r\n");
	}
	/* framing is ours to state: one Content-Length, or chunked as received */
	if (m->body == SL_H1_BODY_LENGTH && (m->content_length || m->has_content_length)) {
		char cl[32];

		snprintf(cl, sizeof(cl), "Content-Length: %" PRIu64 "\r\n", m->content_length);
		puts_(o, cl);
	} else if (m->body == SL_H1_BODY_CHUNKED) {
		puts_(o, "Transfer-Encoding: chunked\r\n");
	}
	if (t->upgrade)
		puts_(o, "Connection: upgrade\r\nUpgrade: websocket\r\n");
	if (hp->xff) {
		inet_ntop(AF_INET, &cli->rip, ip, sizeof(ip));
		put(o, hp->xff_name, hp->xff_name_len);
		puts_(o, ": ");
		puts_(o, ip);
		puts_(o, "\r\n");
	}
	if (hp->xfp)
		puts_(o, sl_app_secure(cli) ? "X-Forwarded-Proto: https\r\n" : "X-Forwarded-Proto: http\r\n");
	put_actions(o, t, NULL);
	puts_(o, "\r\n");
	return o->over ? -E2BIG : 0;
}

/* The response head as the client gets it. */
static int build_response(struct sl_app_conn *cli, struct txn *t, const uint8_t *buf, const struct sl_policy_result *pr,
			  struct out *o)
{
	const struct sl_h1_msg *m = &t->rsp.msg;
	char line[64];

	snprintf(line, sizeof(line), "HTTP/1.1 %u ", m->status);
	puts_(o, line);
	put(o, buf + m->reason.off, m->reason.len);
	puts_(o, "\r\n");
	for (uint32_t i = 0; i < m->n_hdrs; i++) {
		const struct sl_h1_header *h = &m->hdrs[i];
		const uint8_t *n = buf + h->name.off;

		if (h->id == SL_H1_H_CONTENT_LENGTH || sl_h1_is_hop_by_hop(m, buf, n, h->name.len) ||
		    (pr && dropped_by_action(t, pr, n, h->name.len)))
			continue;
		put(o, n, h->name.len);
		puts_(o, ": ");
		put(o, buf + h->value.off, h->value.len);
		puts_(o, "\r\n");
	}
	if (m->status == 101) {
		puts_(o, "Connection: upgrade\r\nUpgrade: websocket\r\n");
	} else {
		if (m->has_content_length && m->body != SL_H1_BODY_CHUNKED) {
			snprintf(line, sizeof(line), "Content-Length: %" PRIu64 "\r\n", m->content_length);
			puts_(o, line);
		} else if (m->body == SL_H1_BODY_CHUNKED) {
			puts_(o, "Transfer-Encoding: chunked\r\n");
		}
		if (t->client_close || m->body == SL_H1_BODY_CLOSE)
			puts_(o, "Connection: close\r\n");
		else if (t->client_minor == 0)
			puts_(o, "Connection: keep-alive\r\n");
	}
	if (pr)
		put_actions(o, t, pr);
	puts_(o, "\r\n");
	(void)cli;
	return o->over ? -E2BIG : 0;
}

/* ---- bodies: relayed by reference; chunked framing decoded only to find
 * the message's end. Returns 1 when the body is complete, 0 when waiting
 * (input or send space), <0 on a framing error. */
static int pump_body(struct sl_app_conn *from, struct sl_app_conn *to, uint8_t kind, uint64_t *left,
		     struct sl_h1_chunked *ck, uint32_t *pend, bool *ck_done, uint64_t *count)
{
	uint32_t moved;
	int rc;

	if (kind == SL_H1_BODY_NONE)
		return 1;
	if (kind == SL_H1_BODY_LENGTH) {
		while (*left) {
			rc = sl_app_in_relay(from, to, (uint32_t)RTE_MIN(*left, (uint64_t)UINT32_MAX), &moved);
			*left -= moved;
			*count += moved;
			if (rc == -EAGAIN || (!rc && !moved))
				return 0;
			if (rc)
				return rc;
		}
		return 1;
	}
	if (kind == SL_H1_BODY_CLOSE || kind == SL_H1_BODY_TUNNEL) {
		rc = sl_app_in_relay(from, to, UINT32_MAX, &moved);
		*count += moved;
		if (rc && rc != -EAGAIN)
			return rc;
		return from->eof && !sl_app_in_len(from) ? 1 : 0;
	}
	/* chunked */
	for (;;) {
		uint32_t flen;
		const uint8_t *f;
		size_t used = 0;
		struct sl_h1_span data;
		int done;

		if (*pend) {
			rc = sl_app_in_relay(from, to, *pend, &moved);
			*pend -= moved;
			*count += moved;
			if (rc == -EAGAIN || *pend)
				return 0;
			if (rc)
				return rc;
		}
		if (*ck_done)
			return 1;
		f = sl_app_in_first(from, &flen);
		if (!f)
			return 0;
		done = sl_h1_chunked_feed(ck, f, flen, &used, &data);
		if (done < 0)
			return -EBADMSG;
		*pend = (uint32_t)used;
		if (done == 1)
			*ck_done = true;    /* relay what is pending, then done */
		if (!used && done == 0)
			return 0;
	}
}

/* ---- the flow of one request */
static void drive(struct sl_app_conn *cli);
static void start_server(struct sl_app_conn *cli, struct txn *t);

/* Per-server bytes (sl_up_bytes, shown in /api and /metrics as for L4): what
 * went over the server connection, heads as sent and received, bodies as
 * relayed; counted when the server's part ends (done, failed or aborted). */
static void srv_bytes(struct sl_app_conn *cli, struct txn *t)
{
	if (t->srv_slot != SL_GEN_NONE && (t->srv_rx || t->srv_tx))
		sl_up_bytes(cli->aw, t->srv_slot, t->srv_rx, t->srv_tx);
	t->srv_rx = t->srv_tx = 0;
}

/* Passive health from responses (upstream.h): 500, 502, 503 and 504 say
 * the server (or what is behind it) is unwell, as do garbage, a reset or a
 * timeout before the response ended; other statuses are the application's
 * answer to this request. One verdict per response. */
static bool status_is_failure(unsigned st)
{
	return st == 500 || st == 502 || st == 503 || st == 504;
}

static void srv_judge(struct sl_app_conn *cli, struct txn *t, bool good)
{
	if (t->srv_judged || t->srv_slot == SL_GEN_NONE)
		return;
	t->srv_judged = true;
	if (good)
		sl_up_ok(cli->aw, t->srv_slot);
	else
		sl_up_bad(cli->aw, t->srv_slot, sl_app_now(cli));
}

static void access_log(struct sl_app_conn *cli, struct txn *t, uint64_t now)
{
	const struct sl_app_env *env = sl_app_env(cli->aw);
	const struct sl_gen_vs *vs = C(cli)->vs;
	struct sl_http_log r;
	struct sl_tcp_conn_info ci;
	bool significant = t->status >= 400 || (t->err && t->err < SL_HTTP_LOG_LOCAL) ||
			   now - t->t0 > SL_HTTP_LOG_SLOW_US;
	size_t o = 0;

	if (!env->http_log || !(vs->log_queries || significant))
		return;
	memset(&r, 0, offsetof(struct sl_http_log, text));
	r.t_us = t->t0;
	r.total_us = now - t->t0;
	r.server_us = t->t_srv ? now - t->t_srv : 0;
	r.req_bytes = t->bytes_in;
	r.rsp_bytes = t->bytes_out;
	r.vs_slot = vs->slot;
	r.pool_slot = t->srv_ip && cli->gen && t->pool_used < cli->gen->n_pools ? cli->gen->pools[t->pool_used].slot
										 : SL_GEN_NONE;
	r.client_ip = cli->rip;
	r.client_port = cli->rport;
	r.server_ip = t->srv_ip;
	r.server_port = t->srv_port;
	if (cli->tc) {
		sl_tcp_conn_info(cli->tc, &ci);
		r.client_rtt_us = ci.srtt_us;
	}
	r.status = t->status;
	r.rule_index = (int16_t)t->rule_index;
	r.err = t->err;
	r.significant = significant;
	{
		struct sl_app_xf_info xi;

		if (sl_app_xf_info(cli, &xi) && xi.version[0]) {
			memcpy(r.sni, xi.sni, sizeof(r.sni));
			memcpy(r.tls_version, xi.version, sizeof(r.tls_version));
			memcpy(r.tls_cipher, xi.cipher, sizeof(r.tls_cipher));
			r.tls_resumed = xi.resumed;
		}
	}
#define TXT(len_field, src, n)                                              \
	do {                                                                \
		size_t k_ = RTE_MIN((size_t)(n), sizeof(r.text) - o);       \
		memcpy(r.text + o, (src), k_);                               \
		r.len_field = (uint16_t)k_;                                  \
		o += k_;                                                     \
	} while (0)
	TXT(method_len, t->preq.method, t->preq.method_len);
	TXT(host_len, t->preq.host, t->preq.host_len);
	TXT(uri_len, t->preq.path, t->preq.path_len + (t->preq.query_len ? t->preq.query_len + 1 : 0));
#undef TXT
	env->http_log(env->arg, vs, &r);
}

static void account(struct sl_app_conn *cli, struct txn *t)
{
	struct sl_http_vs_stats *v = vst(cli);
	uint64_t now = sl_app_now(cli), total = now - t->t0;

	switch (t->status / 100) {
	case 1: v->resp_1xx++; break;
	case 2: v->resp_2xx++; break;
	case 3: v->resp_3xx++; break;
	case 4: v->resp_4xx++; break;
	default: v->resp_5xx++; break;
	}
	v->bytes_in += t->bytes_in;
	v->bytes_out += t->bytes_out;
	srv_bytes(cli, t);
	v->total_us_sum += total;
	hist_add(v->total_hist, total);
	if (t->t_srv) {
		v->server_us_sum += now - t->t_srv;
		hist_add(v->server_hist, now - t->t_srv);
	}
	access_log(cli, t, now);
}

/* The response (and the request) finished: the client connection goes on
 * with its next request, or ends. */
static void txn_done(struct sl_app_conn *cli)
{
	struct hc *hc = C(cli);
	struct txn *t = hc->t;
	const struct sl_gen_http *hp = hc->vs->http;
	bool close;

	if (!t || !t->rsp_done)
		return;
	if (!t->req_done) {
		/* the response ended before the request body: Connection: close was
		 * sent where that is possible; nothing more is read */
		t->client_close = true;
	}
	if (t->rsp_head)
		srv_judge(cli, t, !status_is_failure(t->status));
	account(cli, t);
	close = t->client_close;
	if (t->srv) {
		struct sl_app_conn *s = t->srv;

		t->srv = NULL;
		SV(s)->t = NULL;
		srv_release(s, t->req_done && t->rsp.msg.keep_alive && t->rsp_body != SL_H1_BODY_CLOSE);
	}
	if (t->head_in && sl_app_in_len(cli) >= t->head_len)
		sl_app_in_consume(cli, t->head_len);
	txn_put(W(cli), t);
	hc->t = NULL;
	hc->state = HC_IDLE;
	hc->n_req++;
	if (close || (hp->max_keepalive_requests && hc->n_req >= hp->max_keepalive_requests)) {
		cli_linger(cli);
		return;
	}
	hc->last_us = sl_app_now(cli);
	sl_app_timer_set(cli, hc->last_us + (uint64_t)hp->keepalive_timeout_ms * 1000);
	if (sl_app_in_len(cli))
		drive(cli);   /* a pipelined request waited for this response */
	else if (cli->eof)
		cli_close(cli);
}

static void abort_both(struct sl_app_conn *cli)
{
	struct hc *hc = C(cli);
	struct txn *t = hc->t;

	if (t) {
		srv_bytes(cli, t);
		if (t->srv)
			srv_end(t->srv, true);
		txn_put(W(cli), t);
		hc->t = NULL;
	}
	if (hc->own)
		srv_end(hc->own, false);
	sl_app_abort(cli);
}

/* The handshake fixed this connection's VS (the SNI child, or the parent);
 * a request whose Host names another child of the same parent would be
 * served under a certificate that was not presented for that name (domain
 * fronting across children). RFC 9110 15.5.20: 421, the client retries on a
 * connection of its own. A Host no child claims is served as the SNI chose,
 * as Avi does. */
static bool misdirected(const struct sl_app_conn *cli, const struct sl_gen_vs *vs, const struct sl_policy_req *q)
{
	const struct sl_gen *g = cli->gen;
	const struct sl_gen_vs *parent, *hv;
	const char *c;
	size_t n = q->host_len;

	if (vs->vs_type == SL_VS_NORMAL || !n || !g || !sl_app_secure(cli))
		return false;
	if (vs->vs_type == SL_VS_VH_CHILD) {
		if (vs->parent_idx >= g->n_vs)
			return false;
		parent = &g->vs[vs->parent_idx];
	} else {
		parent = vs;
	}
	c = q->host[0] == '[' ? NULL : memchr(q->host, ':', n);
	if (c)
		n = (size_t)(c - q->host);
	if (n && q->host[n - 1] == '.')
		n--;
	hv = n ? sl_gen_vh_match(g, parent, q->host, n) : NULL;
	return hv && hv != vs && hv->enabled;
}

/* Request head complete (len bytes at buf). */
static void request_start(struct sl_app_conn *cli, struct txn *t, const uint8_t *buf)
{
	struct hc *hc = C(cli);
	const struct sl_gen_vs *vs = hc->vs;
	const struct sl_gen_http *hp = vs->http;
	const struct sl_gen *g = cli->gen;
	const struct sl_h1_msg *m = &t->req.msg;
	struct hdr_ctx hx = { m, buf };
	struct sl_policy_result pr;
	bool decided = false;

	vst(cli)->requests++;
	t->head_len = m->head_len;
	t->bytes_in = m->head_len;
	t->req_body = (uint8_t)m->body;
	t->req_done = m->body == SL_H1_BODY_NONE;
	t->req_left = m->body == SL_H1_BODY_LENGTH ? m->content_length : 0;
	t->head_req = m->meth == SL_H1_M_HEAD;
	t->rsp.req_method = m->meth;
	/* the last request the profile allows on this connection says so */
	t->client_close = !m->keep_alive ||
			  (hp->max_keepalive_requests && hc->n_req + 1 >= hp->max_keepalive_requests);
	t->client_minor = m->minor;
	t->head_in = true;       /* the head's bytes are still in the client's input */
	t->upgrade = m->websocket && hp->websockets;
	t->idempotent = m->body == SL_H1_BODY_NONE && !t->upgrade &&
			(m->meth == SL_H1_M_GET || m->meth == SL_H1_M_HEAD || m->meth == SL_H1_M_OPTIONS ||
			 m->meth == SL_H1_M_TRACE);
	sl_h1_chunked_init(&t->req_ck, NULL);
	keep_request(t, buf, cli->lport);
	if (m->meth == SL_H1_M_CONNECT) {
		error_reply(cli, 501, &vst(cli)->bad_request);
		return;
	}
	if (hp->max_request_size && m->body == SL_H1_BODY_LENGTH && m->content_length > hp->max_request_size) {
		error_reply(cli, 413, &vst(cli)->too_large);
		return;
	}
	if (misdirected(cli, vs, &t->preq)) {
		error_reply(cli, 421, &vst(cli)->misdirected);
		return;
	}
	/* policies in index order; the first set that decides wins, header
	 * actions of the sets evaluated accumulate */
	t->preq.hdr = hdr_lookup;
	t->preq.hdr_arg = &hx;
	for (uint32_t i = 0; i < hp->n_policies && !decided; i++) {
		int d = sl_policy_eval_request(hp->policies[i], W(cli)->pctx, &t->preq, &pr);

		for (unsigned k = 0; k < pr.n_hdr && t->n_hdr < HDR_ACTIONS; k++)
			t->hdr[t->n_hdr++] = pr.hdr[k];
		if (d == SL_POLICY_CONTINUE)
			continue;
		decided = true;
		t->rule_index = pr.rule_index;
		if (d == SL_POLICY_LOCAL) {
			const struct sl_policy_local *l = pr.local;

			t->err = SL_HTTP_LOG_LOCAL;
			local_reply(cli, l->status, l->content_type, l->body, l->body_len, NULL, false);
			return;
		}
		if (d == SL_POLICY_REDIRECT) {
			char loc[4096];
			int n = sl_policy_redirect_build(pr.redirect, &t->preq, loc, sizeof(loc));

			vst(cli)->redirects++;
			t->err = SL_HTTP_LOG_REDIRECT;
			if (n < 0) {
				error_reply(cli, 502, &vst(cli)->bad_response);
				return;
			}
			/* the request body is not read: the connection ends after the redirect */
			local_reply(cli, pr.status, NULL, NULL, 0, loc, m->body != SL_H1_BODY_NONE);
			return;
		}
		if (d == SL_POLICY_POOL && pr.target >= 0 && (uint32_t)pr.target < g->n_pool_slots)
			t->pool_idx = g->pool_by_slot[pr.target];
		else if (d == SL_POLICY_POOLGROUP && pr.target >= 0 && (uint32_t)pr.target < g->n_pg_slots)
			t->pg_idx = g->pg_by_slot[pr.target];
	}
	t->preq.hdr = NULL;      /* the head's bytes may leave the input from here on */
	if (!decided && hp->http_to_https && !sl_app_secure(cli)) {
		char loc[4096];
		int n = snprintf(loc, sizeof(loc), "https://%.*s%.*s%s%.*s", (int)t->preq.host_len, t->preq.host,
				 (int)t->preq.path_len, t->preq.path, t->preq.query_len ? "?" : "",
				 (int)t->preq.query_len, t->preq.query);

		if (n > 0 && (size_t)n < sizeof(loc)) {
			vst(cli)->redirects++;
			local_reply(cli, 301, NULL, NULL, 0, loc, m->body != SL_H1_BODY_NONE);
			return;
		}
	}
	if (t->pool_idx == SL_GEN_NONE && t->pg_idx == SL_GEN_NONE) {
		t->pool_idx = vs->pool_idx;
		t->pg_idx = vs->poolgroup_idx;
	}
	hc->state = HC_WAIT;
	start_server(cli, t);
}

/* The head goes to the connected (or reused) server connection. */
static void send_head(struct sl_app_conn *cli, struct txn *t)
{
	struct hc *hc = C(cli);
	const uint8_t *buf = sl_app_in_view(cli, t->head_len, cli->aw->scratch);
	struct out o = { (char *)cli->aw->out, 0, sizeof(cli->aw->out), false };
	int n;

	if (!buf || build_request(cli, t, buf, &o)) {
		error_reply(cli, 431, &vst(cli)->bad_request);
		return;
	}
	n = sl_app_write(t->srv, o.p, (uint32_t)o.n);
	if (n != (int)o.n) {
		/* a fresh connection has room for a head; this one is unusable */
		srv_end(t->srv, true);
		t->srv = NULL;
		error_reply(cli, 502, &vst(cli)->bad_response);
		return;
	}
	t->head_sent = true;
	t->srv_tx += o.n;
	t->t_srv = sl_app_now(cli);
	{
		const struct sl_gen *g = cli->gen;
		uint32_t pi = t->pool_used;
		uint64_t to = pi < g->n_pools && g->pools[pi].server_timeout_ms
				      ? (uint64_t)g->pools[pi].server_timeout_ms * 1000 : SRV_RESPONSE_TIMEOUT_US;

		sl_app_timer_set(t->srv, t->t_srv + to);
	}
	SV(t->srv)->requests++;
	if (t->idempotent && !t->upgrade) {
		/* kept until the response head: a retry rebuilds it */
		t->head_kept = true;
		t->req_done = true;
		hc->state = HC_WAIT;
		return;
	}
	sl_app_in_consume(cli, t->head_len);
	t->head_in = false;
	hc->state = t->upgrade ? HC_WAIT : HC_BODY;
	drive(cli);
}

static void srv_attach(struct txn *t, struct sl_app_conn *s)
{
	struct hs *h = SV(s);

	t->srv = s;
	h->t = t;
	t->srv_slot = h->slot;
	t->srv_ip = s->rip;
	t->srv_port = s->rport;
}

/* Picks a server and gets a connection to it: a pooled one, or a new one. */
static void start_server(struct sl_app_conn *cli, struct txn *t)
{
	struct hc *hc = C(cli);
	struct sl_app_http_worker *w = W(cli);
	const struct sl_gen *g = cli->gen;
	uint64_t now = sl_app_now(cli);
	struct sl_up_pick x = { .tried = t->tried };
	bool any = false;

	x.hash_ip = sl_lb_client_hash(cli->rip, cli->rport, SL_LB_HASH_SOURCE_IP);
	x.hash_port = sl_lb_client_hash(cli->rip, cli->rport, SL_LB_HASH_SOURCE_IP_AND_PORT);
	if (t->pool_idx != SL_GEN_NONE && t->pool_idx < g->n_pools) {
		const struct sl_gen_pool *p = &g->pools[t->pool_idx];

		if (p->lb_hash == SL_LB_HASH_URI) {
			x.use_custom = true;
			x.hash_custom = sl_lb_hash_bytes(t->preq.path, t->preq.path_len);
		} else if (p->lb_hash == SL_LB_HASH_CUSTOM_HEADER) {
			const uint8_t *buf = sl_app_in_view(cli, t->head_len, cli->aw->scratch);
			int i = buf ? sl_h1_find(&t->req.msg, buf, p->hash_hdr, strlen(p->hash_hdr), 0) : -1;

			x.use_custom = true;
			x.hash_custom = i >= 0 ? sl_lb_hash_bytes(buf + t->req.msg.hdrs[i].value.off,
								  t->req.msg.hdrs[i].value.len)
					       : x.hash_ip;
		}
	}
	while (t->tries < TRIES) {
		const struct sl_gen_server *sv;
		struct sl_app_conn *s;
		int idx, err = 0;

		x.n_tried = t->tries;
		idx = sl_up_pick(cli->aw, g, t->pool_idx, t->pg_idx, &x);
		if (idx < 0)
			break;
		any = true;
		sv = &g->servers[idx];
		t->pool_used = (uint32_t)x.pool_idx;
		t->tried[t->tries++] = sv->slot;
		/* this client's own connection (multiplexing off), or a pooled one */
		s = hc->own && SV(hc->own)->slot == sv->slot && !SV(hc->own)->t ? hc->own : NULL;
		if (!s && !hc->vs->http->multiplex && hc->own && !SV(hc->own)->t)
			srv_end(hc->own, false);
		if (!s && hc->vs->http->multiplex && sv->slot < SL_MAX_HEALTH && w->idle[sv->slot]) {
			s = w->idle[sv->slot];
			idle_unlink(s);
		}
		if (s) {
			vst(cli)->server_reused++;
			srv_attach(t, s);
			send_head(cli, t);
			return;
		}
		if (!sl_up_take(sv->slot, g->pools[x.pool_idx].max_conns)) {
			x.limit_hit = true;
			continue;
		}
		s = sl_app_connect(cli->aw, sv->ip, sv->port, &srv_ops, NULL, &err);
		if (!s) {
			sl_up_drop(sv->slot);
			if (err == -EHOSTUNREACH)
				sl_up_fail(cli->aw, sv->slot, now, now);
			continue;
		}
		memset(SV(s), 0, sizeof(struct hs));
		SV(s)->slot = sv->slot;
		SV(s)->since = now;
		if (!hc->vs->http->multiplex) {
			SV(s)->owner = cli;
			hc->own = s;
		}
		sl_app_set_bufs(s, SRV_BUF, SRV_RCV_MIN);
		sl_app_set_nodelay(s, true);
		sl_app_timer_set(s, now + UP_CONNECT_TIMEOUT_US);
		vst(cli)->server_conns++;
		srv_attach(t, s);
		return;   /* send_head once connected */
	}
	if (!any && !x.limit_hit)
		error_reply(cli, 503, &vst(cli)->no_server);
	else if (x.limit_hit)
		error_reply(cli, 503, &vst(cli)->no_server);
	else
		error_reply(cli, 502, &vst(cli)->connect_fail);
}

/* A server connection's receive buffer follows the client it answers: it
 * starts at SRV_RCV_MIN and grows to SRV_BUF while the client offers a
 * window that can take it, and drops back when the client stops reading.
 * Otherwise every slow or stalled reader would hold a whole SRV_BUF of the
 * server's answer on top of its own send queue, and a few hundred of them
 * would take the worker's buffer pool from everybody (a slow-read attack).
 * A smaller buffer takes effect as data is consumed: the window's right
 * edge never moves back. */
static void srv_rcv_size(struct sl_app_conn *s, struct sl_app_conn *cli, bool blocked)
{
	struct hs *h = SV(s);

	if (!blocked && !h->rcv_big && sl_app_peer_window(cli) >= SRV_RCV_MIN) {
		h->rcv_big = true;
		sl_app_set_bufs(s, SRV_BUF, SRV_BUF);
	} else if (blocked && h->rcv_big && sl_app_peer_window(cli) < SRV_RCV_MIN) {
		h->rcv_big = false;
		sl_app_set_bufs(s, SRV_BUF, SRV_RCV_MIN);
	}
}

/* The server connection failed before any response byte: another try when
 * that is safe, else an error to the client. */
static void server_failed(struct txn *t, bool connect, bool timeout)
{
	struct sl_app_conn *cli = t->cli, *s = t->srv;
	bool reused = s && SV(s)->requests > 1;
	bool stale = !connect && reused && t->idempotent && !t->rsp_head;

	if (s) {
		if (connect)
			sl_up_fail(cli->aw, SV(s)->slot, SV(s)->since, sl_app_now(cli));
		else if (!stale)
			srv_judge(cli, t, false);   /* reset, close or timeout before the response ended */
		srv_bytes(cli, t);
		t->srv = NULL;
		srv_end(s, true);
	}
	if (connect || stale) {
		/* a stale keep-alive connection is no fault of the server: same pick again */
		if (reused && t->tries)
			t->tries--;
		vst(cli)->retries++;
		t->head_sent = false;
		start_server(cli, t);
		return;
	}
	if (t->rsp_head) {
		/* mid-response: the client cannot be told otherwise */
		vst(cli)->server_reset++;
		abort_both(cli);
		return;
	}
	if (timeout)
		error_reply(cli, 504, &vst(cli)->server_timeout);
	else
		error_reply(cli, 502, &vst(cli)->bad_response);
}

/* ---- the client side */
static void drive(struct sl_app_conn *cli)
{
	struct hc *hc = C(cli);
	struct txn *t;
	int rc;

	if (cli->dead)
		return;
	if (hc->state == HC_LINGER) {
		sl_app_in_consume(cli, sl_app_in_len(cli));
		if (cli->eof)
			cli_close(cli);
		return;
	}
	if (hc->state == HC_IDLE || hc->state == HC_HEAD) {
		uint32_t n = sl_app_in_len(cli);
		const uint8_t *buf;

		if (!n) {
			if (cli->eof)
				abort_both(cli);
			return;
		}
		if (!hc->t) {
			hc->t = txn_get(cli);
			if (!hc->t) {
				/* every transaction of this worker is busy: overload */
				error_reply(cli, 503, &vst(cli)->no_server);
				return;
			}
			hc->state = HC_HEAD;
			sl_app_timer_set(cli, sl_app_now(cli) + (uint64_t)hc->vs->http->client_header_timeout_ms * 1000);
		}
		t = hc->t;
		/* a head past the parser's limits fails inside them; the view is
		 * capped at what the scratch holds, and a head that still has not
		 * ended there is too large whatever the parser thinks */
		n = RTE_MIN(n, HEAD_VIEW_MAX);
		buf = sl_app_in_view(cli, n, cli->aw->scratch);
		rc = sl_h1_parse(&t->req, buf, n);
		if (rc == -EAGAIN && n == HEAD_VIEW_MAX) {
			t->req_done = true;
			error_reply(cli, 431, &vst(cli)->bad_request);
			return;
		}
		if (rc == -EAGAIN) {
			if (cli->eof)
				abort_both(cli);
			return;
		}
		if (rc < 0) {
			t->req_done = true;
			error_reply(cli, t->req.msg.err_status ? t->req.msg.err_status : 400, &vst(cli)->bad_request);
			return;
		}
		sl_app_timer_set(cli, 0);
		request_start(cli, t, buf);
		return;
	}
	t = hc->t;
	if (!t || !t->srv || !t->head_sent)
		return;
	if (hc->state == HC_BODY) {
		uint64_t b0 = t->bytes_in;

		rc = pump_body(cli, t->srv, t->req_body, &t->req_left, &t->req_ck, &t->req_pend, &t->req_ck_done,
			       &t->bytes_in);
		t->srv_tx += t->bytes_in - b0;
		if (rc == -EBADMSG && !t->rsp_head) {
			/* a malformed chunked body after a forwarded head: the server
			 * connection is reset (it never gets a whole request), the
			 * client told why */
			struct sl_app_conn *s = t->srv;

			t->srv = NULL;
			srv_end(s, true);
			t->req_done = true;
			error_reply(cli, 400, &vst(cli)->bad_request);
			return;
		}
		if (rc < 0) {
			vst(cli)->bad_request++;
			abort_both(cli);
			return;
		}
		if (rc == 1) {
			t->req_done = true;
			hc->state = HC_WAIT;
			txn_done(cli);
		} else if (cli->eof && !sl_app_in_len(cli)) {
			abort_both(cli);   /* the client left mid-body */
		}
		return;
	}
	if (hc->state == HC_TUNNEL) {
		uint64_t n = 0;

		rc = pump_body(cli, t->srv, SL_H1_BODY_TUNNEL, NULL, NULL, NULL, NULL, &n);
		t->bytes_in += n;
		t->srv_tx += n;
		if (rc < 0)
			abort_both(cli);
		else if (rc == 1)
			sl_app_shutdown(t->srv);
	}
}

/* ---- the server side */
static void srv_response(struct sl_app_conn *s)
{
	struct txn *t = SV(s)->t;
	struct sl_app_conn *cli;
	int rc;

	if (!t) {
		/* a pooled connection that speaks out of turn is not reused */
		srv_end(s, false);
		return;
	}
	cli = t->cli;
	while (!t->rsp_head) {
		uint32_t n = RTE_MIN(sl_app_in_len(s), HEAD_VIEW_MAX);
		const uint8_t *buf;
		struct out o = { (char *)cli->aw->out, 0, sizeof(cli->aw->out), false };
		struct sl_policy_result pr, *prp = NULL;
		const struct sl_gen_http *hp = C(cli)->vs->http;

		if (!n) {
			if (s->eof)
				server_failed(t, false, false);
			return;
		}
		buf = sl_app_in_view(s, n, cli->aw->scratch);
		rc = sl_h1_parse(&t->rsp, buf, n);
		if (rc == -EAGAIN && n < HEAD_VIEW_MAX) {
			if (s->eof)
				server_failed(t, false, false);
			return;
		}
		if (rc < 0) {
			srv_judge(cli, t, false);   /* garbage */
			t->srv_rx += n;
			srv_bytes(cli, t);
			t->srv = NULL;
			srv_end(s, true);
			error_reply(cli, 502, &vst(cli)->bad_response);
			return;
		}
		if (t->rsp.msg.status >= 100 && t->rsp.msg.status < 200 && t->rsp.msg.status != 101) {
			/* interim (100 Continue, 103): on to the client, then the real one */
			if (!build_response(cli, t, buf, NULL, &o) && sl_app_write(cli, o.p, (uint32_t)o.n) == (int)o.n)
				t->bytes_out += o.n;
			t->srv_rx += t->rsp.msg.head_len;
			sl_app_in_consume(s, t->rsp.msg.head_len);
			sl_h1_reset(&t->rsp);
			continue;
		}
		if (t->rsp.msg.status == 101 && !t->upgrade) {
			srv_judge(cli, t, false);
			srv_bytes(cli, t);
			t->srv = NULL;
			srv_end(s, true);
			error_reply(cli, 502, &vst(cli)->bad_response);
			return;
		}
		t->rsp_head = true;
		t->status = t->rsp.msg.status;
		if (status_is_failure(t->status))
			srv_judge(cli, t, false);
		t->rsp_body = (uint8_t)t->rsp.msg.body;
		t->rsp_left = t->rsp.msg.body == SL_H1_BODY_LENGTH ? t->rsp.msg.content_length : 0;
		sl_h1_chunked_init(&t->rsp_ck, NULL);
		sl_app_timer_set(s, 0);
		if (t->rsp_body == SL_H1_BODY_CLOSE)
			t->client_close = true;
		for (uint32_t i = 0; i < hp->n_policies; i++)
			if (sl_policy_rule_count(hp->policies[i], true) &&
			    sl_policy_eval_response(hp->policies[i], W(cli)->pctx, &t->preq, &pr)) {
				prp = &pr;
				break;
			}
		if (build_response(cli, t, buf, prp, &o) || sl_app_write(cli, o.p, (uint32_t)o.n) != (int)o.n) {
			vst(cli)->bad_response++;
			abort_both(cli);
			return;
		}
		t->bytes_out += o.n;
		t->srv_rx += t->rsp.msg.head_len;
		sl_app_in_consume(s, t->rsp.msg.head_len);
		if (t->head_in) {
			sl_app_in_consume(cli, t->head_len);
			t->head_in = t->head_kept = false;
		}
		if (t->status == 101) {
			C(cli)->state = HC_TUNNEL;
			t->rsp_body = SL_H1_BODY_TUNNEL;
			drive(cli);
			if (cli->dead)
				return;
		}
	}
	{
		uint64_t b0 = t->bytes_out;

		rc = pump_body(s, cli, t->rsp_body, &t->rsp_left, &t->rsp_ck, &t->rsp_pend, &t->rsp_ck_done,
			       &t->bytes_out);
		t->srv_rx += t->bytes_out - b0;
		srv_rcv_size(s, cli, !rc && sl_app_in_len(s));
		if (!rc && sl_app_in_len(s) && C(cli)->vs->http->client_body_timeout_ms &&
		    (t->bytes_out != b0 || !t->slow_armed)) {
			/* blocked on a client that does not read (slow reader): it has
			 * client_body_timeout to take more before both sides are reset.
			 * Only progress moves the deadline: the window probes and the
			 * server's further segments call us too, and moving nothing. */
			t->slow_armed = true;
			sl_app_timer_set(cli, sl_app_now(cli) + (uint64_t)C(cli)->vs->http->client_body_timeout_ms * 1000);
		}
	}
	if (rc < 0) {
		if (rc == -EBADMSG)
			srv_judge(cli, t, false);   /* the server's chunked framing is broken */
		vst(cli)->bad_response++;
		abort_both(cli);
		return;
	}
	if (rc == 1 && t->rsp_body == SL_H1_BODY_TUNNEL) {
		sl_app_shutdown(cli);
		return;
	}
	if (rc == 1) {
		t->rsp_done = true;
		txn_done(cli);
		return;
	}
	if (s->eof && !sl_app_in_len(s) && t->rsp_body != SL_H1_BODY_CLOSE) {
		/* the server closed mid-body */
		srv_judge(cli, t, false);
		vst(cli)->server_reset++;
		abort_both(cli);
	}
}

static void srv_connected(struct sl_app_conn *s)
{
	struct hs *h = SV(s);
	struct txn *t = h->t;
	uint64_t now = sl_app_now(s);

	/* the response says whether the server is well, not the connect */
	sl_up_connect_done(s->aw, h->slot, h->since, now);
	h->connected = true;
	h->since = now;
	sl_app_timer_set(s, 0);
	if (!t) {
		srv_end(s, false);
		return;
	}
	send_head(t->cli, t);
}

static void srv_data(struct sl_app_conn *s)
{
	srv_response(s);
}

static void srv_writable(struct sl_app_conn *s)
{
	struct txn *t = SV(s)->t;

	if (t)
		drive(t->cli);
}

static void srv_eof(struct sl_app_conn *s)
{
	struct txn *t = SV(s)->t;

	if (!t) {
		srv_end(s, false);   /* a pooled connection the server closed */
		return;
	}
	srv_response(s);
}

static void srv_error(struct sl_app_conn *s, int reason)
{
	struct txn *t = SV(s)->t;

	if (!t) {
		srv_end(s, true);
		return;
	}
	server_failed(t, !SV(s)->connected, reason == SL_TCP_ERR_TIMEOUT);
}

static void srv_timer(struct sl_app_conn *s)
{
	struct hs *h = SV(s);
	struct txn *t = h->t;

	if (!t) {
		srv_end(s, false);   /* idle too long in the pool */
		return;
	}
	server_failed(t, !h->connected, true);
}

static void describe_srv(const struct sl_app_conn *c, char *buf, size_t len)
{
	const struct hs *h = (const struct hs *)(const void *)c->priv;

	snprintf(buf, len, "server%s%s req=%u", h->idle ? " idle" : "", h->connected ? "" : " connecting", h->requests);
}

static const struct sl_app_ops srv_ops = {
	.name = "http", .connected = srv_connected, .data = srv_data, .writable = srv_writable, .eof = srv_eof,
	.timer = srv_timer, .error = srv_error, .describe = describe_srv,
};

static int cli_accept(struct sl_app_conn *c, const struct sl_gen_vs *vs)
{
	struct hc *hc = C(c);

	memset(hc, 0, sizeof(*hc));
	if (!vs || !vs->http || vs->slot >= SL_MAX_VS)
		return -ENOENT;
	/* vs is in the generation this connection pinned: it stays valid */
	hc->vs = vs;
	hc->last_us = sl_app_now(c);
	W(c)->vs[vs->slot].conns++;
	sl_app_set_bufs(c, SRV_BUF, SRV_BUF);
	sl_app_set_nodelay(c, true);
	sl_app_timer_set(c, hc->last_us + (uint64_t)vs->http->client_header_timeout_ms * 1000);
	return 0;
}

static void cli_data(struct sl_app_conn *c)
{
	drive(c);
}

static void cli_writable(struct sl_app_conn *c)
{
	struct txn *t = C(c)->t;

	if (t && t->srv)
		srv_response(t->srv);
}

static void cli_eof(struct sl_app_conn *c)
{
	struct hc *hc = C(c);

	if (hc->state == HC_WAIT && hc->t) {
		/* a half-closed client still gets its response */
		return;
	}
	if (hc->state == HC_TUNNEL && hc->t && hc->t->srv) {
		drive(c);
		return;
	}
	drive(c);
	if (!c->dead && hc->state == HC_IDLE && !sl_app_in_len(c))
		cli_close(c);
}

static void cli_error(struct sl_app_conn *c, int reason)
{
	(void)reason;
	abort_both(c);
}

static void cli_timer(struct sl_app_conn *c)
{
	struct hc *hc = C(c);

	if (hc->state == HC_LINGER) {
		cli_close(c);
		return;
	}

	if (hc->t && hc->t->rsp_head && !hc->t->rsp_done && hc->t->srv && sl_app_in_len(hc->t->srv)) {
		abort_both(c);   /* the response still waits on the client (slow reader) */
		return;
	}
	if (hc->state == HC_HEAD && hc->t) {
		/* slowloris: the head did not arrive in time */
		hc->t->req_done = true;
		error_reply(c, 408, &vst(c)->header_timeout);
		return;
	}
	if (hc->state == HC_IDLE) {
		if (sl_app_in_len(c)) {
			drive(c);
			return;
		}
		cli_close(c);   /* keep-alive (or first-request) timeout */
	}
}

static void describe_cli(const struct sl_app_conn *c, char *buf, size_t len)
{
	static const char *const st[] = { "idle", "head", "body", "wait", "tunnel", "linger" };
	const struct hc *hc = (const struct hc *)(const void *)c->priv;

	snprintf(buf, len, "client %s req=%u", st[hc->state], hc->n_req);
}

const struct sl_app_ops sl_app_http_ops = {
	.name = "http", .accept = cli_accept, .data = cli_data, .writable = cli_writable, .eof = cli_eof,
	.timer = cli_timer, .error = cli_error, .describe = describe_cli,
};

/* ---- set-up and counters */
void sl_app_http_tick(struct sl_app_worker *aw, uint64_t now)
{
	(void)aw;
	(void)now;
}



