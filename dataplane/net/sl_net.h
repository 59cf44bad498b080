/* sl_net.h - L2/L3/L4 header parsing and building on plain byte buffers.
 *
 * No DPDK, no allocation, no logging: the worker calls these per packet on
 * rte_pktmbuf_mtod() data. Parsers never read past the length they are
 * given and never write to the frame.
 *
 * Byte order (one rule, no exceptions):
 *   - values copied from a header (addresses, ports, ethertype, VLAN TCI,
 *     ARP op, IP total length) are kept in NETWORK order, as on the wire;
 *   - fields named *_h are host order;
 *   - offsets and lengths computed by the parser (l2_len, l3_off, ip_hlen,
 *     l4_off, l4_len) are host order: they are not header fields.
 *
 * Typical receive path:
 *   struct sl_pkt p;
 *   d = sl_eth_parse(f, len, &p);
 *   ethertype ARP : d = sl_arp_parse(f + p.l3_off, len - p.l3_off, &p);
 *   ethertype IPv4: d = sl_ipv4_parse(f + p.l3_off, len - p.l3_off, &p);
 *     proto ICMP  : d = sl_icmp_parse(f + p.l4_off, p.l4_len, &p);
 *     proto UDP   : d = sl_udp_parse(f + p.l4_off, p.l4_len, &p);
 * Each returns SL_DROP_NONE or the reason to count. Ethernet padding past the
 * IP total length is never part of l4_len.
 */
#ifndef SL_NET_H
#define SL_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constants --------------------------------------------------------- */

#define SL_ETH_HLEN       14u
#define SL_VLAN_HLEN      4u
#define SL_ETH_ALEN       6u
#define SL_IPV4_HLEN      20u   /* without options */
#define SL_UDP_HLEN       8u
#define SL_ICMP_HLEN      8u
#define SL_ARP_LEN        28u   /* Ethernet/IPv4 ARP body */
#define SL_ARP_FRAME_LEN  (SL_ETH_HLEN + SL_ARP_LEN)   /* 42, untagged */
#define SL_REPLY_TTL      64u

/* Host-order values; compare with sl_ntohs(p->ethertype) or use *_BE. */
#define SL_ETHERTYPE_IPV4 0x0800u
#define SL_ETHERTYPE_ARP  0x0806u
#define SL_ETHERTYPE_VLAN 0x8100u
#define SL_ETHERTYPE_QINQ 0x88a8u

#define SL_IPPROTO_ICMP   1u
#define SL_IPPROTO_TCP    6u
#define SL_IPPROTO_UDP    17u

#define SL_ARP_OP_REQUEST 1u
#define SL_ARP_OP_REPLY   2u

#define SL_ICMP_ECHO_REPLY   0u
#define SL_ICMP_ECHO_REQUEST 8u

/* Ephemeral range searched by sl_flow_pick_port() when it wraps. */
#define SL_FLOW_PORT_MIN  1024u
#define SL_FLOW_PORT_MAX  65535u

static inline uint16_t sl_htons(uint16_t x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap16(x);
#else
	return x;
#endif
}
static inline uint16_t sl_ntohs(uint16_t x) { return sl_htons(x); }
static inline uint32_t sl_htonl(uint32_t x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32(x);
#else
	return x;
#endif
}
static inline uint32_t sl_ntohl(uint32_t x) { return sl_htonl(x); }

/* Network-order constants usable in comparisons without a swap per packet. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SL_BE16(x) ((uint16_t)((((x) & 0xffu) << 8) | (((x) >> 8) & 0xffu)))
#else
#define SL_BE16(x) ((uint16_t)(x))
#endif
#define SL_ETHERTYPE_IPV4_BE SL_BE16(SL_ETHERTYPE_IPV4)
#define SL_ETHERTYPE_ARP_BE  SL_BE16(SL_ETHERTYPE_ARP)
#define SL_ARP_OP_REQUEST_BE SL_BE16(SL_ARP_OP_REQUEST)
#define SL_ARP_OP_REPLY_BE   SL_BE16(SL_ARP_OP_REPLY)

/* ---- drop reasons ------------------------------------------------------ */

