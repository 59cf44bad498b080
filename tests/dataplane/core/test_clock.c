/* TSC to time conversion (dataplane/core/sl_clock.h): exact to one unit
 * over the whole 64-bit cycle range, in particular at and past 2^64 / 10^6
 * cycles, where cycles * 10^6 / hz overflowed and the engine's clock fell
 * back to near zero (about 2.4 h after start at 2.1 GHz). */
#include <criterion/criterion.h>

#include "sl_clock.h"

#define OLD_WRAP 18446744073709ull /* floor(2^64 / 10^6): the first cycle count past it overflowed */

static const uint64_t hzs[] = { 2100000000ull, 2095999000ull, 3000000000ull, 1000000000ull,
				4294967296ull, 25000000ull, 1000001ull, 5700000000ull };

static uint64_t exact(uint64_t cycles, uint64_t hz, uint64_t units)
{
	return (uint64_t)((unsigned __int128)cycles * units / hz);
}

/* never above the exact floor, at most one unit below it */
static void assert_close(uint64_t cycles, uint64_t hz, uint64_t units)
{
	struct sl_tsc_scale s = sl_tsc_scale_init(hz, units);
	uint64_t got = sl_tsc_to(&s, cycles), want = exact(cycles, hz, units);

	cr_assert(got <= want && want - got <= 1, "hz %lu, %lu cycles: %lu, want %lu", (unsigned long)hz,
		  (unsigned long)cycles, (unsigned long)got, (unsigned long)want);
}

Test(clock, us_at_and_past_the_old_overflow_point)
{
	for (unsigned h = 0; h < sizeof(hzs) / sizeof(hzs[0]); h++)
		for (int64_t d = -3; d <= 3; d++) {
			assert_close(OLD_WRAP + (uint64_t)d, hzs[h], 1000000);
			assert_close(OLD_WRAP * 2 + (uint64_t)d, hzs[h], 1000000);
			assert_close(OLD_WRAP + hzs[h] * 25 + (uint64_t)d, hzs[h], 1000000);
		}
}

Test(clock, us_whole_range)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (unsigned h = 0; h < sizeof(hzs) / sizeof(hzs[0]); h++) {
		assert_close(0, hzs[h], 1000000);
		assert_close(1, hzs[h], 1000000);
		assert_close(hzs[h] - 1, hzs[h], 1000000);
		assert_close(hzs[h], hzs[h], 1000000);
		assert_close(UINT64_MAX, hzs[h], 1000000);
		for (int i = 0; i < 100000; i++) {
			x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
			assert_close(x >> (i % 64), hzs[h], 1000000);
		}
	}
}

/* What the worker loop does: a deadline 1 ms ahead, set just before the
 * point, is reached just after it (the timer that stopped for hours). */
Test(clock, deadline_across_the_old_overflow_point)
{
	const uint64_t hz = 2100000000ull;
	struct sl_tsc_scale s = sl_tsc_scale_init(hz, 1000000);
	uint64_t before = sl_tsc_to(&s, OLD_WRAP - hz / 2000), next_timer = before + 1000;
	uint64_t after = sl_tsc_to(&s, OLD_WRAP + hz / 2000);

	cr_assert_geq(after, next_timer, "now %lu, deadline %lu", (unsigned long)after, (unsigned long)next_timer);
	cr_assert_leq(after - before, 1001);
}

Test(clock, monotonic_across_the_old_overflow_point)
{
	for (unsigned h = 0; h < sizeof(hzs) / sizeof(hzs[0]); h++) {
		struct sl_tsc_scale s = sl_tsc_scale_init(hzs[h], 1000000);
		uint64_t step = hzs[h] / 997 + 1, last = sl_tsc_to(&s, OLD_WRAP - 1000 * step);

		for (uint64_t c = OLD_WRAP - 1000 * step; c < OLD_WRAP + 1000 * step; c += step) {
			uint64_t us = sl_tsc_to(&s, c);

			cr_assert_geq(us, last, "hz %lu: %lu us after %lu", (unsigned long)hzs[h], (unsigned long)us,
				      (unsigned long)last);
			last = us;
		}
	}
}

/* Nanoseconds (query-log latency): 10^9 / hz is above 1 below 1 GHz, so the
 * shift drops below 64; still within cycles / 2^shift + 1 of exact. */
Test(clock, ns)
{
	for (unsigned h = 0; h < sizeof(hzs) / sizeof(hzs[0]); h++) {
		struct sl_tsc_scale s = sl_tsc_scale_init(hzs[h], 1000000000);
		const uint64_t cs[] = { 0, 1, 2100, hzs[h], OLD_WRAP / 1000 + 1, OLD_WRAP, UINT64_MAX / 1000 };

		for (unsigned i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
			uint64_t got = sl_tsc_to(&s, cs[i]), want = exact(cs[i], hzs[h], 1000000000);
			uint64_t tol = (s.shift < 64 ? cs[i] >> s.shift : 0) + 1;

			if ((unsigned __int128)cs[i] * 1000000000 / hzs[h] >> 64)
				continue; /* more nanoseconds than 64 bits hold */
			cr_assert(got <= want && want - got <= tol, "hz %lu, %lu cycles: %lu ns, want %lu",
				  (unsigned long)hzs[h], (unsigned long)cs[i], (unsigned long)got, (unsigned long)want);
		}
	}
}
