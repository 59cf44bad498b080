/* Micro-benchmark of sl_lb_pick on one core (not a test):
 *   lb_pick_bench [picks]
 * ns per pick for each algorithm with 10 / 100 / 1000 servers (ratios 1..4), all up and with
 * every 10th server down. Each pick opens a connection on the chosen server and closes one
 * elsewhere, so the load-aware algorithms see changing counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_lb.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define NHASH 4096

int main(int argc, char **argv)
{
	long picks = argc > 1 ? atol(argv[1]) : 2000000;
	static const struct { uint8_t alg; const char *name; } algs[] = {
		{ SL_LB_ALG_ROUND_ROBIN, "round_robin" }, { SL_LB_ALG_LEAST_CONNECTIONS, "least_connections" },
		{ SL_LB_ALG_CONSISTENT_HASH, "consistent_hash" }, { SL_LB_ALG_RANDOM, "random_two_choices" },
		{ SL_LB_ALG_FASTEST_RESPONSE, "fastest_response" },
	};
	static const uint32_t sizes[] = { 10, 100, 1000 };
	static uint64_t hashes[NHASH];
	for (uint32_t k = 0; k < NHASH; k++)
		hashes[k] = sl_lb_client_hash(0xc6120000u | (k * 2654435761u & 0x1ffff), (uint16_t)(1024 + k), 1);
	printf("%-20s %8s %12s %14s %10s\n", "algorithm", "servers", "ns/pick", "ns/pick(10%dn)", "build ms");
	volatile long sink = 0;
	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++)
		for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			uint32_t n = sizes[z];
			struct sl_lb_server *s = calloc(n, sizeof(*s));
			uint8_t *up = malloc(n);
			uint32_t *conns = calloc(n, sizeof(*conns));
			struct sl_lb_rt *rt = calloc(n, sizeof(*rt));
			for (uint32_t i = 0; i < n; i++) {
				s[i] = (struct sl_lb_server){ 0xc6120102u + i, 80, (uint16_t)(1 + i % 4), true };
				rt[i] = (struct sl_lb_rt){ 100 + (i * 37) % 900, 0 };
			}
			struct sl_lb_pool *p;
			struct sl_lb_opts o = { .alg = algs[a].alg };
			double t0 = now_ns();
			if (sl_lb_pool_build(&p, s, n, &o, NULL)) {
				fprintf(stderr, "build failed\n");
				return 1;
			}
			double build_ms = (now_ns() - t0) / 1e6;
			size_t sz = sl_lb_pool_state_size(p);
			struct sl_lb_pool_state *st = aligned_alloc(8, (sz + 7) & ~(size_t)7);
			sl_lb_pool_state_init(st, sz, p, 1);
			double res[2];
			for (int down = 0; down < 2; down++) {
				memset(up, 1, n);
				memset(conns, 0, n * sizeof(*conns));
				if (down)
					for (uint32_t i = 0; i < n; i += 10)
						up[i] = 0;
				struct sl_lb_in in = { .up = up, .conns = conns, .rt = rt };
				long iters = picks;
				if (n >= 1000 && (algs[a].alg == SL_LB_ALG_LEAST_CONNECTIONS ||
						  algs[a].alg == SL_LB_ALG_FASTEST_RESPONSE))
					iters = picks / 10;     /* O(n) scans: fewer picks, same accuracy */
				t0 = now_ns();
				for (long k = 0; k < iters; k++) {
					in.hash = hashes[k & (NHASH - 1)];
					in.now_ms = (uint32_t)(k >> 10);
					int r = sl_lb_pick(p, st, &in);
					if (r >= 0) {
						conns[r]++;
						uint32_t c = (uint32_t)((uint64_t)k * 2654435761u % n);
						if (conns[c])
							conns[c]--;
					}
					sink += r;
				}
				res[down] = (now_ns() - t0) / (double)iters;
			}
			printf("%-20s %8u %12.1f %14.1f %10.2f\n", algs[a].name, n, res[0], res[1], build_ms);
			free(st);
			sl_lb_pool_free(p);
			free(s);
			free(up);
			free(conns);
			free(rt);
		}
	return sink == 42 ? 2 : 0;
}
