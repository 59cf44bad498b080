/* Internal layout of a compiled HTTPPolicySet, shared by compile and eval. */
#ifndef SL_POLICY_PRIV_H
#define SL_POLICY_PRIV_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "sl_policy.h"

/* Base operation of a string match; negation is a separate flag because Avi's
 * DOES_NOT_* criteria are exactly the complement of the positive ones. */
enum pol_op { OP_EXISTS, OP_BEGINS, OP_CONTAINS, OP_ENDS, OP_EQUALS, OP_REGEX };
enum pol_field { F_HOST, F_PATH, F_QUERY, F_HDR, F_COOKIE };

struct pol_str {
	const char *p;       /* folded to lower case when the match is INSENSITIVE */
	uint32_t n;
	pcre2_code *re;      /* OP_REGEX only */
};

struct pol_smatch {
	uint8_t field, op;
	bool neg, icase;
	const char *name;    /* header / cookie name (F_HDR, F_COOKIE) */
	uint32_t name_len;
	uint32_t n;
	struct pol_str *s;
};

enum tok_type { TOK_HOST, TOK_PATH, TOK_STRING };
struct pol_tok {
	uint8_t type;
	uint16_t start, end; /* token range, inclusive; end 65535 = to the last */
	const char *s;
	uint32_t n;
};

struct sl_policy_redirect {
	uint8_t proto;       /* enum sl_policy_proto */
	uint16_t port;       /* 0: the protocol's default (no ":port" written) */
	uint16_t status;
	bool keep_query;
	bool has_host, has_path;
	uint32_t n_host, n_path;
	struct pol_tok *host, *path;
};

struct pol_rule {
	int32_t index;
	uint32_t pos;        /* position in rules[] for error paths */
	const char *name;
	bool enable;
	uint32_t n_sm;
	struct pol_smatch *sm;
	bool has_port, port_neg;
	uint32_t n_ports;
	uint16_t *ports;     /* sorted */
	bool has_method, method_neg;
	uint32_t methods;    /* bit per method (pol_method_bit) */
	bool has_proto, proto_neg;
	uint8_t proto;
	uint8_t decision;    /* enum sl_policy_decision */
	uint8_t ref_kind;
	int32_t target;
	const char *target_ref;
	struct sl_policy_local local;
	struct sl_policy_redirect *redir;
	uint32_t n_hdr;
	struct sl_policy_hdr_action *hdr;
};

struct pol_block;

struct sl_policy_set {
	const char *name;
	uint32_t n_req, n_rsp;
	uint32_t req_hdr_end;        /* 1 + position of the last request rule with header actions */
	struct pol_rule *req, *rsp;  /* sorted by index */
	uint32_t n_re, cap_re;
	pcre2_code **re;
	struct pol_block *mem;       /* arena: everything above lives here */
};

struct sl_policy_worker_ctx {
	pcre2_match_context *mctx;
	pcre2_match_data *md;
	pcre2_jit_stack *jit;
	struct sl_policy_stats st;
	/* Per evaluation: host, path and query folded once for every rule (bit i
	 * of folded set when fold[i] holds field i; cleared at each eval). */
	unsigned folded;
	unsigned limit_hits;                      /* this evaluation's */
	const char *fold[3];
	char scratch[SL_POLICY_SCRATCH];          /* header and cookie values */
	char fscratch[3][SL_POLICY_SCRATCH];
};

/* Method bit of an HTTP method token, or the "other" bit no config names. */
uint32_t pol_method_bit(const char *m, size_t n);
#define POL_METHOD_OTHER (1u << 31)

#endif
