/* HTTP access-log lines, runtime JSON and Prometheus text (http_obs.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "http_obs.h"

/* ---- the access-log line: written by hand into the caller's buffer, so a
 * record costs no allocation and any byte of a URI or Host header (the
 * record holds them as received) still gives valid JSON */
struct wr {
	char *p;
	size_t n, cap;
	bool over;
};

static void put(struct wr *w, const char *s, size_t len)
{
	if (w->over || w->cap - w->n <= len) {
		w->over = true;
		return;
	}
	memcpy(w->p + w->n, s, len);
	w->n += len;
}

__attribute__((format(printf, 2, 3)))
static void putf(struct wr *w, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (w->over)
		return;
	va_start(ap, fmt);
	k = vsnprintf(w->p + w->n, w->cap - w->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= w->cap - w->n)
		w->over = true;
	else
		w->n += (size_t)k;
}

/* A JSON string of len bytes. Bytes outside printable ASCII become \u00XX
 * (the byte as a code point): always valid JSON, and each byte can be read
 * back, which a UTF-8 decoder would not promise for what a client sent. */
static void put_str(struct wr *w, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	put(w, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };

		if (ch == '"' || ch == '\\') {
			e[1] = (char)ch;
			put(w, e, 2);
		} else if (ch < 0x20 || ch >= 0x7f) {
			put(w, e, 6);
		} else {
			put(w, (const char *)&ch, 1);
		}
	}
	put(w, "\"", 1);
}

static void put_key_str(struct wr *w, const char *key, const char *s, size_t len)
{
	putf(w, ",\"%s\":", key);
	put_str(w, s, len);
}

static void put_ip(struct wr *w, const char *key, uint32_t ip_be)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &ip_be, ip, sizeof(ip));
	putf(w, ",\"%s\":\"%s\"", key, ip);
}

size_t sl_alog_format(char *buf, size_t cap, const struct sl_http_log *r, const struct sl_alog_ctx *c)
{
	struct wr w = { buf, 0, cap, cap == 0 };
	time_t sec = (time_t)(r->t_us / 1000000);
	size_t lens[3] = { r->method_len, r->host_len, r->uri_len }, off = 0;
	static const char *const keys[3] = { "method", "host", "uri" };
	char ts[32];
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	putf(&w, "{\"timestamp\":\"%s.%06uZ\"", ts, (unsigned)(r->t_us % 1000000));
	put_key_str(&w, "vs", c->vs, strlen(c->vs));
	put_ip(&w, "client_ip", r->client_ip);
	putf(&w, ",\"client_port\":%u", r->client_port);
	for (unsigned i = 0; i < 3; i++) {
		/* the lengths come from the worker: never read past text */
		size_t k = lens[i] < SL_HTTP_LOG_TEXT - off ? lens[i] : SL_HTTP_LOG_TEXT - off;

		put_key_str(&w, keys[i], r->text + off, k);
		off += k;
	}
	putf(&w, ",\"status\":%u,\"request_bytes\":%" PRIu64 ",\"response_bytes\":%" PRIu64, r->status,
	     r->req_bytes, r->rsp_bytes);
	if (c->pool)
		put_key_str(&w, "pool", c->pool, strlen(c->pool));
	if (r->server_ip) {
		put_ip(&w, "server_ip", r->server_ip);
		putf(&w, ",\"server_port\":%u", r->server_port);
	}
	putf(&w, ",\"client_rtt\":%u", r->client_rtt_us);
	if (r->server_us)
		putf(&w, ",\"server_response_time\":%" PRIu64, r->server_us);
	putf(&w, ",\"total_time\":%" PRIu64, r->total_us);
	if (r->rule_index >= 0)
		putf(&w, ",\"rule\":%d", r->rule_index);
	if (r->tls_version[0]) {
		/* bounded copies from the worker: NUL within each array */
		put_key_str(&w, "sni", r->sni, strnlen(r->sni, sizeof(r->sni)));
		put_key_str(&w, "tls_version", r->tls_version, strnlen(r->tls_version, sizeof(r->tls_version)));
		put_key_str(&w, "cipher", r->tls_cipher, strnlen(r->tls_cipher, sizeof(r->tls_cipher)));
		putf(&w, ",\"resumed\":%s", r->tls_resumed ? "true" : "false");
	}
	if (c->error)
		put_key_str(&w, "error", c->error, strlen(c->error));
	putf(&w, ",\"significant\":%s,\"worker\":%u}\n", r->significant ? "true" : "false", c->worker);
	if (w.over) {
		if (cap)
			buf[0] = '\0';
		return 0;
	}
	buf[w.n] = '\0';
	return w.n;
}

