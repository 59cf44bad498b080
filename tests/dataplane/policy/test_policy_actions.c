/* Rule order, enable, every action, how rules combine, redirect building,
 * reference binding and the AKO payloads from the seed. */
#include <errno.h>

#include "policy_test.h"

#ifndef POLICY_FIXTURE_DIR
#error POLICY_FIXTURE_DIR
#endif

static struct sl_policy_worker_ctx *w;

static void setup(void)
{
	w = sl_policy_worker_ctx_new();
	cr_assert(w);
}

static void teardown(void)
{
	sl_policy_worker_ctx_free(w);
}

TestSuite(policy_actions, .init = setup, .fini = teardown);

#define POOL(p) "\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_POOL\",\"pool_ref\":\"/api/pool?name=" p "\"}"
#define PG(p) "\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_POOLGROUP\",\"pool_group_ref\":\"" p "\"}"
#define PFX(s) "\"match\":{\"path\":{\"match_criteria\":\"BEGINS_WITH\",\"match_str\":[\"" s "\"]}}"
#define HA(op, n, v) "{\"action\":\"" op "\",\"hdr\":{\"name\":\"" n "\",\"value\":{\"val\":\"" v "\"}}}"

Test(policy_actions, index_order_not_array_order)
{
	/* Array order is 2, 1, 3: index 1 is looked at first. */
	struct sl_policy_set *s = tp_compile("{\"name\":\"o\",\"http_request_policy\":{\"rules\":["
		"{\"name\":\"two\",\"index\":2," PFX("/") "," POOL("p2") "},"
		"{\"name\":\"one\",\"index\":1," PFX("/a") "," POOL("p1") "},"
		"{\"name\":\"three\",\"index\":3," PFX("/") "," POOL("p3") "}]}}");
	struct treq t;
	struct sl_policy_result r;
	treq_init(&t, "GET", "h", "/a/x", NULL);
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_POOL);
	cr_expect_str_eq(r.rule_name, "one");
	cr_expect_eq(r.rule_index, 1);
	cr_expect_str_eq(r.target_ref, "/api/pool?name=p1");
	cr_expect_eq(r.n_matched, 1, "rules without header actions are not matched after a decision");
	cr_expect_eq(r.target, -1, "unbound set reports no handle");
	treq_init(&t, "GET", "h", "/b", NULL);
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_POOL);
	cr_expect_str_eq(r.rule_name, "two");
	cr_expect_eq(sl_policy_rule_count(s, false), 3);
	sl_policy_free(s);
}

Test(policy_actions, disabled_rule_is_skipped)
{
	struct sl_policy_set *s = tp_compile("{\"name\":\"e\",\"http_request_policy\":{\"rules\":["
		"{\"name\":\"off\",\"index\":0,\"enable\":false," POOL("p0") "},"
		"{\"name\":\"on\",\"index\":5," POOL("p5") "}]}}");
	struct treq t;
	struct sl_policy_result r;
	treq_init(&t, "GET", "h", "/", NULL);
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_POOL);
	cr_expect_str_eq(r.rule_name, "on");
	cr_expect_eq(r.n_matched, 1);
	sl_policy_free(s);
}

Test(policy_actions, no_match_continues)
{
	struct sl_policy_set *s = tp_compile("{\"name\":\"n\",\"http_request_policy\":{\"rules\":["
		"{\"name\":\"a\",\"index\":0," PFX("/a") "," POOL("p") "}]}}");
	struct treq t;
	struct sl_policy_result r;
	treq_init(&t, "GET", "h", "/b", NULL);
	cr_expect_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_CONTINUE);
	cr_expect_eq(r.rule_index, -1);
	cr_expect_null(r.rule_name);
	cr_expect_eq(r.n_matched, 0);
	cr_expect_eq(r.n_hdr, 0);
	sl_policy_free(s);
	/* A set with no policies at all compiles and never decides. */
	s = tp_compile("{\"name\":\"empty\"}");
	cr_expect_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_CONTINUE);
	cr_expect_eq(sl_policy_eval_response(s, w, &t.r, &r), 0);
	sl_policy_free(s);
}

