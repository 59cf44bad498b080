/* Answer builder and authoritative behaviour, table driven. */
#include <criterion/criterion.h>

#include "dns_test.h"

static struct sl_dns_db *db;

static void setup(void)
{
	int rc;
	struct sl_dns_cerr e;
	db = t_compile_str(T_VS, T_PROFILE, T_GSLB, 2, &e, &rc);
	cr_assert_eq(rc, 0, "compile: %s: %s", e.path, e.detail);
}

static void teardown(void)
{
	sl_dns_db_free(db);
}

static size_t ask_db(struct sl_dns_db *d, const char *name, uint16_t qt, int edns, bool tcp,
		     struct tresp *r, struct sl_dns_qlog *ql, uint8_t *resp)
{
	uint8_t q[512];
	size_t ql_ = tq_build(q, name, qt, edns, 0xBEEF);
	size_t n = sl_dns_answer(d, 0, q, ql_, resp, 65535, htonl(0xC6120002u), tcp, ql);
	if (n)
		cr_assert_eq(t_parse(resp, n, r), 0, "%s/%u: response does not parse", name, qt);
	return n;
}

static uint8_t rbuf[65535];

static size_t ask(const char *name, uint16_t qt, int edns, struct tresp *r, struct sl_dns_qlog *ql)
{
	return ask_db(db, name, qt, edns, false, r, ql, rbuf);
}

struct row {
	const char *name;
	uint16_t qtype;
	int edns;
	int rcode, aa, an, ns, tc;
	uint16_t t0;          /* type of first answer (or of the authority record when an == 0) */
	const char *d0;       /* its data, NULL = don't check */
	int ttl0;             /* its TTL, -1 = don't check */
};

