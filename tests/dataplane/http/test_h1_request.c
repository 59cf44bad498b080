/* Requests: what a valid head yields, every limit at and past its edge, the
 * verdicts of malformed heads, piecewise feeding and pipelining. */
#include <criterion/criterion.h>

#include "h1_test.h"

#define REQ(s) s, sizeof(s) - 1

static struct t_res R;

static int req(const char *s, size_t n)
{
	return t_parse(&R, SL_H1_REQUEST, NULL, SL_H1_M_GET, s, n);
}

Test(h1_request, simple_get)
{
	static const char m[] = "GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";
	cr_assert_eq(req(REQ(m)), (int)sizeof(m) - 1);
	const struct sl_h1_msg *g = &R.p.msg;
	cr_expect(t_span_is(m, g->method, "GET"));
	cr_expect_eq(g->meth, SL_H1_M_GET);
	cr_expect(t_span_is(m, g->target, "/a/b?c=d"));
	cr_expect(t_span_is(m, g->path, "/a/b?c=d"));
	cr_expect_eq(g->form, SL_H1_T_ORIGIN);
	cr_expect_eq(g->minor, 1);
	cr_expect(t_span_is(m, g->host, "example.com"));
	cr_expect_eq(g->n_hdrs, 2);
	cr_expect(t_span_is(m, g->hdrs[0].name, "Host"));
	cr_expect_eq(g->hdrs[0].id, SL_H1_H_HOST);
	cr_expect(t_span_is(m, g->hdrs[1].name, "User-Agent"));
	cr_expect(t_span_is(m, g->hdrs[1].value, "t"));
	cr_expect_eq(g->hdrs[1].id, SL_H1_H_OTHER);
	cr_expect_eq(g->body, SL_H1_BODY_NONE);
	cr_expect(g->keep_alive);
	cr_expect_not(g->upgrade || g->websocket || g->expect_continue);
	cr_expect_eq(g->head_len, sizeof(m) - 1);
}

Test(h1_request, value_whitespace_trimmed_and_empty_value)
{
	static const char m[] = "GET / HTTP/1.1\r\nHost:h\r\nX-A: \t a b \t \r\nX-B:\r\nX-C:   \r\n\r\n";
	cr_assert_gt(req(REQ(m)), 0);
	cr_expect(t_span_is(m, R.p.msg.hdrs[0].value, "h"));
	cr_expect(t_span_is(m, R.p.msg.hdrs[1].value, "a b"));
	cr_expect_eq(R.p.msg.hdrs[2].value.len, 0);
	cr_expect_eq(R.p.msg.hdrs[3].value.len, 0);
}

Test(h1_request, obs_text_in_value_allowed)
{
	static const char m[] = "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\x80\xff\r\n\r\n";
	cr_expect_gt(req(REQ(m)), 0);
}

Test(h1_request, methods_case_sensitive)
{
	static const struct { const char *m; enum sl_h1_method id; } tab[] = {
		{ "GET", SL_H1_M_GET }, { "HEAD", SL_H1_M_HEAD }, { "POST", SL_H1_M_POST },
		{ "PUT", SL_H1_M_PUT }, { "DELETE", SL_H1_M_DELETE }, { "OPTIONS", SL_H1_M_OPTIONS },
		{ "TRACE", SL_H1_M_TRACE }, { "PATCH", SL_H1_M_PATCH }, { "get", SL_H1_M_OTHER },
		{ "PROPFIND", SL_H1_M_OTHER }, { "X-!#$%&'*+.^_`|~", SL_H1_M_OTHER },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		char b[128];
		int n = snprintf(b, sizeof(b), "%s / HTTP/1.1\r\nHost: h\r\n\r\n", tab[i].m);
		cr_assert_eq(req(b, (size_t)n), n, "%s", tab[i].m);
		cr_expect_eq(R.p.msg.meth, tab[i].id, "%s", tab[i].m);
	}
}

