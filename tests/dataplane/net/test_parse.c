/* Table-driven tests of the sl_net parsers: every drop reason the parsers
 * own is reached by a crafted frame, and good frames parse to the right
 * fields. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "frames.h"

enum kind { K_UDP, K_ICMP, K_TCP, K_GRE, K_ARP_REQ, K_ARP_REP };
enum layer { L2 = 0, L3 = 3, L4 = 4 };

struct patch {
	uint8_t layer;
	uint16_t off;
	uint8_t val;
};

struct row {
	const char *name;
	enum kind kind;
	uint16_t vid;
	const char *opts; /* raw option bytes */
	uint8_t optlen;
	uint8_t plen;     /* payload bytes (pattern) */
	struct patch patch[4];
	uint8_t npatch;
	bool fix_ip, fix_l4;  /* recompute checksums after patching */
	int16_t len_adj;      /* add to frame length (padding bytes are 0xab) */
	int16_t set_len;      /* > 0: frame length exactly */
	enum sl_drop want;
};

#define P(l, o, v) { (l), (o), (v) }

static const struct row rows[] = {
	/* good frames */
	{ "udp ok", K_UDP, 0, NULL, 0, 12, .want = SL_DROP_NONE },
	{ "udp ok odd payload", K_UDP, 0, NULL, 0, 13, .want = SL_DROP_NONE },
	{ "udp ok empty payload", K_UDP, 0, NULL, 0, 0, .want = SL_DROP_NONE },
	{ "udp ok vlan 100", K_UDP, 100, NULL, 0, 12, .want = SL_DROP_NONE },
	{ "udp ok vlan prio tag vid 0", K_UDP, 0x2000, NULL, 0, 12, .want = SL_DROP_NONE },
	{ "udp ok padded to 60 + junk", K_UDP, 0, NULL, 0, 1, .len_adj = 30, .want = SL_DROP_NONE },
	{ "udp zero csum, payload changed", K_UDP, 0, NULL, 0, 12,
	  { P(L4, 6, 0), P(L4, 7, 0), P(L4, 9, 0x77) }, 3, .want = SL_DROP_NONE },
	{ "udp length < ip payload (trimmed)", K_UDP, 0, NULL, 0, 12,
	  { P(L4, 5, 16) }, 1, .fix_l4 = true, .want = SL_DROP_NONE },
	{ "icmp echo ok", K_ICMP, 0, NULL, 0, 56, .want = SL_DROP_NONE },
	{ "icmp echo ok odd", K_ICMP, 0, NULL, 0, 7, .want = SL_DROP_NONE },
	{ "icmp echo padded junk", K_ICMP, 0, NULL, 0, 0, .len_adj = 40, .want = SL_DROP_NONE },
	{ "icmp echo vlan", K_ICMP, 7, NULL, 0, 8, .want = SL_DROP_NONE },
	{ "ip options nop/eol", K_ICMP, 0, "\x01\x01\x00\x00", 4, 8, .want = SL_DROP_NONE },
	{ "ip options rr tlv", K_UDP, 0, "\x07\x07\x04\x00\x00\x00\x00\x00", 8, 8, .want = SL_DROP_NONE },
	{ "ip option after nop fills header", K_UDP, 0, "\x01\x94\x04\x00\x00\x00\x00\x00", 8, 8,
	  .want = SL_DROP_NONE },
	{ "ip df only", K_UDP, 0, NULL, 0, 4, .want = SL_DROP_NONE },
	{ "arp request ok", K_ARP_REQ, 0, .want = SL_DROP_NONE },
	{ "arp reply ok", K_ARP_REP, 0, .want = SL_DROP_NONE },
	{ "arp request vlan padded", K_ARP_REQ, 9, .len_adj = 18, .want = SL_DROP_NONE },

	/* L4 the parsers do not handle */
	{ "tcp -> l4_unhandled", K_TCP, 0, NULL, 0, 0, .want = SL_DROP_L4_UNHANDLED },
	{ "gre -> l4_unhandled", K_GRE, 0, NULL, 0, 0, .want = SL_DROP_L4_UNHANDLED },

	/* Ethernet */
	{ "runt 0", K_UDP, 0, .set_len = -1, .want = SL_DROP_ETH_RUNT },
	{ "runt 13", K_UDP, 0, .set_len = 13, .want = SL_DROP_ETH_RUNT },
	{ "runt tagged 17", K_UDP, 5, .set_len = 17, .want = SL_DROP_ETH_RUNT },
	{ "header only is not runt", K_UDP, 0, .set_len = 14, .want = SL_DROP_IP_TRUNCATED },
	{ "qinq inner 8100", K_UDP, 5, NULL, 0, 4, { P(L2, 16, 0x81), P(L2, 17, 0x00) }, 2,
	  .want = SL_DROP_ETH_BAD_VLAN },
	{ "qinq inner 88a8", K_UDP, 5, NULL, 0, 4, { P(L2, 16, 0x88), P(L2, 17, 0xa8) }, 2,
	  .want = SL_DROP_ETH_BAD_VLAN },
	{ "outer s-tag 88a8", K_UDP, 5, NULL, 0, 4, { P(L2, 12, 0x88), P(L2, 13, 0xa8) }, 2,
	  .want = SL_DROP_ETH_BAD_VLAN },
	{ "outer 9100", K_UDP, 0, NULL, 0, 4, { P(L2, 12, 0x91), P(L2, 13, 0x00) }, 2,
	  .want = SL_DROP_ETH_BAD_VLAN },
	{ "vid 4095", K_UDP, 0xfff, NULL, 0, 4, .want = SL_DROP_ETH_BAD_VLAN },
	{ "ipv6 type", K_UDP, 0, NULL, 0, 4, { P(L2, 12, 0x86), P(L2, 13, 0xdd) }, 2,
	  .want = SL_DROP_ETH_UNKNOWN_TYPE },
	{ "802.3 length field", K_UDP, 0, NULL, 0, 4, { P(L2, 12, 0x00), P(L2, 13, 0x40) }, 2,
	  .want = SL_DROP_ETH_UNKNOWN_TYPE },
	{ "tagged ipv6", K_UDP, 3, NULL, 0, 4, { P(L2, 16, 0x86), P(L2, 17, 0xdd) }, 2,
	  .want = SL_DROP_ETH_UNKNOWN_TYPE },

	/* ARP */
	{ "arp truncated 27", K_ARP_REQ, 0, .len_adj = -1, .want = SL_DROP_ARP_MALFORMED },
	{ "arp htype 6", K_ARP_REQ, 0, .patch = { P(L3, 1, 6) }, .npatch = 1, .want = SL_DROP_ARP_MALFORMED },
	{ "arp ptype ipv6", K_ARP_REQ, 0, .patch = { P(L3, 2, 0x86), P(L3, 3, 0xdd) }, .npatch = 2,
	  .want = SL_DROP_ARP_MALFORMED },
	{ "arp hlen 8", K_ARP_REQ, 0, .patch = { P(L3, 4, 8) }, .npatch = 1, .want = SL_DROP_ARP_MALFORMED },
	{ "arp plen 16", K_ARP_REQ, 0, .patch = { P(L3, 5, 16) }, .npatch = 1, .want = SL_DROP_ARP_MALFORMED },
	{ "arp op 3 (rarp)", K_ARP_REQ, 0, .patch = { P(L3, 7, 3) }, .npatch = 1, .want = SL_DROP_ARP_MALFORMED },
	{ "arp op 0", K_ARP_REQ, 0, .patch = { P(L3, 7, 0) }, .npatch = 1, .want = SL_DROP_ARP_MALFORMED },
	{ "arp op 0x0101", K_ARP_REQ, 0, .patch = { P(L3, 6, 1) }, .npatch = 1, .want = SL_DROP_ARP_MALFORMED },
	{ "arp sha multicast", K_ARP_REQ, 0, .patch = { P(L3, 8, 0x01) }, .npatch = 1,
	  .want = SL_DROP_ARP_MALFORMED },

	/* IPv4, in the documented check order */
	{ "ip truncated 19", K_UDP, 0, .set_len = 14 + 19, .want = SL_DROP_IP_TRUNCATED },
	{ "ip truncated tagged", K_UDP, 4, .set_len = 18 + 10, .want = SL_DROP_IP_TRUNCATED },
	{ "ip version 6", K_UDP, 0, NULL, 0, 4, { P(L3, 0, 0x65) }, 1, .fix_ip = true,
	  .want = SL_DROP_IP_BAD_VERSION },
	{ "ip version 0", K_UDP, 0, NULL, 0, 4, { P(L3, 0, 0x05) }, 1, .want = SL_DROP_IP_BAD_VERSION },
	{ "ip ihl 4", K_UDP, 0, NULL, 0, 4, { P(L3, 0, 0x44) }, 1, .want = SL_DROP_IP_BAD_IHL },
	{ "ip ihl 0", K_UDP, 0, NULL, 0, 4, { P(L3, 0, 0x40) }, 1, .want = SL_DROP_IP_BAD_IHL },
	{ "ip ihl 15 > frame", K_UDP, 0, NULL, 0, 4, { P(L3, 0, 0x4f) }, 1, .want = SL_DROP_IP_BAD_IHL },
	{ "ip total len < ihl", K_UDP, 0, NULL, 0, 4, { P(L3, 2, 0), P(L3, 3, 19) }, 2, .fix_ip = true,
	  .want = SL_DROP_IP_BAD_TOTAL_LEN },
	{ "ip total len > frame", K_UDP, 0, NULL, 0, 4, { P(L3, 2, 0x01), P(L3, 3, 0x00) }, 2, .fix_ip = true,
	  .want = SL_DROP_IP_BAD_TOTAL_LEN },
	{ "ip frame cut one byte", K_UDP, 0, NULL, 0, 4, .len_adj = -1, .want = SL_DROP_IP_BAD_TOTAL_LEN },
	{ "ip total len ok w/ options, < hlen", K_UDP, 0, "\x01\x01\x01\x00", 4, 4,
	  { P(L3, 2, 0), P(L3, 3, 20) }, 2, .fix_ip = true, .want = SL_DROP_IP_BAD_TOTAL_LEN },
	{ "ip bad csum", K_UDP, 0, NULL, 0, 4, { P(L3, 10, 0x00), P(L3, 11, 0x01) }, 2,
	  .want = SL_DROP_IP_BAD_CSUM },
	{ "ip bad csum (ttl changed)", K_UDP, 0, NULL, 0, 4, { P(L3, 8, 63) }, 1, .want = SL_DROP_IP_BAD_CSUM },
	{ "ip bad csum beats ttl 0", K_UDP, 0, NULL, 0, 4, { P(L3, 8, 0) }, 1, .want = SL_DROP_IP_BAD_CSUM },
	{ "ip opt len 0", K_UDP, 0, "\x07\x00\x00\x00", 4, 4, .want = SL_DROP_IP_BAD_OPTIONS },
	{ "ip opt len 1", K_UDP, 0, "\x07\x01\x00\x00", 4, 4, .want = SL_DROP_IP_BAD_OPTIONS },
	{ "ip opt len past header", K_UDP, 0, "\x07\x05\x04\x00", 4, 4, .want = SL_DROP_IP_BAD_OPTIONS },
	{ "ip opt type at last byte", K_UDP, 0, "\x01\x01\x01\x07", 4, 4, .want = SL_DROP_IP_BAD_OPTIONS },
	{ "ip opt lsrr", K_UDP, 0, "\x83\x07\x04\x00\x00\x00\x00\x00", 8, 4, .want = SL_DROP_IP_BAD_OPTIONS },
	{ "ip opt ssrr", K_UDP, 0, "\x89\x07\x04\x00\x00\x00\x00\x00", 8, 4, .want = SL_DROP_IP_BAD_OPTIONS },
	{ "ip opt garbage after eol ignored", K_UDP, 0, "\x00\x07\x00\x00", 4, 4, .want = SL_DROP_NONE },
	{ "ip opts bad beats ttl 0", K_UDP, 0, "\x07\x00\x00\x00", 4, 4, { P(L3, 8, 0) }, 1, .fix_ip = true,
	  .want = SL_DROP_IP_BAD_OPTIONS },
	{ "ip ttl 0", K_UDP, 0, NULL, 0, 4, { P(L3, 8, 0) }, 1, .fix_ip = true, .want = SL_DROP_IP_TTL_EXPIRED },
	{ "ip ttl 0 beats bad src", K_UDP, 0, NULL, 0, 4, { P(L3, 8, 0), P(L3, 12, 127) }, 2, .fix_ip = true,
	  .want = SL_DROP_IP_TTL_EXPIRED },
	{ "ip ttl 1 ok", K_UDP, 0, NULL, 0, 4, { P(L3, 8, 1) }, 1, .fix_ip = true, .want = SL_DROP_NONE },
	{ "ip src 0.0.0.0", K_UDP, 0, NULL, 0, 4, { P(L3, 12, 0), P(L3, 13, 0), P(L3, 14, 0), P(L3, 15, 0) }, 4,
	  .fix_ip = true, .fix_l4 = true, .want = SL_DROP_IP_BAD_SRC },
	{ "ip src 255.255.255.255", K_UDP, 0, NULL, 0, 4,
	  { P(L3, 12, 255), P(L3, 13, 255), P(L3, 14, 255), P(L3, 15, 255) }, 4, .fix_ip = true, .fix_l4 = true,
	  .want = SL_DROP_IP_BAD_SRC },
	{ "ip src multicast 224", K_UDP, 0, NULL, 0, 4, { P(L3, 12, 224) }, 1, .fix_ip = true, .fix_l4 = true,
	  .want = SL_DROP_IP_BAD_SRC },
	{ "ip src multicast 239", K_UDP, 0, NULL, 0, 4, { P(L3, 12, 239) }, 1, .fix_ip = true, .fix_l4 = true,
	  .want = SL_DROP_IP_BAD_SRC },
	{ "ip src loopback", K_UDP, 0, NULL, 0, 4, { P(L3, 12, 127) }, 1, .fix_ip = true, .fix_l4 = true,
	  .want = SL_DROP_IP_BAD_SRC },
	{ "ip src class e", K_UDP, 0, NULL, 0, 4, { P(L3, 12, 240) }, 1, .fix_ip = true, .fix_l4 = true,
	  .want = SL_DROP_IP_BAD_SRC },
	{ "ip src 223 ok", K_UDP, 0, NULL, 0, 4, { P(L3, 12, 223) }, 1, .fix_ip = true, .fix_l4 = true,
	  .want = SL_DROP_NONE },
	{ "ip bad src beats frag", K_UDP, 0, NULL, 0, 4, { P(L3, 12, 0), P(L3, 6, 0x20) }, 2, .fix_ip = true,
	  .want = SL_DROP_IP_BAD_SRC },
	{ "ip frag MF", K_UDP, 0, NULL, 0, 4, { P(L3, 6, 0x20) }, 1, .fix_ip = true, .want = SL_DROP_IP_FRAG },
	{ "ip frag MF+DF", K_UDP, 0, NULL, 0, 4, { P(L3, 6, 0x60) }, 1, .fix_ip = true, .want = SL_DROP_IP_FRAG },
	{ "ip frag offset 8", K_UDP, 0, NULL, 0, 4, { P(L3, 6, 0x00), P(L3, 7, 0x01) }, 2, .fix_ip = true,
	  .want = SL_DROP_IP_FRAG },
	{ "ip frag high offset bits", K_UDP, 0, NULL, 0, 4, { P(L3, 6, 0x1f) }, 1, .fix_ip = true,
	  .want = SL_DROP_IP_FRAG },
	{ "ip reserved flag only ok", K_UDP, 0, NULL, 0, 4, { P(L3, 6, 0x80) }, 1, .fix_ip = true,
	  .want = SL_DROP_NONE },

	/* ICMP */
	{ "icmp truncated 4", K_ICMP, 0, NULL, 0, 0, { P(L3, 3, 24) }, 1, .fix_ip = true,
	  .want = SL_DROP_ICMP_TRUNCATED },
	{ "icmp truncated 0", K_ICMP, 0, NULL, 0, 0, { P(L3, 3, 20) }, 1, .fix_ip = true,
	  .want = SL_DROP_ICMP_TRUNCATED },
	{ "icmp bad csum", K_ICMP, 0, NULL, 0, 16, { P(L4, 9, 0x55) }, 1, .want = SL_DROP_ICMP_BAD_CSUM },
	{ "icmp csum ignores padding only when in total len", K_ICMP, 0, NULL, 0, 16,
	  { P(L3, 3, 20 + 8 + 16 + 2) }, 1, .fix_ip = true, .len_adj = 2, .want = SL_DROP_ICMP_BAD_CSUM },
	{ "icmp echo reply unhandled", K_ICMP, 0, NULL, 0, 8, { P(L4, 0, 0) }, 1, .fix_l4 = true,
	  .want = SL_DROP_ICMP_UNHANDLED },
	{ "icmp dest unreach unhandled", K_ICMP, 0, NULL, 0, 8, { P(L4, 0, 3), P(L4, 1, 3) }, 2, .fix_l4 = true,
	  .want = SL_DROP_ICMP_UNHANDLED },
	{ "icmp echo code 1 unhandled", K_ICMP, 0, NULL, 0, 8, { P(L4, 1, 1) }, 1, .fix_l4 = true,
	  .want = SL_DROP_ICMP_UNHANDLED },
	{ "icmp bad csum beats unhandled", K_ICMP, 0, NULL, 0, 8, { P(L4, 0, 13) }, 1,
	  .want = SL_DROP_ICMP_BAD_CSUM },

	/* UDP */
	{ "udp truncated ip payload 6", K_UDP, 0, NULL, 0, 0, { P(L3, 3, 26) }, 1, .fix_ip = true,
	  .want = SL_DROP_UDP_TRUNCATED },
	{ "udp length 7", K_UDP, 0, NULL, 0, 4, { P(L4, 5, 7) }, 1, .want = SL_DROP_UDP_TRUNCATED },
	{ "udp length 0", K_UDP, 0, NULL, 0, 4, { P(L4, 5, 0) }, 1, .want = SL_DROP_UDP_TRUNCATED },
	{ "udp length > ip payload", K_UDP, 0, NULL, 0, 4, { P(L4, 5, 13) }, 1, .want = SL_DROP_UDP_TRUNCATED },
	{ "udp length covers eth padding only", K_UDP, 0, NULL, 0, 4, { P(L4, 5, 20) }, 1, .len_adj = 10,
	  .want = SL_DROP_UDP_TRUNCATED },
	{ "udp bad csum", K_UDP, 0, NULL, 0, 4, { P(L4, 9, 0x99) }, 1, .want = SL_DROP_UDP_BAD_CSUM },
	{ "udp bad csum via pseudo header (dst changed)", K_UDP, 0, NULL, 0, 4, { P(L3, 19, 7) }, 1,
	  .fix_ip = true, .want = SL_DROP_UDP_BAD_CSUM },
	{ "udp csum forced to 0xffff", K_UDP, 0, NULL, 0, 4, { P(L4, 6, 0xff), P(L4, 7, 0xff) }, 2,
	  .want = SL_DROP_UDP_BAD_CSUM },
};

