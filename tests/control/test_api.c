/* REST behaviour: macros (AKO seeds, all-or-nothing), references, in-use deletes, ETags, system
 * objects, runtime endpoints, and what the published generation contains. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_test_util.h"
#include "sl_gen.h"
#include "sl_tls.h"

static char *dq(const char *s)
{
	char *d = strdup(s);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static int req(struct tctl *t, const char *m, const char *target, const char *body, json_t **out)
{
	char *b = body ? dq(body) : NULL;
	int st = treq(t, m, target, b, out);
	free(b);
	return st;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

Test(api, ako_seed_macros_accepted_in_order)
{
	struct tctl t;
	tctl_init(&t);
	glob_t g;
	cr_assert_eq(glob(SL_FIXTURES "/ako_*.json", 0, NULL, &g), 0);
	cr_assert_eq(g.gl_pathc, 5);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *body = slurp(g.gl_pathv[i]);
		json_t *r = NULL;
		int st = treq(&t, "POST", "/api/macro", body, &r);
		char *rs = json_dumps(r, JSON_COMPACT);
		cr_expect_eq(st, 200, "%s: %d %s", g.gl_pathv[i], st, rs);
		cr_expect(json_is_array(r) && json_array_size(r) == 1);
		free(rs);
		json_decref(r);
		free(body);
	}
	globfree(&g);
	json_t *r = NULL;
	cr_expect_eq(req(&t, "GET", "/api/poolgroup?name=S1-AZ1--default-hackazon.avi.iberia.local_-hackazon", NULL, &r), 200);
	cr_expect_eq(json_integer_value(json_object_get(r, "count")), 1);
	/* references are stored canonically, by uuid */
	const char *pref = json_string_value(json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(r, "results"), 0), "members"), 0), "pool_ref"));
	cr_expect(pref && !strncmp(pref, "/api/pool/pool-", 15), "%s", pref);
	json_decref(r);
	/* bookkeeping fields are kept as sent */
	cr_expect_eq(req(&t, "GET", "/api/pool/S1-AZ1--default-hackazon.avi.iberia.local_-hackazon", NULL, &r), 200);
	cr_expect_str_eq(json_string_value(json_object_get(r, "created_by")), "ako-S1-AZ1");
	json_decref(r);
	tctl_fini(&t);
}

Test(api, macro_all_or_nothing)
{
	struct tctl t;
	tctl_init(&t);
	uint64_t g0 = sl_ctl_generation(t.c);
	json_t *r = NULL;
	int st = req(&t, "POST", "/api/macro",
		     "[{'model_name':'Pool','data':{'name':'m1'}},{'model_name':'Pool','data':{'name':'m2'}},"
		     "{'model_name':'PoolGroup','data':{'name':'mg','members':[{'pool_ref':'/api/pool?name=m1'},{'pool_ref':'m3'}]}}]", &r);
	cr_expect_eq(st, 422);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "[2].data.members[1].pool_ref");
	json_decref(r);
	st = req(&t, "POST", "/api/macro", "[{'model_name':'Pool','data':{'name':'m1'}},{'model_name':'Pool','data':{'name':'m2','x':1}}]", &r);
	cr_expect_eq(st, 400);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "[1].data.x");
	json_decref(r);
	st = req(&t, "POST", "/api/macro", "{'model_name':'Pool','data':{'name':'m1'},'extra':1}", &r);
	cr_expect_eq(st, 400);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "extra");
	json_decref(r);
	st = req(&t, "POST", "/api/macro", "[{'model_name':'Frobnicator','data':{'name':'m1'}}]", &r);
	cr_expect_eq(st, 400);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "[0].model_name");
	json_decref(r);
	cr_expect_eq(sl_ctl_generation(t.c), g0, "refused macros must not publish");
	cr_expect_eq(req(&t, "GET", "/api/pool/m1", NULL, NULL), 404);
	/* forward references inside one macro resolve; the whole set lands in one generation */
	st = req(&t, "POST", "/api/macro",
		 "[{'model_name':'PoolGroup','data':{'name':'mg','members':[{'pool_ref':'/api/pool?name=m1'}]}},"
		 "{'model_name':'Pool','data':{'name':'m1'}}]", &r);
	cr_expect_eq(st, 200);
	json_decref(r);
	cr_expect_eq(sl_ctl_generation(t.c), g0 + 1);
	/* PUT upserts; DELETE removes in one go, in-use order inside the macro does not matter */
	cr_expect_eq(req(&t, "PUT", "/api/macro", "[{'model_name':'Pool','data':{'name':'m1','default_server_port':81}},"
					     "{'model_name':'Pool','data':{'name':'m9'}}]", NULL), 200);
	cr_expect_eq(req(&t, "DELETE", "/api/macro", "[{'model_name':'Pool','data':{'name':'m1'}}]", &r), 409);
	cr_expect(strstr(json_string_value(json_object_get(r, "detail")), "mg") != NULL);
	json_decref(r);
	cr_expect_eq(req(&t, "DELETE", "/api/macro", "[{'model_name':'Pool','data':{'name':'m1'}},{'model_name':'PoolGroup','data':{'name':'mg'}}]", NULL), 200);
	cr_expect_eq(req(&t, "GET", "/api/pool/m1", NULL, NULL), 404);
	tctl_fini(&t);
}