Test(policy_actions, local_response)
{
	struct sl_policy_set *s = tp_compile("{\"name\":\"l\",\"http_request_policy\":{\"rules\":["
		"{\"name\":\"deny\",\"index\":0," PFX("/admin") ",\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_LOCAL\","
		"\"status_code\":\"HTTP_LOCAL_RESPONSE_STATUS_CODE_403\",\"file\":{\"content_type\":\"text/plain\","
		"\"file_content\":\"no\\n\",\"file_length\":3}}},"
		"{\"name\":\"empty\",\"index\":1," PFX("/204") ",\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_LOCAL\","
		"\"status_code\":\"HTTP_LOCAL_RESPONSE_STATUS_CODE_204\"}},"
		"{\"name\":\"dflt\",\"index\":2," PFX("/ok") ",\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_LOCAL\"}},"
		"{\"name\":\"late\",\"index\":3," POOL("p") "}]}}");
	struct treq t;
	struct sl_policy_result r;
	treq_init(&t, "GET", "h", "/admin/x", NULL);
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_LOCAL);
	cr_expect_eq(r.status, 403);
	cr_assert(r.local);
	cr_expect_str_eq(r.local->content_type, "text/plain");
	cr_expect_eq(r.local->body_len, 3);
	cr_expect_eq(memcmp(r.local->body, "no\n", 3), 0);
	cr_expect_eq(r.n_matched, 1, "a local response ends evaluation");
	treq_init(&t, "GET", "h", "/204", NULL);
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_LOCAL);
	cr_expect_eq(r.status, 204);
	cr_expect_null(r.local->content_type);
	cr_expect_eq(r.local->body_len, 0);
	treq_init(&t, "GET", "h", "/ok", NULL);
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_LOCAL);
	cr_expect_eq(r.status, 200);
	sl_policy_free(s);
}

Test(policy_actions, pool_group_and_first_decision_wins)
{
	struct sl_policy_set *s = tp_compile("{\"name\":\"g\",\"http_request_policy\":{\"rules\":["
		"{\"name\":\"a\",\"index\":0," PFX("/") "," PG("/api/poolgroup/?name=web&tenant=admin") "},"
		"{\"name\":\"b\",\"index\":1," PFX("/") "," POOL("other") "},"
		"{\"name\":\"c\",\"index\":2," PFX("/") ",\"redirect_action\":{\"protocol\":\"HTTPS\"}}]}}");
	struct treq t;
	struct sl_policy_result r;
	treq_init(&t, "GET", "h", "/", NULL);
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_POOLGROUP);
	cr_expect_str_eq(r.rule_name, "a");
	cr_expect_str_eq(r.target_ref, "/api/poolgroup/?name=web&tenant=admin");
	cr_expect_null(r.redirect, "a later redirect does not override the switch");
	cr_expect_eq(r.n_matched, 1);
	cr_expect_str_eq(r.first_name, "a");
	sl_policy_free(s);
}

