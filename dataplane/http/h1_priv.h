/* Private to dataplane/http: character classes and shared helpers. */
#ifndef H1_PRIV_H
#define H1_PRIV_H

#include "sl_h1.h"

/* One table lookup per byte classifies it for every grammar the parser
 * scans (sl_h1_cc[], built at compile time from the RFC rules in h1_util.c). */
enum {
	CC_TCHAR  = 1 << 0, /* token (RFC 9110 5.6.2) */
	CC_FIELD  = 1 << 1, /* inside a field value / reason: VCHAR, obs-text, SP, HTAB */
	CC_TARGET = 1 << 2, /* request-target: VCHAR except '#' (no fragment on the wire) */
	CC_HEX    = 1 << 3,
	CC_REG    = 1 << 4, /* reg-name: unreserved, sub-delims, '%' (RFC 3986 3.2.2) */
	CC_WS     = 1 << 5, /* SP, HTAB */
	CC_QDTEXT = 1 << 6, /* quoted-string text: FIELD minus '"' and '\' */
	CC_VCHAR  = 1 << 7
};

extern const uint8_t sl_h1_cc[256];
extern const uint8_t sl_h1_lower[256];

static inline bool h1_is(uint8_t c, unsigned cls)
{
	return (sl_h1_cc[c] & cls) != 0;
}

/* ASCII case-insensitive equality with a lowercase literal. */
static inline bool h1_ieq_lit(const uint8_t *s, size_t n, const char *lit, size_t litn)
{
	if (n != litn)
		return false;
	for (size_t i = 0; i < n; i++)
		if (sl_h1_lower[s[i]] != (uint8_t)lit[i])
			return false;
	return true;
}
#define H1_IEQ(s, n, lit) h1_ieq_lit((s), (n), lit, sizeof(lit) - 1)

/* uri-host [ ":" port ] (RFC 9110 7.2, RFC 3986 3.2.2); non-empty host. */
bool h1_host_valid(const uint8_t *s, size_t n);

static inline struct sl_h1_span h1_span(size_t off, size_t len)
{
	return (struct sl_h1_span){ (uint32_t)off, (uint32_t)len };
}

#endif
