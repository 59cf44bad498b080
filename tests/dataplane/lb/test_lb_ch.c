/* Consistent hash (weighted Maglev): stickiness, minimal movement on removal / down. */
#include "lb_test.h"

#define CLIENTS 20000

static void assign(struct t_pool *t, int *out, uint8_t kind)
{
	for (uint32_t k = 0; k < CLIENTS; k++) {
		t->in.hash = sl_lb_client_hash(t_client_ip(k), (uint16_t)(1024 + k), kind);
		out[k] = sl_lb_pick(t->p, t->st, &t->in);
		cr_assert_geq(out[k], 0);
	}
}

static int before[CLIENTS], after[CLIENTS];

Test(lb_ch, same_client_same_server)
{
	uint16_t r[5] = { 1, 2, 1, 3, 1 };
	struct t_pool t;
	t_open(&t, r, 5, SL_LB_ALG_CONSISTENT_HASH);
	assign(&t, before, 0);
	for (int round = 0; round < 3; round++) {
		assign(&t, after, 0);
		cr_assert_arr_eq(before, after, sizeof(before));
	}
	/* another worker's state, same table: same answers */
	struct sl_lb_pool_state *st2 = aligned_alloc(8, (sl_lb_pool_state_size(t.p) + 7) & ~(size_t)7);
	cr_assert_eq(sl_lb_pool_state_init(st2, sl_lb_pool_state_size(t.p), t.p, 99), 0);
	struct sl_lb_pool_state *keep = t.st;
	t.st = st2;
	assign(&t, after, 0);
	cr_assert_arr_eq(before, after, sizeof(before));
	t.st = keep;
	free(st2);
	t_close(&t);
}

/* SOURCE_IP ignores the port, SOURCE_IP_AND_PORT does not. */
Test(lb_ch, hash_kinds)
{
	cr_assert_eq(sl_lb_client_hash(0xc6120002u, 1000, 0), sl_lb_client_hash(0xc6120002u, 2000, 0));
	cr_assert_neq(sl_lb_client_hash(0xc6120002u, 1000, 1), sl_lb_client_hash(0xc6120002u, 2000, 1));
	cr_assert_neq(sl_lb_client_hash(0xc6120002u, 0, 0), sl_lb_client_hash(0xc6120003u, 0, 0));
	cr_assert_neq(sl_lb_hash_bytes("/a", 2), sl_lb_hash_bytes("/b", 2));
	cr_assert_eq(sl_lb_hash_bytes("/a", 2), sl_lb_hash_bytes("/a", 2));
}

static const uint32_t sizes[] = { 3, 5, 10, 20, 50 };

/* Marking a server down moves exactly its clients (all of them), spread over the others. */
Test(lb_ch, down_moves_only_its_clients)
{
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		uint32_t n = sizes[z];
		uint16_t r[T_MAXS];
		for (uint32_t i = 0; i < n; i++)
			r[i] = 1;
		struct t_pool t;
		t_open(&t, r, n, SL_LB_ALG_CONSISTENT_HASH);
		assign(&t, before, 1);
		uint32_t victim = n / 2;
		t.up[victim] = 0;
		assign(&t, after, 1);
		uint32_t moved = 0, spread[T_MAXS] = { 0 };
		for (uint32_t k = 0; k < CLIENTS; k++) {
			if (before[k] == (int)victim) {
				cr_assert_neq(after[k], (int)victim);
				spread[after[k]]++;
				moved++;
			} else {
				cr_assert_eq(after[k], before[k], "n=%u client %u moved %d->%d", n, k, before[k],
					     after[k]);
			}
		}
		double frac = (double)moved / CLIENTS, want = 1.0 / n;
		cr_assert(fabs(frac - want) <= 0.25 * want + 0.005, "n=%u moved %.4f want %.4f", n, frac, want);
		/* the orphans do not all land on one neighbour */
		uint32_t most = 0;
		for (uint32_t i = 0; i < n; i++)
			most = spread[i] > most ? spread[i] : most;
		if (n >= 5)
			cr_assert_lt(most, moved / 2, "n=%u: %u of %u orphans on one server", n, most, moved);
		/* back up: everybody back where they were */
		t.up[victim] = 1;
		assign(&t, after, 1);
		cr_assert_arr_eq(before, after, sizeof(before));
		t_close(&t);
	}
}

/* Removing a server from the configuration (rebuild with prev) moves about 1/N of clients,
 * and nobody who was on a surviving server. Also without prev the move stays small. */