static void craft(const struct row *r, struct tframe *f)
{
	uint8_t payload[256];
	uint32_t base;

	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	switch (r->kind) {
	case K_UDP:
		tf_ipv4(f, r->vid, 17, (const uint8_t *)r->opts, r->optlen, payload, r->plen);
		break;
	case K_ICMP:
		tf_ipv4(f, r->vid, 1, (const uint8_t *)r->opts, r->optlen, payload, r->plen);
		break;
	case K_TCP:
		tf_ipv4(f, r->vid, 6, (const uint8_t *)r->opts, r->optlen, payload, r->plen);
		break;
	case K_GRE:
		tf_ipv4(f, r->vid, 47, (const uint8_t *)r->opts, r->optlen, payload, r->plen);
		break;
	case K_ARP_REQ:
		tf_arp(f, r->vid, 1);
		break;
	case K_ARP_REP:
		tf_arp(f, r->vid, 2);
		break;
	}
	for (unsigned i = 0; i < r->npatch; i++) {
		base = r->patch[i].layer == L2 ? 0 : r->patch[i].layer == L3 ? f->l3 : f->l4;
		f->b[base + r->patch[i].off] = r->patch[i].val;
	}
	if (r->fix_ip)
		tf_fix_ip(f);
	if (r->fix_l4)
		tf_fix_l4(f);
	if (r->len_adj > 0)
		memset(f->b + f->len, 0xab, (size_t)r->len_adj);
	f->len = (uint32_t)((int32_t)f->len + r->len_adj);
	if (r->set_len > 0)
		f->len = (uint32_t)r->set_len;
	else if (r->set_len < 0)
		f->len = 0;
}

