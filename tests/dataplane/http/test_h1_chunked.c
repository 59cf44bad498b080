/* Chunked decoder: data and consumed length for every way of cutting the
 * input in two and in three, and a verdict for each malformed body. */
#include <criterion/criterion.h>

#include "h1_test.h"

struct dec {
	int rc;
	enum sl_h1_err err;
	size_t used;   /* bytes consumed when rc == 1 */
	size_t n;      /* decoded data */
	uint8_t data[512];
};

/* Feeds body[cuts[k-1]..cuts[k]) for each piece; a piece is fed until the
 * decoder has consumed it or stopped. */
static void decode(const uint8_t *body, size_t len, const size_t *cuts, size_t ncuts,
		   const struct sl_h1_limits *lim, struct dec *d)
{
	struct sl_h1_chunked c;
	sl_h1_chunked_init(&c, lim);
	memset(d, 0, sizeof(*d));
	size_t start = 0;
	for (size_t k = 0; k <= ncuts; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		while (start < end) {
			size_t used;
			struct sl_h1_span s;
			d->rc = sl_h1_chunked_feed(&c, body + start, end - start, &used, &s);
			cr_assert_leq(used, end - start);
			cr_assert_leq(s.off + s.len, used);
			if (s.len) {
				cr_assert_leq(d->n + s.len, sizeof(d->data));
				memcpy(d->data + d->n, body + start + s.off, s.len);
				d->n += s.len;
			}
			start += used;
			if (d->rc != 0) {
				d->err = c.err;
				d->used = start;
				return;
			}
			if (!used)
				break;
		}
	}
	d->used = start;
}

static void every_split(const char *body, size_t len, int rc, const char *data, size_t tail,
			enum sl_h1_err err)
{
	const uint8_t *b = (const uint8_t *)body;
	struct dec one, part;
	decode(b, len, NULL, 0, NULL, &one);
	cr_assert_eq(one.rc, rc, "%s: rc %d err %s", body, one.rc, sl_h1_err_name(one.err));
	if (rc == 1) {
		cr_expect_eq(one.n, strlen(data));
		cr_expect_eq(memcmp(one.data, data, one.n), 0, "%s", body);
		cr_expect_eq(one.used, len - tail, "%s: stops where the message ends", body);
	} else if (rc < 0) {
		cr_expect_eq(one.err, err, "%s: %s want %s", body, sl_h1_err_name(one.err),
			     sl_h1_err_name(err));
	}
	for (size_t i = 0; i <= len; i++)
		for (size_t j = i; j <= len; j++) {
			size_t cuts[2] = { i, j };
			decode(b, len, cuts, 2, NULL, &part);
			cr_assert_eq(part.rc, one.rc, "%s cut %zu,%zu", body, i, j);
			cr_assert_eq(part.err, one.err);
			cr_assert_eq(part.n, one.n, "%s cut %zu,%zu", body, i, j);
			cr_assert_eq(memcmp(part.data, one.data, one.n), 0);
			if (rc == 1)
				cr_assert_eq(part.used, one.used);
		}
}

#define B(s) s, sizeof(s) - 1

Test(h1_chunked, valid_bodies_every_split)
{
	every_split(B("5\r\nhello\r\n0\r\n\r\n"), 1, "hello", 0, 0);
	every_split(B("1\r\na\r\n10\r\n0123456789abcdef\r\n0\r\n\r\nGET"), 1, "a0123456789abcdef", 3, 0);
	every_split(B("A;ext=1;q=\"a,\\\"b\"\r\n0123456789\r\n0\r\n\r\n"), 1, "0123456789", 0, 0);
	every_split(B("3 ; a = b ;c\r\nxyz\r\n000\r\n\r\n"), 1, "xyz", 0, 0);
	every_split(B("2\r\nab\r\n0\r\nX-Sum: 1\r\nY:\r\n\r\n"), 1, "ab", 0, 0);
	every_split(B("0\r\n\r\n"), 1, "", 0, 0);
	every_split(B("fF\r\n"), 0, NULL, 0, 0);
}

