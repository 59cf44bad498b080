/* Shared helpers for the sl_h1 tests: one-shot and piecewise parsing, and a
 * field-by-field comparison of two results. */
#ifndef H1_TEST_H
#define H1_TEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_h1.h"

#define T_MAXH 256

struct t_res {
	struct sl_h1_parser p;
	struct sl_h1_header h[T_MAXH];
	int rc;
};

/* Parses buf[0..len) in one call. */
static inline int t_parse(struct t_res *r, enum sl_h1_kind kind, const struct sl_h1_limits *lim,
			  enum sl_h1_method req_method, const void *buf, size_t len)
{
	sl_h1_init(&r->p, kind, lim, r->h, T_MAXH);
	r->p.req_method = req_method;
	r->rc = sl_h1_parse(&r->p, buf, len);
	return r->rc;
}

/* Parses growing prefixes of buf, `step` bytes more each call, until the
 * parser stops asking for more.  The last prefix is the whole buffer. */
static inline int t_parse_steps(struct t_res *r, enum sl_h1_kind kind,
				const struct sl_h1_limits *lim, enum sl_h1_method req_method,
				const void *buf, size_t len, size_t step)
{
	sl_h1_init(&r->p, kind, lim, r->h, T_MAXH);
	r->p.req_method = req_method;
	r->rc = -EAGAIN;
	for (size_t n = 0; r->rc == -EAGAIN; n += step) {
		if (n > len)
			n = len;
		r->rc = sl_h1_parse(&r->p, buf, n);
		if (n == len)
			break;
	}
	return r->rc;
}

/* NULL when a and b are the same result, else the name of what differs. */
static inline const char *t_diff(const struct t_res *a, const struct t_res *b)
{
	const struct sl_h1_msg *x = &a->p.msg, *y = &b->p.msg;
#define D(f) if (memcmp(&x->f, &y->f, sizeof(x->f))) return #f
	if (a->rc != b->rc)
		return "rc";
	if (a->rc == -EBADMSG) {
		D(err);
		D(err_status);
		D(err_off);
		return NULL;
	}
	if (a->rc < 0)
		return NULL;
	D(method); D(target); D(path); D(meth); D(form); D(status); D(reason); D(minor);
	D(host); D(body); D(content_length); D(keep_alive); D(has_content_length);
	D(has_transfer_encoding); D(upgrade); D(websocket); D(expect_continue); D(n_hdrs);
	D(head_len);
#undef D
	if (memcmp(x->hdrs, y->hdrs, x->n_hdrs * sizeof(*x->hdrs)))
		return "hdrs";
	return NULL;
}

static inline bool t_span_is(const void *buf, struct sl_h1_span s, const char *want)
{
	return s.len == strlen(want) && !memcmp((const char *)buf + s.off, want, s.len);
}

/* Reads a whole file into a malloc'd buffer (tests only). */
static inline uint8_t *t_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

#endif
