/* GSLB selection: distributions over 5,000 queries, health, priorities,
 * num_dns_ip, down_response. */
#include <criterion/criterion.h>

#include "dns_test.h"

#define NQ 5000

static const char VS_EMPTY[] = "{\"name\":\"gs-vs\"}";
static const char PROF[] = "{\"dns_service_profile\":{\"dns_zones\":[{\"domain_name\":\"example.com\"}],"
	"\"negative_caching_ttl\":20,\"error_response\":\"DNS_ERROR_RESPONSE_ERROR\"}}";

static struct sl_dns_db *mk(const char *gslb)
{
	int rc;
	struct sl_dns_cerr e;
	struct sl_dns_db *db = t_compile_str(VS_EMPTY, PROF, gslb, 2, &e, &rc);
	cr_assert_eq(rc, 0, "compile: %s %s: %s", e.object, e.path, e.detail);
	return db;
}

/* One query for gs.example.com; returns answer count, fills ips (host order). */
static unsigned q1(struct sl_dns_db *db, unsigned worker, uint32_t client, uint32_t *ips,
		   struct sl_dns_qlog *ql, struct tresp *t)
{
	uint8_t q[256], r[2048];
	size_t n = tq_build(q, "gs.example.com", T_A, -1, 9);
	size_t rn = sl_dns_answer(db, worker, q, n, r, sizeof(r), htonl(client), false, ql);
	if (!rn)
		return 0;
	cr_assert_eq(t_parse(r, rn, t), 0);
	for (unsigned i = 0; i < t->an && i < 16; i++) {
		struct in_addr a;
		inet_pton(AF_INET, t->rr[i].data, &a);
		ips[i] = ntohl(a.s_addr);
	}
	return t->an;
}

#define GS1(algo, extra, members) "[{\"name\":\"gs\",\"domain_names\":[\"gs.example.com\"],\"ttl\":7" extra "," \
	"\"groups\":[{\"name\":\"g\",\"priority\":10,\"algorithm\":\"" algo "\"," members "}]}]"

struct dist_case {
	const char *desc;
	const char *cfg;
	unsigned n;
	double want[3];
	bool by_client;
};

static const struct dist_case dists[] = {
	{ "rr 6:3:1", GS1("GSLB_ALGORITHM_ROUND_ROBIN", "", "\"members\":[" MEM("198.18.1.2", 6) "," MEM("198.18.1.3", 3) "," MEM("198.18.1.4", 1) "]"),
	  3, { 60, 30, 10 }, false },
	{ "rr 20:20:1", GS1("GSLB_ALGORITHM_ROUND_ROBIN", "", "\"members\":[" MEM("198.18.1.2", 20) "," MEM("198.18.1.3", 20) "," MEM("198.18.1.4", 1) "]"),
	  3, { 2000.0 / 41, 2000.0 / 41, 100.0 / 41 }, false },
	{ "rr 6:4:2", GS1("GSLB_ALGORITHM_ROUND_ROBIN", "", "\"members\":[" MEM("198.18.1.2", 6) "," MEM("198.18.1.3", 4) "," MEM("198.18.1.4", 2) "]"),
	  3, { 50, 100.0 / 3, 50.0 / 3 }, false },
	{ "ch 6:3:1", GS1("GSLB_ALGORITHM_CONSISTENT_HASH", "", "\"members\":[" MEM("198.18.1.2", 6) "," MEM("198.18.1.3", 3) "," MEM("198.18.1.4", 1) "]"),
	  3, { 60, 30, 10 }, true },
	{ "ch 20:20:1", GS1("GSLB_ALGORITHM_CONSISTENT_HASH", "", "\"members\":[" MEM("198.18.1.2", 20) "," MEM("198.18.1.3", 20) "," MEM("198.18.1.4", 1) "]"),
	  3, { 2000.0 / 41, 2000.0 / 41, 100.0 / 41 }, true },
	{ "pref", GS1("GSLB_ALGORITHM_PREFERENCE_ORDER", "", "\"members\":["
	  "{\"ip\":{\"addr\":\"198.18.1.2\",\"type\":\"V4\"},\"preference_order\":3},"
	  "{\"ip\":{\"addr\":\"198.18.1.3\",\"type\":\"V4\"},\"preference_order\":1},"
	  "{\"ip\":{\"addr\":\"198.18.1.4\",\"type\":\"V4\"},\"preference_order\":2}]"),
	  3, { 0, 100, 0 }, false },
};

