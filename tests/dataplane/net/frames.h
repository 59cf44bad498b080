/* frames.h - hand-built test frames for the sl_net tests.
 * Checksums are computed with a deliberately naive byte-wise reference, not
 * with the code under test. Addresses are from 198.18.0.0/15 only. */
#ifndef SL_TEST_FRAMES_H
#define SL_TEST_FRAMES_H

#include <stdint.h>
#include <string.h>

#include "sl_net.h"

#define IP4(a, b, c, d) sl_htonl(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static const uint8_t MAC_CLI[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t MAC_SE[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MAC_ZERO[6] = { 0 };

/* Byte-wise RFC 1071 sum, the reference the word-wise code is held to. */
static inline uint32_t ref_sum(const uint8_t *b, uint32_t len, uint32_t s)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	return s;
}

/* Host-order 16-bit checksum value (as read big-endian off the wire). */
static inline uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static inline uint16_t ref_csum(const uint8_t *b, uint32_t len)
{
	return ref_fold(ref_sum(b, len, 0));
}

static inline void put16(uint8_t *b, uint16_t v_host)
{
	b[0] = (uint8_t)(v_host >> 8);
	b[1] = (uint8_t)v_host;
}

static inline uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline void put_ip(uint8_t *b, uint32_t ip_be)
{
	memcpy(b, &ip_be, 4);
}

/* Layout of a crafted frame. */
struct tframe {
	uint8_t b[2048];
	uint32_t len;
	uint32_t l3;
	uint32_t l4;
	uint32_t l4_len; /* bytes of L4 covered by IP total length */
};

/* Ethernet (+ optional tag with host VID) */
static inline uint32_t tf_eth(uint8_t *b, const uint8_t *dst, const uint8_t *src, uint16_t vid, uint16_t type)
{
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	if (vid) {
		put16(b + 12, 0x8100);
		put16(b + 14, vid);
		put16(b + 16, type);
		return 18;
	}
	put16(b + 12, type);
	return 14;
}

static inline void tf_fix_ip(struct tframe *f)
{
	uint8_t *h = f->b + f->l3;
	uint32_t hl = (uint32_t)(h[0] & 0xf) * 4;
	h[10] = h[11] = 0;
	put16(h + 10, ref_csum(h, hl));
}

static inline void tf_fix_l4(struct tframe *f)
{
	uint8_t *h = f->b + f->l3;
	uint8_t *l4 = f->b + f->l4;
	uint8_t proto = h[9];
	if (proto == 1) {
		l4[2] = l4[3] = 0;
		put16(l4 + 2, ref_csum(l4, f->l4_len));
	} else if (proto == 17 || proto == 6) {
		uint32_t ulen = proto == 17 ? get16(l4 + 4) : f->l4_len;
		uint8_t *c = proto == 17 ? l4 + 6 : l4 + 16;
		uint32_t s;
		c[0] = c[1] = 0;
		s = ref_sum(h + 12, 8, 0) + proto + ulen;
		s = ref_sum(l4, ulen, s);
		uint16_t v = ref_fold(s);
		if (proto == 17 && v == 0)
			v = 0xffff;
		put16(c, v);
	}
}

/* IPv4 frame: proto 1 -> echo request (id 0x1234 seq 1), 17 -> UDP 40000->53,
 * other -> opaque 20 bytes. opts are raw option bytes (multiple of 4). */
static inline void tf_ipv4(struct tframe *f, uint16_t vid, uint8_t proto, const uint8_t *opts, uint32_t optlen,
			   const uint8_t *payload, uint32_t plen)
{
	uint8_t *h, *l4;
	uint32_t l4hdr = proto == 1 ? 8 : proto == 17 ? 8 : 20;

	memset(f, 0, sizeof(*f));
	f->l3 = tf_eth(f->b, MAC_SE, MAC_CLI, vid, 0x0800);
	h = f->b + f->l3;
	h[0] = (uint8_t)(0x40 | ((20 + optlen) / 4));
	f->l4 = f->l3 + 20 + optlen;
	f->l4_len = l4hdr + plen;
	put16(h + 2, (uint16_t)(20 + optlen + f->l4_len));
	put16(h + 4, 0x0101);
	put16(h + 6, 0x4000);
	h[8] = 64;
	h[9] = proto;
	put_ip(h + 12, IP4(198, 18, 0, 2));
	put_ip(h + 16, IP4(198, 18, 0, 1));
	if (optlen)
		memcpy(h + 20, opts, optlen);
	l4 = f->b + f->l4;
	if (proto == 1) {
		l4[0] = 8;
		put16(l4 + 4, 0x1234);
		put16(l4 + 6, 1);
	} else if (proto == 17) {
		put16(l4, 40000);
		put16(l4 + 2, 53);
		put16(l4 + 4, (uint16_t)f->l4_len);
	}
	if (plen)
		memcpy(l4 + l4hdr, payload, plen);
	f->len = f->l4 + f->l4_len;
	tf_fix_ip(f);
	tf_fix_l4(f);
}

static inline void tf_arp(struct tframe *f, uint16_t vid, uint16_t op)
{
	uint8_t *a;

	memset(f, 0, sizeof(*f));
	f->l3 = tf_eth(f->b, op == 1 ? MAC_BCAST : MAC_SE, MAC_CLI, vid, 0x0806);
	a = f->b + f->l3;
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, MAC_CLI, 6);
	put_ip(a + 14, IP4(198, 18, 0, 2));
	memcpy(a + 18, op == 1 ? MAC_ZERO : MAC_SE, 6);
	put_ip(a + 24, IP4(198, 18, 0, 1));
	f->len = f->l3 + 28;
	f->l4 = f->len;
}

/* The whole receive pipeline as the worker runs it; first drop wins. */
static inline enum sl_drop tf_pipeline(const uint8_t *b, uint32_t len, struct sl_pkt *p)
{
	enum sl_drop d = sl_eth_parse(b, len, p);
	if (d != SL_DROP_NONE)
		return d;
	if (p->ethertype == SL_ETHERTYPE_ARP_BE)
		return sl_arp_parse(b + p->l3_off, len - p->l3_off, p);
	d = sl_ipv4_parse(b + p->l3_off, len - p->l3_off, p);
	if (d != SL_DROP_NONE)
		return d;
	if (p->ip_proto == SL_IPPROTO_ICMP)
		return sl_icmp_parse(b + p->l4_off, p->l4_len, p);
	if (p->ip_proto == SL_IPPROTO_UDP)
		return sl_udp_parse(b + p->l4_off, p->l4_len, p);
	return SL_DROP_L4_UNHANDLED;
}

/* Deterministic PRNG for table-free sweeps. */
static inline uint64_t tf_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

#endif
