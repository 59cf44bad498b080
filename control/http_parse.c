#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

const struct sl_http_limits sl_http_default_limits = {
	/* a body is held whole, then parsed into a JSON tree several times its size: 64 MiB is
	   ten times the 10,000-VS macro and keeps one request well under a gigabyte */
	.max_line = 8192, .max_head = 32768, .max_headers = 64, .max_body = 64u << 20,
};

static bool is_tchar(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Next line [s, e) without its terminator; accepts CRLF and bare LF. NULL when incomplete. */
static const char *line_end(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		return NULL;
	*next = nl + 1;
	return nl > p && nl[-1] == '\r' ? nl - 1 : nl;
}

int sl_http_parse(const char *buf, size_t len, const struct sl_http_limits *lim, struct sl_http_req *r)
{
	const char *end = buf + len, *next, *orig = buf;
	memset(r, 0, sizeof(*r));
	/* tolerate empty lines before a request (RFC 9112 2.2) */
	while (buf < end && (*buf == '\r' || *buf == '\n'))
		buf++, len--;
	const char *le = line_end(buf, end, &next);
	if (!le)
		return len >= lim->max_line ? -414 : 0;
	if ((size_t)(next - buf) > lim->max_line)
		return -414;
	const char *p = buf;
	size_t ml = 0;
	while (p < le && is_tchar((unsigned char)*p) && ml < sizeof(r->method) - 1)
		r->method[ml++] = *p++;
	if (!ml || p >= le || *p != ' ')
		return ml == sizeof(r->method) - 1 ? -501 : -400;
	p++;
	const char *t = p;
	while (p < le && *p != ' ')
		p++;
	if (p == t || p >= le || *t != '/')
		return -400;
	for (const char *q = t; q < p; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return -400;
	const char *qm = memchr(t, '?', (size_t)(p - t));
	r->path = t;
	r->path_len = qm ? (size_t)(qm - t) : (size_t)(p - t);
	if (qm) {
		r->query = qm + 1;
		r->query_len = (size_t)(p - qm - 1);
	}
	p++;
	if (le - p != 8 || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1'))
		return (le - p >= 5 && !memcmp(p, "HTTP/", 5)) ? -505 : -400;
	r->minor = p[7] - '0';
	r->keep_alive = r->minor == 1;

	bool have_cl = false, conn_close = false, conn_ka = false;
	unsigned nh = 0;
	for (;;) {
		p = next;
		if ((size_t)(p - buf) > lim->max_head)
			return -431;
		le = line_end(p, end, &next);
		if (!le)
			return len >= lim->max_head ? -431 : 0;
		if ((size_t)(next - buf) > lim->max_head)
			return -431;
		if (le == p)
			break;
		if (++nh > lim->max_headers)
			return -431;
		const char *c = p;
		while (c < le && is_tchar((unsigned char)*c))
			c++;
		if (c == p || c >= le || *c != ':')
			return -400;
		size_t nlen = (size_t)(c - p);
		const char *v = c + 1, *ve = le;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		size_t vl = (size_t)(ve - v);
		for (const char *q = v; q < ve; q++)
			if (*q == 0 || *q == '\r' || *q == '\n')
				return -400;
#define HDR(n) (nlen == sizeof(n) - 1 && !strncasecmp(p, n, nlen))
		if (HDR("content-length")) {
			if (!vl || vl > 19)
				return -400;
			uint64_t x = 0;
			for (size_t i = 0; i < vl; i++) {
				if (!isdigit((unsigned char)v[i]))
					return -400;
				x = x * 10 + (uint64_t)(v[i] - '0');
			}
			if (have_cl && x != r->content_length)
				return -400;
			have_cl = true;
			r->content_length = (size_t)x;
		} else if (HDR("transfer-encoding")) {
			return -501;
		} else if (HDR("connection")) {
			for (size_t i = 0; i + 5 <= vl; i++) {
				if (!strncasecmp(v + i, "close", 5))
					conn_close = true;
				if (i + 10 <= vl && !strncasecmp(v + i, "keep-alive", 10))
					conn_ka = true;
			}
		} else if (HDR("if-match")) {
			if (vl >= sizeof(r->if_match))
				return -400;
			memcpy(r->if_match, v, vl);
			r->if_match[vl] = 0;
		} else if (HDR("expect")) {
			if (vl == 12 && !strncasecmp(v, "100-continue", 12))
				r->expect_continue = true;
			else
				return -417;
		} else if (HDR("accept")) {
			snprintf(r->accept, sizeof(r->accept), "%.*s", (int)(vl < 63 ? vl : 63), v);
		}
#undef HDR
	}
	if (conn_close)
		r->keep_alive = false;
	else if (conn_ka)
		r->keep_alive = true;
	if (r->content_length > lim->max_body)
		return -413;
	r->head_len = (size_t)(next - orig);
	return (int)r->head_len;
}

bool sl_has_ctl_byte(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int sl_http_pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	if (!cap)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i] == '+' ? ' ' : s[i];
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			ch = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		}
		if (o + 1 >= cap) {
			out[o] = 0;
			return -ENAMETOOLONG;
		}
		out[o++] = ch;
	}
	out[o] = 0;
	return sl_has_ctl_byte(out, o) ? -EILSEQ : (int)o;
}