Test(lb_ch, removal_moves_one_nth)
{
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		uint32_t n = sizes[z];
		struct sl_lb_server s[T_MAXS], s2[T_MAXS];
		for (uint32_t i = 0; i < n; i++)
			s[i] = t_srv(i, (uint16_t)(1 + i % 3));
		struct t_pool t, t2, t3;
		t_open_srv(&t, s, n, SL_LB_ALG_CONSISTENT_HASH, NULL);
		assign(&t, before, 1);
		uint32_t victim = n / 3, wsum = 0;
		for (uint32_t i = 0, j = 0; i < n; i++) {
			wsum += s[i].ratio;
			if (i != victim)
				s2[j++] = s[i];
		}
		t_open_srv(&t2, s2, n - 1, SL_LB_ALG_CONSISTENT_HASH, t.p);
		assign(&t2, after, 1);
		uint32_t moved = 0;
		for (uint32_t k = 0; k < CLIENTS; k++) {
			/* indexes shift down past the victim */
			int was = before[k];
			if (was == (int)victim) {
				moved++;
				continue;
			}
			int now_idx = was > (int)victim ? was - 1 : was;
			cr_assert_eq(after[k], now_idx, "n=%u client %u moved %d->%d", n, k, was, after[k]);
		}
		double frac = (double)moved / CLIENTS, want = (double)s[victim].ratio / wsum;
		cr_assert(fabs(frac - want) <= 0.25 * want + 0.005, "n=%u moved %.4f want %.4f", n, frac, want);
		/* fresh build (restart, no prev): plain Maglev moves a little more, but not much */
		t_open_srv(&t3, s2, n - 1, SL_LB_ALG_CONSISTENT_HASH, NULL);
		assign(&t3, after, 1);
		uint32_t moved3 = 0;
		for (uint32_t k = 0; k < CLIENTS; k++) {
			int was = before[k], now_idx = was > (int)victim ? was - 1 : was;
			moved3 += was == (int)victim || after[k] != now_idx;
		}
		cr_assert_leq((double)moved3 / CLIENTS, want + 0.10, "n=%u fresh build moved %u", n, moved3);
		t_close(&t3);
		t_close(&t2);
		t_close(&t);
	}
}

/* Adding a server with prev takes about its share, only onto itself. */
Test(lb_ch, addition_moves_only_to_new_server)
{
	uint32_t n = 9;
	struct sl_lb_server s[T_MAXS];
	for (uint32_t i = 0; i < n + 1; i++)
		s[i] = t_srv(i, 1);
	struct t_pool t, t2;
	t_open_srv(&t, s, n, SL_LB_ALG_CONSISTENT_HASH, NULL);
	assign(&t, before, 0);
	t_open_srv(&t2, s, n + 1, SL_LB_ALG_CONSISTENT_HASH, t.p);
	assign(&t2, after, 0);
	uint32_t moved = 0;
	for (uint32_t k = 0; k < CLIENTS; k++)
		if (after[k] != before[k]) {
			cr_assert_eq(after[k], (int)n);
			moved++;
		}
	cr_assert(fabs((double)moved / CLIENTS - 0.1) <= 0.03, "moved %u", moved);
	t_close(&t2);
	t_close(&t);
}

/* Table sizes are primes and grow with the pool. */
Test(lb_ch, table_size)
{
	static struct sl_lb_server s[1000];
	for (uint32_t i = 0; i < 1000; i++)
		s[i] = t_srv(i, 1);
	uint32_t ns[] = { 1, 40, 100, 656, 1000 }, want[] = { 4093, 4093, 16381, 131071, 131071 };
	for (size_t k = 0; k < 5; k++) {
		struct sl_lb_pool *p;
		struct sl_lb_opts o = { .alg = SL_LB_ALG_CONSISTENT_HASH };
		cr_assert_eq(sl_lb_pool_build(&p, s, ns[k], &o, NULL), 0);
		cr_assert_eq(sl_lb_pool_table_size(p), want[k], "n=%u: %u", ns[k], sl_lb_pool_table_size(p));
		sl_lb_pool_free(p);
	}
}

/* Weights hold over many clients: 3:2:1 within half a point over 200,000
 * source ip:port hashes (the table itself is split by ratio to within an
 * entry; what is left is the hash's spread). */
Test(lb_ch, weighted_shares)
{
	uint16_t r[3] = { 3, 2, 1 };
	const double want[3] = { 50.0, 100.0 / 3, 100.0 / 6 };
	unsigned got[3] = { 0 };
	struct t_pool t;
	const uint32_t n = 200000;

	t_open(&t, r, 3, SL_LB_ALG_CONSISTENT_HASH);
	for (uint32_t k = 0; k < n; k++) {
		t.in.hash = sl_lb_client_hash(t_client_ip(k % 251), (uint16_t)(1024 + k / 251), 1);
		int s = sl_lb_pick(t.p, t.st, &t.in);
		cr_assert(s >= 0 && s < 3);
		got[s]++;
	}
	for (int i = 0; i < 3; i++)
		cr_expect(fabs(100.0 * got[i] / n - want[i]) < 0.5, "server %d: %.2f%% (want %.2f%%)", i,
			  100.0 * got[i] / n, want[i]);
	t_close(&t);
}
