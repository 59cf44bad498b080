/* The control HTTP request parser: framing, limits and the headers the API uses. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

struct hcase {
	const char *req;
	int want;             /* >0: head length expected == strlen(req) - body; 0 need more; <0 -status */
	size_t body;
	bool keep_alive;
};

Test(http, table)
{
	static const struct hcase c[] = {
		{ "GET /api/pool HTTP/1.1\r\nHost: x\r\n\r\n", 1, 0, true },
		{ "GET /api/pool HTTP/1.0\r\n\r\n", 1, 0, false },
		{ "GET /api/pool HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1, 0, true },
		{ "POST /api/pool HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", 1, 2, false },
		{ "GET /api/pool HTTP/1.1\nHost: x\n\n", 1, 0, true },
		{ "GET /api/pool HTTP/1.1\r\nHost: x\r\n", 0, 0, true },
		{ "GET /api/po", 0, 0, true },
		{ "GET api/pool HTTP/1.1\r\n\r\n", -400, 0, true },
		{ "GET /api/pool HTTP/2.0\r\n\r\n", -505, 0, true },
		{ "GET /api/pool FOO\r\n\r\n", -400, 0, true },
		{ "GET /a b HTTP/1.1\r\n\r\n", -400, 0, true },
		{ "POST /x HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", -400, 0, true },
		{ "POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", -400, 0, true },
		{ "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", -501, 0, true },
		{ "POST /x HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", -413, 0, true },
		{ "POST /x HTTP/1.1\r\nContent-Length: 67108865\r\n\r\n", -413, 0, true },
		{ "GET /x HTTP/1.1\r\nBad Header: 1\r\n\r\n", -400, 0, true },
		{ "GET /x HTTP/1.1\r\nExpect: something\r\n\r\n", -417, 0, true },
		{ "VERYLONGMETHOD /x HTTP/1.1\r\n\r\n", -501, 0, true },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sl_http_req r;
		int rc = sl_http_parse(c[i].req, strlen(c[i].req), &sl_http_default_limits, &r);
		if (c[i].want > 0) {
			cr_expect_eq((size_t)rc, strlen(c[i].req) - c[i].body, "case %zu: %d", i, rc);
			cr_expect_eq(r.content_length, c[i].body, "case %zu", i);
			cr_expect_eq(r.keep_alive, c[i].keep_alive, "case %zu", i);
		} else {
			cr_expect_eq(rc, c[i].want, "case %zu: %d", i, rc);
		}
	}
}

Test(http, fields)
{
	const char *s = "PUT /api/pool/web%20x?name=a&b=c HTTP/1.1\r\nIf-Match: \"12\"\r\nExpect: 100-continue\r\n"
			"Content-Length: 10\r\n\r\n";
	struct sl_http_req r;
	cr_assert_gt(sl_http_parse(s, strlen(s), &sl_http_default_limits, &r), 0);
	cr_expect_str_eq(r.method, "PUT");
	cr_expect_eq(r.path_len, strlen("/api/pool/web%20x"));
	cr_expect(!strncmp(r.query, "name=a&b=c", r.query_len));
	cr_expect_str_eq(r.if_match, "\"12\"");
	cr_expect(r.expect_continue);
}

Test(http, limits)
{
	const struct sl_http_limits *l = &sl_http_default_limits;
	size_t n = l->max_line + 100;
	char *b = malloc(n + l->max_head + 100);
	struct sl_http_req r;
	/* request line too long, even before its end arrives */
	memcpy(b, "GET /", 5);
	memset(b + 5, 'a', n - 5);
	cr_expect_eq(sl_http_parse(b, n, l, &r), -414);
	/* headers too large */
	int off = sprintf(b, "GET / HTTP/1.1\r\n");
	while ((size_t)off < l->max_head + 10)
		off += sprintf(b + off, "X-Pad: %s\r\n", "0123456789012345678901234567890123456789");
	cr_expect_eq(sl_http_parse(b, (size_t)off, l, &r), -431);
	/* too many headers */
	off = sprintf(b, "GET / HTTP/1.1\r\n");
	for (unsigned i = 0; i <= l->max_headers; i++)
		off += sprintf(b + off, "X-%u: 1\r\n", i);
	off += sprintf(b + off, "\r\n");
	cr_expect_eq(sl_http_parse(b, (size_t)off, l, &r), -431);
	/* exactly at the body limit is fine */
	off = sprintf(b, "POST / HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", l->max_body);
	cr_expect_gt(sl_http_parse(b, (size_t)off, l, &r), 0);
	off = sprintf(b, "POST / HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", l->max_body + 1);
	cr_expect_eq(sl_http_parse(b, (size_t)off, l, &r), -413);
	free(b);
}

Test(http, pct_decode)
{
	char o[8];
	cr_expect_eq(sl_http_pct_decode("a%41+%7e", 8, o, sizeof(o)), 4);
	cr_expect_str_eq(o, "aA ~");
	cr_expect_eq(sl_http_pct_decode("%zz%4", 5, o, sizeof(o)), 5, "an invalid escape is kept");
	cr_expect_str_eq(o, "%zz%4");
	cr_expect_eq(sl_http_pct_decode("%-1%+1", 6, o, sizeof(o)), 6, "signs are not hex digits");
	cr_expect_eq(sl_http_pct_decode("v%00zzz", 7, o, sizeof(o)), -EILSEQ);
	cr_expect_eq(sl_http_pct_decode("v%1F", 4, o, sizeof(o)), -EILSEQ);
	cr_expect_eq(sl_http_pct_decode("v%7f", 4, o, sizeof(o)), -EILSEQ);
	cr_expect_eq(sl_http_pct_decode("v%C3%A9", 7, o, sizeof(o)), 3, "UTF-8 is fine");
	cr_expect_eq(sl_http_pct_decode("1234567", 7, o, sizeof(o)), 7);
	cr_expect_eq(sl_http_pct_decode("12345678", 8, o, sizeof(o)), -ENAMETOOLONG);
	cr_expect_eq(strlen(o), 7, "still terminated");
}
