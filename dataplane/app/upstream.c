/* Server selection and shared server state for the applications that open
 * server connections (upstream.h).
 *
 * Per-connection code (never per packet): no heap allocation, no locks; one
 * atomic per connection open and close on the engine-wide counts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sl_l4.h"
#include "sl_lb.h"
#include "upstream.h"

#define PASSIVE_MAX_FAILS 3          /* consecutive failed connects take a server out... */
#define PASSIVE_OUT_MS 10000         /* ...for this long (nginx max_fails / fail_timeout) */
#define CONNECT_FAIL_PENALTY_US 1000000
#define MAX_UP_WORKERS 64

/* Open (or connecting) server connections per server slot, shared by all
 * workers: connection limits are global (as in Avi), and least connections /
 * two-choice random balance on engine-wide counts (with per-worker counts N
 * workers could each send their first connection to the same server).
 * Passive health is engine-wide too (nginx's max_fails is per upstream):
 * consecutive failed connects on any worker count against a server, and
 * once out it is out of every worker's picks; the worker that took it out
 * brings it back (its out_list). Workers are set up one after the other on
 * the main lcore, so the first one allocates. */
static uint32_t *open_srv;
static uint8_t *out_g;
static uint32_t *fails_g;
static struct sl_up_worker *upw[MAX_UP_WORKERS];

static inline uint32_t ms32(uint64_t now)
{
	return (uint32_t)(now / 1000);
}

bool sl_up_take(uint32_t slot, uint32_t limit)
{
	if (slot < SL_MAX_HEALTH) {
		uint32_t was = __atomic_fetch_add(&open_srv[slot], 1, __ATOMIC_RELAXED);

		if (limit && was >= limit) {
			/* another worker took the last place since the pick */
			__atomic_fetch_sub(&open_srv[slot], 1, __ATOMIC_RELAXED);
			return false;
		}
	}
	return true;
}

void sl_up_drop(uint32_t slot)
{
	if (slot < SL_MAX_HEALTH)
		__atomic_fetch_sub(&open_srv[slot], 1, __ATOMIC_RELAXED);
}

struct pick_ctx {
	struct sl_app_worker *aw;
	const struct sl_gen *g;
	struct sl_up_pick *x;
	const struct sl_gen_pg_member *members;
};

static int pick_in_pool(struct pick_ctx *p, uint32_t idx)
{
	const struct sl_gen *g = p->g;
	const struct sl_gen_pool *pool = &g->pools[idx];
	const struct sl_gen_lb *lb = pool->lb;
	struct sl_up_pick *x = p->x;
	unsigned worker = sl_app_env(p->aw)->worker_id;
	uint32_t failed[SL_LB_MAX_EXCLUDE], nf = 0;
	struct sl_lb_pool_state *st;
	int r;

	if (!pool->enabled || !lb || !lb->pool || worker >= lb->n_workers)
		return -ENOENT;
	st = (struct sl_lb_pool_state *)((char *)lb->states + worker * lb->stride);
	struct sl_lb_in in = {
		.hash = x->use_custom ? x->hash_custom
				      : pool->lb_hash == SL_LB_HASH_SOURCE_IP_AND_PORT ? x->hash_port : x->hash_ip,
		.now_ms = ms32(*sl_app_env(p->aw)->now_us), .up = g->health, .draining = out_g,
		.conns = open_srv, .limit_conns = open_srv,
		.rt = p->aw->up->srv_rt, .by_slot = true, .n_slots = SL_MAX_HEALTH,
		.max_conns_all = pool->max_conns,
	};
	/* servers a connect already failed on: their positions in this pool
	 * (rare path, so a scan) */
	for (uint32_t i = 0; i < pool->n_servers && x->n_tried; i++) {
		uint32_t slot = g->servers[pool->first_server + i].slot;

		for (unsigned k = 0; k < x->n_tried && nf < SL_LB_MAX_EXCLUDE; k++)
			if (x->tried[k] == slot && slot != SL_GEN_NONE) {
				failed[nf++] = i;
				break;
			}
	}
	r = sl_lb_pick_retry(lb->pool, st, &in, failed, nf);
	if (r < 0 && in.max_conns_all) {
		/* only to tell a limit from no server at all */
		in.max_conns_all = 0;
		x->limit_hit |= sl_lb_pick_retry(lb->pool, st, &in, failed, nf) >= 0;
		return -ENOENT;
	}
	if (r < 0)
		return r;
	x->pool_idx = (int32_t)idx;
	return (int)(pool->first_server + (uint32_t)r);
}

static int pg_pick_cb(void *arg, uint32_t k)
{
	struct pick_ctx *p = arg;

	return pick_in_pool(p, p->members[k].pool_idx);
}

