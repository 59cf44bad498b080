/* Helpers shared by the lb unit tests. */
#ifndef LB_TEST_H
#define LB_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_lb.h"

#define T_MAXS 64

struct t_pool {
	struct sl_lb_pool *p;
	struct sl_lb_pool_state *st;
	uint32_t n;
	uint8_t up[T_MAXS], drain[T_MAXS];
	uint32_t maxc[T_MAXS], conns[T_MAXS];
	struct sl_lb_rt rt[T_MAXS];
	struct sl_lb_in in;
};

static inline struct sl_lb_server t_srv(uint32_t i, uint16_t ratio)
{
	/* 198.18.1.x; byte order does not matter, the address is only an identity here */
	return (struct sl_lb_server){ .ip = 0xc6120100u + i + 2, .port = 80, .ratio = ratio, .enabled = true };
}

static inline void t_init_in(struct t_pool *t)
{
	memset(t->up, 1, sizeof(t->up));
	memset(t->drain, 0, sizeof(t->drain));
	memset(t->maxc, 0, sizeof(t->maxc));
	memset(t->conns, 0, sizeof(t->conns));
	memset(t->rt, 0, sizeof(t->rt));
	t->in = (struct sl_lb_in){ .up = t->up, .draining = t->drain, .max_conns = t->maxc, .conns = t->conns,
				   .rt = t->rt };
}

static inline void t_open_srv(struct t_pool *t, const struct sl_lb_server *s, uint32_t n, uint8_t alg,
			      const struct sl_lb_pool *prev)
{
	struct sl_lb_opts o = { .alg = alg };
	cr_assert_leq(n, T_MAXS);
	cr_assert_eq(sl_lb_pool_build(&t->p, s, n, &o, prev), 0);
	size_t sz = sl_lb_pool_state_size(t->p);
	t->st = aligned_alloc(8, (sz + 7) & ~(size_t)7);
	cr_assert_not_null(t->st);
	cr_assert_eq(sl_lb_pool_state_init(t->st, sz, t->p, 0), 0);
	t->n = n;
	t_init_in(t);
}

static inline void t_open(struct t_pool *t, const uint16_t *ratios, uint32_t n, uint8_t alg)
{
	struct sl_lb_server s[T_MAXS];
	for (uint32_t i = 0; i < n; i++)
		s[i] = t_srv(i, ratios[i]);
	t_open_srv(t, s, n, alg, NULL);
}

static inline void t_close(struct t_pool *t)
{
	sl_lb_pool_free(t->p);
	free(t->st);
	t->p = NULL;
	t->st = NULL;
}

/* Deterministic pseudo-random client addresses in 198.18.0.0/15 (network order irrelevant). */
static inline uint32_t t_client_ip(uint32_t k)
{
	uint64_t x = (uint64_t)k * 0x9e3779b97f4a7c15ULL;
	return 0xc6120000u | (uint32_t)((x >> 40) & 0x1ffff);
}

static inline uint32_t t_ratio_sum(const uint16_t *r, uint32_t n)
{
	uint32_t s = 0;
	for (uint32_t i = 0; i < n; i++)
		s += r[i];
	return s;
}

#endif
