/* sl_h2_stats.h - counters of HTTP/2 to clients (dataplane/app/h2), per
 * worker, summed for /api and /metrics (racy snapshots, main lcore). */
#ifndef SL_H2_STATS_H
#define SL_H2_STATS_H

#include <stdint.h>

/* All uint64_t: summed word by word. */
struct sl_h2_stats {
	uint64_t conns, conns_tls, streams, streams_refused;
	uint64_t stream_errors;        /* malformed requests and protocol errors on a stream: RST_STREAM */
	uint64_t client_resets;        /* RST_STREAM from clients */
	uint64_t goaway_sent;          /* connections ended with GOAWAY (shutdown, errors, floods) */
	uint64_t bad_preface, protocol_errors;
	uint64_t flood_ctrl;           /* SETTINGS/PING/PRIORITY/WINDOW_UPDATE/empty DATA flood: GOAWAY */
	uint64_t flood_reset;          /* rapid reset (CVE-2023-44487): GOAWAY */
	uint64_t flood_continuation;   /* CONTINUATION flood (CVE-2024-28182): GOAWAY */
	uint64_t header_list_too_large;/* decoded header lists over the limit (HPACK bombs): RST_STREAM */
	uint64_t no_memory;            /* a session reached its memory bound: GOAWAY */
	uint64_t idle_closed;
	uint64_t stalled;
	uint64_t drained;              /* sessions told GOAWAY because their VS left the configuration */              /* streams open and no frame either way for 75 s: reset */
	uint64_t mem_bytes;            /* nghttp2 memory in use (gauge) */
};

void sl_h2_stats(struct sl_h2_stats *out);
/* The sums as (name, value) pairs, in the struct's order. */
void sl_h2_stats_visit(void (*fn)(void *arg, const char *name, uint64_t v), void *arg);

#endif
