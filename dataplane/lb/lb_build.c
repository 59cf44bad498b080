/* Control-time construction of the read-only pick structures (allocates; never on a worker). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_priv.h"

/* Maglev wants the table ~100x the server count for about 1% imbalance. */
static const uint32_t lb_primes[] = { 4093, 16381, 65537, 131071, 262139, 524287, 1048573 };
/* Cap on the work of simulating one smooth-WRR cycle (cycle length x servers). */
#define LB_SEQ_WORK_MAX (1u << 25)

static bool is_prime(uint32_t v)
{
	if (v < 2)
		return false;
	for (uint32_t d = 2; (uint64_t)d * d <= v; d++)
		if (v % d == 0)
			return false;
	return true;
}

static uint32_t gcd32(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static uint64_t srv_key(const struct sl_lb_server *s)
{
	return ((uint64_t)s->ip << 16) | s->port;
}

/* One cycle of nginx's smooth weighted round robin, precomputed so a pick is O(1). */
static int build_seq(struct sl_lb_pool *p)
{
	uint32_t g = 0, n_ok = 0;
	uint64_t len = 0;
	for (uint32_t i = 0; i < p->n; i++)
		if (p->ok[i]) {
			g = gcd32(g, p->srv[i].ratio);
			n_ok++;
		}
	if (!n_ok)
		return 0;
	for (uint32_t i = 0; i < p->n; i++)
		if (p->ok[i])
			len += p->srv[i].ratio / g;
	if (len > SL_LB_WRR_SEQ_MAX || len * n_ok > LB_SEQ_WORK_MAX)
		return 0;       /* picks run the O(n) form instead */
	uint32_t *idx = malloc(n_ok * sizeof(*idx));
	int64_t *cw = calloc(n_ok, sizeof(*cw));
	p->seq = malloc(len * sizeof(*p->seq));
	if (!idx || !cw || !p->seq) {
		free(idx);
		free(cw);
		return -ENOMEM;
	}
	uint32_t k = 0;
	for (uint32_t i = 0; i < p->n; i++)
		if (p->ok[i])
			idx[k++] = i;
	for (uint64_t t = 0; t < len; t++) {
		uint32_t best = 0;
		for (uint32_t j = 0; j < n_ok; j++) {
			cw[j] += p->srv[idx[j]].ratio / g;
			if (cw[j] > cw[best])
				best = j;
		}
		cw[best] -= (int64_t)len;
		p->seq[t] = (uint16_t)idx[best];
	}
	p->seq_len = (uint32_t)len;
	free(idx);
	free(cw);
	return 0;
}

static int build_cum(struct sl_lb_pool *p)
{
	p->cum = malloc((p->n ? p->n : 1) * sizeof(*p->cum));
	if (!p->cum)
		return -ENOMEM;
	uint32_t acc = 0;
	for (uint32_t i = 0; i < p->n; i++) {
		acc += p->ok[i] ? p->srv[i].ratio : 0;
		p->cum[i] = acc;
	}
	p->total = acc;
	return 0;
}

struct keyidx { uint64_t key; uint32_t idx; };

static int cmp_keyidx(const void *a, const void *b)
{
	const struct keyidx *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* prev server index -> new index of the same ip:port (k-th duplicate to k-th), or LB_EMPTY. */
static int map_prev(const struct sl_lb_pool *prev, const struct sl_lb_pool *p, uint16_t *map)
{
	struct keyidx *a = malloc((prev->n + 1) * sizeof(*a)), *b = malloc((p->n + 1) * sizeof(*b));
	if (!a || !b) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < prev->n; i++)
		a[i] = (struct keyidx){ srv_key(&prev->srv[i]), i };
	for (uint32_t i = 0; i < p->n; i++)
		b[i] = (struct keyidx){ srv_key(&p->srv[i]), i };
	qsort(a, prev->n, sizeof(*a), cmp_keyidx);
	qsort(b, p->n, sizeof(*b), cmp_keyidx);
	for (uint32_t i = 0; i < prev->n; i++)
		map[i] = LB_EMPTY;
	for (uint32_t i = 0, j = 0; i < prev->n && j < p->n;) {
		if (a[i].key == b[j].key)
			map[a[i++].idx] = (uint16_t)b[j++].idx;
		else if (a[i].key < b[j].key)
			i++;
		else
			j++;
	}
	free(a);
	free(b);
	return 0;
}

/* Weighted Maglev. Every server with ratio > 0 owns a share of the table proportional to its ratio
 * (disabled ones too: like a down server they are skipped at pick time, so toggling one moves
 * only its own clients). With prev, surviving owners keep their entries up to their share
 * (+1 for rounding), so removing a server reassigns only its entries. */
static int build_table(struct sl_lb_pool *p, uint32_t m, const struct sl_lb_pool *prev)
{
	uint32_t n = p->n;
	uint64_t wsum = 0;
	uint16_t wmax = 0;
	for (uint32_t i = 0; i < n; i++) {
		wsum += p->srv[i].ratio;
		if (p->srv[i].ratio > wmax)
			wmax = p->srv[i].ratio;
	}
	if (!wsum)
		return 0;       /* nobody may take new connections: no table */
	p->table = malloc(m * sizeof(*p->table));
	uint32_t *quota = calloc(n, sizeof(*quota)), *count = calloc(n, sizeof(*count));
	uint32_t *pos = calloc(n, sizeof(*pos)), *skip = calloc(n, sizeof(*skip));
	uint64_t *rem = calloc(n, sizeof(*rem));
	uint32_t *credit = calloc(n, sizeof(*credit));
	uint16_t *map = prev && prev->table && prev->m == m ? malloc(prev->n * sizeof(*map) + 1) : NULL;
	int rc = -ENOMEM;
	if (!p->table || !quota || !count || !pos || !skip || !rem || !credit ||
	    (prev && prev->table && prev->m == m && !map))
		goto out;
	/* shares by largest remainder */
	uint64_t given = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t q = (uint64_t)m * p->srv[i].ratio;
		quota[i] = (uint32_t)(q / wsum);
		rem[i] = q % wsum;
		given += quota[i];
	}
	while (given < m) {
		uint32_t best = UINT32_MAX;
		for (uint32_t i = 0; i < n; i++)
			if (p->srv[i].ratio && (best == UINT32_MAX || rem[i] > rem[best]))
				best = i;
		quota[best]++;
		rem[best] = 0;
		given++;
	}
	for (uint32_t j = 0; j < m; j++)
		p->table[j] = LB_EMPTY;
	uint32_t free_slots = m;
	if (map) {
		if ((rc = map_prev(prev, p, map)))
			goto out;
		for (uint32_t j = 0; j < m; j++) {
			uint16_t o = map[prev->table[j]];
			if (o != LB_EMPTY && quota[o] && count[o] < quota[o] + 1) {
				p->table[j] = o;
				count[o]++;
				free_slots--;
			}
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		/* permutation from the server's identity, so it does not depend on its position */
		uint64_t h = lb_mix64(srv_key(&p->srv[i]) ^ 0x6d61676c65763031ULL);
		pos[i] = (uint32_t)(h % m);
		skip[i] = (uint32_t)((h >> 32) % (m - 1)) + 1;
	}
	/* Turns proportional to ratio interleave the owners along the permutations. */
	while (free_slots) {
		for (uint32_t i = 0; i < n && free_slots; i++) {
			if (count[i] >= quota[i])
				continue;
			credit[i] += p->srv[i].ratio;
			while (credit[i] >= wmax && count[i] < quota[i] && free_slots) {
				credit[i] -= wmax;
				while (p->table[pos[i]] != LB_EMPTY) {
					pos[i] += skip[i];
					if (pos[i] >= m)
						pos[i] -= m;
				}
				p->table[pos[i]] = (uint16_t)i;
				count[i]++;
				free_slots--;
			}
		}
	}
	p->m = m;
	rc = 0;
out:
	free(quota);
	free(count);
	free(pos);
	free(skip);
	free(rem);
	free(credit);
	free(map);
	return rc;
}

int sl_lb_pool_build(struct sl_lb_pool **out, const struct sl_lb_server *srv, uint32_t n,
		     const struct sl_lb_opts *o, const struct sl_lb_pool *prev)
{
	if (!out || !o || (n && !srv) || n > SL_LB_MAX_SERVERS - 1 || o->alg > SL_LB_ALG_CORE_AFFINITY)
		return -EINVAL;
	if (o->alg == SL_LB_ALG_CORE_AFFINITY)
		return -ENOTSUP;
	uint32_t m = o->table_size;
	if (o->alg == SL_LB_ALG_CONSISTENT_HASH) {
		if (m && (!is_prime(m) || m <= n || m > (1u << 24)))
			return -EINVAL;
		if (!m) {
			size_t k = 0;
			while (k + 1 < sizeof(lb_primes) / sizeof(lb_primes[0]) && lb_primes[k] < 100ull * n)
				k++;
			m = lb_primes[k];
		}
	}
	struct sl_lb_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->n = n;
	p->alg = o->alg;
	p->half_life_ms = o->rt_half_life_ms ? o->rt_half_life_ms : 10000;
	p->explore_every = o->explore_every ? o->explore_every : 32;
	p->srv = malloc((n ? n : 1) * sizeof(*p->srv));
	p->ok = malloc(n ? n : 1);
	int rc = -ENOMEM;
	if (!p->srv || !p->ok)
		goto fail;
	if (n)
		memcpy(p->srv, srv, n * sizeof(*srv));
	for (uint32_t i = 0; i < n; i++)
		p->ok[i] = srv[i].enabled && srv[i].ratio;
	if ((rc = build_cum(p)))
		goto fail;
	if ((o->alg == SL_LB_ALG_ROUND_ROBIN || o->alg == SL_LB_ALG_RANDOM) && (rc = build_seq(p)))
		goto fail;
	if (o->alg == SL_LB_ALG_CONSISTENT_HASH && (rc = build_table(p, m, prev)))
		goto fail;
	*out = p;
	return 0;
fail:
	sl_lb_pool_free(p);
	return rc;
}

void sl_lb_pool_free(struct sl_lb_pool *p)
{
	if (!p)
		return;
	free(p->srv);
	free(p->ok);
	free(p->seq);
	free(p->cum);
	free(p->table);
	free(p);
}

uint32_t sl_lb_pool_servers(const struct sl_lb_pool *p)
{
	return p->n;
}

uint32_t sl_lb_pool_table_size(const struct sl_lb_pool *p)
{
	return p->m;
}

size_t sl_lb_pool_state_size(const struct sl_lb_pool *p)
{
	return sizeof(struct sl_lb_pool_state) + (size_t)p->n * sizeof(int64_t);
}

int sl_lb_pool_state_init(struct sl_lb_pool_state *st, size_t size, const struct sl_lb_pool *p, uint64_t seed)
{
	if (!st || !p || size < sl_lb_pool_state_size(p) || ((uintptr_t)st & 7))
		return -EINVAL;
	memset(st, 0, sl_lb_pool_state_size(p));
	st->n = p->n;
	st->seq_len = p->seq_len;
	st->rng = lb_mix64(seed + 0x9e3779b97f4a7c15ULL) | 1;
	/* workers start at different points of the cycle */
	st->cursor = p->seq_len ? lb_reduce((uint32_t)(lb_mix64(seed) >> 32), p->seq_len) : 0;
	return 0;
}

/* ---- pool groups ---- */

int sl_lb_pg_build(struct sl_lb_pg **out, const struct sl_lb_pg_member *m, uint32_t n)
{
	if (!out || (n && !m) || n > SL_LB_PG_MAX_MEMBERS)
		return -EINVAL;
	struct sl_lb_pg *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->m = malloc((n ? n : 1) * sizeof(*g->m));
	g->lv = malloc((n ? n : 1) * sizeof(*g->lv));
	if (!g->m || !g->lv) {
		sl_lb_pg_free(g);
		return -ENOMEM;
	}
	g->n = n;
	/* stable insertion sort, highest priority first (n <= 1024, control time) */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t j = i;
		while (j > 0 && g->m[j - 1].priority < m[i].priority) {
			g->m[j] = g->m[j - 1];
			j--;
		}
		g->m[j] = m[i];
	}
	for (uint32_t i = 0; i < n; i++) {
		if (!g->n_levels || g->lv[g->n_levels - 1].prio != g->m[i].priority)
			g->lv[g->n_levels++] = (struct sl_lb_pg_level){ i, 0, g->m[i].priority };
		g->lv[g->n_levels - 1].count++;
	}
	*out = g;
	return 0;
}

void sl_lb_pg_free(struct sl_lb_pg *g)
{
	if (!g)
		return;
	free(g->m);
	free(g->lv);
	free(g);
}

size_t sl_lb_pg_state_size(const struct sl_lb_pg *g)
{
	return sizeof(struct sl_lb_pg_state) + (size_t)g->n * sizeof(int64_t);
}

int sl_lb_pg_state_init(struct sl_lb_pg_state *st, size_t size, const struct sl_lb_pg *g)
{
	if (!st || !g || size < sl_lb_pg_state_size(g) || ((uintptr_t)st & 7))
		return -EINVAL;
	memset(st, 0, sl_lb_pg_state_size(g));
	st->n = g->n;
	return 0;
}
