/* fuzz_net - libFuzzer target for the L2/L3/L4 receive path of sl_net.
 *
 * The input is one Ethernet frame. It goes through the parsers as the worker
 * runs them; whatever they accept is checked for internal consistency and
 * then turned into a reply with the in-place builders (on a copy), and the
 * reply must parse back. Any violated invariant aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_net.h"

#define CHECK(c)                                                                        \
	do {                                                                            \
		if (!(c)) {                                                             \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                        \
		}                                                                       \
	} while (0)

#define MAX_FRAME 9216
/* Room for a UDP reply larger than the request. */
#define SLACK 1600

static const uint8_t MY_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static bool bad_src(uint32_t ip_be)
{
	uint8_t o = (uint8_t)(sl_ntohl(ip_be) >> 24);
	return o == 0 || o == 127 || o >= 224;
}

static void check_arp(const uint8_t *f, uint32_t len, const struct sl_pkt *p)
{
	uint8_t out[64];
	struct sl_pkt r;
	uint32_t n;

	CHECK(p->arp_op == SL_ARP_OP_REQUEST_BE || p->arp_op == SL_ARP_OP_REPLY_BE);
	CHECK(len >= p->l3_off + SL_ARP_LEN);
	CHECK(!(p->sha[0] & 1));

	memcpy(out, f, p->l3_off + SL_ARP_LEN);
	n = sl_arp_reply_inplace(out, p, MY_MAC);
	CHECK(n == p->l3_off + SL_ARP_LEN);
	CHECK(sl_eth_parse(out, n, &r) == SL_DROP_NONE);
	CHECK(r.vlan_tci == p->vlan_tci);
	CHECK(sl_arp_parse(out + r.l3_off, n - r.l3_off, &r) == SL_DROP_NONE);
	CHECK(r.arp_op == SL_ARP_OP_REPLY_BE);
	CHECK(r.spa == p->tpa && r.tpa == p->spa);
	CHECK(memcmp(r.tha, p->sha, 6) == 0 && memcmp(r.sha, MY_MAC, 6) == 0);
	CHECK(memcmp(r.eth_dst, p->sha, 6) == 0);

	/* The fresh builder with the same fields gives the same bytes. */
	n = sl_arp_build(out, SL_ARP_OP_REPLY, MY_MAC, p->tpa, p->sha, p->spa, p->sha, sl_ntohs(p->vlan_tci));
	CHECK(n == sl_l2_hlen(sl_ntohs(p->vlan_tci)) + SL_ARP_LEN);
	CHECK(sl_eth_parse(out, n, &r) == SL_DROP_NONE);
	CHECK(sl_arp_parse(out + r.l3_off, n - r.l3_off, &r) == SL_DROP_NONE);
}

/* A reply with swapped addresses must pass the IPv4 parser, except that the
 * request's destination may be something we refuse as a source. */
static void check_reply_ip(const uint8_t *out, uint32_t n, const struct sl_pkt *req, struct sl_pkt *r,
			   bool *ok)
{
	enum sl_drop d;

	CHECK(sl_eth_parse(out, n, r) == SL_DROP_NONE);
	CHECK(r->vlan_tci == req->vlan_tci);
	CHECK(memcmp(r->eth_dst, req->eth_src, 6) == 0 && memcmp(r->eth_src, MY_MAC, 6) == 0);
	d = sl_ipv4_parse(out + r->l3_off, n - r->l3_off, r);
	if (bad_src(req->ip_dst)) {
		CHECK(d == SL_DROP_IP_BAD_SRC);
		*ok = false;
		return;
	}
	CHECK(d == SL_DROP_NONE);
	CHECK(r->ip_src == req->ip_dst && r->ip_dst == req->ip_src);
	CHECK(r->ip_ttl == SL_REPLY_TTL && !r->ip_frag && r->ip_proto == req->ip_proto);
	CHECK(r->l4_off + r->l4_len == n);
	*ok = true;
}

static void check_icmp(const uint8_t *f, const struct sl_pkt *p, uint8_t *work)
{
	struct sl_pkt r;
	uint32_t n;
	bool ok;

	CHECK(p->icmp_type == SL_ICMP_ECHO_REQUEST && p->icmp_code == 0);
	memcpy(work, f, (size_t)p->l3_off + p->ip_total_len_h);
	n = sl_icmp_echo_reply_inplace(work, p, MY_MAC);
	CHECK(n == (uint32_t)p->l3_off + p->ip_total_len_h);
	check_reply_ip(work, n, p, &r, &ok);
	if (!ok)
		return;
	CHECK(r.l4_len == p->l4_len);
	CHECK(sl_icmp_parse(work + r.l4_off, r.l4_len, &r) == SL_DROP_ICMP_UNHANDLED);
	CHECK(r.icmp_type == SL_ICMP_ECHO_REPLY);
	CHECK(sl_inet_csum(work + r.l4_off, r.l4_len) == 0);
	CHECK(memcmp(work + r.l4_off + 4, f + p->l4_off + 4, p->l4_len - 4u) == 0);
}

