/* Start line and field lines, one pass per line, and the framing they imply.
 *
 * The parser keeps the offset of the first line it has not finished; every
 * call re-reads only that line.  A verdict depends only on the bytes read so
 * far (a limit is "a byte at offset N exists"), so the result cannot depend
 * on how the message was split across calls.
 */
#include <errno.h>
#include <string.h>

#include "h1_priv.h"

enum { PH_START, PH_FIELDS, PH_DONE, PH_ERR };

/* Line results besides -EBADMSG. */
enum { L_MORE = 0, L_OK = 1 };

static uint32_t lim_or(uint32_t v, uint32_t def)
{
	if (!v)
		return def;
	return v > SL_H1_MAX_LIMIT ? SL_H1_MAX_LIMIT : v;
}

void sl_h1_init(struct sl_h1_parser *p, enum sl_h1_kind kind, const struct sl_h1_limits *lim,
		struct sl_h1_header *hdrs, uint32_t cap)
{
	static const struct sl_h1_limits none;
	if (!lim)
		lim = &none;
	memset(p, 0, sizeof(*p));
	p->kind = (uint8_t)kind;
	p->req_method = SL_H1_M_GET;
	p->lim.start_line = lim_or(lim->start_line, SL_H1_DEF_START_LINE);
	p->lim.header_line = lim_or(lim->header_line, SL_H1_DEF_HEADER_LINE);
	p->lim.headers = lim_or(lim->headers, SL_H1_DEF_HEADERS);
	p->lim.header_bytes = lim_or(lim->header_bytes, SL_H1_DEF_HEADER_BYTES);
	p->lim.chunk_ext = lim_or(lim->chunk_ext, SL_H1_DEF_CHUNK_EXT);
	p->lim.trailer_bytes = lim_or(lim->trailer_bytes, SL_H1_DEF_TRAILER_BYTES);
	p->cap = cap < p->lim.headers ? cap : p->lim.headers;
	p->msg.hdrs = hdrs;
}

void sl_h1_reset(struct sl_h1_parser *p)
{
	struct sl_h1_limits lim = p->lim;
	struct sl_h1_header *hdrs = p->msg.hdrs;
	uint32_t cap = p->cap;
	enum sl_h1_method rm = p->req_method;
	uint8_t kind = p->kind;
	memset(p, 0, sizeof(*p));
	p->lim = lim;
	p->msg.hdrs = hdrs;
	p->cap = cap;
	p->req_method = rm;
	p->kind = kind;
}

static int fail(struct sl_h1_parser *p, enum sl_h1_err e, size_t off)
{
	p->msg.err = e;
	p->msg.err_status = sl_h1_err_status(e, (enum sl_h1_kind)p->kind);
	p->msg.err_off = (uint32_t)off;
	p->phase = PH_ERR;
	return -EBADMSG;
}

/* May byte i be read?  L_OK, L_MORE, or past the header block limit. */
static int at(struct sl_h1_parser *p, size_t len, size_t i)
{
	if (i >= p->lim.header_bytes)
		return i < len ? fail(p, SL_H1_E_HEADERS_TOO_LARGE, i) : L_MORE;
	return i < len ? L_OK : L_MORE;
}

/* The line being read: where its content must end (lend) and which error
 * says it did not. */
struct line {
	struct sl_h1_parser *p;
	const uint8_t *buf;
	size_t len, lend;
	enum sl_h1_err long_err;
};

/* Scan bytes of class cls from *pi, stopping before lend and before the
 * buffer or block ends.  On L_OK *pi is a byte that may be read and is not
 * content of cls, unless it sits at lend: then the line is too long. */
static int scan(const struct line *l, size_t *pi, unsigned cls)
{
	size_t i = *pi, end = l->len < l->lend ? l->len : l->lend;
	while (i < end && h1_is(l->buf[i], cls))
		i++;
	*pi = i;
	int r = at(l->p, l->len, i);
	if (r != L_OK)
		return r;
	if (i >= l->lend && h1_is(l->buf[i], cls))
		return fail(l->p, l->long_err, i);
	return L_OK;
}

