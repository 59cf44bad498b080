/* struct sl_gen_http built by control (control/gen_http.c): the application profile's http_profile
 * values and defaults, the VS's HTTPPolicySets in http_policies[].index order bound to pool and
 * pool-group slots, refusals of sets that do not compile or bind (with their path, the running
 * generation untouched), and sharing across generations until the profile or a set changes. */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_test_util.h"
#include "sl_policy.h"

/* A control instance whose publish hook keeps the previous generation alive too, as the engine
 * does until the grace period ends: sharing then shows as refs == 2. */
struct kctl {
	struct tctl t;            /* dir, state, sock; t.c is ours */
	struct sl_gen *cur, *old;
};

static int keep_publish(void *arg, struct sl_gen *g)
{
	struct kctl *k = arg;
	sl_gen_free(k->old);
	k->old = k->cur;
	k->cur = g;
	k->t.n_published++;
	return 0;
}

static void kctl_init(struct kctl *k)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->t.dir, sizeof(k->t.dir), "/tmp/sl-gh-test-XXXXXX");
	cr_assert(mkdtemp(k->t.dir));
	snprintf(k->t.state, sizeof(k->t.state), "%s/state", k->t.dir);
	snprintf(k->t.sock, sizeof(k->t.sock), "%s/s.sock", k->t.dir);
	struct sl_ctl_conf conf = { .sock_path = k->t.sock, .state_dir = k->t.state, .n_workers = 2 };
	struct sl_ctl_hooks hooks = { .arg = k, .publish = keep_publish };
	char err[512];
	k->t.c = sl_ctl_create(&conf, &hooks, err, sizeof(err));
	cr_assert(k->t.c, "sl_ctl_create: %s", err);
}

static void kctl_fini(struct kctl *k)
{
	sl_ctl_destroy(k->t.c);
	sl_gen_free(k->cur);
	sl_gen_free(k->old);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", k->t.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", k->t.dir);
}

static const char *jpath(json_t *r)
{
	return json_string_value(json_object_get(r, "path"));
}

/* The decision of set s for GET host/path on port, with the bound target. */
static enum sl_policy_decision eval(const struct sl_policy_set *s, const char *host, const char *path, uint16_t port,
				    int32_t *target)
{
	struct sl_policy_worker_ctx *w = sl_policy_worker_ctx_new();
	cr_assert(w);
	struct sl_policy_req rq = { "GET", 3, host, strlen(host), path, strlen(path), NULL, 0, port, SL_POLICY_HTTP, NULL, NULL };
	struct sl_policy_result res;
	enum sl_policy_decision d = (enum sl_policy_decision)sl_policy_eval_request(s, w, &rq, &res);
	if (target)
		*target = res.target;
	sl_policy_worker_ctx_free(w);
	return d;
}

/* pools a and b, set s (host x -> pool a, path /g -> group g), HTTP VS v using s */
static const char base[] =
	"[{'model_name':'Pool','data':{'name':'a','servers':[{'ip':{'addr':'198.18.1.2'}}]}},"
	"{'model_name':'Pool','data':{'name':'b','servers':[{'ip':{'addr':'198.18.1.3'},'ratio':1}]}},"
	"{'model_name':'PoolGroup','data':{'name':'g','members':[{'pool_ref':'b'}]}},"
	"{'model_name':'HTTPPolicySet','data':{'name':'s','http_request_policy':{'rules':["
	"{'name':'r0','index':1,'match':{'host_hdr':{'match_criteria':'HDR_EQUALS','value':['x']}},"
	"'switching_action':{'action':'HTTP_SWITCHING_SELECT_POOL','pool_ref':'/api/pool?name=a'}},"
	"{'name':'r1','index':2,'match':{'path':{'match_criteria':'BEGINS_WITH','match_str':['/g']}},"
	"'switching_action':{'action':'HTTP_SWITCHING_SELECT_POOLGROUP','pool_group_ref':'g'}}]}}},"
	"{'model_name':'VirtualService','data':{'name':'v','vip':[{'ip_address':{'addr':'198.18.0.20'}}],"
	"'services':[{'port':80}],'pool_ref':'b','http_policies':[{'index':0,'http_policy_set_ref':'s'}]}},"
	"{'model_name':'VirtualService','data':{'name':'l4','vip':[{'ip_address':{'addr':'198.18.0.21'}}],"
	"'services':[{'port':80}],'application_profile_ref':'System-L4-Application','pool_ref':'a'}}]";