Test(api, delete_in_use_etag_system_objects)
{
	struct tctl t;
	tctl_init(&t);
	json_t *r = NULL;
	cr_assert_eq(req(&t, "POST", "/api/pool", "{'name':'web','servers':[{'ip':{'addr':'198.18.1.2'},'port':80}]}", &r), 201);
	json_decref(r);
	cr_assert_eq(req(&t, "POST", "/api/virtualservice", "{'name':'vs','vip':[{'ip_address':{'addr':'198.18.0.10'}}],'services':[{'port':80}],'pool_ref':'web'}", NULL), 201);
	cr_expect_eq(req(&t, "DELETE", "/api/pool/web", NULL, &r), 409);
	cr_expect_str_eq(json_string_value(json_object_get(r, "error")), "in_use");
	cr_expect(strstr(json_string_value(json_object_get(r, "detail")), "virtualservice \"vs\""));
	json_decref(r);
	cr_expect_eq(req(&t, "DELETE", "/api/healthmonitor/System-TCP", NULL, NULL), 409);
	cr_expect_eq(req(&t, "PUT", "/api/applicationprofile/System-HTTP", "{'type':'APPLICATION_PROFILE_TYPE_L4'}", NULL), 409);
	/* ETag / If-Match */
	cr_assert_eq(req(&t, "GET", "/api/pool/web", NULL, &r), 200);
	char etag[32];
	snprintf(etag, sizeof(etag), "\"%lld\"", (long long)json_integer_value(json_object_get(r, "_generation")));
	json_decref(r);
	char *b = dq("{'name':'web','servers':[{'ip':{'addr':'198.18.1.3'},'port':80}]}");
	cr_expect_eq(treq_if(&t, "PUT", "/api/pool/web", "\"999\"", b, &r), 412);
	cr_expect_str_eq(json_string_value(json_object_get(r, "error")), "precondition_failed");
	json_decref(r);
	cr_expect_eq(treq_if(&t, "PUT", "/api/pool/web", etag, b, NULL), 200);
	cr_expect_eq(treq_if(&t, "PUT", "/api/pool/web", etag, b, NULL), 412, "the ETag changed with the object");
	free(b);
	/* PATCH is a merge patch; unknown fields still refused */
	cr_expect_eq(req(&t, "PATCH", "/api/pool/web", "{'lb_algorithm':'LB_ALGORITHM_LEAST_CONNECTIONS'}", &r), 200);
	cr_expect_str_eq(json_string_value(json_object_get(r, "lb_algorithm")), "LB_ALGORITHM_LEAST_CONNECTIONS");
	cr_expect_eq(json_array_size(json_object_get(r, "servers")), 1);
	json_decref(r);
	cr_expect_eq(req(&t, "PATCH", "/api/pool/web", "{'zzz':1}", &r), 400);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "zzz");
	json_decref(r);
	/* rename keeps references (they are by uuid) */
	cr_expect_eq(req(&t, "PATCH", "/api/pool/web", "{'name':'web2'}", NULL), 200);
	cr_expect_eq(req(&t, "GET", "/api/pool/web", NULL, NULL), 404);
	cr_expect_eq(req(&t, "DELETE", "/api/pool/web2", NULL, NULL), 409);
	cr_expect_eq(req(&t, "DELETE", "/api/virtualservice/vs", NULL, NULL), 204);
	cr_expect_eq(req(&t, "DELETE", "/api/pool/web2", NULL, NULL), 204);
	cr_expect_eq(req(&t, "GET", "/api/nosuchtype", NULL, NULL), 404);
	cr_expect_eq(req(&t, "POST", "/api/pool", "{'name':", &r), 400);
	cr_expect_str_eq(json_string_value(json_object_get(r, "error")), "invalid_json");
	json_decref(r);
	tctl_fini(&t);
}

