/* Compiles Avi-shaped JSON (DNS VS static records, dns_service_profile,
 * gslbservice objects) into the flat lookup tables of dns_priv.h.  Runs on the
 * control thread; every error names the JSON path of the offending field. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns_priv.h"

#define DEF_TTL 30
#define DEF_NEG_TTL 30
#define MAX_TTL 2147483647
#define GS_MAX_MEMBERS 64
#define MAX_NUM_IP 20

struct pend_rr {             /* one record before grouping into rrsets */
	uint32_t node;
	uint8_t ti;
	uint8_t algo;
	uint16_t nresp;
	uint32_t ttl;
	uint32_t off, len;
	uint32_t seq;
	int32_t rec;             /* static_dns_records index, -1 when generated */
};

struct cc {
	struct sl_dns_cerr *err;
	/* nodes under construction */
	struct dns_node *nodes;
	uint32_t n_nodes, cap_nodes;
	uint8_t *names;
	uint32_t n_names, cap_names;
	uint32_t *tab;
	uint32_t tmask;
	uint8_t *rdata;
	uint32_t n_rdata, cap_rdata;
	struct pend_rr *pend;
	uint32_t n_pend, cap_pend;
	struct dns_zone *zones;
	uint32_t n_zones, cap_zones;
	struct dns_gslb *gslbs;
	uint32_t n_gslbs, cap_gslbs;
	struct dns_group *groups;
	uint32_t n_groups, cap_groups;
	struct dns_member *members;
	uint32_t n_members, cap_members;
	uint32_t words;          /* per-worker state words used */
	/* profile */
	uint32_t ttl, neg_ttl, num_ip;
	const char *ns_default, *admin_default;
};

static int fail(struct cc *c, const char *obj, const char *detail, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct cc *c, const char *obj, const char *detail, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err->path, sizeof(c->err->path), fmt, ap);
	va_end(ap);
	snprintf(c->err->detail, sizeof(c->err->detail), "%s", detail);
	snprintf(c->err->object, sizeof(c->err->object), "%s", obj);
	return -EINVAL;
}

static int grow(void **p, uint32_t *cap, uint32_t need, size_t elt)
{
	if (need <= *cap)
		return 0;
	uint32_t nc = *cap ? *cap : 16;
	while (nc < need)
		nc *= 2;
	void *q = realloc(*p, (size_t)nc * elt);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = nc;
	return 0;
}
#define GROW(c, arr, n, cap, need) grow((void **)&(c)->arr, &(c)->cap, (need), sizeof(*(c)->arr))

/* ---- names ---- */

/* Presentation text -> lowercase wire.  Returns NULL or a reason. */
static const char *text_to_wire(const char *s, uint8_t *out, unsigned *olen, bool allow_wild)
{
	size_t n = strlen(s);
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0)
		return "empty domain name";
	unsigned o = 0;
	size_t i = 0;
	bool first = true;
	while (i <= n) {
		size_t j = i;
		while (j < n && s[j] != '.')
			j++;
		size_t l = j - i;
		if (l == 0)
			return "empty label";
		if (l > 63)
			return "label longer than 63 octets";
		if (o + l + 2 > DNS_MAX_NAME)
			return "name longer than 255 octets";
		if (l == 1 && s[i] == '*') {
			if (!first || !allow_wild)
				return "'*' allowed only as the first label";
		} else {
			for (size_t k = i; k < j; k++) {
				char ch = s[k];
				if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
					return "invalid character in domain name";
			}
		}
		out[o++] = (uint8_t)l;
		for (size_t k = i; k < j; k++) {
			char ch = s[k];
			out[o++] = (uint8_t)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
		}
		first = false;
		i = j + 1;
	}
	out[o++] = 0;
	*olen = o;
	return NULL;
}

static uint32_t tab_find(struct cc *c, const uint8_t *w, unsigned len, uint32_t *slot)
{
	uint32_t h = sl_dns_hash(w, len) & c->tmask;
	for (;;) {
		uint32_t idx = c->tab[h];
		if (idx == DNS_NONE) {
			*slot = h;
			return DNS_NONE;
		}
		const struct dns_node *n = &c->nodes[idx];
		if (n->name_len == len && memcmp(c->names + n->name_off, w, len) == 0)
			return idx;
		h = (h + 1) & c->tmask;
	}
}

static int tab_rehash(struct cc *c, uint32_t size)
{
	uint32_t *t = malloc((size_t)size * sizeof(*t));
	if (!t)
		return -ENOMEM;
	memset(t, 0xff, (size_t)size * sizeof(*t));
	free(c->tab);
	c->tab = t;
	c->tmask = size - 1;
	for (uint32_t i = 0; i < c->n_nodes; i++) {
		uint32_t slot;
		tab_find(c, c->names + c->nodes[i].name_off, c->nodes[i].name_len, &slot);
		c->tab[slot] = i;
	}
	return 0;
}

/* Finds or creates the node of a wire name; returns index or DNS_NONE on ENOMEM. */
static uint32_t node_get(struct cc *c, const uint8_t *w, unsigned len)
{
	uint32_t slot;
	uint32_t idx = tab_find(c, w, len, &slot);
	if (idx != DNS_NONE)
		return idx;
	if ((c->n_nodes + 1) * 2 > c->tmask + 1) {
		if (tab_rehash(c, (c->tmask + 1) * 2))
			return DNS_NONE;
		tab_find(c, w, len, &slot);
	}
	if (GROW(c, nodes, n_nodes, cap_nodes, c->n_nodes + 1) ||
	    GROW(c, names, n_names, cap_names, c->n_names + len))
		return DNS_NONE;
	struct dns_node *n = &c->nodes[c->n_nodes];
	memset(n, 0, sizeof(*n));
	n->name_off = c->n_names;
	n->name_len = (uint8_t)len;
	for (unsigned i = 0; w[i]; i += w[i] + 1u)
		n->nlabels++;
	n->zone = n->wild_child = n->gslb = DNS_NONE;
	for (int t = 0; t < TI_MAX; t++)
		n->rrset[t] = DNS_NONE;
	memcpy(c->names + c->n_names, w, len);
	c->n_names += len;
	c->tab[slot] = c->n_nodes;
	return c->n_nodes++;
}

static int rdata_add(struct cc *c, const void *p, unsigned len, uint32_t *off)
{
	if (GROW(c, rdata, n_rdata, cap_rdata, c->n_rdata + len))
		return -ENOMEM;
	memcpy(c->rdata + c->n_rdata, p, len);
	*off = c->n_rdata;
	c->n_rdata += len;
	return 0;
}

