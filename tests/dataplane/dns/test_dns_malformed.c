/* The malformed corpus: each message gets FORMERR/NOTIMP/BADVERS or a drop with
 * the right reason, and the committed fuzz seeds hold exactly these bytes. */
#include <criterion/criterion.h>

#include "dns_malformed.h"
#include "dns_test.h"

Test(dns_malformed, corpus_outcomes)
{
	int rc;
	struct sl_dns_db *db = t_compile_str(T_VS, T_PROFILE, T_GSLB, 1, NULL, &rc);
	cr_assert_eq(rc, 0);
	cr_assert_geq(MAL_COUNT, 30);
	for (size_t i = 0; i < MAL_COUNT; i++) {
		const struct mal_case *m = &mal_cases[i];
		uint8_t r[4096];
		struct sl_dns_qlog ql;
		memset(&ql, 0xAA, sizeof(ql));
		size_t n = sl_dns_answer(db, 0, (const uint8_t *)m->bytes, m->len, r, sizeof(r), 0, false, &ql);
		if (m->out == MAL_DROP) {
			cr_expect_eq(n, 0, "%s: answered, expected drop", m->name);
			cr_expect_eq(ql.drop, m->reason, "%s: drop %s want %s", m->name,
				     sl_dns_drop_name(ql.drop), sl_dns_drop_name(m->reason));
			continue;
		}
		cr_assert(n >= 12, "%s: dropped (%s), expected an answer", m->name, sl_dns_drop_name(ql.drop));
		struct tresp t;
		cr_assert_eq(t_parse(r, n, &t), 0, "%s: response does not parse", m->name);
		cr_expect_eq(t.id, 0x1234, "%s", m->name);
		cr_expect_eq(t.qr, 1, "%s", m->name);
		cr_expect_eq(t.an, 0, "%s", m->name);
		cr_expect_eq(ql.drop, SL_DNS_DROP_NONE, "%s", m->name);
		cr_expect_eq(ql.err, m->reason, "%s: reason %s want %s", m->name, sl_dns_err_name(ql.err),
			     sl_dns_err_name(m->reason));
		switch (m->out) {
		case MAL_FORMERR:
			cr_expect_eq(t.rcode, 1, "%s: rcode %d want FORMERR", m->name, t.rcode);
			cr_expect_eq(n, 12, "%s: FORMERR is header only", m->name);
			break;
		case MAL_NOTIMP:
			cr_expect_eq(t.rcode, 4, "%s: rcode %d want NOTIMP", m->name, t.rcode);
			cr_expect_eq(t.opcode, (((const uint8_t *)m->bytes)[2] >> 3) & 15, "%s: opcode echoed", m->name);
			break;
		default:
			cr_expect_eq(t.has_opt, 1, "%s", m->name);
			cr_expect_eq(t.opt_ext_rcode, 1, "%s: BADVERS", m->name);
			cr_expect_eq(ql.rcode, 16, "%s", m->name);
		}
	}
	/* the good seeds are answered normally */
	for (size_t i = 0; i < GOOD_COUNT; i++) {
		uint8_t r[4096];
		struct sl_dns_qlog ql;
		size_t n = sl_dns_answer(db, 0, (const uint8_t *)good_seeds[i].bytes, good_seeds[i].len, r,
					 sizeof(r), 0, false, &ql);
		cr_expect(n > 12, "%s: not answered", good_seeds[i].name);
		cr_expect_eq(ql.err, SL_DNS_ERR_NONE, "%s: %s", good_seeds[i].name, sl_dns_err_name(ql.err));
	}
	sl_dns_db_free(db);
}

Test(dns_malformed, fuzz_seeds_match_generator)
{
	for (size_t i = 0; i < MAL_COUNT + GOOD_COUNT; i++) {
		const struct mal_case *m = i < MAL_COUNT ? &mal_cases[i] : &good_seeds[i - MAL_COUNT];
		char path[512];
		snprintf(path, sizeof(path), "%s/%s%s", DNS_CORPUS_DIR, i < MAL_COUNT ? "mal-" : "", m->name);
		FILE *f = fopen(path, "rb");
		cr_assert(f, "%s missing: run dns_gen_corpus %s", path, DNS_CORPUS_DIR);
		uint8_t buf[1024];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		cr_expect(n == m->len && memcmp(buf, m->bytes, n) == 0, "%s differs from the generator", path);
	}
}

Test(dns_malformed, truncations_of_good_queries_never_crash)
{
	/* every prefix of every seed is either dropped or gets a parseable answer */
	int rc;
	struct sl_dns_db *db = t_compile_str(T_VS, T_PROFILE, T_GSLB, 1, NULL, &rc);
	cr_assert_eq(rc, 0);
	for (size_t i = 0; i < GOOD_COUNT; i++) {
		for (size_t l = 0; l < good_seeds[i].len; l++) {
			uint8_t r[4096];
			struct sl_dns_qlog ql;
			size_t n = sl_dns_answer(db, 0, (const uint8_t *)good_seeds[i].bytes, l, r, sizeof(r), 0,
						 false, &ql);
			if (l < 12) {
				cr_expect_eq(n, 0);
				cr_expect_eq(ql.drop, SL_DNS_DROP_SHORT);
				continue;
			}
			struct tresp t;
			cr_assert(n >= 12, "%s[:%zu]", good_seeds[i].name, l);
			cr_expect_eq(t_parse(r, n, &t), 0);
			cr_expect_eq(t.rcode, 1, "%s[:%zu]: rcode %d", good_seeds[i].name, l, t.rcode);
		}
	}
	sl_dns_db_free(db);
}
