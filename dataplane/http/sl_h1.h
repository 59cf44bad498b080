/* sl_h1: strict HTTP/1.1 message parser (RFC 9112 / RFC 9110).
 *
 * The header block of a request or a response is parsed from one contiguous
 * buffer the caller owns; the result is offsets into that buffer, never
 * copies.  The parser is incremental: call sl_h1_parse() again each time the
 * buffer has grown (it must hold the same bytes from its start; it may have
 * moved), it resumes at the first line it had not finished.  Errors are
 * decided by the first offending byte, so feeding a message in pieces gives
 * the same verdict as feeding it in one go.  The body is the caller's: the
 * message says how it is framed, sl_h1_chunked_*() decodes chunked framing
 * across any number of buffers.
 *
 * No heap, no I/O, no global state besides constant tables.  docs/http.md
 * lists what is rejected and why.
 */
#ifndef SL_H1_H
#define SL_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A byte range of the caller's buffer. */
struct sl_h1_span {
	uint32_t off;
	uint32_t len;
};

/* Bounds.  A zero field means the default (SL_H1_DEF_*).  Line lengths do
 * not count the CRLF; header_bytes counts the whole block from the first
 * byte of the start line (or of leading empty lines) to the final CRLF. */
struct sl_h1_limits {
	uint32_t start_line;   /* request line (414) / status line */
	uint32_t header_line;  /* one field line, name to end of value (431) */
	uint32_t headers;      /* field lines (431) */
	uint32_t header_bytes; /* the whole header block (431) */
	uint32_t chunk_ext;    /* extension bytes on one chunk-size line */
	uint32_t trailer_bytes;/* the whole trailer section */
};
#define SL_H1_DEF_START_LINE    8192u
#define SL_H1_DEF_HEADER_LINE   8192u
#define SL_H1_DEF_HEADERS       100u
#define SL_H1_DEF_HEADER_BYTES  32768u
#define SL_H1_DEF_CHUNK_EXT     256u
#define SL_H1_DEF_TRAILER_BYTES 8192u
/* Larger values are clamped so that offsets and the head length fit. */
#define SL_H1_MAX_LIMIT         (1u << 30)

/* Why a message was rejected (sl_h1_msg.err, sl_h1_chunked.err). */
enum sl_h1_err {
	SL_H1_E_NONE = 0,
	SL_H1_E_START_LINE_LONG,  /* 414 */
	SL_H1_E_HEADER_LINE_LONG, /* 431 */
	SL_H1_E_TOO_MANY_HEADERS, /* 431 */
	SL_H1_E_HEADERS_TOO_LARGE,/* 431 */
	SL_H1_E_METHOD,           /* empty method or a non-token byte in it */
	SL_H1_E_TARGET,           /* bad byte, form, scheme, userinfo or authority */
	SL_H1_E_VERSION,          /* not "HTTP/" DIGIT "." DIGIT, or junk after it */
	SL_H1_E_VERSION_UNSUPPORTED, /* 505: well-formed but not 1.0 / 1.1 */
	SL_H1_E_STATUS,           /* status code not 3 digits in 100..599, bad reason */
	SL_H1_E_BARE_CR,          /* CR not followed by LF */
	SL_H1_E_BARE_LF,          /* LF without CR: rejected everywhere (docs/http.md) */
	SL_H1_E_OBS_FOLD,         /* line folding, or whitespace before the first field */
	SL_H1_E_FIELD_NAME,       /* empty name, non-token byte, no colon */
	SL_H1_E_FIELD_NAME_WS,    /* whitespace between name and colon */
	SL_H1_E_FIELD_VALUE,      /* NUL / control byte / DEL in a value */
	SL_H1_E_FIELD_LIST,       /* Connection / Upgrade element is not a token */
	SL_H1_E_CL_INVALID,       /* Content-Length not 1*DIGIT or > INT64_MAX */
	SL_H1_E_CL_CONFLICT,      /* Content-Length lines with different values */
	SL_H1_E_TE_INVALID,       /* empty Transfer-Encoding, parameters, bad token */
	SL_H1_E_TE_UNKNOWN,       /* 501: a transfer coding we do not implement */
	SL_H1_E_TE_NOT_CHUNKED,   /* request whose final transfer coding is not chunked */
	SL_H1_E_TE_CHUNKED_TWICE, /* chunked applied more than once */
	SL_H1_E_TE_WITH_CL,       /* request with Transfer-Encoding and Content-Length */
	SL_H1_E_TE_HTTP10,        /* Transfer-Encoding in an HTTP/1.0 message */
	SL_H1_E_HOST_MISSING,     /* HTTP/1.1 request without Host */
	SL_H1_E_HOST_DUP,         /* more than one Host line */
	SL_H1_E_HOST_INVALID,     /* Host (or a target's authority) is not uri-host [":" port] */
	SL_H1_E_CONNECT_BODY,     /* CONNECT with Content-Length or Transfer-Encoding */
	SL_H1_E_CHUNK_SIZE,       /* chunk size missing or not hex */
	SL_H1_E_CHUNK_SIZE_LONG,  /* more than 16 digits or >= 2^63 */
	SL_H1_E_CHUNK_EXT,        /* malformed chunk extension */
	SL_H1_E_CHUNK_EXT_LONG,   /* extension longer than limits.chunk_ext */
	SL_H1_E_CHUNK_CRLF,       /* chunk data not followed by CRLF */
	SL_H1_E_TRAILER,          /* malformed trailer field */
	SL_H1_E_TRAILER_LONG,     /* trailer section longer than limits.trailer_bytes */
	SL_H1_E_MAX
};

