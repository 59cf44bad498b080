/* HTTP access-log lines, runtime JSON and Prometheus text
 * (dataplane/core/http_obs.h), without DPDK: every field of a line, the
 * ones left out, escaping of any byte, lengths past the record's text,
 * buffers too small, every counter in the runtime object, and metrics text
 * checked by a parser of the exposition format. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "http_obs.h"

/* the proxy's bounds (dataplane/app/http/http_fp.c), here so this test
 * links without the application layer */
static const uint32_t bounds[SL_HTTP_LAT_BUCKETS - 1] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 1000000,
};

static void set_text(struct sl_http_log *r, const char *m, const char *h, const char *u)
{
	size_t a = strlen(m), b = strlen(h), c = strlen(u);

	memcpy(r->text, m, a);
	memcpy(r->text + a, h, b);
	memcpy(r->text + a + b, u, c);
	r->method_len = (uint16_t)a;
	r->host_len = (uint16_t)b;
	r->uri_len = (uint16_t)c;
}

static struct sl_http_log full_rec(void)
{
	struct sl_http_log r;

	memset(&r, 0, sizeof(r));
	r.t_us = 1700000000123456ull;       /* 2023-11-14T22:13:20.123456Z */
	r.total_us = 1834;
	r.server_us = 1200;
	r.req_bytes = 87;
	r.rsp_bytes = 612;
	r.vs_slot = 3;
	r.pool_slot = 1;
	r.client_ip = inet_addr("198.18.0.2");
	r.server_ip = inet_addr("198.18.1.2");
	r.client_port = 40123;
	r.server_port = 80;
	r.client_rtt_us = 57;
	r.status = 200;
	r.rule_index = 7;
	r.significant = false;
	set_text(&r, "GET", "shop.example", "/a/b?x=1");
	return r;
}

Test(alog, full_line_every_field_in_order)
{
	struct sl_http_log r = full_rec();
	struct sl_alog_ctx c = { .vs = "vs-web", .pool = "p-web", .error = NULL, .worker = 1 };
	char buf[SL_ALOG_LINE_MAX];
	size_t n = sl_alog_format(buf, sizeof(buf), &r, &c);
	const char *want =
		"{\"timestamp\":\"2023-11-14T22:13:20.123456Z\",\"vs\":\"vs-web\",\"client_ip\":\"198.18.0.2\","
		"\"client_port\":40123,\"method\":\"GET\",\"host\":\"shop.example\",\"uri\":\"/a/b?x=1\","
		"\"status\":200,\"request_bytes\":87,\"response_bytes\":612,\"pool\":\"p-web\","
		"\"server_ip\":\"198.18.1.2\",\"server_port\":80,\"client_rtt\":57,\"server_response_time\":1200,"
		"\"total_time\":1834,\"rule\":7,\"significant\":false,\"worker\":1}\n";

	cr_assert_str_eq(buf, want);
	cr_assert_eq(n, strlen(want));
}

Test(alog, timestamp_microseconds_keep_leading_zeros)
{
	struct sl_http_log r = full_rec();
	struct sl_alog_ctx c = { .vs = "v", .worker = 0 };
	char buf[SL_ALOG_LINE_MAX];

	r.t_us = 946684800000007ull;        /* 2000-01-01T00:00:00.000007Z */
	cr_assert(sl_alog_format(buf, sizeof(buf), &r, &c));
	cr_assert(!strncmp(buf, "{\"timestamp\":\"2000-01-01T00:00:00.000007Z\",", 43), "%s", buf);
}

Test(alog, absent_pool_server_rule_error_are_left_out)
{
	struct sl_http_log r = full_rec();
	struct sl_alog_ctx c = { .vs = "vs-web", .pool = NULL, .error = "no_server", .worker = 0 };
	char buf[SL_ALOG_LINE_MAX];
	json_error_t je;
	json_t *o;

	r.server_ip = 0;
	r.server_port = 0;
	r.server_us = 0;
	r.rule_index = -1;
	r.status = 503;
	r.significant = true;
	cr_assert(sl_alog_format(buf, sizeof(buf), &r, &c));
	o = json_loads(buf, 0, &je);
	cr_assert(o, "%s: %s", je.text, buf);
	cr_expect_null(json_object_get(o, "pool"));
	cr_expect_null(json_object_get(o, "server_ip"));
	cr_expect_null(json_object_get(o, "server_port"));
	cr_expect_null(json_object_get(o, "server_response_time"));
	cr_expect_null(json_object_get(o, "rule"));
	cr_expect_str_eq(json_string_value(json_object_get(o, "error")), "no_server");
	cr_expect(json_is_true(json_object_get(o, "significant")));
	cr_expect_eq(json_integer_value(json_object_get(o, "status")), 503);
	/* rule 0 is a rule (Avi indexes start at 0), only -1 is none */
	r.rule_index = 0;
	cr_assert(sl_alog_format(buf, sizeof(buf), &r, &c));
	cr_expect(strstr(buf, ",\"rule\":0,"), "%s", buf);
	json_decref(o);
}

