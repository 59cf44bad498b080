/* Builders and checksum helpers: built frames parse back through the same
 * parsers, checksums agree with a byte-wise reference. */
#include <criterion/criterion.h>

#include "frames.h"

/* ---- checksums --------------------------------------------------------- */

Test(net_csum, rfc1071_example)
{
	/* RFC 1071 section 3 example: sum ddf2, checksum 220d. */
	const uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t c = sl_inet_csum(b, sizeof(b));

	cr_expect_eq(get16((const uint8_t *)&c), 0x220d);
	cr_expect_eq(ref_csum(b, sizeof(b)), 0x220d);
}

Test(net_csum, matches_reference_all_lengths_and_alignments)
{
	static uint8_t buf[1600 + 8];
	uint64_t s = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)tf_rand(&s);
	for (uint32_t off = 0; off < 8; off++) {
		for (uint32_t len = 0; len <= 1600; len++) {
			uint16_t c = sl_inet_csum(buf + off, len);
			cr_assert_eq(get16((const uint8_t *)&c), ref_csum(buf + off, len), "off %u len %u", off, len);
		}
	}
	/* All-ones data exercises carry folding. */
	memset(buf, 0xff, sizeof(buf));
	for (uint32_t len = 0; len <= 1600; len += 7) {
		uint16_t c = sl_inet_csum(buf, len);
		cr_assert_eq(get16((const uint8_t *)&c), ref_csum(buf, len), "ff len %u", len);
	}
}

Test(net_csum, large_buffer_no_overflow)
{
	static uint8_t big[65535];
	uint16_t c;

	memset(big, 0xff, sizeof(big));
	c = sl_inet_csum(big, sizeof(big));
	cr_expect_eq(get16((const uint8_t *)&c), ref_csum(big, sizeof(big)));
}

Test(net_csum, ipv4_hdr_and_l4)
{
	struct tframe f;
	const uint8_t pl[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	uint8_t *h;
	uint16_t stored, c;

	tf_ipv4(&f, 0, 17, (const uint8_t *)"\x01\x01\x01\x00", 4, pl, sizeof(pl));
	h = f.b + f.l3;
	memcpy(&stored, h + 10, 2);
	cr_expect_eq(sl_ipv4_hdr_csum(h), stored, "hdr csum ignores the stored value");
	h[10] ^= 0x5a; /* must not matter: computed as if zero */
	cr_expect_eq(sl_ipv4_hdr_csum(h), stored);
	h[10] ^= 0x5a;
	cr_expect_eq(sl_inet_csum(h, 24), 0);

	uint32_t src, dst;
	memcpy(&src, h + 12, 4);
	memcpy(&dst, h + 16, 4);
	cr_expect_eq(sl_l4_csum(src, dst, 17, f.b + f.l4, f.l4_len), 0, "valid segment sums to 0");
	memcpy(&stored, f.b + f.l4 + 6, 2);
	f.b[f.l4 + 6] = f.b[f.l4 + 7] = 0;
	c = sl_l4_csum(src, dst, 17, f.b + f.l4, f.l4_len);
	cr_expect_eq(c, stored);
}

Test(net_csum, incremental_update_matches_full)
{
	uint8_t b[64];
	uint64_t s = 12345;

	for (int it = 0; it < 2000; it++) {
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)tf_rand(&s);
		b[0] = b[1] = 0;
		uint16_t c = sl_inet_csum(b, sizeof(b)), old, nw;
		memcpy(b, &c, 2);
		unsigned at = 2 + 2 * (unsigned)(tf_rand(&s) % 31);
		memcpy(&old, b + at, 2);
		nw = (uint16_t)tf_rand(&s);
		memcpy(b + at, &nw, 2);
		c = sl_csum_update16(c, old, nw);
		memcpy(b, &c, 2);
		cr_assert_eq(sl_inet_csum(b, sizeof(b)), 0, "iteration %d", it);
	}
}

/* ---- ARP --------------------------------------------------------------- */