static int pend_add(struct cc *c, uint32_t node, int ti, uint32_t ttl, uint16_t nresp, uint8_t algo,
		    const void *rd, unsigned len, int32_t rec)
{
	if (GROW(c, pend, n_pend, cap_pend, c->n_pend + 1))
		return -ENOMEM;
	struct pend_rr *p = &c->pend[c->n_pend];
	p->node = node;
	p->ti = (uint8_t)ti;
	p->ttl = ttl;
	p->nresp = nresp;
	p->algo = algo;
	p->seq = c->n_pend;
	p->rec = rec;
	p->len = len;
	if (rdata_add(c, rd, len, &p->off))
		return -ENOMEM;
	c->n_pend++;
	return 0;
}

/* ---- JSON helpers: each returns 0 or -EINVAL with the path filled in ---- */

static int get_uint(struct cc *c, const char *obj, const json_t *o, const char *key, uint32_t min,
		    uint32_t max, uint32_t def, uint32_t *out, const char *pfx)
{
	const json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v))
		return fail(c, obj, "must be an integer", "%s%s", pfx, key);
	json_int_t x = json_integer_value(v);
	if (x < (json_int_t)min || x > (json_int_t)max) {
		char d[96];
		snprintf(d, sizeof(d), "must be %u..%u", min, max);
		return fail(c, obj, d, "%s%s", pfx, key);
	}
	*out = (uint32_t)x;
	return 0;
}

static int get_bool(struct cc *c, const char *obj, const json_t *o, const char *key, bool def,
		    bool *out, const char *pfx)
{
	const json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return fail(c, obj, "must be true or false", "%s%s", pfx, key);
	*out = json_is_true(v);
	return 0;
}

static int get_str(struct cc *c, const char *obj, const json_t *o, const char *key, bool required,
		   const char **out, const char *pfx)
{
	const json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		*out = NULL;
		return required ? fail(c, obj, "required", "%s%s", pfx, key) : 0;
	}
	if (!json_is_string(v))
		return fail(c, obj, "must be a string", "%s%s", pfx, key);
	*out = json_string_value(v);
	return 0;
}

static int get_array(struct cc *c, const char *obj, const json_t *o, const char *key, bool required,
		     const json_t **out, const char *pfx)
{
	const json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0 && !required)) {
		*out = NULL;
		return required ? fail(c, obj, "required, at least one entry", "%s%s", pfx, key) : 0;
	}
	if (!json_is_array(v))
		return fail(c, obj, "must be an array", "%s%s", pfx, key);
	if (required && json_array_size(v) == 0)
		return fail(c, obj, "required, at least one entry", "%s%s", pfx, key);
	*out = v;
	return 0;
}

static int get_name(struct cc *c, const char *obj, const json_t *o, const char *key, bool required,
		    bool wild, uint8_t *w, unsigned *wl, const char *pfx)
{
	const char *s;
	int rc = get_str(c, obj, o, key, required, &s, pfx);
	if (rc)
		return rc;
	if (!s) {
		*wl = 0;
		return 0;
	}
	const char *why = text_to_wire(s, w, wl, wild);
	return why ? fail(c, obj, why, "%s%s", pfx, key) : 0;
}

/* IPAddr {addr, type}. fam is "V4" or "V6". */
static int get_ipaddr(struct cc *c, const char *obj, const json_t *o, const char *key, bool v6,
		      void *out, const char *pfx)
{
	const json_t *ip = json_object_get(o, key);
	if (!ip || !json_is_object(ip))
		return fail(c, obj, "required object {addr, type}", "%s%s", pfx, key);
	char p2[300];
	snprintf(p2, sizeof(p2), "%s%s.", pfx, key);
	const char *addr, *type;
	int rc = get_str(c, obj, ip, "addr", true, &addr, p2);
	if (rc || (rc = get_str(c, obj, ip, "type", false, &type, p2)))
		return rc;
	if (type && strcmp(type, v6 ? "V6" : "V4") != 0)
		return fail(c, obj, v6 ? "must be V6" : "must be V4 (IPv6 not supported here)",
			    "%stype", p2);
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, out) != 1)
		return fail(c, obj, v6 ? "not an IPv6 address" : "not an IPv4 address", "%saddr", p2);
	return 0;
}

/* ---- profile and zones ---- */

static uint32_t zone_of(struct cc *c, const uint8_t *w, unsigned len)
{
	/* longest apex suffix */
	for (unsigned i = 0;; i += w[i] + 1u) {
		uint32_t slot, n = tab_find(c, w + i, len - i, &slot);
		if (n != DNS_NONE && (c->nodes[n].flags & NODE_APEX))
			return c->nodes[n].zone;
		if (!w[i])
			return DNS_NONE;
	}
}

/* rname from an e-mail address ("dns-admin@example.com") or a bare label ("hostmaster"). */
static const char *rname_wire(const char *mail, const uint8_t *zone, unsigned zlen, uint8_t *w,
			      unsigned *wl)
{
	const char *at = strchr(mail, '@');
	if (!at && !strchr(mail, '.')) {
		size_t l = strlen(mail);
		if (l == 0 || l > 63 || l + 1 + zlen > DNS_MAX_NAME)
			return "invalid admin_email";
		w[0] = (uint8_t)l;
		memcpy(w + 1, mail, l);
		memcpy(w + 1 + l, zone, zlen);
		*wl = (unsigned)(1 + l + zlen);
		return NULL;
	}
	if (!at)
		return text_to_wire(mail, w, wl, false);
	size_t l = (size_t)(at - mail);
	if (l == 0 || l > 63)
		return "invalid admin_email local part";
	uint8_t dom[DNS_MAX_NAME + 1];
	unsigned dl;
	const char *why = text_to_wire(at + 1, dom, &dl, false);
	if (why)
		return why;
	if (1 + l + dl > DNS_MAX_NAME)
		return "admin_email too long";
	w[0] = (uint8_t)l;
	memcpy(w + 1, mail, l);   /* dots in the local part stay inside one label */
	memcpy(w + 1 + l, dom, dl);
	*wl = (unsigned)(1 + l + dl);
	return NULL;
}

static void put32(uint8_t *t, uint32_t v)
{
	t[0] = (uint8_t)(v >> 24);
	t[1] = (uint8_t)(v >> 16);
	t[2] = (uint8_t)(v >> 8);
	t[3] = (uint8_t)v;
}

