/* net_fp.c - per-packet L2/L3/L4 parsing and building (fast path: no
 * allocation, no locks, no logging). Header layouts are read with explicit
 * offsets and memcpy so nothing depends on buffer alignment. */
#include "sl_net.h"

#include <errno.h>

static const char *const drop_names[SL_DROP__MAX] = {
	[SL_DROP_NONE] = "none",
	[SL_DROP_ETH_RUNT] = "eth_runt",
	[SL_DROP_ETH_BAD_VLAN] = "eth_bad_vlan",
	[SL_DROP_ETH_UNKNOWN_TYPE] = "eth_unknown_type",
	[SL_DROP_ARP_MALFORMED] = "arp_malformed",
	[SL_DROP_ARP_NOT_FOR_US] = "arp_not_for_us",
	[SL_DROP_IP_TRUNCATED] = "ip_truncated",
	[SL_DROP_IP_BAD_VERSION] = "ip_bad_version",
	[SL_DROP_IP_BAD_IHL] = "ip_bad_ihl",
	[SL_DROP_IP_BAD_TOTAL_LEN] = "ip_bad_total_len",
	[SL_DROP_IP_BAD_CSUM] = "ip_bad_csum",
	[SL_DROP_IP_TTL_EXPIRED] = "ip_ttl_expired",
	[SL_DROP_IP_BAD_OPTIONS] = "ip_bad_options",
	[SL_DROP_IP_FRAG] = "ip_frag",
	[SL_DROP_IP_BAD_SRC] = "ip_bad_src",
	[SL_DROP_IP_NOT_FOR_US] = "ip_not_for_us",
	[SL_DROP_ICMP_TRUNCATED] = "icmp_truncated",
	[SL_DROP_ICMP_BAD_CSUM] = "icmp_bad_csum",
	[SL_DROP_ICMP_UNHANDLED] = "icmp_unhandled",
	[SL_DROP_UDP_TRUNCATED] = "udp_truncated",
	[SL_DROP_UDP_BAD_CSUM] = "udp_bad_csum",
	[SL_DROP_UDP_NO_LISTENER] = "udp_no_listener",
	[SL_DROP_L4_UNHANDLED] = "l4_unhandled",
	[SL_DROP_ARP_PENDING_FULL] = "arp_pending_full",
	[SL_DROP_ARP_UNRESOLVED] = "arp_unresolved",
	[SL_DROP_HANDOFF_FULL] = "handoff_full",
	[SL_DROP_TX_FULL] = "tx_full",
	[SL_DROP_IMPAIR] = "impair_drop",
	[SL_DROP_TCP_TRUNCATED] = "tcp_truncated",
	[SL_DROP_TCP_BAD_CSUM] = "tcp_bad_csum",
	[SL_DROP_TCP_MALFORMED] = "tcp_malformed",
};

const char *sl_drop_name(enum sl_drop d)
{
	if ((unsigned)d >= SL_DROP__MAX)
		return "unknown";
	return drop_names[d];
}

static inline uint16_t rd16(const uint8_t *b)
{
	uint16_t v;
	memcpy(&v, b, 2);
	return v;
}

static inline uint32_t rd32(const uint8_t *b)
{
	uint32_t v;
	memcpy(&v, b, 4);
	return v;
}

static inline void wr16(uint8_t *b, uint16_t v) { memcpy(b, &v, 2); }
static inline void wr32(uint8_t *b, uint32_t v) { memcpy(b, &v, 4); }

/* ---- checksums --------------------------------------------------------- */

uint64_t sl_csum_add(const void *buf, uint32_t len, uint64_t sum)
{
	const uint8_t *b = buf;

	/* 32-bit halves of 64-bit loads into a 64-bit accumulator: carries pile
	 * up in the upper half and are folded once at the end. Four lanes let
	 * the compiler overlap loads and adds. */
	while (len >= 32) {
		uint64_t w0, w1, w2, w3;
		memcpy(&w0, b, 8);
		memcpy(&w1, b + 8, 8);
		memcpy(&w2, b + 16, 8);
		memcpy(&w3, b + 24, 8);
		sum += (w0 & 0xffffffffu) + (w0 >> 32) + (w1 & 0xffffffffu) + (w1 >> 32) +
		       (w2 & 0xffffffffu) + (w2 >> 32) + (w3 & 0xffffffffu) + (w3 >> 32);
		b += 32;
		len -= 32;
	}
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, b, 8);
		sum += (w & 0xffffffffu) + (w >> 32);
		b += 8;
		len -= 8;
	}
	if (len >= 4) {
		sum += rd32(b);
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		sum += rd16(b);
		b += 2;
		len -= 2;
	}
	if (len) {
		/* Odd trailing byte is the first byte of a zero-padded word. */
		uint8_t pad[2] = { b[0], 0 };
		sum += rd16(pad);
	}
	return sum;
}