Test(dns_gslb, distributions_within_2_points)
{
	for (size_t c = 0; c < sizeof(dists) / sizeof(dists[0]); c++) {
		struct sl_dns_db *db = mk(dists[c].cfg);
		unsigned cnt[3] = { 0 };
		for (unsigned i = 0; i < NQ; i++) {
			uint32_t ips[16];
			struct sl_dns_qlog ql;
			struct tresp t;
			/* clients across 198.18.0.0/15 */
			uint32_t client = 0xC6120000u + (dists[c].by_client ? i * 13u : 1u);
			cr_assert_eq(q1(db, 0, client, ips, &ql, &t), 1, "%s", dists[c].desc);
			cr_assert(ips[0] >= 0xC6120102u && ips[0] <= 0xC6120104u);
			cnt[ips[0] - 0xC6120102u]++;
			cr_expect_eq(t.rr[0].ttl, 7);
			cr_expect_eq(ql.n_ans, 1);
			cr_expect_geq(ql.ans_slot[0], 100, "member health slot logged");
			cr_expect(ql.flags & SL_DNS_QL_GSLB);
		}
		for (int m = 0; m < 3; m++) {
			double pct = 100.0 * cnt[m] / NQ;
			cr_log_info("%s: member %d %.2f%% (want %.2f%%)", dists[c].desc, m, pct, dists[c].want[m]);
			cr_expect(pct >= dists[c].want[m] - 2 && pct <= dists[c].want[m] + 2,
				  "%s: member %d got %.2f%% want %.2f%%", dists[c].desc, m, pct, dists[c].want[m]);
		}
		sl_dns_db_free(db);
	}
}

static const char RR631[] = GS1("GSLB_ALGORITHM_ROUND_ROBIN", "",
	"\"members\":[" MEM("198.18.1.2", 6) "," MEM("198.18.1.3", 3) "," MEM("198.18.1.4", 1) "]");

Test(dns_gslb, smooth_wrr_holds_ratio_in_every_window)
{
	struct sl_dns_db *db = mk(RR631);
	for (int w = 0; w < 20; w++) {
		unsigned cnt[3] = { 0 }, prev = 99, runs = 0;
		for (int i = 0; i < 10; i++) {
			uint32_t ips[16];
			struct sl_dns_qlog ql;
			struct tresp t;
			q1(db, 0, 1, ips, &ql, &t);
			unsigned m = ips[0] - 0xC6120102u;
			cnt[m]++;
			runs += m == prev;
			prev = m;
		}
		cr_expect(cnt[0] == 6 && cnt[1] == 3 && cnt[2] == 1, "window %d: %u %u %u", w, cnt[0], cnt[1], cnt[2]);
		cr_expect(runs <= 3, "smooth: the heavy member is interleaved (%u repeats)", runs);
	}
	sl_dns_db_free(db);
}

Test(dns_gslb, down_member_disappears_and_returns)
{
	struct sl_dns_db *db = mk(RR631);
	/* slots are handed out in member order from 100 */
	t_health[101] = 0;
	for (int i = 0; i < 200; i++) {
		uint32_t ips[16];
		struct sl_dns_qlog ql;
		struct tresp t;
		q1(db, 0, 1, ips, &ql, &t);
		cr_assert_neq(ips[0], 0xC6120103u, "down member answered");
		cr_assert_neq(ql.ans_slot[0], 101);
	}
	t_health[101] = 1;
	unsigned seen = 0;
	for (int i = 0; i < 20; i++) {
		uint32_t ips[16];
		struct sl_dns_qlog ql;
		struct tresp t;
		q1(db, 0, 1, ips, &ql, &t);
		seen += ips[0] == 0xC6120103u;
	}
	cr_expect_geq(seen, 5, "back up member answers again");
	sl_dns_db_free(db);
}

