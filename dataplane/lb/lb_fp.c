/* Pick path (per connection, on workers): no allocation, no lock, no logging. */
#include <errno.h>

#include "lb_priv.h"

#define LB_SAMPLES 8u           /* random draws before RANDOM falls back to a scan */

struct lb_ex { const uint32_t *v; uint32_t n; };

/* Index of server i in the caller's arrays, or UINT32_MAX when it has none (unassigned slot). */
static inline uint32_t aix(const struct sl_lb_pool *p, const struct sl_lb_in *in, uint32_t i)
{
	if (!in->by_slot)
		return i;
	uint32_t s = p->srv[i].slot;
	return s < in->n_slots ? s : UINT32_MAX;
}

static inline uint32_t conns_of(const struct sl_lb_pool *p, const struct sl_lb_in *in, uint32_t i)
{
	uint32_t x = aix(p, in, i);
	return in->conns && x != UINT32_MAX ? in->conns[x] : 0;
}

static inline bool usable(const struct sl_lb_pool *p, const struct sl_lb_in *in, struct lb_ex ex, uint32_t i)
{
	uint32_t x = aix(p, in, i);
	if (!p->ok[i])
		return false;
	if (x != UINT32_MAX && ((in->up && !in->up[x]) || (in->draining && in->draining[x])))
		return false;
	uint32_t lim = in->max_conns ? in->max_conns[i] : in->max_conns_all;
	if (lim && (in->limit_conns ? (x != UINT32_MAX ? in->limit_conns[x] : 0) : conns_of(p, in, i)) >= lim)
		return false;
	for (uint32_t k = 0; k < ex.n; k++)
		if (ex.v[k] == i)
			return false;
	return true;
}

/* Connect-time EWMA aged by half-lives: a server not sampled for a while looks faster and
 * gets tried again; 0 (never sampled) is the most attractive. */
static inline uint64_t rt_eff(const struct sl_lb_pool *p, const struct sl_lb_in *in, uint32_t i)
{
	uint32_t x = aix(p, in, i);
	if (!in->rt || x == UINT32_MAX || !in->rt[x].us)
		return 0;
	uint32_t age = in->now_ms - in->rt[x].at_ms;
	if (age < p->half_life_ms)      /* fresh sample: no division */
		return in->rt[x].us;
	uint32_t halves = age / p->half_life_ms;
	return halves >= 32 ? 0 : in->rt[x].us >> halves;
}

enum lb_key { K_NONE, K_CONNS, K_TIME };

/* Load numerator; the load compared is num / ratio. */
static inline uint64_t key_num(const struct sl_lb_pool *p, const struct sl_lb_in *in, enum lb_key k, uint32_t i)
{
	if (k == K_CONNS)
		return conns_of(p, in, i);
	/* least-time: (connect time + 1) x (open connections + 1), clamped so x ratio fits 64 bits */
	uint64_t t = rt_eff(p, in, i), c = conns_of(p, in, i);
	if (t > (1u << 24))
		t = 1u << 24;
	if (c > (1u << 20))
		c = 1u << 20;
	return (t + 1) * (c + 1);
}

static inline uint64_t rng32(struct sl_lb_pool_state *st)
{
	uint64_t x = st->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	st->rng = x;
	return (x * 0x2545f4914f6cdd1dULL) >> 32;
}

/* nginx smooth WRR among usable servers, restricted (unless K_NONE) to those whose load
 * num/ratio is minimal, which makes ties in least connections / fastest response weighted. O(n). */
static int swrr_min(const struct sl_lb_pool *p, struct sl_lb_pool_state *st, const struct sl_lb_in *in,
		    struct lb_ex ex, enum lb_key k)
{
	uint64_t bn = 0, bd = 1;
	uint32_t ties = 0, first = 0;
	if (k != K_NONE) {
		for (uint32_t i = 0; i < p->n; i++) {
			if (!usable(p, in, ex, i))
				continue;
			uint64_t v = key_num(p, in, k, i), a = v * bd, b = bn * p->srv[i].ratio;
			if (!ties || a < b) {
				bn = v;
				bd = p->srv[i].ratio;
				ties = 1;
				first = i;
			} else if (a == b) {
				ties++;
			}
		}
		if (!ties)
			return -ENOENT;
		/* a single minimum: the smooth-WRR step below would leave its weight unchanged */
		if (ties == 1)
			return (int)first;
	}
	int64_t total = 0;
	int best = -1;
	for (uint32_t i = 0; i < p->n; i++) {
		if (!usable(p, in, ex, i) || (k != K_NONE && key_num(p, in, k, i) * bd != bn * p->srv[i].ratio))
			continue;
		st->cw[i] += p->srv[i].ratio;
		total += p->srv[i].ratio;
		if (best < 0 || st->cw[i] > st->cw[best])
			best = (int)i;
	}
	if (best < 0)
		return -ENOENT;
	st->cw[best] -= total;
	return best;
}

