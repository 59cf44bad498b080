/* stack_fp.c: the glue between the packet path, the TCP stack and the
 * application layer, per worker. */
#ifndef SL_CORE_STACK_H
#define SL_CORE_STACK_H

#include "engine.h"
#include "sl_net.h"
#include "sl_tcp.h"

struct sl_tcp_engine_stats {
	struct sl_tcp_counters c;
	uint64_t active, time_wait, no_ctx, dns_tcp_queries, dns_tcp_dropped, echo_overflow,
		idle_closed;
	uint64_t proxy_accepted, proxy_connect_fail, proxy_no_server, proxy_bytes_c2s, proxy_bytes_s2c;
	uint64_t mem_per_conn, mem_blocks;
	uint64_t mem_pressure, mem_pressure_events; /* now (workers in it), times entered */
	uint64_t mem_tight, mem_tight_events;       /* the same for the tight level */
	/* the application layer: open contexts, accepts refused for want of a
	 * generation pin, tiny segments coalesced, input blocks in use,
	 * generations pinned now */
	uint64_t app_conns, app_no_pin, app_in_coalesced, app_in_blocks_used, app_pinned_gens;
};
int sl_tcp_worker_init(struct sl_worker *w);
void sl_tcp_rx(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m, struct sl_pkt *p, bool owned);
void sl_tcp_worker_tick(struct sl_worker *w, uint64_t now);
/* around one poll of the ports and hand-off rings: ACKs owed for the
 * received segments go once per connection at the end (sl_tcp_batch_*) */
void sl_tcp_worker_batch(struct sl_worker *w, bool begin);
void sl_tcp_worker_stats(const struct sl_worker *w, struct sl_tcp_engine_stats *out);
unsigned sl_tcp_worker_conns(const struct sl_worker *w, void (*fn)(void *, const char *), void *arg,
			     unsigned max);
/* stats.c: TCP counters by name, summed over workers (worker < 0) or one */
void sl_tcp_stats_visit(const struct sl_engine *e, int worker,
			void (*fn)(void *, const char *, uint64_t), void *arg);
/* The worker's stack, for other consumers on the same worker (health probes). */
struct sl_tcp_stack *sl_tcp_worker_stack(struct sl_worker *w);
/* The worker's application layer (health probes open their TCP and HTTP
 * connections on it), NULL before the worker's stack is set up. */
struct sl_app_worker *sl_tcp_worker_app(struct sl_worker *w);
/* Does any connection of w pin generation gen? (main lcore, after gen's grace period) */
bool sl_tcp_worker_pins(const struct sl_worker *w, const void *gen);

#endif