/* Order and names are part of the contract (counters are drop_<name>). */
enum sl_drop {
	SL_DROP_NONE = 0,
	SL_DROP_ETH_RUNT,
	SL_DROP_ETH_BAD_VLAN,
	SL_DROP_ETH_UNKNOWN_TYPE,
	SL_DROP_ARP_MALFORMED,
	SL_DROP_ARP_NOT_FOR_US,
	SL_DROP_IP_TRUNCATED,
	SL_DROP_IP_BAD_VERSION,
	SL_DROP_IP_BAD_IHL,
	SL_DROP_IP_BAD_TOTAL_LEN,
	SL_DROP_IP_BAD_CSUM,
	SL_DROP_IP_TTL_EXPIRED,
	SL_DROP_IP_BAD_OPTIONS,
	SL_DROP_IP_FRAG,
	SL_DROP_IP_BAD_SRC,
	SL_DROP_IP_NOT_FOR_US,
	SL_DROP_ICMP_TRUNCATED,
	SL_DROP_ICMP_BAD_CSUM,
	SL_DROP_ICMP_UNHANDLED,
	SL_DROP_UDP_TRUNCATED,
	SL_DROP_UDP_BAD_CSUM,
	SL_DROP_UDP_NO_LISTENER,
	SL_DROP_L4_UNHANDLED,
	SL_DROP_ARP_PENDING_FULL,
	SL_DROP_ARP_UNRESOLVED,
	SL_DROP_HANDOFF_FULL,
	SL_DROP_TX_FULL,
	SL_DROP_IMPAIR,
	SL_DROP_TCP_TRUNCATED,    /* header shorter than 20 or than its data offset */
	SL_DROP_TCP_BAD_CSUM,
	SL_DROP_TCP_MALFORMED,    /* options the stack refused (sl_tcp_input) */
	SL_DROP__MAX
};

/* Lowercase counter name without the "drop_" prefix ("eth_runt", ...,
 * "impair_drop"); "none" for SL_DROP_NONE, "unknown" when out of range. */
const char *sl_drop_name(enum sl_drop d);

/* ---- parse result ------------------------------------------------------ */

struct sl_pkt {
	/* L2 (sl_eth_parse). MACs are copies, so they survive in-place rewrites. */
	uint8_t  eth_dst[SL_ETH_ALEN];
	uint8_t  eth_src[SL_ETH_ALEN];
	uint16_t ethertype;      /* network order, inner type if tagged */
	uint16_t vlan_tci;       /* network order, 0 if untagged */
	uint16_t l2_len;         /* 14, or 18 with one 802.1Q tag */
	uint16_t l3_off;         /* offset of L3 in the frame (== l2_len) */

	/* IPv4 (sl_ipv4_parse) */
	uint16_t ip_total_len;   /* network order, as on the wire */
	uint16_t ip_total_len_h; /* same, host order */
	uint8_t  ip_hlen;        /* IHL * 4 */
	uint8_t  ip_proto;
	uint8_t  ip_ttl;
	bool     ip_frag;        /* MF set or fragment offset != 0 */
	uint32_t ip_src;         /* network order */
	uint32_t ip_dst;         /* network order */
	uint16_t l4_off;         /* offset of L4 in the frame */
	uint16_t l4_len;         /* L4 header + payload, bounded by IP total
	                            length (UDP: by the UDP length field) */

	/* L4 (sl_udp_parse: ports; sl_icmp_parse: type/code, ports 0) */
	uint16_t sport;          /* network order */
	uint16_t dport;          /* network order */
	uint8_t  icmp_type;
	uint8_t  icmp_code;

	/* ARP (sl_arp_parse) */
	uint16_t arp_op;         /* network order */
	uint8_t  sha[SL_ETH_ALEN];
	uint8_t  tha[SL_ETH_ALEN];
	uint32_t spa;            /* network order */
	uint32_t tpa;            /* network order */
};

/* ---- parsers ----------------------------------------------------------- */

/* Ethernet II with at most one 802.1Q tag. Checks, in order:
 *   len < 14                                   -> eth_runt
 *   outer type 0x88a8 / 0x9100 (S-tag)         -> eth_bad_vlan
 *   tagged and len < 18                        -> eth_runt
 *   tagged: inner type is a tag again (QinQ) or VID 0xfff -> eth_bad_vlan
 *   type not ARP / IPv4                        -> eth_unknown_type
 * Frames shorter than the 60-byte Ethernet minimum are accepted (veth frames
 * are not padded). Fills eth_dst/src, ethertype, vlan_tci, l2_len, l3_off. */
