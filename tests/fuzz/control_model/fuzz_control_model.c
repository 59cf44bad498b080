/* libFuzzer target: a request body as /api/macro would get it -> schema and semantic validation ->
 * generation compile -> commit. The model persists across inputs (reset every 512) so references,
 * conflicts and deletes of earlier objects are exercised too. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gen_build.h"
#include "model.h"
#include "sl_control.h"

static struct sl_model m;
static bool inited;
static unsigned runs;
static uint8_t health[SL_MAX_HEALTH];
static struct sl_gen *prev;   /* last committed generation, for the incremental build */

static int slot_fn(void *arg, const char *name, uint32_t ip)
{
	(void)arg;
	return (int)((strlen(name) * 131u + ip) % SL_MAX_HEALTH);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!inited || ++runs % 512 == 0) {
		if (inited)
			sl_model_free(&m);
		sl_gen_free(prev);
		prev = NULL;
		if (sl_model_init(&m))
			abort();
		inited = true;
	}
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		return 0;
	struct sl_txn t;
	struct sl_err e;
	sl_txn_begin(&t, &m);
	size_t n = json_is_array(j) ? json_array_size(j) : 1;
	int rc = 0;
	for (size_t i = 0; i < n && i < 64 && !rc; i++) {
		json_t *it = json_is_array(j) ? json_array_get(j, i) : j;
		json_t *mn = json_object_get(it, "model_name"), *d = json_object_get(it, "data");
		int type = json_is_string(mn) ? sl_type_by_name(json_string_value(mn)) : -1;
		if (type < 0 || !json_is_object(d)) {
			rc = -1;
			break;
		}
		const char *op = json_string_value(json_object_get(it, "op"));
		const char *id = json_string_value(json_object_get(d, "name"));
		enum sl_op o = !op ? SL_OP_CREATE : !strcmp(op, "put") ? SL_OP_REPLACE : !strcmp(op, "patch") ? SL_OP_PATCH
			     : !strcmp(op, "delete") ? SL_OP_DELETE : SL_OP_CREATE;
		rc = sl_txn_op(&t, o, type, o == SL_OP_CREATE ? NULL : id, d, NULL, "data", &e);
		if (rc && (e.status < 400 || e.status > 599 || !e.error[0]))
			abort();
	}
	if (!rc && sl_txn_validate(&t, &e) == 0) {
		struct sl_gen_build_ctx bc = { 2, health, slot_fn, NULL };
		struct sl_gen *g = sl_gen_build(&m, t.gen, &bc, prev, &t, &e);
		/* differential check: the patched generation must equal a full rebuild */
		struct sl_gen *full = g ? sl_gen_build(&m, t.gen, &bc, NULL, NULL, &e) : NULL;
		if (g && full) {
			if (g->n_vs != full->n_vs || g->n_pools != full->n_pools || g->n_servers != full->n_servers ||
			    g->n_listeners != full->n_listeners || g->n_pg_members != full->n_pg_members)
				abort();
			for (uint32_t i = 0; i < g->n_vs; i++) {
				const struct sl_gen_vs *a = &g->vs[i], *b = &full->vs[i];
				if (strcmp(a->name, b->name) || a->pool_idx != b->pool_idx || a->enabled != b->enabled ||
				    a->poolgroup_idx != b->poolgroup_idx || a->app_type != b->app_type || a->vip != b->vip)
					abort();
				/* shared or rebuilt, the HTTP build must say the same */
				const struct sl_gen_http *ha = a->http, *hb = b->http;
				if (!ha != !hb || (ha && (ha->n_policies != hb->n_policies ||
							  ha->keepalive_timeout_ms != hb->keepalive_timeout_ms ||
							  ha->max_request_size != hb->max_request_size || ha->xff != hb->xff ||
							  strcmp(ha->xff_name, hb->xff_name))))
					abort();
			}
			if (memcmp(g->servers, full->servers, g->n_servers * sizeof(*g->servers)) ||
			    memcmp(g->pg_members, full->pg_members, g->n_pg_members * sizeof(*g->pg_members)))
				abort();
		}
		sl_gen_free(full);
		if (g) {
			json_t *rec = sl_txn_record(&t);
			json_decref(rec);
			sl_txn_commit(&t);
			/* every listener must be found by the lookup */
			for (uint32_t i = 0; i < g->n_listeners; i++) {
				const struct sl_gen_listener *l = &g->listeners[i];
				if (!sl_gen_is_vip(g, l->vip) || !sl_gen_lookup(g, l->vip, l->proto, l->port_lo))
					abort();
			}
			sl_gen_free(prev);
			prev = g;
		} else {
			sl_txn_abort(&t);
		}
	} else {
		if (!rc && (e.status < 400 || e.status > 599))
			abort();
		sl_txn_abort(&t);
	}
	json_decref(j);
	return 0;
}
