/* TCP header and option parsing/building. Pure functions; fuzzed by
 * tests/fuzz/tcp. */
#include <errno.h>
#include <string.h>

#include "sl_tcp.h"

enum { OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WS = 3, OPT_SACK_OK = 4, OPT_SACK = 5, OPT_TS = 8 };

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

int sl_tcp_parse_opts(const uint8_t *p, size_t len, struct sl_tcp_opts *o)
{
	memset(o, 0, sizeof(*o));
	size_t i = 0;
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -EINVAL;
		uint8_t olen = p[i + 1];
		if (olen < 2 || i + olen > len)
			return -EINVAL;
		const uint8_t *v = p + i + 2;
		/* A known option with the wrong length is ignored rather than
		 * trusted, as Linux does; the segment itself stays valid. */
		switch (kind) {
		case OPT_MSS:
			if (olen == 4) {
				o->has_mss = true;
				o->mss = rd16(v);
			}
			break;
		case OPT_WS:
			if (olen == 3) {
				o->has_ws = true;
				/* RFC 7323 2.3: values above 14 are treated as 14 */
				o->ws = v[0] > 14 ? 14 : v[0];
			}
			break;
		case OPT_SACK_OK:
			if (olen == 2)
				o->sack_ok = true;
			break;
		case OPT_TS:
			if (olen == 10) {
				o->has_ts = true;
				o->ts_val = rd32(v);
				o->ts_ecr = rd32(v + 4);
			}
			break;
		case OPT_SACK:
			if (olen >= 10 && (olen - 2) % 8 == 0) {
				unsigned n = (olen - 2u) / 8u;
				if (n > SL_TCP_MAX_SACK)
					n = SL_TCP_MAX_SACK;
				for (unsigned k = 0; k < n; k++) {
					o->sack[k].left = rd32(v + 8 * k);
					o->sack[k].right = rd32(v + 8 * k + 4);
				}
				o->n_sack = (uint8_t)n;
			}
			break;
		default:
			break;
		}
		i += olen;
	}
	return 0;
}

int sl_tcp_parse_hdr(const uint8_t *tcp, size_t len, struct sl_tcp_hdr *h)
{
	if (len < 20)
		return -EINVAL;
	unsigned doff = (unsigned)(tcp[12] >> 4) * 4u;
	if (doff < 20 || doff > len)
		return -EINVAL;
	h->sport = rd16(tcp);
	h->dport = rd16(tcp + 2);
	h->seq = rd32(tcp + 4);
	h->ack = rd32(tcp + 8);
	h->hdr_len = (uint8_t)doff;
	h->flags = tcp[13] & 0x3f;
	h->win = rd16(tcp + 14);
	h->urg = rd16(tcp + 18);
	return sl_tcp_parse_opts(tcp + 20, doff - 20, &h->opts);
}

int sl_tcp_build_hdr(const struct sl_tcp_hdr *h, uint8_t out[60])
{
	const struct sl_tcp_opts *o = &h->opts;
	uint8_t *p = out + 20;
	size_t need = (o->has_mss ? 4 : 0) + (o->has_ws ? 4 : 0) + (o->has_ts ? 12 : 0) +
		      (o->sack_ok && !o->has_ts ? 4 : 0) + (o->n_sack ? 4 + 8u * o->n_sack : 0);
	if (need > 40 || o->n_sack > SL_TCP_MAX_SACK)
		return -EINVAL;
	/* Linux's layout, which middleboxes know: MSS, SACK-OK+TS, NOP+WS. */
	if (o->has_mss) {
		p[0] = OPT_MSS; p[1] = 4; wr16(p + 2, o->mss);
		p += 4;
	}
	if (o->has_ts) {
		if (o->sack_ok) {
			p[0] = OPT_SACK_OK; p[1] = 2;
		} else {
			p[0] = OPT_NOP; p[1] = OPT_NOP;
		}
		p[2] = OPT_TS; p[3] = 10;
		wr32(p + 4, o->ts_val);
		wr32(p + 8, o->ts_ecr);
		p += 12;
	} else if (o->sack_ok) {
		p[0] = OPT_NOP; p[1] = OPT_NOP; p[2] = OPT_SACK_OK; p[3] = 2;
		p += 4;
	}
	if (o->has_ws) {
		p[0] = OPT_NOP; p[1] = OPT_WS; p[2] = 3; p[3] = o->ws;
		p += 4;
	}
	if (o->n_sack) {
		p[0] = OPT_NOP; p[1] = OPT_NOP; p[2] = OPT_SACK; p[3] = (uint8_t)(2 + 8 * o->n_sack);
		p += 4;
		for (unsigned k = 0; k < o->n_sack; k++) {
			wr32(p, o->sack[k].left);
			wr32(p + 4, o->sack[k].right);
			p += 8;
		}
	}
	size_t hl = (size_t)(p - out);
	wr16(out, h->sport);
	wr16(out + 2, h->dport);
	wr32(out + 4, h->seq);
	wr32(out + 8, h->ack);
	out[12] = (uint8_t)((hl / 4) << 4);
	out[13] = h->flags & 0x3f;
	wr16(out + 14, h->win);
	out[16] = out[17] = 0;
	wr16(out + 18, h->urg);
	return (int)hl;
}