/* serial: from the config, or 0 for the compile time (sl_dns_db_keep_serials may keep an older one) */
static int add_zone(struct cc *c, const char *obj, const uint8_t *w, unsigned wl, const char *ns,
		    const char *mail, uint32_t soa_ttl, uint32_t serial, const char *pfx, const char *key)
{
	uint32_t slot;
	uint32_t n = tab_find(c, w, wl, &slot);
	if (n != DNS_NONE && (c->nodes[n].flags & NODE_APEX))
		return fail(c, obj, "duplicate zone", "%s%s", pfx, key);
	n = node_get(c, w, wl);
	if (n == DNS_NONE || GROW(c, zones, n_zones, cap_zones, c->n_zones + 1))
		return -ENOMEM;
	c->nodes[n].flags |= NODE_APEX;
	c->nodes[n].zone = c->n_zones;
	c->zones[c->n_zones].node = n;
	c->zones[c->n_zones].neg_ttl = c->neg_ttl;
	c->zones[c->n_zones].fixed = serial != 0;
	if (!serial)
		serial = (uint32_t)time(NULL);
	c->zones[c->n_zones].serial = serial;
	c->n_zones++;

	uint8_t rd[2 * (DNS_MAX_NAME + 1) + 20];
	unsigned l1 = wl, l2;
	if (ns) {
		const char *why = text_to_wire(ns, rd, &l1, false);
		if (why)
			return fail(c, obj, why, "%sname_server", pfx);
	} else {
		memcpy(rd, w, wl);
	}
	const char *why = rname_wire(mail ? mail : "hostmaster", w, wl, rd + l1, &l2);
	if (why)
		return fail(c, obj, why, "%sadmin_email", pfx);
	uint8_t *t = rd + l1 + l2;
	uint32_t v[5] = { serial, 10800, 3600, 86400, c->neg_ttl };
	for (int i = 0; i < 5; i++)
		put32(t + 4 * i, v[i]);
	int rc = pend_add(c, n, TI_SOA, soa_ttl, 0, RR_ALGO_RR, rd, l1 + l2 + 20, -1);
	if (rc)
		return rc;
	return 0;
}

static int parse_profile(struct cc *c, const json_t *ap, bool *refuse, bool *edns, bool *tcp)
{
	static const char *obj = "applicationprofile";
	const json_t *p = ap ? json_object_get(ap, "dns_service_profile") : NULL;
	const char *pfx = "dns_service_profile.";
	if (ap && !p && json_object_get(ap, "dns_zones"))
		p = ap, pfx = "";   /* the bare DnsServiceApplicationProfile */
	c->ttl = DEF_TTL;
	c->neg_ttl = DEF_NEG_TTL;
	c->num_ip = 1;
	*refuse = false;
	*edns = true;
	*tcp = true;
	if (!p || json_is_null(p))
		return 0;
	if (!json_is_object(p))
		return fail(c, obj, "must be an object", "dns_service_profile");
	const char *er;
	int rc;
	if ((rc = get_uint(c, obj, p, "ttl", 0, 86400, DEF_TTL, &c->ttl, pfx)) ||
	    (rc = get_uint(c, obj, p, "negative_caching_ttl", 0, 86400, DEF_NEG_TTL, &c->neg_ttl, pfx)) ||
	    (rc = get_uint(c, obj, p, "num_dns_ip", 0, MAX_NUM_IP, 1, &c->num_ip, pfx)) ||
	    (rc = get_bool(c, obj, p, "edns", true, edns, pfx)) ||
	    (rc = get_bool(c, obj, p, "dns_over_tcp_enabled", true, tcp, pfx)) ||
	    (rc = get_str(c, obj, p, "error_response", false, &er, pfx)) ||
	    (rc = get_str(c, obj, p, "name_server", false, &c->ns_default, pfx)) ||
	    (rc = get_str(c, obj, p, "admin_email", false, &c->admin_default, pfx)))
		return rc;
	if (er && strcmp(er, "DNS_ERROR_RESPONSE_ERROR") == 0)
		*refuse = true;
	else if (er && strcmp(er, "DNS_ERROR_RESPONSE_NONE") != 0)
		return fail(c, obj, "must be DNS_ERROR_RESPONSE_ERROR or DNS_ERROR_RESPONSE_NONE",
			    "%serror_response", pfx);
	if (c->ns_default) {
		uint8_t w[DNS_MAX_NAME + 1];
		unsigned wl;
		const char *why = text_to_wire(c->ns_default, w, &wl, false);
		if (why)
			return fail(c, obj, why, "%sname_server", pfx);
	}

	const json_t *zones;
	if ((rc = get_array(c, obj, p, "dns_zones", false, &zones, pfx)))
		return rc;
	size_t i;
	const json_t *z;
	json_array_foreach(zones, i, z) {
		char zp[128];
		snprintf(zp, sizeof(zp), "%sdns_zones[%zu].", pfx, i);
		if (!json_is_object(z))
			return fail(c, obj, "must be an object", "%sdns_zones[%zu]", pfx, i);
		uint8_t w[DNS_MAX_NAME + 1];
		unsigned wl;
		const char *ns, *mail;
		uint32_t serial;
		if ((rc = get_name(c, obj, z, "domain_name", true, false, w, &wl, zp)) ||
		    (rc = get_str(c, obj, z, "name_server", false, &ns, zp)) ||
		    (rc = get_str(c, obj, z, "admin_email", false, &mail, zp)) ||
		    (rc = get_uint(c, obj, z, "sluice_soa_serial", 1, UINT32_MAX, 0, &serial, zp)) ||
		    (rc = add_zone(c, obj, w, wl, ns ? ns : c->ns_default, mail ? mail : c->admin_default,
				   c->ttl, serial, zp, "domain_name")))
			return rc;
	}
	/* Legacy domain_names[] (ends-with semantics): zones with profile-level SOA fields. */
	const json_t *dn;
	if ((rc = get_array(c, obj, p, "domain_names", false, &dn, pfx)))
		return rc;
	json_array_foreach(dn, i, z) {
		char zp[128];
		snprintf(zp, sizeof(zp), "%sdomain_names[%zu]", pfx, i);
		if (!json_is_string(z))
			return fail(c, obj, "must be a string", "%s", zp);
		uint8_t w[DNS_MAX_NAME + 1];
		unsigned wl;
		const char *why = text_to_wire(json_string_value(z), w, &wl, false);
		if (why)
			return fail(c, obj, why, "%s", zp);
		uint32_t slot, n = tab_find(c, w, wl, &slot);
		if (n != DNS_NONE && (c->nodes[n].flags & NODE_APEX))
			continue;   /* also listed in dns_zones */
		if ((rc = add_zone(c, obj, w, wl, c->ns_default, c->admin_default, c->ttl, 0, zp, "")))
			return rc;
	}
	return 0;
}

