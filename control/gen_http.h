/* Private: struct sl_gen_http (dataplane/gen/sl_gen.h) for HTTP virtual services, built by
 * gen_http.c from the application profile and the HTTPPolicySets of http_policies[]. */
#ifndef SL_GEN_HTTP_H
#define SL_GEN_HTTP_H
#include "model.h"

/* The node ref names, of type want, in t's view (t NULL: the model's current view, where only
 * uuid references and committed names resolve), or NULL. model.c, so that sl_ref_parse and the
 * view rules of resolve_one stay the one reference resolution. */
struct sl_node *sl_ref_find(struct sl_model *m, const struct sl_txn *t, int want, const char *ref);

/* Validation (model.c, semantic checks): an HTTPPolicySet must compile and bind, an http_profile's
 * values must fit struct sl_gen_http. 0, or -1 with e (4xx, path as the request names it). */
int sl_http_policy_check(struct sl_txn *t, struct sl_txn_ent *te, struct sl_err *e);
int sl_http_profile_check(struct sl_txn_ent *te, struct sl_err *e);

/* Generation building (gen.c). Every sl_gen_vs.http of a generation holds one reference. */
void sl_gen_http_get(const struct sl_gen_http *h);
void sl_gen_http_put(const struct sl_gen_http *h);
/* Full build: gives every HTTP VS of g its http, prev's where profile and sets are unchanged. */
int sl_gen_http_build_all(struct sl_model *m, const struct sl_txn *t, struct sl_gen *g, const struct sl_gen *prev,
			  struct sl_err *e);
/* Patch: g's VSs hold prev's http; re-attaches those of VSs t changes and of VSs using a policy
 * set t changes (those are not in t: nothing else of theirs changed). */
int sl_gen_http_patch(struct sl_model *m, const struct sl_txn *t, struct sl_gen *g, struct sl_err *e);
#endif