/* decode a JSON string's UTF-8 (as jansson returns it) into code points */
static size_t code_points(const char *s, size_t len, unsigned *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n < max;) {
		unsigned char b = (unsigned char)s[i];

		if (b < 0x80) {
			out[n++] = b;
			i++;
		} else {
			cr_assert_eq(b & 0xe0, 0xc0, "only code points below 0x100 expected");
			out[n++] = (unsigned)(b & 0x1f) << 6 | ((unsigned char)s[i + 1] & 0x3f);
			i += 2;
		}
	}
	return n;
}

Test(alog, every_byte_escaped_to_valid_json_and_back)
{
	struct sl_http_log r = full_rec();
	struct sl_alog_ctx c = { .vs = "a\"b\\c", .pool = "p\n", .worker = 0 };
	char buf[SL_ALOG_LINE_MAX];
	unsigned cp[256];
	json_error_t je;
	json_t *o, *u;

	r.method_len = 0;
	r.host_len = 0;
	r.uri_len = 256;
	for (unsigned i = 0; i < 256; i++)
		r.text[i] = (char)i;
	cr_assert(sl_alog_format(buf, sizeof(buf), &r, &c));
	cr_assert_eq(strchr(buf, '\n'), buf + strlen(buf) - 1, "one line, raw newlines only at its end");
	/* \u0000 is valid JSON; jansson wants to be told */
	o = json_loads(buf, JSON_ALLOW_NUL, &je);
	cr_assert(o, "%s", je.text);
	u = json_object_get(o, "uri");
	cr_assert_eq(code_points(json_string_value(u), json_string_length(u), cp, 256), 256);
	for (unsigned i = 0; i < 256; i++)
		cr_expect_eq(cp[i], i, "byte %u came back as %u", i, cp[i]);
	cr_expect_str_eq(json_string_value(json_object_get(o, "vs")), "a\"b\\c");
	cr_expect_str_eq(json_string_value(json_object_get(o, "pool")), "p\n");
	cr_expect_str_eq(json_string_value(json_object_get(o, "method")), "");
	json_decref(o);
}

Test(alog, lengths_past_the_text_are_cut_at_its_end)
{
	struct sl_http_log r = full_rec();
	struct sl_alog_ctx c = { .vs = "v", .worker = 0 };
	char buf[SL_ALOG_LINE_MAX];
	json_error_t je;
	json_t *o;

	memset(r.text, 'm', 400);
	memset(r.text + 400, 'h', SL_HTTP_LOG_TEXT - 400);
	r.method_len = r.host_len = r.uri_len = 400;
	cr_assert(sl_alog_format(buf, sizeof(buf), &r, &c));
	o = json_loads(buf, 0, &je);
	cr_assert(o, "%s", je.text);
	cr_expect_eq(json_string_length(json_object_get(o, "method")), 400);
	cr_expect_eq(json_string_length(json_object_get(o, "host")), SL_HTTP_LOG_TEXT - 400);
	cr_expect_eq(json_string_length(json_object_get(o, "uri")), 0);
	json_decref(o);
}