static void check_udp(const uint8_t *f, uint32_t len, const struct sl_pkt *p, uint8_t *work)
{
	struct sl_pkt r;
	uint32_t plen = p->l4_len - SL_UDP_HLEN, n;
	bool ok;

	CHECK(p->l4_len >= SL_UDP_HLEN);
	CHECK(p->l4_off + p->l4_len <= len);

	/* Echo: the request payload stays where it is. */
	for (int csum = 0; csum < 2; csum++) {
		memcpy(work, f, len);
		n = sl_udp_reply_inplace(work, p, MY_MAC, plen, csum);
		CHECK(n == p->l3_off + SL_IPV4_HLEN + SL_UDP_HLEN + plen);
		check_reply_ip(work, n, p, &r, &ok);
		if (!ok)
			return;
		CHECK(sl_udp_parse(work + r.l4_off, r.l4_len, &r) == SL_DROP_NONE);
		CHECK(r.sport == p->dport && r.dport == p->sport);
		CHECK(r.l4_len == p->l4_len);
		CHECK(memcmp(work + r.l4_off + 8, f + p->l4_off + 8, plen) == 0);
		CHECK((work[r.l4_off + 6] | work[r.l4_off + 7]) ? csum : !csum);
	}

	/* A different-sized answer written by the caller. */
	uint32_t alen = (uint32_t)(f[len - 1] * 5u + len) % SLACK;
	memcpy(work, f, len);
	memset(sl_udp_payload(work, p), 0xc3, alen);
	n = sl_udp_reply_inplace(work, p, MY_MAC, alen, true);
	check_reply_ip(work, n, p, &r, &ok);
	if (ok) {
		CHECK(sl_udp_parse(work + r.l4_off, r.l4_len, &r) == SL_DROP_NONE);
		CHECK(r.l4_len == SL_UDP_HLEN + alen);
	}

	/* The fresh builder from the parsed fields. */
	memset(work + sl_udp_payload_off(sl_ntohs(p->vlan_tci)), 0x3c, plen);
	n = sl_ipv4_udp_build(work, MY_MAC, p->eth_src, sl_ntohs(p->vlan_tci), p->ip_dst, p->ip_src, p->dport,
			      p->sport, plen, true);
	check_reply_ip(work, n, p, &r, &ok);
	if (ok) {
		CHECK(sl_udp_parse(work + r.l4_off, r.l4_len, &r) == SL_DROP_NONE);
		CHECK(r.sport == p->dport && r.dport == p->sport);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t work[MAX_FRAME + SLACK + 64];
	struct sl_pkt p;
	enum sl_drop d;
	uint8_t *f;
	uint32_t len = (uint32_t)size;

	if (size > MAX_FRAME)
		return 0;
	/* Exact-size heap copy: ASan flags any read past the frame. */
	f = malloc(size ? size : 1);
	if (!f)
		return 0;
	memcpy(f, data, size);

	d = sl_eth_parse(f, len, &p);
	CHECK((unsigned)d < SL_DROP__MAX);
	CHECK(sl_drop_name(d) != NULL);
	if (d != SL_DROP_NONE) {
		CHECK(d == SL_DROP_ETH_RUNT || d == SL_DROP_ETH_BAD_VLAN || d == SL_DROP_ETH_UNKNOWN_TYPE);
		goto out;
	}
	CHECK(p.l2_len == 14 || p.l2_len == 18);
	CHECK(p.l3_off == p.l2_len && p.l3_off <= len);
	CHECK((p.l2_len == 18) == (len >= 18 && f[12] == 0x81 && f[13] == 0x00));

	if (p.ethertype == SL_ETHERTYPE_ARP_BE) {
		d = sl_arp_parse(f + p.l3_off, len - p.l3_off, &p);
		CHECK(d == SL_DROP_NONE || d == SL_DROP_ARP_MALFORMED);
		if (d == SL_DROP_NONE)
			check_arp(f, len, &p);
		goto out;
	}
	CHECK(p.ethertype == SL_ETHERTYPE_IPV4_BE);
	d = sl_ipv4_parse(f + p.l3_off, len - p.l3_off, &p);
	CHECK(d == SL_DROP_NONE || (d >= SL_DROP_IP_TRUNCATED && d <= SL_DROP_IP_BAD_SRC));
	if (d != SL_DROP_NONE)
		goto out;
	CHECK(p.ip_hlen >= 20 && p.ip_hlen <= 60 && !(p.ip_hlen & 3));
	CHECK(p.ip_total_len_h == sl_ntohs(p.ip_total_len));
	CHECK(p.l3_off + p.ip_total_len_h <= len);
	CHECK(p.l4_off == p.l3_off + p.ip_hlen && p.l4_len == p.ip_total_len_h - p.ip_hlen);
	CHECK(p.ip_ttl != 0 && !p.ip_frag && !bad_src(p.ip_src));
	CHECK(sl_inet_csum(f + p.l3_off, p.ip_hlen) == 0);
	{
		uint16_t stored, calc = sl_ipv4_hdr_csum(f + p.l3_off);
		memcpy(&stored, f + p.l3_off + 10, 2);
		/* 0x0000 and 0xffff are the same ones-complement zero. */
		CHECK(calc == stored || (calc == 0 && stored == 0xffff));
	}

	if (p.ip_proto == SL_IPPROTO_ICMP) {
		d = sl_icmp_parse(f + p.l4_off, p.l4_len, &p);
		CHECK(d == SL_DROP_NONE || d == SL_DROP_ICMP_TRUNCATED || d == SL_DROP_ICMP_BAD_CSUM ||
		      d == SL_DROP_ICMP_UNHANDLED);
		if (d == SL_DROP_NONE)
			check_icmp(f, &p, work);
	} else if (p.ip_proto == SL_IPPROTO_UDP) {
		d = sl_udp_parse(f + p.l4_off, p.l4_len, &p);
		CHECK(d == SL_DROP_NONE || d == SL_DROP_UDP_TRUNCATED || d == SL_DROP_UDP_BAD_CSUM);
		if (d == SL_DROP_NONE) {
			CHECK(sl_flow_hash(p.ip_src, p.ip_dst, p.sport, p.dport, 17) ==
			      sl_flow_hash(p.ip_dst, p.ip_src, p.dport, p.sport, 17));
			check_udp(f, len, &p, work);
		}
	}
out:
	free(f);
	return 0;
}
