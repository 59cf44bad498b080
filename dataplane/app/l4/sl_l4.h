/* sl_l4.h - counters of the L4 TCP proxy (dataplane/app/l4), summed over
 * workers for /api and /metrics (racy snapshots, main lcore). */
#ifndef SL_L4_H
#define SL_L4_H

#include <stdint.h>

/* per VS by VS slot; cur = open proxied connections */
struct sl_proxy_vs_stats {
	uint64_t cur, total, bytes_in, bytes_out, connect_fail, no_server, limit_vs, limit_server,
		idle_closed, drain_reset;
};
/* per server by health slot */
struct sl_proxy_srv_stats {
	uint64_t cur, total, bytes_in, bytes_out, connect_fail, passive_out;
	uint64_t response_fail;      /* HTTP: failed responses (5xx, garbage, reset, timeout) */
	uint32_t out_workers;        /* workers that have it out by passive health now */
	uint32_t connect_us;         /* connect-time EWMA, mean over workers that measured it */
};
/* per worker */
struct sl_proxy_stats {
	uint64_t accepted, connect_fail, no_server, bytes_c2s, bytes_s2c, idle_closed;
};

void sl_proxy_vs_stats(uint32_t vs_slot, struct sl_proxy_vs_stats *out);
void sl_proxy_srv_stats(uint32_t slot, struct sl_proxy_srv_stats *out);
void sl_proxy_worker_stats(unsigned worker, struct sl_proxy_stats *out);

#endif
