/* Health slots of pool servers: stable while the pool keeps a server, released when it goes, never
 * leaked by a rejected change, carried by both the full build and the patched generation. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
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

/* slot of server ip:port of pool `pool` in the last published generation, or SL_GEN_NONE */
static uint32_t sslot(struct tctl *t, const char *pool, const char *addr, uint16_t port)
{
	const struct sl_gen *g = t->gen;
	for (uint32_t p = 0; p < g->n_pools; p++) {
		if (strcmp(g->pools[p].name, pool))
			continue;
		for (uint32_t k = 0; k < g->pools[p].n_servers; k++) {
			const struct sl_gen_server *s = &g->servers[g->pools[p].first_server + k];
			if (s->ip == ip(addr) && s->port == port)
				return s->slot;
		}
	}
	return SL_GEN_NONE;
}

#define SRV(a, p) "{'ip':{'addr':'" a "'},'port':" #p "}"

Test(health, pool_server_slots_are_stable_and_released)
{
	struct tctl t;
	tctl_init(&t);
	cr_assert_eq(req(&t, "POST", "/api/pool",
			 "{'name':'p','servers':[" SRV("198.18.1.2", 80) "," SRV("198.18.1.3", 80) "," SRV("198.18.1.4", 81) "]}",
			 NULL), 201);
	uint32_t a = sslot(&t, "p", "198.18.1.2", 80), b = sslot(&t, "p", "198.18.1.3", 80),
		 c = sslot(&t, "p", "198.18.1.4", 81);
	cr_assert(a < SL_MAX_HEALTH && b < SL_MAX_HEALTH && c < SL_MAX_HEALTH);
	cr_expect(a != b && b != c && a != c);
	const volatile uint8_t *h = sl_ctl_health(t.c);
	cr_expect(h[a] == 1 && h[b] == 1 && h[c] == 1, "servers start up");

	/* same shape: the generation is patched; slots ride along */
	uint64_t g0 = t.gen->id;
	cr_assert_eq(req(&t, "PATCH", "/api/pool/p", "{'lb_algorithm':'LB_ALGORITHM_LEAST_CONNECTIONS'}", NULL), 200);
	cr_expect_gt(t.gen->id, g0);
	cr_expect_eq(sslot(&t, "p", "198.18.1.2", 80), a);
	cr_expect_eq(sslot(&t, "p", "198.18.1.3", 80), b);
	cr_expect_eq(sslot(&t, "p", "198.18.1.4", 81), c);

	/* drop .3, add .5 (full build): kept servers keep theirs; the new one reuses the freed slot only
	   after the change, so it gets a different one here */
	cr_assert_eq(req(&t, "PATCH", "/api/pool/p",
			 "{'servers':[" SRV("198.18.1.4", 81) "," SRV("198.18.1.2", 80) "," SRV("198.18.1.5", 80) "]}", NULL),
		     200);
	cr_expect_eq(sslot(&t, "p", "198.18.1.2", 80), a);
	cr_expect_eq(sslot(&t, "p", "198.18.1.4", 81), c);
	uint32_t d = sslot(&t, "p", "198.18.1.5", 80);
	cr_expect(d < SL_MAX_HEALTH && d != a && d != c && d != b);
	cr_expect_eq(sslot(&t, "p", "198.18.1.3", 80), SL_GEN_NONE);
	/* a server's port is part of its identity */
	cr_assert_eq(req(&t, "PATCH", "/api/pool/p",
			 "{'servers':[" SRV("198.18.1.4", 82) "," SRV("198.18.1.2", 80) "," SRV("198.18.1.5", 80) "]}", NULL),
		     200);
	uint32_t c2 = sslot(&t, "p", "198.18.1.4", 82);
	cr_expect(c2 != c && c2 != a && c2 != d);

	/* kept busy: slots of replaced, deleted and rejected versions come back, so the table does not grow */
	json_t *r = NULL;
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(req(&t, "POST", "/api/pool", "{'name':'q','servers':[" SRV("198.18.1.2", 80) "," SRV("198.18.1.3", 80) "]}",
				 NULL), 201);
		cr_assert_eq(req(&t, "PATCH", "/api/pool/q", "{'servers':[" SRV("198.18.1.6", 80) "," SRV("198.18.1.7", 80) "]}",
				 NULL), 200);
		cr_assert_eq(req(&t, "DELETE", "/api/pool/q", NULL, NULL), 204);
		char mac[1024];
		snprintf(mac, sizeof(mac),
			 "[{'model_name':'Pool','data':{'name':'x%d','servers':[%s]}},"
			 "{'model_name':'VirtualService','data':{'name':'v','vip':[{'ip_address':{'addr':'198.18.0.10'}}],"
			 "'services':[{'port':53}],'application_profile_ref':'System-DNS',"
			 "'static_dns_records':[{'fqdn':['a.sluice.example'],'type':'DNS_RECORD_OTHER'}]}}]",
			 i, SRV("198.18.1.6", 80) "," SRV("198.18.1.7", 80));
		cr_assert_eq(req(&t, "POST", "/api/macro", mac, &r), 422,
			     "the DNS compiler (after slots were assigned) rejects it");
		json_decref(r);
	}
	cr_assert_eq(req(&t, "POST", "/api/pool", "{'name':'y','servers':[" SRV("198.18.1.8", 80) "," SRV("198.18.1.9", 80) "]}",
			 NULL), 201);
	uint32_t y1 = sslot(&t, "y", "198.18.1.8", 80), y2 = sslot(&t, "y", "198.18.1.9", 80);
	cr_expect(y1 < SL_MAX_HEALTH && y2 < SL_MAX_HEALTH && y1 != y2);
	cr_assert_eq(req(&t, "GET", "/api/status", NULL, &r), 200);
	/* p: 3 servers, y: 2 */
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(r, "health_slots"), "used")), 5, "slots leak: %s",
		     json_dumps(json_object_get(r, "health_slots"), 0));
	json_decref(r);
	cr_expect(y1 != a && y1 != c2 && y1 != d && y2 != a && y2 != c2 && y2 != d);

	/* a renamed pool is a new set of servers */
	cr_assert_eq(req(&t, "PATCH", "/api/pool/y", "{'name':'z'}", NULL), 200);
	cr_expect_eq(sslot(&t, "y", "198.18.1.8", 80), SL_GEN_NONE);
	cr_expect(sslot(&t, "z", "198.18.1.8", 80) < SL_MAX_HEALTH);
	tctl_fini(&t);
}