Test(api, generation_tables)
{
	struct tctl t;
	tctl_init(&t);
	char *cert = slurp(SL_FIXTURES "/chain_ok.pem"), *key = slurp(SL_FIXTURES "/leaf.key");
	json_t *c = json_pack("{s:s, s:{s:s}, s:s}", "name", "c", "certificate", "certificate", cert, "key", key);
	char *cs = json_dumps(c, 0);
	cr_assert_eq(treq(&t, "POST", "/api/sslkeyandcertificate", cs, NULL), 201);
	free(cs);
	json_decref(c);
	free(cert);
	free(key);
	cr_assert_eq(req(&t, "POST", "/api/macro",
			 "[{'model_name':'Pool','data':{'name':'p','servers':[{'ip':{'addr':'198.18.1.2'},'port':8080},{'ip':{'addr':'198.18.1.3'}}],'default_server_port':9000}},"
			 "{'model_name':'VsVip','data':{'name':'v','vip':[{'ip_address':{'addr':'198.18.0.10'}}]}},"
			 "{'model_name':'VirtualService','data':{'name':'web','vsvip_ref':'v','services':[{'port':80},{'port':443,'enable_ssl':true}],"
			 "'type':'VS_TYPE_VH_PARENT','ssl_key_and_certificate_refs':['c'],'pool_ref':'p'}},"
			 "{'model_name':'VirtualService','data':{'name':'kid','type':'VS_TYPE_VH_CHILD','vh_parent_vs_ref':'web','vh_domain_name':['Shop.Sluice.Example'],'pool_ref':'p'}},"
			 "{'model_name':'VirtualService','data':{'name':'range','vip':[{'ip_address':{'addr':'198.18.0.11'}}],'services':[{'port':1000,'port_range_end':2000}],"
			 "'application_profile_ref':'System-L4-Application','network_profile_ref':'System-UDP-Fast-Path','pool_ref':'p'}}]", NULL), 200);
	struct sl_gen *g = t.gen;
	cr_assert(g);
	cr_expect_eq(g->id, sl_ctl_generation(t.c));
	cr_expect_eq(g->n_vs, 3);
	cr_expect(sl_gen_is_vip(g, ip("198.18.0.10")));
	cr_expect(sl_gen_is_vip(g, ip("198.18.0.11")));
	cr_expect(!sl_gen_is_vip(g, ip("198.18.0.12")));
	const struct sl_gen_vs *w = sl_gen_lookup(g, ip("198.18.0.10"), 6, 443);
	cr_assert(w);
	cr_expect_str_eq(w->name, "web");
	cr_expect_eq(w->app_type, SL_APP_HTTP);
	cr_expect(sl_gen_lookup_listener(g, ip("198.18.0.10"), 6, 443)->enable_ssl);
	cr_expect(!sl_gen_lookup_listener(g, ip("198.18.0.10"), 6, 80)->enable_ssl);
	cr_expect_null(sl_gen_lookup(g, ip("198.18.0.10"), 17, 80));
	cr_expect_null(sl_gen_lookup(g, ip("198.18.0.10"), 6, 81));
	const struct sl_gen_vs *rg = sl_gen_lookup(g, ip("198.18.0.11"), 17, 1500);
	cr_assert(rg);
	cr_expect_str_eq(rg->name, "range");
	cr_expect_null(sl_gen_lookup(g, ip("198.18.0.11"), 17, 2001));
	const struct sl_gen_vs *k = sl_gen_vh_child(g, w, "shop.sluice.example", 19);
	cr_assert(k);
	cr_expect_str_eq(k->name, "kid");
	cr_expect_eq(k->parent_idx, (uint32_t)(w - g->vs));
	cr_expect_null(sl_gen_vh_child(g, w, "other.sluice.example", 20));
	const struct sl_gen_pool *p = &g->pools[w->pool_idx];
	cr_expect_str_eq(p->name, "p");
	cr_expect_eq(p->n_servers, 2);
	cr_expect_eq(g->servers[p->first_server].port, 8080);
	cr_expect_eq(g->servers[p->first_server + 1].port, 9000);
	cr_expect_eq(g->vs_by_slot[w->slot], (uint32_t)(w - g->vs));
	const uint32_t *vips;
	cr_expect_eq(sl_gen_vips(g, &vips), 2);
	/* in-place changes (patched generation): VS flag, pool servers, pool group ratio */
	uint64_t before = t.gen->id;
	cr_expect_eq(req(&t, "PATCH", "/api/virtualservice/web", "{'enabled':false}", NULL), 200);
	cr_expect_eq(t.gen->id, before + 1);
	cr_expect(!sl_gen_lookup(t.gen, ip("198.18.0.10"), 6, 80)->enabled);
	cr_expect(sl_gen_lookup(t.gen, ip("198.18.0.11"), 17, 1000)->enabled);
	cr_expect_eq(req(&t, "PATCH", "/api/pool/p", "{'servers':[{'ip':{'addr':'198.18.1.7'},'port':7000},{'ip':{'addr':'198.18.1.3'}}]}", NULL), 200);
	const struct sl_gen_vs *w2 = sl_gen_lookup(t.gen, ip("198.18.0.10"), 6, 80);
	cr_expect_eq(t.gen->servers[t.gen->pools[w2->pool_idx].first_server].port, 7000);
	cr_expect_eq(t.gen->servers[t.gen->pools[w2->pool_idx].first_server].ip, ip("198.18.1.7"));
	cr_expect_str_eq(sl_gen_vh_child(t.gen, w2, "shop.sluice.example", 19)->name, "kid");
	/* a VsVip address change moves the VS without touching the VS object */
	cr_expect_eq(req(&t, "PUT", "/api/vsvip/v", "{'vip':[{'ip_address':{'addr':'198.18.0.12'}}]}", NULL), 200);
	cr_expect(sl_gen_lookup(t.gen, ip("198.18.0.12"), 6, 80) != NULL);
	cr_expect(!sl_gen_is_vip(t.gen, ip("198.18.0.10")));
	/* ... and a VsVip change that collides with another VS is refused */
	cr_expect_eq(req(&t, "PUT", "/api/vsvip/v", "{'vip':[{'ip_address':{'addr':'198.18.0.11'}}]}", NULL), 201 - 201 + 200,
		     "different protocol on the same address is fine");
	cr_assert_eq(req(&t, "POST", "/api/virtualservice", "{'name':'tcp1500','vip':[{'ip_address':{'addr':'198.18.0.13'}}],'services':[{'port':1500}],"
			 "'application_profile_ref':'System-L4-Application','network_profile_ref':'System-UDP-Fast-Path','pool_ref':'p'}", NULL), 201);
	json_t *r = NULL;
	cr_expect_eq(req(&t, "PATCH", "/api/virtualservice/range", "{'vip':[{'ip_address':{'addr':'198.18.0.13'}}]}", &r), 409);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "services[0].port");
	json_decref(r);
	tctl_fini(&t);
}

Test(api, runtime_status_metrics_and_gslb_override)
{
	struct tctl t;
	tctl_init(&t);
	json_t *r = NULL;
	cr_assert_eq(req(&t, "POST", "/api/macro",
			 "[{'model_name':'GslbService','data':{'name':'hello','domain_names':['hello.gslb.sluice.example'],"
			 "'groups':[{'members':[{'ip':{'addr':'198.18.0.50'},'ratio':6},{'ip':{'addr':'198.18.0.51'},'ratio':4}]}]}},"
			 "{'model_name':'Pool','data':{'name':'p'}},"
			 "{'model_name':'VirtualService','data':{'name':'vs','vip':[{'ip_address':{'addr':'198.18.0.10'}}],'services':[{'port':80}],'pool_ref':'p'}}]", &r), 200);
	json_decref(r);
	const volatile uint8_t *h = sl_ctl_health(t.c);
	cr_assert_eq(req(&t, "GET", "/api/gslbservice/hello/runtime", NULL, &r), 200);
	json_t *m0 = json_array_get(json_object_get(r, "members"), 0);
	int slot = (int)json_integer_value(json_object_get(m0, "health_slot"));
	cr_expect(slot >= 0 && h[slot] == 1);
	json_decref(r);
	uint64_t g = sl_ctl_generation(t.c);
	cr_expect_eq(req(&t, "PUT", "/api/gslbservice/hello/runtime", "{'members':[{'ip':'198.18.0.50','oper_up':false}]}", &r), 200);
	json_decref(r);
	cr_expect_eq(h[slot], 0);
	cr_expect_eq(sl_ctl_generation(t.c), g, "an operational override is not a config change");
	cr_expect_eq(req(&t, "PUT", "/api/gslbservice/hello/runtime", "{'members':[{'ip':'198.18.0.99','oper_up':false}]}", &r), 422);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "members[0].ip");
	json_decref(r);
	/* the slot survives unrelated changes */
	cr_expect_eq(req(&t, "POST", "/api/pool", "{'name':'q'}", NULL), 201);
	cr_expect_eq(h[slot], 0);
	cr_assert_eq(req(&t, "GET", "/api/virtualservice/vs/runtime", NULL, &r), 200);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(r, "oper_status"), "state")), "OPER_DOWN");
	json_decref(r);
	cr_assert_eq(req(&t, "GET", "/api/status", NULL, &r), 200);
	cr_expect_eq((uint64_t)json_integer_value(json_object_get(r, "generation")), sl_ctl_generation(t.c));
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(r, "objects"), "applicationprofile")), 5);
	json_decref(r);
	int st;
	char *txt = NULL;
	sl_ctl_request(t.c, "GET", "/metrics", NULL, NULL, 0, &st, &txt);
	cr_expect_eq(st, 200);
	cr_expect(txt && strstr(txt, "sluice_config_objects{type=\"pool\"} 2"), "%s", txt);
	free(txt);
	tctl_fini(&t);
}