static int pick_rr(const struct sl_lb_pool *p, struct sl_lb_pool_state *st, const struct sl_lb_in *in,
		   struct lb_ex ex)
{
	/* Skipping an unusable entry keeps each usable server's exact share of every cycle. */
	if (p->seq_len)
		for (uint32_t k = 0; k < LB_WALK; k++) {
			uint32_t s = p->seq[st->cursor];
			if (++st->cursor == p->seq_len)
				st->cursor = 0;
			if (usable(p, in, ex, s))
				return (int)s;
		}
	return swrr_min(p, st, in, ex, K_NONE);
}

static int scan_from(const struct sl_lb_pool *p, const struct sl_lb_in *in, struct lb_ex ex, uint32_t start)
{
	for (uint32_t k = 0; k < p->n; k++) {
		uint32_t i = start + k < p->n ? start + k : start + k - p->n;
		if (usable(p, in, ex, i))
			return (int)i;
	}
	return -ENOENT;
}

static int pick_ch(const struct sl_lb_pool *p, const struct sl_lb_in *in, struct lb_ex ex)
{
	if (p->m) {
		uint32_t j = lb_reduce((uint32_t)(in->hash >> 32), p->m);
		for (uint32_t k = 0; k < LB_WALK; k++) {
			uint32_t s = p->table[j];
			if (usable(p, in, ex, s))
				return (int)s;
			if (++j == p->m)
				j = 0;
		}
	}
	/* Most of the pool is unusable: still deterministic in the client's hash. */
	return p->n ? scan_from(p, in, ex, lb_reduce((uint32_t)in->hash, p->n)) : -ENOENT;
}