Test(net_parse, table)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct tframe f;
		struct sl_pkt p;
		enum sl_drop d;

		craft(r, &f);
		memset(&p, 0x5a, sizeof(p));
		d = tf_pipeline(f.b, f.len, &p);
		cr_expect_eq(d, r->want, "row %zu \"%s\": got %s, want %s", i, r->name, sl_drop_name(d),
			     sl_drop_name(r->want));
	}
}

/* Every drop reason that belongs to the parsers is reached by some row. */
Test(net_parse, table_covers_parser_reasons)
{
	static const enum sl_drop owned[] = {
		SL_DROP_NONE, SL_DROP_ETH_RUNT, SL_DROP_ETH_BAD_VLAN, SL_DROP_ETH_UNKNOWN_TYPE,
		SL_DROP_ARP_MALFORMED, SL_DROP_IP_TRUNCATED, SL_DROP_IP_BAD_VERSION, SL_DROP_IP_BAD_IHL,
		SL_DROP_IP_BAD_TOTAL_LEN, SL_DROP_IP_BAD_CSUM, SL_DROP_IP_TTL_EXPIRED, SL_DROP_IP_BAD_OPTIONS,
		SL_DROP_IP_FRAG, SL_DROP_IP_BAD_SRC, SL_DROP_ICMP_TRUNCATED, SL_DROP_ICMP_BAD_CSUM,
		SL_DROP_ICMP_UNHANDLED, SL_DROP_UDP_TRUNCATED, SL_DROP_UDP_BAD_CSUM, SL_DROP_L4_UNHANDLED,
	};
	for (size_t k = 0; k < sizeof(owned) / sizeof(owned[0]); k++) {
		bool seen = false;
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			seen |= rows[i].want == owned[k];
		cr_expect(seen, "no row reaches %s", sl_drop_name(owned[k]));
	}
}

