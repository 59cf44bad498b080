/* Immutable compiled configuration generation (read by workers without locks).
 * Built by control on the main lcore, published with one pointer swap by the engine,
 * released with sl_gen_release() on the main lcore once no worker can see it and no
 * connection pins it (docs/architecture.md, "Generations"). The data plane includes
 * this header only: it never depends on control, which builds the generation and
 * installs its destructor. */
#ifndef SL_GEN_H
#define SL_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

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
	uint8_t lb_hash;        /* index of lb_algorithm_hash enum (enum sl_lb_hash_kind), 0 = source ip */
	bool enabled;
	uint16_t default_port;
	uint32_t first_server, n_servers;   /* into sl_gen.servers */
	char hash_hdr[64];      /* LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER: the header */
	uint32_t server_timeout_ms; /* HTTP: a request's answer must start within; 0 = 60 s */
};

struct sl_gen_pg_member { uint32_t pool_idx; uint16_t ratio; int32_t priority; };

/* An HTTP VS's application profile (Avi http_profile) and its HTTPPolicySets
 * (dataplane/policy), compiled by control (control/gen_http.c). Shared by
 * every generation in which the VS's profile and policy sets are unchanged
 * (refs, main lcore only), so a change elsewhere recompiles no regex. A
 * policy's pool / pool-group handle is the object's stable slot: map it with
 * pool_by_slot / pg_by_slot of the generation the request pinned. */
struct sl_policy_set;
struct sl_tls_vs;   /* dataplane/app/tls/sl_tls.h: a VS's certificates and SSL_CTXs */
struct sl_gen_http {
	uint32_t refs;
	uint32_t keepalive_timeout_ms;      /* idle time allowed between requests (30 s) */
	uint32_t client_header_timeout_ms;  /* a request head must arrive within (10 s) */
	uint32_t client_body_timeout_ms;    /* between two reads of a request body; 0 = none (30 s) */
	uint64_t max_request_size;          /* request body bytes; 0 = no limit (413 beyond) */
	uint32_t max_keepalive_requests;    /* per client connection; 0 = no limit */
	/* HTTP/2 (http_profile.http2_profile, docs/http2.md) */
	uint32_t h2_max_streams;            /* SETTINGS_MAX_CONCURRENT_STREAMS (128) */
	uint32_t h2_ctrl_per_s;             /* control frames a second before GOAWAY (1000) */
	uint32_t h2_empty_per_s;            /* empty DATA frames a second before GOAWAY (1000) */
	uint32_t h2_window_kb;              /* SETTINGS_INITIAL_WINDOW_SIZE in KB (64) */
	uint32_t h2_field_max;              /* one decoded field, name + value (4096) */
	uint32_t h2_max_requests;           /* streams per connection, then GOAWAY NO_ERROR; 0 = no limit (1000) */
	bool xff, xfp, websockets, multiplex, http_to_https;
	uint8_t xff_name_len;
	char xff_name[64];                  /* the client-address header (X-Forwarded-For) */
	uint32_t n_policies;
	struct sl_policy_set **policies;    /* in http_policies[].index order; owned */
};
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
	/* SL_APP_HTTP: profile and policies (NULL otherwise) */
	const struct sl_gen_http *http;
	/* certificates (ssl_key_and_certificate_refs) and TLS settings, one
	 * SSL_CTX per worker; NULL without certificates. Shared by reference
	 * count across generations while unchanged (control/gen_tls.c). */
	const struct sl_tls_vs *tls;
};

struct sl_gen_listener {
	uint32_t vip;           /* network order */
	uint8_t proto;
	bool enable_ssl, enable_http2;
	uint16_t port_lo, port_hi;   /* host order, inclusive */
	uint32_t vs_idx;
};


struct sl_gen {
	uint64_t id;
	void (*release)(struct sl_gen *);   /* the builder's destructor */
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
/* The child serving a host name: exact first, then "*." plus the name
 * without its first label (vh_domain_name wildcards), or NULL. */
const struct sl_gen_vs *sl_gen_vh_match(const struct sl_gen *, const struct sl_gen_vs *parent,
					const char *name, size_t len);
size_t sl_gen_vips(const struct sl_gen *, const uint32_t **vips);
/* Frees g through the destructor its builder installed (main lcore only). */
static inline void sl_gen_release(struct sl_gen *g)
{
	if (g)
		g->release(g);
}

/* ---- for the builder (control/gen.c) and the lookups (gen_lookup.c) only:
 * the layout of the hash tables, so both sides agree on it */
struct sl_gen_lslot { uint32_t vip; uint8_t proto; uint32_t first, n; };
struct sl_gen_sni { uint32_t parent, child, off, len; };

static inline uint32_t sl_gen_mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static inline uint32_t sl_gen_sni_hash(uint32_t parent, const char *s, size_t len)
{
	uint32_t h = 2166136261u ^ parent;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)tolower((unsigned char)s[i]);
		h *= 16777619u;
	}
	return sl_gen_mix32(h);
}

#endif