Test(health, slots_survive_restart_and_gslb_changes)
{
	struct tctl t;
	tctl_init(&t);
	cr_assert_eq(req(&t, "POST", "/api/macro",
			 "[{'model_name':'GslbService','data':{'name':'g','domain_names':['g.sluice.example'],"
			 "'groups':[{'members':[{'ip':{'addr':'198.18.0.50'}}]}]}},"
			 "{'model_name':'Pool','data':{'name':'p','servers':[" SRV("198.18.1.2", 80) "]}}]", NULL), 200);
	uint32_t a = sslot(&t, "p", "198.18.1.2", 80);
	cr_assert(a < SL_MAX_HEALTH);
	json_t *r = NULL;
	/* a GSLB change sweeps GSLB slots only */
	cr_assert_eq(req(&t, "PATCH", "/api/gslbservice/g", "{'ttl':5}", NULL), 200);
	cr_expect_eq(sslot(&t, "p", "198.18.1.2", 80), a);
	cr_assert_eq(req(&t, "POST", "/api/pool", "{'name':'q','servers':[" SRV("198.18.1.3", 80) "]}", NULL), 201);
	uint32_t b = sslot(&t, "q", "198.18.1.3", 80);
	cr_expect(b != a);
	cr_assert_eq(req(&t, "GET", "/api/gslbservice/g/runtime", NULL, &r), 200);
	int gs = (int)json_integer_value(json_object_get(json_array_get(json_object_get(r, "members"), 0), "health_slot"));
	json_decref(r);
	cr_expect(gs >= 0 && (uint32_t)gs != a && (uint32_t)gs != b);
	char err[256];
	cr_assert(tctl_restart(&t, err, sizeof(err)), "%s", err);
	uint32_t a2 = sslot(&t, "p", "198.18.1.2", 80), b2 = sslot(&t, "q", "198.18.1.3", 80);
	cr_expect(a2 < SL_MAX_HEALTH && b2 < SL_MAX_HEALTH && a2 != b2);
	tctl_fini(&t);
}

/* ---- monitors through the control API, with a fake engine that refuses every TCP probe ---- */
struct feng {
	struct sl_gen *gen;
	struct sl_hm_probe *done[256];
	unsigned nd, sent;
};

static int f_publish(void *arg, struct sl_gen *g)
{
	struct feng *f = arg;
	sl_gen_free(f->gen);
	f->gen = g;
	return 0;
}

static int f_submit(void *arg, unsigned w, struct sl_hm_probe *p)
{
	struct feng *f = arg;
	(void)w;
	p->outcome = SL_HM_REFUSED;
	f->done[f->nd++] = p;
	f->sent++;
	return 0;
}

static unsigned f_collect(void *arg, struct sl_hm_probe **out, unsigned max)
{
	struct feng *f = arg;
	unsigned n = f->nd < max ? f->nd : max;
	memcpy(out, f->done, n * sizeof(*out));
	f->nd = 0;
	return n;
}