Test(net_parse, udp_fields)
{
	struct tframe f;
	struct sl_pkt p;
	const uint8_t pl[5] = { 1, 2, 3, 4, 5 };

	tf_ipv4(&f, 0, 17, NULL, 0, pl, sizeof(pl));
	cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE);
	cr_expect_eq(p.l2_len, 14);
	cr_expect_eq(p.l3_off, 14);
	cr_expect_eq(p.vlan_tci, 0);
	cr_expect_eq(p.ethertype, SL_ETHERTYPE_IPV4_BE);
	cr_expect(memcmp(p.eth_src, MAC_CLI, 6) == 0);
	cr_expect(memcmp(p.eth_dst, MAC_SE, 6) == 0);
	cr_expect_eq(p.ip_hlen, 20);
	cr_expect_eq(p.ip_total_len_h, 20 + 8 + 5);
	cr_expect_eq(p.ip_total_len, sl_htons(20 + 8 + 5));
	cr_expect_eq(p.ip_proto, 17);
	cr_expect_eq(p.ip_ttl, 64);
	cr_expect_eq(p.ip_frag, false);
	cr_expect_eq(p.ip_src, IP4(198, 18, 0, 2));
	cr_expect_eq(p.ip_dst, IP4(198, 18, 0, 1));
	cr_expect_eq(p.l4_off, 34);
	cr_expect_eq(p.l4_len, 13);
	cr_expect_eq(p.sport, sl_htons(40000));
	cr_expect_eq(p.dport, sl_htons(53));
}

