/* Internal layout of a compiled DNS database, shared by dns_compile.c (builds it)
 * and dns_fp.c (reads it per query).  Everything is flat arrays indexed by
 * uint32; names are stored lowercase in wire format. */
#ifndef SL_DNS_PRIV_H
#define SL_DNS_PRIV_H

#include <stdint.h>

#include "sl_dns.h"

#define DNS_T_A     1
#define DNS_T_NS    2
#define DNS_T_CNAME 5
#define DNS_T_SOA   6
#define DNS_T_PTR   12
#define DNS_T_MX    15
#define DNS_T_TXT   16
#define DNS_T_AAAA  28
#define DNS_T_SRV   33
#define DNS_T_OPT   41
#define DNS_T_IXFR  251
#define DNS_T_AXFR  252
#define DNS_T_ANY   255

/* Dense per-node type index. */
enum { TI_A, TI_AAAA, TI_CNAME, TI_NS, TI_SOA, TI_SRV, TI_MX, TI_TXT, TI_PTR, TI_MAX };

#define NODE_APEX     0x01  /* zone apex */
#define NODE_WILDMATCH 0x02 /* Avi wildcard_match: also answers for names below */
#define NODE_WILDCARD 0x04  /* owner is "*.<parent>" */

#define DNS_NONE UINT32_MAX
#define DNS_MAX_NAME 255

struct dns_node {
	uint32_t name_off;          /* into db->names */
	uint8_t name_len;
	uint8_t nlabels;
	uint8_t flags;
	uint8_t pad;
	uint32_t zone;              /* zone index or DNS_NONE */
	uint32_t wild_child;        /* node of "*.<this>" or DNS_NONE */
	uint32_t gslb;              /* GSLB service or DNS_NONE */
	uint32_t rrset[TI_MAX];     /* rrset index or DNS_NONE */
};

#define RR_ALGO_RR 0
#define RR_ALGO_CH 1

struct dns_rrset {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t first;             /* into db->rrs */
	uint16_t nresp;             /* 0 = all */
	uint8_t algo;
	uint8_t pad;
	uint32_t rot;               /* word in the per-worker state block */
};

struct dns_rr {
	uint32_t off;               /* uncompressed rdata in db->rdata */
	uint16_t len;
	uint16_t pad;
};

struct dns_zone {
	uint32_t node;              /* apex */
	uint32_t neg_ttl;           /* SOA minimum and TTL of negative-answer SOA */
	uint32_t serial;            /* as written in the SOA rdata */
	bool fixed;                 /* serial set in the config (sluice_soa_serial) */
	uint64_t hash;              /* everything the zone answers except the serial */
};

#define GS_ALGO_RR   0
#define GS_ALGO_CH   1
#define GS_ALGO_PREF 2

#define GS_DOWN_NONE  0
#define GS_DOWN_ALL   1
#define GS_DOWN_FALLBACK 2
#define GS_DOWN_EMPTY 3

struct dns_member {
	uint32_t ip_be;
	uint32_t slot;
	uint16_t ratio;
	uint8_t enabled;
	uint8_t pref;
	uint32_t hkey;              /* per-member hash salt for rendezvous hashing */
};

struct dns_group {
	uint32_t first;             /* into db->members */
	uint32_t count;
	uint32_t cw;                /* first SWRR current-weight word in the worker block */
	uint32_t mask_be;           /* client address mask for consistent hash */
	uint8_t algo;
	uint8_t pad[3];
};

struct dns_gslb {
	uint32_t first_group;       /* into db->groups, sorted by priority desc */
	uint32_t ngroups;
	uint32_t ttl;
	uint16_t num_ip;            /* 0 = all */
	uint8_t down;
	uint8_t pad;
	uint32_t fallback_be;
};

struct sl_dns_db {
	/* hash table of nodes, open addressing, power-of-two size */
	uint32_t *htab;
	uint32_t hmask;
	struct dns_node *nodes;
	uint32_t n_nodes;
	uint8_t *names;
	struct dns_rrset *rrsets;
	uint32_t n_rrsets;
	struct dns_rr *rrs;
	uint8_t *rdata;
	struct dns_zone *zones;
	uint32_t n_zones;
	struct dns_gslb *gslbs;
	uint32_t n_gslbs;
	struct dns_group *groups;
	struct dns_member *members;
	uint32_t n_members;
	const volatile uint8_t *health;
	/* Per-worker mutable state: worker w owns words [w*stride, (w+1)*stride). */
	uint32_t *state;
	uint32_t stride;
	uint32_t n_workers;
	bool refuse_outside;        /* error_response ERROR */
	bool edns;
	bool tcp;
};

uint32_t sl_dns_hash(const uint8_t *wire, unsigned len);
uint32_t sl_dns_lookup(const struct sl_dns_db *db, const uint8_t *wire, unsigned len);

#endif