static void init_base(struct tctl *t)
{
	tctl_init(t);
	cr_assert_eq(treq_sq(t, "POST", "/api/macro", base, NULL), 200);
}

static uint32_t slot_of(struct tctl *t, const char *type, const char *name, const struct sl_gen *g)
{
	/* a pool's (group's) slot is where pool_by_slot (pg_by_slot) points at it */
	bool pool = !strcmp(type, "pool");
	uint32_t n = pool ? g->n_pool_slots : g->n_pg_slots;
	for (uint32_t s = 0; s < n; s++) {
		uint32_t idx = pool ? g->pool_by_slot[s] : g->pg_by_slot[s];
		if (idx != SL_GEN_NONE && !strcmp(pool ? g->pools[idx].name : g->poolgroups[idx].name, name))
			return s;
	}
	(void)t;
	cr_assert_fail("no %s %s", type, name);
	return 0;
}

Test(gen_http, ako_shared_l7_policies_in_index_order_bound_to_slots)
{
	struct tctl t;
	glob_t gl;
	tctl_init(&t);
	/* the seed's macros as sent, in order, then the parent VS that uses both sets */
	if (glob(SL_FIXTURES "/ako_*.json", 0, NULL, &gl) || gl.gl_pathc != 5)
		cr_assert_fail("the seed's five AKO fixtures");
	for (size_t i = 0; i < gl.gl_pathc; i++)
		tpost_file(&t, gl.gl_pathv[i]);
	globfree(&gl);
	tpost_file(&t, SL_FIXTURES "/shared_l7_parent_vs.json");
	const struct sl_gen *g = t.gen;
	const struct sl_gen_vs *v = tgen_vs(g, "S1-AZ1--Shared-L7-0");
	cr_assert_eq(v->app_type, SL_APP_HTTP);
	cr_assert(v->http);
	const struct sl_gen_http *h = v->http;
	cr_assert_eq(h->n_policies, 2);
	/* array order is 11, 10: index order puts the redirect set first */
	cr_expect_str_eq(sl_policy_name(h->policies[0]), "S1-AZ1--Shared-L7-0");
	cr_expect_str_eq(sl_policy_name(h->policies[1]), "S1-AZ1--default-hackazon.avi.iberia.local_-hackazon");
	cr_expect_eq(eval(h->policies[0], "hackazon.avi.iberia.local", "/cart", 80, NULL), SL_POLICY_REDIRECT);
	cr_expect_eq(eval(h->policies[0], "hackazon.avi.iberia.local", "/cart", 443, NULL), SL_POLICY_CONTINUE);
	int32_t target = -1;
	cr_assert_eq(eval(h->policies[1], "hackazon.avi.iberia.local", "/", 443, &target), SL_POLICY_POOLGROUP);
	uint32_t pg = slot_of(&t, "poolgroup", "S1-AZ1--default-hackazon.avi.iberia.local_-hackazon", g);
	cr_expect_eq((uint32_t)target, pg, "handle %d is the pool group's slot %u", target, pg);
	cr_expect_str_eq(g->poolgroups[g->pg_by_slot[target]].name, "S1-AZ1--default-hackazon.avi.iberia.local_-hackazon");
	/* System-Secure-HTTP: X-Forwarded-Proto on, the rest Avi's defaults */
	cr_expect(h->xfp);
	cr_expect(h->xff);
	cr_expect_str_eq(h->xff_name, "X-Forwarded-For");
	cr_expect_eq(h->xff_name_len, strlen("X-Forwarded-For"));
	cr_expect_eq(h->keepalive_timeout_ms, 30000);
	cr_expect_eq(h->client_header_timeout_ms, 10000);
	cr_expect_eq(h->client_body_timeout_ms, 30000);
	cr_expect_eq(h->max_request_size, 0);
	cr_expect_eq(h->max_keepalive_requests, 100);
	cr_expect(h->websockets && h->multiplex && !h->http_to_https);
	tctl_fini(&t);
}