static const struct row rows[] = {
	{ "www.example.com", T_A, -1, 0, 1, 2, 0, 0, T_A, NULL, 60 },
	{ "one.example.com", T_A, -1, 0, 1, 1, 0, 0, T_A, "198.18.0.13", 30 },
	{ "uno.example.com", T_A, -1, 0, 1, 1, 0, 0, T_A, "198.18.0.13", 30 },
	{ "ONE.Example.COM", T_A, -1, 0, 1, 1, 0, 0, T_A, "198.18.0.13", 30 },
	{ "one.example.com", T_AAAA, -1, 0, 1, 0, 1, 0, T_SOA, "ns1.example.com dns-admin.example.com 86400 45", 45 },
	{ "v6.example.com", T_AAAA, -1, 0, 1, 1, 0, 0, T_AAAA, "2001:db8::1", 30 },
	{ "nothere.example.com", T_A, -1, 3, 1, 0, 1, 0, T_SOA, "ns1.example.com dns-admin.example.com 86400 45", 45 },
	{ "a.b.c.nothere.example.com", T_MX, 1232, 3, 1, 0, 1, 0, T_SOA, NULL, 45 },
	{ "example.com", T_SOA, -1, 0, 1, 1, 0, 0, T_SOA, "ns1.example.com dns-admin.example.com 86400 45", 30 },
	{ "example.com", T_NS, -1, 0, 1, 1, 0, 0, T_NS, "ns1.example.com", 30 },
	{ "example.com", T_MX, -1, 0, 1, 1, 0, 0, T_MX, "10 mail.example.com", 30 },
	{ "example.com", T_TXT, -1, 0, 1, 1, 0, 0, T_TXT, "v=spf1 -all", 30 },
	{ "example.com", T_A, -1, 0, 1, 0, 1, 0, T_SOA, NULL, 45 },
	{ "example.com", T_ANY, -1, 0, 1, 4, 0, 0, T_NS, NULL, -1 },
	{ "_sip._tcp.example.com", T_SRV, -1, 0, 1, 1, 0, 0, T_SRV, "10 5 5060 sip.example.com", 30 },
	{ "_tcp.example.com", T_SRV, -1, 0, 1, 0, 1, 0, T_SOA, NULL, 45 },
	{ "50.0.18.198.in-addr.arpa", T_PTR, -1, 0, 1, 1, 0, 0, T_PTR, "www.example.com", 30 },
	{ "11.0.18.198.in-addr.arpa", T_PTR, -1, 3, 1, 0, 1, 0, T_SOA, "0.18.198.in-addr.arpa hostmaster.0.18.198.in-addr.arpa 86400 45", 45 },
	{ "alias.example.com", T_A, -1, 0, 1, 2, 0, 0, T_CNAME, "one.example.com", 30 },
	{ "alias.example.com", T_CNAME, -1, 0, 1, 1, 0, 0, T_CNAME, "one.example.com", 30 },
	{ "alias.example.com", T_AAAA, -1, 0, 1, 1, 1, 0, T_CNAME, "one.example.com", 30 },
	{ "chain.example.com", T_A, -1, 0, 1, 3, 0, 0, T_CNAME, "alias.example.com", 30 },
	{ "dangling.example.com", T_A, -1, 3, 1, 1, 1, 0, T_CNAME, "nothere.example.com", 30 },
	{ "ext.example.com", T_A, -1, 0, 1, 1, 0, 0, T_CNAME, "www.example.org", 30 },
	{ "loop1.example.com", T_A, -1, 0, 1, 8, 1, 0, T_CNAME, "loop2.example.com", 30 },
	{ "galias.example.com", T_A, -1, 0, 1, 2, 0, 0, T_CNAME, "gs.example.com", 30 },
	{ "x.wild.example.com", T_A, -1, 0, 1, 1, 0, 0, T_A, "198.18.0.20", 30 },
	{ "x.y.wild.example.com", T_A, -1, 0, 1, 1, 0, 0, T_A, "198.18.0.20", 30 },
	{ "x.wild.example.com", T_AAAA, -1, 0, 1, 0, 1, 0, T_SOA, NULL, 45 },
	{ "wild.example.com", T_A, -1, 0, 1, 0, 1, 0, T_SOA, NULL, 45 },
	{ "*.wild.example.com", T_A, -1, 0, 1, 1, 0, 0, T_A, "198.18.0.20", 30 },
	{ "deep.example.com", T_A, -1, 0, 1, 0, 1, 0, T_SOA, NULL, 45 },
	{ "b.deep.example.com", T_A, -1, 0, 1, 0, 1, 0, T_SOA, NULL, 45 },
	{ "c.deep.example.com", T_A, -1, 3, 1, 0, 1, 0, T_SOA, NULL, 45 },
	{ "a.b.deep.example.com", T_A, -1, 0, 1, 1, 0, 0, T_A, "198.18.0.22", 30 },
	{ "app.example.com", T_A, -1, 0, 1, 1, 0, 0, T_A, "198.18.0.21", 30 },
	{ "foo.bar.app.example.com", T_A, -1, 0, 1, 1, 0, 0, T_A, "198.18.0.21", 30 },
	{ "sub.example.com", T_NS, -1, 0, 1, 1, 0, 0, T_NS, "ns1.sub.example.com", 30 },
	{ "static.outside.test", T_A, -1, 0, 1, 1, 0, 0, T_A, "198.18.0.23", 30 },
	{ "static.outside.test", T_AAAA, -1, 0, 1, 0, 0, 0, 0, NULL, -1 },
	{ "x.static.outside.test", T_A, -1, 5, 0, 0, 0, 0, 0, NULL, -1 },
	{ "www.example.org", T_A, -1, 5, 0, 0, 0, 0, 0, NULL, -1 },
	{ "com", T_A, -1, 5, 0, 0, 0, 0, 0, NULL, -1 },
	{ ".", T_NS, -1, 5, 0, 0, 0, 0, 0, NULL, -1 },
	{ "gs.example.com", T_A, -1, 0, 1, 1, 0, 0, T_A, NULL, 5 },
	{ "GS.example.com", T_A, 1232, 0, 1, 1, 0, 0, T_A, NULL, 5 },
	{ "gs.example.com", T_AAAA, -1, 0, 1, 0, 1, 0, T_SOA, NULL, 45 },
	{ "gs.elsewhere.test", T_A, -1, 5, 0, 0, 0, 0, 0, NULL, -1 },
	{ "big.example.com", T_A, -1, 0, 1, 0, 0, 1, 0, NULL, -1 },
	{ "big.example.com", T_A, 300, 0, 1, 0, 0, 1, 0, NULL, -1 },
	{ "big.example.com", T_A, 1232, 0, 1, 35, 0, 0, T_A, NULL, 30 },
	{ "big.example.com", T_A, 65000, 0, 1, 35, 0, 0, T_A, NULL, 30 },
	{ "www.example.com", 252, -1, 5, 0, 0, 0, 0, 0, NULL, -1 },
	{ "www.example.com", 99, -1, 0, 1, 0, 1, 0, T_SOA, NULL, 45 },
};

