/* Private: bounded HTTP/1.x request-head parser (pure function, fuzzed). */
#ifndef SL_HTTP_H
#define SL_HTTP_H
#include <stdbool.h>
#include <stddef.h>

struct sl_http_limits {
	size_t max_line;        /* request line, bytes incl. CRLF -> 414 */
	size_t max_head;        /* request line + headers -> 431 */
	unsigned max_headers;   /* header count -> 431 */
	size_t max_body;        /* Content-Length -> 413 */
};
extern const struct sl_http_limits sl_http_default_limits;

struct sl_http_req {
	char method[8];
	const char *path;       /* into the buffer, not terminated; without query */
	size_t path_len;
	const char *query;      /* after '?', or NULL */
	size_t query_len;
	int minor;              /* HTTP/1.<minor> */
	size_t head_len;        /* bytes of request line + headers incl. the empty line */
	size_t content_length;
	bool keep_alive, expect_continue;
	char if_match[96];
	char accept[64];
};

/* 0: need more bytes; >0: head complete (= head_len); <0: -HTTP status to answer (then close). */
int sl_http_parse(const char *buf, size_t len, const struct sl_http_limits *lim, struct sl_http_req *r);

/* Percent-decodes s[0..n) into out (NUL-terminated; '+' is a space; a '%' without two hex digits is
   kept). Returns the decoded length, -EILSEQ when the result holds a control byte (a %00 would cut a
   name short and name another object), -ENAMETOOLONG when it needs more than cap - 1 bytes. */
int sl_http_pct_decode(const char *s, size_t n, char *out, size_t cap);
/* Whether s[0..n) holds a control byte (< 0x20 or 0x7f), which no name may contain. */
bool sl_has_ctl_byte(const char *s, size_t n);
#endif