Test(policy_actions, header_actions_accumulate)
{
	struct sl_policy_set *s = tp_compile("{\"name\":\"h\",\"http_request_policy\":{\"rules\":["
		"{\"name\":\"hdr-only\",\"index\":0," PFX("/") ",\"hdr_action\":["
			HA("HTTP_ADD_HDR", "X-A", "1") "," HA("HTTP_REPLACE_HDR", "X-B", "two") ","
			"{\"action\":\"HTTP_REMOVE_HDR\",\"hdr\":{\"name\":\"X-C\"}}]},"
		"{\"name\":\"switch\",\"index\":1," PFX("/") "," POOL("p") ",\"hdr_action\":[" HA("HTTP_ADD_HDR", "X-D", "d") "]},"
		"{\"name\":\"after\",\"index\":2," PFX("/") ",\"hdr_action\":["
			"{\"action\":\"HTTP_ADD_HDR\",\"hdr\":{\"name\":\"X-Secret\",\"value\":{\"val\":\"s\",\"is_sensitive\":true}}}]},"
		"{\"name\":\"miss\",\"index\":3," PFX("/nomatch") ",\"hdr_action\":[" HA("HTTP_ADD_HDR", "X-No", "1") "]}]}}");
	struct treq t;
	struct sl_policy_result r;
	treq_init(&t, "GET", "h", "/x", NULL);
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_POOL);
	cr_expect_str_eq(r.rule_name, "switch");
	cr_expect_str_eq(r.first_name, "hdr-only");
	cr_assert_eq(r.n_hdr, 5);
	static const struct { enum sl_policy_hdr_op op; const char *n, *v; } want[] = {
		{ SL_POLICY_HDR_ADD, "X-A", "1" }, { SL_POLICY_HDR_REPLACE, "X-B", "two" },
		{ SL_POLICY_HDR_REMOVE, "X-C", "" }, { SL_POLICY_HDR_ADD, "X-D", "d" }, { SL_POLICY_HDR_ADD, "X-Secret", "s" },
	};
	for (unsigned i = 0; i < 5; i++) {
		cr_expect_eq(r.hdr[i]->op, want[i].op, "hdr %u", i);
		cr_expect_eq(r.hdr[i]->name_len, strlen(want[i].n));
		cr_expect_eq(memcmp(r.hdr[i]->name, want[i].n, r.hdr[i]->name_len), 0);
		cr_expect_eq(r.hdr[i]->value_len, strlen(want[i].v));
		cr_expect_eq(memcmp(r.hdr[i]->value, want[i].v, r.hdr[i]->value_len), 0);
	}
	cr_expect(r.hdr[4]->sensitive);
	cr_expect(!r.hdr[0]->sensitive);
	sl_policy_free(s);
}

Test(policy_actions, response_rules)
{
	struct sl_policy_set *s = tp_compile("{\"name\":\"rsp\",\"http_response_policy\":{\"rules\":["
		"{\"name\":\"hsts\",\"index\":1,\"match\":{\"protocol\":{\"match_criteria\":\"IS_IN\",\"protocols\":\"HTTPS\"}},"
		"\"hdr_action\":[" HA("HTTP_ADD_HDR", "Strict-Transport-Security", "max-age=31536000") "]},"
		"{\"name\":\"server\",\"index\":0,\"hdr_action\":[{\"action\":\"HTTP_REMOVE_HDR\",\"hdr\":{\"name\":\"Server\"}}]}]}}");
	struct treq t;
	struct sl_policy_result r;
	treq_init(&t, "GET", "h", "/", NULL);
	cr_expect_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_CONTINUE);
	cr_expect_eq(r.n_hdr, 0, "response rules do not run on the request");
	cr_assert_eq(sl_policy_eval_response(s, w, &t.r, &r), 1);
	cr_expect_eq(r.hdr[0]->op, SL_POLICY_HDR_REMOVE);
	t.r.proto = SL_POLICY_HTTPS;
	cr_assert_eq(sl_policy_eval_response(s, w, &t.r, &r), 2);
	cr_expect_str_eq(r.first_name, "server");
	cr_expect_eq(r.hdr[1]->op, SL_POLICY_HDR_ADD);
	cr_expect_eq(sl_policy_rule_count(s, true), 2);
	sl_policy_worker_stats(w);
	cr_expect_eq(sl_policy_worker_stats(w)->rsp_evals, 2);
	sl_policy_free(s);
}

/* ---- redirects ---- */

static int build(const char *redirect_json, const char *host, const char *path, const char *query, char *out,
		 size_t cap, uint16_t *status)
{
	char js[2048];
	snprintf(js, sizeof(js), "{\"name\":\"r\",\"http_request_policy\":{\"rules\":[{\"name\":\"r\",\"index\":0,"
		 "\"redirect_action\":%s}]}}", redirect_json);
	struct sl_policy_set *s = tp_compile(js);
	struct treq t;
	struct sl_policy_result r;
	treq_init(&t, "GET", host, path, query);
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_REDIRECT);
	cr_assert(r.redirect);
	*status = r.status;
	cr_expect_eq(sl_policy_redirect_status(r.redirect), r.status);
	int n = sl_policy_redirect_build(r.redirect, &t.r, out, cap);
	sl_policy_free(s);
	return n;
}

