/* Pick structures built with the generation (control/gen.c + dataplane/lb): shared while a pool
 * or pool group is unchanged, rebuilt from the previous build when it changes (consistent hash
 * moves only the clients of a removed server), per-worker state blocks; L4 fields compiled into
 * the generation (limits, idle timeout, PROXY protocol), and what validation refuses. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_test_util.h"
#include "sl_lb.h"

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

static const struct sl_gen_pool *pool_named(const struct sl_gen *g, const char *name)
{
	for (uint32_t i = 0; i < g->n_pools; i++)
		if (!strcmp(g->pools[i].name, name))
			return &g->pools[i];
	cr_assert_fail("no pool %s", name);
	return NULL;
}

static const struct sl_gen_vs *vs_named(const struct sl_gen *g, const char *name)
{
	for (uint32_t i = 0; i < g->n_vs; i++)
		if (!strcmp(g->vs[i].name, name))
			return &g->vs[i];
	cr_assert_fail("no vs %s", name);
	return NULL;
}

/* "pool with n servers 198.18.1.(2+first) .. " as a JSON string with single quotes */
static void pool_json(char *out, size_t cap, const char *name, const char *alg, uint32_t first, uint32_t n)
{
	size_t o = (size_t)snprintf(out, cap, "{'name':'%s','lb_algorithm':'%s','servers':[", name, alg);
	for (uint32_t i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s{'ip':{'addr':'198.18.1.%u'},'port':8080}", i ? "," : "",
				      2 + first + i);
	snprintf(out + o, cap - o, "]}");
}

#define CLIENTS 20000

/* server ip chosen by worker 0 for each client (consistent hash on source ip) */
static void ch_map(const struct sl_gen *g, const struct sl_gen_pool *p, uint32_t *ipout)
{
	struct sl_gen_lb *lb = p->lb;
	cr_assert(lb && lb->pool);
	struct sl_lb_in in = { .by_slot = true, .n_slots = SL_MAX_HEALTH };
	for (uint32_t k = 0; k < CLIENTS; k++) {
		in.hash = sl_lb_client_hash(htonl(0xc6120000u + k), 40000, SL_LB_HASH_SOURCE_IP);
		int r = sl_lb_pick(lb->pool, lb->states, &in);
		cr_assert_geq(r, 0);
		ipout[k] = g->servers[p->first_server + (uint32_t)r].ip;
	}
}

