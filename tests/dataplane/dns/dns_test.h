/* Test helpers: query builder, an independent response decoder (so the builder
 * is checked against a second implementation), and the shared fixture. */
#ifndef SL_DNS_TEST_H
#define SL_DNS_TEST_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_dns.h"

#define T_A 1
#define T_NS 2
#define T_CNAME 5
#define T_SOA 6
#define T_PTR 12
#define T_MX 15
#define T_TXT 16
#define T_AAAA 28
#define T_SRV 33
#define T_OPT 41
#define T_ANY 255

/* Builds a query for a presentation name (no trailing dot needed).
 * edns_udp < 0: no OPT; otherwise an OPT with that UDP size. */
static inline size_t tq_build(uint8_t *b, const char *name, uint16_t qtype, int edns_udp, uint16_t id)
{
	size_t p = 12;
	b[0] = (uint8_t)(id >> 8); b[1] = (uint8_t)id;
	b[2] = 0x01; b[3] = 0;            /* RD */
	b[4] = 0; b[5] = 1; b[6] = b[7] = b[8] = b[9] = 0;
	b[10] = 0; b[11] = edns_udp >= 0;
	const char *s = name;
	while (*s) {
		const char *d = strchr(s, '.');
		size_t l = d ? (size_t)(d - s) : strlen(s);
		if (l == 0)
			break;
		b[p++] = (uint8_t)l;
		memcpy(b + p, s, l);
		p += l;
		s += l + (d ? 1 : 0);
	}
	b[p++] = 0;
	b[p++] = (uint8_t)(qtype >> 8); b[p++] = (uint8_t)qtype;
	b[p++] = 0; b[p++] = 1;
	if (edns_udp >= 0) {
		b[p++] = 0; b[p++] = 0; b[p++] = T_OPT;
		b[p++] = (uint8_t)(edns_udp >> 8); b[p++] = (uint8_t)edns_udp;
		b[p++] = 0; b[p++] = 0; b[p++] = 0; b[p++] = 0;
		b[p++] = 0; b[p++] = 0;
	}
	return p;
}

struct trr {
	char name[300];
	uint16_t type, cls;
	uint32_t ttl;
	uint16_t rdlen;
	char data[600];       /* decoded rdata in presentation form */
};

struct tresp {
	uint16_t id;
	int qr, opcode, aa, tc, rd, rcode;
	unsigned qd, an, ns, ar;
	char qname[300];
	uint16_t qtype;
	struct trr rr[64];
	unsigned nrr;
	int has_opt;
	uint16_t opt_udp;
	uint8_t opt_ext_rcode, opt_version;
	unsigned pointers;    /* compression pointers seen */
};

/* Decompressing name reader; returns -1 on any malformation. */
static inline int t_name(const uint8_t *m, size_t len, size_t *pos, char *out, unsigned *ptrs)
{
	size_t p = *pos, o = 0;
	int jumps = 0;
	int jumped = 0;
	for (;;) {
		if (p >= len)
			return -1;
		uint8_t c = m[p];
		if (c == 0) {
			if (!jumped)
				*pos = p + 1;
			break;
		}
		if ((c & 0xC0) == 0xC0) {
			if (p + 1 >= len || ++jumps > 50)
				return -1;
			size_t t = (size_t)(c & 0x3F) << 8 | m[p + 1];
			if (t >= p)
				return -1;
			if (!jumped)
				*pos = p + 2;
			jumped = 1;
			if (ptrs)
				(*ptrs)++;
			p = t;
			continue;
		}
		if (c > 63 || p + 1 + c > len || o + c + 2 > 290)
			return -1;
		if (o)
			out[o++] = '.';
		memcpy(out + o, m + p + 1, c);
		o += c;
		p += c + 1u;
	}
	if (!o)
		out[o++] = '.';
	out[o] = 0;
	return 0;
}