Test(h1_request, target_forms)
{
	static const char a[] = "GET http://Example.com:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n";
	cr_assert_gt(req(REQ(a)), 0);
	cr_expect_eq(R.p.msg.form, SL_H1_T_ABSOLUTE);
	cr_expect(t_span_is(a, R.p.msg.host, "Example.com:8080"), "authority wins over Host");
	cr_expect(t_span_is(a, R.p.msg.path, "/p?q"));

	static const char b[] = "GET https://h.example?x HTTP/1.1\r\nHost: h.example\r\n\r\n";
	cr_assert_gt(req(REQ(b)), 0);
	cr_expect(t_span_is(b, R.p.msg.host, "h.example"));
	cr_expect(t_span_is(b, R.p.msg.path, "?x"));

	static const char c[] = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";
	cr_assert_gt(req(REQ(c)), 0);
	cr_expect_eq(R.p.msg.form, SL_H1_T_ASTERISK);

	static const char d[] = "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n";
	cr_assert_gt(req(REQ(d)), 0);
	cr_expect_eq(R.p.msg.form, SL_H1_T_AUTHORITY);
	cr_expect(t_span_is(d, R.p.msg.host, "[::1]:443"));
	cr_expect_eq(R.p.msg.meth, SL_H1_M_CONNECT);
}