Test(policy_actions, redirect_build)
{
	static const struct {
		const char *js, *host, *path, *query, *want;
		uint16_t status;
	} c[] = {
		/* Only the protocol: host, path and query kept, the default port left out. */
		{ "{\"protocol\":\"HTTPS\"}", "a.example.com", "/p/q", "x=1", "https://a.example.com/p/q?x=1", 302 },
		{ "{\"protocol\":\"HTTPS\",\"port\":443}", "a.example.com:80", "/", NULL, "https://a.example.com/", 302 },
		{ "{\"protocol\":\"HTTP\",\"port\":80,\"status_code\":\"HTTP_REDIRECT_STATUS_CODE_301\"}", "a", "/x", NULL,
		  "http://a/x", 301 },
		{ "{\"protocol\":\"HTTPS\",\"port\":8443,\"status_code\":\"HTTP_REDIRECT_STATUS_CODE_307\"}", "a", "/x", "q",
		  "https://a:8443/x?q", 307 },
		{ "{\"protocol\":\"HTTP\",\"status_code\":\"HTTP_REDIRECT_STATUS_CODE_308\"}", "a", "", NULL, "http://a/", 308 },
		/* keep_query false drops the query. */
		{ "{\"protocol\":\"HTTPS\",\"keep_query\":false}", "a", "/x", "secret=1", "https://a/x", 302 },
		{ "{\"protocol\":\"HTTPS\",\"keep_query\":true}", "a", "/x", "k=1", "https://a/x?k=1", 302 },
		/* Host and path from tokens. */
		{ "{\"protocol\":\"HTTPS\",\"host\":{\"type\":\"URI_PARAM_TYPE_TOKENIZED\",\"tokens\":[{\"type\":\"URI_TOKEN_TYPE_STRING\","
		  "\"str_value\":\"www.example.org\"}]},\"path\":{\"type\":\"URI_PARAM_TYPE_TOKENIZED\",\"tokens\":[{\"type\":"
		  "\"URI_TOKEN_TYPE_STRING\",\"str_value\":\"new/\"},{\"type\":\"URI_TOKEN_TYPE_PATH\",\"start_index\":1}]}}",
		  "old.example.com", "/old/a/b", "z=2", "https://www.example.org/new/a/b?z=2", 302 },
		{ "{\"protocol\":\"HTTP\",\"host\":{\"type\":\"URI_PARAM_TYPE_TOKENIZED\",\"tokens\":[{\"type\":\"URI_TOKEN_TYPE_STRING\","
		  "\"str_value\":\"m.\"},{\"type\":\"URI_TOKEN_TYPE_HOST\",\"start_index\":1,\"end_index\":2}]}}",
		  "www.example.com:8080", "/", NULL, "http://m.example.com/", 302 },
		{ "{\"protocol\":\"HTTP\",\"path\":{\"type\":\"URI_PARAM_TYPE_TOKENIZED\",\"tokens\":[{\"type\":\"URI_TOKEN_TYPE_PATH\","
		  "\"start_index\":0,\"end_index\":0}]}}", "a", "/first/second", NULL, "http://a/first", 302 },
		{ "{\"protocol\":\"HTTP\",\"path\":{\"type\":\"URI_PARAM_TYPE_TOKENIZED\",\"tokens\":[{\"type\":\"URI_TOKEN_TYPE_STRING\","
		  "\"str_value\":\"/abs\"}]}}", "a", "/x", NULL, "http://a/abs", 302 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char out[512];
		uint16_t st;
		int n = build(c[i].js, c[i].host, c[i].path, c[i].query, out, sizeof(out), &st);
		cr_expect_eq(n, (int)strlen(c[i].want), "case %zu: %d (%s)", i, n, n > 0 ? out : "");
		if (n > 0)
			cr_expect_str_eq(out, c[i].want, "case %zu", i);
		cr_expect_eq(st, c[i].status, "case %zu", i);
	}
}

Test(policy_actions, redirect_build_limits)
{
	char out[64];
	uint16_t st;
	/* Exactly fits (25 chars + NUL), one byte less does not. */
	cr_expect_eq(build("{\"protocol\":\"HTTPS\"}", "a.example.com", "/abc", NULL, out, 26, &st), 25);
	cr_expect_eq(build("{\"protocol\":\"HTTPS\"}", "a.example.com", "/abc", NULL, out, 25, &st), -ENOSPC);
	/* No host anywhere: nothing to redirect to. */
	cr_expect_eq(build("{\"protocol\":\"HTTPS\"}", NULL, "/", NULL, out, sizeof(out), &st), -EINVAL);
	/* Request bytes that cannot go into a header are refused, not copied. */
	cr_expect_eq(build("{\"protocol\":\"HTTPS\"}", "a", "/x\r\nSet-Cookie: a=b", NULL, out, sizeof(out), &st),
		     -EINVAL);
}

/* ---- binding references ---- */

struct bind_log {
	int calls;
	enum sl_policy_ref_kind kind[8];
	char ref[8][96];
};

/* Stands in for the generation builder: handle 100 + n for the nth call,
 * -ENOENT for any ref naming "missing". */
static int resolver(void *arg, enum sl_policy_ref_kind kind, const char *ref)
{
	struct bind_log *l = arg;
	if (l->calls < 8) {
		l->kind[l->calls] = kind;
		snprintf(l->ref[l->calls], sizeof(l->ref[0]), "%s", ref);
	}
	l->calls++;
	if (strstr(ref, "missing"))
		return -ENOENT;
	return 100 + l->calls;
}

Test(policy_actions, bind_resolves_refs)
{
	struct sl_policy_set *s = tp_compile("{\"name\":\"b\",\"http_request_policy\":{\"rules\":["
		"{\"name\":\"a\",\"index\":0," PFX("/a") "," POOL("web") "},"
		"{\"name\":\"b\",\"index\":1," PFX("/b") "," PG("/api/poolgroup/poolgroup-1234") "},"
		"{\"name\":\"d\",\"index\":3,\"enable\":false," PFX("/d") ",\"switching_action\":{\"action\":"
		"\"HTTP_SWITCHING_SELECT_POOL\",\"pool_ref\":\"plain\"}},"
		"{\"name\":\"l\",\"index\":4,\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_LOCAL\"}}]}}");
	struct bind_log l = { 0 };
	char path[256], msg[256];
	cr_assert_eq(sl_policy_bind(s, resolver, &l, path, sizeof(path), msg, sizeof(msg)), 0, "%s: %s", path, msg);
	cr_assert_eq(l.calls, 3, "disabled rules are bound too, local responses have nothing to bind");
	cr_expect_eq(l.kind[0], SL_POLICY_REF_POOL);
	cr_expect_str_eq(l.ref[0], "/api/pool?name=web");
	cr_expect_eq(l.kind[1], SL_POLICY_REF_POOLGROUP);
	cr_expect_str_eq(l.ref[1], "/api/poolgroup/poolgroup-1234");
	cr_expect_str_eq(l.ref[2], "plain");
	struct treq t;
	struct sl_policy_result r;
	treq_init(&t, "GET", "h", "/b", NULL);
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_POOLGROUP);
	cr_expect_eq(r.target, 102);
	treq_init(&t, "GET", "h", "/a", NULL);
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_POOL);
	cr_expect_eq(r.target, 101);
	sl_policy_free(s);
}