Test(net_build, arp_build_parse_back)
{
	static const uint16_t tcis[] = { 0, 0x0064, 0xe001 };

	for (unsigned t = 0; t < 3; t++) {
		uint8_t buf[64];
		struct sl_pkt p;
		uint16_t tci = tcis[t];
		uint32_t n = sl_arp_build(buf, SL_ARP_OP_REQUEST, MAC_SE, IP4(198, 18, 0, 1), MAC_ZERO,
					  IP4(198, 18, 0, 2), MAC_BCAST, tci);

		cr_assert_eq(n, tci ? 46u : 42u);
		cr_assert_eq(tf_pipeline(buf, n, &p), SL_DROP_NONE);
		cr_expect_eq(p.vlan_tci, sl_htons(tci));
		if (tci)
			cr_expect_eq(get16(buf + 14), tci, "TCI on the wire");
		cr_expect_eq(p.ethertype, SL_ETHERTYPE_ARP_BE);
		cr_expect(memcmp(p.eth_dst, MAC_BCAST, 6) == 0);
		cr_expect(memcmp(p.eth_src, MAC_SE, 6) == 0);
		cr_expect_eq(p.arp_op, SL_ARP_OP_REQUEST_BE);
		cr_expect(memcmp(p.sha, MAC_SE, 6) == 0);
		cr_expect(memcmp(p.tha, MAC_ZERO, 6) == 0);
		cr_expect_eq(p.spa, IP4(198, 18, 0, 1));
		cr_expect_eq(p.tpa, IP4(198, 18, 0, 2));
	}
}

Test(net_build, gratuitous_arp)
{
	uint8_t buf[64];
	struct sl_pkt p;
	uint32_t vip = IP4(198, 18, 0, 10);
	uint32_t n = sl_arp_build(buf, SL_ARP_OP_REQUEST, MAC_SE, vip, MAC_ZERO, vip, MAC_BCAST, 0);

	cr_assert_eq(n, 42);
	cr_assert_eq(tf_pipeline(buf, n, &p), SL_DROP_NONE);
	cr_expect_eq(p.spa, vip);
	cr_expect_eq(p.tpa, vip);
	/* Byte-exact check against the wire layout. */
	cr_expect_eq(get16(buf + 12), 0x0806);
	cr_expect_eq(get16(buf + 14), 1);
	cr_expect_eq(get16(buf + 16), 0x0800);
	cr_expect_eq(buf[18], 6);
	cr_expect_eq(buf[19], 4);
	cr_expect_eq(get16(buf + 20), 1);
}

Test(net_build, arp_reply_inplace)
{
	for (int tagged = 0; tagged < 2; tagged++) {
		struct tframe f;
		struct sl_pkt p, r;
		uint32_t n;

		tf_arp(&f, tagged ? 33 : 0, 1);
		f.len += 18; /* padding the reply must drop */
		cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE);
		n = sl_arp_reply_inplace(f.b, &p, MAC_SE);
		cr_assert_eq(n, tagged ? 46u : 42u);
		cr_assert_eq(tf_pipeline(f.b, n, &r), SL_DROP_NONE);
		cr_expect_eq(r.vlan_tci, p.vlan_tci);
		cr_expect_eq(r.arp_op, SL_ARP_OP_REPLY_BE);
		cr_expect(memcmp(r.eth_dst, MAC_CLI, 6) == 0);
		cr_expect(memcmp(r.eth_src, MAC_SE, 6) == 0);
		cr_expect(memcmp(r.sha, MAC_SE, 6) == 0);
		cr_expect(memcmp(r.tha, MAC_CLI, 6) == 0);
		cr_expect_eq(r.spa, IP4(198, 18, 0, 1));
		cr_expect_eq(r.tpa, IP4(198, 18, 0, 2));
	}
}

/* ---- ICMP echo --------------------------------------------------------- */

struct echo_case {
	uint16_t vid;
	const char *opts;
	uint8_t optlen;
	uint16_t plen;
	uint8_t pad;
};