static struct line line_at(struct sl_h1_parser *p, const uint8_t *buf, size_t len, uint32_t max,
			   enum sl_h1_err long_err)
{
	return (struct line){ p, buf, len, (size_t)p->pos + max, long_err };
}

/* buf[i] ended a line's content: CRLF completes it (*next after LF); a bare
 * CR or LF is an error; any other byte is bad_err. */
static int eol(struct sl_h1_parser *p, const uint8_t *buf, size_t len, size_t i, size_t *next,
	       enum sl_h1_err bad_err)
{
	if (buf[i] == '\n')
		return fail(p, SL_H1_E_BARE_LF, i);
	if (buf[i] != '\r')
		return fail(p, bad_err, i);
	int r = at(p, len, i + 1);
	if (r != L_OK)
		return r;
	if (buf[i + 1] != '\n')
		return fail(p, SL_H1_E_BARE_CR, i);
	*next = i + 2;
	return L_OK;
}

static enum sl_h1_method method_id(const uint8_t *s, size_t n)
{
#define M(lit, id) if (n == sizeof(lit) - 1 && !memcmp(s, lit, n)) return id
	switch (n) {
	case 3:
		M("GET", SL_H1_M_GET);
		M("PUT", SL_H1_M_PUT);
		break;
	case 4:
		M("HEAD", SL_H1_M_HEAD);
		M("POST", SL_H1_M_POST);
		break;
	case 5:
		M("TRACE", SL_H1_M_TRACE);
		M("PATCH", SL_H1_M_PATCH);
		break;
	case 6:
		M("DELETE", SL_H1_M_DELETE);
		break;
	case 7:
		M("CONNECT", SL_H1_M_CONNECT);
		M("OPTIONS", SL_H1_M_OPTIONS);
		break;
	}
#undef M
	return SL_H1_M_OTHER;
}

/* "HTTP/" DIGIT "." DIGIT; 1.0 and 1.1 only. */
static int version(struct sl_h1_parser *p, const uint8_t *s, size_t n, size_t off)
{
	if (n != 8 || memcmp(s, "HTTP/", 5) || s[5] < '0' || s[5] > '9' || s[6] != '.' ||
	    s[7] < '0' || s[7] > '9')
		return fail(p, SL_H1_E_VERSION, off);
	if (s[5] != '1' || s[7] > '1')
		return fail(p, SL_H1_E_VERSION_UNSUPPORTED, off);
	p->msg.minor = (uint8_t)(s[7] - '0');
	return L_OK;
}

/* Classify the request-target (RFC 9112 3.2) and find the authority. */
static int target(struct sl_h1_parser *p, const uint8_t *buf, size_t ts, size_t n)
{
	struct sl_h1_msg *m = &p->msg;
	const uint8_t *t = buf + ts;
	if (m->meth == SL_H1_M_CONNECT) {
		/* authority-form only; the port is required (RFC 9110 9.3.6) */
		const uint8_t *colon = memrchr(t, ':', n), *rb = memrchr(t, ']', n);
		if (!colon || (rb && colon < rb) || colon == t + n - 1 || !h1_host_valid(t, n))
			return fail(p, SL_H1_E_TARGET, ts);
		m->form = SL_H1_T_AUTHORITY;
		m->host = h1_span(ts, n);
		m->path = h1_span(ts + n, 0);
		return L_OK;
	}
	if (t[0] == '/') {
		m->form = SL_H1_T_ORIGIN;
		m->path = h1_span(ts, n);
		return L_OK;
	}
	if (n == 1 && t[0] == '*') {
		if (m->meth != SL_H1_M_OPTIONS)
			return fail(p, SL_H1_E_TARGET, ts);
		m->form = SL_H1_T_ASTERISK;
		m->path = h1_span(ts, n);
		return L_OK;
	}
	/* absolute-form: only the schemes this proxy can route */
	size_t a;
	if (n > 7 && H1_IEQ(t, 7, "http://"))
		a = 7;
	else if (n > 8 && H1_IEQ(t, 8, "https://"))
		a = 8;
	else
		return fail(p, SL_H1_E_TARGET, ts);
	size_t e = a;
	while (e < n && t[e] != '/' && t[e] != '?')
		e++;
	/* userinfo ('@' is outside reg-name) and an empty host fail here */
	if (!h1_host_valid(t + a, e - a))
		return fail(p, SL_H1_E_TARGET, ts + a);
	m->form = SL_H1_T_ABSOLUTE;
	m->host = h1_span(ts + a, e - a);
	m->path = h1_span(ts + e, n - e);
	return L_OK;
}