static inline int t_parse(const uint8_t *m, size_t len, struct tresp *r)
{
	memset(r, 0, sizeof(*r));
	if (len < 12)
		return -1;
	r->id = (uint16_t)(m[0] << 8 | m[1]);
	r->qr = m[2] >> 7;
	r->opcode = (m[2] >> 3) & 15;
	r->aa = (m[2] >> 2) & 1;
	r->tc = (m[2] >> 1) & 1;
	r->rd = m[2] & 1;
	r->rcode = m[3] & 15;
	r->qd = (unsigned)(m[4] << 8 | m[5]);
	r->an = (unsigned)(m[6] << 8 | m[7]);
	r->ns = (unsigned)(m[8] << 8 | m[9]);
	r->ar = (unsigned)(m[10] << 8 | m[11]);
	size_t p = 12;
	for (unsigned i = 0; i < r->qd; i++) {
		if (t_name(m, len, &p, r->qname, &r->pointers) || p + 4 > len)
			return -1;
		r->qtype = (uint16_t)(m[p] << 8 | m[p + 1]);
		p += 4;
	}
	unsigned total = r->an + r->ns + r->ar;
	for (unsigned i = 0; i < total; i++) {
		struct trr *x = &r->rr[r->nrr < 64 ? r->nrr : 63];
		if (t_name(m, len, &p, x->name, &r->pointers) || p + 10 > len)
			return -1;
		x->type = (uint16_t)(m[p] << 8 | m[p + 1]);
		x->cls = (uint16_t)(m[p + 2] << 8 | m[p + 3]);
		x->ttl = (uint32_t)m[p + 4] << 24 | (uint32_t)m[p + 5] << 16 | (uint32_t)m[p + 6] << 8 | m[p + 7];
		x->rdlen = (uint16_t)(m[p + 8] << 8 | m[p + 9]);
		p += 10;
		if (p + x->rdlen > len)
			return -1;
		size_t rp = p, end = p + x->rdlen;
		char n1[300], n2[300];
		switch (x->type) {
		case T_A:
			if (x->rdlen != 4 || !inet_ntop(AF_INET, m + p, x->data, sizeof(x->data)))
				return -1;
			break;
		case T_AAAA:
			if (x->rdlen != 16 || !inet_ntop(AF_INET6, m + p, x->data, sizeof(x->data)))
				return -1;
			break;
		case T_CNAME: case T_NS: case T_PTR:
			if (t_name(m, len, &rp, x->data, &r->pointers) || rp != end)
				return -1;
			break;
		case T_MX:
			rp += 2;
			if (t_name(m, len, &rp, n1, &r->pointers) || rp != end)
				return -1;
			snprintf(x->data, sizeof(x->data), "%u %s", m[p] << 8 | m[p + 1], n1);
			break;
		case T_SRV: {
			unsigned before = r->pointers;
			rp += 6;
			if (t_name(m, len, &rp, n1, &r->pointers) || rp != end || r->pointers != before)
				return -1;   /* SRV target must not be compressed */
			snprintf(x->data, sizeof(x->data), "%u %u %u %s", m[p] << 8 | m[p + 1],
				 m[p + 2] << 8 | m[p + 3], m[p + 4] << 8 | m[p + 5], n1);
			break;
		}
		case T_SOA:
			if (t_name(m, len, &rp, n1, &r->pointers) || t_name(m, len, &rp, n2, &r->pointers) ||
			    rp + 20 != end)
				return -1;
			snprintf(x->data, sizeof(x->data), "%s %s %u %u", n1, n2,
				 (unsigned)(m[rp + 12] << 24 | m[rp + 13] << 16 | m[rp + 14] << 8 | m[rp + 15]),
				 (unsigned)(m[rp + 16] << 24 | m[rp + 17] << 16 | m[rp + 18] << 8 | m[rp + 19]));
			/* "<mname> <rname> <expire> <minimum>" */
			break;
		case T_TXT: {
			size_t o = 0;
			while (rp < end) {
				unsigned l = m[rp++];
				if (rp + l > end)
					return -1;
				memcpy(x->data + o, m + rp, l < 500 - o ? l : 500 - o);
				o += l < 500 - o ? l : 500 - o;
				rp += l;
			}
			x->data[o] = 0;
			break;
		}
		case T_OPT:
			r->has_opt = 1;
			r->opt_udp = x->cls;
			r->opt_ext_rcode = (uint8_t)(x->ttl >> 24);
			r->opt_version = (uint8_t)(x->ttl >> 16);
			break;
		default:
			break;
		}
		p = end;
		if (r->nrr < 64)
			r->nrr++;
	}
	return p == len ? 0 : -1;
}