Test(h1_request, http10_defaults)
{
	static const char a[] = "GET / HTTP/1.0\r\n\r\n";
	cr_assert_gt(req(REQ(a)), 0);
	cr_expect_eq(R.p.msg.minor, 0);
	cr_expect_not(R.p.msg.keep_alive, "1.0 closes by default");
	cr_expect_eq(R.p.msg.host.len, 0);

	static const char b[] = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
	cr_assert_gt(req(REQ(b)), 0);
	cr_expect(R.p.msg.keep_alive);

	static const char c[] = "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n";
	cr_assert_gt(req(REQ(c)), 0);
	cr_expect_not(R.p.msg.keep_alive);

	static const char d[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: x, CLOSE\r\n\r\n";
	cr_assert_gt(req(REQ(d)), 0);
	cr_expect_not(R.p.msg.keep_alive);

	/* Upgrade and Expect do not exist in 1.0 */
	static const char e[] = "GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
				"Expect: 100-continue\r\n\r\n";
	cr_assert_gt(req(REQ(e)), 0);
	cr_expect_not(R.p.msg.upgrade || R.p.msg.websocket || R.p.msg.expect_continue);
}

Test(h1_request, upgrade_websocket_and_expect)
{
	static const char a[] = "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
				"Upgrade: h2c, WebSocket\r\nExpect: 100-Continue\r\n\r\n";
	cr_assert_gt(req(REQ(a)), 0);
	cr_expect(R.p.msg.upgrade);
	cr_expect(R.p.msg.websocket);
	cr_expect(R.p.msg.expect_continue);

	static const char b[] = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n";
	cr_assert_gt(req(REQ(b)), 0);
	cr_expect_not(R.p.msg.upgrade, "Upgrade without the connection option is ignored");

	static const char c[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: foo/2\r\n\r\n";
	cr_assert_gt(req(REQ(c)), 0);
	cr_expect(R.p.msg.upgrade);
	cr_expect_not(R.p.msg.websocket);
}

Test(h1_request, body_framing)
{
	static const char a[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0042\r\n\r\n";
	cr_assert_gt(req(REQ(a)), 0);
	cr_expect_eq(R.p.msg.body, SL_H1_BODY_LENGTH);
	cr_expect_eq(R.p.msg.content_length, 42);

	static const char b[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n";
	cr_assert_gt(req(REQ(b)), 0, "identical repeats are one length (RFC 9110 8.6)");
	cr_expect_eq(R.p.msg.content_length, 7);

	static const char c[] = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
				"Transfer-Encoding: Chunked\r\n\r\n";
	cr_assert_gt(req(REQ(c)), 0);
	cr_expect_eq(R.p.msg.body, SL_H1_BODY_CHUNKED);
	cr_expect(R.p.msg.has_transfer_encoding);

	static const char d[] = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n";
	cr_assert_gt(req(REQ(d)), 0);
	cr_expect_eq(R.p.msg.content_length, INT64_MAX);

	static const char e[] = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,chunked,\r\n\r\n";
	cr_assert_gt(req(REQ(e)), 0, "empty list elements are ignored (RFC 9110 5.6.1)");
	cr_expect_eq(R.p.msg.body, SL_H1_BODY_CHUNKED);
}

Test(h1_request, leading_empty_lines_ignored)
{
	static const char a[] = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
	cr_assert_eq(req(REQ(a)), (int)sizeof(a) - 1);
	cr_expect_eq(R.p.msg.method.off, 4);
}

/* Malformed heads and the verdict each must get.  The smuggling corpus has
 * the framing-related ones; these are the grammar around them. */
static const struct bad {
	const char *m;
	enum sl_h1_err e;
	uint16_t st;
} bad[] = {
	{ " GET / HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_METHOD, 400 },
	{ "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_TARGET, 400 },
	{ "GET /  HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_VERSION, 400 },
	{ "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", SL_H1_E_VERSION, 400 },
	{ "G@T / HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_METHOD, 400 },
	{ "GET /\tx HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_TARGET, 400 },
	{ "GET /#frag HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_TARGET, 400 },
	{ "GET /\x80 HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_TARGET, 400 },
	{ "GET * HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_TARGET, 400 },
	{ "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_TARGET, 400 },
	{ "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_TARGET, 400 },
	{ "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_TARGET, 400 },
	{ "CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_TARGET, 400 },
	{ "CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_TARGET, 400 },
	{ "GET /\r\n\r\n", SL_H1_E_TARGET, 400 },
	{ "GET / http/1.1\r\nHost: h\r\n\r\n", SL_H1_E_VERSION, 400 },
	{ "GET / HTTP/1.10\r\nHost: h\r\n\r\n", SL_H1_E_VERSION, 400 },
	{ "GET / HTTP/2.0\r\nHost: h\r\n\r\n", SL_H1_E_VERSION_UNSUPPORTED, 505 },
	{ "GET / HTTP/1.2\r\nHost: h\r\n\r\n", SL_H1_E_VERSION_UNSUPPORTED, 505 },
	{ "GET / HTTP/0.9\r\nHost: h\r\n\r\n", SL_H1_E_VERSION_UNSUPPORTED, 505 },
	{ "GET / HTTP/1.1\nHost: h\r\n\r\n", SL_H1_E_BARE_LF, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\n\r\n", SL_H1_E_BARE_LF, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\n\n", SL_H1_E_BARE_LF, 400 },
	{ "GET / HTTP/1.1\rHost: h\r\n\r\n", SL_H1_E_BARE_CR, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", SL_H1_E_BARE_CR, 400 },
	{ "\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", SL_H1_E_METHOD, 400 },
	{ "GET / HTTP/1.1\r\n Host: h\r\n\r\n", SL_H1_E_OBS_FOLD, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", SL_H1_E_OBS_FOLD, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", SL_H1_E_FIELD_NAME, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nX\r\n\r\n", SL_H1_E_FIELD_NAME, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nX(y): v\r\n\r\n", SL_H1_E_FIELD_NAME, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nX\x01: v\r\n\r\n", SL_H1_E_FIELD_NAME, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nX : v\r\n\r\n", SL_H1_E_FIELD_NAME_WS, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nX\t: v\r\n\r\n", SL_H1_E_FIELD_NAME_WS, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", SL_H1_E_FIELD_VALUE, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\x1b[0m\r\n\r\n", SL_H1_E_FIELD_VALUE, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nConnection: a b\r\n\r\n", SL_H1_E_FIELD_LIST, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: a/\r\n\r\n", SL_H1_E_FIELD_LIST, 400 },
	{ "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: /1\r\n\r\n", SL_H1_E_FIELD_LIST, 400 },
	{ "GET / HTTP/1.1\r\n\r\n", SL_H1_E_HOST_MISSING, 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", SL_H1_E_HOST_DUP, 400 },
	{ "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", SL_H1_E_HOST_DUP, 400 },
	{ "GET / HTTP/1.1\r\nHost:\r\n\r\n", SL_H1_E_HOST_INVALID, 400 },
	{ "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", SL_H1_E_HOST_INVALID, 400 },
	{ "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", SL_H1_E_HOST_INVALID, 400 },
	{ "GET / HTTP/1.1\r\nHost: h/x\r\n\r\n", SL_H1_E_HOST_INVALID, 400 },
	{ "GET / HTTP/1.1\r\nHost: h:99999\r\n\r\n", SL_H1_E_HOST_INVALID, 400 },
	{ "GET / HTTP/1.1\r\nHost: h:8a\r\n\r\n", SL_H1_E_HOST_INVALID, 400 },
	{ "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", SL_H1_E_HOST_INVALID, 400 },
	{ "GET / HTTP/1.1\r\nHost: h%4\r\n\r\n", SL_H1_E_HOST_INVALID, 400 },
	{ "CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nContent-Length: 0\r\n\r\n", SL_H1_E_CONNECT_BODY, 400 },
	{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", SL_H1_E_CL_INVALID, 400 },
	{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", SL_H1_E_TE_INVALID, 400 },
	{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", SL_H1_E_TE_INVALID, 400 },
	{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", SL_H1_E_TE_UNKNOWN, 501 },
};

Test(h1_request, malformed_verdicts)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad *b = &bad[i];
		cr_expect_eq(req(b->m, strlen(b->m)), -EBADMSG, "%zu: %s accepted", i, b->m);
		cr_expect_eq(R.p.msg.err, b->e, "%zu: %s: %s, want %s", i, b->m,
			     sl_h1_err_name(R.p.msg.err), sl_h1_err_name(b->e));
		cr_expect_eq(R.p.msg.err_status, b->st, "%zu: status %u", i, R.p.msg.err_status);
		cr_expect_lt(R.p.msg.err_off, strlen(b->m), "%zu", i);
	}
}

/* Every valid and malformed head above gives the same result fed one byte at
 * a time and in 7-byte steps. */
Test(h1_request, piecewise_equals_one_shot)
{
	static const char *good[] = {
		"GET /a HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\n",
		"\r\nPOST http://h:1/x HTTP/1.1\r\nHost: z\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\n",
	};
	static struct t_res one, part;
	size_t ng = sizeof(good) / sizeof(good[0]), nb = sizeof(bad) / sizeof(bad[0]);
	for (size_t i = 0; i < ng + nb; i++) {
		const char *m = i < ng ? good[i] : bad[i - ng].m;
		size_t n = strlen(m);
		t_parse(&one, SL_H1_REQUEST, NULL, SL_H1_M_GET, m, n);
		cr_assert(i >= ng || one.rc > 0, "%s", m);
		for (size_t step = 1; step <= 7; step += 6) {
			t_parse_steps(&part, SL_H1_REQUEST, NULL, SL_H1_M_GET, m, n, step);
			const char *d = t_diff(&one, &part);
			cr_expect_null(d, "%s step %zu differs in %s", m, step, d);
		}
	}
}

Test(h1_request, need_more_until_complete)
{
	static const char m[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
	struct sl_h1_header h[4];
	struct sl_h1_parser p;
	sl_h1_init(&p, SL_H1_REQUEST, NULL, h, 4);
	for (size_t n = 0; n < sizeof(m) - 1; n++)
		cr_assert_eq(sl_h1_parse(&p, (const uint8_t *)m, n), -EAGAIN, "prefix %zu", n);
	cr_assert_eq(sl_h1_parse(&p, (const uint8_t *)m, sizeof(m) - 1), (int)sizeof(m) - 1);
	cr_expect_eq(sl_h1_parse(&p, (const uint8_t *)m, sizeof(m) - 1), (int)sizeof(m) - 1,
		     "a finished parser repeats its result");
	sl_h1_init(&p, SL_H1_REQUEST, NULL, h, 4);
	cr_assert_eq(sl_h1_parse(&p, (const uint8_t *)m, 20), -EAGAIN);
	cr_expect_eq(sl_h1_parse(&p, (const uint8_t *)m, 10), -EINVAL, "the buffer may not shrink");
}

Test(h1_request, pipelined)
{
	static const char m[] = "POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
				"GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
				"POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
				"1\r\nx\r\n0\r\n\r\n"
				"GET /4 HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char *paths[] = { "/1", "/2", "/3", "/4" };
	struct sl_h1_header h[8];
	struct sl_h1_parser p;
	sl_h1_init(&p, SL_H1_REQUEST, NULL, h, 8);
	size_t off = 0, len = sizeof(m) - 1;
	for (int k = 0; k < 4; k++) {
		const uint8_t *b = (const uint8_t *)m + off;
		int r = sl_h1_parse(&p, b, len - off);
		cr_assert_gt(r, 0, "message %d: %s", k, sl_h1_err_name(p.msg.err));
		cr_expect(t_span_is(b, p.msg.path, paths[k]), "message %d", k);
		off += (size_t)r;
		if (p.msg.body == SL_H1_BODY_LENGTH) {
			off += p.msg.content_length;
		} else if (p.msg.body == SL_H1_BODY_CHUNKED) {
			struct sl_h1_chunked c;
			struct sl_h1_span d;
			size_t used;
			sl_h1_chunked_init(&c, NULL);
			while ((r = sl_h1_chunked_feed(&c, (const uint8_t *)m + off, len - off, &used, &d)) == 0)
				off += used;
			cr_assert_eq(r, 1);
			off += used;
		}
		sl_h1_reset(&p);
	}
	cr_expect_eq(off, len);
}

/* Each limit: exactly at it passes, one byte past it fails with its own
 * verdict, and the piecewise result is the same. */
static void limit_case(const struct sl_h1_limits *lim, const char *m, size_t n, int want_rc,
		       enum sl_h1_err e, uint16_t st)
{
	static struct t_res one, part;
	t_parse(&one, SL_H1_REQUEST, lim, SL_H1_M_GET, m, n);
	if (want_rc > 0)
		cr_expect_gt(one.rc, 0, "%.*s: %s", (int)(n > 60 ? 60 : n), m, sl_h1_err_name(one.p.msg.err));
	else
		cr_expect_eq(one.rc, want_rc, "%.*s: rc %d", (int)(n > 60 ? 60 : n), m, one.rc);
	if (want_rc == -EBADMSG) {
		cr_expect_eq(one.p.msg.err, e, "%s want %s", sl_h1_err_name(one.p.msg.err), sl_h1_err_name(e));
		cr_expect_eq(one.p.msg.err_status, st);
	}
	t_parse_steps(&part, SL_H1_REQUEST, lim, SL_H1_M_GET, m, n, 1);
	cr_expect_null(t_diff(&one, &part));
}

Test(h1_request, limit_start_line)
{
	struct sl_h1_limits lim = { .start_line = 32 };
	/* "GET /" + pad + " HTTP/1.1" = 32 bytes without CRLF */
	char m[128];
	int n = snprintf(m, sizeof(m), "GET /%018d HTTP/1.1\r\nHost: h\r\n\r\n", 0);
	limit_case(&lim, m, (size_t)n, 1, 0, 0);
	n = snprintf(m, sizeof(m), "GET /%019d HTTP/1.1\r\nHost: h\r\n\r\n", 0);
	limit_case(&lim, m, (size_t)n, -EBADMSG, SL_H1_E_START_LINE_LONG, 414);
	/* too long even before the line ends: no waiting for the rest */
	limit_case(&lim, m, 33, -EBADMSG, SL_H1_E_START_LINE_LONG, 414);
	limit_case(&lim, m, 32, -EAGAIN, 0, 0);
}

Test(h1_request, limit_header_line)
{
	struct sl_h1_limits lim = { .header_line = 16 };
	limit_case(&lim, REQ("GET / HTTP/1.1\r\nHost: h\r\nX: 3456789012345\r\n\r\n"), 1, 0, 0);
	limit_case(&lim, REQ("GET / HTTP/1.1\r\nHost: h\r\nX: 34567890123456\r\n\r\n"), -EBADMSG,
		   SL_H1_E_HEADER_LINE_LONG, 431);
	limit_case(&lim, REQ("GET / HTTP/1.1\r\nHost: h\r\nX-Long-Field-Name: v\r\n\r\n"), -EBADMSG,
		   SL_H1_E_HEADER_LINE_LONG, 431);
}

Test(h1_request, limit_header_count)
{
	struct sl_h1_limits lim = { .headers = 3 };
	limit_case(&lim, REQ("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n"), 1, 0, 0);
	limit_case(&lim, REQ("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), -EBADMSG,
		   SL_H1_E_TOO_MANY_HEADERS, 431);
	/* a smaller array than the limit is the limit */
	struct sl_h1_header h[1];
	struct sl_h1_parser p;
	sl_h1_init(&p, SL_H1_REQUEST, &lim, h, 1);
	static const char m[] = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n";
	cr_expect_eq(sl_h1_parse(&p, (const uint8_t *)m, sizeof(m) - 1), -EBADMSG);
	cr_expect_eq(p.msg.err, SL_H1_E_TOO_MANY_HEADERS);
}

Test(h1_request, limit_header_bytes)
{
	static const char m[] = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n";
	struct sl_h1_limits lim = { .header_bytes = sizeof(m) - 1 };
	limit_case(&lim, REQ(m), 1, 0, 0);
	lim.header_bytes--;
	limit_case(&lim, REQ(m), -EBADMSG, SL_H1_E_HEADERS_TOO_LARGE, 431);
	/* leading empty lines count */
	lim.header_bytes = sizeof(m) - 1;
	limit_case(&lim, REQ("\r\nGET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n"), -EBADMSG,
		   SL_H1_E_HEADERS_TOO_LARGE, 431);
	/* an earlier error in the block wins over the size */
	lim.header_bytes = 20;
	limit_case(&lim, REQ("GET / HTTP/1.1\r\nX : 1\r\n\r\n"), -EBADMSG, SL_H1_E_FIELD_NAME_WS, 400);
}

Test(h1_request, limit_defaults_and_clamp)
{
	struct sl_h1_parser p;
	sl_h1_init(&p, SL_H1_REQUEST, NULL, NULL, 0);
	cr_expect_eq(p.lim.start_line, SL_H1_DEF_START_LINE);
	cr_expect_eq(p.lim.header_bytes, SL_H1_DEF_HEADER_BYTES);
	struct sl_h1_limits big = { .header_bytes = UINT32_MAX };
	sl_h1_init(&p, SL_H1_REQUEST, &big, NULL, 0);
	cr_expect_eq(p.lim.header_bytes, SL_H1_MAX_LIMIT);
	cr_expect_eq(p.lim.headers, SL_H1_DEF_HEADERS);
}

Test(h1_request, default_limits_hold_a_large_valid_head)
{
	/* 99 fields of 300 bytes: under every default */
	static char m[40000];
	size_t n = (size_t)sprintf(m, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 0; i < 99; i++) {
		n += (size_t)sprintf(m + n, "X-%02d: ", i);
		memset(m + n, 'v', 300);
		n += 300;
		n += (size_t)sprintf(m + n, "\r\n");
	}
	n += (size_t)sprintf(m + n, "\r\n");
	cr_assert_eq(req(m, n), (int)n, "%s", sl_h1_err_name(R.p.msg.err));
	cr_expect_eq(R.p.msg.n_hdrs, 100);
}
