/* The fuzz seed corpus is built by scapy (tests/fuzz/net/make_corpus.py), an
 * implementation independent of ours: each seed must get the verdict its
 * name promises, and every seed must be listed here. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>

#include "frames.h"

static const struct {
	const char *name;
	enum sl_drop want;
} seeds[] = {
	{ "udp_dns_query", SL_DROP_NONE },          { "udp_dns_query_vlan", SL_DROP_NONE },
	{ "udp_echo_small", SL_DROP_NONE },         { "udp_empty", SL_DROP_NONE },
	{ "udp_zero_csum", SL_DROP_NONE },          { "udp_padded", SL_DROP_NONE },
	{ "udp_len_short", SL_DROP_NONE },          { "udp_backend", SL_DROP_NONE },
	{ "udp_router_alert", SL_DROP_NONE },       { "icmp_echo", SL_DROP_NONE },
	{ "icmp_echo_vlan_prio", SL_DROP_NONE },    { "icmp_echo_opts", SL_DROP_NONE },
	{ "icmp_echo_padded", SL_DROP_NONE },       { "ip_dst_loop_echo", SL_DROP_NONE },
	{ "arp_request", SL_DROP_NONE },            { "arp_request_vip_vlan", SL_DROP_NONE },
	{ "arp_reply", SL_DROP_NONE },              { "arp_gratuitous", SL_DROP_NONE },
	{ "arp_probe", SL_DROP_NONE },              { "tcp_syn", SL_DROP_L4_UNHANDLED },
	{ "ip_gre", SL_DROP_L4_UNHANDLED },         { "runt_13", SL_DROP_ETH_RUNT },
	{ "runt_vlan_16", SL_DROP_ETH_RUNT },       { "qinq", SL_DROP_ETH_BAD_VLAN },
	{ "qinq_8100_8100", SL_DROP_ETH_BAD_VLAN }, { "vlan_4095", SL_DROP_ETH_BAD_VLAN },
	{ "ipv6_type", SL_DROP_ETH_UNKNOWN_TYPE },  { "llc_length", SL_DROP_ETH_UNKNOWN_TYPE },
	{ "arp_htype6", SL_DROP_ARP_MALFORMED },    { "arp_op3", SL_DROP_ARP_MALFORMED },
	{ "arp_truncated", SL_DROP_ARP_MALFORMED }, { "arp_sha_bcast", SL_DROP_ARP_MALFORMED },
	{ "ip_truncated", SL_DROP_IP_TRUNCATED },   { "ip_version6", SL_DROP_IP_BAD_VERSION },
	{ "ip_ihl4", SL_DROP_IP_BAD_IHL },          { "ip_ihl15", SL_DROP_IP_BAD_IHL },
	{ "ip_total_big", SL_DROP_IP_BAD_TOTAL_LEN }, { "ip_total_small", SL_DROP_IP_BAD_TOTAL_LEN },
	{ "ip_bad_csum", SL_DROP_IP_BAD_CSUM },     { "ip_ttl0", SL_DROP_IP_TTL_EXPIRED },
	{ "ip_opt_badlen", SL_DROP_IP_BAD_OPTIONS }, { "ip_opt_lsrr", SL_DROP_IP_BAD_OPTIONS },
	{ "ip_src_zero", SL_DROP_IP_BAD_SRC },      { "ip_src_bcast", SL_DROP_IP_BAD_SRC },
	{ "ip_src_mcast", SL_DROP_IP_BAD_SRC },     { "ip_src_loop", SL_DROP_IP_BAD_SRC },
	{ "ip_src_classe", SL_DROP_IP_BAD_SRC },    { "ip_frag_mf", SL_DROP_IP_FRAG },
	{ "ip_frag_off", SL_DROP_IP_FRAG },         { "icmp_truncated", SL_DROP_ICMP_TRUNCATED },
	{ "icmp_bad_csum", SL_DROP_ICMP_BAD_CSUM }, { "icmp_unreach", SL_DROP_ICMP_UNHANDLED },
	{ "icmp_echo_reply", SL_DROP_ICMP_UNHANDLED }, { "udp_truncated", SL_DROP_UDP_TRUNCATED },
	{ "udp_len_7", SL_DROP_UDP_TRUNCATED },     { "udp_len_big", SL_DROP_UDP_TRUNCATED },
	{ "udp_bad_csum", SL_DROP_UDP_BAD_CSUM },
};

#define N_SEEDS (sizeof(seeds) / sizeof(seeds[0]))

Test(net_corpus, seeds_get_their_verdict)
{
	DIR *d = opendir(SL_NET_CORPUS);
	struct dirent *e;
	bool seen[N_SEEDS] = { false };
	unsigned files = 0;

	cr_assert_not_null(d, "cannot open %s", SL_NET_CORPUS);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char path[512];
		uint8_t buf[2048];
		struct sl_pkt p;
		size_t i, len;
		FILE *fp;

		if (n < 5 || strcmp(e->d_name + n - 4, ".bin"))
			continue;
		files++;
		for (i = 0; i < N_SEEDS; i++)
			if (strlen(seeds[i].name) == n - 4 && !strncmp(seeds[i].name, e->d_name, n - 4))
				break;
		cr_expect_lt(i, N_SEEDS, "seed %s has no expected verdict here", e->d_name);
		if (i == N_SEEDS)
			continue;
		seen[i] = true;
		snprintf(path, sizeof(path), "%s/%s", SL_NET_CORPUS, e->d_name);
		fp = fopen(path, "rb");
		cr_assert_not_null(fp, "%s", path);
		len = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		enum sl_drop got = tf_pipeline(buf, (uint32_t)len, &p);
		cr_expect_eq(got, seeds[i].want, "%s: got %s, want %s", seeds[i].name, sl_drop_name(got),
			     sl_drop_name(seeds[i].want));
	}
	closedir(d);
	for (size_t i = 0; i < N_SEEDS; i++)
		cr_expect(seen[i], "seed %s.bin missing from the corpus", seeds[i].name);
	cr_expect_eq(files, N_SEEDS);
}