Test(net_build, icmp_echo_reply_inplace)
{
	static const struct echo_case cases[] = {
		{ 0, NULL, 0, 56, 0 }, { 0, NULL, 0, 0, 18 }, { 0, NULL, 0, 1, 0 },
		{ 77, NULL, 0, 33, 5 }, { 0, "\x01\x01\x01\x00", 4, 56, 0 },
		{ 9, "\x07\x07\x04\x00\x00\x00\x00\x00", 8, 101, 3 }, { 0, NULL, 0, 1400, 0 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct echo_case *c = &cases[i];
		uint8_t payload[1500];
		struct tframe f;
		struct sl_pkt p, r;
		uint32_t n;

		for (unsigned k = 0; k < c->plen; k++)
			payload[k] = (uint8_t)(k ^ 0x3c);
		tf_ipv4(&f, c->vid, 1, (const uint8_t *)c->opts, c->optlen, payload, c->plen);
		memset(f.b + f.len, 0xee, c->pad);
		f.len += c->pad;
		cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE, "case %u", i);

		n = sl_icmp_echo_reply_inplace(f.b, &p, MAC_SE);
		cr_assert_eq(n, p.l3_off + 20u + c->optlen + 8u + c->plen, "case %u", i);
		memset(&r, 0, sizeof(r));
		cr_assert_eq(sl_eth_parse(f.b, n, &r), SL_DROP_NONE);
		cr_assert_eq(sl_ipv4_parse(f.b + r.l3_off, n - r.l3_off, &r), SL_DROP_NONE, "case %u", i);
		/* An echo reply is not something we answer, but its checksum is valid. */
		cr_expect_eq(sl_icmp_parse(f.b + r.l4_off, r.l4_len, &r), SL_DROP_ICMP_UNHANDLED, "case %u", i);
		cr_expect_eq(ref_csum(f.b + r.l4_off, r.l4_len), 0, "case %u icmp csum", i);
		cr_expect_eq(r.icmp_type, 0);
		cr_expect_eq(r.icmp_code, 0);
		cr_expect_eq(r.vlan_tci, p.vlan_tci);
		cr_expect(memcmp(r.eth_dst, MAC_CLI, 6) == 0);
		cr_expect(memcmp(r.eth_src, MAC_SE, 6) == 0);
		cr_expect_eq(r.ip_src, p.ip_dst);
		cr_expect_eq(r.ip_dst, p.ip_src);
		cr_expect_eq(r.ip_ttl, 64);
		cr_expect_eq(r.ip_hlen, 20 + c->optlen, "options echoed");
		if (c->optlen)
			cr_expect(memcmp(f.b + r.l3_off + 20, c->opts, c->optlen) == 0);
		cr_expect_eq(r.ip_proto, 1);
		cr_expect_eq(r.l4_len, 8 + c->plen);
		cr_expect_eq(get16(f.b + r.l4_off + 4), 0x1234, "id kept");
		cr_expect_eq(get16(f.b + r.l4_off + 6), 1, "seq kept");
		cr_expect(memcmp(f.b + r.l4_off + 8, payload, c->plen) == 0, "case %u payload", i);
	}
}

/* ---- UDP --------------------------------------------------------------- */

