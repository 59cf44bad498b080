/* Software-RSS flow hash: symmetric, well spread, and pick_port finds a
 * source port whose return traffic lands on the opening worker. */
#include <criterion/criterion.h>
#include <errno.h>

#include "frames.h"

static void rand_tuple(uint64_t *s, uint32_t *a, uint32_t *b, uint16_t *pa, uint16_t *pb)
{
	/* Addresses inside 198.18.0.0/15, as the test bed uses. */
	*a = sl_htonl(0xc6120000u | (uint32_t)(tf_rand(s) & 0x1ffff));
	*b = sl_htonl(0xc6120000u | (uint32_t)(tf_rand(s) & 0x1ffff));
	*pa = (uint16_t)tf_rand(s);
	*pb = (uint16_t)tf_rand(s);
}

Test(net_flow, symmetric)
{
	uint64_t s = 42;

	for (int i = 0; i < 100000; i++) {
		uint32_t a, b;
		uint16_t pa, pb;
		uint8_t proto = (i & 1) ? 6 : 17;

		rand_tuple(&s, &a, &b, &pa, &pb);
		cr_assert_eq(sl_flow_hash(a, b, pa, pb, proto), sl_flow_hash(b, a, pb, pa, proto), "tuple %d", i);
	}
}

Test(net_flow, distinguishes_fields)
{
	uint32_t a = IP4(198, 18, 0, 2), b = IP4(198, 18, 0, 10);
	uint32_t h = sl_flow_hash(a, b, sl_htons(40000), sl_htons(80), 6);

	cr_expect_neq(h, sl_flow_hash(a, b, sl_htons(40000), sl_htons(80), 17), "proto matters");
	cr_expect_neq(h, sl_flow_hash(a, b, sl_htons(40001), sl_htons(80), 6), "port matters");
	cr_expect_neq(h, sl_flow_hash(a, b, sl_htons(80), sl_htons(40000), 6), "port pairing matters");
	cr_expect_neq(h, sl_flow_hash(a, IP4(198, 18, 0, 11), sl_htons(40000), sl_htons(80), 6), "ip matters");
}

/* Uniformity over realistic, highly regular tuples: one client, sequential
 * source ports, a handful of VIPs. Each of n workers must get its share
 * within 5%, and the full 32-bit hash must use its high bits. */
Test(net_flow, uniform_sequential_ports)
{
	for (unsigned n = 2; n <= 8; n++) {
		unsigned cnt[8] = { 0 };
		unsigned total = 0;

		for (uint32_t vip = 10; vip < 14; vip++) {
			for (uint32_t port = 1024; port < 1024 + 16384; port++) {
				uint32_t h = sl_flow_hash(IP4(198, 18, 0, 2), IP4(198, 18, 0, vip), sl_htons((uint16_t)port),
							  sl_htons(443), 6);
				cnt[sl_flow_owner(h, n)]++;
				total++;
			}
		}
		for (unsigned w = 0; w < n; w++) {
			double share = (double)cnt[w] / total * n;
			cr_expect(share > 0.95 && share < 1.05, "n=%u worker %u share %.3f", n, w, share);
		}
	}
}

Test(net_flow, uniform_random_chi2)
{
	enum { B = 64, N = 64 * 4096 };
	unsigned cnt[B] = { 0 };
	uint64_t s = 7;
	double chi = 0, e = (double)N / B;

	for (int i = 0; i < N; i++) {
		uint32_t a, b;
		uint16_t pa, pb;
		rand_tuple(&s, &a, &b, &pa, &pb);
		cnt[sl_flow_owner(sl_flow_hash(a, b, pa, pb, 17), B)]++;
	}
	for (int k = 0; k < B; k++)
		chi += (cnt[k] - e) * (cnt[k] - e) / e;
	/* 63 degrees of freedom: p = 0.001 critical value is about 103. */
	cr_expect_lt(chi, 103.0, "chi2 %.1f", chi);
}