uint16_t sl_ipv4_hdr_csum(const void *ip)
{
	const uint8_t *h = ip;
	uint32_t hlen = (uint32_t)(h[0] & 0x0f) * 4u;
	uint64_t s = sl_csum_add(h, hlen, 0);

	/* Take the stored checksum back out rather than copying the header. */
	s += (uint16_t)~rd16(h + 10);
	return (uint16_t)~sl_csum_fold(s);
}

/* ---- parsers ----------------------------------------------------------- */

enum sl_drop sl_eth_parse(const uint8_t *frame, uint32_t len, struct sl_pkt *p)
{
	uint16_t type;
	uint32_t l2 = SL_ETH_HLEN;

	if (len < SL_ETH_HLEN)
		return SL_DROP_ETH_RUNT;
	memcpy(p->eth_dst, frame, 6);
	memcpy(p->eth_src, frame + 6, 6);
	type = rd16(frame + 12);
	p->vlan_tci = 0;

	if (type == SL_BE16(SL_ETHERTYPE_VLAN)) {
		uint16_t tci;

		if (len < SL_ETH_HLEN + SL_VLAN_HLEN)
			return SL_DROP_ETH_RUNT;
		tci = rd16(frame + 14);
		type = rd16(frame + 16);
		if (type == SL_BE16(SL_ETHERTYPE_VLAN) || type == SL_BE16(SL_ETHERTYPE_QINQ) ||
		    type == SL_BE16(0x9100) || (tci & SL_BE16(0x0fff)) == SL_BE16(0x0fff))
			return SL_DROP_ETH_BAD_VLAN;
		p->vlan_tci = tci;
		l2 += SL_VLAN_HLEN;
	} else if (type == SL_BE16(SL_ETHERTYPE_QINQ) || type == SL_BE16(0x9100)) {
		return SL_DROP_ETH_BAD_VLAN;
	}

	p->ethertype = type;
	p->l2_len = (uint16_t)l2;
	p->l3_off = (uint16_t)l2;
	if (type != SL_ETHERTYPE_IPV4_BE && type != SL_ETHERTYPE_ARP_BE)
		return SL_DROP_ETH_UNKNOWN_TYPE;
	return SL_DROP_NONE;
}

enum sl_drop sl_arp_parse(const uint8_t *a, uint32_t len, struct sl_pkt *p)
{
	uint16_t op;

	if (len < SL_ARP_LEN)
		return SL_DROP_ARP_MALFORMED;
	/* htype 1, ptype 0x0800, hlen 6, plen 4 as one 48-bit compare. */
	static const uint8_t want[6] = { 0x00, 0x01, 0x08, 0x00, 6, 4 };
	if (memcmp(a, want, 6) != 0)
		return SL_DROP_ARP_MALFORMED;
	op = rd16(a + 6);
	if (op != SL_ARP_OP_REQUEST_BE && op != SL_ARP_OP_REPLY_BE)
		return SL_DROP_ARP_MALFORMED;
	/* A group address as sender would poison the neighbour cache. */
	if (a[8] & 0x01)
		return SL_DROP_ARP_MALFORMED;
	p->arp_op = op;
	memcpy(p->sha, a + 8, 6);
	p->spa = rd32(a + 14);
	memcpy(p->tha, a + 18, 6);
	p->tpa = rd32(a + 24);
	return SL_DROP_NONE;
}

/* Option list of the header bytes [20, hlen). */
static enum sl_drop ipv4_options_check(const uint8_t *h, uint32_t hlen)
{
	uint32_t i = SL_IPV4_HLEN;

	while (i < hlen) {
		uint8_t t = h[i];
		uint32_t olen;

		if (t == 0) /* EOL: the rest is padding */
			break;
		if (t == 1) { /* NOP */
			i++;
			continue;
		}
		if (i + 1 >= hlen)
			return SL_DROP_IP_BAD_OPTIONS;
		olen = h[i + 1];
		if (olen < 2 || i + olen > hlen)
			return SL_DROP_IP_BAD_OPTIONS;
		/* LSRR / SSRR: never honoured (Linux's accept_source_route=0). */
		if (t == 131 || t == 137)
			return SL_DROP_IP_BAD_OPTIONS;
		i += olen;
	}
	return SL_DROP_NONE;
}

