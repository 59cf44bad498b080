/* Character tables, error names, and the helpers a proxy uses on a parsed
 * message: header lookup, list iteration, hop-by-hop classification. */
#include <errno.h>

#include "h1_priv.h"

#define ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define DIGIT(c) ((c) >= '0' && (c) <= '9')
#define VCHAR(c) ((c) >= 0x21 && (c) <= 0x7e)
#define TCHAR(c) (ALPHA(c) || DIGIT(c) || (c) == '!' || (c) == '#' || (c) == '$' || \
		  (c) == '%' || (c) == '&' || (c) == '\'' || (c) == '*' || (c) == '+' || \
		  (c) == '-' || (c) == '.' || (c) == '^' || (c) == '_' || (c) == '`' || \
		  (c) == '|' || (c) == '~')
#define WS(c) ((c) == ' ' || (c) == '\t')
#define FIELD(c) (VCHAR(c) || (c) >= 0x80 || WS(c))
#define HEX(c) (DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define SUBDELIM(c) ((c) == '!' || (c) == '$' || (c) == '&' || (c) == '\'' || (c) == '(' || \
		     (c) == ')' || (c) == '*' || (c) == '+' || (c) == ',' || (c) == ';' || (c) == '=')
#define REG(c) (ALPHA(c) || DIGIT(c) || (c) == '-' || (c) == '.' || (c) == '_' || (c) == '~' || \
		SUBDELIM(c) || (c) == '%')

#define CC(c) ((TCHAR(c) ? CC_TCHAR : 0) | (FIELD(c) ? CC_FIELD : 0) | \
	       (VCHAR(c) && (c) != '#' ? CC_TARGET : 0) | (HEX(c) ? CC_HEX : 0) | \
	       (REG(c) ? CC_REG : 0) | (WS(c) ? CC_WS : 0) | \
	       (FIELD(c) && (c) != '"' && (c) != '\\' ? CC_QDTEXT : 0) | (VCHAR(c) ? CC_VCHAR : 0))
#define R4(b, F) F(b), F(b + 1), F(b + 2), F(b + 3)
#define R16(b, F) R4(b, F), R4(b + 4, F), R4(b + 8, F), R4(b + 12, F)
#define R64(b, F) R16(b, F), R16(b + 16, F), R16(b + 32, F), R16(b + 48, F)
#define R256(F) R64(0, F), R64(64, F), R64(128, F), R64(192, F)
#define LOWER(c) ((uint8_t)((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c)))

const uint8_t sl_h1_cc[256] = { R256(CC) };
const uint8_t sl_h1_lower[256] = { R256(LOWER) };

static const char *const err_names[SL_H1_E_MAX] = {
	[SL_H1_E_NONE] = "none",
	[SL_H1_E_START_LINE_LONG] = "start_line_long",
	[SL_H1_E_HEADER_LINE_LONG] = "header_line_long",
	[SL_H1_E_TOO_MANY_HEADERS] = "too_many_headers",
	[SL_H1_E_HEADERS_TOO_LARGE] = "headers_too_large",
	[SL_H1_E_METHOD] = "method",
	[SL_H1_E_TARGET] = "target",
	[SL_H1_E_VERSION] = "version",
	[SL_H1_E_VERSION_UNSUPPORTED] = "version_unsupported",
	[SL_H1_E_STATUS] = "status",
	[SL_H1_E_BARE_CR] = "bare_cr",
	[SL_H1_E_BARE_LF] = "bare_lf",
	[SL_H1_E_OBS_FOLD] = "obs_fold",
	[SL_H1_E_FIELD_NAME] = "field_name",
	[SL_H1_E_FIELD_NAME_WS] = "field_name_ws",
	[SL_H1_E_FIELD_VALUE] = "field_value",
	[SL_H1_E_FIELD_LIST] = "field_list",
	[SL_H1_E_CL_INVALID] = "cl_invalid",
	[SL_H1_E_CL_CONFLICT] = "cl_conflict",
	[SL_H1_E_TE_INVALID] = "te_invalid",
	[SL_H1_E_TE_UNKNOWN] = "te_unknown",
	[SL_H1_E_TE_NOT_CHUNKED] = "te_not_chunked",
	[SL_H1_E_TE_CHUNKED_TWICE] = "te_chunked_twice",
	[SL_H1_E_TE_WITH_CL] = "te_with_cl",
	[SL_H1_E_TE_HTTP10] = "te_http10",
	[SL_H1_E_HOST_MISSING] = "host_missing",
	[SL_H1_E_HOST_DUP] = "host_dup",
	[SL_H1_E_HOST_INVALID] = "host_invalid",
	[SL_H1_E_CONNECT_BODY] = "connect_body",
	[SL_H1_E_CHUNK_SIZE] = "chunk_size",
	[SL_H1_E_CHUNK_SIZE_LONG] = "chunk_size_long",
	[SL_H1_E_CHUNK_EXT] = "chunk_ext",
	[SL_H1_E_CHUNK_EXT_LONG] = "chunk_ext_long",
	[SL_H1_E_CHUNK_CRLF] = "chunk_crlf",
	[SL_H1_E_TRAILER] = "trailer",
	[SL_H1_E_TRAILER_LONG] = "trailer_long",
};

const char *sl_h1_err_name(enum sl_h1_err e)
{
	return (unsigned)e < SL_H1_E_MAX && err_names[e] ? err_names[e] : "?";
}