Test(net_parse, vlan_and_options_offsets)
{
	struct tframe f;
	struct sl_pkt p;

	tf_ipv4(&f, 0x2064, 17, (const uint8_t *)"\x01\x01\x01\x00\x01\x01\x01\x00", 8, NULL, 0);
	cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE);
	cr_expect_eq(p.l2_len, 18);
	cr_expect_eq(p.l3_off, 18);
	cr_expect_eq(p.vlan_tci, sl_htons(0x2064));
	cr_expect_eq(p.ethertype, SL_ETHERTYPE_IPV4_BE);
	cr_expect_eq(p.ip_hlen, 28);
	cr_expect_eq(p.l4_off, 18 + 28);
	cr_expect_eq(p.l4_len, 8);
}

/* Ethernet padding past the IP total length is not L4, even when it would
 * break the checksum if it were. */
Test(net_parse, eth_padding_ignored)
{
	for (uint32_t pad = 0; pad < 64; pad++) {
		struct tframe f;
		struct sl_pkt p;
		const uint8_t pl[3] = { 9, 8, 7 };

		tf_ipv4(&f, 0, 17, NULL, 0, pl, 3);
		memset(f.b + f.len, 0xa5, pad);
		f.len += pad;
		cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE, "pad %u", pad);
		cr_expect_eq(p.l4_len, 11, "pad %u", pad);

		tf_ipv4(&f, 3, 1, NULL, 0, pl, 3);
		memset(f.b + f.len, 0xa5, pad);
		f.len += pad;
		cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE, "icmp pad %u", pad);
		cr_expect_eq(p.l4_len, 11, "icmp pad %u", pad);
	}
}