enum sl_drop sl_ipv4_parse(const uint8_t *h, uint32_t len, struct sl_pkt *p)
{
	uint32_t hlen, tot;
	uint16_t frag;
	uint8_t o;

	if (len < SL_IPV4_HLEN)
		return SL_DROP_IP_TRUNCATED;
	if ((h[0] >> 4) != 4)
		return SL_DROP_IP_BAD_VERSION;
	hlen = (uint32_t)(h[0] & 0x0f) * 4u;
	if (hlen < SL_IPV4_HLEN || hlen > len)
		return SL_DROP_IP_BAD_IHL;
	p->ip_total_len = rd16(h + 2);
	tot = sl_ntohs(p->ip_total_len);
	if (tot < hlen || tot > len)
		return SL_DROP_IP_BAD_TOTAL_LEN;
	if (sl_inet_csum(h, hlen) != 0)
		return SL_DROP_IP_BAD_CSUM;
	if (hlen > SL_IPV4_HLEN) {
		enum sl_drop d = ipv4_options_check(h, hlen);
		if (d != SL_DROP_NONE)
			return d;
	}

	p->ip_total_len_h = (uint16_t)tot;
	p->ip_hlen = (uint8_t)hlen;
	p->ip_ttl = h[8];
	p->ip_proto = h[9];
	p->ip_src = rd32(h + 12);
	p->ip_dst = rd32(h + 16);
	frag = rd16(h + 6);
	p->ip_frag = (frag & SL_BE16(0x3fff)) != 0; /* MF or offset */
	p->l4_off = (uint16_t)(p->l3_off + hlen);
	p->l4_len = (uint16_t)(tot - hlen);

	if (p->ip_ttl == 0)
		return SL_DROP_IP_TTL_EXPIRED;
	o = h[12];
	if (o == 0 || o == 127 || o >= 224)
		return SL_DROP_IP_BAD_SRC;
	if (p->ip_frag)
		return SL_DROP_IP_FRAG;
	return SL_DROP_NONE;
}

enum sl_drop sl_icmp_parse(const uint8_t *l4, uint32_t len, struct sl_pkt *p)
{
	p->sport = 0;
	p->dport = 0;
	if (len < SL_ICMP_HLEN)
		return SL_DROP_ICMP_TRUNCATED;
	if (sl_inet_csum(l4, len) != 0)
		return SL_DROP_ICMP_BAD_CSUM;
	p->icmp_type = l4[0];
	p->icmp_code = l4[1];
	if (l4[0] != SL_ICMP_ECHO_REQUEST || l4[1] != 0)
		return SL_DROP_ICMP_UNHANDLED;
	return SL_DROP_NONE;
}

enum sl_drop sl_udp_parse(const uint8_t *l4, uint32_t len, struct sl_pkt *p)
{
	uint32_t ulen;

	if (len < SL_UDP_HLEN)
		return SL_DROP_UDP_TRUNCATED;
	ulen = sl_ntohs(rd16(l4 + 4));
	if (ulen < SL_UDP_HLEN || ulen > len)
		return SL_DROP_UDP_TRUNCATED;
	if (rd16(l4 + 6) != 0 &&
	    sl_l4_csum(p->ip_src, p->ip_dst, SL_IPPROTO_UDP, l4, ulen) != 0)
		return SL_DROP_UDP_BAD_CSUM;
	p->sport = rd16(l4);
	p->dport = rd16(l4 + 2);
	p->l4_len = (uint16_t)ulen;
	return SL_DROP_NONE;
}

/* ---- builders ---------------------------------------------------------- */

uint32_t sl_eth_hdr_build(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6],
			  uint16_t vlan_tci_h, uint16_t ethertype)
{
	memmove(buf, dst, 6);
	memmove(buf + 6, src, 6);
	if (vlan_tci_h) {
		wr16(buf + 12, SL_BE16(SL_ETHERTYPE_VLAN));
		wr16(buf + 14, sl_htons(vlan_tci_h));
		wr16(buf + 16, ethertype);
		return SL_ETH_HLEN + SL_VLAN_HLEN;
	}
	wr16(buf + 12, ethertype);
	return SL_ETH_HLEN;
}

