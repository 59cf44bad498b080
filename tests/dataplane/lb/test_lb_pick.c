/* Weighted distribution, WRR smoothness, usability rules and retries, for every algorithm. */
#include "lb_test.h"

#include "sl_gen.h"

#define PICKS 6000

static const struct { uint16_t r[8]; uint32_t n; } weight_sets[] = {
	{ { 1, 1, 1 }, 3 },
	{ { 1, 2, 3 }, 3 },
	{ { 5, 1 }, 2 },
	{ { 20, 1, 4, 7, 3 }, 5 },
	{ { 2, 2, 2, 2, 2, 2, 2, 2 }, 8 },
	{ { 10, 3, 1, 6 }, 4 },
	/* a cycle longer than SL_LB_WRR_SEQ_MAX: O(n) smooth WRR, binary-search draws */
	{ { 65535, 65534, 65533, 32767, 65531 }, 5 },
};
/* algorithms that promise the ratio split when connections stay equal */
static const uint8_t weighted_algs[] = {
	SL_LB_ALG_ROUND_ROBIN, SL_LB_ALG_LEAST_CONNECTIONS, SL_LB_ALG_CONSISTENT_HASH, SL_LB_ALG_RANDOM,
};
static const uint8_t all_algs[] = {
	SL_LB_ALG_ROUND_ROBIN, SL_LB_ALG_LEAST_CONNECTIONS, SL_LB_ALG_FASTEST_RESPONSE,
	SL_LB_ALG_CONSISTENT_HASH, SL_LB_ALG_LEAST_LOAD, SL_LB_ALG_FEWEST_SERVERS, SL_LB_ALG_RANDOM,
	SL_LB_ALG_FEWEST_TASKS,
};

static int pick_k(struct t_pool *t, uint32_t k)
{
	t->in.hash = sl_lb_client_hash(t_client_ip(k), (uint16_t)(1024 + k % 60000), 1);
	return sl_lb_pick(t->p, t->st, &t->in);
}

Test(lb, same_enums_as_generation)
{
	cr_assert_eq(SL_LB_ALG_ROUND_ROBIN, SL_LB_ROUND_ROBIN);
	cr_assert_eq(SL_LB_ALG_LEAST_CONNECTIONS, SL_LB_LEAST_CONNECTIONS);
	cr_assert_eq(SL_LB_ALG_FASTEST_RESPONSE, SL_LB_FASTEST_RESPONSE);
	cr_assert_eq(SL_LB_ALG_CONSISTENT_HASH, SL_LB_CONSISTENT_HASH);
	cr_assert_eq(SL_LB_ALG_LEAST_LOAD, SL_LB_LEAST_LOAD);
	cr_assert_eq(SL_LB_ALG_FEWEST_SERVERS, SL_LB_FEWEST_SERVERS);
	cr_assert_eq(SL_LB_ALG_RANDOM, SL_LB_RANDOM);
	cr_assert_eq(SL_LB_ALG_FEWEST_TASKS, SL_LB_FEWEST_TASKS);
	cr_assert_eq(SL_LB_ALG_CORE_AFFINITY, SL_LB_CORE_AFFINITY);
	/* the generation's server array converts field by field */
	cr_assert_eq(sizeof(struct sl_lb_server), sizeof(struct sl_gen_server));
	cr_assert_eq(offsetof(struct sl_lb_server, ratio), offsetof(struct sl_gen_server, ratio));
	cr_assert_eq(offsetof(struct sl_lb_server, enabled), offsetof(struct sl_gen_server, enabled));
}

Test(lb, distribution_matches_ratios)
{
	for (size_t a = 0; a < sizeof(weighted_algs); a++)
		for (size_t w = 0; w < sizeof(weight_sets) / sizeof(weight_sets[0]); w++) {
			struct t_pool t;
			uint32_t n = weight_sets[w].n, cnt[8] = { 0 };
			t_open(&t, weight_sets[w].r, n, weighted_algs[a]);
			for (uint32_t k = 0; k < PICKS; k++) {
				int s = pick_k(&t, k);
				cr_assert_geq(s, 0);
				cr_assert_lt((uint32_t)s, n);
				cnt[s]++;
			}
			double sum = t_ratio_sum(weight_sets[w].r, n);
			for (uint32_t i = 0; i < n; i++) {
				double want = 100.0 * weight_sets[w].r[i] / sum, got = 100.0 * cnt[i] / PICKS;
				cr_assert(fabs(want - got) <= 2.0, "alg %u set %zu server %u: %.2f%% want %.2f%%",
					  weighted_algs[a], w, i, got, want);
			}
			t_close(&t);
		}
}