enum sl_h1_kind { SL_H1_REQUEST, SL_H1_RESPONSE };

/* Methods are case-sensitive (RFC 9110 9.1); anything else is OTHER. */
enum sl_h1_method {
	SL_H1_M_OTHER = 0, SL_H1_M_GET, SL_H1_M_HEAD, SL_H1_M_POST, SL_H1_M_PUT,
	SL_H1_M_DELETE, SL_H1_M_CONNECT, SL_H1_M_OPTIONS, SL_H1_M_TRACE, SL_H1_M_PATCH
};

/* RFC 9112 3.2 request-target forms. */
enum sl_h1_form { SL_H1_T_ORIGIN, SL_H1_T_ABSOLUTE, SL_H1_T_AUTHORITY, SL_H1_T_ASTERISK };

/* How the body is delimited (RFC 9112 6.3). */
enum sl_h1_body {
	SL_H1_BODY_NONE,    /* nothing follows the head */
	SL_H1_BODY_LENGTH,  /* content_length bytes (possibly 0) */
	SL_H1_BODY_CHUNKED, /* chunked framing: sl_h1_chunked_*() */
	SL_H1_BODY_CLOSE,   /* response: everything until the server closes */
	SL_H1_BODY_TUNNEL   /* 2xx to CONNECT: the connection becomes a tunnel */
};

/* Known field names, so the proxy does not compare strings again. */
enum sl_h1_hdr {
	SL_H1_H_OTHER = 0, SL_H1_H_HOST, SL_H1_H_CONTENT_LENGTH, SL_H1_H_TRANSFER_ENCODING,
	SL_H1_H_CONNECTION, SL_H1_H_UPGRADE, SL_H1_H_EXPECT, SL_H1_H_KEEP_ALIVE, SL_H1_H_TE,
	SL_H1_H_TRAILER, SL_H1_H_PROXY_CONNECTION, SL_H1_H_PROXY_AUTHENTICATE,
	SL_H1_H_PROXY_AUTHORIZATION
};

struct sl_h1_header {
	struct sl_h1_span name;
	struct sl_h1_span value; /* leading and trailing whitespace excluded */
	uint32_t id;             /* enum sl_h1_hdr */
};

struct sl_h1_msg {
	/* request line */
	struct sl_h1_span method, target;
	struct sl_h1_span path;  /* origin-form: the target; absolute-form: what follows the
	                          * authority (len 0 = "/"); asterisk: "*"; CONNECT: len 0 */
	enum sl_h1_method meth;
	enum sl_h1_form form;
	/* status line */
	uint16_t status;
	struct sl_h1_span reason;

	uint8_t minor;           /* HTTP/1.<minor> */
	/* Request authority: an absolute-form or authority-form target's, else
	 * Host's (RFC 9112 3.2.2); len 0 only for an HTTP/1.0 request without Host. */
	struct sl_h1_span host;

	enum sl_h1_body body;
	uint64_t content_length; /* SL_H1_BODY_LENGTH */
	bool keep_alive;         /* the connection may carry another message after this one */
	bool has_content_length, has_transfer_encoding;
	bool upgrade;            /* request: 1.1, Upgrade + "Connection: upgrade"; response: 101 */
	bool websocket;          /* upgrade and "websocket" listed in Upgrade */
	bool expect_continue;    /* 1.1 request with Expect: 100-continue */

	struct sl_h1_header *hdrs;
	uint32_t n_hdrs;
	uint32_t head_len;       /* bytes of the header block, CRLF CRLF included */

	/* after -EBADMSG */
	enum sl_h1_err err;
	uint16_t err_status;     /* what to answer: 400/414/431/501/505; 502 for a response */
	uint32_t err_off;        /* offset of the offending byte */
};