Test(gen_http, profile_fields_defaults_and_refusals)
{
	struct tctl t;
	json_t *r = NULL;
	tctl_init(&t);
	cr_assert_eq(treq_sq(&t, "POST", "/api/macro",
			 "[{'model_name':'ApplicationProfile','data':{'name':'hp','type':'APPLICATION_PROFILE_TYPE_HTTP',"
			 "'http_profile':{'keepalive_timeout':5000,'client_header_timeout':2000,'client_body_timeout':0,"
			 "'max_request_size':64,'max_keepalive_requests':0,'xff_enabled':false,'xff_alternate_name':'X-Real-IP',"
			 "'x_forwarded_proto_enabled':true,'websockets_enabled':false,'connection_multiplexing_enabled':false,"
			 "'http_to_https':true}}},"
			 "{'model_name':'VirtualService','data':{'name':'v','vip':[{'ip_address':{'addr':'198.18.0.20'}}],"
			 "'services':[{'port':80}],'application_profile_ref':'hp'}},"
			 "{'model_name':'VirtualService','data':{'name':'d','vip':[{'ip_address':{'addr':'198.18.0.21'}}],"
			 "'services':[{'port':80}]}},"
			 "{'model_name':'VirtualService','data':{'name':'l4','vip':[{'ip_address':{'addr':'198.18.0.22'}}],"
			 "'services':[{'port':80}],'application_profile_ref':'System-L4-Application'}}]", NULL), 200);
	const struct sl_gen_http *h = tgen_vs(t.gen, "v")->http;
	cr_assert(h);
	cr_expect_eq(h->keepalive_timeout_ms, 5000);
	cr_expect_eq(h->client_header_timeout_ms, 2000);
	cr_expect_eq(h->client_body_timeout_ms, 0);
	cr_expect_eq(h->max_request_size, 64 * 1024, "max_request_size is in KB");
	cr_expect_eq(h->max_keepalive_requests, 0);
	cr_expect(!h->xff && h->xfp && !h->websockets && !h->multiplex && h->http_to_https);
	cr_expect_str_eq(h->xff_name, "X-Real-IP");
	cr_expect_eq(h->xff_name_len, 9);
	cr_expect_eq(h->n_policies, 0);
	/* no application_profile_ref: System-HTTP, all defaults */
	const struct sl_gen_http *d = tgen_vs(t.gen, "d")->http;
	cr_assert(d);
	cr_expect(d->xff && !d->xfp && d->websockets && d->multiplex && !d->http_to_https);
	cr_expect_eq(d->keepalive_timeout_ms, 30000);
	cr_expect_eq(d->max_keepalive_requests, 100);
	cr_expect_null(tgen_vs(t.gen, "l4")->http, "only HTTP VSs have one");

	/* a profile change reaches the VS (rebuilt), the other VS keeps its build */
	cr_assert_eq(treq_sq(&t, "PATCH", "/api/applicationprofile/hp", "{'http_profile':{'keepalive_timeout':7000}}", NULL), 200);
	cr_expect_eq(tgen_vs(t.gen, "v")->http->keepalive_timeout_ms, 7000);
	cr_expect_eq(tgen_vs(t.gen, "v")->http->max_request_size, 64 * 1024, "merge patch keeps the other fields");
	cr_expect_eq(tgen_vs(t.gen, "d")->http, d);
	/* a VS changed to L4 loses its http */
	cr_assert_eq(treq_sq(&t, "PATCH", "/api/virtualservice/v", "{'application_profile_ref':'System-L4-Application'}", NULL), 200);
	cr_expect_null(tgen_vs(t.gen, "v")->http);

	uint64_t g0 = sl_ctl_generation(t.c);
	cr_expect_eq(treq_sq(&t, "PATCH", "/api/applicationprofile/hp", "{'http_profile':{'xff_alternate_name':'X Real'}}", &r), 422);
	cr_expect_str_eq(jpath(r), "http_profile.xff_alternate_name");
	json_decref(r);
	cr_expect_eq(treq_sq(&t, "POST", "/api/macro",
			 "[{'model_name':'Pool','data':{'name':'p'}},{'model_name':'ApplicationProfile','data':{'name':'h2',"
			 "'type':'APPLICATION_PROFILE_TYPE_HTTP','http_profile':"
			 "{'xff_alternate_name':'X-01234567890123456789012345678901234567890123456789012345678901'}}}]", &r), 422);
	cr_expect_str_eq(jpath(r), "[1].data.http_profile.xff_alternate_name", "64 bytes do not fit");
	json_decref(r);
	cr_expect_eq(sl_ctl_generation(t.c), g0);
	tctl_fini(&t);
}

