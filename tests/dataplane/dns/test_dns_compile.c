/* sl_dns_compile: bad input gives -EINVAL and the JSON path of the field. */
#include <errno.h>
#include <time.h>

#include <criterion/criterion.h>

#include "dns_test.h"

struct bad {
	const char *vs, *prof, *gslb;
	const char *object, *path;
};

#define P_OK "{\"dns_service_profile\":{\"dns_zones\":[{\"domain_name\":\"example.com\"}]}}"
#define REC(x) "{\"static_dns_records\":[" x "]}"
#define A1 "{\"fqdn\":[\"a.example.com\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":[" IPA("198.18.0.1") "]}"
#define G(x) "[{\"name\":\"gs1\",\"domain_names\":[\"gs.example.com\"]," x "}]"
#define GM(m) G("\"groups\":[{\"name\":\"g\",\"members\":[" m "]}]")

static const struct bad bads[] = {
	{ REC(A1 "," A1 ",{\"fqdn\":[\"b.example.com\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":[{\"ip_address\":{\"addr\":\"198.18.0.300\",\"type\":\"V4\"}}]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[2].ip_address[0].ip_address.addr" },
	{ REC("{\"fqdn\":[\"b.example.com\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":[{\"ip_address\":{\"addr\":\"2001:db8::1\",\"type\":\"V6\"}}]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[0].ip_address[0].ip_address.type" },
	{ REC("{\"fqdn\":[\"b.example.com\"],\"type\":\"DNS_RECORD_AAAA\",\"ip6_address\":[{\"ip6_address\":{\"addr\":\"198.18.0.1\"}}]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[0].ip6_address[0].ip6_address.addr" },
	{ REC("{\"fqdn\":[\"b.example.com\"],\"type\":\"DNS_RECORD_HINFO\"}"), P_OK, NULL, "virtualservice", "static_dns_records[0].type" },
	{ REC("{\"fqdn\":[\"b.example.com\"]}"), P_OK, NULL, "virtualservice", "static_dns_records[0].type" },
	{ REC("{\"fqdn\":[],\"type\":\"DNS_RECORD_A\"}"), P_OK, NULL, "virtualservice", "static_dns_records[0].fqdn" },
	{ REC("{\"fqdn\":[\"ok.example.com\",\"bad..example.com\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":[" IPA("198.18.0.1") "]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[0].fqdn[1]" },
	{ REC("{\"fqdn\":[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":[" IPA("198.18.0.1") "]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[0].fqdn[0]" },
	{ REC("{\"fqdn\":[\"a.*.example.com\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":[" IPA("198.18.0.1") "]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[0].fqdn[0]" },
	{ REC("{\"fqdn\":[\"b.example.com\"],\"type\":\"DNS_RECORD_A\",\"ttl\":-1,\"ip_address\":[" IPA("198.18.0.1") "]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[0].ttl" },
	{ REC("{\"fqdn\":[\"b.example.com\"],\"type\":\"DNS_RECORD_A\",\"num_records_in_response\":21,\"ip_address\":[" IPA("198.18.0.1") "]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[0].num_records_in_response" },
	{ REC("{\"fqdn\":[\"b.example.com\"],\"type\":\"DNS_RECORD_A\",\"algorithm\":\"RANDOM\",\"ip_address\":[" IPA("198.18.0.1") "]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[0].algorithm" },
	{ REC("{\"fqdn\":[\"b.example.com\"],\"type\":\"DNS_RECORD_CNAME\"}"), P_OK, NULL, "virtualservice", "static_dns_records[0].cname" },
	{ REC("{\"fqdn\":[\"b.example.com\"],\"type\":\"DNS_RECORD_CNAME\",\"cname\":{\"cname\":\"x..y\"}}"), P_OK, NULL, "virtualservice", "static_dns_records[0].cname.cname" },
	{ REC(A1 ",{\"fqdn\":[\"a.example.com\"],\"type\":\"DNS_RECORD_CNAME\",\"cname\":{\"cname\":\"b.example.com\"}}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[1].fqdn" },
	{ REC("{\"fqdn\":[\"_s._tcp.example.com\"],\"type\":\"DNS_RECORD_SRV\",\"service_locator\":[{\"port\":70000,\"target\":\"a.example.com\"}]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[0].service_locator[0].port" },
	{ REC("{\"fqdn\":[\"example.com\"],\"type\":\"DNS_RECORD_MX\",\"mx_records\":[{\"priority\":1}]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[0].mx_records[0].host" },
	{ REC("{\"fqdn\":[\"example.com\"],\"type\":\"DNS_RECORD_TXT\",\"txt_records\":[{\"text_str\":5}]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[0].txt_records[0].text_str" },
	{ REC("{\"fqdn\":[\"example.com\"],\"type\":\"DNS_RECORD_NS\",\"ns\":[{\"nsname\":\"ns.example.com\",\"ip_address\":{\"addr\":\"x\"}}]}"),
	  P_OK, NULL, "virtualservice", "static_dns_records[0].ns[0].ip_address.addr" },
	{ REC(A1), "{\"dns_service_profile\":{\"dns_zones\":[{\"name_server\":\"ns.example.com\"}]}}", NULL,
	  "applicationprofile", "dns_service_profile.dns_zones[0].domain_name" },
	{ REC(A1), "{\"dns_service_profile\":{\"dns_zones\":[{\"domain_name\":\"example.com\"},{\"domain_name\":\"Example.COM.\"}]}}", NULL,
	  "applicationprofile", "dns_service_profile.dns_zones[1].domain_name" },
	{ REC(A1), "{\"dns_service_profile\":{\"dns_zones\":[{\"domain_name\":\"example.com\",\"admin_email\":\"@example.com\"}]}}", NULL,
	  "applicationprofile", "dns_service_profile.dns_zones[0].admin_email" },
	{ REC(A1), "{\"dns_service_profile\":{\"error_response\":\"DNS_ERROR_RESPONSE_MAYBE\"}}", NULL,
	  "applicationprofile", "dns_service_profile.error_response" },
	{ REC(A1), "{\"dns_service_profile\":{\"negative_caching_ttl\":\"30\"}}", NULL,
	  "applicationprofile", "dns_service_profile.negative_caching_ttl" },
	{ REC(A1), "{\"dns_service_profile\":{\"edns\":1}}", NULL, "applicationprofile", "dns_service_profile.edns" },
	{ REC(A1), P_OK, GM("{\"ip\":{\"addr\":\"198.18.1.2\",\"type\":\"V4\"},\"ratio\":21}"), "gslbservice/gs1", "groups[0].members[0].ratio" },
	{ REC(A1), P_OK, GM(MEM("198.18.1.2", 1) ",{\"ip\":{\"addr\":\"nope\"}}"), "gslbservice/gs1", "groups[0].members[1].ip.addr" },
	{ REC(A1), P_OK, G("\"groups\":[{\"name\":\"g\",\"algorithm\":\"GSLB_ALGORITHM_GEO\"}]"), "gslbservice/gs1", "groups[0].algorithm" },
	{ REC(A1), P_OK, G("\"groups\":[{\"name\":\"g\",\"consistent_hash_mask\":33}]"), "gslbservice/gs1", "groups[0].consistent_hash_mask" },
	{ REC(A1), P_OK, G("\"down_response\":{\"type\":\"GSLB_SERVICE_DOWN_RESPONSE_FALLBACK_IP\"}"), "gslbservice/gs1", "down_response.fallback_ip" },
	{ REC(A1), P_OK, G("\"down_response\":{\"type\":\"GSLB_SERVICE_DOWN_RESPONSE_CNAME\"}"), "gslbservice/gs1", "down_response.type" },
	{ REC(A1), P_OK, "[{\"name\":\"gs1\",\"domain_names\":[\"gs.example.com\",\"-bad!.example.com\"]}]", "gslbservice/gs1", "domain_names[1]" },
	{ REC(A1), P_OK, "[{\"name\":\"gs1\",\"domain_names\":[\"gs.example.com\"]},{\"name\":\"gs2\",\"domain_names\":[\"GS.example.com\"]}]",
	  "gslbservice/gs2", "domain_names[0]" },
	{ REC(A1), P_OK, "[{\"name\":\"gs1\"}]", "gslbservice/gs1", "domain_names" },
	{ REC(A1), P_OK, "{\"name\":\"gs1\"}", "gslbservice", "" },
};

Test(dns_compile, bad_input_names_the_field)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct sl_dns_cerr e;
		int rc;
		struct sl_dns_db *db = t_compile_str(bads[i].vs, bads[i].prof, bads[i].gslb, 1, &e, &rc);
		cr_expect_eq(rc, -EINVAL, "case %zu: rc %d", i, rc);
		cr_expect_null(db, "case %zu", i);
		cr_expect_str_eq(e.path, bads[i].path, "case %zu: path '%s' (%s)", i, e.path, e.detail);
		cr_expect_str_eq(e.object, bads[i].object, "case %zu", i);
		cr_expect(i == sizeof(bads) / sizeof(bads[0]) - 1 || e.detail[0], "case %zu: detail", i);
		sl_dns_db_free(db);
	}
}

static int fail_slot(void *arg, const char *name, uint32_t ip)
{
	(void)arg; (void)name; (void)ip;
	return -ENOSPC;
}

Test(dns_compile, slot_failure_propagates)
{
	json_t *vs = json_loads(REC(A1), 0, NULL), *p = json_loads(P_OK, 0, NULL),
	       *g = json_loads(GM(MEM("198.18.1.2", 1)), 0, NULL);
	struct sl_dns_db *db;
	struct sl_dns_cerr e;
	cr_expect_eq(sl_dns_compile(vs, p, g, 1, t_health, fail_slot, NULL, &db, &e), -ENOSPC);
	cr_expect_str_eq(e.path, "groups[0].members[0].ip");
	json_decref(vs); json_decref(p); json_decref(g);
}

struct slot_rec { unsigned n; char name[8][32]; uint32_t ip[8]; };
static int rec_slot(void *arg, const char *name, uint32_t ip)
{
	struct slot_rec *r = arg;
	snprintf(r->name[r->n], sizeof(r->name[0]), "%s", name);
	r->ip[r->n] = ip;
	return (int)(500 + r->n++);
}

Test(dns_compile, good_config_counts_and_slots)
{
	int rc;
	struct sl_dns_cerr e;
	struct sl_dns_db *db = t_compile_str(T_VS, T_PROFILE, T_GSLB, 4, &e, &rc);
	cr_assert_eq(rc, 0, "%s: %s", e.path, e.detail);
	cr_expect_eq(sl_dns_db_zone_count(db), 2);
	cr_expect_gt(sl_dns_db_node_count(db), 20);
	sl_dns_db_free(db);

	/* gslb services outside every zone get no slots and are not answered */
	json_t *vs = json_loads(REC(A1), 0, NULL), *p = json_loads(P_OK, 0, NULL),
	       *g = json_loads("[{\"name\":\"in\",\"domain_names\":[\"gs.example.com\"],\"groups\":[{\"name\":\"g\",\"members\":["
			       MEM("198.18.1.2", 1) "," MEM("198.18.1.3", 1) "]}]},"
			       "{\"name\":\"out\",\"domain_names\":[\"gs.other.test\"],\"groups\":[{\"name\":\"g\",\"members\":["
			       MEM("198.18.1.4", 1) "]}]}]", 0, NULL);
	struct slot_rec r = { 0 };
	cr_assert_eq(sl_dns_compile(vs, p, g, 1, t_health, rec_slot, &r, &db, &e), 0);
	cr_expect_eq(r.n, 2);
	cr_expect_str_eq(r.name[0], "in");
	cr_expect_eq(r.ip[1], htonl(0xC6120103u));
	sl_dns_db_free(db);
	/* the bare DnsServiceApplicationProfile and a null profile are accepted */
	json_decref(p);
	p = json_loads("{\"dns_zones\":[{\"domain_name\":\"example.com\"}]}", 0, NULL);
	cr_expect_eq(sl_dns_compile(vs, p, NULL, 1, NULL, NULL, NULL, &db, &e), 0);
	cr_expect_eq(sl_dns_db_zone_count(db), 1);
	sl_dns_db_free(db);
	cr_expect_eq(sl_dns_compile(vs, NULL, NULL, 1, NULL, NULL, NULL, &db, &e), 0);
	cr_expect_eq(sl_dns_db_zone_count(db), 0);
	sl_dns_db_free(db);
	json_decref(vs); json_decref(p); json_decref(g);
}

Test(dns_compile, soa_record_declares_zone)
{
	int rc;
	struct sl_dns_db *db = t_compile_str(REC("{\"fqdn\":[\"zone.test\"],\"type\":\"DNS_RECORD_SOA\",\"ttl\":100},"
		"{\"fqdn\":[\"a.zone.test\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":[" IPA("198.18.0.1") "]}"),
		"{\"dns_service_profile\":{\"name_server\":\"ns.zone.test\",\"admin_email\":\"ops@zone.test\",\"negative_caching_ttl\":9}}",
		NULL, 1, NULL, &rc);
	cr_assert_eq(rc, 0);
	cr_expect_eq(sl_dns_db_zone_count(db), 1);
	uint8_t q[256], r[1024];
	size_t n = tq_build(q, "missing.zone.test", T_A, -1, 1);
	struct sl_dns_qlog ql;
	struct tresp t;
	size_t rn = sl_dns_answer(db, 0, q, n, r, sizeof(r), 0, false, &ql);
	cr_assert_eq(t_parse(r, rn, &t), 0);
	cr_expect_eq(t.rcode, 3);
	cr_expect_str_eq(t.rr[0].data, "ns.zone.test ops.zone.test 86400 9");
	n = tq_build(q, "zone.test", T_SOA, -1, 1);
	rn = sl_dns_answer(db, 0, q, n, r, sizeof(r), 0, false, &ql);
	cr_assert_eq(t_parse(r, rn, &t), 0);
	cr_expect_eq(t.rr[0].ttl, 100);
	sl_dns_db_free(db);
}

/* ---- SOA serials across recompiles (sl_dns_db_keep_serials) ---- */
#define SER(n) ",\"sluice_soa_serial\":" #n
#define RA(name, ip) "{\"fqdn\":[\"" name "\"],\"type\":\"DNS_RECORD_A\",\"ip_address\":[" IPA(ip) "]}"
#define RECS RA("w.a.test", "198.18.0.1") "," RA("w.b.test", "198.18.0.2")
#define GS_A(r) "[{\"name\":\"gs\",\"domain_names\":[\"gs.a.test\"],\"groups\":[{\"name\":\"g\",\"priority\":10," \
	"\"members\":[{\"ip\":{\"addr\":\"198.18.0.50\"},\"ratio\":" #r "},{\"ip\":{\"addr\":\"198.18.0.51\"}}]}]}]"

static struct sl_dns_db *zdb(const char *sa, const char *sb, const char *recs, const char *gslb)
{
	char prof[512], vs[2048];
	snprintf(prof, sizeof(prof), "{\"dns_service_profile\":{\"dns_zones\":[{\"domain_name\":\"a.test\"%s},"
		 "{\"domain_name\":\"b.test\"%s}]}}", sa, sb);
	snprintf(vs, sizeof(vs), "{\"static_dns_records\":[%s]}", recs);
	struct sl_dns_cerr e;
	int rc;
	struct sl_dns_db *db = t_compile_str(vs, prof, gslb, 1, &e, &rc);
	cr_assert_eq(rc, 0, "%s: %s", e.path, e.detail);
	return db;
}

/* The serial the SOA answer carries (last 20 bytes of a SOA-only response are its numbers). */
static uint32_t wire_serial(const struct sl_dns_db *db, const char *zone)
{
	uint8_t q[512], r[512];
	struct sl_dns_qlog ql;
	size_t ql_len = tq_build(q, zone, T_SOA, -1, 7);
	size_t n = sl_dns_answer(db, 0, q, ql_len, r, sizeof(r), 0x0100000a, false, &ql);
	cr_assert_gt(n, 20);
	return (uint32_t)r[n - 20] << 24 | (uint32_t)r[n - 19] << 16 | (uint32_t)r[n - 18] << 8 | r[n - 17];
}

Test(compile, soa_serial_follows_zone_content)
{
	uint32_t now = (uint32_t)time(NULL);
	struct sl_dns_db *prev = zdb(SER(1000), SER(2000), RECS, GS_A(1));
	cr_expect_eq(sl_dns_db_zone_serial(prev, "a.test"), 1000, "explicit serial");
	cr_expect_eq(wire_serial(prev, "a.test"), 1000);
	cr_expect_eq(sl_dns_db_zone_serial(prev, "B.Test."), 2000);
	cr_expect_eq(sl_dns_db_zone_serial(prev, "c.test"), 0);

	/* same answers (the explicit serials dropped): both keep theirs, also on the wire */
	struct sl_dns_db *db = zdb("", "", RECS, GS_A(1));
	cr_expect_geq(sl_dns_db_zone_serial(db, "a.test"), now, "without prev: compile time");
	sl_dns_db_keep_serials(db, prev);
	cr_expect_eq(sl_dns_db_zone_serial(db, "a.test"), 1000);
	cr_expect_eq(sl_dns_db_zone_serial(db, "b.test"), 2000);
	cr_expect_eq(wire_serial(db, "b.test"), 2000);
	sl_dns_db_free(db);

	/* a record added to b.test, first in the list (every node index shifts): only b.test moves */
	db = zdb("", "", RA("new.b.test", "198.18.0.3") "," RECS, GS_A(1));
	sl_dns_db_keep_serials(db, prev);
	cr_expect_eq(sl_dns_db_zone_serial(db, "a.test"), 1000);
	cr_expect_geq(sl_dns_db_zone_serial(db, "b.test"), now);
	cr_expect_eq(wire_serial(db, "b.test"), sl_dns_db_zone_serial(db, "b.test"));
	sl_dns_db_free(db);

	/* a GSLB member's ratio inside a.test changes what a.test answers */
	db = zdb("", "", RECS, GS_A(5));
	sl_dns_db_keep_serials(db, prev);
	cr_expect_geq(sl_dns_db_zone_serial(db, "a.test"), now);
	cr_expect_eq(sl_dns_db_zone_serial(db, "b.test"), 2000);
	sl_dns_db_free(db);

	/* a changed TTL or address is a change; an explicit serial always wins */
	db = zdb("", SER(7), RA("w.a.test", "198.18.0.9") "," RA("w.b.test", "198.18.0.2"), GS_A(1));
	sl_dns_db_keep_serials(db, prev);
	cr_expect_geq(sl_dns_db_zone_serial(db, "a.test"), now);
	cr_expect_eq(sl_dns_db_zone_serial(db, "b.test"), 7);
	sl_dns_db_free(db);
	sl_dns_db_free(prev);

	/* a serial ahead of the clock still increases (RFC 1982), by one */
	char ahead[64];
	snprintf(ahead, sizeof(ahead), ",\"sluice_soa_serial\":%u", now + 100000);
	prev = zdb(ahead, ahead, RECS, GS_A(1));
	db = zdb("", "", RA("x.a.test", "198.18.0.4") "," RECS, GS_A(1));
	sl_dns_db_keep_serials(db, prev);
	cr_expect_eq(sl_dns_db_zone_serial(db, "a.test"), now + 100001);
	cr_expect_eq(sl_dns_db_zone_serial(db, "b.test"), now + 100000);
	sl_dns_db_keep_serials(db, NULL);   /* no previous db: nothing to keep */
	cr_expect_eq(sl_dns_db_zone_serial(db, "a.test"), now + 100001);
	sl_dns_db_free(db);
	sl_dns_db_free(prev);
}

Test(compile, soa_serial_bad)
{
	struct sl_dns_cerr e;
	int rc;
	struct sl_dns_db *db = t_compile_str("{}", "{\"dns_service_profile\":{\"dns_zones\":[{\"domain_name\":\"a.test\","
					     "\"sluice_soa_serial\":0}]}}", NULL, 1, &e, &rc);
	cr_expect_eq(rc, -EINVAL);
	cr_expect_str_eq(e.path, "dns_service_profile.dns_zones[0].sluice_soa_serial");
	sl_dns_db_free(db);
}