Test(dns_answer, table, .init = setup, .fini = teardown)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		struct tresp r;
		struct sl_dns_qlog ql;
		size_t n = ask(w->name, w->qtype, w->edns, &r, &ql);
		cr_assert(n > 0, "row %zu %s: dropped (%s)", i, w->name, sl_dns_drop_name(ql.drop));
		cr_expect_eq(r.id, 0xBEEF, "row %zu", i);
		cr_expect_eq(r.qr, 1, "row %zu", i);
		cr_expect_eq(r.rd, 1, "row %zu: RD echoed", i);
		cr_expect_eq(r.qd, 1, "row %zu", i);
		cr_expect_eq(r.qtype, w->qtype, "row %zu", i);
		cr_expect_eq(r.rcode, w->rcode, "row %zu %s/%u: rcode %d want %d", i, w->name, w->qtype, r.rcode, w->rcode);
		cr_expect_eq(ql.rcode, w->rcode, "row %zu: qlog rcode", i);
		cr_expect_eq(r.aa, w->aa, "row %zu %s: aa", i, w->name);
		cr_expect_eq(r.tc, w->tc, "row %zu %s: tc", i, w->name);
		cr_expect_eq(r.an, (unsigned)w->an, "row %zu %s/%u: an %u want %d", i, w->name, w->qtype, r.an, w->an);
		cr_expect_eq(r.ns, (unsigned)w->ns, "row %zu %s: ns %u want %d", i, w->name, r.ns, w->ns);
		cr_expect_eq(r.has_opt, w->edns >= 0, "row %zu: OPT echoed iff sent", i);
		if (w->t0) {
			const struct trr *x = &r.rr[0];
			cr_expect_eq(x->type, w->t0, "row %zu %s: first type %u want %u", i, w->name, x->type, w->t0);
			if (w->d0)
				cr_expect_str_eq(x->data, w->d0, "row %zu %s", i, w->name);
			if (w->ttl0 >= 0)
				cr_expect_eq(x->ttl, (uint32_t)w->ttl0, "row %zu %s: ttl %u", i, w->name, x->ttl);
			cr_expect_eq(x->cls, 1, "row %zu", i);
		}
		if (w->tc) {
			cr_expect(n <= (w->edns > 512 ? (size_t)w->edns : 512u), "row %zu: size %zu", i, n);
			cr_expect(ql.flags & SL_DNS_QL_TC);
		}
	}
}

Test(dns_answer, question_echoed_as_sent_and_owner_compressed, .init = setup, .fini = teardown)
{
	struct tresp r;
	struct sl_dns_qlog ql;
	size_t n = ask("WwW.ExAmPlE.CoM", T_A, -1, &r, &ql);
	cr_assert(n > 0);
	cr_expect_str_eq(r.qname, "WwW.ExAmPlE.CoM");
	cr_expect_str_eq(r.rr[0].name, "WwW.ExAmPlE.CoM");
	size_t qend = 12 + 17 + 4;
	cr_expect_eq(rbuf[qend], 0xC0);
	cr_expect_eq(rbuf[qend + 1], 12, "answer owner points at the question");
	cr_expect_str_eq(ql.qname, "WwW.ExAmPlE.CoM");
	cr_expect_eq(ql.qtype, T_A);
	cr_expect_eq(ql.n_ans, 2);
	cr_expect_eq(ql.ans_slot[0], -1);
	cr_expect(ql.flags & SL_DNS_QL_AA);
}

Test(dns_answer, cname_chain_compressed, .init = setup, .fini = teardown)
{
	struct tresp r;
	struct sl_dns_qlog ql;
	size_t n = ask("chain.example.com", T_A, -1, &r, &ql);
	cr_assert(n > 0);
	cr_expect_str_eq(r.rr[1].name, "alias.example.com");
	cr_expect_str_eq(r.rr[1].data, "one.example.com");
	cr_expect_str_eq(r.rr[2].name, "one.example.com");
	cr_expect_str_eq(r.rr[2].data, "198.18.0.13");
	/* uncompressed: 3 owners + 2 targets would need ~100 bytes of names */
	cr_expect(r.pointers >= 5, "pointers %u", r.pointers);
	cr_expect(n < 12 + 23 + 3 * 10 + 4 + 2 + 8 + 2 + 8 + 2 + 2 + 30, "len %zu", n);
	cr_expect_eq(ql.n_ans, 1);
	cr_expect_eq(ql.ans_ip[0], htonl(0xC612000Du));
}

Test(dns_answer, soa_authority_compressed_against_question, .init = setup, .fini = teardown)
{
	struct tresp r;
	struct sl_dns_qlog ql;
	size_t n = ask("nothere.example.com", T_A, -1, &r, &ql);
	cr_assert(n > 0);
	cr_expect_str_eq(r.rr[0].name, "example.com");
	size_t qend = 12 + 21 + 4;
	cr_expect_eq(rbuf[qend], 0xC0);
	cr_expect_eq(rbuf[qend + 1], 12 + 8, "SOA owner points into the question at example.com");
}