Test(gen_http, bad_regex_refused_with_path_generation_kept)
{
	struct tctl t;
	json_t *r = NULL;
	init_base(&t);
	struct sl_gen *g0 = t.gen;
	const struct sl_gen_http *h0 = tgen_vs(g0, "v")->http;
	unsigned np = t.n_published;
	uint64_t id = sl_ctl_generation(t.c);
	static const char bad_rules[] =
		"'http_request_policy':{'rules':[{'name':'a','index':1},{'name':'b','index':2,'match':{'path':"
		"{'match_criteria':'BEGINS_WITH','match_str':['/ok']}}},{'name':'c','index':3,'match':{'path':"
		"{'match_criteria':'REGEX_MATCH','match_str':['/(x']}}}]}";
	char body[1024];
	snprintf(body, sizeof(body), "{'name':'bad',%s}", bad_rules);
	cr_expect_eq(treq_sq(&t, "POST", "/api/httppolicyset", body, &r), 422);
	cr_expect_str_eq(jpath(r), "http_request_policy.rules[2].match.path.match_str[0]");
	cr_expect_str_eq(json_string_value(json_object_get(r, "error")), "invalid_policy");
	json_decref(r);
	/* in a macro, with the part's prefix; and a bad change to the set in use */
	snprintf(body, sizeof(body), "[{'model_name':'Pool','data':{'name':'q'}},{'model_name':'HTTPPolicySet','data':"
		 "{'name':'bad',%s}}]", bad_rules);
	cr_expect_eq(treq_sq(&t, "POST", "/api/macro", body, &r), 422);
	cr_expect_str_eq(jpath(r), "[1].data.http_request_policy.rules[2].match.path.match_str[0]");
	json_decref(r);
	snprintf(body, sizeof(body), "{%s}", bad_rules);
	cr_expect_eq(treq_sq(&t, "PATCH", "/api/httppolicyset/s", body, &r), 422);
	cr_expect_str_eq(jpath(r), "http_request_policy.rules[2].match.path.match_str[0]");
	json_decref(r);
	cr_expect_eq(t.n_published, np, "nothing published");
	cr_expect_eq(t.gen, g0);
	cr_expect_eq(sl_ctl_generation(t.c), id);
	cr_expect_eq(tgen_vs(t.gen, "v")->http, h0);
	cr_expect_eq(treq_sq(&t, "GET", "/api/httppolicyset/bad", NULL, NULL), 404);
	tctl_fini(&t);
}