Test(policy_actions, bind_missing_pool_names_its_path)
{
	struct sl_policy_set *s = tp_compile("{\"name\":\"b\",\"http_request_policy\":{\"rules\":["
		"{\"name\":\"z\",\"index\":9," PFX("/z") "," POOL("ok") "},"
		"{\"name\":\"a\",\"index\":0," PFX("/a") "," PG("/api/poolgroup?name=missing") "}]}}");
	struct bind_log l = { 0 };
	char path[256], msg[256];
	cr_expect_eq(sl_policy_bind(s, resolver, &l, path, sizeof(path), msg, sizeof(msg)), -ENOENT);
	/* rules[1] in the JSON even though it is evaluated first. */
	cr_expect_str_eq(path, "http_request_policy.rules[1].switching_action.pool_group_ref");
	cr_expect(strstr(msg, "missing"), "%s", msg);
	sl_policy_free(s);
}

/* ---- the AKO payloads of the seed ---- */

static json_t *fixture(const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", POLICY_FIXTURE_DIR, name);
	json_error_t je;
	json_t *j = json_load_file(p, 0, &je);
	cr_assert(j, "%s: %s", p, je.text);
	json_t *d = json_incref(json_object_get(j, "data"));
	json_decref(j);
	cr_assert(d);
	return d;
}

