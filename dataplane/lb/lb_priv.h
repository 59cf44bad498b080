/* Private layout shared by the builder (control time) and the pick path. */
#ifndef SL_LB_PRIV_H
#define SL_LB_PRIV_H

#include "sl_lb.h"

#define LB_EMPTY 0xffffu        /* free Maglev slot while building */
#define LB_WALK 64u             /* entries tried before the O(n) fallback */

struct sl_lb_pool {
	uint32_t n;
	uint8_t alg;
	uint32_t half_life_ms, explore_every;
	struct sl_lb_server *srv;       /* copy: identity for the next build, ratios for picks */
	uint8_t *ok;                    /* enabled and ratio > 0 */
	uint16_t *seq;                  /* one smooth-WRR cycle over ok servers (RR, RANDOM) */
	uint32_t seq_len;
	uint32_t *cum;                  /* cumulative ratios of ok servers (RANDOM without seq) */
	uint32_t total;                 /* sum of ok ratios */
	uint16_t *table;                /* Maglev lookup table, m entries */
	uint32_t m;
};

struct sl_lb_pool_state {
	uint32_t n, seq_len;
	uint32_t cursor;                /* position in seq / round-robin cursor */
	uint32_t picks;                 /* fastest response exploration clock */
	uint64_t rng;
	int64_t cw[];                   /* smooth-WRR current weights */
};

struct sl_lb_pg_level { uint32_t first, count; int32_t prio; };

struct sl_lb_pg {
	uint32_t n, n_levels;
	struct sl_lb_pg_member *m;      /* sorted by priority, highest first */
	struct sl_lb_pg_level *lv;
};

struct sl_lb_pg_state {
	uint32_t n, pad;
	int64_t cw[];
};

static inline uint64_t lb_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Map 32 random bits onto [0, m) without a division. */
static inline uint32_t lb_reduce(uint32_t r, uint32_t m)
{
	return (uint32_t)(((uint64_t)r * m) >> 32);
}

#endif