enum sl_drop sl_eth_parse(const uint8_t *frame, uint32_t len, struct sl_pkt *p);

/* Ethernet/IPv4 ARP only: len >= 28, htype 1, ptype 0x0800, hlen 6, plen 4,
 * op request/reply, sender hardware address not multicast/broadcast;
 * anything else -> arp_malformed. Whether tpa is ours (arp_not_for_us) is
 * the caller's decision. Fills arp_op, sha, spa, tha, tpa. */
enum sl_drop sl_arp_parse(const uint8_t *l3, uint32_t len, struct sl_pkt *p);

/* IPv4 header. `len` is the number of bytes from l3 to the end of the frame.
 * Checks, in this order (the first failing check is the reason):
 *   1. len < 20                                -> ip_truncated
 *   2. version != 4                            -> ip_bad_version
 *   3. IHL < 5 or IHL*4 > len                  -> ip_bad_ihl
 *   4. total length < IHL*4 or > len           -> ip_bad_total_len
 *   5. header checksum                         -> ip_bad_csum
 *   6. options: each TLV length >= 2 and inside the header (EOL ends the
 *      list, NOP is one byte); LSRR/SSRR source routes are refused too
 *                                              -> ip_bad_options
 *   7. TTL == 0                                -> ip_ttl_expired
 *   8. source 0/8, 127/8, 224/4 (multicast), 240/4 (class E, incl.
 *      255.255.255.255)                        -> ip_bad_src
 *   9. MF set or fragment offset != 0          -> ip_frag
 * Whether ip_dst is ours (ip_not_for_us) is the caller's decision.
 * Requires p->l3_off from sl_eth_parse (l4_off = l3_off + ip_hlen).
 * Fields are filled as far as the checks got; rely on them only on NONE. */
enum sl_drop sl_ipv4_parse(const uint8_t *l3, uint32_t len, struct sl_pkt *p);

/* ICMP. Pass l4 = frame + p->l4_off, len = p->l4_len. In order:
 *   len < 8 -> icmp_truncated; checksum over len bytes -> icmp_bad_csum;
 *   anything but echo request code 0 -> icmp_unhandled.
 * Fills icmp_type, icmp_code; sport = dport = 0. */
enum sl_drop sl_icmp_parse(const uint8_t *l4, uint32_t len, struct sl_pkt *p);

/* UDP. Pass l4 = frame + p->l4_off, len = p->l4_len. In order:
 *   len < 8, length field < 8 or > len          -> udp_truncated
 *   checksum non-zero and wrong (pseudo header) -> udp_bad_csum
 * A length field shorter than the IP payload is accepted (as Linux does) and
 * l4_len is trimmed to it. Fills sport, dport. Needs ip_src/ip_dst in p. */
enum sl_drop sl_udp_parse(const uint8_t *l4, uint32_t len, struct sl_pkt *p);

/* ---- checksums --------------------------------------------------------- */

/* Ones-complement sum of buf added to `sum`, not folded, not inverted.
 * Words are summed in memory order, so the folded result can be stored with
 * memcpy as is (no byte swap). Word-wise, unaligned buffers are fine. */
uint64_t sl_csum_add(const void *buf, uint32_t len, uint64_t sum);

static inline uint16_t sl_csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/* Internet checksum of buf (RFC 1071), ready to store in the header. Over a
 * region that contains a correct checksum it returns 0. */
static inline uint16_t sl_inet_csum(const void *buf, uint32_t len)
{
	return (uint16_t)~sl_csum_fold(sl_csum_add(buf, len, 0));
}

/* Checksum for the IPv4 header at ip (length from its IHL), computed as if
 * the checksum field were zero: the value to store in bytes 10-11. */
uint16_t sl_ipv4_hdr_csum(const void *ip);

/* Pseudo-header sum (addresses network order, len host order). */
static inline uint64_t sl_pseudo_sum(uint32_t ip_src, uint32_t ip_dst, uint8_t proto, uint32_t len)
{
	return (uint64_t)ip_src + ip_dst + sl_htons(proto) + sl_htons((uint16_t)len);
}

