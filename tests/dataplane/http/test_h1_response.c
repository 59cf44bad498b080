/* Responses: the status line, and framing by RFC 9112 6.3 for every rule. */
#include <criterion/criterion.h>

#include "h1_test.h"

static struct t_res R;

static int resp(enum sl_h1_method rm, const char *s)
{
	return t_parse(&R, SL_H1_RESPONSE, NULL, rm, s, strlen(s));
}

Test(h1_response, status_line)
{
	static const char m[] = "HTTP/1.1 404 Not  Found\r\nContent-Length: 3\r\n\r\n";
	cr_assert_eq(resp(SL_H1_M_GET, m), (int)sizeof(m) - 1);
	cr_expect_eq(R.p.msg.status, 404);
	cr_expect(t_span_is(m, R.p.msg.reason, "Not  Found"));
	cr_expect_eq(R.p.msg.body, SL_H1_BODY_LENGTH);
	cr_expect_eq(R.p.msg.content_length, 3);
	cr_expect(R.p.msg.keep_alive);

	cr_assert_gt(resp(SL_H1_M_GET, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), 0,
		     "missing SP before an empty reason is tolerated");
	cr_expect_eq(R.p.msg.reason.len, 0);
	cr_assert_gt(resp(SL_H1_M_GET, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"), 0);
}

static const struct fr {
	enum sl_h1_method rm;
	const char *m;
	enum sl_h1_body body;
	uint64_t cl;
	bool keep;
} framing[] = {
	{ SL_H1_M_GET, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", SL_H1_BODY_LENGTH, 5, true },
	{ SL_H1_M_HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", SL_H1_BODY_NONE, 5, true },
	{ SL_H1_M_HEAD, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", SL_H1_BODY_NONE, 0, true },
	{ SL_H1_M_GET, "HTTP/1.1 100 Continue\r\n\r\n", SL_H1_BODY_NONE, 0, true },
	{ SL_H1_M_GET, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n", SL_H1_BODY_NONE, 0, true },
	{ SL_H1_M_GET, "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", SL_H1_BODY_NONE, 9, true },
	{ SL_H1_M_GET, "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", SL_H1_BODY_NONE, 9, true },
	{ SL_H1_M_CONNECT, "HTTP/1.1 200 OK\r\n\r\n", SL_H1_BODY_TUNNEL, 0, true },
	{ SL_H1_M_CONNECT, "HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\n", SL_H1_BODY_LENGTH, 2, true },
	{ SL_H1_M_GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", SL_H1_BODY_CHUNKED, 0, true },
	/* TE wins over CL, and the connection must close (RFC 9112 6.3 item 3) */
	{ SL_H1_M_GET, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	  SL_H1_BODY_CHUNKED, 5, false },
	/* final coding not chunked: read until close */
	{ SL_H1_M_GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", SL_H1_BODY_CLOSE, 0, false },
	{ SL_H1_M_GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", SL_H1_BODY_CLOSE, 0, false },
	/* an unknown coding is the client's business, not a framing error */
	{ SL_H1_M_GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo, chunked\r\n\r\n", SL_H1_BODY_CHUNKED, 0, true },
	{ SL_H1_M_GET, "HTTP/1.1 200 OK\r\n\r\n", SL_H1_BODY_CLOSE, 0, false },
	{ SL_H1_M_GET, "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", SL_H1_BODY_LENGTH, 1, false },
	{ SL_H1_M_GET, "HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n",
	  SL_H1_BODY_LENGTH, 1, true },
	{ SL_H1_M_GET, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n",
	  SL_H1_BODY_LENGTH, 1, false },
	{ SL_H1_M_GET, "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
	  SL_H1_BODY_NONE, 0, true },
};

Test(h1_response, framing_rfc9112_6_3)
{
	for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++) {
		const struct fr *f = &framing[i];
		cr_assert_gt(resp(f->rm, f->m), 0, "%zu: %s: %s", i, f->m, sl_h1_err_name(R.p.msg.err));
		cr_expect_eq(R.p.msg.body, f->body, "%zu: %s: body %d", i, f->m, R.p.msg.body);
		cr_expect_eq(R.p.msg.content_length, f->cl, "%zu", i);
		cr_expect_eq(R.p.msg.keep_alive, f->keep, "%zu: %s: keep_alive", i, f->m);
	}
	resp(SL_H1_M_GET, framing[sizeof(framing) / sizeof(framing[0]) - 1].m);
	cr_expect(R.p.msg.upgrade && R.p.msg.websocket, "101 with Upgrade: websocket");
}

static const struct { const char *m; enum sl_h1_err e; } rbad[] = {
	{ "HTTP/1.1 20 OK\r\n\r\n", SL_H1_E_STATUS },
	{ "HTTP/1.1 2000 OK\r\n\r\n", SL_H1_E_STATUS },
	{ "HTTP/1.1 099 X\r\n\r\n", SL_H1_E_STATUS },
	{ "HTTP/1.1 600 X\r\n\r\n", SL_H1_E_STATUS },
	{ "HTTP/1.1 2x0 OK\r\n\r\n", SL_H1_E_STATUS },
	{ "HTTP/1.1 200 O\x01K\r\n\r\n", SL_H1_E_STATUS },
	{ "HTTP/1.1  200 OK\r\n\r\n", SL_H1_E_STATUS },
	{ "HTTP/2 200 OK\r\n\r\n", SL_H1_E_VERSION },
	{ "HTTP/3.0 200 OK\r\n\r\n", SL_H1_E_VERSION_UNSUPPORTED },
	{ "HTTP/1.1\r\n\r\n", SL_H1_E_VERSION },
	{ "ICY 200 OK\r\n\r\n", SL_H1_E_VERSION },
	{ "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", SL_H1_E_BARE_LF },
	{ "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", SL_H1_E_OBS_FOLD },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", SL_H1_E_CL_CONFLICT },
	{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", SL_H1_E_CL_INVALID },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", SL_H1_E_TE_CHUNKED_TWICE },
	{ "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", SL_H1_E_TE_HTTP10 },
};

Test(h1_response, malformed_is_502)
{
	for (size_t i = 0; i < sizeof(rbad) / sizeof(rbad[0]); i++) {
		cr_expect_eq(resp(SL_H1_M_GET, rbad[i].m), -EBADMSG, "%zu: %s accepted", i, rbad[i].m);
		cr_expect_eq(R.p.msg.err, rbad[i].e, "%zu: %s: %s", i, rbad[i].m,
			     sl_h1_err_name(R.p.msg.err));
		cr_expect_eq(R.p.msg.err_status, 502, "%zu", i);
	}
}

Test(h1_response, host_not_required_and_piecewise)
{
	static struct t_res one, part;
	for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++) {
		const char *m = framing[i].m;
		t_parse(&one, SL_H1_RESPONSE, NULL, framing[i].rm, m, strlen(m));
		t_parse_steps(&part, SL_H1_RESPONSE, NULL, framing[i].rm, m, strlen(m), 1);
		cr_expect_null(t_diff(&one, &part), "%s", m);
	}
	cr_expect_gt(resp(SL_H1_M_GET, "HTTP/1.1 200 OK\r\nHost: a\r\nHost: b\r\nContent-Length: 0\r\n\r\n"), 0);
}

Test(h1_response, reset_keeps_request_method)
{
	struct sl_h1_header h[4];
	struct sl_h1_parser p;
	static const char m[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n";
	sl_h1_init(&p, SL_H1_RESPONSE, NULL, h, 4);
	p.req_method = SL_H1_M_HEAD;
	cr_assert_gt(sl_h1_parse(&p, (const uint8_t *)m, sizeof(m) - 1), 0);
	cr_expect_eq(p.msg.body, SL_H1_BODY_NONE);
	sl_h1_reset(&p);
	cr_assert_gt(sl_h1_parse(&p, (const uint8_t *)m, sizeof(m) - 1), 0);
	cr_expect_eq(p.msg.body, SL_H1_BODY_NONE);
	p.req_method = SL_H1_M_GET;
	sl_h1_reset(&p);
	cr_assert_gt(sl_h1_parse(&p, (const uint8_t *)m, sizeof(m) - 1), 0);
	cr_expect_eq(p.msg.body, SL_H1_BODY_LENGTH);
}