/* In any window of sum(ratios) consecutive picks, no server more than ceil(share) + 1 times;
 * also for half windows. Checked from several worker start points. */
Test(lb, wrr_is_smooth)
{
	for (size_t w = 0; w < sizeof(weight_sets) / sizeof(weight_sets[0]); w++)
		for (uint64_t seed = 0; seed < 4; seed++) {
			struct t_pool t;
			uint32_t n = weight_sets[w].n, sum = t_ratio_sum(weight_sets[w].r, n);
			if (sum > 100)
				continue;
			t_open(&t, weight_sets[w].r, n, SL_LB_ALG_ROUND_ROBIN);
			cr_assert_eq(sl_lb_pool_state_init(t.st, sl_lb_pool_state_size(t.p), t.p, seed), 0);
			int seq[400];
			uint32_t len = 4 * sum;
			cr_assert_leq(len, 400);
			for (uint32_t k = 0; k < len; k++)
				seq[k] = sl_lb_pick(t.p, t.st, &t.in);
			uint32_t wins[] = { sum, (sum + 1) / 2 };
			for (size_t wi = 0; wi < 2; wi++)
				for (uint32_t start = 0; start + wins[wi] <= len; start++) {
					uint32_t cnt[8] = { 0 };
					for (uint32_t k = start; k < start + wins[wi]; k++)
						cnt[seq[k]]++;
					for (uint32_t i = 0; i < n; i++) {
						uint32_t share = (weight_sets[w].r[i] * wins[wi] + sum - 1) / sum;
						cr_assert_leq(cnt[i], share + 1, "set %zu window %u at %u: server %u x%u",
							      w, wins[wi], start, i, cnt[i]);
					}
				}
			t_close(&t);
		}
}

/* Workers seeded differently do not all start on the same server. */
Test(lb, wrr_workers_start_apart)
{
	uint16_t r[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	struct t_pool t;
	t_open(&t, r, 8, SL_LB_ALG_ROUND_ROBIN);
	uint32_t seen = 0;
	for (uint64_t seed = 0; seed < 16; seed++) {
		cr_assert_eq(sl_lb_pool_state_init(t.st, sl_lb_pool_state_size(t.p), t.p, seed), 0);
		seen |= 1u << sl_lb_pick(t.p, t.st, &t.in);
	}
	cr_assert_geq(__builtin_popcount(seen), 3);
	t_close(&t);
}

enum { U_DISABLED, U_RATIO0, U_DOWN, U_DRAIN, U_LIMIT, U_NONE };

/* Server 1 and 3 are made unusable in one way; they must never be picked, by any algorithm. */
Test(lb, unusable_servers_never_picked)
{
	for (int how = U_DISABLED; how < U_NONE; how++)
		for (size_t a = 0; a < sizeof(all_algs); a++) {
			struct sl_lb_server s[5];
			for (uint32_t i = 0; i < 5; i++)
				s[i] = t_srv(i, (uint16_t)(1 + i));
			if (how == U_DISABLED)
				s[1].enabled = s[3].enabled = false;
			if (how == U_RATIO0)
				s[1].ratio = s[3].ratio = 0;
			struct t_pool t;
			t_open_srv(&t, s, 5, all_algs[a], NULL);
			if (how == U_DOWN)
				t.up[1] = t.up[3] = 0;
			if (how == U_DRAIN)
				t.drain[1] = t.drain[3] = 1;
			if (how == U_LIMIT) {
				t.maxc[1] = t.maxc[3] = 2;
				t.conns[1] = t.conns[3] = 2;
			}
			uint32_t cnt[5] = { 0 };
			for (uint32_t k = 0; k < 2000; k++) {
				t.in.now_ms = k;
				int p = pick_k(&t, k);
				cr_assert_geq(p, 0, "alg %u how %d", all_algs[a], how);
				cnt[p]++;
			}
			cr_assert_eq(cnt[1] + cnt[3], 0, "alg %u how %d: %u %u", all_algs[a], how, cnt[1], cnt[3]);
			t_close(&t);
		}
}

/* A limit not yet reached does not exclude; reaching it does (FEWEST_SERVERS spills over). */
Test(lb, connection_limit_spills_over)
{
	uint16_t r[3] = { 1, 1, 1 };
	struct t_pool t;
	t_open(&t, r, 3, SL_LB_ALG_FEWEST_SERVERS);
	t.maxc[0] = 3;
	t.maxc[1] = 2;
	int want[] = { 0, 0, 0, 1, 1, 2, 2 };
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		int s = sl_lb_pick(t.p, t.st, &t.in);
		cr_assert_eq(s, want[k], "pick %zu: %d", k, s);
		t.conns[s]++;
	}
	t_close(&t);
}