int sl_up_pick(struct sl_app_worker *aw, const struct sl_gen *g, uint32_t pool_idx, uint32_t pg_idx,
	       struct sl_up_pick *x)
{
	struct pick_ctx p = { .aw = aw, .g = g, .x = x };
	unsigned worker = sl_app_env(aw)->worker_id;

	x->pool_idx = -1;
	if (!g)
		return -ENOENT;
	if (pool_idx != SL_GEN_NONE && pool_idx < g->n_pools)
		return pick_in_pool(&p, pool_idx);
	if (pg_idx != SL_GEN_NONE && pg_idx < g->n_poolgroups) {
		const struct sl_gen_poolgroup *pg = &g->poolgroups[pg_idx];
		const struct sl_gen_lb *lb = pg->lb;
		uint32_t k;

		if (!lb || !lb->pg || worker >= lb->n_workers)
			return -ENOENT;
		p.members = &g->pg_members[pg->first_member];
		return sl_lb_pg_pick(lb->pg, (struct sl_lb_pg_state *)((char *)lb->states + worker * lb->stride),
				     pg_pick_cb, &p, &k);
	}
	return -ENOENT;
}

/* PASSIVE_MAX_FAILS failures in a row (on any worker) take the server out
 * of the picks for PASSIVE_OUT_MS (then one more failure is enough to take
 * it out again). */
