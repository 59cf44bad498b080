/* Chunked transfer coding (RFC 9112 7.1) as a byte-at-a-time state machine
 * over the framing and a span per run of data, so it resumes anywhere: in
 * a size, inside an extension's quoted string, between CR and LF.
 *
 * chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
 * Whitespace is accepted only where BWS allows it, so "1 \r\n" (whitespace
 * with no extension after it) is an error, as it is for the stricter
 * backends: a proxy that accepted it would read a body they do not.
 */
#include <errno.h>

#include "h1_priv.h"

enum {
	C_SIZE0,    /* first hex digit */
	C_SIZE,
	C_EXT_WS,   /* BWS: must lead to ';' */
	C_EXT_NAME0,
	C_EXT_NAME,
	C_EXT_NAME_WS,
	C_EXT_VAL0,
	C_EXT_VAL,
	C_EXT_QS,
	C_EXT_QP,
	C_EXT_QEND, /* after a quoted value: as C_SIZE, no more token bytes */
	C_SIZE_LF,
	C_DATA,
	C_DATA_CR,
	C_DATA_LF,
	C_TRL_START,
	C_TRL_NAME,
	C_TRL_VAL,
	C_TRL_LF,
	C_END_LF,
	C_DONE,
	C_ERR
};

void sl_h1_chunked_init(struct sl_h1_chunked *c, const struct sl_h1_limits *lim)
{
	*c = (struct sl_h1_chunked){ 0 };
	c->max_ext = lim && lim->chunk_ext ? lim->chunk_ext : SL_H1_DEF_CHUNK_EXT;
	c->max_trailer = lim && lim->trailer_bytes ? lim->trailer_bytes : SL_H1_DEF_TRAILER_BYTES;
}

static int cfail(struct sl_h1_chunked *c, enum sl_h1_err e)
{
	c->err = e;
	c->state = C_ERR;
	return -EBADMSG;
}

/* One framing byte in an extension or size-line state. */
static int ext_byte(struct sl_h1_chunked *c, uint8_t b)
{
	bool ws = h1_is(b, CC_WS), tc = h1_is(b, CC_TCHAR);
	switch (c->state) {
	case C_SIZE:
	case C_EXT_VAL:
	case C_EXT_QEND:
		if (tc && c->state == C_EXT_VAL)
			return 0;
		if (b == '\r')
			c->state = C_SIZE_LF;
		else if (b == ';')
			c->state = C_EXT_NAME0;
		else if (ws)
			c->state = C_EXT_WS;
		else
			return cfail(c, c->state == C_SIZE ? SL_H1_E_CHUNK_SIZE : SL_H1_E_CHUNK_EXT);
		return 0;
	case C_EXT_WS:
		if (b == ';')
			c->state = C_EXT_NAME0;
		else if (!ws)
			return cfail(c, SL_H1_E_CHUNK_EXT);
		return 0;
	case C_EXT_NAME0:
		if (tc)
			c->state = C_EXT_NAME;
		else if (!ws)
			return cfail(c, SL_H1_E_CHUNK_EXT);
		return 0;
	case C_EXT_NAME:
	case C_EXT_NAME_WS:
		if (tc && c->state == C_EXT_NAME)
			return 0;
		if (b == '=')
			c->state = C_EXT_VAL0;
		else if (b == ';')
			c->state = C_EXT_NAME0;
		else if (b == '\r' && c->state == C_EXT_NAME)
			c->state = C_SIZE_LF;
		else if (ws)
			c->state = C_EXT_NAME_WS;
		else
			return cfail(c, SL_H1_E_CHUNK_EXT);
		return 0;
	case C_EXT_VAL0:
		if (b == '"')
			c->state = C_EXT_QS;
		else if (tc)
			c->state = C_EXT_VAL;
		else if (!ws)
			return cfail(c, SL_H1_E_CHUNK_EXT);
		return 0;
	case C_EXT_QS:
		if (b == '"')
			c->state = C_EXT_QEND;
		else if (b == '\\')
			c->state = C_EXT_QP;
		else if (!h1_is(b, CC_QDTEXT))
			return cfail(c, SL_H1_E_CHUNK_EXT);
		return 0;
	case C_EXT_QP:
		if (!h1_is(b, CC_FIELD))
			return cfail(c, SL_H1_E_CHUNK_EXT);
		c->state = C_EXT_QS;
		return 0;
	}
	return cfail(c, SL_H1_E_CHUNK_EXT);
}