/* The HTTP->HTTPS redirect AKO puts on the shared parent VS. */
Test(policy_actions, ako_redirect_fixture)
{
	json_t *d = fixture("ako_1_httppolicyset.json");
	char path[256], msg[256];
	struct sl_policy_set *s = sl_policy_compile(d, path, sizeof(path), msg, sizeof(msg));
	json_decref(d);
	cr_assert(s, "%s: %s", path, msg);
	cr_expect_str_eq(sl_policy_name(s), "S1-AZ1--Shared-L7-0");
	struct treq t;
	struct sl_policy_result r;
	treq_init(&t, "GET", "hackazon.avi.iberia.local", "/index.php", "a=1");
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_REDIRECT);
	cr_expect_str_eq(r.rule_name, "S1-AZ1--Shared-L7-0-0");
	cr_expect_eq(r.status, 302);
	char loc[256];
	/* The seed: "redirect the request to ... https://hackazon.avi.iberia.local". */
	cr_expect_gt(sl_policy_redirect_build(r.redirect, &t.r, loc, sizeof(loc)), 0);
	cr_expect_str_eq(loc, "https://hackazon.avi.iberia.local/index.php?a=1");
	/* Only on port 80, only for that host. */
	t.r.vs_port = 443;
	t.r.proto = SL_POLICY_HTTPS;
	cr_expect_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_CONTINUE);
	treq_init(&t, "GET", "other.avi.iberia.local", "/", NULL);
	cr_expect_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_CONTINUE);
	sl_policy_free(s);
}

/* Host + path switching to the ingress's pool group on the SNI child. */
Test(policy_actions, ako_switching_fixture)
{
	json_t *d = fixture("ako_5_httppolicyset.json");
	char path[256], msg[256];
	struct sl_policy_set *s = sl_policy_compile(d, path, sizeof(path), msg, sizeof(msg));
	json_decref(d);
	cr_assert(s, "%s: %s", path, msg);
	struct bind_log l = { 0 };
	cr_assert_eq(sl_policy_bind(s, resolver, &l, path, sizeof(path), msg, sizeof(msg)), 0);
	cr_expect_str_eq(l.ref[0], "/api/poolgroup/?name=S1-AZ1--default-hackazon.avi.iberia.local_-hackazon");
	struct treq t;
	struct sl_policy_result r;
	treq_init(&t, "GET", "hackazon.avi.iberia.local", "/", NULL);
	t.r.vs_port = 443;
	t.r.proto = SL_POLICY_HTTPS;
	cr_assert_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_POOLGROUP);
	cr_expect_eq(r.target, 101);
	treq_init(&t, "GET", "HACKAZON.avi.iberia.local", "/product/view", NULL);
	cr_expect_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_POOLGROUP);
	treq_init(&t, "GET", "kuard.avi.iberia.local", "/", NULL);
	cr_expect_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_CONTINUE);
	sl_policy_free(s);
}