/* A percent-encoded NUL or other control byte must not cut a name short and name another object. */
Test(api, control_bytes_in_names_refused)
{
	struct tctl t;
	tctl_init(&t);
	json_t *o;
	cr_assert_eq(req(&t, "POST", "/api/pool", "{'name':'victim'}", NULL), 201);
	cr_assert_eq(req(&t, "POST", "/api/pool", "{'name':'web2'}", NULL), 201);
	static const char *const bad[] = { "/api/pool/victim%00zzz", "/api/pool/victim%0a", "/api/pool/victim%7F",
					   "/api/pool/victim%1f/runtime" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(req(&t, "DELETE", bad[i], NULL, &o), 400, "%s", bad[i]);
		cr_expect_str_eq(json_string_value(json_object_get(o, "error")), "invalid_value");
		cr_expect(strstr(json_string_value(json_object_get(o, "detail")), "control character"), "%s", bad[i]);
		json_decref(o);
		cr_expect_eq(req(&t, "GET", bad[i], NULL, NULL), 400, "%s", bad[i]);
	}
	cr_expect_eq(req(&t, "GET", "/api/pool/victim", NULL, NULL), 200, "victim survived");
	cr_expect_eq(req(&t, "GET", "/api/pool?name=web2%00evil", NULL, &o), 400);
	cr_expect(strstr(json_string_value(json_object_get(o, "detail")), "name query parameter"));
	json_decref(o);
	cr_expect_eq(req(&t, "GET", "/api/pool?name=web2%09", NULL, NULL), 400);
	/* still fine: encoded printable bytes, UTF-8, '+' and a bare '%' */
	cr_assert_eq(req(&t, "POST", "/api/pool", "{'name':'a b/c%z\\u00e9'}", NULL), 201);
	cr_expect_eq(req(&t, "GET", "/api/pool/a+b%2Fc%z%C3%A9", NULL, NULL), 200);
	cr_expect_eq(req(&t, "GET", "/api/pool?name=a%20b%2fc%25z%c3%a9", NULL, &o), 200);
	cr_expect_eq(json_integer_value(json_object_get(o, "count")), 1);
	json_decref(o);
	/* a segment longer than any name is refused, not truncated into another name */
	char longp[700];
	snprintf(longp, sizeof(longp), "/api/pool/%0600d", 0);
	cr_expect_eq(req(&t, "GET", longp, NULL, NULL), 400);
	/* names in bodies and references: the same rule, with the JSON path (a \u0000 escape already
	   fails JSON parsing: jansson refuses it without JSON_ALLOW_NUL) */
	static const struct { const char *m, *url, *body, *path; } jb[] = {
		{ "POST", "/api/pool", "{'name':'x\\u0000y'}", "" },
		{ "POST", "/api/pool", "{'name':'x\\ny'}", "name" },
		{ "POST", "/api/pool", "{'name':'x\\u007fy'}", "name" },
		{ "PATCH", "/api/pool/web2", "{'name':'web2\\u001b'}", "name" },
		{ "POST", "/api/poolgroup", "{'name':'pg','members':[{'pool_ref':'/api/pool?name=web2%00evil'}]}",
		  "members[0].pool_ref" },
		{ "POST", "/api/poolgroup", "{'name':'pg','members':[{'pool_ref':'web2\\u0000evil'}]}", "" },
		{ "POST", "/api/poolgroup", "{'name':'pg','members':[{'pool_ref':'web2\\revil'}]}", "members[0].pool_ref" },
		{ "POST", "/api/macro", "[{'model_name':'Pool','data':{'name':'ok'}},{'model_name':'Pool','data':{'name':'b\\td'}}]",
		  "[1].data.name" },
	};
	for (size_t i = 0; i < sizeof(jb) / sizeof(jb[0]); i++) {
		cr_expect_eq(req(&t, jb[i].m, jb[i].url, jb[i].body, &o), 400, "case %zu", i);
		cr_expect_str_eq(json_string_value(json_object_get(o, "path")), jb[i].path, "case %zu", i);
		json_decref(o);
	}
	cr_expect_eq(req(&t, "GET", "/api/pool/ok", NULL, NULL), 404);
	tctl_fini(&t);
}

/* Avi bookkeeping and opaque fields are stored as sent, so they are capped. */
Test(api, ignored_fields_capped)
{
	struct tctl t;
	tctl_init(&t);
	json_t *o;
	size_t n = 12u << 20;
	char *big = malloc(n + 200), *s = malloc(9000);
	memset(s, 'd', 8180);
	s[8180] = 0;
	/* just under the cap: the value's compact JSON is 8182 bytes with its quotes */
	snprintf(big, n + 200, "{\"name\":\"p1\",\"description\":\"%s\"}", s);
	cr_expect_eq(treq(&t, "POST", "/api/pool", big, NULL), 201);
	static const char *const fields[] = { "description", "service_metadata", "markers", "ssl_profile_ref" };
	for (size_t i = 0; i < 4; i++) {
		int k = snprintf(big, n + 200, "{\"name\":\"p2\",\"%s\":", fields[i]);
		if (i == 2) {   /* markers: [{"key":..,"values":[...]}], many small strings */
			k += sprintf(big + k, "[{\"key\":\"k\",\"values\":[");
			for (int j = 0; j < 1100; j++)
				k += sprintf(big + k, "%s\"v%04d\"", j ? "," : "", j);
			k += sprintf(big + k, "]}]}");
		} else {
			big[k++] = '"';
			memset(big + k, 'x', n);
			k += (int)n;
			strcpy(big + k, "\"}");
		}
		cr_expect_eq(treq(&t, "POST", "/api/pool", big, &o), 400, "%s", fields[i]);
		cr_expect_str_eq(json_string_value(json_object_get(o, "path")), fields[i]);
		cr_expect(strstr(json_string_value(json_object_get(o, "detail")), "8192 bytes"), "%s", fields[i]);
		json_decref(o);
	}
	cr_expect_eq(treq(&t, "GET", "/api/pool/p2", NULL, NULL), 404);
	/* the same through a macro and a PATCH */
	snprintf(big, n + 200, "[{\"model_name\":\"Pool\",\"data\":{\"name\":\"p3\",\"description\":\"%s%s\"}}]", s, s);
	cr_expect_eq(treq(&t, "POST", "/api/macro", big, &o), 400);
	cr_expect_str_eq(json_string_value(json_object_get(o, "path")), "[0].data.description");
	json_decref(o);
	snprintf(big, n + 200, "{\"description\":\"%s%s\"}", s, s);
	cr_expect_eq(treq(&t, "PATCH", "/api/pool/p1", big, NULL), 400);
	free(big);
	free(s);
	tctl_fini(&t);
}