/* One byte of the trailer section (field lines, then CRLF). */
static int trailer_byte(struct sl_h1_chunked *c, uint8_t b)
{
	if (++c->n > c->max_trailer)
		return cfail(c, SL_H1_E_TRAILER_LONG);
	switch (c->state) {
	case C_TRL_START:
		if (b == '\r')
			c->state = C_END_LF;
		else if (h1_is(b, CC_TCHAR))
			c->state = C_TRL_NAME;
		else
			return cfail(c, SL_H1_E_TRAILER); /* obs-fold, bare LF, bad name */
		return 0;
	case C_TRL_NAME:
		if (b == ':')
			c->state = C_TRL_VAL;
		else if (!h1_is(b, CC_TCHAR))
			return cfail(c, SL_H1_E_TRAILER);
		return 0;
	case C_TRL_VAL:
		if (b == '\r')
			c->state = C_TRL_LF;
		else if (!h1_is(b, CC_FIELD))
			return cfail(c, SL_H1_E_TRAILER);
		return 0;
	case C_TRL_LF:
		if (b != '\n')
			return cfail(c, SL_H1_E_TRAILER);
		c->state = C_TRL_START;
		return 0;
	}
	return cfail(c, SL_H1_E_TRAILER);
}

int sl_h1_chunked_feed(struct sl_h1_chunked *c, const uint8_t *buf, size_t len, size_t *used,
		       struct sl_h1_span *data)
{
	size_t i = 0;
	int r = 0;
	*data = (struct sl_h1_span){ 0, 0 };
	*used = 0;
	if (c->state == C_DONE)
		return 1;
	if (c->state == C_ERR)
		return -EBADMSG;
	while (i < len) {
		if (c->state == C_DATA) {
			size_t take = len - i;
			if (take > c->left)
				take = (size_t)c->left;
			if (take > UINT32_MAX)
				take = UINT32_MAX;
			*data = h1_span(i, take);
			c->left -= take;
			if (!c->left)
				c->state = C_DATA_CR;
			*used = i + take;
			return 0;
		}
		uint8_t b = buf[i++];
		switch (c->state) {
		case C_SIZE0:
		case C_SIZE:
			if (h1_is(b, CC_HEX)) {
				/* 16 digits, value below 2^63: what a signed 64-bit
				 * length holds, and no parser downstream wraps. */
				if (++c->digits > 16 || (c->left >> 59))
					return cfail(c, SL_H1_E_CHUNK_SIZE_LONG);
				unsigned d = b <= '9' ? (unsigned)(b - '0') : (unsigned)((b | 0x20) - 'a' + 10);
				c->left = (c->left << 4) | d;
				c->state = C_SIZE;
				break;
			}
			if (c->state == C_SIZE0)
				return cfail(c, SL_H1_E_CHUNK_SIZE);
			c->n = b != '\r';
			r = ext_byte(c, b);
			break;
		case C_SIZE_LF:
			if (b != '\n')
				return cfail(c, SL_H1_E_CHUNK_SIZE);
			c->digits = 0;
			c->n = 0;
			c->state = c->left ? C_DATA : C_TRL_START;
			break;
		case C_DATA_CR:
		case C_DATA_LF:
			if (b != (c->state == C_DATA_CR ? '\r' : '\n'))
				return cfail(c, SL_H1_E_CHUNK_CRLF);
			c->state = c->state == C_DATA_CR ? C_DATA_LF : C_SIZE0;
			break;
		case C_END_LF:
			if (b != '\n')
				return cfail(c, SL_H1_E_TRAILER);
			c->state = C_DONE;
			*used = i;
			return 1;
		case C_TRL_START:
		case C_TRL_NAME:
		case C_TRL_VAL:
		case C_TRL_LF:
			r = trailer_byte(c, b);
			break;
		default:
			/* extension states; the CR that ends the line is not counted */
			if (b != '\r' && ++c->n > c->max_ext)
				return cfail(c, SL_H1_E_CHUNK_EXT_LONG);
			r = ext_byte(c, b);
			break;
		}
		if (r < 0)
			return r;
	}
	*used = i;
	return 0;
}