/* ---- runtime JSON */
static uint64_t hist_count(const uint64_t *h)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < SL_HTTP_LAT_BUCKETS; i++)
		n += h[i];
	return n;
}

#define J(v) ((json_int_t)(v))

json_t *sl_http_vs_json(const struct sl_http_vs_stats *s)
{
	uint64_t nt = hist_count(s->total_hist), ns = hist_count(s->server_hist);

	/* means over the requests the histograms counted, the ones *_us_sum adds up */
	return json_pack("{s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I},s:I,s:I,s:I,s:I,"
			 "s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:I,s:{s:I,s:I},s:I,s:I}",
			 "connections", J(s->conns), "requests", J(s->requests),
			 "responses", "1xx", J(s->resp_1xx), "2xx", J(s->resp_2xx), "3xx", J(s->resp_3xx),
			 "4xx", J(s->resp_4xx), "5xx", J(s->resp_5xx),
			 "bytes_in", J(s->bytes_in), "bytes_out", J(s->bytes_out),
			 "local_responses", J(s->local), "redirects", J(s->redirects),
			 "errors", "bad_request", J(s->bad_request), "header_timeout", J(s->header_timeout),
			 "too_large", J(s->too_large), "misdirected", J(s->misdirected), "no_server", J(s->no_server),
			 "connect_failed", J(s->connect_fail), "bad_response", J(s->bad_response),
			 "server_timeout", J(s->server_timeout), "server_reset", J(s->server_reset),
			 "retries", J(s->retries),
			 "server_connections", "new", J(s->server_conns), "reused", J(s->server_reused),
			 "mean_total_time_us", J(nt ? s->total_us_sum / nt : 0),
			 "mean_server_time_us", J(ns ? s->server_us_sum / ns : 0));
}

/* ---- Prometheus text */
struct mt {
	void (*out)(void *, const char *);
	void *arg;
};

__attribute__((format(printf, 2, 3)))
static void line(struct mt *m, const char *fmt, ...)
{
	char b[512];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (k > 0 && (size_t)k < sizeof(b))
		m->out(m->arg, b);
}

/* microseconds as exact decimal seconds ("0.00025", "1"): no float rounding
 * in a bucket bound or a sum */
static const char *secs(char *b, size_t len, uint64_t us)
{
	size_t k;

	snprintf(b, len, "%" PRIu64 ".%06u", us / 1000000, (unsigned)(us % 1000000));
	k = strlen(b);
	while (b[k - 1] == '0')
		b[--k] = '\0';
	if (b[k - 1] == '.')
		b[k - 1] = '\0';
	return b;
}

/* the counters one metric family after the other: (offset of the field, label or NULL) */
struct fam {
	const char *name, *help, *label;
	struct { size_t off; const char *value; } v[10];
};

#define OFF(f) offsetof(struct sl_http_vs_stats, f)

static const struct fam fams[] = {
	{ "sluice_http_connections_total", "Client connections accepted.", NULL, { { OFF(conns), NULL } } },
	{ "sluice_http_requests_total", "Requests parsed.", NULL, { { OFF(requests), NULL } } },
	{ "sluice_http_responses_total", "Responses sent to clients, by status class.", "class",
	  { { OFF(resp_1xx), "1xx" }, { OFF(resp_2xx), "2xx" }, { OFF(resp_3xx), "3xx" }, { OFF(resp_4xx), "4xx" },
	    { OFF(resp_5xx), "5xx" } } },
	{ "sluice_http_bytes_total", "Request (in) and response (out) bytes, heads and bodies.", "dir",
	  { { OFF(bytes_in), "in" }, { OFF(bytes_out), "out" } } },
	{ "sluice_http_local_responses_total", "Responses the engine made (policies and errors).", NULL,
	  { { OFF(local), NULL } } },
	{ "sluice_http_redirects_total", "Redirects sent.", NULL, { { OFF(redirects), NULL } } },
	{ "sluice_http_errors_total", "Requests that got no server answer, by kind.", "kind",
	  { { OFF(bad_request), "bad_request" }, { OFF(header_timeout), "header_timeout" },
	    { OFF(too_large), "too_large" }, { OFF(misdirected), "misdirected" }, { OFF(no_server), "no_server" }, { OFF(connect_fail), "connect_failed" },
	    { OFF(bad_response), "bad_response" }, { OFF(server_timeout), "server_timeout" },
	    { OFF(server_reset), "server_reset" } } },
	{ "sluice_http_retries_total", "Idempotent requests retried on a new server connection.", NULL,
	  { { OFF(retries), NULL } } },
	{ "sluice_http_server_connections_total", "Server connections opened.", NULL, { { OFF(server_conns), NULL } } },
	{ "sluice_http_server_connections_reused_total", "Requests sent on a pooled server connection.", NULL,
	  { { OFF(server_reused), NULL } } },
};

