/* Pool groups: priority fallback, smooth WRR between pools, ratio 0. */
#include "lb_test.h"

struct pools { uint8_t up[8]; uint32_t calls; };

static int fake_pick(void *arg, uint32_t pool)
{
	struct pools *p = arg;
	p->calls++;
	return p->up[pool] ? (int)(100 + pool) : -ENOENT;
}

struct t_pg { struct sl_lb_pg *g; struct sl_lb_pg_state *st; };

static void pg_open(struct t_pg *t, const struct sl_lb_pg_member *m, uint32_t n)
{
	cr_assert_eq(sl_lb_pg_build(&t->g, m, n), 0);
	size_t sz = sl_lb_pg_state_size(t->g);
	t->st = aligned_alloc(8, (sz + 7) & ~(size_t)7);
	cr_assert_eq(sl_lb_pg_state_init(t->st, sz, t->g), 0);
}

static void pg_close(struct t_pg *t)
{
	sl_lb_pg_free(t->g);
	free(t->st);
}

static int pg_pick(struct t_pg *t, struct pools *p, uint32_t *pool)
{
	int r = sl_lb_pg_pick(t->g, t->st, fake_pick, p, pool);
	if (r >= 0)
		cr_assert_eq(r, (int)(100 + *pool));
	return r;
}

static const struct sl_lb_pg_member three_levels[] = {
	{ .pool = 4, .ratio = 1, .priority = 5 },
	{ .pool = 0, .ratio = 3, .priority = 10 },
	{ .pool = 1, .ratio = 1, .priority = 10 },
	{ .pool = 2, .ratio = 0, .priority = 20 },      /* no new connections */
	{ .pool = 3, .ratio = 2, .priority = 1 },
};

Test(lb_pg, priority_fallback)
{
	static const struct {
		uint8_t up[5];
		uint32_t want[5];       /* picks per pool out of 400 */
	} cases[] = {
		{ { 1, 1, 1, 1, 1 }, { 300, 100, 0, 0, 0 } },
		{ { 0, 1, 1, 1, 1 }, { 0, 400, 0, 0, 0 } },
		{ { 0, 0, 1, 1, 1 }, { 0, 0, 0, 0, 400 } },
		{ { 0, 0, 1, 1, 0 }, { 0, 0, 0, 400, 0 } },
		{ { 1, 0, 0, 0, 0 }, { 400, 0, 0, 0, 0 } },
		{ { 0, 0, 1, 0, 0 }, { 0, 0, 0, 0, 0 } },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct t_pg t;
		pg_open(&t, three_levels, 5);
		struct pools p = { .calls = 0 };
		memcpy(p.up, cases[c].up, 5);
		uint32_t cnt[5] = { 0 }, none = 0;
		for (int k = 0; k < 400; k++) {
			uint32_t pool = 99;
			int r = pg_pick(&t, &p, &pool);
			if (r < 0) {
				cr_assert_eq(r, -ENOENT);
				none++;
			} else {
				cnt[pool]++;
			}
		}
		for (int i = 0; i < 5; i++)
			cr_assert_eq(cnt[i], cases[c].want[i], "case %zu pool %d: %u", c, i, cnt[i]);
		if (!cases[c].want[0] && !cases[c].want[1] && !cases[c].want[3] && !cases[c].want[4])
			cr_assert_eq(none, 400);
		pg_close(&t);
	}
}

/* nginx's smooth order for 5:1:1 is a a b a c a a; a down pool leaves the others' ratio exact. */
Test(lb_pg, smooth_between_pools)
{
	struct sl_lb_pg_member m[3] = { { 0, 5, 0 }, { 1, 1, 0 }, { 2, 1, 0 } };
	struct t_pg t;
	pg_open(&t, m, 3);
	struct pools p = { .up = { 1, 1, 1 } };
	uint32_t want[] = { 0, 0, 1, 0, 2, 0, 0 };
	for (int round = 0; round < 3; round++)
		for (int k = 0; k < 7; k++) {
			uint32_t pool;
			cr_assert_geq(pg_pick(&t, &p, &pool), 0);
			cr_assert_eq(pool, want[k], "round %d pick %d: %u", round, k, pool);
		}
	p.up[0] = 0;
	uint32_t cnt[3] = { 0 };
	for (int k = 0; k < 100; k++) {
		uint32_t pool;
		cr_assert_geq(pg_pick(&t, &p, &pool), 0);
		cnt[pool]++;
	}
	cr_assert(cnt[0] == 0 && cnt[1] == 50 && cnt[2] == 50);
	pg_close(&t);
}