/* TCP/UDP checksum with pseudo header over l4[0..len). With the checksum
 * field zeroed it is the value to store (UDP: store 0xffff for 0); over a
 * segment with its checksum in place it is 0 when correct. */
static inline uint16_t sl_l4_csum(uint32_t ip_src, uint32_t ip_dst, uint8_t proto,
				  const void *l4, uint32_t len)
{
	return (uint16_t)~sl_csum_fold(sl_csum_add(l4, len, sl_pseudo_sum(ip_src, ip_dst, proto, len)));
}

/* RFC 1624 incremental update: checksum field `csum` after a 16-bit word
 * changed from old to new (all as stored in memory). It cannot tell the two
 * zeros apart: a result of 0x0000 or 0xffff may need a full recompute when
 * the rest of the message can be all zero. */
static inline uint16_t sl_csum_update16(uint16_t csum, uint16_t old, uint16_t new_)
{
	uint64_t s = (uint16_t)~csum;
	s += (uint16_t)~old;
	s += new_;
	return (uint16_t)~sl_csum_fold(s);
}

/* ---- builders ---------------------------------------------------------- */

/* Builder VLAN arguments are HOST order TCIs (named vlan_tci_h): a VID as
 * in the start-up file's `vlan <id>`, optionally with priority bits, or
 * sl_ntohs(p->vlan_tci) of a parsed frame; 0 = untagged. */

/* L2 header length the builders produce for a TCI (0 = untagged). */
static inline uint32_t sl_l2_hlen(uint16_t vlan_tci_h)
{
	return vlan_tci_h ? SL_ETH_HLEN + SL_VLAN_HLEN : SL_ETH_HLEN;
}

/* Ethernet header (+ 802.1Q tag when vlan_tci_h != 0) at buf; ethertype
 * network order (e.g. SL_ETHERTYPE_IPV4_BE). Returns 14 or 18. */
uint32_t sl_eth_hdr_build(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6],
			  uint16_t vlan_tci_h, uint16_t ethertype);

/* 20-byte IPv4 header, no options, DF set, id as given (network order; 0 is
 * fine for atomic datagrams, RFC 6864), checksum filled. Addresses network
 * order, l4_len host order. Returns 20. */
uint32_t sl_ipv4_hdr_build(uint8_t *l3, uint32_t src, uint32_t dst, uint8_t proto,
			   uint8_t ttl, uint16_t id, uint32_t l4_len);

/* Fresh ARP frame into buf (room for 46 bytes): Ethernet source = sha,
 * destination eth_dst (broadcast for requests and gratuitous ARP), op host
 * order (SL_ARP_OP_*), addresses network order, vlan_tci_h host order
 * (0 = untagged). Gratuitous ARP: op request, spa = tpa = VIP, tha zero.
 * Returns the frame length: 42, or 46 tagged (no padding: the PMD or NIC
 * pads to 60). */
uint32_t sl_arp_build(uint8_t *buf, uint16_t op, const uint8_t sha[6], uint32_t spa,
		      const uint8_t tha[6], uint32_t tpa, const uint8_t eth_dst[6],
		      uint16_t vlan_tci_h);

/* Turn a parsed ARP request (p from sl_eth_parse + sl_arp_parse) into the
 * reply in place: my_mac answers for p->tpa. Keeps the VLAN tag. Returns the
 * new frame length (42/46; trim the mbuf to it). */
uint32_t sl_arp_reply_inplace(uint8_t *frame, const struct sl_pkt *p, const uint8_t my_mac[6]);

/* Turn a parsed echo request (sl_eth/ipv4/icmp_parse all NONE) into the echo
 * reply in place: MACs and IPs swapped (source my_mac, destination the
 * requester's MAC), ICMP type 0 with the checksum fixed incrementally,
 * TTL 64, DF, IP checksum recomputed. IP options of the request are kept
 * (RFC 1122 3.2.2.6) and so is the VLAN tag. Returns the new frame length,
 * p->l3_off + p->ip_total_len_h: trim the mbuf to it so the request's
 * Ethernet padding is not sent back. */
uint32_t sl_icmp_echo_reply_inplace(uint8_t *frame, const struct sl_pkt *p, const uint8_t my_mac[6]);