Test(gen_lb, shared_until_changed_and_maglev_moves_one_nth)
{
	struct tctl t;
	char a[4096], b[4096], body[9000];
	tctl_init(&t);
	pool_json(a, sizeof(a), "a", "LB_ALGORITHM_ROUND_ROBIN", 0, 3);
	pool_json(b, sizeof(b), "b", "LB_ALGORITHM_CONSISTENT_HASH", 10, 10);
	snprintf(body, sizeof(body),
		 "[{'model_name':'Pool','data':%s},{'model_name':'Pool','data':%s},"
		 "{'model_name':'PoolGroup','data':{'name':'g','members':[{'pool_ref':'a','ratio':1,'priority_label':'10'},"
		 "{'pool_ref':'b','ratio':2,'priority_label':'5'}]}},"
		 "{'model_name':'VirtualService','data':{'name':'v1','vip':[{'ip_address':{'addr':'198.18.0.20'}}],"
		 "'services':[{'port':80}],'application_profile_ref':'System-L4-Application','pool_ref':'a'}},"
		 "{'model_name':'VirtualService','data':{'name':'v2','vip':[{'ip_address':{'addr':'198.18.0.21'}}],"
		 "'services':[{'port':80}],'application_profile_ref':'System-L4-Application','pool_group_ref':'g'}}]",
		 a, b);
	cr_assert_eq(req(&t, "POST", "/api/macro", body, NULL), 200);
	const struct sl_gen *g = t.gen;
	const struct sl_gen_pool *pa = pool_named(g, "a"), *pb = pool_named(g, "b");
	cr_assert(pa->lb && pa->lb->pool && pb->lb && pb->lb->pool);
	cr_expect_eq(pa->lb->n_workers, 2);
	cr_expect_eq(pa->lb->stride % 64, 0);
	cr_expect_eq(sl_lb_pool_servers(pa->lb->pool), 3);
	cr_expect_gt(sl_lb_pool_table_size(pb->lb->pool), 0);
	const struct sl_gen_poolgroup *pg = &g->poolgroups[vs_named(g, "v2")->poolgroup_idx];
	cr_assert(pg->lb && pg->lb->pg);
	struct sl_lb_pool *la = pa->lb->pool, *lbp = pb->lb->pool;
	struct sl_lb_pg *lg = pg->lb->pg;

	uint32_t *before = malloc(CLIENTS * sizeof(uint32_t)), *after = malloc(CLIENTS * sizeof(uint32_t));
	ch_map(g, pb, before);

	/* a VS change (patched generation) and a change to pool a: b and the group keep their build */
	cr_assert_eq(req(&t, "PATCH", "/api/virtualservice/v1", "{'enabled':false}", NULL), 200);
	g = t.gen;
	cr_expect_eq(pool_named(g, "a")->lb->pool, la);
	cr_expect_eq(pool_named(g, "b")->lb->pool, lbp);
	cr_assert_eq(req(&t, "PATCH", "/api/pool/a", "{'servers':[{'ip':{'addr':'198.18.1.2'},'port':8080,'ratio':3},"
			 "{'ip':{'addr':'198.18.1.3'},'port':8080},{'ip':{'addr':'198.18.1.4'},'port':8080}]}", NULL), 200);
	g = t.gen;
	cr_expect_neq(pool_named(g, "a")->lb->pool, la, "a ratio change rebuilds pool a");
	cr_expect_eq(pool_named(g, "b")->lb->pool, lbp);
	cr_expect_eq(g->poolgroups[0].lb->pg, lg);
	/* a new object (full build): unchanged pools and groups are still shared */
	cr_assert_eq(req(&t, "POST", "/api/pool", "{'name':'c','servers':[{'ip':{'addr':'198.18.1.40'}}]}", NULL), 201);
	g = t.gen;
	cr_expect_eq(pool_named(g, "b")->lb->pool, lbp);
	cr_expect_eq(g->poolgroups[0].lb->pg, lg);
	/* group ratio change: new group build */
	cr_assert_eq(req(&t, "PATCH", "/api/poolgroup/g", "{'members':[{'pool_ref':'a','ratio':1,'priority_label':'10'},"
			 "{'pool_ref':'b','ratio':3,'priority_label':'5'}]}", NULL), 200);
	cr_expect_neq(t.gen->poolgroups[0].lb->pg, lg);

	/* removing one of 10 servers of the consistent-hash pool moves about 1/10 of the clients,
	 * all of them clients of the removed server */
	pool_json(b, sizeof(b), "b", "LB_ALGORITHM_CONSISTENT_HASH", 10, 10);
	char *s5 = strstr(b, "{'ip':{'addr':'198.18.1.17'}");
	cr_assert(s5);
	memmove(s5, s5 + strlen("{'ip':{'addr':'198.18.1.17'},'port':8080},"),
		strlen(s5 + strlen("{'ip':{'addr':'198.18.1.17'},'port':8080},")) + 1);
	cr_assert_eq(req(&t, "PUT", "/api/pool/b", b, NULL), 200);
	g = t.gen;
	pb = pool_named(g, "b");
	cr_assert_eq(pb->n_servers, 9);
	ch_map(g, pb, after);
	uint32_t moved = 0, gone = htonl(0xc6120100u + 17);
	for (uint32_t k = 0; k < CLIENTS; k++)
		if (before[k] != after[k]) {
			moved++;
			cr_assert_eq(before[k], gone, "client %u moved off a server that stayed", k);
		}
	cr_expect(moved > CLIENTS / 10 * 8 / 10 && moved < CLIENTS / 10 * 12 / 10, "moved %u of %u", moved, CLIENTS);
	free(before);
	free(after);
	tctl_fini(&t);
}