Test(net_parse, udp_trim_to_length_field)
{
	struct tframe f;
	struct sl_pkt p;
	uint8_t pl[12] = { 0 };

	tf_ipv4(&f, 0, 17, NULL, 0, pl, sizeof(pl));
	put16(f.b + f.l4 + 4, 10); /* 2 bytes of payload, 10 trailing */
	tf_fix_l4(&f);
	cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE);
	cr_expect_eq(p.l4_len, 10);
}

Test(net_parse, arp_fields)
{
	struct tframe f;
	struct sl_pkt p;

	tf_arp(&f, 12, 1);
	cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE);
	cr_expect_eq(p.ethertype, SL_ETHERTYPE_ARP_BE);
	cr_expect_eq(p.vlan_tci, sl_htons(12));
	cr_expect_eq(p.arp_op, SL_ARP_OP_REQUEST_BE);
	cr_expect(memcmp(p.sha, MAC_CLI, 6) == 0);
	cr_expect(memcmp(p.tha, MAC_ZERO, 6) == 0);
	cr_expect_eq(p.spa, IP4(198, 18, 0, 2));
	cr_expect_eq(p.tpa, IP4(198, 18, 0, 1));
}

/* Every truncation of a good frame is rejected without reading past len
 * (run under ASan in the sanitize build) and never returns NONE with L4
 * beyond the given length. */
