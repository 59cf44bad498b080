/* Header lookup, list iteration, hop-by-hop classification, error table. */
#include <criterion/criterion.h>

#include "h1_test.h"

static struct t_res R;
static const char M[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Dup: 1\r\nconnection: X-Dup, close\r\n"
			"x-dup: 2\r\nKeep-Alive: 5\r\nConnection: Foo\r\n\r\n";

static const uint8_t *parsed(void)
{
	cr_assert_gt(t_parse(&R, SL_H1_REQUEST, NULL, SL_H1_M_GET, M, sizeof(M) - 1), 0);
	return (const uint8_t *)M;
}

Test(h1_util, find_case_insensitive_and_repeated)
{
	const uint8_t *b = parsed();
	int i = sl_h1_find(&R.p.msg, b, "X-DUP", 5, 0);
	cr_assert_eq(i, 1);
	i = sl_h1_find(&R.p.msg, b, "X-DUP", 5, (uint32_t)i + 1);
	cr_assert_eq(i, 3);
	cr_expect(t_span_is(b, R.p.msg.hdrs[i].value, "2"));
	cr_expect_eq(sl_h1_find(&R.p.msg, b, "X-DUP", 5, (uint32_t)i + 1), -ENOENT);
	cr_expect_eq(sl_h1_find(&R.p.msg, b, "X-Du", 4, 0), -ENOENT);
	cr_expect_eq(sl_h1_find(&R.p.msg, b, "host", 4, 0), 0);
}

Test(h1_util, list_iterator)
{
	static const char v[] = " , a ,b;q=\"x,y\" ,, \t c\t,\"\" ,";
	struct sl_h1_list it;
	struct sl_h1_span e;
	uint32_t tl;
	sl_h1_list_init(&it, (const uint8_t *)v, (struct sl_h1_span){ 0, sizeof(v) - 1 });
	static const char *want[] = { "a", "b;q=\"x,y\"", "c", "\"\"" };
	static const uint32_t want_tl[] = { 1, 1, 1, 0 };
	for (size_t k = 0; k < 4; k++) {
		cr_assert_eq(sl_h1_list_next(&it, &e, &tl), 1, "element %zu", k);
		cr_expect(t_span_is(v, e, want[k]), "element %zu: %.*s", k, (int)e.len, v + e.off);
		cr_expect_eq(tl, want_tl[k], "element %zu", k);
	}
	cr_expect_eq(sl_h1_list_next(&it, &e, &tl), 0);
	cr_expect_eq(sl_h1_list_next(&it, &e, &tl), 0);

	static const char bad[] = "a, \"unterminated\\\"";
	sl_h1_list_init(&it, (const uint8_t *)bad, (struct sl_h1_span){ 0, sizeof(bad) - 1 });
	cr_expect_eq(sl_h1_list_next(&it, &e, &tl), 1);
	cr_expect_eq(sl_h1_list_next(&it, &e, &tl), -EBADMSG);
}

Test(h1_util, quoted_connection_option_rejected)
{
	static const char m[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: a, \"q,x\"\r\n\r\n";
	cr_expect_eq(t_parse(&R, SL_H1_REQUEST, NULL, SL_H1_M_GET, m, sizeof(m) - 1), -EBADMSG);
	cr_expect_eq(R.p.msg.err, SL_H1_E_FIELD_LIST);
}

Test(h1_util, hop_by_hop)
{
	static const char m[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Dup: 1\r\nconnection: X-Dup, close\r\n"
				"Connection: Foo\r\nFoo: 1\r\nBar: 2\r\n\r\n";
	cr_assert_gt(t_parse(&R, SL_H1_REQUEST, NULL, SL_H1_M_GET, m, sizeof(m) - 1), 0);
	const uint8_t *b = (const uint8_t *)m;
	static const char *hop[] = { "Connection", "keep-alive", "TE", "Trailer", "transfer-encoding",
				     "Upgrade", "Proxy-Connection", "Proxy-Authenticate",
				     "proxy-authorization" };
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++) {
		cr_expect(sl_h1_is_hop_by_hop(NULL, b, (const uint8_t *)hop[i], strlen(hop[i])), "%s", hop[i]);
		cr_expect(sl_h1_is_hop_by_hop(&R.p.msg, b, (const uint8_t *)hop[i], strlen(hop[i])));
	}
	static const char *end[] = { "Host", "Content-Length", "Expect", "Bar", "TEE", "Trailers" };
	for (size_t i = 0; i < sizeof(end) / sizeof(end[0]); i++)
		cr_expect_not(sl_h1_is_hop_by_hop(&R.p.msg, b, (const uint8_t *)end[i], strlen(end[i])),
			      "%s", end[i]);
	cr_expect(sl_h1_is_hop_by_hop(&R.p.msg, b, (const uint8_t *)"x-dup", 5), "listed in Connection");
	cr_expect(sl_h1_is_hop_by_hop(&R.p.msg, b, (const uint8_t *)"FOO", 3), "second Connection line");
	cr_expect_not(sl_h1_is_hop_by_hop(NULL, b, (const uint8_t *)"foo", 3));
	cr_expect_not(sl_h1_is_hop_by_hop(&R.p.msg, b, (const uint8_t *)"clos", 4));
}

Test(h1_util, header_ids)
{
	static const struct { const char *n; enum sl_h1_hdr id; } tab[] = {
		{ "HOST", SL_H1_H_HOST }, { "Content-Length", SL_H1_H_CONTENT_LENGTH },
		{ "Transfer-Encoding", SL_H1_H_TRANSFER_ENCODING }, { "te", SL_H1_H_TE },
		{ "Expect", SL_H1_H_EXPECT }, { "Content-Lengt", SL_H1_H_OTHER },
		{ "Content_Length", SL_H1_H_OTHER }, { "Hos\xf4", SL_H1_H_OTHER },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		cr_expect_eq(sl_h1_hdr_id((const uint8_t *)tab[i].n, strlen(tab[i].n)), tab[i].id, "%s", tab[i].n);
}

Test(h1_util, every_error_has_a_name_and_status)
{
	for (int e = 1; e < SL_H1_E_MAX; e++) {
		cr_expect_str_neq(sl_h1_err_name((enum sl_h1_err)e), "?", "error %d", e);
		uint16_t st = sl_h1_err_status((enum sl_h1_err)e, SL_H1_REQUEST);
		cr_expect(st == 400 || st == 414 || st == 431 || st == 501 || st == 505, "%d: %u", e, st);
		cr_expect_eq(sl_h1_err_status((enum sl_h1_err)e, SL_H1_RESPONSE), 502);
	}
	cr_expect_str_eq(sl_h1_err_name(SL_H1_E_MAX), "?");
	cr_expect_eq(sl_h1_err_status(SL_H1_E_NONE, SL_H1_REQUEST), 0);
}