/* Where the caller writes a UDP reply's payload for sl_udp_reply_inplace():
 * the request's payload position (frame + p->l4_off + 8). */
static inline uint8_t *sl_udp_payload(uint8_t *frame, const struct sl_pkt *p)
{
	return frame + p->l4_off + SL_UDP_HLEN;
}

/* Turn a parsed UDP request into the reply in place. The caller has written
 * payload_len bytes at sl_udp_payload(frame, p) (the frame buffer must hold
 * p->l4_off + 8 + payload_len bytes). Swaps MACs (source my_mac), IPs and
 * ports, writes a fresh 20-byte IP header (request options are dropped and
 * the payload moved down), TTL 64, lengths, IP checksum, and the UDP
 * checksum when udp_csum (else 0). Keeps the VLAN tag. Returns the new
 * frame length, or 0 if the datagram would exceed 65535 bytes of IP. */
uint32_t sl_udp_reply_inplace(uint8_t *frame, const struct sl_pkt *p, const uint8_t my_mac[6],
			      uint32_t payload_len, bool udp_csum);

/* Offset of the UDP payload in a frame built by sl_ipv4_udp_build(). */
static inline uint32_t sl_udp_payload_off(uint16_t vlan_tci_h)
{
	return sl_l2_hlen(vlan_tci_h) + SL_IPV4_HLEN + SL_UDP_HLEN;
}

/* Fresh Ethernet/IPv4/UDP frame into buf whose payload_len bytes the caller
 * already wrote at buf + sl_udp_payload_off(vlan_tci_h). Addresses and
 * ports network order, vlan_tci_h host order (0 = untagged), TTL 64, DF,
 * id 0.
 * Returns the frame length, or 0 if it would exceed 65535 bytes of IP. */
uint32_t sl_ipv4_udp_build(uint8_t *buf, const uint8_t src_mac[6], const uint8_t dst_mac[6],
			   uint16_t vlan_tci_h, uint32_t src_ip, uint32_t dst_ip,
			   uint16_t sport, uint16_t dport, uint32_t payload_len, bool udp_csum);

/* ---- flow hashing (software RSS) --------------------------------------- */

static inline uint64_t sl__fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

/* Symmetric flow hash: (a,pa,b,pb) and (b,pb,a,pa) give the same value.
 * Pass addresses and ports exactly as in sl_pkt (network order), e.g.
 * sl_flow_hash(p->ip_src, p->ip_dst, p->sport, p->dport, p->ip_proto).
 * The two endpoints are ordered, combined asymmetrically, then mixed with
 * the murmur3 64-bit finaliser. */
static inline uint32_t sl_flow_hash(uint32_t a, uint32_t b, uint16_t pa, uint16_t pb, uint8_t proto)
{
	uint64_t ea = ((uint64_t)a << 16) | pa;
	uint64_t eb = ((uint64_t)b << 16) | pb;
	uint64_t lo = ea < eb ? ea : eb;
	uint64_t hi = ea < eb ? eb : ea;
	uint64_t x = lo * 0x9e3779b97f4a7c15ULL;
	x ^= (hi << 17 | hi >> 47) + ((uint64_t)proto << 56);
	return (uint32_t)(sl__fmix64(x) >> 32);
}

/* Worker owning a hash: multiply-shift, no modulo. n_workers >= 1. */
static inline unsigned sl_flow_owner(uint32_t hash, unsigned n_workers)
{
	return (unsigned)(((uint64_t)hash * n_workers) >> 32);
}

/* Find a local port for an active open such that the return tuple
 * (remote_ip:remote_port -> local_ip:port) is owned by `worker`. IPs and
 * remote_port network order; start and *out HOST order. Candidates are
 * start..65535, then SL_FLOW_PORT_MIN..start-1 (a start below
 * SL_FLOW_PORT_MIN begins at SL_FLOW_PORT_MIN). With n workers about n
 * candidates are tried on average. Returns 0, -EINVAL (worker
 * >= n_workers or n_workers == 0) or -ENOENT (no port maps to worker). */
int sl_flow_pick_port(uint32_t local_ip, uint32_t remote_ip, uint16_t remote_port, uint8_t proto,
		      unsigned worker, unsigned n_workers, uint16_t start, uint16_t *out);

#ifdef __cplusplus
}
#endif

#endif /* SL_NET_H */