static size_t journal_size(struct tctl *t)
{
	char p[200];
	snprintf(p, sizeof(p), "%s/journal", t->state);
	FILE *f = fopen(p, "rb");
	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	size_t n = (size_t)ftell(f);
	fclose(f);
	return n;
}

/* A change that changes nothing answers the current object and makes no generation. */
Test(api, noop_change_makes_no_generation)
{
	struct tctl t;
	tctl_init(&t);
	json_t *o, *stored;
	cr_assert_eq(req(&t, "POST", "/api/pool", "{'name':'p','servers':[{'ip':{'addr':'198.18.1.2'},'port':80}]}", NULL), 201);
	cr_assert_eq(req(&t, "POST", "/api/virtualservice", "{'name':'v','vip':[{'ip_address':{'addr':'198.18.0.10'}}],"
		     "'services':[{'port':80}],'pool_ref':'/api/pool?name=p'}", NULL), 201);
	cr_assert_eq(req(&t, "GET", "/api/pool/p", NULL, &stored), 200);
	uint64_t g = sl_ctl_generation(t.c);
	unsigned pubs = t.n_published;
	size_t jl = journal_size(&t);
	char *sj = json_dumps(stored, 0);
	struct { const char *m, *url, *body; } same[] = {
		{ "PATCH", "/api/pool/p", "{}" },
		{ "PATCH", "/api/pool/p", "{'replace':{}}" },
		{ "PATCH", "/api/pool/p", "{'lb_algorithm':null}" },          /* removes a field that is not set */
		{ "PUT", "/api/pool/p", sj },                                 /* what GET answered, stamps included */
		{ "PUT", "/api/pool/p", "{'servers':[{'ip':{'addr':'198.18.1.2'},'port':80}]}" },   /* as created */
		{ "PATCH", "/api/virtualservice/v", "{'pool_ref':'/api/pool?name=p'}" },  /* same ref, other spelling */
		{ "PUT", "/api/macro", "[{'model_name':'Pool','data':{'name':'p','servers':[{'ip':{'addr':'198.18.1.2'},'port':80}]}}]" },
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		cr_expect_eq(req(&t, same[i].m, same[i].url, same[i].body, &o), 200, "case %zu", i);
		json_t *obj = json_is_array(o) ? json_array_get(o, 0) : o;
		if (i < 5)
			cr_expect(json_equal(obj, stored), "case %zu answers the current object", i);
		json_decref(o);
		cr_expect_eq(sl_ctl_generation(t.c), g, "case %zu: no new generation", i);
		cr_expect_eq(t.n_published, pubs, "case %zu: nothing published", i);
		cr_expect_eq(journal_size(&t), jl, "case %zu: nothing persisted", i);
	}
	free(sj);
	/* a real change still is one */
	cr_expect_eq(req(&t, "PATCH", "/api/pool/p", "{'lb_algorithm':'LB_ALGORITHM_LEAST_CONNECTIONS'}", &o), 200);
	cr_expect_eq(sl_ctl_generation(t.c), g + 1);
	cr_expect_eq(json_integer_value(json_object_get(o, "_generation")), (json_int_t)g + 1);
	cr_expect_gt(journal_size(&t), jl);
	json_decref(o);
	/* and the model after a restart is what it was */
	char err[256];
	cr_assert(tctl_restart(&t, err, sizeof(err)), "%s", err);
	cr_expect_eq(sl_ctl_generation(t.c), g + 1);
	json_decref(stored);
	tctl_fini(&t);
}

#ifdef SL_HAVE_DNS
#include "sl_dns.h"

static uint32_t vs_serial(struct tctl *t, const char *zone)
{
	for (uint32_t i = 0; i < t->gen->n_vs; i++)
		if (t->gen->vs[i].app_type == SL_APP_DNS && t->gen->vs[i].app)
			return sl_dns_db_zone_serial(t->gen->vs[i].app, zone);
	return 0;
}