static void passive_fail(struct sl_up_worker *t, uint32_t slot, uint64_t now)
{
	if (__atomic_add_fetch(&fails_g[slot], 1, __ATOMIC_RELAXED) >= PASSIVE_MAX_FAILS &&
	    !__atomic_load_n(&out_g[slot], __ATOMIC_RELAXED) && t->n_out < UP_PASSIVE_OUT_MAX) {
		uint8_t in = 0;

		/* one worker takes it out (and later back in) */
		if (__atomic_compare_exchange_n(&out_g[slot], &in, 1, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			t->srv[slot].out_until_ms = ms32(now) + PASSIVE_OUT_MS;
			t->srv[slot].passive_out++;
			t->out_list[t->n_out++] = slot;
		}
	}
}

static void passive_ok(uint32_t slot)
{
	/* read first: a store per request would bounce the line */
	if (__atomic_load_n(&fails_g[slot], __ATOMIC_RELAXED))
		__atomic_store_n(&fails_g[slot], 0, __ATOMIC_RELAXED);
}

void sl_up_fail(struct sl_app_worker *aw, uint32_t slot, uint64_t started_us, uint64_t now)
{
	struct sl_up_worker *t = aw->up;

	if (slot >= SL_MAX_HEALTH)
		return;
	t->srv[slot].connect_fail++;
	/* a failure weighs at least as much as a very slow connect (fastest response) */
	sl_lb_rt_sample(&t->srv_rt[slot], (uint32_t)RTE_MAX(now - started_us, (uint64_t)CONNECT_FAIL_PENALTY_US),
			ms32(now));
	passive_fail(t, slot, now);
}

void sl_up_bad(struct sl_app_worker *aw, uint32_t slot, uint64_t now)
{
	if (slot >= SL_MAX_HEALTH)
		return;
	aw->up->srv[slot].response_fail++;
	passive_fail(aw->up, slot, now);
}

void sl_up_ok(struct sl_app_worker *aw, uint32_t slot)
{
	(void)aw;
	if (slot < SL_MAX_HEALTH)
		passive_ok(slot);
}

void sl_up_connect_done(struct sl_app_worker *aw, uint32_t slot, uint64_t started_us, uint64_t now)
{
	struct sl_up_worker *t = aw->up;

	if (slot >= SL_MAX_HEALTH)
		return;
	sl_lb_rt_sample(&t->srv_rt[slot], (uint32_t)RTE_MIN(now - started_us, (uint64_t)UINT32_MAX), ms32(now));
	t->srv[slot].total++;
}

void sl_up_connected(struct sl_app_worker *aw, uint32_t slot, uint64_t started_us, uint64_t now)
{
	if (slot >= SL_MAX_HEALTH)
		return;
	sl_up_connect_done(aw, slot, started_us, now);
	passive_ok(slot);
}

void sl_up_bytes(struct sl_app_worker *aw, uint32_t slot, uint64_t in, uint64_t out)
{
	if (slot >= SL_MAX_HEALTH)
		return;
	aw->up->srv[slot].bytes_in += in;
	aw->up->srv[slot].bytes_out += out;
}

/* Servers present and enabled (in an enabled pool) in generation g, by slot:
 * a connection whose server is not is draining. Rebuilt once per generation. */
static void live_refresh(struct sl_up_worker *t, const struct sl_gen *g)
{
	memset(t->srv_live, 0, SL_MAX_HEALTH);
	for (uint32_t p = 0; p < g->n_pools; p++) {
		const struct sl_gen_pool *pool = &g->pools[p];

		for (uint32_t i = 0; pool->enabled && i < pool->n_servers; i++) {
			const struct sl_gen_server *sv = &g->servers[pool->first_server + i];

			if (sv->enabled && sv->slot < SL_MAX_HEALTH)
				t->srv_live[sv->slot] = 1;
		}
	}
	t->live_gen = g->id;
}

bool sl_up_live(struct sl_app_worker *aw, const struct sl_gen *g, uint32_t slot)
{
	struct sl_up_worker *t = aw->up;

	if (!g || slot >= SL_MAX_HEALTH)
		return true;
	if (t->live_gen != g->id)
		live_refresh(t, g);
	return t->srv_live[slot];
}

void sl_up_tick(struct sl_app_worker *aw, uint64_t now)
{
	struct sl_up_worker *t = aw->up;
	uint32_t ms = ms32(now);

	if (now < t->next_scan)
		return;
	t->next_scan = now + 1000000;
	for (uint32_t i = 0; i < t->n_out;) {
		uint32_t slot = t->out_list[i];

		if ((int32_t)(ms - t->srv[slot].out_until_ms) >= 0) {
			__atomic_store_n(&out_g[slot], 0, __ATOMIC_RELAXED);
			t->out_list[i] = t->out_list[--t->n_out];
		} else {
			i++;
		}
	}
}

int sl_up_init(struct sl_app_worker *aw)
{
	struct sl_up_worker *t = calloc(1, sizeof(*t));
	unsigned id = sl_app_env(aw)->worker_id;

	if (!t || id >= MAX_UP_WORKERS) {
		free(t);
		return -ENOMEM;
	}
	aw->up = t;
	/* per server slot: ordinary memory, the hugepages are for packets */
	t->srv_rt = calloc(SL_MAX_HEALTH, sizeof(*t->srv_rt));
	t->srv_live = calloc(SL_MAX_HEALTH, 1);
	t->srv = calloc(SL_MAX_HEALTH, sizeof(*t->srv));
	t->live_gen = UINT64_MAX;
	if (!open_srv)
		open_srv = calloc(SL_MAX_HEALTH, sizeof(*open_srv));
	if (!out_g)
		out_g = calloc(SL_MAX_HEALTH, sizeof(*out_g));
	if (!fails_g)
		fails_g = calloc(SL_MAX_HEALTH, sizeof(*fails_g));
	if (!t->srv_rt || !t->srv_live || !t->srv || !open_srv || !out_g || !fails_g)
		return -ENOMEM;
	upw[id] = t;
	return 0;
}

void sl_up_fini(struct sl_app_worker *aw)
{
	struct sl_up_worker *t = aw->up;

	if (!t)
		return;
	for (unsigned i = 0; i < MAX_UP_WORKERS; i++)
		if (upw[i] == t)
			upw[i] = NULL;
	free(t->srv_rt);
	free(t->srv_live);
	free(t->srv);
	free(t);
	aw->up = NULL;
}

/* ---- per-server counters for the main lcore (sl_l4.h): every
 * application's server connections */
void sl_proxy_srv_stats(uint32_t slot, struct sl_proxy_srv_stats *out)
{
	uint64_t rt = 0;
	uint32_t n_rt = 0, n_workers = 0;

	memset(out, 0, sizeof(*out));
	if (slot >= SL_MAX_HEALTH)
		return;
	if (open_srv)
		out->cur = __atomic_load_n(&open_srv[slot], __ATOMIC_RELAXED);
	for (unsigned i = 0; i < MAX_UP_WORKERS; i++) {
		const struct sl_up_worker *t = upw[i];

		if (!t)
			continue;
		n_workers++;
		out->total += t->srv[slot].total;
		out->bytes_in += t->srv[slot].bytes_in;
		out->bytes_out += t->srv[slot].bytes_out;
		out->connect_fail += t->srv[slot].connect_fail;
		out->passive_out += t->srv[slot].passive_out;
		out->response_fail += t->srv[slot].response_fail;
		if (t->srv_rt[slot].us) {
			rt += t->srv_rt[slot].us;
			n_rt++;
		}
	}
	/* out of the picks: of every worker's */
	if (out_g && __atomic_load_n(&out_g[slot], __ATOMIC_RELAXED))
		out->out_workers = n_workers;
	out->connect_us = n_rt ? (uint32_t)(rt / n_rt) : 0;
}