/* ---- shared fixture ---- */

static uint8_t t_health[65536];
static unsigned t_next_slot;

static inline int t_slot_fn(void *arg, const char *name, uint32_t ip)
{
	(void)arg; (void)name; (void)ip;
	return (int)t_next_slot++;
}

static inline struct sl_dns_db *t_compile_str(const char *vs, const char *prof, const char *gslb,
					       unsigned n_workers, struct sl_dns_cerr *err, int *rc)
{
	json_error_t je;
	json_t *v = vs ? json_loads(vs, 0, &je) : NULL;
	json_t *p = prof ? json_loads(prof, 0, &je) : NULL;
	json_t *g = gslb ? json_loads(gslb, 0, &je) : NULL;
	if ((vs && !v) || (prof && !p) || (gslb && !g)) {
		fprintf(stderr, "fixture JSON: %s line %d\n", je.text, je.line);
		abort();
	}
	struct sl_dns_db *db = NULL;
	struct sl_dns_cerr e;
	memset(t_health, 1, sizeof(t_health));
	t_next_slot = 100;
	*rc = sl_dns_compile(v, p, g, n_workers, t_health, t_slot_fn, NULL, &db, err ? err : &e);
	json_decref(v);
	json_decref(p);
	json_decref(g);
	return db;
}

#define IPA(a) "{\"ip_address\":{\"addr\":\"" a "\",\"type\":\"V4\"}}"