uint32_t sl_ipv4_hdr_build(uint8_t *h, uint32_t src, uint32_t dst, uint8_t proto,
			   uint8_t ttl, uint16_t id, uint32_t l4_len)
{
	h[0] = 0x45;
	h[1] = 0;
	wr16(h + 2, sl_htons((uint16_t)(SL_IPV4_HLEN + l4_len)));
	wr16(h + 4, id);
	wr16(h + 6, SL_BE16(0x4000)); /* DF */
	h[8] = ttl;
	h[9] = proto;
	wr16(h + 10, 0);
	wr32(h + 12, src);
	wr32(h + 16, dst);
	wr16(h + 10, sl_inet_csum(h, SL_IPV4_HLEN));
	return SL_IPV4_HLEN;
}

/* In-place replies keep the request's L2 layout: a priority tag (TCI 0)
 * stays a tag, so L3 does not move. */
static void eth_hdr_inplace(uint8_t *frame, const struct sl_pkt *p, const uint8_t dst[6],
			    const uint8_t src[6], uint16_t ethertype)
{
	memmove(frame, dst, 6);
	memmove(frame + 6, src, 6);
	if (p->l2_len == SL_ETH_HLEN + SL_VLAN_HLEN) {
		wr16(frame + 12, SL_BE16(SL_ETHERTYPE_VLAN));
		wr16(frame + 14, p->vlan_tci);
		wr16(frame + 16, ethertype);
	} else {
		wr16(frame + 12, ethertype);
	}
}

static uint32_t arp_body(uint8_t *a, uint16_t op, const uint8_t sha[6], uint32_t spa,
			 const uint8_t tha[6], uint32_t tpa)
{
	static const uint8_t hdr[6] = { 0x00, 0x01, 0x08, 0x00, 6, 4 };

	memcpy(a, hdr, 6);
	wr16(a + 6, sl_htons(op));
	memmove(a + 8, sha, 6);
	wr32(a + 14, spa);
	memmove(a + 18, tha, 6);
	wr32(a + 24, tpa);
	return SL_ARP_LEN;
}

uint32_t sl_arp_build(uint8_t *buf, uint16_t op, const uint8_t sha[6], uint32_t spa,
		      const uint8_t tha[6], uint32_t tpa, const uint8_t eth_dst[6],
		      uint16_t vlan_tci_h)
{
	uint32_t l2 = sl_eth_hdr_build(buf, eth_dst, sha, vlan_tci_h, SL_ETHERTYPE_ARP_BE);

	return l2 + arp_body(buf + l2, op, sha, spa, tha, tpa);
}

uint32_t sl_arp_reply_inplace(uint8_t *frame, const struct sl_pkt *p, const uint8_t my_mac[6])
{
	/* p holds copies of the request's fields, so overwriting is safe. */
	eth_hdr_inplace(frame, p, p->sha, my_mac, SL_ETHERTYPE_ARP_BE);
	return p->l3_off + arp_body(frame + p->l3_off, SL_ARP_OP_REPLY, my_mac, p->tpa, p->sha, p->spa);
}

/* Common part of in-place L3 replies: new L2 header towards the requester,
 * fresh 20-byte IP header with swapped addresses, L4 moved down over any
 * request options. Returns a pointer to the (moved) L4 header. */
static uint8_t *reply_l2l3(uint8_t *frame, const struct sl_pkt *p, const uint8_t my_mac[6],
			   uint32_t l4_len)
{
	uint8_t *l3 = frame + p->l3_off;
	uint8_t *l4 = l3 + SL_IPV4_HLEN;
	uint16_t id = rd16(l3 + 4);

	if (p->ip_hlen > SL_IPV4_HLEN)
		memmove(l4, frame + p->l4_off, l4_len);
	/* The tag's priority bits are kept; the MACs come from the copies in p. */
	eth_hdr_inplace(frame, p, p->eth_src, my_mac, SL_ETHERTYPE_IPV4_BE);
	sl_ipv4_hdr_build(l3, p->ip_dst, p->ip_src, p->ip_proto, SL_REPLY_TTL, id, l4_len);
	return l4;
}