Test(dns_answer, edns_echo_badvers_do, .init = setup, .fini = teardown)
{
	uint8_t q[512], r[4096];
	struct tresp t;
	struct sl_dns_qlog ql;
	size_t n = tq_build(q, "one.example.com", T_A, 4096, 7);
	q[n - 4] = 0x80;   /* DO bit */
	size_t rn = sl_dns_answer(db, 0, q, n, r, sizeof(r), 0, false, &ql);
	cr_assert_eq(t_parse(r, rn, &t), 0);
	cr_expect(t.has_opt);
	cr_expect_eq(t.opt_version, 0);
	cr_expect_eq(t.opt_udp, 1232);
	cr_expect_eq(r[rn - 4], 0x80, "DO echoed");
	cr_expect(ql.flags & SL_DNS_QL_EDNS);

	q[n - 5] = 1;      /* version 1 */
	rn = sl_dns_answer(db, 0, q, n, r, sizeof(r), 0, false, &ql);
	cr_assert_eq(t_parse(r, rn, &t), 0);
	cr_expect_eq(t.rcode, 0);
	cr_expect_eq(t.opt_ext_rcode, 1, "BADVERS = 16 = ext 1 << 4");
	cr_expect_eq(t.opt_version, 0);
	cr_expect_eq(t.an, 0);
	cr_expect_eq(ql.rcode, 16);
	cr_expect_eq(ql.err, SL_DNS_ERR_BADVERS);
}

Test(dns_answer, max_length_name_is_valid, .init = setup, .fini = teardown)
{
	char name[300];
	size_t o = 0;
	int lens[4] = { 63, 63, 63, 61 };
	for (int l = 0; l < 4; l++) {
		if (l)
			name[o++] = '.';
		memset(name + o, 'a' + l, (size_t)lens[l]);
		o += (size_t)lens[l];
	}
	name[o] = 0;
	struct tresp r;
	struct sl_dns_qlog ql;
	size_t n = ask(name, T_A, -1, &r, &ql);
	cr_assert(n > 0);
	cr_expect_eq(r.rcode, 5, "255-octet name is well formed, just outside our zones");
	cr_expect_eq(ql.err, SL_DNS_ERR_NONE);
	cr_expect_eq(strlen(ql.qname), 253);
}

Test(dns_answer, round_robin_rotation_per_worker, .init = setup, .fini = teardown)
{
	uint8_t q[512], r[1024];
	size_t n = tq_build(q, "www.example.com", T_A, -1, 1);
	struct tresp t;
	struct sl_dns_qlog ql;
	char first[3][32];
	for (int i = 0; i < 3; i++) {
		size_t rn = sl_dns_answer(db, 0, q, n, r, sizeof(r), 0, false, &ql);
		cr_assert_eq(t_parse(r, rn, &t), 0);
		cr_assert_eq(t.an, 2);
		cr_expect_str_neq(t.rr[0].data, t.rr[1].data);
		strcpy(first[i], t.rr[0].data);
	}
	cr_expect_str_neq(first[0], first[1]);
	cr_expect_str_neq(first[1], first[2]);
	cr_expect_str_neq(first[0], first[2]);
	/* worker 1 has its own counter: starts where worker 0 started */
	size_t rn = sl_dns_answer(db, 1, q, n, r, sizeof(r), 0, false, &ql);
	cr_assert_eq(t_parse(r, rn, &t), 0);
	cr_expect_str_eq(t.rr[0].data, first[0]);
}

Test(dns_answer, consistent_hash_records, .init = setup, .fini = teardown)
{
	uint8_t q[512], r[1024];
	size_t n = tq_build(q, "hash.example.com", T_A, -1, 1);
	struct tresp t;
	struct sl_dns_qlog ql;
	int seen[4] = { 0 };
	for (uint32_t c = 0; c < 64; c++) {
		char want[32] = "";
		for (int k = 0; k < 3; k++) {
			size_t rn = sl_dns_answer(db, (unsigned)k % 2, q, n, r, sizeof(r), htonl(0xC6120000u + c), false, &ql);
			cr_assert_eq(t_parse(r, rn, &t), 0);
			cr_assert_eq(t.an, 1);
			if (k == 0)
				strcpy(want, t.rr[0].data);
			else
				cr_expect_str_eq(t.rr[0].data, want, "same client, same answer");
		}
		seen[ql.ans_ip[0] == htonl(0xC612001Eu) ? 0 : ql.ans_ip[0] == htonl(0xC612001Fu) ? 1 :
		     ql.ans_ip[0] == htonl(0xC6120020u) ? 2 : 3]++;
	}
	for (int i = 0; i < 4; i++)
		cr_expect(seen[i] > 0, "address %d never chosen", i);
}