Test(gen_lb, l4_fields_and_validation)
{
	struct tctl t;
	json_t *r = NULL;
	tctl_init(&t);
	cr_assert_eq(req(&t, "POST", "/api/macro",
			 "[{'model_name':'Pool','data':{'name':'p','max_concurrent_connections_per_server':7,"
			 "'graceful_disable_timeout':-1,'servers':[{'ip':{'addr':'198.18.1.2'},'port':8080}]}},"
			 "{'model_name':'ApplicationProfile','data':{'name':'l4pp','type':'APPLICATION_PROFILE_TYPE_L4',"
			 "'tcp_app_profile':{'proxy_protocol_enabled':true,'proxy_protocol_version':'PROXY_PROTOCOL_VERSION_2'}}},"
			 "{'model_name':'NetworkProfile','data':{'name':'tcp9','profile':{'type':'PROTOCOL_TYPE_TCP_PROXY',"
			 "'tcp_proxy_profile':{'idle_connection_timeout':9}}}},"
			 "{'model_name':'VirtualService','data':{'name':'v','vip':[{'ip_address':{'addr':'198.18.0.20'}}],"
			 "'services':[{'port':80}],'application_profile_ref':'l4pp','network_profile_ref':'tcp9',"
			 "'performance_limits':{'max_concurrent_connections':5},'pool_ref':'p'}},"
			 "{'model_name':'VirtualService','data':{'name':'w','vip':[{'ip_address':{'addr':'198.18.0.21'}}],"
			 "'services':[{'port':80}],'application_profile_ref':'System-L4-Application','pool_ref':'p'}}]", NULL), 200);
	const struct sl_gen_vs *v = vs_named(t.gen, "v"), *w = vs_named(t.gen, "w");
	cr_expect_eq(v->max_conns, 5);
	cr_expect_eq(v->idle_timeout_s, 9);
	cr_expect_eq(v->proxy_protocol, 2);
	cr_expect_eq(w->max_conns, 0);
	cr_expect_eq(w->idle_timeout_s, 600, "Avi's default idle_connection_timeout");
	cr_expect_eq(w->proxy_protocol, 0);
	const struct sl_gen_pool *p = pool_named(t.gen, "p");
	cr_expect_eq(p->max_conns, 7);
	cr_expect_eq(p->graceful_timeout, -1);
	/* the profile's version 1 reaches the VS using it (dependent recompiled) */
	cr_assert_eq(req(&t, "PATCH", "/api/applicationprofile/l4pp",
			 "{'tcp_app_profile':{'proxy_protocol_enabled':true,'proxy_protocol_version':'PROXY_PROTOCOL_VERSION_1'}}",
			 NULL), 200);
	cr_expect_eq(vs_named(t.gen, "v")->proxy_protocol, 1);

	cr_expect_eq(req(&t, "POST", "/api/pool", "{'name':'ca','lb_algorithm':'LB_ALGORITHM_CORE_AFFINITY'}", &r), 422);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "lb_algorithm");
	json_decref(r);
	r = NULL;
	cr_expect_eq(req(&t, "PATCH", "/api/virtualservice/w", "{'performance_limits':{'max_throughput':10}}", &r), 400);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "performance_limits.max_throughput");
	json_decref(r);
	r = NULL;
	cr_expect_eq(req(&t, "PATCH", "/api/virtualservice/w", "{'performance_limits':{'max_concurrent_connections':-1}}", &r), 400);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "performance_limits.max_concurrent_connections");
	json_decref(r);
	r = NULL;
	cr_expect_eq(req(&t, "PATCH", "/api/applicationprofile/l4pp", "{'tcp_app_profile':{'proxy_protocol_version':'V3'}}", &r), 400);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "tcp_app_profile.proxy_protocol_version");
	json_decref(r);
	tctl_fini(&t);
}