uint16_t sl_h1_err_status(enum sl_h1_err e, enum sl_h1_kind kind)
{
	if (e == SL_H1_E_NONE)
		return 0;
	/* A malformed response is the server's fault; the client is told 502
	 * whatever the detail (RFC 9112 5.2 says so for obs-fold, the rest
	 * follows the same logic). */
	if (kind == SL_H1_RESPONSE)
		return 502;
	switch (e) {
	case SL_H1_E_START_LINE_LONG:
		return 414;
	case SL_H1_E_HEADER_LINE_LONG:
	case SL_H1_E_TOO_MANY_HEADERS:
	case SL_H1_E_HEADERS_TOO_LARGE:
	case SL_H1_E_TRAILER_LONG:
		return 431;
	case SL_H1_E_TE_UNKNOWN:
		return 501;
	case SL_H1_E_VERSION_UNSUPPORTED:
		return 505;
	default:
		return 400;
	}
}

static const struct {
	const char *name;
	uint8_t len, id;
} hdr_names[] = {
#define N(s, id) { s, sizeof(s) - 1, id }
	N("host", SL_H1_H_HOST), N("content-length", SL_H1_H_CONTENT_LENGTH),
	N("transfer-encoding", SL_H1_H_TRANSFER_ENCODING), N("connection", SL_H1_H_CONNECTION),
	N("upgrade", SL_H1_H_UPGRADE), N("expect", SL_H1_H_EXPECT),
	N("keep-alive", SL_H1_H_KEEP_ALIVE), N("te", SL_H1_H_TE), N("trailer", SL_H1_H_TRAILER),
	N("proxy-connection", SL_H1_H_PROXY_CONNECTION),
	N("proxy-authenticate", SL_H1_H_PROXY_AUTHENTICATE),
	N("proxy-authorization", SL_H1_H_PROXY_AUTHORIZATION),
#undef N
};

enum sl_h1_hdr sl_h1_hdr_id(const uint8_t *s, size_t n)
{
	/* The length rules out all but one or two names before any compare. */
	for (size_t k = 0; k < sizeof(hdr_names) / sizeof(hdr_names[0]); k++)
		if (hdr_names[k].len == n && h1_ieq_lit(s, n, hdr_names[k].name, n))
			return (enum sl_h1_hdr)hdr_names[k].id;
	return SL_H1_H_OTHER;
}

static bool ieq(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sl_h1_lower[a[i]] != sl_h1_lower[b[i]])
			return false;
	return true;
}

int sl_h1_find(const struct sl_h1_msg *m, const uint8_t *buf, const char *name, size_t len,
	       uint32_t from)
{
	for (uint32_t i = from; i < m->n_hdrs; i++) {
		const struct sl_h1_header *h = &m->hdrs[i];
		if (h->name.len == len && ieq(buf + h->name.off, (const uint8_t *)name, len))
			return (int)i;
	}
	return -ENOENT;
}

void sl_h1_list_init(struct sl_h1_list *it, const uint8_t *buf, struct sl_h1_span value)
{
	it->buf = buf;
	it->pos = value.off;
	it->end = value.off + value.len;
}

int sl_h1_list_next(struct sl_h1_list *it, struct sl_h1_span *elem, uint32_t *tok_len)
{
	const uint8_t *b = it->buf;
	uint32_t i = it->pos, end = it->end;
	while (i < end && (b[i] == ',' || h1_is(b[i], CC_WS)))
		i++;
	if (i == end) {
		it->pos = i;
		return 0;
	}
	uint32_t start = i, last = i;
	while (i < end && b[i] != ',') {
		if (b[i] == '"') {
			for (i++; i < end && b[i] != '"'; i++)
				if (b[i] == '\\' && ++i == end)
					break;
			if (i >= end)
				return -EBADMSG;
		}
		if (!h1_is(b[i], CC_WS))
			last = i;
		i++;
	}
	it->pos = i;
	*elem = h1_span(start, last + 1 - start);
	uint32_t t = start;
	while (t <= last && h1_is(b[t], CC_TCHAR))
		t++;
	*tok_len = t - start;
	return 1;
}

bool sl_h1_is_hop_by_hop(const struct sl_h1_msg *m, const uint8_t *buf, const uint8_t *name,
			 size_t len)
{
	switch (sl_h1_hdr_id(name, len)) {
	case SL_H1_H_OTHER:
	case SL_H1_H_HOST:
	case SL_H1_H_CONTENT_LENGTH:
	case SL_H1_H_EXPECT:
		break;
	default:
		return true;
	}
	if (!m)
		return false;
	for (uint32_t i = 0; i < m->n_hdrs; i++) {
		if (m->hdrs[i].id != SL_H1_H_CONNECTION)
			continue;
		struct sl_h1_list it;
		struct sl_h1_span e;
		uint32_t tl;
		sl_h1_list_init(&it, buf, m->hdrs[i].value);
		while (sl_h1_list_next(&it, &e, &tl) > 0)
			if (e.len == len && ieq(buf + e.off, name, len))
				return true;
	}
	return false;
}

bool h1_host_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	if (n && s[0] == '[') {
		/* IP-literal: IPv6 hex groups; IPvFuture is not routable anywhere. */
		for (i = 1; i < n && (h1_is(s[i], CC_HEX) || s[i] == ':' || s[i] == '.'); i++)
			;
		if (i == 1 || i >= n || s[i] != ']')
			return false;
		i++;
	} else {
		for (; i < n && h1_is(s[i], CC_REG); i++)
			if (s[i] == '%' && !(i + 2 < n && h1_is(s[i + 1], CC_HEX) &&
					     h1_is(s[i + 2], CC_HEX)))
				return false;
		/* RFC 9110 4.2.1: an http URI with an empty host is invalid. */
		if (i == 0)
			return false;
	}
	if (i == n)
		return true;
	if (s[i] != ':' || n - i - 1 > 5)
		return false;
	uint32_t port = 0;
	for (i++; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		port = port * 10 + (uint32_t)(s[i] - '0');
	}
	return port <= 65535;
}
