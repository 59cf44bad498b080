/* Immutable compiled configuration generation (read by workers without locks).
 * Built by control on the main lcore, published with one pointer swap by the engine,
 * freed with sl_gen_free() on the main lcore after the RCU grace period. */
#ifndef SL_GEN_H
#define SL_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_MAX_VS 16384
#define SL_MAX_HEALTH 65536
#define SL_GEN_NONE UINT32_MAX

enum sl_app_type { SL_APP_L4 = 1, SL_APP_HTTP, SL_APP_DNS, SL_APP_SSL };
enum sl_vs_type { SL_VS_NORMAL = 0, SL_VS_VH_PARENT, SL_VS_VH_CHILD };
enum sl_lb_algo {
	SL_LB_ROUND_ROBIN = 0, SL_LB_LEAST_CONNECTIONS, SL_LB_FASTEST_RESPONSE, SL_LB_CONSISTENT_HASH,
	SL_LB_LEAST_LOAD, SL_LB_FEWEST_SERVERS, SL_LB_RANDOM, SL_LB_FEWEST_TASKS, SL_LB_CORE_AFFINITY,
};

struct sl_gen_server {
	uint32_t ip;            /* network order */
	uint16_t port;          /* host order; pool default_server_port when the server has none */
	uint16_t ratio;
	bool enabled;
	/* stable for the (pool, ip, port) triple across generations, < SL_MAX_HEALTH:
	 * indexes the health table and per-worker server counters; SL_GEN_NONE until control
	 * assigns it */
	uint32_t slot;
};

/* Pick structures of one pool or pool group (dataplane/lb), built by control and shared by every
 * generation in which that pool (group) is unchanged, so a change elsewhere rebuilds nothing and
 * consistent-hash tables move only the clients of servers that changed. Worker w's mutable pick
 * state is at states + w * stride (its own cache lines), so picks need no allocation or lock. */
struct sl_lb_pool;
struct sl_lb_pg;
struct sl_gen_lb {
	uint32_t refs;                  /* generations holding it; touched on the main lcore only */
	uint32_t n_workers;
	struct sl_lb_pool *pool;        /* a pool's, or NULL */
	struct sl_lb_pg *pg;            /* a pool group's (member k = the group's k-th member), or NULL */
	size_t stride;
	void *states;
};

struct sl_gen_pool {
	char name[128];
	uint32_t slot;          /* the pool object's stable slot (pool_by_slot) */
	struct sl_gen_lb *lb;   /* NULL: nothing to pick from (LB_ALGORITHM_CORE_AFFINITY) */
	uint32_t max_conns;     /* max_concurrent_connections_per_server, 0 = no limit */
	int32_t graceful_timeout;   /* graceful_disable_timeout in minutes: 0 = reset at once, -1 = never */
	uint8_t lb_algorithm;   /* enum sl_lb_algo */
	uint8_t lb_hash;        /* index of lb_algorithm_hash enum, 0 = source ip */
	bool enabled;
	uint16_t default_port;
	uint32_t first_server, n_servers;   /* into sl_gen.servers */
};

struct sl_gen_pg_member { uint32_t pool_idx; uint16_t ratio; int32_t priority; };
struct sl_gen_poolgroup {
	char name[128];
	struct sl_gen_lb *lb;
	uint32_t first_member, n_members;   /* into sl_gen.pg_members */
};

struct sl_gen_vs {
	char name[128];
	uint32_t slot;          /* stable for the VS object's life, < SL_MAX_VS */
	uint8_t app_type;       /* enum sl_app_type */
	uint8_t proto;          /* IPPROTO_TCP / IPPROTO_UDP */
	bool enabled;           /* enabled && traffic_enabled */
	uint8_t vs_type;        /* enum sl_vs_type */
	uint16_t port_lo, port_hi;   /* first service (all services: sl_gen.listeners) */
	uint32_t vip;           /* network order; 0 for VH children (they use the parent's) */
	void *app;              /* SL_APP_DNS: struct sl_dns_db * (owned by the generation) */
	uint32_t pool_idx;      /* into sl_gen.pools, or SL_GEN_NONE */
	uint32_t poolgroup_idx; /* into sl_gen.poolgroups, or SL_GEN_NONE */
	uint32_t parent_idx;    /* VH child: index of its parent in sl_gen.vs, else SL_GEN_NONE */
	uint32_t n_certs;       /* number of ssl_key_and_certificate_refs */
	/* per-request logs (analytics_policy.full_client_logs): enabled, and
	 * records per second for the whole VS (0 = no throttle) */
	bool log_queries;
	uint32_t log_throttle;
	/* L4 proxy: performance_limits.max_concurrent_connections (0 = none), the network
	 * profile's tcp_proxy_profile.idle_connection_timeout (s), the application profile's
	 * tcp_app_profile PROXY protocol version to servers (0 = off, 1, 2) */
	uint32_t max_conns;
	uint32_t idle_timeout_s;
	uint8_t proxy_protocol;
};

struct sl_gen_listener {
	uint32_t vip;           /* network order */
	uint8_t proto;
	bool enable_ssl, enable_http2;
	uint16_t port_lo, port_hi;   /* host order, inclusive */
	uint32_t vs_idx;
};

struct sl_gen_lslot;            /* private hash buckets */

struct sl_gen {
	uint64_t id;
	uint32_t n_vs;
	struct sl_gen_vs *vs;
	uint32_t n_listeners;
	struct sl_gen_listener *listeners;
	uint32_t n_pools;
	struct sl_gen_pool *pools;
	uint32_t n_servers;
	struct sl_gen_server *servers;
	uint32_t n_poolgroups;
	struct sl_gen_poolgroup *poolgroups;
	uint32_t n_pg_members;
	struct sl_gen_pg_member *pg_members;
	uint32_t n_vips;
	uint32_t *vips;                 /* distinct VIPs, network order */
	const volatile uint8_t *health; /* control's health table (SL_MAX_HEALTH bytes) */
	uint32_t vs_by_slot[SL_MAX_VS]; /* slot -> index in vs, or SL_GEN_NONE */
	/* private lookup tables */
	uint32_t vip_mask;
	uint32_t *vip_hash;             /* open addressing, 0 = empty */
	uint32_t lst_mask;
	struct sl_gen_lslot *lst_hash;
	uint32_t sni_mask;
	struct sl_gen_sni *sni_hash;
	char *sni_names;
	size_t sni_bytes;
	uint32_t n_pool_slots, n_pg_slots;
	uint32_t *pool_by_slot;         /* pool object slot -> index in pools, or SL_GEN_NONE */
	uint32_t *pg_by_slot;           /* pool group object slot -> index in poolgroups, or SL_GEN_NONE */
};

bool sl_gen_is_vip(const struct sl_gen *, uint32_t ip_be);
/* port in host order; returns NULL when no listener matches. */
const struct sl_gen_vs *sl_gen_lookup(const struct sl_gen *, uint32_t vip_be, uint8_t proto, uint16_t port);
const struct sl_gen_listener *sl_gen_lookup_listener(const struct sl_gen *, uint32_t vip_be, uint8_t proto,
						     uint16_t port);
/* SNI child of a VH parent (exact, case-insensitive match on vh_domain_name), or NULL. */
const struct sl_gen_vs *sl_gen_vh_child(const struct sl_gen *, const struct sl_gen_vs *parent,
					const char *sni, size_t len);
size_t sl_gen_vips(const struct sl_gen *, const uint32_t **vips);
void sl_gen_free(struct sl_gen *);

#endif
