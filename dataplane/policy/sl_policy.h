/* sl_policy: Avi HTTPPolicySet engine for the L7 proxy.
 *
 * sl_policy_compile() turns one HTTPPolicySet object (Avi JSON) into an
 * immutable rule table on the control thread: match strings folded for their
 * match_case, regexes compiled with PCRE2 + JIT, redirect targets tokenised,
 * header actions checked so they cannot split a message.  Pool and pool-group
 * references stay names until sl_policy_bind() resolves them through the
 * generation builder's callback.
 *
 * sl_policy_eval_request() / sl_policy_eval_response() run on a worker with
 * that worker's sl_policy_worker_ctx (regex match data, JIT stack, scratch,
 * counters), allocate nothing, log nothing and take no lock.  A set is shared
 * read-only by every worker once bound.  docs/policy.md has the semantics.
 */
#ifndef SL_POLICY_H
#define SL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct sl_policy_set;
struct sl_policy_worker_ctx;
struct sl_policy_redirect;

/* Limits enforced by sl_policy_compile (refused past them, with the path). */
#define SL_POLICY_MAX_RULES      1024   /* per direction, as the control schema */
#define SL_POLICY_MAX_STRS       256    /* match_str[] / value[] / ports[] items */
#define SL_POLICY_MAX_STR_LEN    1024   /* one match string or regex pattern */
#define SL_POLICY_MAX_REGEX      1024   /* regexes per set */
#define SL_POLICY_HDR_MAX        128    /* header actions per direction per set */
/* Regex bounds (per pcre2_match call).  docs/policy.md explains the numbers. */
#define SL_POLICY_MATCH_LIMIT    10000
/* Limit hits allowed in one evaluation; later regexes of that evaluation are
 * not run (no match), so a request costs at most this many bounded matches. */
#define SL_POLICY_EVAL_LIMIT_HITS 4
#define SL_POLICY_DEPTH_LIMIT    1000
#define SL_POLICY_HEAP_LIMIT_KIB 256
#define SL_POLICY_JIT_STACK_MAX  (256 * 1024)
/* Subjects up to this long are case-folded into the worker's scratch once per
 * match; longer ones are compared byte by byte with folding (still bounded). */
#define SL_POLICY_SCRATCH        8192

enum sl_policy_proto { SL_POLICY_HTTP = 0, SL_POLICY_HTTPS = 1 };

/* Returns the value of the nth (0-based) header field called name (the
 * caller compares names case-insensitively), or NULL when there are fewer
 * than nth + 1 such fields.  Must not allocate; it runs on the fast path. */
typedef const char *(*sl_policy_hdr_fn)(void *arg, const char *name, size_t name_len,
					 unsigned nth, size_t *value_len);

/* The request as the proxy parsed it: views into its own buffers. */
struct sl_policy_req {
	const char *method; size_t method_len;  /* "GET", as sent */
	const char *host;   size_t host_len;    /* Host header (or authority); NULL/0 = absent.
						 * A ":port" suffix is ignored for matching. */
	const char *path;   size_t path_len;    /* request target up to '?', not decoded */
	const char *query;  size_t query_len;   /* after '?', without it; 0 = none */
	uint16_t vs_port;                       /* the VS service port the client reached */
	enum sl_policy_proto proto;
	sl_policy_hdr_fn hdr;                   /* request headers (hdrs[], cookie); may be NULL */
	void *hdr_arg;
};

enum sl_policy_decision {
	SL_POLICY_CONTINUE = 0,   /* no rule decided: the VS's default pool / pool group */
	SL_POLICY_POOL,           /* HTTP_SWITCHING_SELECT_POOL */
	SL_POLICY_POOLGROUP,      /* HTTP_SWITCHING_SELECT_POOLGROUP */
	SL_POLICY_LOCAL,          /* HTTP_SWITCHING_SELECT_LOCAL: answer with local */
	SL_POLICY_REDIRECT,       /* redirect_action: answer with sl_policy_redirect_build() */
};

enum sl_policy_hdr_op {
	SL_POLICY_HDR_ADD = 0,    /* append one field (existing ones stay) */
	SL_POLICY_HDR_REPLACE,    /* remove every field of that name, then add one */
	SL_POLICY_HDR_REMOVE,     /* remove every field of that name */
};

struct sl_policy_hdr_action {
	enum sl_policy_hdr_op op;
	bool sensitive;           /* hdr.value.is_sensitive: mask it in logs */
	const char *name; uint32_t name_len;
	const char *value; uint32_t value_len;   /* "" for REMOVE */
};

struct sl_policy_local {
	uint16_t status;          /* 200, 204, 403, 404, 429, 501 */
	const char *content_type; /* NULL without file */
	const char *body; size_t body_len;
};