Test(dns_answer, tcp_carries_big_answer, .init = setup, .fini = teardown)
{
	struct tresp r;
	struct sl_dns_qlog ql;
	size_t n = ask_db(db, "big.example.com", T_A, -1, true, &r, &ql, rbuf);
	cr_assert(n > 512);
	cr_expect_eq(r.tc, 0);
	cr_expect_eq(r.an, 35);
	cr_expect_eq(ql.n_ans, 8, "qlog keeps the first 8");
}

Test(dns_answer, small_buffer_truncates_or_drops, .init = setup, .fini = teardown)
{
	uint8_t q[512], r[64];
	struct sl_dns_qlog ql;
	size_t n = tq_build(q, "www.example.com", T_A, -1, 1);
	size_t rn = sl_dns_answer(db, 0, q, n, r, 40, 0, false, &ql);
	struct tresp t;
	cr_assert_eq(t_parse(r, rn, &t), 0);
	cr_expect_eq(t.tc, 1);
	cr_expect_eq(t.an, 0);
	cr_expect_eq(sl_dns_answer(db, 0, q, n, r, 20, 0, false, &ql), 0);
	cr_expect_eq(ql.drop, SL_DNS_DROP_NO_SPACE);
}

static const char PROF_DROP[] = "{\"dns_service_profile\":{\"dns_zones\":[{\"domain_name\":\"example.com\"}],"
	"\"error_response\":\"DNS_ERROR_RESPONSE_NONE\",\"edns\":false,\"dns_over_tcp_enabled\":false}}";

Test(dns_answer, profile_switches)
{
	int rc;
	struct sl_dns_db *d = t_compile_str(T_VS, PROF_DROP, NULL, 1, NULL, &rc);
	cr_assert_eq(rc, 0);
	struct tresp r;
	struct sl_dns_qlog ql;
	cr_expect_eq(ask_db(d, "www.example.org", T_A, -1, false, &r, &ql, rbuf), 0);
	cr_expect_eq(ql.drop, SL_DNS_DROP_NOT_AUTH);
	cr_expect_str_eq(sl_dns_drop_name(ql.drop), "dns_not_auth");
	/* edns off: OPT ignored, 512 limit, no OPT in the answer */
	size_t n = ask_db(d, "big.example.com", T_A, 4096, false, &r, &ql, rbuf);
	cr_assert(n > 0);
	cr_expect_eq(r.has_opt, 0);
	cr_expect_eq(r.tc, 1);
	/* default rname "hostmaster.<zone>", mname = zone */
	ask_db(d, "example.com", T_SOA, -1, false, &r, &ql, rbuf);
	cr_expect_str_eq(r.rr[0].data, "example.com hostmaster.example.com 86400 30");
	cr_expect_eq(ask_db(d, "www.example.com", T_A, -1, true, &r, &ql, rbuf), 0);
	cr_expect_eq(ql.drop, SL_DNS_DROP_TCP_DISABLED);
	sl_dns_db_free(d);
}

Test(dns_answer, stats_accounting, .init = setup, .fini = teardown)
{
	struct sl_dns_stats s;
	memset(&s, 0, sizeof(s));
	struct tresp r;
	struct sl_dns_qlog ql;
	size_t n = ask("one.example.com", T_A, 1232, &r, &ql);
	sl_dns_stats_add(&s, &ql, n);
	n = ask("one.example.com", T_AAAA, -1, &r, &ql);
	sl_dns_stats_add(&s, &ql, n);
	n = ask("nothere.example.com", T_A, -1, &r, &ql);
	sl_dns_stats_add(&s, &ql, n);
	uint8_t q[2] = { 0, 0 };
	n = sl_dns_answer(db, 0, q, 2, rbuf, sizeof(rbuf), 0, false, &ql);
	sl_dns_stats_add(&s, &ql, n);
	cr_expect_eq(s.queries, 4);
	cr_expect_eq(s.responses, 3);
	cr_expect_eq(s.rcode[0], 2);
	cr_expect_eq(s.rcode[3], 1);
	cr_expect_eq(s.nodata, 1);
	cr_expect_eq(s.edns, 1);
	cr_expect_eq(s.drop[SL_DNS_DROP_SHORT], 1);
}