/* ---- static records ---- */

static const char *const rec_types[] = {
	[TI_A] = "DNS_RECORD_A", [TI_AAAA] = "DNS_RECORD_AAAA", [TI_CNAME] = "DNS_RECORD_CNAME",
	[TI_NS] = "DNS_RECORD_NS", [TI_SOA] = "DNS_RECORD_SOA", [TI_SRV] = "DNS_RECORD_SRV",
	[TI_MX] = "DNS_RECORD_MX", [TI_TXT] = "DNS_RECORD_TXT", [TI_PTR] = "DNS_RECORD_PTR",
};

static int rdata_items(struct cc *c, const json_t *r, int ti, const char *pfx, uint8_t *w,
		       unsigned wl, uint32_t node, uint32_t ttl, uint16_t nresp, uint8_t algo,
		       int32_t rec)
{
	static const char *obj = "virtualservice";
	const char *key = NULL;
	switch (ti) {
	case TI_A: key = "ip_address"; break;
	case TI_AAAA: key = "ip6_address"; break;
	case TI_NS: key = "ns"; break;
	case TI_SRV: key = "service_locator"; break;
	case TI_MX: key = "mx_records"; break;
	case TI_TXT: key = "txt_records"; break;
	default: break;
	}
	int rc;
	uint8_t rd[DNS_MAX_NAME + 64];
	unsigned rl;
	(void)w;
	(void)wl;
	if (ti == TI_CNAME || ti == TI_PTR) {
		/* PTR reuses Avi's DnsCnameRdata {cname} for its target: Avi has no PTR rdata. */
		const json_t *cn = json_object_get(r, "cname");
		char p2[300];
		if (!cn || !json_is_object(cn))
			return fail(c, obj, "required object {cname}", "%scname", pfx);
		snprintf(p2, sizeof(p2), "%scname.", pfx);
		if ((rc = get_name(c, obj, cn, "cname", true, false, rd, &rl, p2)))
			return rc;
		return pend_add(c, node, ti, ttl, nresp, algo, rd, rl, rec);
	}
	const json_t *arr;
	if ((rc = get_array(c, obj, r, key, true, &arr, pfx)))
		return rc;
	size_t i;
	const json_t *it;
	json_array_foreach(arr, i, it) {
		char ip[300];
		snprintf(ip, sizeof(ip), "%s%s[%zu].", pfx, key, i);
		if (!json_is_object(it))
			return fail(c, obj, "must be an object", "%s%s[%zu]", pfx, key, i);
		uint32_t a, b, d;
		switch (ti) {
		case TI_A:
			rc = get_ipaddr(c, obj, it, "ip_address", false, rd, ip);
			rl = 4;
			break;
		case TI_AAAA:
			rc = get_ipaddr(c, obj, it, "ip6_address", true, rd, ip);
			rl = 16;
			break;
		case TI_NS:
			rc = get_name(c, obj, it, "nsname", true, false, rd, &rl, ip);
			if (!rc && json_object_get(it, "ip_address")) {
				uint8_t glue[4];
				rc = get_ipaddr(c, obj, it, "ip_address", false, glue, ip);
			}
			break;
		case TI_SRV:
			if ((rc = get_uint(c, obj, it, "priority", 0, 65535, 0, &a, ip)) ||
			    (rc = get_uint(c, obj, it, "weight", 0, 65535, 0, &b, ip)) ||
			    (rc = get_uint(c, obj, it, "port", 0, 65535, 0, &d, ip)) ||
			    (rc = get_name(c, obj, it, "target", true, false, rd + 6, &rl, ip)))
				break;
			rd[0] = (uint8_t)(a >> 8); rd[1] = (uint8_t)a;
			rd[2] = (uint8_t)(b >> 8); rd[3] = (uint8_t)b;
			rd[4] = (uint8_t)(d >> 8); rd[5] = (uint8_t)d;
			rl += 6;
			break;
		case TI_MX:
			if ((rc = get_uint(c, obj, it, "priority", 0, 65535, 0, &a, ip)) ||
			    (rc = get_name(c, obj, it, "host", true, false, rd + 2, &rl, ip)))
				break;
			rd[0] = (uint8_t)(a >> 8); rd[1] = (uint8_t)a;
			rl += 2;
			break;
		default: { /* TXT: character-strings of <= 255 octets each */
			const char *s;
			if ((rc = get_str(c, obj, it, "text_str", true, &s, ip)))
				break;
			size_t sl = strlen(s);
			uint8_t txt[4096];
			size_t o = 0;
			if (sl > 3800)
				return fail(c, obj, "longer than 3800 octets", "%stext_str", ip);
			do {
				size_t k = sl > 255 ? 255 : sl;
				txt[o++] = (uint8_t)k;
				memcpy(txt + o, s, k);
				o += k;
				s += k;
				sl -= k;
			} while (sl);
			rc = pend_add(c, node, ti, ttl, nresp, algo, txt, (unsigned)o, rec);
			if (rc)
				return rc;
			continue;
		}
		}
		if (rc)
			return rc;
		if ((rc = pend_add(c, node, ti, ttl, nresp, algo, rd, rl, rec)))
			return rc;
	}
	return 0;
}