Test(dns_gslb, disabled_member_never_answers)
{
	struct sl_dns_db *db = mk(GS1("GSLB_ALGORITHM_ROUND_ROBIN", "", "\"members\":[" MEM("198.18.1.2", 1) ","
		"{\"ip\":{\"addr\":\"198.18.1.3\",\"type\":\"V4\"},\"ratio\":20,\"enabled\":false}]"));
	for (int i = 0; i < 50; i++) {
		uint32_t ips[16];
		struct sl_dns_qlog ql;
		struct tresp t;
		q1(db, 0, 1, ips, &ql, &t);
		cr_assert_eq(ips[0], 0xC6120102u);
	}
	sl_dns_db_free(db);
}

Test(dns_gslb, consistent_hash_sticky_mask_and_minimal_disruption)
{
	struct sl_dns_db *db = mk("[{\"name\":\"gs\",\"domain_names\":[\"gs.example.com\"],\"groups\":[{\"name\":\"g\","
		"\"algorithm\":\"GSLB_ALGORITHM_CONSISTENT_HASH\",\"consistent_hash_mask\":24,\"members\":["
		MEM("198.18.1.2", 1) "," MEM("198.18.1.3", 1) "," MEM("198.18.1.4", 1) "," MEM("198.18.1.5", 1) "]}]}]");
	uint32_t before[64];
	for (uint32_t net = 0; net < 64; net++) {
		uint32_t ips[16];
		struct sl_dns_qlog ql;
		struct tresp t;
		q1(db, 0, 0xC6120000u + (net << 8) + 1, ips, &ql, &t);
		before[net] = ips[0];
		for (uint32_t host = 2; host < 250; host += 61) {
			q1(db, host & 1, 0xC6120000u + (net << 8) + host, ips, &ql, &t);
			cr_expect_eq(ips[0], before[net], "same /24, same member");
		}
	}
	t_health[100] = 0;   /* 198.18.1.2 down: only its clients move */
	unsigned moved = 0, had = 0;
	for (uint32_t net = 0; net < 64; net++) {
		uint32_t ips[16];
		struct sl_dns_qlog ql;
		struct tresp t;
		q1(db, 0, 0xC6120000u + (net << 8) + 1, ips, &ql, &t);
		cr_expect_neq(ips[0], 0xC6120102u);
		if (before[net] == 0xC6120102u)
			had++;
		else
			moved += ips[0] != before[net];
	}
	cr_expect_eq(moved, 0, "clients of up members keep their member");
	cr_expect_gt(had, 0);
	sl_dns_db_free(db);
}

Test(dns_gslb, priority_groups_fail_over)
{
	struct sl_dns_db *db = mk("[{\"name\":\"gs\",\"domain_names\":[\"gs.example.com\"],\"groups\":["
		"{\"name\":\"low\",\"priority\":5,\"members\":[" MEM("198.18.1.9", 1) "]},"
		"{\"name\":\"off\",\"priority\":0,\"members\":[" MEM("198.18.1.8", 1) "]},"
		"{\"name\":\"high\",\"priority\":20,\"members\":[" MEM("198.18.1.2", 1) "," MEM("198.18.1.3", 1) "]}]}]");
	/* slots: low=100, high=101,102 (priority-0 group gets none) */
	uint32_t ips[16];
	struct sl_dns_qlog ql;
	struct tresp t;
	for (int i = 0; i < 10; i++) {
		q1(db, 0, 1, ips, &ql, &t);
		cr_expect(ips[0] == 0xC6120102u || ips[0] == 0xC6120103u, "high priority group answers");
	}
	t_health[101] = t_health[102] = 0;
	q1(db, 0, 1, ips, &ql, &t);
	cr_expect_eq(ips[0], 0xC6120109u, "next group when the best has no up member");
	t_health[100] = 0;
	cr_expect_eq(q1(db, 0, 1, ips, &ql, &t), 0, "all down, down_response NONE: drop");
	cr_expect_eq(ql.drop, SL_DNS_DROP_GSLB_DOWN);
	cr_expect(ql.flags & SL_DNS_QL_DOWN);
	sl_dns_db_free(db);
}

