/* Test helpers: compile a policy from JSON text, build requests with a small
 * header table, evaluate. */
#ifndef SL_POLICY_TEST_H
#define SL_POLICY_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>

#include "sl_policy.h"

struct th {
	const char *name, *value;
};

struct treq {
	struct sl_policy_req r;
	struct th hdrs[16];
	unsigned n_hdrs;
};

static inline const char *th_lookup(void *arg, const char *name, size_t nl, unsigned nth, size_t *vl)
{
	struct treq *t = arg;
	for (unsigned i = 0; i < t->n_hdrs; i++) {
		if (strlen(t->hdrs[i].name) == nl && !strncasecmp(t->hdrs[i].name, name, nl) && nth-- == 0) {
			*vl = strlen(t->hdrs[i].value);
			return t->hdrs[i].value;
		}
	}
	return NULL;
}

/* method, host (NULL = absent), path, query (NULL = none). */
static inline void treq_init(struct treq *t, const char *method, const char *host, const char *path,
			     const char *query)
{
	memset(t, 0, sizeof(*t));
	t->r.method = method;
	t->r.method_len = strlen(method);
	t->r.host = host;
	t->r.host_len = host ? strlen(host) : 0;
	t->r.path = path;
	t->r.path_len = strlen(path);
	t->r.query = query;
	t->r.query_len = query ? strlen(query) : 0;
	t->r.vs_port = 80;
	t->r.proto = SL_POLICY_HTTP;
	t->r.hdr = th_lookup;
	t->r.hdr_arg = t;
}

static inline void treq_hdr(struct treq *t, const char *name, const char *value)
{
	t->hdrs[t->n_hdrs].name = name;
	t->hdrs[t->n_hdrs].value = value;
	t->n_hdrs++;
}

static inline struct sl_policy_set *tp_compile(const char *json)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);
	cr_assert(j, "bad test JSON: %s at %d: %s", je.text, je.position, json);
	char path[256], msg[256];
	struct sl_policy_set *s = sl_policy_compile(j, path, sizeof(path), msg, sizeof(msg));
	cr_assert(s, "compile failed at %s: %s\n%s", path, msg, json);
	json_decref(j);
	return s;
}

/* Expects refusal at exactly want_path; returns the message for more checks. */
static inline void tp_refuse(const char *json, const char *want_path)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);
	cr_assert(j, "bad test JSON: %s: %s", je.text, json);
	char path[256] = "", msg[256] = "";
	struct sl_policy_set *s = sl_policy_compile(j, path, sizeof(path), msg, sizeof(msg));
	json_decref(j);
	cr_assert_null(s, "compiled, expected refusal at %s:\n%s", want_path, json);
	cr_assert_str_eq(path, want_path, "refused at \"%s\" (%s), expected \"%s\"", path, msg, want_path);
	cr_assert(msg[0], "no message for %s", want_path);
}

/* One request rule with the given match and a pool switch to "p". */
#define RULE_M(match) \
	"{\"name\":\"t\",\"http_request_policy\":{\"rules\":[{\"name\":\"r0\",\"index\":1,\"match\":{" match \
	"},\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_POOL\",\"pool_ref\":\"/api/pool?name=p\"}}]}}"

/* Does the one-rule policy built from match select its pool for t? */
static inline bool tp_hit(const char *match_json, struct treq *t)
{
	char buf[8192];
	snprintf(buf, sizeof(buf), RULE_M("%s"), match_json);
	struct sl_policy_set *s = tp_compile(buf);
	struct sl_policy_worker_ctx *w = sl_policy_worker_ctx_new();
	cr_assert(w);
	struct sl_policy_result res;
	int d = sl_policy_eval_request(s, w, &t->r, &res);
	sl_policy_worker_ctx_free(w);
	sl_policy_free(s);
	return d == SL_POLICY_POOL;
}

#endif