static int parse_records(struct cc *c, const json_t *vs)
{
	static const char *obj = "virtualservice";
	const json_t *recs;
	int rc;
	if (!vs || !json_is_object(vs))
		return fail(c, obj, "must be an object", "%s", "");
	if ((rc = get_array(c, obj, vs, "static_dns_records", false, &recs, "")))
		return rc;
	/* SOA records declare zones; do them first so every other record can find its zone. */
	for (int pass = 0; pass < 2; pass++) {
		size_t i;
		const json_t *r;
		json_array_foreach(recs, i, r) {
			char pfx[64];
			snprintf(pfx, sizeof(pfx), "static_dns_records[%zu].", i);
			if (!json_is_object(r))
				return fail(c, obj, "must be an object", "static_dns_records[%zu]", i);
			const char *type, *algo;
			if ((rc = get_str(c, obj, r, "type", true, &type, pfx)))
				return rc;
			int ti = -1;
			for (int t = 0; t < TI_MAX; t++)
				if (strcmp(type, rec_types[t]) == 0)
					ti = t;
			if (ti < 0)
				return fail(c, obj, "unsupported record type (A AAAA CNAME NS SOA SRV MX TXT PTR)",
					    "%stype", pfx);
			if ((pass == 0) != (ti == TI_SOA))
				continue;
			uint32_t ttl, nresp;
			bool wild = false;
			if ((rc = get_uint(c, obj, r, "ttl", 0, MAX_TTL, c->ttl, &ttl, pfx)) ||
			    (rc = get_uint(c, obj, r, "num_records_in_response", 0, 20, 0, &nresp, pfx)) ||
			    (rc = get_bool(c, obj, r, "wildcard_match", false, &wild, pfx)) ||
			    (rc = get_str(c, obj, r, "algorithm", false, &algo, pfx)))
				return rc;
			uint8_t a = RR_ALGO_RR;
			if (algo && strcmp(algo, "DNS_RECORD_RESPONSE_CONSISTENT_HASH") == 0)
				a = RR_ALGO_CH;
			else if (algo && strcmp(algo, "DNS_RECORD_RESPONSE_ROUND_ROBIN") != 0)
				return fail(c, obj,
					    "must be DNS_RECORD_RESPONSE_ROUND_ROBIN or DNS_RECORD_RESPONSE_CONSISTENT_HASH",
					    "%salgorithm", pfx);
			const json_t *fq;
			if ((rc = get_array(c, obj, r, "fqdn", true, &fq, pfx)))
				return rc;
			size_t j;
			const json_t *f;
			json_array_foreach(fq, j, f) {
				if (!json_is_string(f))
					return fail(c, obj, "must be a string", "%sfqdn[%zu]", pfx, j);
				uint8_t w[DNS_MAX_NAME + 1];
				unsigned wl;
				const char *why = text_to_wire(json_string_value(f), w, &wl, true);
				if (why)
					return fail(c, obj, why, "%sfqdn[%zu]", pfx, j);
				if (ti == TI_SOA) {
					uint32_t slot, n = tab_find(c, w, wl, &slot);
					if (n != DNS_NONE && (c->nodes[n].flags & NODE_APEX))
						continue;   /* already a dns_zones entry */
					char key[32];
					snprintf(key, sizeof(key), "fqdn[%zu]", j);
					if ((rc = add_zone(c, obj, w, wl, c->ns_default, c->admin_default, ttl, 0,
							   pfx, key)))
						return rc;
					continue;
				}
				uint32_t node = node_get(c, w, wl);
				if (node == DNS_NONE)
					return -ENOMEM;
				if (wild)
					c->nodes[node].flags |= NODE_WILDMATCH;
				if ((rc = rdata_items(c, r, ti, pfx, w, wl, node, ttl, (uint16_t)nresp, a,
						      (int32_t)i)))
					return rc;
			}
		}
	}
	return 0;
}

/* ---- GSLB ---- */

