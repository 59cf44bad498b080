/* sl_dns: authoritative DNS for a DNS virtual service.
 *
 * sl_dns_compile() turns the Avi-shaped JSON of one DNS VS (static records,
 * its application profile's dns_service_profile, and the gslbservice objects)
 * into an immutable lookup database.  sl_dns_answer() answers one query from
 * it without heap allocation, locks or logging; the only mutable state is the
 * per-worker rotation counters inside the db, each worker touching only its
 * own cache lines.
 */
#ifndef SL_DNS_H
#define SL_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct sl_dns_db;

struct sl_dns_cerr {
	char path[256];   /* JSON path relative to the object, e.g. "static_dns_records[2].ttl" */
	char detail[256];
	/* Extension: which object the path is relative to: "virtualservice",
	 * "applicationprofile" or "gslbservice/<name>". */
	char object[160];
};

/* Returns the health slot (>= 0) of a GSLB member, or -errno. */
typedef int (*sl_dns_slot_fn)(void *arg, const char *gslb_name, uint32_t member_ip_be);

/* Why a query got no response (sl_dns_qlog.drop). */
enum sl_dns_drop {
	SL_DNS_DROP_NONE = 0,
	SL_DNS_DROP_SHORT,        /* fewer than 12 bytes: no header to answer */
	SL_DNS_DROP_QR,           /* a response, never answer it (reflection loops) */
	SL_DNS_DROP_NOT_AUTH,     /* outside every zone and error_response NONE */
	SL_DNS_DROP_GSLB_DOWN,    /* GSLB service down and down_response NONE */
	SL_DNS_DROP_TCP_DISABLED, /* over_tcp but dns_over_tcp_enabled is false */
	SL_DNS_DROP_NO_SPACE,     /* caller's buffer cannot hold even a header */
	SL_DNS_DROP_MAX
};

/* Why a query was answered with an error rcode (sl_dns_qlog.err). */
enum sl_dns_err {
	SL_DNS_ERR_NONE = 0,
	SL_DNS_ERR_OPCODE,        /* NOTIMP */
	SL_DNS_ERR_QDCOUNT,       /* FORMERR: QDCOUNT != 1 */
	SL_DNS_ERR_COUNTS,        /* FORMERR: ANCOUNT/NSCOUNT in a query */
	SL_DNS_ERR_TRUNCATED,     /* FORMERR: a section ends past the message */
	SL_DNS_ERR_LABEL_TYPE,    /* FORMERR: label length byte 0x40..0xBF (> 63) */
	SL_DNS_ERR_NAME_LONG,     /* FORMERR: name > 255 octets */
	SL_DNS_ERR_PTR_BAD,       /* FORMERR: compression pointer not strictly backwards / into header */
	SL_DNS_ERR_PTR_LOOP,      /* FORMERR: too many compression hops */
	SL_DNS_ERR_TRAILING,      /* FORMERR: bytes after the last counted record */
	SL_DNS_ERR_OPT_DUP,       /* FORMERR: more than one OPT */
	SL_DNS_ERR_OPT_NAME,      /* FORMERR: OPT owner is not the root */
	SL_DNS_ERR_OPT_OPTION,    /* FORMERR: OPT option TLVs do not fill RDATA */
	SL_DNS_ERR_BADVERS,       /* BADVERS: EDNS version != 0 */
	SL_DNS_ERR_QTYPE,         /* FORMERR: meta type (OPT, 0) as QTYPE */
	SL_DNS_ERR_CLASS,         /* REFUSED: class not IN/ANY */
	SL_DNS_ERR_XFR,           /* REFUSED: zone transfer requested */
	SL_DNS_ERR_MAX
};

#define SL_DNS_QL_AA    0x01
#define SL_DNS_QL_TC    0x02
#define SL_DNS_QL_EDNS  0x04
#define SL_DNS_QL_GSLB  0x08  /* answered from a GSLB service */
#define SL_DNS_QL_DOWN  0x10  /* GSLB service had no up member: down_response used */
#define SL_DNS_QL_NODATA 0x20 /* name exists, no record of the type */

struct sl_dns_qlog {
	uint16_t qtype;
	uint8_t rcode;     /* full (extended) rcode: 16 = BADVERS */
	uint8_t drop;      /* enum sl_dns_drop; meaningful when sl_dns_answer returned 0 */
	uint8_t n_ans;     /* IPv4 answers logged below (<= 8) */
	uint8_t err;       /* extension: enum sl_dns_err */
	uint8_t flags;     /* extension: SL_DNS_QL_* */
	uint32_t ans_ip[8];   /* network order */
	int32_t ans_slot[8];  /* GSLB member health slot, -1 for static records */
	char qname[256];      /* presentation form, case as sent, truncated */
};

int sl_dns_compile(const json_t *vs, const json_t *app_profile, const json_t *gslb_services,
		   unsigned n_workers, const volatile uint8_t *health, sl_dns_slot_fn slot_fn,
		   void *slot_arg, struct sl_dns_db **out, struct sl_dns_cerr *err);
void sl_dns_db_free(struct sl_dns_db *);

/* Answer one query (the DNS message only; over TCP the caller strips and adds the
 * 2-byte length).  Returns the response length, or 0 = drop (reason in ql->drop).
 * worker < n_workers given to sl_dns_compile.  ql may not be NULL. */
size_t sl_dns_answer(const struct sl_dns_db *, unsigned worker, const uint8_t *q, size_t qlen,
		     uint8_t *resp, size_t cap, uint32_t client_ip_be, bool over_tcp,
		     struct sl_dns_qlog *ql);

/* Counter names without prefix, for "drop_<name>" style counters. */
const char *sl_dns_drop_name(unsigned drop);
const char *sl_dns_err_name(unsigned err);

/* Per-worker, per-VS counters the engine may keep and sum on read. */
struct sl_dns_stats {
	uint64_t queries, responses, drops;
	uint64_t rcode[6];            /* NOERROR FORMERR SERVFAIL NXDOMAIN NOTIMP REFUSED */
	uint64_t badvers, nodata, truncated, edns, gslb, gslb_down;
	uint64_t drop[SL_DNS_DROP_MAX];
	uint64_t err[SL_DNS_ERR_MAX];
};
/* Account one sl_dns_answer() outcome (resp_len is its return value). No allocation. */
void sl_dns_stats_add(struct sl_dns_stats *, const struct sl_dns_qlog *, size_t resp_len);

/* Extension: SOA serials across recompiles. A zone of db whose answers equal those of the same zone
 * in prev (an older db of the same VS) keeps prev's serial; a changed zone gets max(compile time,
 * prev + 1) in RFC 1982 order; a zone with sluice_soa_serial keeps that. Call before db is used. */
void sl_dns_db_keep_serials(struct sl_dns_db *db, const struct sl_dns_db *prev);
/* SOA serial of the zone with apex name (presentation form), 0 when db has no such zone. */
uint32_t sl_dns_db_zone_serial(const struct sl_dns_db *db, const char *zone);

/* Introspection for tests and the control API. */
unsigned sl_dns_db_zone_count(const struct sl_dns_db *);
unsigned sl_dns_db_node_count(const struct sl_dns_db *);

#endif