Test(net_build, udp_reply_inplace)
{
	static const struct echo_case cases[] = {
		{ 0, NULL, 0, 30, 0 }, { 0, NULL, 0, 30, 20 }, { 5, NULL, 0, 30, 0 },
		{ 0, "\x01\x01\x01\x00", 4, 30, 0 }, { 6, "\x07\x07\x04\x00\x00\x00\x00\x00", 8, 12, 7 },
	};
	static const uint32_t reply_lens[] = { 0, 1, 17, 300, 1200 };

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (unsigned j = 0; j < sizeof(reply_lens) / sizeof(reply_lens[0]); j++) {
			for (int csum = 0; csum < 2; csum++) {
				const struct echo_case *c = &cases[i];
				uint8_t q[64] = { 0 };
				uint8_t answer[1500];
				struct tframe f;
				struct sl_pkt p, r;
				uint32_t n, rl = reply_lens[j];

				tf_ipv4(&f, c->vid, 17, (const uint8_t *)c->opts, c->optlen, q, c->plen);
				memset(f.b + f.len, 0xee, c->pad);
				f.len += c->pad;
				cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE);
				for (unsigned k = 0; k < rl; k++)
					answer[k] = (uint8_t)(k * 13 + i);
				memcpy(sl_udp_payload(f.b, &p), answer, rl);

				n = sl_udp_reply_inplace(f.b, &p, MAC_SE, rl, csum);
				cr_assert_eq(n, p.l3_off + 28u + rl);
				cr_assert_eq(tf_pipeline(f.b, n, &r), SL_DROP_NONE, "case %u/%u/%d", i, j, csum);
				cr_expect_eq(r.ip_hlen, 20);
				cr_expect_eq(r.ip_ttl, 64);
				cr_expect_eq(r.ip_src, p.ip_dst);
				cr_expect_eq(r.ip_dst, p.ip_src);
				cr_expect_eq(r.sport, p.dport);
				cr_expect_eq(r.dport, p.sport);
				cr_expect_eq(r.l4_len, 8 + rl);
				cr_expect_eq(r.vlan_tci, p.vlan_tci);
				cr_expect(memcmp(r.eth_dst, MAC_CLI, 6) == 0);
				cr_expect(memcmp(r.eth_src, MAC_SE, 6) == 0);
				cr_expect(memcmp(f.b + r.l4_off + 8, answer, rl) == 0, "payload moved intact");
				if (csum)
					cr_expect_neq(get16(f.b + r.l4_off + 6), 0);
				else
					cr_expect_eq(get16(f.b + r.l4_off + 6), 0);
			}
		}
	}
}

Test(net_build, udp_reply_too_big)
{
	static uint8_t big[70000];
	struct tframe f;
	struct sl_pkt p;

	tf_ipv4(&f, 0, 17, NULL, 0, NULL, 0);
	cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE);
	memcpy(big, f.b, f.len);
	cr_expect_eq(sl_udp_reply_inplace(big, &p, MAC_SE, 65535 - 28 + 1, true), 0);
	cr_expect_eq(sl_udp_reply_inplace(big, &p, MAC_SE, 65535 - 28, true), 14 + 65535);
}

Test(net_build, ipv4_udp_build)
{
	static const uint16_t tcis[] = { 0, 0x0123 };
	static const uint32_t lens[] = { 0, 1, 2, 3, 511, 1472 };

	for (unsigned t = 0; t < 2; t++) {
		for (unsigned j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			for (int csum = 0; csum < 2; csum++) {
				uint8_t buf[1600];
				struct sl_pkt p;
				uint16_t tci = tcis[t];
				uint32_t off = sl_udp_payload_off(tci), n;

				for (uint32_t k = 0; k < lens[j]; k++)
					buf[off + k] = (uint8_t)(k + 1);
				n = sl_ipv4_udp_build(buf, MAC_SE, MAC_CLI, tci, IP4(198, 18, 1, 1), IP4(198, 18, 1, 2),
						      sl_htons(33000), sl_htons(53), lens[j], csum);
				cr_assert_eq(n, off + lens[j]);
				cr_assert_eq(tf_pipeline(buf, n, &p), SL_DROP_NONE);
				cr_expect_eq(p.vlan_tci, sl_htons(tci));
				cr_expect_eq(p.ip_src, IP4(198, 18, 1, 1));
				cr_expect_eq(p.ip_dst, IP4(198, 18, 1, 2));
				cr_expect_eq(p.sport, sl_htons(33000));
				cr_expect_eq(p.dport, sl_htons(53));
				cr_expect_eq(p.l4_len, 8 + lens[j]);
				cr_expect_eq(p.ip_frag, false);
				cr_expect_eq(get16(buf + p.l3_off + 6), 0x4000, "DF");
				cr_expect(memcmp(p.eth_src, MAC_SE, 6) == 0);
				cr_expect(memcmp(p.eth_dst, MAC_CLI, 6) == 0);
				cr_expect_eq(ref_csum(buf + p.l3_off, 20), 0);
				if (csum) {
					/* Verify with the reference too, not only with sl_udp_parse. */
					uint32_t s = ref_sum(buf + p.l3_off + 12, 8, 0) + 17 + p.l4_len;
					cr_expect_eq(ref_fold(ref_sum(buf + p.l4_off, p.l4_len, s)), 0);
				}
			}
		}
	}
}