/* A server drawn with probability ratio / sum of ratios (enabled servers). */
static uint32_t sample(const struct sl_lb_pool *p, struct sl_lb_pool_state *st)
{
	uint32_t r = (uint32_t)rng32(st);
	if (p->seq_len)
		return p->seq[lb_reduce(r, p->seq_len)];
	r = lb_reduce(r, p->total);
	uint32_t lo = 0, hi = p->n - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (p->cum[mid] > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Power of two choices: two weighted draws, the one with the lower connections / ratio wins
 * (the first on a tie, which keeps the ratio split when connections are equal). */
static int pick_random(const struct sl_lb_pool *p, struct sl_lb_pool_state *st, const struct sl_lb_in *in,
		       struct lb_ex ex)
{
	int a = -1, b = -1;
	if (!p->total)
		return -ENOENT;
	for (uint32_t k = 0; k < LB_SAMPLES && a < 0; k++) {
		uint32_t s = sample(p, st);
		if (usable(p, in, ex, s))
			a = (int)s;
	}
	if (a < 0)
		return scan_from(p, in, ex, lb_reduce((uint32_t)rng32(st), p->n));
	for (uint32_t k = 0; k < LB_SAMPLES && b < 0; k++) {
		uint32_t s = sample(p, st);
		if (usable(p, in, ex, s))
			b = (int)s;
	}
	if (b < 0 || b == a)
		return a;
	uint64_t la = (uint64_t)conns_of(p, in, (uint32_t)a) * p->srv[b].ratio;
	uint64_t lb = (uint64_t)conns_of(p, in, (uint32_t)b) * p->srv[a].ratio;
	return la <= lb ? a : b;
}

static int pick_fastest(const struct sl_lb_pool *p, struct sl_lb_pool_state *st, const struct sl_lb_in *in,
			struct lb_ex ex)
{
	/* Exploration: every explore_every-th pick goes round robin, so a server whose last sample
	 * was slow keeps being measured. */
	if (++st->picks >= p->explore_every && p->n) {
		st->picks = 0;
		if (st->cursor >= p->n)
			st->cursor = 0;
		int s = scan_from(p, in, ex, st->cursor);
		if (s >= 0) {
			st->cursor = (uint32_t)s + 1;
			return s;
		}
		return -ENOENT;
	}
	return swrr_min(p, st, in, ex, K_TIME);
}

static int pick(const struct sl_lb_pool *p, struct sl_lb_pool_state *st, const struct sl_lb_in *in,
		struct lb_ex ex)
{
	switch (p->alg) {
	case SL_LB_ALG_ROUND_ROBIN:
		return pick_rr(p, st, in, ex);
	case SL_LB_ALG_CONSISTENT_HASH:
		return pick_ch(p, in, ex);
	case SL_LB_ALG_RANDOM:
		return pick_random(p, st, in, ex);
	case SL_LB_ALG_FASTEST_RESPONSE:
		return pick_fastest(p, st, in, ex);
	case SL_LB_ALG_FEWEST_SERVERS:
		/* pack onto the first servers; max_conns spills to the next one */
		return scan_from(p, in, ex, 0);
	default:        /* LEAST_CONNECTIONS, LEAST_LOAD, FEWEST_TASKS: this worker's connections */
		return swrr_min(p, st, in, ex, K_CONNS);
	}
}

int sl_lb_pick(const struct sl_lb_pool *p, struct sl_lb_pool_state *st, const struct sl_lb_in *in)
{
	return pick(p, st, in, (struct lb_ex){ NULL, 0 });
}

int sl_lb_pick_retry(const struct sl_lb_pool *p, struct sl_lb_pool_state *st, const struct sl_lb_in *in,
		     const uint32_t *failed, uint32_t n_failed)
{
	if (n_failed > SL_LB_MAX_EXCLUDE || (n_failed && !failed))
		return -EINVAL;
	return pick(p, st, in, (struct lb_ex){ failed, n_failed });
}

uint64_t sl_lb_client_hash(uint32_t ip, uint16_t port, uint8_t hash_kind)
{
	uint64_t k = hash_kind == SL_LB_HASH_SOURCE_IP_AND_PORT ? ((uint64_t)ip << 16 | port) | (1ULL << 63) : ip;
	return lb_mix64(k ^ 0x736c756963656c62ULL);
}

uint64_t sl_lb_hash_bytes(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint64_t h = 0xcbf29ce484222325ULL;     /* FNV-1a, then mixed: FNV's high bits are weak */
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return lb_mix64(h);
}

void sl_lb_rt_sample(struct sl_lb_rt *r, uint32_t us, uint32_t now_ms)
{
	if (!us)
		us = 1;         /* 0 means "no sample" */
	if (!r->us)
		r->us = us;
	else
		r->us = (uint32_t)((int64_t)r->us + ((int64_t)us - (int64_t)r->us) / 8);
	if (!r->us)
		r->us = 1;
	r->at_ms = now_ms;
}

/* ---- pool groups ---- */

static int pg_level(const struct sl_lb_pg *g, struct sl_lb_pg_state *st, const struct sl_lb_pg_level *lv,
		    sl_lb_pool_pick_fn fn, void *arg, uint32_t *pool)
{
	uint64_t tried[SL_LB_PG_MAX_MEMBERS / 64] = { 0 };
	for (;;) {
		int best = -1;
		for (uint32_t j = lv->first; j < lv->first + lv->count; j++) {
			if (!g->m[j].ratio || (tried[j / 64] >> (j % 64) & 1))
				continue;
			if (best < 0 || st->cw[j] + g->m[j].ratio > st->cw[best] + g->m[best].ratio)
				best = (int)j;
		}
		if (best < 0)
			return -ENOENT;
		int r = fn(arg, g->m[best].pool);
		if (r >= 0) {
			/* commit the smooth-WRR step only over pools that are still usable */
			int64_t total = 0;
			for (uint32_t j = lv->first; j < lv->first + lv->count; j++) {
				if (!g->m[j].ratio || (tried[j / 64] >> (j % 64) & 1))
					continue;
				st->cw[j] += g->m[j].ratio;
				total += g->m[j].ratio;
			}
			st->cw[best] -= total;
			*pool = g->m[best].pool;
			return r;
		}
		tried[(uint32_t)best / 64] |= 1ULL << ((uint32_t)best % 64);
	}
}

int sl_lb_pg_pick(const struct sl_lb_pg *g, struct sl_lb_pg_state *st, sl_lb_pool_pick_fn fn, void *arg,
		  uint32_t *pool)
{
	for (uint32_t l = 0; l < g->n_levels; l++) {
		int r = pg_level(g, st, &g->lv[l], fn, arg, pool);
		if (r >= 0)
			return r;
	}
	return -ENOENT;
}

int sl_lb_pg_pick_prio(const struct sl_lb_pg *g, struct sl_lb_pg_state *st, int32_t priority,
		       sl_lb_pool_pick_fn fn, void *arg, uint32_t *pool)
{
	for (uint32_t l = 0; l < g->n_levels; l++)
		if (g->lv[l].prio == priority)
			return pg_level(g, st, &g->lv[l], fn, arg, pool);
	return -ENOENT;
}