Test(alog, too_small_a_buffer_gives_nothing_and_stays_inside)
{
	struct sl_http_log r = full_rec();
	struct sl_alog_ctx c = { .vs = "vs-web", .pool = "p", .error = "local_response", .worker = 2 };
	char ref[SL_ALOG_LINE_MAX], buf[SL_ALOG_LINE_MAX + 16];
	size_t full = sl_alog_format(ref, sizeof(ref), &r, &c);

	cr_assert(full > 0);
	for (size_t cap = 0; cap <= full + 1; cap++) {
		size_t n;

		memset(buf, 0x5a, sizeof(buf));
		n = sl_alog_format(buf, cap, &r, &c);
		for (size_t k = cap; k < sizeof(buf); k++)
			cr_assert_eq((unsigned char)buf[k], 0x5a, "cap %zu: byte %zu written", cap, k);
		if (cap <= full) {
			cr_assert_eq(n, 0, "cap %zu: %zu", cap, n);
			cr_assert(cap == 0 || buf[0] == '\0');
		} else {
			cr_assert_eq(n, full);
			cr_assert_str_eq(buf, ref);
		}
	}
}

Test(alog, the_worst_line_fits_the_line_max)
{
	struct sl_http_log r = full_rec();
	char vs[128], pool[128], buf[SL_ALOG_LINE_MAX];
	struct sl_alog_ctx c = { .vs = vs, .pool = pool, .error = "server_timeout", .worker = 15 };

	memset(vs, 1, sizeof(vs) - 1);
	vs[127] = '\0';
	memset(pool, 0xff, sizeof(pool) - 1);
	pool[127] = '\0';
	memset(r.text, 0, sizeof(r.text));
	r.method_len = 100;
	r.host_len = 100;
	r.uri_len = SL_HTTP_LOG_TEXT - 200;
	r.t_us = r.total_us = r.server_us = r.req_bytes = r.rsp_bytes = UINT64_MAX;
	r.client_ip = r.server_ip = 0xffffffff;
	r.client_port = r.server_port = 65535;
	r.client_rtt_us = UINT32_MAX;
	r.status = 65535;
	r.rule_index = 32767;
	cr_assert(sl_alog_format(buf, sizeof(buf), &r, &c) > 0);
}

/* ---- runtime JSON: every counter of the struct is shown (the struct is
 * all uint64_t: fill each word with its own value and find each) */
static bool has_value(json_t *j, json_int_t v)
{
	const char *k;
	json_t *x;

	if (json_is_integer(j))
		return json_integer_value(j) == v;
	json_object_foreach(j, k, x)
		if (has_value(x, v))
			return true;
	return false;
}

Test(http_json, every_counter_by_name)
{
	struct sl_http_vs_stats s;
	uint64_t *w = (uint64_t *)&s;
	size_t words = sizeof(s) / sizeof(uint64_t);
	size_t sums = offsetof(struct sl_http_vs_stats, total_us_sum) / sizeof(uint64_t);
	json_t *o;

	for (size_t k = 0; k < words; k++)
		w[k] = 1000 + k;
	o = sl_http_vs_json(&s);
	cr_assert(o);
	/* the counters before the sums and histograms, each somewhere */
	for (size_t k = 0; k < sums; k++)
		cr_expect(has_value(o, (json_int_t)(1000 + k)), "counter word %zu (value %zu) not shown", k, 1000 + k);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(o, "responses"), "4xx")),
		     (json_int_t)s.resp_4xx);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(o, "errors"), "no_server")),
		     (json_int_t)s.no_server);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(o, "server_connections"), "reused")),
		     (json_int_t)s.server_reused);
	json_decref(o);
}

Test(http_json, means_over_the_histogram_counts)
{
	struct sl_http_vs_stats s;
	json_t *o;

	memset(&s, 0, sizeof(s));
	o = sl_http_vs_json(&s);
	cr_expect_eq(json_integer_value(json_object_get(o, "mean_total_time_us")), 0);
	json_decref(o);
	s.requests = 5;              /* one still in flight: not in the histograms yet */
	s.total_hist[0] = 1;
	s.total_hist[5] = 3;
	s.total_us_sum = 9000;
	s.server_hist[2] = 2;
	s.server_us_sum = 700;
	o = sl_http_vs_json(&s);
	cr_expect_eq(json_integer_value(json_object_get(o, "mean_total_time_us")), 2250);
	cr_expect_eq(json_integer_value(json_object_get(o, "mean_server_time_us")), 350);
	json_decref(o);
}

/* ---- Prometheus text, read back by a parser of the text format */
struct text {
	char *p;
	size_t n;
};

static void collect(void *arg, const char *line)
{
	struct text *t = arg;
	size_t k = strlen(line);

	t->p = realloc(t->p, t->n + k + 1);
	memcpy(t->p + t->n, line, k + 1);
	t->n += k;
}