Test(gen_http, missing_pool_refused_with_path)
{
	struct tctl t;
	json_t *r = NULL;
	init_base(&t);
	uint64_t id = sl_ctl_generation(t.c);
	cr_expect_eq(treq_sq(&t, "POST", "/api/macro",
			 "[{'model_name':'HTTPPolicySet','data':{'name':'m','http_request_policy':{'rules':["
			 "{'name':'r','index':0,'switching_action':{'action':'HTTP_SWITCHING_SELECT_POOL','pool_ref':'/api/pool?name=nope'}}]}}},"
			 "{'model_name':'VirtualService','data':{'name':'w','vip':[{'ip_address':{'addr':'198.18.0.30'}}],"
			 "'services':[{'port':80}],'http_policies':[{'index':0,'http_policy_set_ref':'m'}]}}]", &r), 422);
	cr_expect_str_eq(jpath(r), "[0].data.http_request_policy.rules[0].switching_action.pool_ref");
	json_decref(r);
	/* a VS naming a set that does not exist */
	cr_expect_eq(treq_sq(&t, "POST", "/api/virtualservice",
			 "{'name':'w','vip':[{'ip_address':{'addr':'198.18.0.30'}}],'services':[{'port':80}],"
			 "'http_policies':[{'index':0,'http_policy_set_ref':'s'},{'index':1,'http_policy_set_ref':'nope'}]}", &r), 422);
	cr_expect_str_eq(jpath(r), "http_policies[1].http_policy_set_ref");
	json_decref(r);
	/* the pool a set switches to cannot go while the set names it */
	cr_expect_eq(treq_sq(&t, "DELETE", "/api/pool/a", NULL, &r), 409);
	json_decref(r);
	cr_expect_eq(sl_ctl_generation(t.c), id);
	tctl_fini(&t);
}

Test(gen_http, shared_until_profile_or_set_changes)
{
	struct kctl k;
	struct tctl *t = &k.t;
	json_t *r = NULL;
	kctl_init(&k);
	cr_assert_eq(treq_sq(t, "POST", "/api/macro", base, NULL), 200);
	const struct sl_gen_http *h = tgen_vs(k.cur, "v")->http;
	cr_assert(h && h->n_policies == 1);
	cr_expect_eq(h->refs, 1);
	int32_t target = -1;
	cr_assert_eq(eval(h->policies[0], "x", "/", 80, &target), SL_POLICY_POOL);
	cr_expect_eq((uint32_t)target, slot_of(t, "pool", "a", k.cur));
	cr_assert_eq(eval(h->policies[0], "y", "/g/1", 80, &target), SL_POLICY_POOLGROUP);
	cr_expect_eq((uint32_t)target, slot_of(t, "poolgroup", "g", k.cur));

	/* unrelated change (patched generation): same build, held by both generations */
	cr_assert_eq(treq_sq(t, "PATCH", "/api/pool/b", "{'servers':[{'ip':{'addr':'198.18.1.3'},'ratio':5}]}", NULL), 200);
	cr_expect_eq(tgen_vs(k.cur, "v")->http, h);
	cr_expect_eq(h->refs, 2);
	/* the pool the set switches to changes: slots are stable, nothing to rebuild */
	cr_assert_eq(treq_sq(t, "PATCH", "/api/pool/a", "{'servers':[{'ip':{'addr':'198.18.1.9'}}]}", NULL), 200);
	cr_expect_eq(tgen_vs(k.cur, "v")->http, h);
	/* a VS change that keeps profile and sets */
	cr_assert_eq(treq_sq(t, "PATCH", "/api/virtualservice/v", "{'enabled':false}", NULL), 200);
	cr_expect_eq(tgen_vs(k.cur, "v")->http, h);
	/* a new object (full build) */
	cr_assert_eq(treq_sq(t, "POST", "/api/pool", "{'name':'c'}", NULL), 201);
	cr_expect_eq(tgen_vs(k.cur, "v")->http, h);
	cr_expect_eq(h->refs, 2);

	/* the set changes (patched generation: v is not in the transaction): rebuilt, bound anew */
	cr_assert_eq(treq_sq(t, "PATCH", "/api/httppolicyset/s", "{'http_request_policy':{'rules':[{'name':'r0','index':1,"
			 "'switching_action':{'action':'HTTP_SWITCHING_SELECT_POOL','pool_ref':'c'}}]}}", NULL), 200);
	const struct sl_gen_http *h2 = tgen_vs(k.cur, "v")->http;
	cr_assert(h2 && h2 != h);
	cr_expect_eq(h2->refs, 1);
	cr_expect_eq(h->refs, 1, "only the previous generation holds the old build");
	cr_assert_eq(eval(h2->policies[0], "x", "/", 80, &target), SL_POLICY_POOL);
	cr_expect_eq((uint32_t)target, slot_of(t, "pool", "c", k.cur));
	/* the set changes in a full build (a new pool in the same macro) */
	cr_assert_eq(treq_sq(t, "PUT", "/api/macro", "[{'model_name':'Pool','data':{'name':'e'}},{'model_name':'HTTPPolicySet',"
			 "'data':{'name':'s','http_request_policy':{'rules':[{'name':'r0','index':1,"
			 "'switching_action':{'action':'HTTP_SWITCHING_SELECT_POOL','pool_ref':'e'}}]}}}]", &r), 200);
	json_decref(r);
	const struct sl_gen_http *h3 = tgen_vs(k.cur, "v")->http;
	cr_assert(h3 && h3 != h2);
	cr_assert_eq(eval(h3->policies[0], "x", "/", 80, &target), SL_POLICY_POOL);
	cr_expect_eq((uint32_t)target, slot_of(t, "pool", "e", k.cur));
	/* the VS's own list changes: a second set, in index order */
	cr_assert_eq(treq_sq(t, "POST", "/api/httppolicyset", "{'name':'s0','http_request_policy':{'rules':[{'name':'z',"
			 "'index':0,'switching_action':{'action':'HTTP_SWITCHING_SELECT_LOCAL'}}]}}", NULL), 201);
	cr_assert_eq(treq_sq(t, "PATCH", "/api/virtualservice/v", "{'http_policies':[{'index':5,'http_policy_set_ref':'s'},"
			 "{'index':4,'http_policy_set_ref':'s0'}]}", NULL), 200);
	const struct sl_gen_http *h4 = tgen_vs(k.cur, "v")->http;
	cr_assert(h4 && h4 != h3 && h4->n_policies == 2);
	cr_expect_str_eq(sl_policy_name(h4->policies[0]), "s0");
	cr_expect_str_eq(sl_policy_name(h4->policies[1]), "s");

	/* a set in use cannot be deleted */
	cr_expect_eq(treq_sq(t, "DELETE", "/api/httppolicyset/s0", NULL, &r), 409);
	cr_expect_str_eq(json_string_value(json_object_get(r, "error")), "in_use");
	json_decref(r);
	kctl_fini(&k);
}