/* Generations carry the DNS serial over: only a change of the zone's answers moves it. */
Test(api, dns_serial_follows_zone_content)
{
	struct tctl t;
	tctl_init(&t);
	cr_assert_eq(req(&t, "POST", "/api/applicationprofile", "{'name':'dp','type':'APPLICATION_PROFILE_TYPE_DNS',"
		     "'dns_service_profile':{'dns_zones':[{'domain_name':'z.test','sluice_soa_serial':1000}]}}", NULL), 201);
	cr_assert_eq(req(&t, "POST", "/api/virtualservice", "{'name':'dv','vip':[{'ip_address':{'addr':'198.18.0.53'}}],"
		     "'services':[{'port':53}],'application_profile_ref':'/api/applicationprofile?name=dp',"
		     "'static_dns_records':[{'fqdn':['w.z.test'],'type':'DNS_RECORD_A','ip_address':[{'ip_address':{'addr':'198.18.0.1'}}]}]}",
		     NULL), 201);
	cr_expect_eq(vs_serial(&t, "z.test"), 1000, "explicit serial");
	uint32_t now = (uint32_t)time(NULL);
	/* dropping the explicit serial changes no answer: the zone keeps 1000 */
	cr_assert_eq(req(&t, "PATCH", "/api/applicationprofile/dp",
			 "{'dns_service_profile':{'dns_zones':[{'domain_name':'z.test'}]}}", NULL), 200);
	cr_expect_eq(vs_serial(&t, "z.test"), 1000);
	/* unrelated changes make generations, the serial stays */
	uint64_t g = sl_ctl_generation(t.c);
	cr_assert_eq(req(&t, "POST", "/api/pool", "{'name':'other'}", NULL), 201);
	cr_assert_eq(req(&t, "PATCH", "/api/virtualservice/dv", "{'description':'ops note'}", NULL), 200);
	cr_expect_eq(sl_ctl_generation(t.c), g + 2);
	cr_expect_eq(vs_serial(&t, "z.test"), 1000, "unrelated change keeps the serial");
	/* a record in the zone changes it */
	cr_assert_eq(req(&t, "PATCH", "/api/virtualservice/dv", "{'static_dns_records':[{'fqdn':['w.z.test'],"
			 "'type':'DNS_RECORD_A','ip_address':[{'ip_address':{'addr':'198.18.0.2'}}]}]}", NULL), 200);
	uint32_t s2 = vs_serial(&t, "z.test");
	cr_expect_geq(s2, now, "zone change: serial moves to the clock");
	/* and a second change within the same second still increases it */
	cr_assert_eq(req(&t, "PATCH", "/api/virtualservice/dv", "{'static_dns_records':[{'fqdn':['w.z.test'],"
			 "'type':'DNS_RECORD_A','ip_address':[{'ip_address':{'addr':'198.18.0.3'}}]}]}", NULL), 200);
	cr_expect_gt(vs_serial(&t, "z.test"), s2);
	tctl_fini(&t);
}
#endif

/* The PEM at certificate.certificate of the sslkeyandcertificate called name, or NULL (caller frees). */
static char *cert_pem(struct tctl *t, const char *name)
{
	char target[128];
	json_t *r = NULL;
	snprintf(target, sizeof(target), "/api/sslkeyandcertificate/%s", name);
	if (treq(t, "GET", target, NULL, &r) != 200) {
		json_decref(r);
		return NULL;
	}
	const char *p = json_string_value(json_object_get(json_object_get(r, "certificate"), "certificate"));
	char *s = p ? strdup(p) : NULL;
	json_decref(r);
	return s;
}

static int pem_key_type(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	int id = x ? EVP_PKEY_get_base_id(X509_get0_pubkey(x)) : -1;
	bool self = x && X509_check_issued(x, x) == X509_V_OK;
	X509_free(x);
	return self ? id : -2;
}

Test(api, default_certs_created_once_kept_replaceable_and_restored)
{
	struct tctl t;
	tctl_init_default_certs(&t);
	char *rsa = cert_pem(&t, "System-Default-Cert"), *ec = cert_pem(&t, "System-Default-Cert-EC");
	cr_assert(rsa && ec, "both default certificates exist after the first start");
	cr_expect_eq(pem_key_type(rsa), EVP_PKEY_RSA, "System-Default-Cert: a self-signed RSA certificate");
	cr_expect_eq(pem_key_type(ec), EVP_PKEY_EC, "System-Default-Cert-EC: a self-signed ECDSA certificate");
	/* a shared parent as AKO builds it, on the defaults */
	cr_expect_eq(req(&t, "POST", "/api/macro",
			 "[{'model_name':'VsVip','data':{'name':'v','vip':[{'ip_address':{'addr':'198.18.0.10'}}]}},"
			 "{'model_name':'VirtualService','data':{'name':'parent','vsvip_ref':'v','services':[{'port':80},{'port':443,'enable_ssl':true}],"
			 "'type':'VS_TYPE_VH_PARENT','ssl_key_and_certificate_refs':['System-Default-Cert','System-Default-Cert-EC']}}]",
			 NULL),
		     200);
	char err[512];
	cr_assert(tctl_restart(&t, err, sizeof(err)), "%s", err);
	char *rsa2 = cert_pem(&t, "System-Default-Cert");
	cr_expect(rsa2 && !strcmp(rsa, rsa2), "a restart keeps the generated certificate");
	free(rsa2);
	/* an operator replaces it with a certificate of their own */
	char *cert = slurp(SL_FIXTURES "/chain_ok.pem"), *key = slurp(SL_FIXTURES "/leaf.key");
	json_t *c = json_pack("{s:s, s:{s:s}, s:s}", "name", "System-Default-Cert-EC", "certificate", "certificate", cert, "key", key);
	char *cs = json_dumps(c, 0);
	json_t *pr = NULL;
	int pst = treq(&t, "PUT", "/api/sslkeyandcertificate/System-Default-Cert-EC", cs, &pr);
	char *prs = json_dumps(pr, 0);
	cr_expect_eq(pst, 200, "PUT: %d %s", pst, prs);
	free(prs);
	json_decref(pr);
	cr_assert(tctl_restart(&t, err, sizeof(err)), "%s", err);
	rsa2 = cert_pem(&t, "System-Default-Cert-EC");
	cr_expect(rsa2 && !strcmp(rsa2, cert), "the replacement survives a restart and is not regenerated");
	free(rsa2);
	/* in use: not deletable; unused and deleted: back at the next start */
	cr_expect_eq(treq(&t, "DELETE", "/api/sslkeyandcertificate/System-Default-Cert", NULL, NULL), 409);
	cr_expect_eq(req(&t, "DELETE", "/api/virtualservice/parent", NULL, NULL), 204);
	cr_expect_eq(treq(&t, "DELETE", "/api/sslkeyandcertificate/System-Default-Cert", NULL, NULL), 204);
	cr_assert(tctl_restart(&t, err, sizeof(err)), "%s", err);
	char *ec2 = cert_pem(&t, "System-Default-Cert");
	cr_expect(ec2 && strcmp(rsa, ec2) && pem_key_type(ec2) == EVP_PKEY_RSA, "a deleted default is generated anew");
	free(ec2);
	free(cs);
	json_decref(c);
	free(cert);
	free(key);
	free(rsa);
	free(ec);
	tctl_fini(&t);
}