Test(net_parse, every_prefix)
{
	struct tframe f;
	const uint8_t pl[20] = { 1 };

	for (int kind = 0; kind < 3; kind++) {
		if (kind == 0)
			tf_ipv4(&f, 0, 17, (const uint8_t *)"\x07\x07\x04\x00\x00\x00\x00\x00", 8, pl, 20);
		else if (kind == 1)
			tf_ipv4(&f, 5, 1, NULL, 0, pl, 20);
		else
			tf_arp(&f, 0, 2);
		for (uint32_t n = 0; n < f.len; n++) {
			uint8_t copy[2048];
			struct sl_pkt p;
			enum sl_drop d;

			memcpy(copy, f.b, n);
			d = tf_pipeline(copy, n, &p);
			cr_expect_neq(d, SL_DROP_NONE, "kind %d prefix %u accepted", kind, n);
		}
	}
}

Test(net_parse, drop_names)
{
	static const char *const want[] = {
		"none", "eth_runt", "eth_bad_vlan", "eth_unknown_type", "arp_malformed", "arp_not_for_us",
		"ip_truncated", "ip_bad_version", "ip_bad_ihl", "ip_bad_total_len", "ip_bad_csum",
		"ip_ttl_expired", "ip_bad_options", "ip_frag", "ip_bad_src", "ip_not_for_us",
		"icmp_truncated", "icmp_bad_csum", "icmp_unhandled", "udp_truncated", "udp_bad_csum",
		"udp_no_listener", "l4_unhandled", "arp_pending_full", "arp_unresolved", "handoff_full",
		"tx_full", "impair_drop", "tcp_truncated", "tcp_bad_csum", "tcp_malformed",
	};
	cr_assert_eq(sizeof(want) / sizeof(want[0]), SL_DROP__MAX);
	for (int i = 0; i < SL_DROP__MAX; i++)
		cr_expect_str_eq(sl_drop_name((enum sl_drop)i), want[i]);
	cr_expect_str_eq(sl_drop_name(SL_DROP__MAX), "unknown");
	cr_expect_str_eq(sl_drop_name((enum sl_drop)-1), "unknown");
}