Test(net_build, ipv4_hdr_build)
{
	uint8_t h[20];
	struct sl_pkt p = { .l3_off = 0 };
	uint8_t frame[20 + 40] = { 0 };

	cr_assert_eq(sl_ipv4_hdr_build(h, IP4(198, 18, 0, 1), IP4(198, 18, 0, 2), 6, 64, sl_htons(7), 40), 20);
	memcpy(frame, h, 20);
	cr_assert_eq(sl_ipv4_parse(frame, sizeof(frame), &p), SL_DROP_NONE);
	cr_expect_eq(p.ip_proto, 6);
	cr_expect_eq(p.ip_total_len_h, 60);
	cr_expect_eq(p.l4_len, 40);
	cr_expect_eq(get16(h + 4), 7);
}

/* A priority tag (TCI 0) is still a tag: in-place replies must keep L3 where
 * it is and the tag on the wire. */
Test(net_build, inplace_keeps_priority_tag)
{
	struct tframe f;
	struct sl_pkt p, r;
	uint32_t n;

	tf_arp(&f, 5, 1);
	f.b[14] = f.b[15] = 0;
	cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE);
	cr_assert_eq(p.l2_len, 18);
	n = sl_arp_reply_inplace(f.b, &p, MAC_SE);
	cr_assert_eq(n, 46);
	cr_assert_eq(tf_pipeline(f.b, n, &r), SL_DROP_NONE);
	cr_expect_eq(r.l2_len, 18);
	cr_expect_eq(r.arp_op, SL_ARP_OP_REPLY_BE);

	tf_ipv4(&f, 5, 1, NULL, 0, (const uint8_t *)"ping", 4);
	f.b[14] = f.b[15] = 0;
	cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE);
	n = sl_icmp_echo_reply_inplace(f.b, &p, MAC_SE);
	cr_assert_eq(sl_eth_parse(f.b, n, &r), SL_DROP_NONE);
	cr_expect_eq(r.l2_len, 18);
	cr_expect_eq(sl_ipv4_parse(f.b + r.l3_off, n - r.l3_off, &r), SL_DROP_NONE);

	tf_ipv4(&f, 5, 17, NULL, 0, (const uint8_t *)"query", 5);
	f.b[14] = f.b[15] = 0;
	cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE);
	n = sl_udp_reply_inplace(f.b, &p, MAC_SE, 5, true);
	cr_assert_eq(tf_pipeline(f.b, n, &r), SL_DROP_NONE);
	cr_expect_eq(r.l2_len, 18);
	cr_expect_eq(r.vlan_tci, 0);
}

/* Found by fuzz_net: an echo request whose id, seq and payload are all zero
 * has checksum 0xf7ff; the reply is all zero and needs 0xffff, which the
 * incremental update alone gets wrong (+0 vs -0). */
Test(net_build, icmp_echo_reply_all_zero_message)
{
	struct tframe f;
	struct sl_pkt p, r;
	uint32_t n;

	tf_ipv4(&f, 0, 1, NULL, 0, NULL, 0);
	memset(f.b + f.l4 + 4, 0, 4); /* id 0, seq 0 */
	tf_fix_l4(&f);
	cr_assert_eq(get16(f.b + f.l4 + 2), 0xf7ff);
	cr_assert_eq(tf_pipeline(f.b, f.len, &p), SL_DROP_NONE);
	n = sl_icmp_echo_reply_inplace(f.b, &p, MAC_SE);
	cr_assert_eq(tf_pipeline(f.b, n, &r), SL_DROP_ICMP_UNHANDLED, "checksum verifies, type 0");
	cr_expect_eq(get16(f.b + r.l4_off + 2), 0xffff);
}