static int request_line(struct sl_h1_parser *p, const uint8_t *buf, size_t len)
{
	struct sl_h1_msg *m = &p->msg;
	const struct line l = line_at(p, buf, len, p->lim.start_line, SL_H1_E_START_LINE_LONG);
	size_t ls = p->pos, i = ls, next;
	int r;
	if ((r = scan(&l, &i, CC_TCHAR)) != L_OK)
		return r;
	if (buf[i] != ' ' || i == ls)
		return fail(p, SL_H1_E_METHOD, i);
	m->method = h1_span(ls, i - ls);
	m->meth = method_id(buf + ls, i - ls);
	size_t ts = ++i;
	if ((r = scan(&l, &i, CC_TARGET)) != L_OK)
		return r;
	if (buf[i] != ' ' || i == ts)
		return fail(p, SL_H1_E_TARGET, i);
	size_t vs = ++i;
	if ((r = scan(&l, &i, CC_VCHAR)) != L_OK ||
	    (r = eol(p, buf, len, i, &next, SL_H1_E_VERSION)) != L_OK ||
	    (r = version(p, buf + vs, i - vs, vs)) != L_OK)
		return r;
	m->target = h1_span(ts, vs - 1 - ts);
	if ((r = target(p, buf, ts, vs - 1 - ts)) != L_OK)
		return r;
	p->pos = (uint32_t)next;
	return L_OK;
}

static int status_line(struct sl_h1_parser *p, const uint8_t *buf, size_t len)
{
	struct sl_h1_msg *m = &p->msg;
	const struct line l = line_at(p, buf, len, p->lim.start_line, SL_H1_E_START_LINE_LONG);
	size_t i = p->pos, next;
	int r;
	if ((r = scan(&l, &i, CC_VCHAR)) != L_OK)
		return r;
	if (buf[i] != ' ')
		return fail(p, SL_H1_E_VERSION, i);
	if ((r = version(p, buf + p->pos, i - p->pos, p->pos)) != L_OK)
		return r;
	size_t ss = ++i;
	if ((r = scan(&l, &i, CC_VCHAR)) != L_OK)
		return r;
	const uint8_t *s = buf + ss;
	if (i - ss != 3 || s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' ||
	    s[2] > '9')
		return fail(p, SL_H1_E_STATUS, ss);
	m->status = (uint16_t)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
	/* The SP before an empty reason is required by the grammar but widely
	 * omitted; its absence cannot change how the message is framed. */
	size_t rs = i;
	if (buf[i] == ' ') {
		rs = ++i;
		if ((r = scan(&l, &i, CC_FIELD)) != L_OK)
			return r;
	}
	if ((r = eol(p, buf, len, i, &next, SL_H1_E_STATUS)) != L_OK)
		return r;
	m->reason = h1_span(rs, i - rs);
	p->pos = (uint32_t)next;
	return L_OK;
}