static int parse_gslb(struct cc *c, const json_t *arr, sl_dns_slot_fn slot_fn, void *slot_arg)
{
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		return fail(c, "gslbservice", "must be an array of gslbservice objects", "%s", "");
	}
	size_t si;
	const json_t *s;
	json_array_foreach(arr, si, s) {
		char obj[160];
		int rc;
		const char *name;
		if (!json_is_object(s)) {
			snprintf(obj, sizeof(obj), "gslbservice/[%zu]", si);
			return fail(c, obj, "must be an object", "%s", "");
		}
		name = json_string_value(json_object_get(s, "name"));
		snprintf(obj, sizeof(obj), "gslbservice/%s", name ? name : "?");
		if (!name)
			return fail(c, obj, "required string", "name");
		bool enabled = true;
		uint32_t ttl, num_ip;
		const json_t *dn, *groups, *dr;
		if ((rc = get_bool(c, obj, s, "enabled", true, &enabled, "")) ||
		    (rc = get_uint(c, obj, s, "ttl", 0, 86400, c->ttl, &ttl, "")) ||
		    (rc = get_uint(c, obj, s, "num_dns_ip", 0, MAX_NUM_IP, c->num_ip, &num_ip, "")) ||
		    (rc = get_array(c, obj, s, "domain_names", true, &dn, "")) ||
		    (rc = get_array(c, obj, s, "groups", false, &groups, "")))
			return rc;
		struct dns_gslb g = { .ttl = ttl, .num_ip = (uint16_t)num_ip, .down = GS_DOWN_NONE };
		dr = json_object_get(s, "down_response");
		if (dr && !json_is_null(dr)) {
			const char *t;
			if (!json_is_object(dr))
				return fail(c, obj, "must be an object", "down_response");
			if ((rc = get_str(c, obj, dr, "type", true, &t, "down_response.")))
				return rc;
			if (!strcmp(t, "GSLB_SERVICE_DOWN_RESPONSE_NONE"))
				g.down = GS_DOWN_NONE;
			else if (!strcmp(t, "GSLB_SERVICE_DOWN_RESPONSE_ALL_RECORDS"))
				g.down = GS_DOWN_ALL;
			else if (!strcmp(t, "GSLB_SERVICE_DOWN_RESPONSE_EMPTY"))
				g.down = GS_DOWN_EMPTY;
			else if (!strcmp(t, "GSLB_SERVICE_DOWN_RESPONSE_FALLBACK_IP")) {
				g.down = GS_DOWN_FALLBACK;
				if ((rc = get_ipaddr(c, obj, dr, "fallback_ip", false, &g.fallback_be,
						     "down_response.")))
					return rc;
			} else
				return fail(c, obj,
					    "must be GSLB_SERVICE_DOWN_RESPONSE_NONE|ALL_RECORDS|FALLBACK_IP|EMPTY",
					    "down_response.type");
		}
		/* Validate every domain name; answer only those inside our zones. */
		uint32_t nodes_in[64];
		unsigned n_in = 0;
		size_t j;
		const json_t *d;
		json_array_foreach(dn, j, d) {
			uint8_t w[DNS_MAX_NAME + 1];
			unsigned wl;
			if (!json_is_string(d))
				return fail(c, obj, "must be a string", "domain_names[%zu]", j);
			const char *why = text_to_wire(json_string_value(d), w, &wl, true);
			if (why)
				return fail(c, obj, why, "domain_names[%zu]", j);
			if (!enabled || zone_of(c, w, wl) == DNS_NONE)
				continue;
			if (n_in == 64)
				return fail(c, obj, "at most 64 domain names", "domain_names[%zu]", j);
			uint32_t n = node_get(c, w, wl);
			if (n == DNS_NONE)
				return -ENOMEM;
			if (c->nodes[n].gslb != DNS_NONE)
				return fail(c, obj, "domain name already used by another gslbservice",
					    "domain_names[%zu]", j);
			nodes_in[n_in++] = n;
		}
		/* Groups, validated even when unused so a bad object is reported early. */
		uint32_t gfirst = c->n_groups;
		size_t gi;
		const json_t *gr;
		json_array_foreach(groups, gi, gr) {
			char gp[64];
			snprintf(gp, sizeof(gp), "groups[%zu].", gi);
			if (!json_is_object(gr))
				return fail(c, obj, "must be an object", "groups[%zu]", gi);
			uint32_t prio, mask;
			bool gen = true;
			const char *algo;
			const json_t *mem;
			if ((rc = get_uint(c, obj, gr, "priority", 0, 100, 10, &prio, gp)) ||
			    (rc = get_bool(c, obj, gr, "enabled", true, &gen, gp)) ||
			    (rc = get_uint(c, obj, gr, "consistent_hash_mask", 1, 32, 32, &mask, gp)) ||
			    (rc = get_str(c, obj, gr, "algorithm", false, &algo, gp)) ||
			    (rc = get_array(c, obj, gr, "members", false, &mem, gp)))
				return rc;
			struct dns_group G = { .algo = GS_ALGO_RR };
			if (!algo || !strcmp(algo, "GSLB_ALGORITHM_ROUND_ROBIN"))
				G.algo = GS_ALGO_RR;
			else if (!strcmp(algo, "GSLB_ALGORITHM_CONSISTENT_HASH"))
				G.algo = GS_ALGO_CH;
			else if (!strcmp(algo, "GSLB_ALGORITHM_PREFERENCE_ORDER"))
				G.algo = GS_ALGO_PREF;
			else
				return fail(c, obj,
					    "must be GSLB_ALGORITHM_ROUND_ROBIN, CONSISTENT_HASH or PREFERENCE_ORDER (GEO/TOPOLOGY not supported)",
					    "%salgorithm", gp);
			if (json_array_size(mem) > GS_MAX_MEMBERS)
				return fail(c, obj, "at most 64 members per group", "%smembers", gp);
			bool use = n_in && gen && prio != 0;   /* priority 0 = group disabled (Avi) */
			G.mask_be = htonl(mask == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> mask));
			G.first = c->n_members;
			size_t mi;
			const json_t *m;
			json_array_foreach(mem, mi, m) {
				char mp[96];
				snprintf(mp, sizeof(mp), "%smembers[%zu].", gp, mi);
				if (!json_is_object(m))
					return fail(c, obj, "must be an object", "%smembers[%zu]", gp, mi);
				struct dns_member M = { 0 };
				uint32_t ratio, pref;
				bool men = true;
				if ((rc = get_ipaddr(c, obj, m, "ip", false, &M.ip_be, mp)) ||
				    (rc = get_uint(c, obj, m, "ratio", 1, 20, 1, &ratio, mp)) ||
				    (rc = get_uint(c, obj, m, "preference_order", 1, 128, 1, &pref, mp)) ||
				    (rc = get_bool(c, obj, m, "enabled", true, &men, mp)))
					return rc;
				M.ratio = (uint16_t)ratio;
				M.pref = (uint8_t)pref;
				M.enabled = men;
				M.hkey = sl_dns_hash((const uint8_t *)&M.ip_be, 4);
				if (use && G.count < GS_MAX_MEMBERS) {
					int slot = slot_fn ? slot_fn(slot_arg, name, M.ip_be) : 0;
					if (slot < 0) {
						snprintf(c->err->object, sizeof(c->err->object), "%s", obj);
						snprintf(c->err->path, sizeof(c->err->path), "%sip", mp);
						snprintf(c->err->detail, sizeof(c->err->detail),
							 "no health slot: %s", strerror(-slot));
						return slot;
					}
					if (slot >= 65536)
						return fail(c, obj, "health slot out of range", "%sip", mp);
					M.slot = (uint32_t)slot;
					if (GROW(c, members, n_members, cap_members, c->n_members + 1))
						return -ENOMEM;
					c->members[c->n_members++] = M;
					G.count++;
				}
			}
			if (!use || G.count == 0)
				continue;
			if (G.algo == GS_ALGO_PREF) {   /* stable insertion sort by preference_order */
				struct dns_member *ms = c->members + G.first;
				for (uint32_t a = 1; a < G.count; a++) {
					struct dns_member t = ms[a];
					uint32_t b = a;
					while (b > 0 && ms[b - 1].pref > t.pref) {
						ms[b] = ms[b - 1];
						b--;
					}
					ms[b] = t;
				}
			}
			G.cw = c->words;
			if (G.algo == GS_ALGO_RR)
				c->words += G.count;
			G.pad[0] = (uint8_t)(prio & 0xff);   /* sort key, cleared below */
			if (GROW(c, groups, n_groups, cap_groups, c->n_groups + 1))
				return -ENOMEM;
			c->groups[c->n_groups++] = G;
		}
		if (!n_in)
			continue;
		/* highest priority first; stable */
		struct dns_group *gs = c->groups + gfirst;
		uint32_t ng = c->n_groups - gfirst;
		for (uint32_t a = 1; a < ng; a++) {
			struct dns_group t = gs[a];
			uint32_t b = a;
			while (b > 0 && gs[b - 1].pad[0] < t.pad[0]) {
				gs[b] = gs[b - 1];
				b--;
			}
			gs[b] = t;
		}
		for (uint32_t a = 0; a < ng; a++)
			gs[a].pad[0] = 0;
		g.first_group = gfirst;
		g.ngroups = ng;
		if (GROW(c, gslbs, n_gslbs, cap_gslbs, c->n_gslbs + 1))
			return -ENOMEM;
		for (unsigned k = 0; k < n_in; k++)
			c->nodes[nodes_in[k]].gslb = c->n_gslbs;
		c->gslbs[c->n_gslbs++] = g;
	}
	return 0;
}

/* ---- finishing ---- */

static int cmp_pend(const void *a, const void *b)
{
	const struct pend_rr *x = a, *y = b;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->ti != y->ti)
		return x->ti < y->ti ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Zone of every node; empty non-terminals between a name and its apex so that
 * NXDOMAIN/NODATA and wildcard closest-encloser logic see them (RFC 4592). */
