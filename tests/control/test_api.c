/* REST behaviour: macros (AKO seeds, all-or-nothing), references, in-use deletes, ETags, system
 * objects, runtime endpoints, and what the published generation contains. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_test_util.h"

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