/* error and path of a refused request */
static void expect_refused(struct tctl *t, const char *m, const char *target, const char *body, int status,
			   const char *path)
{
	json_t *r = NULL;
	int st = req(t, m, target, body, &r);
	char *s = json_dumps(r, 0);
	cr_expect_eq(st, status, "%s %s: %d %s", m, target, st, s);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")) ?: "(none)", path, "%s %s: %s", m, target, s);
	free(s);
	json_decref(r);
}

Test(api, sslprofile_validation_with_field_paths)
{
	struct tctl t;
	tctl_init(&t);
	json_t *r = NULL;
	/* the built-in, with today's defaults, read-only */
	cr_assert_eq(req(&t, "GET", "/api/sslprofile/System-Standard", NULL, &r), 200);
	cr_expect_eq(json_array_size(json_object_get(r, "accepted_versions")), 2);
	cr_expect(strstr(json_string_value(json_object_get(r, "accepted_ciphers")), "ECDHE-ECDSA-AES128-GCM-SHA256"));
	json_decref(r);
	expect_refused(&t, "PUT", "/api/sslprofile/System-Standard", "{'accepted_versions':[{'type':'SSL_VERSION_TLS1_3'}]}",
		       409, "");
	expect_refused(&t, "DELETE", "/api/sslprofile/System-Standard", NULL, 409, "");
	/* versions never served: 422 at the element */
	static const char *const old[] = { "SSL_VERSION_SSLV3", "SSL_VERSION_TLS1", "SSL_VERSION_TLS1_1" };
	for (int i = 0; i < 3; i++) {
		char b[200];
		snprintf(b, sizeof(b), "{'name':'p','accepted_versions':[{'type':'SSL_VERSION_TLS1_2'},{'type':'%s'}]}", old[i]);
		expect_refused(&t, "POST", "/api/sslprofile", b, 422, "accepted_versions[1].type");
	}
	expect_refused(&t, "POST", "/api/sslprofile", "{'name':'p','accepted_versions':[{'type':'TLS1_2'}]}", 400,
		       "accepted_versions[0].type");
	/* cipher strings tried on a context: nothing OpenSSL knows, nothing usable, a bad TLS 1.3 suite */
	expect_refused(&t, "POST", "/api/sslprofile", "{'name':'p','accepted_ciphers':'NO-SUCH-CIPHER'}", 422,
		       "accepted_ciphers");
	expect_refused(&t, "POST", "/api/sslprofile", "{'name':'p','accepted_ciphers':'eNULL'}", 422, "accepted_ciphers");
	expect_refused(&t, "POST", "/api/sslprofile", "{'name':'p','ciphersuites':'TLS_NO_SUCH_SUITE'}", 422,
		       "ciphersuites");
	/* a list OpenSSL takes with names it skips: a typo, a cipher Debian's OpenSSL lacks */
	expect_refused(&t, "POST", "/api/sslprofile", "{'name':'p','accepted_ciphers':'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA265'}",
		       422, "accepted_ciphers");
	expect_refused(&t, "POST", "/api/sslprofile", "{'name':'p','accepted_ciphers':'ECDHE-RSA-AES128-GCM-SHA256:DES-CBC3-SHA'}",
		       422, "accepted_ciphers");
	expect_refused(&t, "POST", "/api/sslprofile", "{'name':'p','ciphersuites':'TLS_AES_128_GCM_SHA256:TLS_AES_128_GCM_SHA512'}",
		       422, "ciphersuites");
	/* OpenSSL's syntax: removals, combinations, strength and level */
	cr_expect_eq(req(&t, "POST", "/api/sslprofile",
			 "{'name':'syntax','accepted_ciphers':'ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!SHA1:-RSA:@STRENGTH:@SECLEVEL=2',"
			 "'ciphersuites':'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256'}", NULL),
		     201);
	/* a TLS 1.2 list that does not matter without TLS 1.2 is still checked; a TLS 1.3-only profile
	   needs no TLS 1.2 cipher, and the other way round */
	expect_refused(&t, "POST", "/api/sslprofile",
		       "{'name':'p','accepted_versions':[{'type':'SSL_VERSION_TLS1_3'}],'accepted_ciphers':'BOGUS'}", 422,
		       "accepted_ciphers");
	cr_expect_eq(req(&t, "POST", "/api/sslprofile",
			 "{'name':'only13','accepted_versions':[{'type':'SSL_VERSION_TLS1_3'}],'accepted_ciphers':'eNULL'}", NULL),
		     201);
	cr_expect_eq(req(&t, "POST", "/api/sslprofile",
			 "{'name':'only12','accepted_versions':[{'type':'SSL_VERSION_TLS1_2'}],'ciphersuites':''}", NULL), 201);
	expect_refused(&t, "POST", "/api/sslprofile",
		       "{'name':'p','prefer_client_cipher_ordering':true,'prefer_server_cipher_ordering':true}", 422,
		       "prefer_server_cipher_ordering");
	expect_refused(&t, "POST", "/api/sslprofile", "{'name':'p','cipher_enums':['x']}", 400, "cipher_enums");
	/* in a macro: the error path carries the element */
	expect_refused(&t, "POST", "/api/macro",
		       "[{'model_name':'SSLProfile','data':{'name':'m1'}},"
		       "{'model_name':'SSLProfile','data':{'name':'m2','accepted_ciphers':'NOPE'}}]",
		       422, "[1].data.accepted_ciphers");
	cr_expect_eq(req(&t, "GET", "/api/sslprofile/m1", NULL, NULL), 404, "the macro was rolled back");
	/* a good one through the macro, with Avi's bookkeeping */
	cr_expect_eq(req(&t, "POST", "/api/macro",
			 "{'model_name':'SSLProfile','data':{'name':'strict','tenant_ref':'/api/tenant?name=admin',"
			 "'accepted_versions':[{'type':'SSL_VERSION_TLS1_2'},{'type':'SSL_VERSION_TLS1_3'}],"
			 "'accepted_ciphers':'ECDHE-ECDSA-AES256-GCM-SHA384','ciphersuites':'TLS_AES_256_GCM_SHA384',"
			 "'prefer_server_cipher_ordering':false,'type':'SSL_PROFILE_TYPE_APPLICATION','ssl_rating':{'security_score':'100'}}}",
			 NULL),
		     200);
	/* a reference to a profile that does not exist */
	expect_refused(&t, "POST", "/api/virtualservice",
		       "{'name':'vs','vip':[{'ip_address':{'addr':'198.18.0.10'}}],'services':[{'port':80}],"
		       "'ssl_profile_ref':'/api/sslprofile?name=nope'}",
		       422, "ssl_profile_ref");
	expect_refused(&t, "POST", "/api/virtualservice",
		       "{'name':'vs','vip':[{'ip_address':{'addr':'198.18.0.10'}}],'services':[{'port':80}],"
		       "'ssl_profile_ref':'/api/pool?name=strict'}",
		       422, "ssl_profile_ref");
	tctl_fini(&t);
}