static int creq(struct sl_ctl *c, const char *m, const char *target, const char *body, json_t **out)
{
	char *b = body ? dq(body) : NULL, *resp = NULL;
	int st = 0;
	sl_ctl_request(c, m, target, NULL, b, b ? strlen(b) : 0, &st, &resp);
	if (out)
		*out = resp ? json_loads(resp, 0, NULL) : NULL;
	free(resp);
	free(b);
	return st;
}

static json_t *server0_health(struct sl_ctl *c)
{
	json_t *r = NULL;
	cr_assert_eq(creq(c, "GET", "/api/pool/p/runtime", NULL, &r), 200);
	json_t *h = json_incref(json_object_get(json_array_get(json_object_get(r, "servers"), 0), "health"));
	json_decref(r);
	return h;
}

Test(health, monitor_verdicts_in_pool_runtime)
{
	char dir[] = "/tmp/sl-hm-test-XXXXXX", sock[96], state[96], err[256];
	cr_assert(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	static struct feng f;
	struct sl_ctl_conf conf = { .sock_path = sock, .state_dir = state, .n_workers = 1 };
	struct sl_ctl_hooks hooks = { .arg = &f, .publish = f_publish, .hm_submit = f_submit, .hm_collect = f_collect };
	struct sl_ctl *c = sl_ctl_create(&conf, &hooks, err, sizeof(err));
	cr_assert(c, "%s", err);
	cr_assert_eq(creq(c, "POST", "/api/macro",
			  "[{'model_name':'HealthMonitor','data':{'name':'tcp','type':'HEALTH_MONITOR_TCP','send_interval':2,"
			  "'receive_timeout':1,'failed_checks':1,'successful_checks':1}},"
			  "{'model_name':'Pool','data':{'name':'p','servers':[" SRV("198.18.1.2", 80) "],"
			  "'health_monitor_refs':['/api/healthmonitor?name=tcp']}}]", NULL), 200);
	json_t *h = server0_health(c);
	cr_assert(h, "a monitored server reports its health");
	cr_expect(json_is_true(json_object_get(h, "oper_up")), "up until checked");
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(h, "monitors"), 0), "name")), "tcp");
	json_decref(h);
	uint32_t s = sslot(&(struct tctl){ .gen = f.gen }, "p", "198.18.1.2", 80);
	cr_assert(s < SL_MAX_HEALTH);
	for (int i = 0; i < 150 && !f.sent; i++)
		sl_ctl_poll(c, 10);
	cr_assert_eq(f.sent, 1, "first probe within 1.5 s");
	sl_ctl_poll(c, 0);
	cr_expect_eq(f.gen->health[s], 0, "failed_checks 1: down on the first refusal");
	h = server0_health(c);
	cr_expect(json_is_false(json_object_get(h, "oper_up")));
	cr_expect_str_eq(json_string_value(json_object_get(h, "reason")), "1 failed checks: connection refused");
	json_decref(h);
	/* a change that keeps the server keeps its slot and its state */
	cr_assert_eq(creq(c, "PATCH", "/api/pool/p", "{'lb_algorithm':'LB_ALGORITHM_LEAST_CONNECTIONS'}", NULL), 200);
	cr_expect_eq(sslot(&(struct tctl){ .gen = f.gen }, "p", "198.18.1.2", 80), s);
	cr_expect_eq(f.gen->health[s], 0);
	/* a monitor may not be deleted while used; once unused, the server is up and unmonitored */
	cr_expect_eq(creq(c, "DELETE", "/api/healthmonitor/tcp", NULL, NULL), 409);
	cr_assert_eq(creq(c, "PATCH", "/api/pool/p", "{'health_monitor_refs':[]}", NULL), 200);
	cr_expect_eq(f.gen->health[s], 1);
	h = server0_health(c);
	cr_expect_null(h);
	json_decref(h);
	json_t *r = NULL;
	cr_assert_eq(creq(c, "GET", "/api/status", NULL, &r), 200);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(r, "health_monitors"), "targets")), 0);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(r, "health_monitors"), "transitions")), 1);
	json_decref(r);
	char *mt = NULL;
	int mst = 0;
	sl_ctl_request(c, "GET", "/metrics", NULL, NULL, 0, &mst, &mt);
	cr_expect(mt && strstr(mt, "\nsluice_health_targets 0\n") && strstr(mt, "\nsluice_health_probes_total 1\n"), "%s", mt);
	free(mt);
	/* bad monitor fields are rejected with their path */
	cr_expect_eq(creq(c, "POST", "/api/healthmonitor",
			  "{'name':'d','type':'HEALTH_MONITOR_DNS','dns_monitor':{'query_name':'x..y'}}", &r), 422);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "dns_monitor.query_name");
	json_decref(r);
	sl_ctl_destroy(c);
	sl_gen_free(f.gen);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}