#define MAXS 512
struct sample {
	char name[96], vs[64], le[32], other[64];
	double v;
};

struct parsed {
	struct sample s[MAXS];
	unsigned n;
	char fam[64][96], type[64][16];
	unsigned n_fam;
};

/* Every line is a comment (# HELP / # TYPE) or name{labels} value; a
 * family's TYPE comes once, before its samples, and its samples are not
 * split by another family's. Fails the test otherwise. */
static void parse(const char *text, struct parsed *P)
{
	const char *l = text;
	char cur[96] = "";

	memset(P, 0, sizeof(*P));
	while (*l) {
		const char *e = strchr(l, '\n');
		char line[512];

		cr_assert(e, "text does not end with a newline");
		cr_assert((size_t)(e - l) < sizeof(line));
		memcpy(line, l, (size_t)(e - l));
		line[e - l] = '\0';
		l = e + 1;
		if (!strncmp(line, "# HELP ", 7))
			continue;
		if (!strncmp(line, "# TYPE ", 7)) {
			char name[96], type[16];

			cr_assert_eq(sscanf(line + 7, "%95s %15s", name, type), 2, "%s", line);
			for (unsigned f = 0; f < P->n_fam; f++)
				cr_assert_str_neq(P->fam[f], name, "second TYPE for %s", name);
			cr_assert(!strcmp(type, "counter") || !strcmp(type, "histogram"), "%s", line);
			cr_assert(P->n_fam < 64);
			strcpy(P->fam[P->n_fam], name);
			strcpy(P->type[P->n_fam++], type);
			strcpy(cur, name);
			continue;
		}
		cr_assert(line[0] != '#', "%s", line);
		{
			struct sample *s = &P->s[P->n];
			char *b = strchr(line, '{'), *c = strchr(line, '}'), *lab, *end;
			size_t fl = strlen(cur);

			cr_assert(P->n < MAXS);
			cr_assert(b && c && c > b && c[1] == ' ', "%s", line);
			memset(s, 0, sizeof(*s));
			memcpy(s->name, line, (size_t)(b - line));
			/* a histogram's samples are its name plus _bucket/_sum/_count */
			cr_assert(!strncmp(s->name, cur, fl) &&
					  (!s->name[fl] || !strcmp(s->name + fl, "_bucket") || !strcmp(s->name + fl, "_sum") ||
					   !strcmp(s->name + fl, "_count")),
				  "sample %s outside its family (current %s)", s->name, cur);
			*c = '\0';
			for (lab = b + 1; *lab;) {
				char *eq = strchr(lab, '='), *q, *v;
				size_t k = 0;
				char val[128];

				cr_assert(eq && eq[1] == '"', "%s", line);
				*eq = '\0';
				for (q = eq + 2; *q && *q != '"'; q++) {
					if (*q != '\\') {
						val[k++] = *q;
						continue;
					}
					q++;
					cr_assert(*q == '\\' || *q == '"' || *q == 'n', "bad escape in %s", line);
					val[k++] = *q == 'n' ? '\n' : *q;
				}
				cr_assert_eq(*q, '"', "unterminated label in %s", line);
				val[k] = '\0';
				v = !strcmp(lab, "vs") ? s->vs : !strcmp(lab, "le") ? s->le : s->other;
				snprintf(v, 64, "%.63s", val);
				lab = q[1] == ',' ? q + 2 : q + 1;
			}
			s->v = strtod(c + 2, &end);
			cr_assert(end != c + 2 && *end == '\0', "value of %s", line);
			P->n++;
		}
	}
}

static double find(const struct parsed *P, const char *name, const char *vs, const char *le, const char *other)
{
	for (unsigned i = 0; i < P->n; i++)
		if (!strcmp(P->s[i].name, name) && !strcmp(P->s[i].vs, vs) && !strcmp(P->s[i].le, le ? le : "") &&
		    !strcmp(P->s[i].other, other ? other : ""))
			return P->s[i].v;
	cr_assert_fail("no sample %s{vs=%s,le=%s,%s}", name, vs, le ? le : "", other ? other : "");
	return -1;
}

