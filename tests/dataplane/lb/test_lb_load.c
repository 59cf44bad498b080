/* Load-aware algorithms: least connections, random with two choices, fastest response. */
#include "lb_test.h"

static int pick_open(struct t_pool *t)
{
	int s = sl_lb_pick(t->p, t->st, &t->in);
	cr_assert_geq(s, 0);
	t->conns[s]++;
	return s;
}

/* Connections that stay open end up proportional to ratio (conns / ratio equalised). */
Test(lb_lc, open_connections_follow_ratio)
{
	static const struct { uint16_t r[6]; uint32_t n; } sets[] = {
		{ { 1, 2, 1 }, 3 }, { { 1, 1, 1, 1, 1, 1 }, 6 }, { { 5, 1, 3 }, 3 }, { { 20, 1 }, 2 },
	};
	for (size_t w = 0; w < sizeof(sets) / sizeof(sets[0]); w++) {
		struct t_pool t;
		t_open(&t, sets[w].r, sets[w].n, SL_LB_ALG_LEAST_CONNECTIONS);
		uint32_t sum = t_ratio_sum(sets[w].r, sets[w].n);
		for (uint32_t k = 0; k < 50 * sum; k++)
			pick_open(&t);
		for (uint32_t i = 0; i < sets[w].n; i++)
			cr_assert_eq(t.conns[i], 50u * sets[w].r[i], "set %zu server %u: %u", w, i, t.conns[i]);
		t_close(&t);
	}
}

/* A server already loaded gets nothing until the others catch up; then it rejoins. */
Test(lb_lc, loaded_server_avoided)
{
	uint16_t r[3] = { 1, 1, 2 };
	struct t_pool t;
	t_open(&t, r, 3, SL_LB_ALG_LEAST_CONNECTIONS);
	t.conns[0] = 40;
	for (int k = 0; k < 117; k++)   /* server 1 to 39, server 2 to 78 */
		cr_assert_neq(pick_open(&t), 0, "pick %d", k);
	cr_assert_eq(t.conns[1], 39);
	cr_assert_eq(t.conns[2], 78);
	uint32_t c0 = 0;
	for (int k = 0; k < 40; k++)
		c0 += pick_open(&t) == 0;
	cr_assert_geq(c0, 8);
	/* closing on server 1 sends the next ones there */
	t.conns[1] -= 10;
	for (int k = 0; k < 5; k++)
		cr_assert_eq(pick_open(&t), 1);
	t_close(&t);
}

/* Short connections (closed before the next pick): ties go round robin, weighted and smooth. */
Test(lb_lc, ties_round_robin)
{
	uint16_t r[3] = { 1, 1, 1 };
	struct t_pool t;
	t_open(&t, r, 3, SL_LB_ALG_LEAST_CONNECTIONS);
	int prev = -1;
	uint32_t cnt[3] = { 0 };
	for (int k = 0; k < 300; k++) {
		int s = sl_lb_pick(t.p, t.st, &t.in);
		cr_assert_neq(s, prev);
		cnt[s]++;
		prev = s;
	}
	cr_assert(cnt[0] == 100 && cnt[1] == 100 && cnt[2] == 100);
	t_close(&t);
}

