/* Micro-benchmark of sl_dns_answer on one core (not a test):
 *   dns_answer_bench [iterations]
 * Mix: static A hit (rotation), CNAME chase, NXDOMAIN, GSLB smooth WRR, EDNS. */
#include <time.h>

#include "dns_test.h"

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 10000000;
	int rc;
	struct sl_dns_cerr e;
	struct sl_dns_db *db = t_compile_str(T_VS, T_PROFILE, T_GSLB, 1, &e, &rc);
	if (rc) {
		fprintf(stderr, "compile: %s: %s\n", e.path, e.detail);
		return 1;
	}
	static const struct { const char *name; uint16_t qt; int edns; } mix[] = {
		{ "www.example.com", T_A, -1 }, { "one.example.com", T_A, 1232 },
		{ "alias.example.com", T_A, -1 }, { "nothere.example.com", T_A, 1232 },
		{ "gs.example.com", T_A, -1 }, { "one.example.com", T_AAAA, -1 },
		{ "x.wild.example.com", T_A, 1232 }, { "gs.example.com", T_A, 1232 },
	};
	enum { NMIX = sizeof(mix) / sizeof(mix[0]) };
	uint8_t q[NMIX][512];
	size_t ql[NMIX];
	for (int i = 0; i < NMIX; i++)
		ql[i] = tq_build(q[i], mix[i].name, mix[i].qt, mix[i].edns, (uint16_t)i);
	uint8_t r[1500];
	struct sl_dns_qlog log;
	size_t bytes = 0;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < iters; i++) {
		int k = (int)(i & (NMIX - 1));
		bytes += sl_dns_answer(db, 0, q[k], ql[k], r, sizeof(r), (uint32_t)i, false, &log);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("dns_answer_bench: %ld answers in %.3f s = %.2f M answers/s (%.0f ns each, %.1f bytes avg)\n",
	       iters, s, (double)iters / s / 1e6, s * 1e9 / (double)iters, (double)bytes / (double)iters);
	sl_dns_db_free(db);
	return 0;
}
