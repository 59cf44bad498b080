/* libFuzzer: any byte string as a request, as a response and as a chunked
 * body.  Checks that results stay inside the buffer, that a message split at
 * a point the input chooses (and byte by byte, when short) parses exactly
 * as in one go, and that the chunk decoder's data and verdict do not depend
 * on how its input is cut.  Pipelined messages are followed to the end. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "h1_test.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void check_msg(const struct t_res *r, size_t len)
{
	const struct sl_h1_msg *m = &r->p.msg;
	if (r->rc == -EBADMSG) {
		CHECK(m->err > SL_H1_E_NONE && m->err < SL_H1_E_MAX && m->err_status >= 400);
		CHECK(m->err_off <= len);
		return;
	}
	CHECK(r->rc == -EAGAIN || (r->rc > 0 && (size_t)r->rc <= len && m->head_len == (uint32_t)r->rc));
	if (r->rc < 0)
		return;
#define IN(s) CHECK((uint64_t)(s).off + (s).len <= m->head_len)
	IN(m->method); IN(m->target); IN(m->path); IN(m->reason); IN(m->host);
	for (uint32_t i = 0; i < m->n_hdrs; i++) {
		IN(m->hdrs[i].name);
		IN(m->hdrs[i].value);
		CHECK(m->hdrs[i].name.len > 0);
	}
#undef IN
	CHECK(m->body <= SL_H1_BODY_TUNNEL);
	CHECK(!m->websocket || m->upgrade);
}

static void same(const struct t_res *a, const struct t_res *b)
{
	CHECK(t_diff(a, b) == NULL);
}

/* Chunked decode of buf with one cut at `cut`; data is summed, not stored. */
struct cres {
	int rc;
	enum sl_h1_err err;
	size_t used, n;
	uint64_t sum;
};

static void chunked(const uint8_t *buf, size_t len, size_t cut, struct cres *o)
{
	struct sl_h1_chunked c;
	sl_h1_chunked_init(&c, NULL);
	memset(o, 0, sizeof(*o));
	size_t start = 0;
	for (int piece = 0; piece < 2; piece++) {
		size_t end = piece == 0 ? cut : len;
		while (start < end) {
			size_t used;
			struct sl_h1_span d;
			o->rc = sl_h1_chunked_feed(&c, buf + start, end - start, &used, &d);
			CHECK(used <= end - start && (uint64_t)d.off + d.len <= used);
			for (uint32_t k = 0; k < d.len; k++)
				o->sum = o->sum * 31 + buf[start + d.off + k];
			o->n += d.len;
			start += used;
			if (o->rc) {
				o->err = c.err;
				CHECK(o->rc == 1 || (o->rc == -EBADMSG && c.err >= SL_H1_E_CHUNK_SIZE));
				o->used = start;
				return;
			}
		}
	}
	o->used = start;
}

static void chunked_both(const uint8_t *buf, size_t len, size_t cut)
{
	struct cres one, two;
	chunked(buf, len, len, &one);
	chunked(buf, len, cut, &two);
	CHECK(one.rc == two.rc && one.err == two.err);
	if (one.rc >= 0)
		CHECK(one.n == two.n && one.sum == two.sum);
	if (one.rc == 1)
		CHECK(one.used == two.used);
}

static void parse_all(enum sl_h1_kind kind, enum sl_h1_method rm, const uint8_t *data, size_t size,
		      size_t cut)
{
	static struct t_res one, part;
	size_t off = 0;
	/* follow pipelined messages while they parse */
	for (int k = 0; k < 8 && off < size; k++) {
		const uint8_t *b = data + off;
		size_t n = size - off, c = cut > off ? cut - off : 0;
		if (c > n)
			c = n;
		t_parse(&one, kind, NULL, rm, b, n);
		check_msg(&one, n);
		/* the same bytes in two pieces, cut where the input says */
		sl_h1_init(&part.p, kind, NULL, part.h, T_MAXH);
		part.p.req_method = rm;
		part.rc = sl_h1_parse(&part.p, b, c);
		if (part.rc == -EAGAIN)
			part.rc = sl_h1_parse(&part.p, b, n);
		same(&one, &part);
		if (n <= 160) {
			t_parse_steps(&part, kind, NULL, rm, b, n, 1);
			same(&one, &part);
		}
		if (one.rc <= 0)
			return;
		off += (size_t)one.rc;
		const struct sl_h1_msg *m = &one.p.msg;
		if (m->body == SL_H1_BODY_LENGTH) {
			if (m->content_length > size - off)
				return;
			off += m->content_length;
		} else if (m->body == SL_H1_BODY_CHUNKED) {
			struct cres cr;
			chunked_both(data + off, size - off, c > (size_t)one.rc ? c - (size_t)one.rc : 0);
			chunked(data + off, size - off, size - off, &cr);
			if (cr.rc != 1)
				return;
			off += cr.used;
		} else if (m->body != SL_H1_BODY_NONE) {
			return;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cut = size ? ((size_t)data[0] * 131 + (size_t)data[size - 1]) % (size + 1) : 0;
	static const enum sl_h1_method rms[4] = { SL_H1_M_GET, SL_H1_M_HEAD, SL_H1_M_CONNECT,
						  SL_H1_M_POST };
	parse_all(SL_H1_REQUEST, SL_H1_M_GET, data, size, cut);
	parse_all(SL_H1_RESPONSE, rms[size & 3], data, size, cut);
	chunked_both(data, size, cut);
	/* helpers over whatever the request parse produced */
	static struct t_res r;
	if (t_parse(&r, SL_H1_REQUEST, NULL, SL_H1_M_GET, data, size) > 0) {
		for (uint32_t i = 0; i < r.p.msg.n_hdrs; i++) {
			const struct sl_h1_header *h = &r.p.msg.hdrs[i];
			bool hop = sl_h1_is_hop_by_hop(&r.p.msg, data, data + h->name.off, h->name.len);
			CHECK(!(h->id == SL_H1_H_CONNECTION || h->id == SL_H1_H_TRANSFER_ENCODING) || hop);
			int f = sl_h1_find(&r.p.msg, data, (const char *)data + h->name.off, h->name.len, 0);
			CHECK(f >= 0 && (uint32_t)f <= i);
			struct sl_h1_list it;
			struct sl_h1_span e;
			uint32_t tl;
			sl_h1_list_init(&it, data, h->value);
			for (int k = 0; k < 64 && sl_h1_list_next(&it, &e, &tl) > 0; k++)
				CHECK(e.len > 0 && tl <= e.len && e.off >= h->value.off &&
				      e.off + e.len <= h->value.off + h->value.len);
		}
	}
	return 0;
}