static void check_hist(const struct parsed *P, const char *name, const char *vs, const uint64_t *h, uint64_t sum_us)
{
	char b[96], s[96], c[96];
	double prev = -1, le_prev = -1;
	uint64_t cum = 0;
	unsigned buckets = 0;

	snprintf(b, sizeof(b), "%s_bucket", name);
	snprintf(s, sizeof(s), "%s_sum", name);
	snprintf(c, sizeof(c), "%s_count", name);
	for (unsigned i = 0; i < P->n; i++) {
		const struct sample *x = &P->s[i];
		double le;

		if (strcmp(x->name, b) || strcmp(x->vs, vs))
			continue;
		cum += h[buckets];
		le = strcmp(x->le, "+Inf") ? strtod(x->le, NULL) : 1e300;
		cr_expect(le > le_prev, "%s: le %s after %g", vs, x->le, le_prev);
		cr_expect(x->v >= prev, "%s: buckets not cumulative at le %s", vs, x->le);
		cr_expect_eq((uint64_t)x->v, cum, "%s le %s: %g, want %lu", vs, x->le, x->v, (unsigned long)cum);
		if (buckets < SL_HTTP_LAT_BUCKETS - 1)
			cr_expect_eq(le, bounds[buckets] / 1e6, "%s: le %s", vs, x->le);
		prev = x->v;
		le_prev = le;
		buckets++;
	}
	cr_assert_eq(buckets, SL_HTTP_LAT_BUCKETS, "%s %s: %u buckets", name, vs, buckets);
	cr_expect_eq(find(P, b, vs, "+Inf", NULL), find(P, c, vs, NULL, NULL), "+Inf bucket != _count");
	cr_expect_eq(find(P, s, vs, NULL, NULL), sum_us / 1e6);
}

Test(http_metrics, families_grouped_buckets_cumulative_inf_is_count)
{
	struct sl_http_vs_stats st[2];
	const char *names[2] = { "web", "odd \"name\\\n" };
	struct text t = { NULL, 0 };
	struct parsed *P = calloc(1, sizeof(*P));

	memset(st, 0, sizeof(st));
	for (unsigned v = 0; v < 2; v++) {
		st[v].requests = 10 + v;
		st[v].resp_2xx = 6 + v;
		st[v].resp_4xx = 3;
		st[v].resp_5xx = 1;
		st[v].bytes_in = 1000 + v;
		st[v].bytes_out = 50000 + v;
		st[v].no_server = 1;
		st[v].server_reset = 2 + v;
		for (unsigned k = 0; k < SL_HTTP_LAT_BUCKETS; k++) {
			st[v].total_hist[k] = (k * 7 + v) % 4;
			st[v].server_hist[k] = (k * 3 + v) % 3;
		}
		st[v].total_us_sum = 1234567 + v;
		st[v].server_us_sum = 250;
	}
	sl_http_metrics_text(collect, &t, 2, names, st, bounds);
	cr_assert(t.p);
	parse(t.p, P);
	for (unsigned v = 0; v < 2; v++) {
		cr_expect_eq(find(P, "sluice_http_requests_total", names[v], NULL, NULL), st[v].requests);
		cr_expect_eq(find(P, "sluice_http_responses_total", names[v], NULL, "2xx"), st[v].resp_2xx);
		cr_expect_eq(find(P, "sluice_http_responses_total", names[v], NULL, "4xx"), 3);
		cr_expect_eq(find(P, "sluice_http_responses_total", names[v], NULL, "1xx"), 0);
		cr_expect_eq(find(P, "sluice_http_bytes_total", names[v], NULL, "out"), st[v].bytes_out);
		cr_expect_eq(find(P, "sluice_http_errors_total", names[v], NULL, "no_server"), 1);
		cr_expect_eq(find(P, "sluice_http_errors_total", names[v], NULL, "server_reset"), st[v].server_reset);
		check_hist(P, "sluice_http_request_duration_seconds", names[v], st[v].total_hist, st[v].total_us_sum);
		check_hist(P, "sluice_http_server_duration_seconds", names[v], st[v].server_hist, st[v].server_us_sum);
	}
	free(t.p);
	free(P);
}

Test(http_metrics, nothing_without_http_vs)
{
	struct text t = { NULL, 0 };

	sl_http_metrics_text(collect, &t, 0, NULL, NULL, bounds);
	cr_expect_null(t.p);
}