/* Low bits too: a bucket of the low byte, as a table index would use. */
Test(net_flow, low_bits_spread)
{
	unsigned cnt[256] = { 0 };

	for (uint32_t port = 0; port < 65536; port++)
		cnt[sl_flow_hash(IP4(198, 18, 0, 2), IP4(198, 18, 0, 10), sl_htons((uint16_t)port), sl_htons(53), 17) &
		    0xff]++;
	for (int k = 0; k < 256; k++)
		cr_expect(cnt[k] > 256 * 0.7 && cnt[k] < 256 * 1.3, "bucket %d has %u", k, cnt[k]);
}

Test(net_flow, owner_range)
{
	cr_expect_eq(sl_flow_owner(0, 4), 0);
	cr_expect_eq(sl_flow_owner(0xffffffffu, 4), 3);
	cr_expect_eq(sl_flow_owner(0x80000000u, 2), 1);
	cr_expect_eq(sl_flow_owner(0x7fffffffu, 2), 0);
	cr_expect_eq(sl_flow_owner(0xffffffffu, 1), 0);
}

Test(net_flow, pick_port_maps_to_worker)
{
	uint32_t local = IP4(198, 18, 1, 1);
	uint64_t s = 99;

	for (unsigned n = 1; n <= 8; n++) {
		for (unsigned w = 0; w < n; w++) {
			for (int k = 0; k < 50; k++) {
				uint32_t remote = sl_htonl(0xc6120100u | (uint32_t)(2 + tf_rand(&s) % 8));
				uint16_t rport = sl_htons((uint16_t)(1 + tf_rand(&s) % 65535));
				uint16_t start = (uint16_t)(1024 + tf_rand(&s) % 64512), port = 0;
				uint8_t proto = (k & 1) ? 17 : 6;

				cr_assert_eq(sl_flow_pick_port(local, remote, rport, proto, w, n, start, &port), 0);
				cr_assert_geq(port, SL_FLOW_PORT_MIN);
				/* The return tuple, oriented as the worker will see it on rx. */
				uint32_t h = sl_flow_hash(remote, local, rport, sl_htons(port), proto);
				cr_assert_eq(sl_flow_owner(h, n), w, "n=%u w=%u port %u", n, w, port);
				/* And it is the first such port from start on. */
				for (uint32_t q = start; q != port; q = q == 65535 ? 1024 : q + 1) {
					uint32_t hq = sl_flow_hash(remote, local, rport, sl_htons((uint16_t)q), proto);
					cr_assert_neq(sl_flow_owner(hq, n), w, "skipped port %u", q);
				}
			}
		}
	}
}

Test(net_flow, pick_port_start_and_wrap)
{
	uint32_t local = IP4(198, 18, 1, 1), remote = IP4(198, 18, 1, 2);
	uint16_t port = 0;

	cr_expect_eq(sl_flow_pick_port(local, remote, sl_htons(80), 6, 0, 1, 5000, &port), 0);
	cr_expect_eq(port, 5000, "single worker takes start");
	cr_expect_eq(sl_flow_pick_port(local, remote, sl_htons(80), 6, 0, 1, 80, &port), 0);
	cr_expect_eq(port, SL_FLOW_PORT_MIN, "start below the range begins at its floor");

	/* From 65535 the search wraps to the range floor, never to 0. */
	unsigned found_wrapped = 0;
	for (unsigned w = 0; w < 8; w++) {
		cr_assert_eq(sl_flow_pick_port(local, remote, sl_htons(80), 6, w, 8, 65535, &port), 0);
		cr_expect(port == 65535 || (port >= SL_FLOW_PORT_MIN && port < 2000), "w %u port %u", w, port);
		found_wrapped += port != 65535;
	}
	cr_expect_geq(found_wrapped, 1);
}

Test(net_flow, pick_port_invalid)
{
	uint16_t port = 1;

	cr_expect_eq(sl_flow_pick_port(1, 2, 3, 6, 0, 0, 1024, &port), -EINVAL);
	cr_expect_eq(sl_flow_pick_port(1, 2, 3, 6, 4, 4, 1024, &port), -EINVAL);
	cr_expect_eq(port, 1, "output untouched on error");
}