Test(h1_chunked, malformed)
{
	static const struct { const char *b; enum sl_h1_err e; size_t n; } tab[] = {
		{ "\r\n", SL_H1_E_CHUNK_SIZE },
		{ "x\r\n", SL_H1_E_CHUNK_SIZE },
		{ "-1\r\n", SL_H1_E_CHUNK_SIZE },
		{ "+1\r\n", SL_H1_E_CHUNK_SIZE },
		{ "0x10\r\n", SL_H1_E_CHUNK_SIZE },
		{ "1\n", SL_H1_E_CHUNK_SIZE },
		{ "1\rx", SL_H1_E_CHUNK_SIZE },
		{ "1 \r\n", SL_H1_E_CHUNK_EXT },
		{ "1;\r\n", SL_H1_E_CHUNK_EXT },
		{ "1;a=\r\n", SL_H1_E_CHUNK_EXT },
		{ "1;a=\"x\r\n", SL_H1_E_CHUNK_EXT },
		{ "1;a=\"x\"y\r\n", SL_H1_E_CHUNK_EXT },
		{ "1;a b\r\n", SL_H1_E_CHUNK_EXT },
		{ "1;a\x01\r\n", SL_H1_E_CHUNK_EXT },
		{ "10000000000000000\r\n", SL_H1_E_CHUNK_SIZE_LONG },
		{ "00000000000000001\r\n", SL_H1_E_CHUNK_SIZE_LONG },
		{ "8000000000000000\r\n", SL_H1_E_CHUNK_SIZE_LONG },
		{ "1\r\nab\r\n", SL_H1_E_CHUNK_CRLF },
		{ "1\r\na\n0\r\n\r\n", SL_H1_E_CHUNK_CRLF },
		{ "1\r\na\r0\r\n\r\n", SL_H1_E_CHUNK_CRLF },
		{ "0\r\n\n", SL_H1_E_TRAILER },
		{ "0\r\n\rx", SL_H1_E_TRAILER },
		{ "0\r\nX: a\n\r\n", SL_H1_E_TRAILER },
		{ "0\r\nX : a\r\n\r\n", SL_H1_E_TRAILER },
		{ "0\r\n X: a\r\n\r\n", SL_H1_E_TRAILER },
		{ "0\r\nX: a\x00\r\n\r\n", SL_H1_E_TRAILER, 12 }, /* NUL: strlen stops at it */
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		size_t n = tab[i].n ? tab[i].n : strlen(tab[i].b);
		every_split(tab[i].b, n, -EBADMSG, NULL, 0, tab[i].e);
	}
}

Test(h1_chunked, largest_size_accepted)
{
	struct sl_h1_chunked c;
	struct sl_h1_span s;
	size_t used;
	static const char b[] = "7fffffffffffffff\r\nabc";
	sl_h1_chunked_init(&c, NULL);
	cr_assert_eq(sl_h1_chunked_feed(&c, (const uint8_t *)b, sizeof(b) - 1, &used, &s), 0);
	cr_expect_eq(s.len, 3);
	cr_expect_eq(c.left, INT64_MAX - 3);
}

Test(h1_chunked, ext_and_trailer_limits)
{
	struct sl_h1_limits lim = { .chunk_ext = 6, .trailer_bytes = 8 };
	struct dec d;
	/* ";a=bcd" is 6 extension bytes; the CR does not count */
	decode((const uint8_t *)B("1;a=bcd\r\nx\r\n0\r\n\r\n"), NULL, 0, &lim, &d);
	cr_expect_eq(d.rc, 1);
	decode((const uint8_t *)B("1;a=bcde\r\nx\r\n0\r\n\r\n"), NULL, 0, &lim, &d);
	cr_expect_eq(d.rc, -EBADMSG);
	cr_expect_eq(d.err, SL_H1_E_CHUNK_EXT_LONG);
	/* "X: ab\r\n" + "\r" = 8 trailer bytes, the final LF is not counted */
	decode((const uint8_t *)B("0\r\nX: ab\r\n\r\n"), NULL, 0, &lim, &d);
	cr_expect_eq(d.rc, 1);
	decode((const uint8_t *)B("0\r\nX: abc\r\n\r\n"), NULL, 0, &lim, &d);
	cr_expect_eq(d.rc, -EBADMSG);
	cr_expect_eq(d.err, SL_H1_E_TRAILER_LONG);
	/* the extension bound applies per line, not per body */
	decode((const uint8_t *)B("1;a=bcd\r\nx\r\n1;a=bcd\r\ny\r\n0;a=bcd\r\n\r\n"), NULL, 0, &lim, &d);
	cr_expect_eq(d.rc, 1);
}

Test(h1_chunked, done_and_error_are_sticky)
{
	struct sl_h1_chunked c;
	struct sl_h1_span s;
	size_t used;
	sl_h1_chunked_init(&c, NULL);
	cr_assert_eq(sl_h1_chunked_feed(&c, (const uint8_t *)"0\r\n\r\nxx", 7, &used, &s), 1);
	cr_expect_eq(used, 5);
	cr_expect_eq(sl_h1_chunked_feed(&c, (const uint8_t *)"xx", 2, &used, &s), 1);
	cr_expect_eq(used, 0);
	sl_h1_chunked_init(&c, NULL);
	cr_assert_eq(sl_h1_chunked_feed(&c, (const uint8_t *)"g", 1, &used, &s), -EBADMSG);
	cr_expect_eq(sl_h1_chunked_feed(&c, (const uint8_t *)"0\r\n\r\n", 5, &used, &s), -EBADMSG);
}