/* Cookie matches (Avi's CookieMatch: key, one value) and every QUERY_MATCH_* criterion pass
 * control's schema and reach the generation's compiled set (the engine's own tests,
 * tests/dataplane/policy/, check each criterion's meaning). */
static const char *one_cookie(void *arg, const char *name, size_t name_len, unsigned nth, size_t *vlen)
{
	const char *v = arg;
	if (nth || name_len != 6 || strncasecmp(name, "cookie", 6) || !v)
		return NULL;
	*vlen = strlen(v);
	return v;
}

static enum sl_policy_decision eval_q(const struct sl_policy_set *s, const char *query, const char *cookie)
{
	struct sl_policy_worker_ctx *w = sl_policy_worker_ctx_new();
	cr_assert(w);
	struct sl_policy_req rq = { "GET", 3, "h", 1, "/", 1, query, query ? strlen(query) : 0, 80, SL_POLICY_HTTP,
				    one_cookie, (void *)cookie };
	struct sl_policy_result res;
	enum sl_policy_decision d = (enum sl_policy_decision)sl_policy_eval_request(s, w, &rq, &res);
	sl_policy_worker_ctx_free(w);
	return d;
}

Test(gen_http, cookie_and_every_query_criterion_accepted)
{
	static const struct { const char *crit, *str, *yes, *no; } q[] = {
		{ "QUERY_MATCH_CONTAINS", "b=2", "a=1&b=2", "a=1" },
		{ "QUERY_MATCH_DOES_NOT_CONTAIN", "b=2", "a=1", "a=1&b=2" },
		{ "QUERY_MATCH_EXISTS", NULL, "a", NULL },
		{ "QUERY_MATCH_DOES_NOT_EXIST", NULL, NULL, "a" },
		{ "QUERY_MATCH_BEGINS_WITH", "a=", "a=1", "b=1" },
		{ "QUERY_MATCH_DOES_NOT_BEGIN_WITH", "a=", "b=1", "a=1" },
		{ "QUERY_MATCH_ENDS_WITH", "=1", "a=1", "a=2" },
		{ "QUERY_MATCH_DOES_NOT_END_WITH", "=1", "a=2", "a=1" },
		{ "QUERY_MATCH_EQUALS", "a=1", "a=1", "a=12" },
		{ "QUERY_MATCH_DOES_NOT_EQUAL", "a=1", "a=12", "a=1" },
		{ "QUERY_MATCH_REGEX_MATCH", "^id=[0-9]+$", "id=42", "id=x" },
		{ "QUERY_MATCH_REGEX_DOES_NOT_MATCH", "^id=[0-9]+$", "id=x", "id=42" },
	};
	struct tctl t;
	char body[1024];
	json_t *r = NULL;

	init_base(&t);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		snprintf(body, sizeof(body),
			 "{'http_request_policy':{'rules':[{'name':'q','index':1,'match':{'query':{'match_criteria':'%s'%s%s%s,"
			 "'match_case':'SENSITIVE'}},'switching_action':{'action':'HTTP_SWITCHING_SELECT_POOL','pool_ref':'a'}}]}}",
			 q[i].crit, q[i].str ? ",'match_str':['" : "", q[i].str ? q[i].str : "", q[i].str ? "']" : "");
		cr_assert_eq(treq_sq(&t, "PATCH", "/api/httppolicyset/s", body, &r), 200, "%s: %s", q[i].crit,
			     r ? json_dumps(r, 0) : "");
		json_decref(r);
		r = NULL;
		const struct sl_gen_http *h = tgen_vs(t.gen, "v")->http;
		cr_expect_eq(eval_q(h->policies[0], q[i].yes, NULL), SL_POLICY_POOL, "%s on %s", q[i].crit, q[i].yes);
		cr_expect_eq(eval_q(h->policies[0], q[i].no, NULL), SL_POLICY_CONTINUE, "%s on %s", q[i].crit, q[i].no);
	}
	/* cookie, with Avi's key and with name */
	static const char *const ck[] = { "key", "name" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(body, sizeof(body),
			 "{'http_request_policy':{'rules':[{'name':'c','index':1,'match':{'cookie':{'match_criteria':"
			 "'HDR_BEGINS_WITH','%s':'lang','value':'EN'}},'switching_action':{'action':"
			 "'HTTP_SWITCHING_SELECT_POOL','pool_ref':'a'}}]}}", ck[i]);
		cr_assert_eq(treq_sq(&t, "PATCH", "/api/httppolicyset/s", body, &r), 200, "%s", r ? json_dumps(r, 0) : "");
		json_decref(r);
		r = NULL;
		const struct sl_gen_http *h = tgen_vs(t.gen, "v")->http;
		cr_expect_eq(eval_q(h->policies[0], NULL, "a=1; lang=en-GB"), SL_POLICY_POOL, "%s", ck[i]);
		cr_expect_eq(eval_q(h->policies[0], NULL, "a=1; xlang=en"), SL_POLICY_CONTINUE, "%s", ck[i]);
		cr_expect_eq(eval_q(h->policies[0], NULL, NULL), SL_POLICY_CONTINUE, "%s", ck[i]);
	}
	/* a cookie without its name is refused at the field */
	cr_expect_eq(treq_sq(&t, "PATCH", "/api/httppolicyset/s",
			     "{'http_request_policy':{'rules':[{'name':'c','index':1,'match':{'cookie':{'match_criteria':"
			     "'HDR_EQUALS','value':'x'}}}]}}", &r), 422);
	cr_expect_str_eq(jpath(r), "http_request_policy.rules[0].match.cookie.key");
	json_decref(r);
	tctl_fini(&t);
}