static uint64_t field(const struct sl_http_vs_stats *s, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)s + off, sizeof(v));
	return v;
}

/* A label value as the text format wants it: names are free text (only
 * their length is bounded), and one quote would break every later line. */
#define LBL_MAX (2 * 256 + 1)
static const char *lbl(char *b, const char *s)
{
	size_t k = 0;

	for (; *s && k < LBL_MAX - 3; s++) {
		if (*s == '"' || *s == '\\' || *s == '\n') {
			b[k++] = '\\';
			b[k++] = *s == '\n' ? 'n' : *s;
		} else {
			b[k++] = *s;
		}
	}
	b[k] = '\0';
	return b;
}

static void histogram(struct mt *m, const char *name, const char *help, unsigned n, const char *const *names,
		      const struct sl_http_vs_stats *st, size_t hist_off, size_t sum_off, const uint32_t *bounds_us)
{
	char b[32], l[LBL_MAX];

	line(m, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (unsigned i = 0; i < n; i++) {
		const uint64_t *h = (const uint64_t *)((const char *)&st[i] + hist_off);
		const char *vs = lbl(l, names[i]);
		uint64_t cum = 0;

		for (unsigned k = 0; k < SL_HTTP_LAT_BUCKETS; k++) {
			cum += h[k];
			if (k < SL_HTTP_LAT_BUCKETS - 1)
				line(m, "%s_bucket{vs=\"%s\",le=\"%s\"} %" PRIu64 "\n", name, vs,
				     secs(b, sizeof(b), bounds_us[k]), cum);
			else
				line(m, "%s_bucket{vs=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", name, vs, cum);
		}
		line(m, "%s_sum{vs=\"%s\"} %s\n", name, vs, secs(b, sizeof(b), field(&st[i], sum_off)));
		line(m, "%s_count{vs=\"%s\"} %" PRIu64 "\n", name, vs, cum);
	}
}

void sl_http_metrics_text(void (*out)(void *arg, const char *line), void *arg, unsigned n,
			  const char *const *names, const struct sl_http_vs_stats *st, const uint32_t *bounds_us)
{
	struct mt m = { out, arg };
	char l[LBL_MAX];

	if (!n)
		return;
	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		const struct fam *fm = &fams[f];

		line(&m, "# HELP %s %s\n# TYPE %s counter\n", fm->name, fm->help, fm->name);
		for (unsigned i = 0; i < n; i++) {
			const char *vs = lbl(l, names[i]);

			for (unsigned k = 0; k < sizeof(fm->v) / sizeof(fm->v[0]) && (k == 0 || fm->v[k].value); k++) {
				if (fm->label)
					line(&m, "%s{vs=\"%s\",%s=\"%s\"} %" PRIu64 "\n", fm->name, vs, fm->label,
					     fm->v[k].value, field(&st[i], fm->v[k].off));
				else
					line(&m, "%s{vs=\"%s\"} %" PRIu64 "\n", fm->name, vs, field(&st[i], fm->v[k].off));
			}
		}
	}
	histogram(&m, "sluice_http_request_duration_seconds", "Time from a request's first byte to its response's last.",
		  n, names, st, OFF(total_hist), OFF(total_us_sum), bounds_us);
	histogram(&m, "sluice_http_server_duration_seconds",
		  "Time from the request head sent to a server to the response's last byte.", n, names, st,
		  OFF(server_hist), OFF(server_us_sum), bounds_us);
}
