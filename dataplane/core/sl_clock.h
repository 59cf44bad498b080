/* TSC cycles to time units without DPDK, so the conversion is unit tested.
 *
 * The obvious cycles * 1000000 / hz overflows 64 bits once cycles pass
 * 2^64 / 10^6 (about 2.4 h at 2.1 GHz): the engine's clock then fell back
 * to near zero and every "now >= deadline" stayed false for hours. A 128-bit
 * product with a multiplier fixed at start-up has no such point below 2^64
 * cycles and costs one multiply instead of a divide, which matters as the
 * clock is read several times per worker loop. */
#ifndef SL_CLOCK_H
#define SL_CLOCK_H

#include <stdint.h>

/* units = cycles * mult / 2^shift, mult = floor(units_per_s * 2^shift / hz) */
struct sl_tsc_scale {
	uint64_t mult;
	unsigned shift;
};

/* The largest shift (at most 64) whose multiplier fits 64 bits: the error
 * is then below cycles / 2^shift units, under one unit for every 64-bit
 * cycle count when units_per_s <= hz (microseconds on any TSC). hz > 0. */
static inline struct sl_tsc_scale sl_tsc_scale_init(uint64_t hz, uint64_t units_per_s)
{
	struct sl_tsc_scale s = { 0, 64 };

	while (s.shift && (((unsigned __int128)units_per_s << s.shift) / hz) >> 64)
		s.shift--;
	s.mult = (uint64_t)(((unsigned __int128)units_per_s << s.shift) / hz);
	return s;
}

/* Monotonic in cycles; never more than the exact floor(cycles * units / hz),
 * at most one unit below it (shift 64). */
static inline uint64_t sl_tsc_to(const struct sl_tsc_scale *s, uint64_t cycles)
{
	return (uint64_t)(((unsigned __int128)cycles * s->mult) >> s->shift);
}

#endif
