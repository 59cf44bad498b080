/* Private: object store, field tables, transactions and validation. */
#ifndef SL_MODEL_H
#define SL_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "hmap.h"
#include "sl_gen.h"

enum sl_otype {
	SL_T_VS, SL_T_VSVIP, SL_T_POOL, SL_T_POOLGROUP, SL_T_HTTPPOLICYSET, SL_T_CERT, SL_T_HM,
	SL_T_DS, SL_T_GSLB, SL_T_APPPROF, SL_T_NETPROF, SL_T_SSLPROF, SL_T__N
};

struct sl_err {
	int status;             /* HTTP status */
	char error[48];
	char path[256];
	char detail[512];
};
int sl_err_set(struct sl_err *e, int status, const char *error, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* field tables */
enum sl_fkind { K_STR, K_INT, K_BOOL, K_ENUM, K_OBJ, K_REF, K_IP, K_OPAQUE_STR, K_NUM };
struct sl_fdef {
	const char *name;
	uint8_t kind;
	bool array, required;
	int64_t min, max;               /* K_INT range; K_STR max length (min=min length) */
	uint32_t amax;                  /* max array elements, 0 = 65536 */
	const char *const *enums;       /* K_ENUM, NULL terminated */
	const struct sl_fdef *sub;      /* K_OBJ, terminated by name == NULL */
	int ref_type;                   /* K_REF */
};
struct sl_tdef {
	const char *name;               /* url name, e.g. "pool" */
	const char *model;              /* Avi model name, e.g. "Pool" */
	const struct sl_fdef *fields;
};
extern const struct sl_tdef sl_types[SL_T__N];
extern const char *const sl_ignored_fields[];
/* Each accepted-and-ignored value (sl_ignored_fields, K_OPAQUE_STR) at most this many bytes of
   compact JSON; larger is 400 at its path. */
#define SL_IGNORED_MAX_BYTES 8192u
int sl_type_by_name(const char *s);     /* url or model name, case-insensitive; -1 */
int sl_enum_index(const char *const *enums, const char *s);
extern const char *const sl_lb_algos[];
extern const char *const sl_lb_hashes[];
int sl_schema_check(int type, json_t *o, const char *prefix, struct sl_err *e);
int sl_ref_parse(const char *ref, int *type, char *id, size_t idlen, bool *by_uuid);

/* ---- store ---- */
struct sl_node;
struct sl_claim { char *key; uint32_t lo, hi, src; /* src: index of the claiming element, for error paths */ };

struct sl_ver {
	json_t *data;                   /* stored form: refs canonical, uuid/name/_generation set */
	uint64_t gen;                   /* generation that last modified the data (ETag) */
	struct sl_node **refs;
	uint32_t n_refs, cap_refs;
	struct sl_claim *claims;
	uint32_t n_claims;
	void *cc;                       /* compiled per-type record */
};

struct sl_node {
	int type;
	uint32_t slot;
	bool system;
	char uuid[64];
	char *name;                     /* committed name */
	struct sl_ver *cur;             /* committed version, NULL while only created in a txn */
	struct sl_node **referrers;     /* committed referrers (with multiplicity) */
	uint32_t n_referrers, cap_referrers;
	/* transaction view */
	bool in_txn, txn_new;
	uint32_t txn_idx;
	struct sl_ver *txn_ver;         /* NULL with in_txn: deleted in the txn */
};

struct sl_model {
	struct sl_hmap by_name[SL_T__N];
	struct sl_hmap by_uuid;
	struct sl_node **slots[SL_T__N];
	uint32_t n_slots[SL_T__N], cap_slots[SL_T__N];
	uint32_t *free_slots[SL_T__N];
	uint32_t n_free[SL_T__N];
	uint32_t n_objs[SL_T__N];
	struct sl_hmap claims;          /* key -> struct sl_claimlist */
	uint64_t gen;                   /* last committed generation */
};

/* compiled records */
struct sl_cc_vs {
	uint8_t app_type, proto, vs_type;
	bool enabled;
	uint32_t n_vips;
	uint32_t vips[8];
	uint32_t n_listeners;
	struct sl_gen_listener *listeners;   /* vs_idx unused here */
	struct sl_node *pool, *poolgroup, *parent, *app_profile;
	struct sl_node *ssl_profile;         /* ssl_profile_ref, System-Standard without one */
	uint32_t n_domains;
	char **domains;                      /* lower-cased vh_domain_name */
	uint32_t n_certs;
	bool log_queries;                    /* analytics_policy.full_client_logs.enabled */
	uint32_t log_throttle;               /* ...throttle: records/s for the VS, 0 = all */
	uint32_t max_conns, idle_timeout_s;  /* L4 proxy, see struct sl_gen_vs */
	uint8_t proxy_protocol;
};
struct sl_cc_pool {
	uint8_t lb_algorithm, lb_hash;
	bool enabled;
	uint16_t default_port;
	uint32_t n_servers;
	struct sl_gen_server *servers;
	uint32_t max_conns;                  /* max_concurrent_connections_per_server */
	int32_t graceful_timeout;            /* graceful_disable_timeout (minutes) */
	char hash_hdr[64];                   /* lb_algorithm_consistent_hash_hdr */
	uint32_t server_timeout_ms;          /* server_timeout */
};
struct sl_cc_pg { uint32_t n; struct sl_node **pools; uint16_t *ratio; int32_t *prio; };
struct sl_cc_type { uint8_t v; };     /* app profile: sl_app_type; network profile: proto */
struct sl_cc_vsvip { uint32_t n; uint32_t vips[8]; };
/* SSLProfile: what dataplane/app/tls builds a VS's contexts with (sl_tls_conf); the strings point
   into the version's data (NULL: the engine's default) */
struct sl_cc_sslprof {
	int min_version, max_version;        /* TLS1_2_VERSION / TLS1_3_VERSION */
	bool prefer_client;
	const char *ciphers, *ciphersuites;
};

enum sl_op { SL_OP_CREATE, SL_OP_REPLACE, SL_OP_PATCH, SL_OP_DELETE };

struct sl_txn_ent {
	struct sl_node *node;
	struct sl_ver *ver;            /* NULL = delete */
	bool recheck;                  /* added because something it depends on changed */
	char path[64];                 /* error path prefix of the request part ("" or "[3].data") */
};

struct sl_txn {
	struct sl_model *m;
	struct sl_hmap names[SL_T__N]; /* new names -> ent index + 1 */
	struct sl_txn_ent *ents;
	uint32_t n, cap;
	uint64_t gen;                  /* generation this txn will become */
	bool loading;                  /* honour stored uuid/_generation (state load) */
};

int sl_model_init(struct sl_model *m);
void sl_model_free(struct sl_model *m);
struct sl_node *sl_model_find(struct sl_model *m, int type, const char *id);   /* uuid or name, committed */
struct sl_ver *sl_node_view(const struct sl_node *n);

void sl_txn_begin(struct sl_txn *t, struct sl_model *m);
/* Stage one operation. For create/replace/patch, body is the request object (borrowed). id = uuid or
   name for replace/patch/delete (NULL: taken from body). if_match: ETag or NULL. Returns 0 or -1 with e. */
int sl_txn_op(struct sl_txn *t, enum sl_op op, int type, const char *id, json_t *body, const char *if_match,
	      const char *path, struct sl_err *e);
/* Resolve references, run semantic checks, compile records. 0 or -1 with e. */
int sl_txn_validate(struct sl_txn *t, struct sl_err *e);
/* After validation: whether t only replaces objects with what they already hold (references compared
   canonically, stamps ignored), so it needs no generation. */
bool sl_txn_noop(const struct sl_txn *t);
void sl_txn_commit(struct sl_txn *t);
void sl_txn_abort(struct sl_txn *t);
/* journal record of the staged changes (new reference) */
json_t *sl_txn_record(struct sl_txn *t);

/* view helpers for gen compile */
const char *sl_node_name(const struct sl_node *n);
json_t *sl_model_dump(struct sl_model *m);   /* persisted snapshot objects (no system objects) */
void sl_etag(const struct sl_ver *v, char *buf, size_t len);

#endif