Test(dns_gslb, num_dns_ip)
{
	struct sl_dns_db *db = mk(GS1("GSLB_ALGORITHM_ROUND_ROBIN", ",\"num_dns_ip\":2",
		"\"members\":[" MEM("198.18.1.2", 6) "," MEM("198.18.1.3", 3) "," MEM("198.18.1.4", 1) "]"));
	uint32_t ips[16];
	struct sl_dns_qlog ql;
	struct tresp t;
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(q1(db, 0, 1, ips, &ql, &t), 2);
		cr_expect_neq(ips[0], ips[1]);
		cr_expect_eq(ql.n_ans, 2);
	}
	sl_dns_db_free(db);
	db = mk(GS1("GSLB_ALGORITHM_CONSISTENT_HASH", ",\"num_dns_ip\":0",
		"\"members\":[" MEM("198.18.1.2", 6) "," MEM("198.18.1.3", 3) "," MEM("198.18.1.4", 1) "]"));
	cr_expect_eq(q1(db, 0, 1, ips, &ql, &t), 3, "0 = all up members");
	t_health[102] = 0;
	cr_expect_eq(q1(db, 0, 1, ips, &ql, &t), 2);
	sl_dns_db_free(db);
}

#define DOWN(type, extra) "[{\"name\":\"gs\",\"domain_names\":[\"gs.example.com\"],\"ttl\":3," \
	"\"down_response\":{\"type\":\"" type "\"" extra "},\"groups\":[{\"name\":\"g\",\"members\":[" \
	MEM("198.18.1.2", 1) "," MEM("198.18.1.3", 1) "]}]}]"

Test(dns_gslb, down_response_types)
{
	uint32_t ips[16];
	struct sl_dns_qlog ql;
	struct tresp t;
	struct sl_dns_db *db = mk(DOWN("GSLB_SERVICE_DOWN_RESPONSE_ALL_RECORDS", ""));
	t_health[100] = t_health[101] = 0;
	cr_expect_eq(q1(db, 0, 1, ips, &ql, &t), 2, "ALL_RECORDS");
	cr_expect(ql.flags & SL_DNS_QL_DOWN);
	sl_dns_db_free(db);

	db = mk(DOWN("GSLB_SERVICE_DOWN_RESPONSE_FALLBACK_IP", ",\"fallback_ip\":{\"addr\":\"198.18.1.99\",\"type\":\"V4\"}"));
	t_health[100] = t_health[101] = 0;
	cr_expect_eq(q1(db, 0, 1, ips, &ql, &t), 1, "FALLBACK_IP");
	cr_expect_eq(ips[0], 0xC6120163u);
	cr_expect_eq(t.rr[0].ttl, 3);
	cr_expect_eq(ql.ans_slot[0], -1);
	t_health[100] = 1;
	q1(db, 0, 1, ips, &ql, &t);
	cr_expect_eq(ips[0], 0xC6120102u, "back to members when one is up");
	sl_dns_db_free(db);

	db = mk(DOWN("GSLB_SERVICE_DOWN_RESPONSE_EMPTY", ""));
	t_health[100] = t_health[101] = 0;
	cr_expect_eq(q1(db, 0, 1, ips, &ql, &t), 0, "EMPTY");
	cr_expect_eq(t.rcode, 0);
	cr_expect_eq(t.aa, 1);
	cr_expect_eq(t.ns, 1);
	cr_expect_eq(t.rr[0].type, T_SOA);
	cr_expect_eq(t.rr[0].ttl, 20);
	sl_dns_db_free(db);

	db = mk(DOWN("GSLB_SERVICE_DOWN_RESPONSE_NONE", ""));
	t_health[100] = t_health[101] = 0;
	cr_expect_eq(q1(db, 0, 1, ips, &ql, &t), 0, "NONE");
	cr_expect_eq(ql.drop, SL_DNS_DROP_GSLB_DOWN);
	sl_dns_db_free(db);
}

Test(dns_gslb, workers_have_independent_state)
{
	struct sl_dns_db *db = mk(RR631);
	uint32_t a[16], b[16];
	struct sl_dns_qlog ql;
	struct tresp t;
	for (int i = 0; i < 7; i++) {
		q1(db, 0, 1, a, &ql, &t);
		q1(db, 1, 1, b, &ql, &t);
		cr_expect_eq(a[0], b[0], "same sequence on each worker");
	}
	sl_dns_db_free(db);
}