static const struct sl_tls_vs *vs_tls(struct tctl *t, const char *name)
{
	return tgen_vs(t->gen, name)->tls;
}

Test(api, sslprofile_refcounted_and_rebuilds_only_its_vss)
{
	struct tctl t;
	tctl_init_default_certs(&t);
	cr_assert_eq(req(&t, "POST", "/api/macro",
			 "[{'model_name':'SSLProfile','data':{'name':'sp','accepted_versions':[{'type':'SSL_VERSION_TLS1_3'}]}},"
			 "{'model_name':'VirtualService','data':{'name':'a','vip':[{'ip_address':{'addr':'198.18.0.10'}}],"
			 "'services':[{'port':443,'enable_ssl':true}],'ssl_key_and_certificate_refs':['System-Default-Cert'],"
			 "'ssl_profile_ref':'/api/sslprofile/?name=sp'}},"
			 "{'model_name':'VirtualService','data':{'name':'b','vip':[{'ip_address':{'addr':'198.18.0.11'}}],"
			 "'services':[{'port':443,'enable_ssl':true}],'ssl_key_and_certificate_refs':['System-Default-Cert'],"
			 "'ssl_profile_ref':''}}]",
			 NULL),
		     200);
	const struct sl_tls_vs *a1 = vs_tls(&t, "a"), *b1 = vs_tls(&t, "b");
	cr_assert(a1 && b1);
	cr_expect_eq(a1->min_version, TLS1_3_VERSION);
	cr_expect_eq(a1->max_version, TLS1_3_VERSION);
	cr_expect_eq(b1->min_version, TLS1_2_VERSION, "no profile: System-Standard");
	cr_expect_eq(b1->max_version, TLS1_3_VERSION);
	cr_expect_str_eq(b1->ciphers, SL_TLS_DEFAULT_CIPHERS);
	cr_expect(!b1->prefer_client);
	uint64_t a1fp = a1->fp;
	/* in use: refused like any referenced object */
	json_t *r = NULL;
	cr_expect_eq(req(&t, "DELETE", "/api/sslprofile/sp", NULL, &r), 409);
	cr_expect_str_eq(json_string_value(json_object_get(r, "error")), "in_use");
	cr_expect(strstr(json_string_value(json_object_get(r, "detail")), "virtualservice \"a\""));
	json_decref(r);
	/* a change to the profile: a's contexts are rebuilt, b's shared */
	unsigned np = t.n_published;
	cr_assert_eq(req(&t, "PATCH", "/api/sslprofile/sp",
			 "{'accepted_versions':[{'type':'SSL_VERSION_TLS1_2'}],'accepted_ciphers':'ECDHE-RSA-AES256-GCM-SHA384',"
			 "'prefer_client_cipher_ordering':true}",
			 NULL),
		     200);
	cr_assert_eq(t.n_published, np + 1, "a new generation");
	const struct sl_tls_vs *a2 = vs_tls(&t, "a"), *b2 = vs_tls(&t, "b");
	cr_expect_neq(a2->fp, a1fp, "a's contexts rebuilt");
	cr_expect_eq(a2->max_version, TLS1_2_VERSION);
	cr_expect_str_eq(a2->ciphers, "ECDHE-RSA-AES256-GCM-SHA384");
	cr_expect(a2->prefer_client);
	cr_expect_eq(b2, b1, "b's contexts are shared with the previous generation");
	/* the same content again: no generation; a VS switching profiles: rebuilt */
	np = t.n_published;
	cr_assert_eq(req(&t, "PATCH", "/api/sslprofile/sp", "{'prefer_client_cipher_ordering':true}", NULL), 200);
	cr_expect_eq(t.n_published, np);
	cr_assert_eq(req(&t, "PATCH", "/api/virtualservice/b", "{'ssl_profile_ref':'sp'}", NULL), 200);
	cr_expect_eq(vs_tls(&t, "b")->max_version, TLS1_2_VERSION);
	cr_expect_eq(req(&t, "DELETE", "/api/sslprofile/sp", NULL, NULL), 409);
	/* survives a restart */
	char err[512];
	cr_assert(tctl_restart(&t, err, sizeof(err)), "%s", err);
	cr_expect_str_eq(vs_tls(&t, "a")->ciphers, "ECDHE-RSA-AES256-GCM-SHA384");
	/* unreferenced: deletable; a VS and its profile gone in one macro */
	cr_assert_eq(req(&t, "PATCH", "/api/virtualservice/b", "{'ssl_profile_ref':null}", NULL), 200);
	cr_expect_eq(vs_tls(&t, "b")->max_version, TLS1_3_VERSION, "back on System-Standard");
	cr_expect_eq(req(&t, "DELETE", "/api/macro",
			 "[{'model_name':'VirtualService','data':{'name':'a'}},{'model_name':'SSLProfile','data':{'name':'sp'}}]",
			 NULL),
		     200);
	cr_expect_eq(req(&t, "GET", "/api/sslprofile/sp", NULL, NULL), 404);
	tctl_fini(&t);
}