uint32_t sl_icmp_echo_reply_inplace(uint8_t *frame, const struct sl_pkt *p, const uint8_t my_mac[6])
{
	uint8_t *l3 = frame + p->l3_off;
	uint8_t *icmp = frame + p->l4_off;
	uint16_t old = rd16(icmp), c;

	/* RFC 1122 3.2.2.6: options of the request are returned in the reply
	 * (source routes never get this far: the parser refuses them). */
	eth_hdr_inplace(frame, p, p->eth_src, my_mac, SL_ETHERTYPE_IPV4_BE);
	wr16(l3 + 6, SL_BE16(0x4000)); /* DF */
	l3[8] = SL_REPLY_TTL;
	wr32(l3 + 12, p->ip_dst);
	wr32(l3 + 16, p->ip_src);
	wr16(l3 + 10, sl_ipv4_hdr_csum(l3));
	icmp[0] = SL_ICMP_ECHO_REPLY;
	c = sl_csum_update16(rd16(icmp + 2), old, rd16(icmp));
	if (c == 0 || c == 0xffff) {
		/* Incremental update cannot tell +0 from -0: an all-zero
		 * message needs 0xffff. Rare, so recompute. */
		wr16(icmp + 2, 0);
		c = sl_inet_csum(icmp, p->l4_len);
	}
	wr16(icmp + 2, c);
	return (uint32_t)p->l3_off + p->ip_total_len_h;
}

static void udp_hdr_fill(uint8_t *u, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
			 uint32_t udp_len, bool csum)
{
	wr16(u, sport);
	wr16(u + 2, dport);
	wr16(u + 4, sl_htons((uint16_t)udp_len));
	wr16(u + 6, 0);
	if (csum) {
		uint16_t c = sl_l4_csum(src, dst, SL_IPPROTO_UDP, u, udp_len);
		wr16(u + 6, c ? c : 0xffff); /* 0 means "no checksum" in UDP */
	}
}

uint32_t sl_udp_reply_inplace(uint8_t *frame, const struct sl_pkt *p, const uint8_t my_mac[6],
			      uint32_t payload_len, bool udp_csum)
{
	uint32_t udp_len = SL_UDP_HLEN + payload_len;
	uint8_t *u;

	if (payload_len > 0xffffu - SL_IPV4_HLEN - SL_UDP_HLEN)
		return 0;
	u = reply_l2l3(frame, p, my_mac, udp_len);
	udp_hdr_fill(u, p->ip_dst, p->ip_src, p->dport, p->sport, udp_len, udp_csum);
	return p->l3_off + SL_IPV4_HLEN + udp_len;
}

uint32_t sl_ipv4_udp_build(uint8_t *buf, const uint8_t src_mac[6], const uint8_t dst_mac[6],
			   uint16_t vlan_tci_h, uint32_t src_ip, uint32_t dst_ip,
			   uint16_t sport, uint16_t dport, uint32_t payload_len, bool udp_csum)
{
	uint32_t udp_len = SL_UDP_HLEN + payload_len;
	uint32_t l2;

	if (payload_len > 0xffffu - SL_IPV4_HLEN - SL_UDP_HLEN)
		return 0;
	l2 = sl_eth_hdr_build(buf, dst_mac, src_mac, vlan_tci_h, SL_ETHERTYPE_IPV4_BE);
	sl_ipv4_hdr_build(buf + l2, src_ip, dst_ip, SL_IPPROTO_UDP, SL_REPLY_TTL, 0, udp_len);
	udp_hdr_fill(buf + l2 + SL_IPV4_HLEN, src_ip, dst_ip, sport, dport, udp_len, udp_csum);
	return l2 + SL_IPV4_HLEN + udp_len;
}

/* ---- flow hashing ------------------------------------------------------ */

int sl_flow_pick_port(uint32_t local_ip, uint32_t remote_ip, uint16_t remote_port, uint8_t proto,
		      unsigned worker, unsigned n_workers, uint16_t start, uint16_t *out)
{
	uint32_t port = start < SL_FLOW_PORT_MIN ? SL_FLOW_PORT_MIN : start;
	uint32_t n = SL_FLOW_PORT_MAX - SL_FLOW_PORT_MIN + 1;

	if (n_workers == 0 || worker >= n_workers)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t h = sl_flow_hash(remote_ip, local_ip, remote_port,
					  sl_htons((uint16_t)port), proto);
		if (sl_flow_owner(h, n_workers) == worker) {
			*out = (uint16_t)port;
			return 0;
		}
		port = port == SL_FLOW_PORT_MAX ? SL_FLOW_PORT_MIN : port + 1;
	}
	return -ENOENT;
}
