/* Server selection for pools and pool groups (no DPDK, no heap on the pick path).
 *
 * Two parts per pool:
 *  - struct sl_lb_pool: read-only, built once per generation from the pool's server array
 *    (smooth-WRR sequence, Maglev table, ...); shared by every worker;
 *  - struct sl_lb_pool_state: mutable, one per pool per worker (cursor, RNG, WRR weights),
 *    sized by sl_lb_pool_state_size() and placed by the caller (arena, generation block).
 * Live per-server data that must survive a generation change (open connections, connect-time
 * EWMA, health) stays with the caller and is passed to every pick in struct sl_lb_in.
 * Server indexes are positions in the array given to sl_lb_pool_build(). */
#ifndef SL_LB_H
#define SL_LB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Same numbering as enum sl_lb_algo in control/sl_gen.h (the Avi lb_algorithm enum order). */
enum sl_lb_alg {
	SL_LB_ALG_ROUND_ROBIN = 0, SL_LB_ALG_LEAST_CONNECTIONS, SL_LB_ALG_FASTEST_RESPONSE,
	SL_LB_ALG_CONSISTENT_HASH, SL_LB_ALG_LEAST_LOAD, SL_LB_ALG_FEWEST_SERVERS, SL_LB_ALG_RANDOM,
	SL_LB_ALG_FEWEST_TASKS, SL_LB_ALG_CORE_AFFINITY,
};
/* Same numbering as sl_gen_pool.lb_hash (Avi lb_algorithm_hash order). The pool only needs
 * the 64-bit hash in sl_lb_in: for URI / header / string kinds the caller hashes that key
 * with sl_lb_hash_bytes(). */
enum sl_lb_hash_kind {
	SL_LB_HASH_SOURCE_IP = 0, SL_LB_HASH_SOURCE_IP_AND_PORT = 1,
	SL_LB_HASH_URI = 2, SL_LB_HASH_CUSTOM_HEADER = 3,   /* HTTP: sl_lb_hash_bytes of the URI / header */
};

#define SL_LB_MAX_SERVERS 65535u  /* indexes fit in 16 bits */
#define SL_LB_MAX_EXCLUDE 4u      /* servers a retry can skip */
#define SL_LB_PG_MAX_MEMBERS 1024u
#define SL_LB_WRR_SEQ_MAX 262144u /* longer smooth-WRR cycles fall back to the O(n) form */

/* Field for field the same as struct sl_gen_server. */
struct sl_lb_server {
	uint32_t ip;            /* network order */
	uint16_t port;          /* host order */
	uint16_t ratio;         /* 0 = no new connections */
	bool enabled;
	uint32_t slot;          /* caller's stable server id (sl_gen_server.slot); not used by the picks */
};

struct sl_lb_opts {
	uint8_t alg;            /* enum sl_lb_alg */
	uint32_t table_size;    /* Maglev table size, prime; 0 = chosen from the server count */
	uint32_t rt_half_life_ms;   /* fastest response: sample age that halves it; 0 = 10000 */
	uint32_t explore_every;     /* fastest response: 1 pick in N is round robin; 0 = 32 */
};

/* Connect-time EWMA of one server as seen by one worker. */
struct sl_lb_rt {
	uint32_t us;            /* EWMA in microseconds, 0 = no sample (tried first) */
	uint32_t at_ms;         /* time of the last sample (wrapping ms clock) */
};

/* Inputs of one pick. Every array is indexed by server position (or slot, see by_slot);
 * NULL means the default. */
struct sl_lb_in {
	uint64_t hash;                  /* consistent hash: sl_lb_client_hash() or sl_lb_hash_bytes() */
	uint32_t now_ms;                /* fastest response: current wrapping ms clock */
	const volatile uint8_t *up;     /* health, 0 = down (NULL: all up) */
	const uint8_t *draining;        /* nonzero = no new connections (NULL: none) */
	const uint32_t *max_conns;      /* per-worker connection limit, 0 = none (NULL: none) */
	const uint32_t *conns;          /* this worker's open connections (NULL: all 0) */
	const struct sl_lb_rt *rt;      /* connect-time EWMA (NULL: no samples) */
	/* Slot indexing (the engine): up, draining, conns and rt are indexed by the server's
	 * sl_lb_server.slot instead of its position, so they can be kept per worker across
	 * generations; a slot >= n_slots (unassigned) counts as up, not draining, 0 connections. */
	bool by_slot;
	uint32_t n_slots;
	uint32_t max_conns_all;         /* limit for every server when max_conns is NULL (0 = none) */
	/* Connections the limits are checked against, when they are not conns (e.g. counts shared by
	 * all workers, updated atomically elsewhere, while conns is this worker's load); same indexing.
	 * NULL: conns. */
	const volatile uint32_t *limit_conns;
};