struct sl_policy_result {
	enum sl_policy_decision decision;
	/* The deciding rule (access logs): Avi "index" and name; -1 / NULL when none. */
	int32_t rule_index;
	const char *rule_name;
	/* The first rule whose match passed, decisive or not (-1 / NULL). */
	int32_t first_index;
	const char *first_name;
	/* Rules whose match passed among those evaluated: once a rule has decided,
	 * only later rules with header actions are still matched. */
	uint32_t n_matched;
	/* POOL / POOLGROUP: the handle sl_policy_bind() stored (-1 unbound) and the ref. */
	int32_t target;
	const char *target_ref;
	uint16_t status;          /* LOCAL and REDIRECT */
	const struct sl_policy_local *local;
	const struct sl_policy_redirect *redirect;
	/* Header actions of every matching rule, in rule order then array order. */
	unsigned n_hdr;
	const struct sl_policy_hdr_action *hdr[SL_POLICY_HDR_MAX];
};

/* Per-worker counters (plain, the worker's own; summed on read). */
struct sl_policy_stats {
	uint64_t req_evals, rsp_evals;
	uint64_t regex_matches;    /* pcre2 calls */
	uint64_t regex_limit;      /* match, depth, heap or JIT stack limit hit: counted as no match */
	uint64_t regex_error;      /* any other pcre2 error: counted as no match */
	uint64_t regex_skipped;    /* not run: SL_POLICY_EVAL_LIMIT_HITS reached (no match) */
};

/* Compile one HTTPPolicySet.  NULL on error with err_path set to the JSON
 * path relative to the object (e.g. "http_request_policy.rules[2].match.path.match_str[0]")
 * and err_msg to the reason; errno is EINVAL (bad config) or ENOMEM. */
struct sl_policy_set *sl_policy_compile(const json_t *httppolicyset, char *err_path, size_t pathlen,
					char *err_msg, size_t msglen);
void sl_policy_free(struct sl_policy_set *);

enum sl_policy_ref_kind { SL_POLICY_REF_POOL = 0, SL_POLICY_REF_POOLGROUP = 1 };

/* ref is the string as configured (/api/pool?name=x, /api/pool/<uuid>,
 * https://host/api/pool/<uuid>#name, a uuid or a name: control stores them
 * canonically as /api/<type>/<uuid>).  The builder parses it with control's
 * own reference parser, so there is one parser of that syntax, and returns a
 * handle >= 0 (its pool / pool-group slot), or -ENOENT (or another -errno). */
typedef int (*sl_policy_resolve_fn)(void *arg, enum sl_policy_ref_kind kind, const char *ref);
/* Resolves every pool_ref / pool_group_ref of the set, enabled rules or not
 * (control resolves them all too).  Call on the control thread before the set
 * is published.  Returns 0, or the callback's -errno with err_path naming the
 * field (e.g. "http_request_policy.rules[0].switching_action.pool_group_ref"). */
int sl_policy_bind(struct sl_policy_set *, sl_policy_resolve_fn, void *arg, char *err_path, size_t pathlen,
		   char *err_msg, size_t msglen);

/* One per worker, created at start (allocates its PCRE2 match data, match
 * context and JIT stack), used for every set.  NULL on ENOMEM. */
struct sl_policy_worker_ctx *sl_policy_worker_ctx_new(void);
void sl_policy_worker_ctx_free(struct sl_policy_worker_ctx *);
const struct sl_policy_stats *sl_policy_worker_stats(const struct sl_policy_worker_ctx *);

/* Request rules, in index order: the first rule whose match passes and that
 * has a switching or redirect action decides; a redirect or local response
 * ends evaluation; header actions of every matching rule up to then
 * accumulate.  Returns out->decision. */
int sl_policy_eval_request(const struct sl_policy_set *, struct sl_policy_worker_ctx *,
			   const struct sl_policy_req *req, struct sl_policy_result *out);
/* Response rules, matched against the original request (as Avi does);
 * only header actions (on the response) accumulate.  Returns out->n_hdr. */
int sl_policy_eval_response(const struct sl_policy_set *, struct sl_policy_worker_ctx *,
			    const struct sl_policy_req *req, struct sl_policy_result *out);

/* Writes the Location value of redirect for req into buf (NUL-terminated).
 * Returns its length, or -ENOSPC when cap is too small.  No allocation. */
int sl_policy_redirect_build(const struct sl_policy_redirect *, const struct sl_policy_req *req,
			     char *buf, size_t cap);
uint16_t sl_policy_redirect_status(const struct sl_policy_redirect *);

/* Introspection for tests and the control API. */
const char *sl_policy_name(const struct sl_policy_set *);
unsigned sl_policy_rule_count(const struct sl_policy_set *, bool response);
unsigned sl_policy_regex_count(const struct sl_policy_set *);

#endif