/* Two choices: a heavily loaded server is chosen only when both draws hit it (1/9 of picks). */
Test(lb_random, two_choices_avoid_load)
{
	uint16_t r[3] = { 1, 1, 1 };
	struct t_pool t;
	t_open(&t, r, 3, SL_LB_ALG_RANDOM);
	t.conns[0] = 100;
	uint32_t c0 = 0;
	for (int k = 0; k < 6000; k++)
		c0 += sl_lb_pick(t.p, t.st, &t.in) == 0;
	cr_assert(fabs(c0 / 6000.0 - 1.0 / 9) <= 0.02, "server 0 got %u", c0);
	t_close(&t);
	/* connections that stay open stay balanced, unlike plain random */
	uint16_t r8[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	t_open(&t, r8, 8, SL_LB_ALG_RANDOM);
	for (int k = 0; k < 8000; k++)
		pick_open(&t);
	uint32_t lo = UINT32_MAX, hi = 0;
	for (int i = 0; i < 8; i++) {
		lo = t.conns[i] < lo ? t.conns[i] : lo;
		hi = t.conns[i] > hi ? t.conns[i] : hi;
	}
	cr_assert_leq(hi - lo, 12, "spread %u..%u", lo, hi);
	t_close(&t);
}

Test(lb_fr, ewma)
{
	struct sl_lb_rt rt = { 0 };
	sl_lb_rt_sample(&rt, 1000, 5);
	cr_assert_eq(rt.us, 1000);
	cr_assert_eq(rt.at_ms, 5);
	sl_lb_rt_sample(&rt, 2000, 6);
	cr_assert_eq(rt.us, 1125);
	for (int k = 0; k < 200; k++)
		sl_lb_rt_sample(&rt, 0, 7);
	cr_assert_geq(rt.us, 1);    /* a real sample never reads as "no sample" */
}

/* The fast server takes most picks; the others are still probed (exploration). */
Test(lb_fr, prefers_fast_but_probes)
{
	uint16_t r[3] = { 1, 1, 1 };
	struct t_pool t;
	t_open(&t, r, 3, SL_LB_ALG_FASTEST_RESPONSE);
	t.in.now_ms = 1000;
	t.rt[0] = (struct sl_lb_rt){ 2000, 1000 };
	t.rt[1] = (struct sl_lb_rt){ 200, 1000 };
	t.rt[2] = (struct sl_lb_rt){ 1000, 1000 };
	uint32_t cnt[3] = { 0 };
	for (int k = 0; k < 3200; k++)
		cnt[sl_lb_pick(t.p, t.st, &t.in)]++;
	cr_assert_geq(cnt[1], 3000, "fast got %u", cnt[1]);
	cr_assert_gt(cnt[0], 10);
	cr_assert_gt(cnt[2], 10);
	t_close(&t);
}

/* A new server (no sample) is tried first; a slow sample ages out so a recovered server
 * gets another chance. */
Test(lb_fr, new_and_recovered_servers_tried)
{
	uint16_t r[3] = { 1, 1, 1 };
	struct t_pool t;
	t_open(&t, r, 3, SL_LB_ALG_FASTEST_RESPONSE);
	t.in.now_ms = 50;
	t.rt[0] = (struct sl_lb_rt){ 500, 50 };
	t.rt[1] = (struct sl_lb_rt){ 800, 50 };
	cr_assert_eq(sl_lb_pick(t.p, t.st, &t.in), 2);
	/* server 2 measured slow; 0 is fastest and kept fresh */
	sl_lb_rt_sample(&t.rt[2], 5000, 50);
	cr_assert_eq(sl_lb_pick(t.p, t.st, &t.in), 0);
	/* 40 s later without samples for 2: 5000 >> 4 = 312 < 500 */
	t.in.now_ms = 40050;
	t.rt[0].at_ms = t.rt[1].at_ms = 40050;
	cr_assert_eq(sl_lb_pick(t.p, t.st, &t.in), 2);
	t_close(&t);
}

/* Least time: a fast server piling up connections sheds new ones to the next fastest. */
Test(lb_fr, load_counts)
{
	uint16_t r[2] = { 1, 1 };
	struct t_pool t;
	t_open(&t, r, 2, SL_LB_ALG_FASTEST_RESPONSE);
	t.rt[0] = (struct sl_lb_rt){ 100, 0 };
	t.rt[1] = (struct sl_lb_rt){ 400, 0 };
	struct sl_lb_opts o = { .alg = SL_LB_ALG_FASTEST_RESPONSE, .explore_every = 1000000 };
	sl_lb_pool_free(t.p);
	cr_assert_eq(sl_lb_pool_build(&t.p, (struct sl_lb_server[]){ t_srv(0, 1), t_srv(1, 1) }, 2, &o, NULL), 0);
	for (int k = 0; k < 100; k++)
		pick_open(&t);
	/* (101)(c0+1) ~ (401)(c1+1) */
	cr_assert(t.conns[0] >= 77 && t.conns[0] <= 83, "fast has %u", t.conns[0]);
	t_close(&t);
}