/* Content-Length = 1*DIGIT, below 2^63 so that it fits every consumer. */
static bool parse_cl(const uint8_t *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_C(0x7fffffffffffffff) - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool known_coding(const uint8_t *s, size_t n)
{
	/* The registered codings a proxy can pass through; "identity" was
	 * removed from the registry by RFC 7230 and is unknown here. */
	return H1_IEQ(s, n, "gzip") || H1_IEQ(s, n, "x-gzip") || H1_IEQ(s, n, "deflate") ||
	       H1_IEQ(s, n, "compress") || H1_IEQ(s, n, "x-compress");
}

/* Calls fn for each element of a list value.  Returns the element count,
 * or -EBADMSG (fn's verdict, or bad for an unterminated quoted string; bad
 * SL_H1_E_NONE ignores it). */
typedef int (*elem_fn)(struct sl_h1_parser *p, const uint8_t *s, struct sl_h1_span e, uint32_t tl);
static int field_list(struct sl_h1_parser *p, const uint8_t *buf, struct sl_h1_span v, elem_fn fn,
		      enum sl_h1_err bad)
{
	struct sl_h1_list it;
	struct sl_h1_span e;
	uint32_t tl;
	int r, n = 0;
	sl_h1_list_init(&it, buf, v);
	while ((r = sl_h1_list_next(&it, &e, &tl)) > 0) {
		if ((r = fn(p, buf + e.off, e, tl)) != L_OK)
			return r;
		n++;
	}
	if (r < 0 && bad != SL_H1_E_NONE)
		return fail(p, bad, v.off);
	return n;
}

static int te_elem(struct sl_h1_parser *p, const uint8_t *s, struct sl_h1_span e, uint32_t tl)
{
	/* No registered transfer coding takes parameters; parameters on
	 * chunked are a known desync vector. */
	if (tl != e.len)
		return fail(p, SL_H1_E_TE_INVALID, e.off);
	if (H1_IEQ(s, e.len, "chunked")) {
		if (p->te_chunked)
			return fail(p, SL_H1_E_TE_CHUNKED_TWICE, e.off);
		p->te_chunked = p->te_last_chunked = true;
		return L_OK;
	}
	p->te_last_chunked = false;
	if (!known_coding(s, e.len))
		p->te_unknown = true;
	return L_OK;
}

static int connection_elem(struct sl_h1_parser *p, const uint8_t *s, struct sl_h1_span e,
			   uint32_t tl)
{
	if (tl != e.len)
		return fail(p, SL_H1_E_FIELD_LIST, e.off);
	if (H1_IEQ(s, e.len, "close"))
		p->conn_close = true;
	else if (H1_IEQ(s, e.len, "keep-alive"))
		p->conn_keepalive = true;
	else if (H1_IEQ(s, e.len, "upgrade"))
		p->conn_upgrade = true;
	return L_OK;
}

/* Upgrade = #protocol, protocol = token [ "/" token ] */
static int upgrade_elem(struct sl_h1_parser *p, const uint8_t *s, struct sl_h1_span e, uint32_t tl)
{
	if (tl == 0)
		return fail(p, SL_H1_E_FIELD_LIST, e.off);
	if (tl < e.len) {
		size_t j = tl + 1;
		while (j < e.len && h1_is(s[j], CC_TCHAR))
			j++;
		if (s[tl] != '/' || j == tl + 1 || j != e.len)
			return fail(p, SL_H1_E_FIELD_LIST, e.off);
	}
	if (H1_IEQ(s, tl, "websocket"))
		p->upgrade_ws = true;
	return L_OK;
}

/* Other expectations are not ours to judge (a MAY-417); they pass. */
static int expect_elem(struct sl_h1_parser *p, const uint8_t *s, struct sl_h1_span e, uint32_t tl)
{
	(void)tl;
	if (H1_IEQ(s, e.len, "100-continue"))
		p->expect_100 = true;
	return L_OK;
}

/* What one field line means for framing and routing. */
static int field_semantics(struct sl_h1_parser *p, const uint8_t *buf, struct sl_h1_header *h)
{
	struct sl_h1_msg *m = &p->msg;
	const uint8_t *v = buf + h->value.off;
	switch (h->id) {
	case SL_H1_H_CONTENT_LENGTH: {
		uint64_t cl;
		/* A list ("5, 5") is allowed to be rejected (RFC 9110 8.6) and no
		 * conforming sender produces one: only plain digits pass. */
		if (!parse_cl(v, h->value.len, &cl))
			return fail(p, SL_H1_E_CL_INVALID, h->value.off);
		if (m->has_content_length && cl != m->content_length)
			return fail(p, SL_H1_E_CL_CONFLICT, h->value.off);
		m->has_content_length = true;
		m->content_length = cl;
		return L_OK;
	}
	case SL_H1_H_TRANSFER_ENCODING: {
		m->has_transfer_encoding = true;
		int n = field_list(p, buf, h->value, te_elem, SL_H1_E_TE_INVALID);
		return n == 0 ? fail(p, SL_H1_E_TE_INVALID, h->value.off) : n < 0 ? n : L_OK;
	}
	case SL_H1_H_CONNECTION: {
		int n = field_list(p, buf, h->value, connection_elem, SL_H1_E_FIELD_LIST);
		return n < 0 ? n : L_OK;
	}
	case SL_H1_H_UPGRADE: {
		p->upgrade_hdr = true;
		int n = field_list(p, buf, h->value, upgrade_elem, SL_H1_E_FIELD_LIST);
		return n < 0 ? n : L_OK;
	}
	case SL_H1_H_HOST:
		if (p->kind != SL_H1_REQUEST)
			return L_OK;
		if (++p->n_host > 1)
			return fail(p, SL_H1_E_HOST_DUP, h->name.off);
		if (!h1_host_valid(v, h->value.len))
			return fail(p, SL_H1_E_HOST_INVALID, h->value.off);
		p->host_hdr = h->value;
		return L_OK;
	case SL_H1_H_EXPECT:
		field_list(p, buf, h->value, expect_elem, SL_H1_E_NONE);
		return L_OK;
	default:
		return L_OK;
	}
}

static int field_line(struct sl_h1_parser *p, const uint8_t *buf, size_t len)
{
	struct sl_h1_msg *m = &p->msg;
	const struct line l = line_at(p, buf, len, p->lim.header_line, SL_H1_E_HEADER_LINE_LONG);
	size_t ls = p->pos, i = ls;
	/* RFC 9112 5.2 / 2.2: reject obs-fold and whitespace before the first
	 * field rather than guess what the next hop makes of it. */
	if (h1_is(buf[i], CC_WS))
		return fail(p, SL_H1_E_OBS_FOLD, i);
	if (m->n_hdrs >= p->cap)
		return fail(p, SL_H1_E_TOO_MANY_HEADERS, i);
	int r = scan(&l, &i, CC_TCHAR);
	if (r != L_OK)
		return r;
	if (buf[i] != ':' || i == ls) {
		/* RFC 9112 5.1: whitespace before the colon MUST be rejected. */
		if (i > ls && h1_is(buf[i], CC_WS))
			return fail(p, SL_H1_E_FIELD_NAME_WS, i);
		return fail(p, SL_H1_E_FIELD_NAME, i);
	}
	size_t ne = i++;
	size_t next;
	if ((r = scan(&l, &i, CC_FIELD)) != L_OK ||
	    (r = eol(p, buf, len, i, &next, SL_H1_E_FIELD_VALUE)) != L_OK)
		return r;
	size_t vs = ne + 1, ve = i;
	while (vs < ve && h1_is(buf[vs], CC_WS))
		vs++;
	while (ve > vs && h1_is(buf[ve - 1], CC_WS))
		ve--;
	struct sl_h1_header *h = &m->hdrs[m->n_hdrs];
	h->name = h1_span(ls, ne - ls);
	h->value = h1_span(vs, ve - vs);
	h->id = sl_h1_hdr_id(buf + ls, ne - ls);
	if ((r = field_semantics(p, buf, h)) != L_OK)
		return r;
	m->n_hdrs++;
	p->pos = (uint32_t)next;
	return L_OK;
}

static int finish_request(struct sl_h1_parser *p, size_t off)
{
	struct sl_h1_msg *m = &p->msg;
	if (m->minor == 1 && p->n_host == 0)
		return fail(p, SL_H1_E_HOST_MISSING, off);
	if (m->form != SL_H1_T_ABSOLUTE && m->form != SL_H1_T_AUTHORITY)
		m->host = p->host_hdr;
	if (m->meth == SL_H1_M_CONNECT && (m->has_transfer_encoding || m->has_content_length))
		return fail(p, SL_H1_E_CONNECT_BODY, off);
	if (m->has_transfer_encoding) {
		/* RFC 9112 6.1: faulty framing in 1.0; 6.3: TE with CL is a
		 * smuggling attempt for a proxy; then 501 before 400 as 6.1 asks. */
		if (m->minor == 0)
			return fail(p, SL_H1_E_TE_HTTP10, off);
		if (m->has_content_length)
			return fail(p, SL_H1_E_TE_WITH_CL, off);
		if (p->te_unknown)
			return fail(p, SL_H1_E_TE_UNKNOWN, off);
		if (!p->te_last_chunked)
			return fail(p, SL_H1_E_TE_NOT_CHUNKED, off);
		m->body = SL_H1_BODY_CHUNKED;
	} else {
		m->body = m->has_content_length ? SL_H1_BODY_LENGTH : SL_H1_BODY_NONE;
	}
	/* Upgrade and 100-continue do not exist in 1.0 (RFC 9110 7.8, 10.1.1). */
	m->upgrade = m->minor == 1 && p->upgrade_hdr && p->conn_upgrade;
	m->websocket = m->upgrade && p->upgrade_ws;
	m->expect_continue = m->minor == 1 && p->expect_100;
	return L_OK;
}

static int finish_response(struct sl_h1_parser *p, size_t off)
{
	struct sl_h1_msg *m = &p->msg;
	uint16_t st = m->status;
	if (m->has_transfer_encoding && m->minor == 0)
		return fail(p, SL_H1_E_TE_HTTP10, off);
	if (p->req_method == SL_H1_M_HEAD || st < 200 || st == 204 || st == 304) {
		m->body = SL_H1_BODY_NONE;
	} else if (p->req_method == SL_H1_M_CONNECT && st < 300) {
		m->body = SL_H1_BODY_TUNNEL;
	} else if (m->has_transfer_encoding) {
		/* RFC 9112 6.3: TE wins over CL, and such a server cannot be
		 * trusted with another message on this connection. */
		m->body = p->te_last_chunked ? SL_H1_BODY_CHUNKED : SL_H1_BODY_CLOSE;
		if (m->has_content_length || !p->te_last_chunked)
			m->keep_alive = false;
	} else if (m->has_content_length) {
		m->body = SL_H1_BODY_LENGTH;
	} else {
		m->body = SL_H1_BODY_CLOSE;
		m->keep_alive = false;
	}
	m->upgrade = st == 101;
	m->websocket = m->upgrade && p->upgrade_ws;
	return L_OK;
}

int sl_h1_parse(struct sl_h1_parser *p, const uint8_t *buf, size_t len)
{
	struct sl_h1_msg *m = &p->msg;
	int r;
	if (p->phase == PH_DONE)
		return (int)m->head_len;
	if (p->phase == PH_ERR)
		return -EBADMSG;
	if (len < p->pos)
		return -EINVAL;
	if (p->phase == PH_START) {
		if (p->kind == SL_H1_REQUEST) {
			/* RFC 9112 2.2: ignore empty lines before a request line
			 * (a client's stray CRLF after a body). */
			while ((r = at(p, len, p->pos)) == L_OK && buf[p->pos] == '\r') {
				size_t next;
				if ((r = eol(p, buf, len, p->pos, &next, SL_H1_E_METHOD)) != L_OK)
					break;
				p->pos = (uint32_t)next;
			}
			if (r == L_OK)
				r = request_line(p, buf, len);
		} else {
			r = at(p, len, p->pos);
			if (r == L_OK)
				r = status_line(p, buf, len);
		}
		if (r != L_OK)
			return r == L_MORE ? -EAGAIN : r;
		p->phase = PH_FIELDS;
	}
	for (;;) {
		if ((r = at(p, len, p->pos)) != L_OK)
			return r == L_MORE ? -EAGAIN : r;
		if (buf[p->pos] == '\r' || buf[p->pos] == '\n') {
			size_t next;
			if ((r = eol(p, buf, len, p->pos, &next, SL_H1_E_FIELD_NAME)) != L_OK)
				return r == L_MORE ? -EAGAIN : r;
			m->keep_alive = m->minor == 1 ? !p->conn_close
						     : p->conn_keepalive && !p->conn_close;
			r = p->kind == SL_H1_REQUEST ? finish_request(p, p->pos)
						     : finish_response(p, p->pos);
			if (r != L_OK)
				return r;
			m->head_len = (uint32_t)next;
			p->pos = (uint32_t)next;
			p->phase = PH_DONE;
			return (int)next;
		}
		if ((r = field_line(p, buf, len)) != L_OK)
			return r == L_MORE ? -EAGAIN : r;
	}
}