struct sl_lb_pool;
struct sl_lb_pool_state;

/* Build the read-only part. prev (optional) is the same pool's previous build: consistent-hash
 * table entries whose server (same ip:port) survives and is within its share keep their
 * owner, so removing a server moves only that server's clients.
 * Returns 0, -EINVAL (bad arguments, n > SL_LB_MAX_SERVERS, table_size not a prime > n),
 * -ENOTSUP (LB_ALGORITHM_CORE_AFFINITY), -ENOMEM. */
int sl_lb_pool_build(struct sl_lb_pool **out, const struct sl_lb_server *srv, uint32_t n,
		     const struct sl_lb_opts *opts, const struct sl_lb_pool *prev);
void sl_lb_pool_free(struct sl_lb_pool *);
uint32_t sl_lb_pool_servers(const struct sl_lb_pool *);
/* Maglev table size (0 when the algorithm has no table). */
uint32_t sl_lb_pool_table_size(const struct sl_lb_pool *);

/* Per-worker state: size in bytes (8-byte aligned memory), then init. seed spreads workers
 * (e.g. the worker index), so they do not all start on the same server. */
size_t sl_lb_pool_state_size(const struct sl_lb_pool *);
int sl_lb_pool_state_init(struct sl_lb_pool_state *, size_t size, const struct sl_lb_pool *, uint64_t seed);

/* Pick a server for a new connection: index >= 0, or -ENOENT when no server is usable
 * (disabled, ratio 0, down, draining, or at max_conns). No allocation, no lock. */
int sl_lb_pick(const struct sl_lb_pool *, struct sl_lb_pool_state *, const struct sl_lb_in *);
/* Same, never returning one of failed[0..n_failed) (servers a connect already failed on).
 * -EINVAL when n_failed > SL_LB_MAX_EXCLUDE. */
int sl_lb_pick_retry(const struct sl_lb_pool *, struct sl_lb_pool_state *, const struct sl_lb_in *,
		     const uint32_t *failed, uint32_t n_failed);

/* Client key for consistent hashing (ip network order, port host order). */
uint64_t sl_lb_client_hash(uint32_t ip, uint16_t port, uint8_t hash_kind);
uint64_t sl_lb_hash_bytes(const void *data, size_t len);
/* Fold a connect-time sample (µs, at now_ms) into the EWMA (weight 1/8). */
void sl_lb_rt_sample(struct sl_lb_rt *, uint32_t us, uint32_t now_ms);

/* ---- pool groups ---- */
struct sl_lb_pg_member {
	uint32_t pool;          /* caller's pool index, handed back to the pick callback */
	uint16_t ratio;         /* 0 = no new connections */
	int32_t priority;       /* higher wins while it has a usable pool */
};
struct sl_lb_pg;
struct sl_lb_pg_state;

/* -EINVAL when n > SL_LB_PG_MAX_MEMBERS, -ENOMEM. */
int sl_lb_pg_build(struct sl_lb_pg **out, const struct sl_lb_pg_member *m, uint32_t n);
void sl_lb_pg_free(struct sl_lb_pg *);
size_t sl_lb_pg_state_size(const struct sl_lb_pg *);
int sl_lb_pg_state_init(struct sl_lb_pg_state *, size_t size, const struct sl_lb_pg *);

/* Picks a server in member pool `pool`: index >= 0 or -ENOENT (typically sl_lb_pick). */
typedef int (*sl_lb_pool_pick_fn)(void *arg, uint32_t pool);

/* Highest priority that has a pool with a usable server wins; smooth WRR by ratio among the
 * pools of that priority. Returns the server index and sets *pool, or -ENOENT. */
int sl_lb_pg_pick(const struct sl_lb_pg *, struct sl_lb_pg_state *, sl_lb_pool_pick_fn, void *arg,
		  uint32_t *pool);
/* Same, restricted to one priority label (avi.poolgroup.select(pg, label)). */
int sl_lb_pg_pick_prio(const struct sl_lb_pg *, struct sl_lb_pg_state *, int32_t priority,
		       sl_lb_pool_pick_fn, void *arg, uint32_t *pool);

#endif