/* avi.poolgroup.select(pg, label): only that priority, no fallback. */
Test(lb_pg, select_by_priority)
{
	struct t_pg t;
	pg_open(&t, three_levels, 5);
	struct pools p = { .up = { 1, 1, 1, 1, 1 } };
	uint32_t pool;
	cr_assert_eq(sl_lb_pg_pick_prio(t.g, t.st, 5, fake_pick, &p, &pool), 104);
	cr_assert_eq(pool, 4);
	cr_assert_eq(sl_lb_pg_pick_prio(t.g, t.st, 1, fake_pick, &p, &pool), 103);
	cr_assert_eq(sl_lb_pg_pick_prio(t.g, t.st, 20, fake_pick, &p, &pool), -ENOENT);
	cr_assert_eq(sl_lb_pg_pick_prio(t.g, t.st, 7, fake_pick, &p, &pool), -ENOENT);
	p.up[4] = 0;
	cr_assert_eq(sl_lb_pg_pick_prio(t.g, t.st, 5, fake_pick, &p, &pool), -ENOENT);
	pg_close(&t);
}

/* End to end with real pools: the group falls back when every server of a pool is down. */
struct real { struct t_pool pool[2]; };

static int real_pick(void *arg, uint32_t i)
{
	struct real *r = arg;
	return sl_lb_pick(r->pool[i].p, r->pool[i].st, &r->pool[i].in);
}

Test(lb_pg, with_real_pools)
{
	struct real r;
	uint16_t w[3] = { 1, 1, 1 };
	t_open(&r.pool[0], w, 3, SL_LB_ALG_ROUND_ROBIN);
	t_open(&r.pool[1], w, 2, SL_LB_ALG_LEAST_CONNECTIONS);
	struct sl_lb_pg_member m[2] = { { 0, 1, 2 }, { 1, 1, 1 } };
	struct t_pg t;
	pg_open(&t, m, 2);
	uint32_t pool;
	cr_assert_geq(sl_lb_pg_pick(t.g, t.st, real_pick, &r, &pool), 0);
	cr_assert_eq(pool, 0);
	memset(r.pool[0].up, 0, sizeof(r.pool[0].up));
	cr_assert_geq(sl_lb_pg_pick(t.g, t.st, real_pick, &r, &pool), 0);
	cr_assert_eq(pool, 1);
	r.pool[0].up[2] = 1;
	cr_assert_eq(sl_lb_pg_pick(t.g, t.st, real_pick, &r, &pool), 2);
	cr_assert_eq(pool, 0);
	pg_close(&t);
	t_close(&r.pool[0]);
	t_close(&r.pool[1]);
}

Test(lb_pg, build_limits)
{
	static struct sl_lb_pg_member m[SL_LB_PG_MAX_MEMBERS + 1];
	struct sl_lb_pg *g = NULL;
	cr_assert_eq(sl_lb_pg_build(&g, m, SL_LB_PG_MAX_MEMBERS + 1), -EINVAL);
	cr_assert_eq(sl_lb_pg_build(&g, m, SL_LB_PG_MAX_MEMBERS), 0);
	sl_lb_pg_free(g);
	cr_assert_eq(sl_lb_pg_build(&g, NULL, 0), 0);
	uint64_t buf[4];
	uint32_t pool;
	cr_assert_eq(sl_lb_pg_state_init((struct sl_lb_pg_state *)buf, sizeof(buf), g), 0);
	cr_assert_eq(sl_lb_pg_pick(g, (struct sl_lb_pg_state *)buf, fake_pick, NULL, &pool), -ENOENT);
	sl_lb_pg_free(g);
}