Test(lb, nothing_usable_is_enoent)
{
	for (size_t a = 0; a < sizeof(all_algs); a++) {
		uint16_t r[4] = { 1, 2, 3, 4 };
		struct t_pool t;
		t_open(&t, r, 4, all_algs[a]);
		memset(t.up, 0, sizeof(t.up));
		for (uint32_t k = 0; k < 100; k++)
			cr_assert_eq(pick_k(&t, k), -ENOENT, "alg %u", all_algs[a]);
		/* one back up: always that one */
		t.up[2] = 1;
		for (uint32_t k = 0; k < 100; k++)
			cr_assert_eq(pick_k(&t, k), 2, "alg %u", all_algs[a]);
		t_close(&t);
		/* empty pool */
		t_open(&t, r, 0, all_algs[a]);
		cr_assert_eq(pick_k(&t, 1), -ENOENT);
		t_close(&t);
	}
}

/* A failed connect is retried elsewhere: the excluded servers are never returned; with all
 * of them excluded, -ENOENT. */
Test(lb, retry_excludes_failed)
{
	for (size_t a = 0; a < sizeof(all_algs); a++) {
		uint16_t r[6] = { 1, 1, 2, 1, 1, 1 };
		struct t_pool t;
		t_open(&t, r, 6, all_algs[a]);
		for (uint32_t k = 0; k < 300; k++) {
			uint32_t failed[SL_LB_MAX_EXCLUDE];
			uint32_t nf = 0;
			t.in.hash = sl_lb_client_hash(t_client_ip(k), 0, 0);
			int first = sl_lb_pick(t.p, t.st, &t.in);
			cr_assert_geq(first, 0);
			failed[nf++] = (uint32_t)first;
			while (nf < SL_LB_MAX_EXCLUDE) {
				int s = sl_lb_pick_retry(t.p, t.st, &t.in, failed, nf);
				cr_assert_geq(s, 0);
				for (uint32_t i = 0; i < nf; i++)
					cr_assert_neq((uint32_t)s, failed[i], "alg %u", all_algs[a]);
				failed[nf++] = (uint32_t)s;
			}
		}
		uint32_t two[2] = { 0, 1 };
		uint16_t r2[2] = { 1, 1 };
		t_close(&t);
		t_open(&t, r2, 2, all_algs[a]);
		cr_assert_eq(sl_lb_pick_retry(t.p, t.st, &t.in, two, 2), -ENOENT);
		uint32_t five[5] = { 0 };
		cr_assert_eq(sl_lb_pick_retry(t.p, t.st, &t.in, five, 5), -EINVAL);
		t_close(&t);
	}
}

