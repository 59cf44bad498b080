/* TCP and HTTP health probes over the application layer (sl_probe.h).
 *
 * Per probe, never per packet on a hot path: no heap, no locks, no logs.
 * The request goes out once connected (continued from writable when the
 * send space is short); what comes back is copied into the probe's 512-byte
 * response and consumed at once, so the window stays open. An HTTP probe
 * is conclusive at the end of its status line, which the strict response
 * parser (dataplane/http, sl_h1.h) reads: a line it refuses ("HTTP/1.1 2000",
 * "ICY 200 OK", bare LF) leaves p->status 0, a failed check for control. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sl_h1.h"
#include "sl_probe.h"

struct probe {
	struct sl_hm_probe *p;
	sl_probe_done_fn done;
	void *arg;
	uint32_t sent;
	bool connected, finished;
};

static const struct sl_app_ops probe_ops;

static inline struct probe *P(struct sl_app_conn *c)
{
	return sl_app_priv(c, struct probe);
}

static void finish(struct sl_app_conn *c, uint8_t outcome, bool rst)
{
	struct probe *pr = P(c);

	if (pr->finished)
		return;
	pr->finished = true;
	/* graceful for a verdict (the server sees an orderly close), reset
	 * when the transport already failed */
	if (rst)
		sl_app_abort(c);
	else
		sl_app_close(c);
	pr->done(pr->arg, outcome);
}

/* HTTP: the status line, read strictly. 1 = conclusive (p->status set, 0
 * for a line the parser refuses), 0 = need more. */
static int http_status(struct sl_hm_probe *p)
{
	struct sl_h1_header h[1];
	struct sl_h1_parser ps;
	const uint8_t *eol = memmem(p->resp, p->resp_len, "\r\n", 2);
	size_t n = eol ? (size_t)(eol - p->resp) + 2 : p->resp_len;
	int rc;

	/* only the status line: the headers after it are not the monitor's
	 * business, and stopping there keeps the parse to one line */
	sl_h1_init(&ps, SL_H1_RESPONSE, NULL, h, 1);
	rc = sl_h1_parse(&ps, p->resp, n);
	if (rc == -EBADMSG) {
		p->status = 0;
		return 1;
	}
	if (ps.msg.status) {
		p->status = ps.msg.status;
		return 1;
	}
	return p->resp_len == SL_HM_RESP_MAX;
}

static bool conclusive(struct sl_hm_probe *p)
{
	if (p->kind == SL_HM_HTTP)
		return http_status(p) == 1;
	if (p->resp_len == SL_HM_RESP_MAX)
		return true;
	return p->expect_len && memmem(p->resp, p->resp_len, p->expect, p->expect_len);
}

static void send_request(struct sl_app_conn *c)
{
	struct probe *pr = P(c);
	struct sl_hm_probe *p = pr->p;

	while (pr->sent < p->req_len) {
		int n = sl_app_write(c, p->req + pr->sent, p->req_len - pr->sent);

		if (n == -EAGAIN)
			return;   /* writable continues */
		if (n <= 0) {
			finish(c, SL_HM_RESET, true);
			return;
		}
		pr->sent += (uint32_t)n;
	}
	/* plain TCP without an expected answer: the connect is the check */
	if (p->kind == SL_HM_TCP && !p->expect_len)
		finish(c, SL_HM_DONE, false);
}

static void pr_connected(struct sl_app_conn *c)
{
	P(c)->connected = true;
	send_request(c);
}

static void pr_data(struct sl_app_conn *c)
{
	struct probe *pr = P(c);
	struct sl_hm_probe *p = pr->p;
	uint32_t len;
	const uint8_t *b;

	if (pr->finished)
		return;
	while ((b = sl_app_in_first(c, &len))) {
		uint32_t k = RTE_MIN(len, (uint32_t)(SL_HM_RESP_MAX - p->resp_len));

		memcpy(p->resp + p->resp_len, b, k);
		p->resp_len = (uint16_t)(p->resp_len + k);
		sl_app_in_consume(c, len);   /* what does not fit is not looked at */
	}
	if (conclusive(p))
		finish(c, SL_HM_DONE, false);
}

static void pr_writable(struct sl_app_conn *c)
{
	if (!P(c)->finished)
		send_request(c);
}

static void pr_eof(struct sl_app_conn *c)
{
	struct probe *pr = P(c);

	if (pr->finished)
		return;
	pr_data(c);
	if (pr->finished)
		return;
	/* the server closed: judge what it said (an HTTP answer cut before its
	 * status line ended is no status line) */
	if (pr->p->kind == SL_HM_HTTP)
		http_status(pr->p);
	finish(c, SL_HM_DONE, false);
}

static void pr_timer(struct sl_app_conn *c)
{
	(void)c;   /* deadlines are the core's (sl_probe_cancel) */
}

static void pr_error(struct sl_app_conn *c, int reason)
{
	struct probe *pr = P(c);

	if (pr->finished) {
		sl_app_abort(c);
		return;
	}
	if (!pr->connected)
		finish(c, reason == SL_TCP_ERR_TIMEOUT ? SL_HM_TIMEOUT : SL_HM_REFUSED, true);
	else
		finish(c, reason == SL_TCP_ERR_TIMEOUT ? SL_HM_TIMEOUT : SL_HM_RESET, true);
}

static void pr_describe(const struct sl_app_conn *c, char *buf, size_t len)
{
	const struct probe *pr = (const struct probe *)(const void *)c->priv;

	snprintf(buf, len, "health %s%s resp=%u", pr->p && pr->p->kind == SL_HM_HTTP ? "http" : "tcp",
		 pr->connected ? "" : " connecting", pr->p ? pr->p->resp_len : 0);
}

static const struct sl_app_ops probe_ops = {
	.name = "health", .connected = pr_connected, .data = pr_data, .writable = pr_writable, .eof = pr_eof,
	.timer = pr_timer, .error = pr_error, .describe = pr_describe,
};

struct sl_app_conn *sl_probe_start(struct sl_app_worker *aw, struct sl_hm_probe *p, sl_probe_done_fn done,
				   void *arg, uint8_t *outcome)
{
	struct sl_app_conn *c;
	int err = 0;

	p->resp_len = 0;
	p->status = 0;
	c = sl_app_connect(aw, p->ip, p->port, &probe_ops, NULL, &err);
	if (!c) {
		*outcome = err == -EHOSTUNREACH ? SL_HM_NO_ROUTE : SL_HM_BUSY;
		return NULL;
	}
	memset(P(c), 0, sizeof(struct probe));
	P(c)->p = p;
	P(c)->done = done;
	P(c)->arg = arg;
	return c;
}

void sl_probe_cancel(struct sl_app_conn *c)
{
	if (P(c)->finished)
		return;
	P(c)->finished = true;
	sl_app_abort(c);
}