static const char T_VS[] = "{\"name\":\"dns-vs\",\"static_dns_records\":["
	"{\"fqdn\":[\"www.example.com\"],\"type\":\"DNS_RECORD_A\",\"ttl\":60,\"num_records_in_response\":2,"
	"\"ip_address\":[" IPA("198.18.0.10") "," IPA("198.18.0.11") "," IPA("198.18.0.12") "]},"
	"{\"fqdn\":[\"one.example.com\",\"uno.example.com\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":[" IPA("198.18.0.13") "]},"
	"{\"fqdn\":[\"v6.example.com\"],\"type\":\"DNS_RECORD_AAAA\",\"ip6_address\":[{\"ip6_address\":{\"addr\":\"2001:db8::1\",\"type\":\"V6\"}}]},"
	"{\"fqdn\":[\"alias.example.com\"],\"type\":\"DNS_RECORD_CNAME\",\"cname\":{\"cname\":\"one.example.com\"}},"
	"{\"fqdn\":[\"chain.example.com\"],\"type\":\"DNS_RECORD_CNAME\",\"cname\":{\"cname\":\"alias.example.com\"}},"
	"{\"fqdn\":[\"dangling.example.com\"],\"type\":\"DNS_RECORD_CNAME\",\"cname\":{\"cname\":\"nothere.example.com\"}},"
	"{\"fqdn\":[\"ext.example.com\"],\"type\":\"DNS_RECORD_CNAME\",\"cname\":{\"cname\":\"www.example.org\"}},"
	"{\"fqdn\":[\"loop1.example.com\"],\"type\":\"DNS_RECORD_CNAME\",\"cname\":{\"cname\":\"loop2.example.com\"}},"
	"{\"fqdn\":[\"loop2.example.com\"],\"type\":\"DNS_RECORD_CNAME\",\"cname\":{\"cname\":\"loop1.example.com\"}},"
	"{\"fqdn\":[\"galias.example.com\"],\"type\":\"DNS_RECORD_CNAME\",\"cname\":{\"cname\":\"gs.example.com\"}},"
	"{\"fqdn\":[\"_sip._tcp.example.com\"],\"type\":\"DNS_RECORD_SRV\",\"service_locator\":[{\"port\":5060,\"priority\":10,\"weight\":5,\"target\":\"sip.example.com\"}]},"
	"{\"fqdn\":[\"example.com\"],\"type\":\"DNS_RECORD_MX\",\"mx_records\":[{\"host\":\"mail.example.com\",\"priority\":10}]},"
	"{\"fqdn\":[\"example.com\"],\"type\":\"DNS_RECORD_TXT\",\"txt_records\":[{\"text_str\":\"v=spf1 -all\"}]},"
	"{\"fqdn\":[\"50.0.18.198.in-addr.arpa\"],\"type\":\"DNS_RECORD_PTR\",\"cname\":{\"cname\":\"www.example.com\"}},"
	"{\"fqdn\":[\"*.wild.example.com\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":[" IPA("198.18.0.20") "]},"
	"{\"fqdn\":[\"app.example.com\"],\"type\":\"DNS_RECORD_A\",\"wildcard_match\":true,\"ip_address\":[" IPA("198.18.0.21") "]},"
	"{\"fqdn\":[\"a.b.deep.example.com\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":[" IPA("198.18.0.22") "]},"
	"{\"fqdn\":[\"sub.example.com\"],\"type\":\"DNS_RECORD_NS\",\"ns\":[{\"nsname\":\"ns1.sub.example.com\"}]},"
	"{\"fqdn\":[\"static.outside.test\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":[" IPA("198.18.0.23") "]},"
	"{\"fqdn\":[\"hash.example.com\"],\"type\":\"DNS_RECORD_A\",\"algorithm\":\"DNS_RECORD_RESPONSE_CONSISTENT_HASH\",\"num_records_in_response\":1,"
	"\"ip_address\":[" IPA("198.18.0.30") "," IPA("198.18.0.31") "," IPA("198.18.0.32") "," IPA("198.18.0.33") "]},"
	"{\"fqdn\":[\"big.example.com\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":["
	IPA("198.18.2.1") "," IPA("198.18.2.2") "," IPA("198.18.2.3") "," IPA("198.18.2.4") "," IPA("198.18.2.5") ","
	IPA("198.18.2.6") "," IPA("198.18.2.7") "," IPA("198.18.2.8") "," IPA("198.18.2.9") "," IPA("198.18.2.10") ","
	IPA("198.18.2.11") "," IPA("198.18.2.12") "," IPA("198.18.2.13") "," IPA("198.18.2.14") "," IPA("198.18.2.15") ","
	IPA("198.18.2.16") "," IPA("198.18.2.17") "," IPA("198.18.2.18") "," IPA("198.18.2.19") "," IPA("198.18.2.20") ","
	IPA("198.18.2.21") "," IPA("198.18.2.22") "," IPA("198.18.2.23") "," IPA("198.18.2.24") "," IPA("198.18.2.25") ","
	IPA("198.18.2.26") "," IPA("198.18.2.27") "," IPA("198.18.2.28") "," IPA("198.18.2.29") "," IPA("198.18.2.30") ","
	IPA("198.18.2.31") "," IPA("198.18.2.32") "," IPA("198.18.2.33") "," IPA("198.18.2.34") "," IPA("198.18.2.35") "]}"
	"]}";

static const char T_PROFILE[] = "{\"name\":\"dns-prof\",\"type\":\"APPLICATION_PROFILE_TYPE_DNS\",\"dns_service_profile\":{"
	"\"dns_zones\":[{\"domain_name\":\"example.com\",\"name_server\":\"ns1.example.com\",\"admin_email\":\"dns-admin@example.com\"},"
	"{\"domain_name\":\"0.18.198.in-addr.arpa\"}],"
	"\"ttl\":30,\"negative_caching_ttl\":45,\"num_dns_ip\":1,\"error_response\":\"DNS_ERROR_RESPONSE_ERROR\",\"edns\":true}}";

#define MEM(ip, r) "{\"ip\":{\"addr\":\"" ip "\",\"type\":\"V4\"},\"ratio\":" #r ",\"enabled\":true}"

static const char T_GSLB[] = "[{\"name\":\"gs-web\",\"domain_names\":[\"gs.example.com\",\"gs.elsewhere.test\"],\"ttl\":5,"
	"\"groups\":[{\"name\":\"g1\",\"priority\":10,\"algorithm\":\"GSLB_ALGORITHM_ROUND_ROBIN\",\"members\":["
	MEM("198.18.1.2", 6) "," MEM("198.18.1.3", 3) "," MEM("198.18.1.4", 1) "]}]}]";

#endif