static int link_nodes(struct cc *c)
{
	for (uint32_t i = 0; i < c->n_nodes; i++) {
		uint8_t w[DNS_MAX_NAME + 1];
		unsigned wl = c->nodes[i].name_len;
		memcpy(w, c->names + c->nodes[i].name_off, wl);
		if (!(c->nodes[i].flags & NODE_APEX))
			c->nodes[i].zone = zone_of(c, w, wl);
		uint32_t z = c->nodes[i].zone;
		bool wildcard = w[0] == 1 && w[1] == '*';
		if (wildcard)
			c->nodes[i].flags |= NODE_WILDCARD;
		/* ancestors: up to the apex inside a zone; outside, only a wildcard's parent */
		if (!w[0])
			continue;
		bool parent = true;
		if (c->nodes[i].flags & NODE_APEX)   /* a nested zone's apex lives in its parent zone */
			z = zone_of(c, w + w[0] + 1, wl - w[0] - 1u);
		for (unsigned off = w[0] + 1u; w[off] != 0; off += w[off] + 1u, parent = false) {
			if (z == DNS_NONE && !(wildcard && parent))
				break;
			uint32_t a = node_get(c, w + off, wl - off);
			if (a == DNS_NONE)
				return -ENOMEM;
			if (wildcard && parent)
				c->nodes[a].wild_child = i;
			if (c->nodes[a].flags & NODE_APEX)
				break;
		}
	}
	return 0;
}

static int finish(struct cc *c, struct sl_dns_db *db, unsigned n_workers)
{
	int rc = link_nodes(c);
	if (rc)
		return rc;
	/* apex NS from the zone's name_server unless static NS records exist there */
	for (uint32_t z = 0; z < c->n_zones; z++) {
		uint32_t apex = c->zones[z].node;
		bool has_ns = false;
		const struct pend_rr *soa = NULL;
		for (uint32_t i = 0; i < c->n_pend; i++) {
			if (c->pend[i].node != apex)
				continue;
			has_ns |= c->pend[i].ti == TI_NS;
			if (c->pend[i].ti == TI_SOA && !soa)
				soa = &c->pend[i];
		}
		if (!has_ns && soa) {
			uint8_t mname[DNS_MAX_NAME + 1];
			unsigned l = 0;
			const uint8_t *rd = c->rdata + soa->off;
			while (rd[l])
				l += rd[l] + 1u;
			l++;
			memcpy(mname, rd, l);
			if ((rc = pend_add(c, apex, TI_NS, c->ttl, 0, RR_ALGO_RR, mname, l, -1)))
				return rc;
		}
	}
	qsort(c->pend, c->n_pend, sizeof(*c->pend), cmp_pend);
	db->rrsets = calloc(c->n_pend ? c->n_pend : 1, sizeof(*db->rrsets));
	db->rrs = calloc(c->n_pend ? c->n_pend : 1, sizeof(*db->rrs));
	if (!db->rrsets || !db->rrs)
		return -ENOMEM;
	uint32_t nrs = 0;
	for (uint32_t i = 0; i < c->n_pend;) {
		const struct pend_rr *p = &c->pend[i];
		uint32_t j = i;
		while (j < c->n_pend && c->pend[j].node == p->node && c->pend[j].ti == p->ti)
			j++;
		struct dns_rrset *rs = &db->rrsets[nrs];
		static const uint16_t types[TI_MAX] = { DNS_T_A, DNS_T_AAAA, DNS_T_CNAME, DNS_T_NS,
							DNS_T_SOA, DNS_T_SRV, DNS_T_MX, DNS_T_TXT, DNS_T_PTR };
		rs->type = types[p->ti];
		rs->ttl = p->ttl;
		rs->first = i;
		rs->count = (uint16_t)(j - i);
		rs->nresp = p->nresp;
		rs->algo = p->algo;
		if (j - i > 65535)
			return fail(c, "virtualservice", "too many records for one name and type",
				    "static_dns_records[%d]", p->rec);
		if (p->ti == TI_SOA && j - i > 1)
			rs->count = 1;
		if (rs->count > 1 && rs->algo == RR_ALGO_RR)
			rs->rot = c->words++;
		for (uint32_t k = i; k < j; k++) {
			db->rrs[k].off = c->pend[k].off;
			db->rrs[k].len = (uint16_t)c->pend[k].len;
		}
		c->nodes[p->node].rrset[p->ti] = nrs++;
		i = j;
	}
	db->n_rrsets = nrs;
	/* CNAME must be alone at its name (RFC 1034 3.6.2) */
	for (uint32_t i = 0; i < c->n_nodes; i++) {
		struct dns_node *n = &c->nodes[i];
		if (n->rrset[TI_CNAME] == DNS_NONE)
			continue;
		const struct dns_rrset *rs = &db->rrsets[n->rrset[TI_CNAME]];
		int32_t rec = c->pend[rs->first].rec;
		bool other = n->gslb != DNS_NONE || (n->flags & NODE_APEX);
		for (int t = 0; t < TI_MAX; t++)
			other |= t != TI_CNAME && n->rrset[t] != DNS_NONE;
		if (rs->count > 1)
			return fail(c, "virtualservice", "more than one CNAME for a name",
				    "static_dns_records[%d].cname", rec);
		if (other)
			return fail(c, "virtualservice", "CNAME and other data at the same name",
				    "static_dns_records[%d].fqdn", rec);
	}
	/* final hash table at <= 50% load */
	uint32_t size = 16;
	while (size < c->n_nodes * 2)
		size *= 2;
	if ((rc = tab_rehash(c, size)))
		return rc;

	db->htab = c->tab; c->tab = NULL;
	db->hmask = c->tmask;
	db->nodes = c->nodes; c->nodes = NULL;
	db->n_nodes = c->n_nodes;
	db->names = c->names; c->names = NULL;
	db->rdata = c->rdata; c->rdata = NULL;
	db->zones = c->zones; c->zones = NULL;
	db->n_zones = c->n_zones;
	db->gslbs = c->gslbs; c->gslbs = NULL;
	db->n_gslbs = c->n_gslbs;
	db->groups = c->groups; c->groups = NULL;
	db->members = c->members; c->members = NULL;
	db->n_members = c->n_members;
	/* per-worker blocks padded to a cache line so workers never share one */
	db->stride = (c->words + 15) & ~15u;
	if (!db->stride)
		db->stride = 16;
	db->n_workers = n_workers ? n_workers : 1;
	size_t bytes = (size_t)db->stride * db->n_workers * sizeof(uint32_t);
	db->state = aligned_alloc(64, bytes);
	if (!db->state)
		return -ENOMEM;
	memset(db->state, 0, bytes);
	return 0;
}

/* ---- SOA serials ---- */