Test(lb, build_rejects_bad_input)
{
	struct sl_lb_server s[2] = { t_srv(0, 1), t_srv(1, 1) };
	struct sl_lb_pool *p = NULL;
	struct sl_lb_opts o = { .alg = SL_LB_ALG_CORE_AFFINITY };
	cr_assert_eq(sl_lb_pool_build(&p, s, 2, &o, NULL), -ENOTSUP);
	o.alg = 42;
	cr_assert_eq(sl_lb_pool_build(&p, s, 2, &o, NULL), -EINVAL);
	o = (struct sl_lb_opts){ .alg = SL_LB_ALG_CONSISTENT_HASH, .table_size = 65536 };
	cr_assert_eq(sl_lb_pool_build(&p, s, 2, &o, NULL), -EINVAL);
	o.table_size = 2;       /* prime, but not larger than the server count */
	cr_assert_eq(sl_lb_pool_build(&p, s, 2, &o, NULL), -EINVAL);
	o.table_size = 0;
	cr_assert_eq(sl_lb_pool_build(&p, NULL, 2, &o, NULL), -EINVAL);
	cr_assert_null(p);

	o.table_size = 251;
	cr_assert_eq(sl_lb_pool_build(&p, s, 2, &o, NULL), 0);
	cr_assert_eq(sl_lb_pool_table_size(p), 251);
	/* state too small or misaligned */
	uint64_t buf[64];
	cr_assert_eq(sl_lb_pool_state_init((struct sl_lb_pool_state *)buf, 8, p, 0), -EINVAL);
	cr_assert_eq(sl_lb_pool_state_init((struct sl_lb_pool_state *)((char *)buf + 4), sizeof(buf) - 8, p, 0),
		     -EINVAL);
	sl_lb_pool_free(p);
}

/* Slot indexing: health, draining and connections come from arrays indexed by each server's slot
 * (the engine keeps them per worker across generations); a slot out of range is up with no
 * connections; max_conns_all limits every server. */
Test(lb, slot_indexed_inputs)
{
	for (size_t a = 0; a < sizeof(all_algs); a++) {
		struct sl_lb_server s[4];
		for (uint32_t i = 0; i < 4; i++) {
			s[i] = t_srv(i, 1);
			s[i].slot = 40 - 10 * i;        /* 40, 30, 20, 10: positions and slots differ */
		}
		s[3].slot = UINT32_MAX;             /* unassigned */
		struct t_pool t;
		t_open_srv(&t, s, 4, all_algs[a], NULL);
		uint8_t up[64], drain[64] = { 0 };
		uint32_t conns[64] = { 0 };
		memset(up, 1, sizeof(up));
		up[40] = 0;                         /* position 0 down */
		drain[20] = 1;                      /* position 2 draining */
		t.in = (struct sl_lb_in){ .up = up, .draining = drain, .conns = conns, .by_slot = true, .n_slots = 64,
					  .max_conns_all = 3 };
		uint32_t cnt[4] = { 0 };
		for (uint32_t k = 0; k < 6; k++) {
			t.in.now_ms = k;
			int p = pick_k(&t, k);
			cr_assert_geq(p, 0, "alg %u pick %u", all_algs[a], k);
			cnt[p]++;
			if (s[p].slot < 64)
				conns[s[p].slot]++;
		}
		cr_assert_eq(cnt[0] + cnt[2], 0, "alg %u: down or draining server picked", all_algs[a]);
		/* position 1 stops at the limit of 3 open connections, the unassigned one is never limited */
		cr_assert_eq(cnt[1], conns[30], "alg %u", all_algs[a]);
		cr_assert_leq(cnt[1], 3, "alg %u: limit passed (%u)", all_algs[a], cnt[1]);
		conns[30] = 3;
		for (uint32_t k = 0; k < 20; k++)
			cr_assert_eq(pick_k(&t, 100 + k), 3, "alg %u", all_algs[a]);
		t_close(&t);
	}
}

/* Limits can be checked against other counts than the load (the engine: connections of all
 * workers for the limit, this worker's for least connections). */
Test(lb, limit_on_separate_counts)
{
	uint16_t r[2] = { 1, 1 };
	struct t_pool t;
	t_open(&t, r, 2, SL_LB_ALG_LEAST_CONNECTIONS);
	uint32_t all[T_MAXS] = { 0 };
	t.in.limit_conns = all;
	t.maxc[0] = t.maxc[1] = 2;
	all[0] = 2;                        /* server 0 full elsewhere, idle here */
	t.conns[1] = 5;                    /* server 1 loaded here, free overall */
	for (uint32_t k = 0; k < 10; k++)
		cr_assert_eq(sl_lb_pick(t.p, t.st, &t.in), 1);
	all[1] = 2;
	cr_assert_eq(sl_lb_pick(t.p, t.st, &t.in), -ENOENT);
	all[0] = 1;
	cr_assert_eq(sl_lb_pick(t.p, t.st, &t.in), 0);
	t_close(&t);
}
