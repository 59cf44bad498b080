/* Private to dataplane/app: what the applications that open server
 * connections (the L4 proxy, HTTP) share: server selection from a pinned
 * generation (dataplane/lb), connection limits and least-connection counts
 * engine-wide, passive health engine-wide, and per-worker, per-server
 * counters and connect-time EWMAs kept across generations by the server's
 * stable health slot. */
#ifndef SL_APP_UPSTREAM_H
#define SL_APP_UPSTREAM_H

#include "app_priv.h"

#define UP_CONNECT_TIMEOUT_US (3ull * 1000000)
#define UP_PASSIVE_OUT_MAX 256

/* This worker's view of one server (by health slot); the main lcore reads
 * racy snapshots. total = connections established. */
struct sl_up_srv {
	uint64_t total, bytes_in, bytes_out, connect_fail, passive_out, response_fail;
	uint32_t out_until_ms;
};

struct sl_up_worker {
	struct sl_lb_rt *srv_rt;     /* connect-time EWMA by server slot */
	uint8_t *srv_live;           /* present and enabled in generation live_gen */
	struct sl_up_srv *srv;
	uint64_t live_gen, next_scan;
	uint32_t n_out, out_list[UP_PASSIVE_OUT_MAX];
};

/* A pick's input and output. */
struct sl_up_pick {
	uint64_t hash_ip, hash_port; /* the client's hashes (lb_algorithm_hash) */
	uint64_t hash_custom;        /* consistent hash on URI / a header (HTTP); 0 = none */
	bool use_custom;
	const uint32_t *tried;       /* server slots a connect already failed on */
	unsigned n_tried;
	bool limit_hit;              /* out: a server was skipped only for its connection limit */
	int32_t pool_idx;            /* out: the pool of the pick */
};

/* Server index into g->servers from pool pool_idx or pool group pg_idx
 * (SL_GEN_NONE for the other), or -ENOENT. */
int sl_up_pick(struct sl_app_worker *aw, const struct sl_gen *g, uint32_t pool_idx, uint32_t pg_idx,
	       struct sl_up_pick *x);
/* Reserves a connection on the server in slot: false when its limit (0 =
 * none) is reached counting every worker's. */
bool sl_up_take(uint32_t slot, uint32_t limit);
void sl_up_drop(uint32_t slot);
/* A connect to slot failed or timed out / completed: passive health and
 * the connect-time EWMA. */
void sl_up_fail(struct sl_app_worker *aw, uint32_t slot, uint64_t started_us, uint64_t now);
void sl_up_connected(struct sl_app_worker *aw, uint32_t slot, uint64_t started_us, uint64_t now);
/* The same without clearing the consecutive-failure count: for HTTP, where
 * the response, not the connect, says whether the server is well (a server
 * that accepts and answers 503 on a fresh connection each time must still
 * reach the threshold). */
void sl_up_connect_done(struct sl_app_worker *aw, uint32_t slot, uint64_t started_us, uint64_t now);
/* HTTP passive health: a failed response (5xx that says the server is
 * unwell, garbage, reset or timeout before the response ended) counts as a
 * failure like a failed connect; a good response ends the run of failures. */
void sl_up_bad(struct sl_app_worker *aw, uint32_t slot, uint64_t now);
void sl_up_ok(struct sl_app_worker *aw, uint32_t slot);
void sl_up_bytes(struct sl_app_worker *aw, uint32_t slot, uint64_t in, uint64_t out);
/* Is the server in slot still present and enabled in the current generation g? */
bool sl_up_live(struct sl_app_worker *aw, const struct sl_gen *g, uint32_t slot);
/* Once a second: passive-health outs that expired. */
void sl_up_tick(struct sl_app_worker *aw, uint64_t now);

int sl_up_init(struct sl_app_worker *aw);
void sl_up_fini(struct sl_app_worker *aw);

#endif