/* Parser state.  Fields under "private" are the parser's. */
struct sl_h1_parser {
	struct sl_h1_msg msg;
	/* responses: the method of the request being answered (HEAD and CONNECT
	 * change the framing); sl_h1_init sets GET, sl_h1_reset keeps it. */
	enum sl_h1_method req_method;
	/* private */
	struct sl_h1_limits lim;
	uint32_t cap, pos;
	uint8_t kind, phase, n_host;
	bool te_chunked, te_last_chunked, te_unknown, conn_close, conn_keepalive, conn_upgrade,
	     upgrade_hdr, upgrade_ws, expect_100;
	struct sl_h1_span host_hdr;
};

/* hdrs[cap] receives the field lines; more than min(cap, limits.headers)
 * lines is a 431.  lim NULL = defaults; it is copied. */
void sl_h1_init(struct sl_h1_parser *p, enum sl_h1_kind kind, const struct sl_h1_limits *lim,
		struct sl_h1_header *hdrs, uint32_t cap);
/* Ready for the next message on the connection (pipelining): parse it from
 * buf + head_len + body bytes; its offsets are relative to that point. */
void sl_h1_reset(struct sl_h1_parser *p);
/* Returns the head length (> 0) once the header block is complete and valid,
 * -EAGAIN when buf[0..len) does not hold all of it yet, -EBADMSG with
 * p->msg.err / err_status / err_off set, -EINVAL if len shrank since the
 * last call.  A finished parser returns the same result again. */
int sl_h1_parse(struct sl_h1_parser *p, const uint8_t *buf, size_t len);

/* Incremental chunked-body decoder; the state is a few words, the data is
 * never copied.  Feed it the bytes after the head, in as many pieces as
 * they arrive. */
struct sl_h1_chunked {
	uint64_t left;       /* private: data left in this chunk / size being read */
	uint32_t n;          /* private: bytes of this extension / of the trailers */
	uint32_t max_ext, max_trailer;
	uint8_t state, digits;
	enum sl_h1_err err;
};
void sl_h1_chunked_init(struct sl_h1_chunked *c, const struct sl_h1_limits *lim);
/* Consumes from buf[0..len) and sets *used.  At most one data span per call:
 * *data (offsets relative to buf) is body payload when data->len > 0; call
 * again with buf + *used for the rest.  Returns 1 when the last chunk and the
 * trailer section are complete (bytes after *used belong to the next
 * message), 0 when more input is needed or the call stopped after a data
 * span, -EBADMSG with c->err set.  Trailers are validated and bounded but not
 * reported. */
int sl_h1_chunked_feed(struct sl_h1_chunked *c, const uint8_t *buf, size_t len, size_t *used,
		       struct sl_h1_span *data);

/* Index of the first header at or after `from` whose name equals name
 * (ASCII case-insensitive), or -ENOENT. */
int sl_h1_find(const struct sl_h1_msg *m, const uint8_t *buf, const char *name, size_t len,
	       uint32_t from);

/* Iterator over a comma-separated list value (Connection, TE, Upgrade, ...):
 * empty elements are skipped (RFC 9110 5.6.1), quoted strings may hold
 * commas.  Spans are relative to buf. */
struct sl_h1_list {
	const uint8_t *buf;
	uint32_t pos, end;
};
void sl_h1_list_init(struct sl_h1_list *it, const uint8_t *buf, struct sl_h1_span value);
/* 1: *elem is the next element without surrounding whitespace and *tok_len
 * the length of its leading token (may be 0); 0: no more; -EBADMSG: an
 * unterminated quoted string. */
int sl_h1_list_next(struct sl_h1_list *it, struct sl_h1_span *elem, uint32_t *tok_len);

/* Whether a field must not be forwarded by a proxy: Connection, Keep-Alive,
 * TE, Trailer, Transfer-Encoding, Upgrade, Proxy-Connection,
 * Proxy-Authenticate, Proxy-Authorization, and every name listed in m's
 * Connection fields (m may be NULL: the fixed set only). */
bool sl_h1_is_hop_by_hop(const struct sl_h1_msg *m, const uint8_t *buf, const uint8_t *name,
			 size_t len);

/* Status to answer for an error: requests get 400/414/431/501/505,
 * responses (a broken server) 502. */
uint16_t sl_h1_err_status(enum sl_h1_err e, enum sl_h1_kind kind);
const char *sl_h1_err_name(enum sl_h1_err e);
enum sl_h1_hdr sl_h1_hdr_id(const uint8_t *name, size_t len);

#endif