static uint64_t fnv64(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#define FNV64_INIT 0xcbf29ce484222325ull

static uint64_t node_hash(const struct sl_dns_db *db, const struct dns_node *n)
{
	uint64_t h = fnv64(FNV64_INIT, db->names + n->name_off, n->name_len);
	h = fnv64(h, &n->flags, 1);
	for (int ti = 0; ti < TI_MAX; ti++) {
		if (n->rrset[ti] == DNS_NONE) {
			h = fnv64(h, "-", 1);
			continue;
		}
		const struct dns_rrset *rs = &db->rrsets[n->rrset[ti]];
		uint32_t hd[] = { rs->type, rs->count, rs->ttl, rs->nresp, rs->algo };
		h = fnv64(h, hd, sizeof(hd));
		for (uint32_t k = 0; k < rs->count; k++) {
			const struct dns_rr *rr = &db->rrs[rs->first + k];
			const uint8_t *rd = db->rdata + rr->off;
			/* the SOA's own serial is what is being decided: the 20 bytes after the names start with it */
			bool soa = rs->type == DNS_T_SOA;
			h = fnv64(h, rd, soa ? rr->len - 20u : rr->len);
			if (soa)
				h = fnv64(h, rd + rr->len - 16, 16);
		}
	}
	if (n->gslb != DNS_NONE) {
		const struct dns_gslb *gs = &db->gslbs[n->gslb];
		uint32_t gh[] = { gs->ttl, gs->num_ip, gs->down, gs->fallback_be, gs->ngroups };
		h = fnv64(h, gh, sizeof(gh));
		for (uint32_t g = 0; g < gs->ngroups; g++) {
			const struct dns_group *gr = &db->groups[gs->first_group + g];
			uint32_t grh[] = { gr->count, gr->mask_be, gr->algo };
			h = fnv64(h, grh, sizeof(grh));
			for (uint32_t k = 0; k < gr->count; k++) {
				const struct dns_member *m = &db->members[gr->first + k];
				uint32_t mh[] = { m->ip_be, m->ratio, m->enabled, m->pref };
				h = fnv64(h, mh, sizeof(mh));
			}
		}
	}
	/* splitmix64 finaliser: the per-zone sum below must not let node hashes cancel */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

/* Summed over nodes, so the order nodes were created in (which other zones' records shift) does
 * not matter; health is run-time state and not part of it. */
static void zone_hashes(struct sl_dns_db *db)
{
	for (uint32_t z = 0; z < db->n_zones; z++)
		db->zones[z].hash = fnv64(FNV64_INIT, &db->zones[z].neg_ttl, sizeof(db->zones[z].neg_ttl));
	for (uint32_t i = 0; i < db->n_nodes; i++)
		if (db->nodes[i].zone != DNS_NONE)
			db->zones[db->nodes[i].zone].hash += node_hash(db, &db->nodes[i]);
}

static void set_serial(struct sl_dns_db *db, struct dns_zone *z, uint32_t serial)
{
	const struct dns_rrset *rs = &db->rrsets[db->nodes[z->node].rrset[TI_SOA]];
	const struct dns_rr *rr = &db->rrs[rs->first];
	put32(db->rdata + rr->off + rr->len - 20, serial);
	z->serial = serial;
}

void sl_dns_db_keep_serials(struct sl_dns_db *db, const struct sl_dns_db *prev)
{
	for (uint32_t z = 0; prev && z < db->n_zones; z++) {
		struct dns_zone *zn = &db->zones[z];
		const struct dns_node *apex = &db->nodes[zn->node];
		uint32_t pn = sl_dns_lookup(prev, db->names + apex->name_off, apex->name_len);
		if (zn->fixed || pn == DNS_NONE || !(prev->nodes[pn].flags & NODE_APEX))
			continue;
		const struct dns_zone *pz = &prev->zones[prev->nodes[pn].zone];
		if (pz->hash == zn->hash)
			set_serial(db, zn, pz->serial);
		else if ((int32_t)(zn->serial - pz->serial) <= 0)   /* RFC 1982: not after prev's */
			set_serial(db, zn, pz->serial + 1);
	}
}

uint32_t sl_dns_db_zone_serial(const struct sl_dns_db *db, const char *zone)
{
	uint8_t w[DNS_MAX_NAME + 1];
	unsigned wl;
	if (text_to_wire(zone, w, &wl, false))
		return 0;
	uint32_t n = sl_dns_lookup(db, w, wl);
	return n != DNS_NONE && (db->nodes[n].flags & NODE_APEX) ? db->zones[db->nodes[n].zone].serial : 0;
}

static void cc_free(struct cc *c)
{
	free(c->nodes); free(c->names); free(c->tab); free(c->rdata); free(c->pend);
	free(c->zones); free(c->gslbs); free(c->groups); free(c->members);
}

void sl_dns_db_free(struct sl_dns_db *db)
{
	if (!db)
		return;
	free(db->htab); free(db->nodes); free(db->names); free(db->rrsets); free(db->rrs);
	free(db->rdata); free(db->zones); free(db->gslbs); free(db->groups); free(db->members);
	free(db->state);
	free(db);
}

int sl_dns_compile(const json_t *vs, const json_t *app_profile, const json_t *gslb_services,
		   unsigned n_workers, const volatile uint8_t *health, sl_dns_slot_fn slot_fn,
		   void *slot_arg, struct sl_dns_db **out, struct sl_dns_cerr *err)
{
	struct sl_dns_cerr dummy;
	struct cc c;
	memset(&c, 0, sizeof(c));
	c.err = err ? err : &dummy;
	memset(c.err, 0, sizeof(*c.err));
	*out = NULL;
	struct sl_dns_db *db = calloc(1, sizeof(*db));
	int rc = db ? tab_rehash(&c, 64) : -ENOMEM;
	bool refuse = false, edns = true, tcp = true;
	if (!rc)
		rc = parse_profile(&c, app_profile, &refuse, &edns, &tcp);
	if (!rc)
		rc = parse_records(&c, vs);
	if (!rc)
		rc = parse_gslb(&c, gslb_services, slot_fn, slot_arg);
	if (!rc)
		rc = finish(&c, db, n_workers);
	if (rc == -ENOMEM && !c.err->detail[0])
		snprintf(c.err->detail, sizeof(c.err->detail), "out of memory");
	cc_free(&c);
	if (rc) {
		sl_dns_db_free(db);
		return rc;
	}
	zone_hashes(db);
	db->health = health;
	db->refuse_outside = refuse;
	db->edns = edns;
	db->tcp = tcp;
	*out = db;
	return 0;
}

unsigned sl_dns_db_zone_count(const struct sl_dns_db *db) { return db->n_zones; }
unsigned sl_dns_db_node_count(const struct sl_dns_db *db) { return db->n_nodes; }
