/* Compiling a generation and the lock-free lookups workers run on it.
 *
 * Compilation only copies the per-object records validated earlier (struct sl_cc_*) into flat arrays
 * and builds open-addressing tables, so it is linear in the configuration with a small constant and
 * never re-parses JSON, except for DNS virtual services, whose database the DNS library compiles. */
/* Paths and details are deliberately truncated to fixed buffers. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gen_build.h"
#include "gen_tls.h"
#include "sl_tls.h"
#include "gen_http.h"
#include "sl_control.h"
#include "sl_lb.h"
#ifdef SL_HAVE_DNS
#include "sl_dns.h"
#endif

/* The committed name is cached on the node; only staged versions need a JSON lookup. */
static void copy_name(char *dst, size_t cap, const struct sl_node *n)
{
	const char *s = n->in_txn ? sl_node_name(n) : n->name;
	if (!s)
		s = "";
	size_t l = strlen(s);
	if (l >= cap)
		l = cap - 1;
	memcpy(dst, s, l);
	dst[l] = 0;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t c = 8;
	while (c < n * 2)
		c <<= 1;
	return c;
}

/* ---- pick structures (dataplane/lb), shared between generations by reference count */
static void lb_put(struct sl_gen_lb *lb)
{
	if (!lb || --lb->refs)
		return;
	sl_lb_pool_free(lb->pool);
	sl_lb_pg_free(lb->pg);
	free(lb->states);
	free(lb);
}

static unsigned lb_workers(const struct sl_gen_build_ctx *bc)
{
	return bc && bc->n_workers ? bc->n_workers : 1;
}

/* One cache-line-aligned block per worker, so workers never share a line of pick state. */
static int lb_states(struct sl_gen_lb *lb, size_t size, unsigned n_workers)
{
	lb->n_workers = n_workers;
	lb->stride = (size + 63) & ~(size_t)63;
	lb->states = aligned_alloc(64, lb->stride * n_workers);
	if (!lb->states)
		return -ENOMEM;
	for (unsigned w = 0; w < n_workers; w++) {
		void *st = (char *)lb->states + w * lb->stride;
		int rc = lb->pool ? sl_lb_pool_state_init(st, lb->stride, lb->pool, w)
				  : sl_lb_pg_state_init(st, lb->stride, lb->pg);
		if (rc)
			return rc;
	}
	return 0;
}

/* Gives p its pick structure: prev's (pool of the same object in the previous generation) when
 * nothing it is built from changed, else a new one built from prev's, so consistent-hash clients
 * of servers that stay keep their server. Returns 0 or -ENOMEM. */
static int lb_attach_pool(struct sl_gen *g, struct sl_gen_pool *p, const struct sl_gen *pg_prev,
			  const struct sl_gen_pool *prev, unsigned n_workers)
{
	const struct sl_gen_server *sv = &g->servers[p->first_server];
	struct sl_gen_lb *old = prev ? prev->lb : NULL;

	p->lb = NULL;
	if (old && old->pool && old->n_workers == n_workers && prev->lb_algorithm == p->lb_algorithm &&
	    prev->n_servers == p->n_servers &&
	    (!p->n_servers || !memcmp(&pg_prev->servers[prev->first_server], sv, p->n_servers * sizeof(*sv)))) {
		old->refs++;
		p->lb = old;
		return 0;
	}
	struct sl_lb_server *ls = malloc((p->n_servers + 1) * sizeof(*ls));
	struct sl_gen_lb *lb = calloc(1, sizeof(*lb));
	int rc = -ENOMEM;
	if (!ls || !lb)
		goto out;
	for (uint32_t i = 0; i < p->n_servers; i++)
		ls[i] = (struct sl_lb_server){ sv[i].ip, sv[i].port, sv[i].ratio, sv[i].enabled, sv[i].slot };
	rc = sl_lb_pool_build(&lb->pool, ls, p->n_servers, &(struct sl_lb_opts){ .alg = p->lb_algorithm },
			      old ? old->pool : NULL);
	if (rc == -ENOTSUP || rc == -EINVAL) {
		rc = 0;         /* validation refuses these; nothing to pick from */
		goto out;
	}
	if (rc || (rc = lb_states(lb, sl_lb_pool_state_size(lb->pool), n_workers)))
		goto out;
	lb->refs = 1;
	p->lb = lb;
	lb = NULL;
out:
	free(ls);
	if (lb) {
		lb->refs = 1;
		lb_put(lb);
	}
	return rc;
}

static int lb_attach_pg(struct sl_gen *g, struct sl_gen_poolgroup *pg, const struct sl_gen *gprev,
			const struct sl_gen_poolgroup *prev, unsigned n_workers)
{
	const struct sl_gen_pg_member *m = &g->pg_members[pg->first_member];
	struct sl_gen_lb *old = prev ? prev->lb : NULL;

	pg->lb = NULL;
	if (old && old->n_workers == n_workers && prev->n_members == pg->n_members) {
		const struct sl_gen_pg_member *pm = &gprev->pg_members[prev->first_member];
		uint32_t k = 0;
		while (k < pg->n_members && pm[k].ratio == m[k].ratio && pm[k].priority == m[k].priority)
			k++;
		if (k == pg->n_members) {
			old->refs++;
			pg->lb = old;
			return 0;
		}
	}
	struct sl_lb_pg_member *lm = malloc((pg->n_members + 1) * sizeof(*lm));
	struct sl_gen_lb *lb = calloc(1, sizeof(*lb));
	int rc = -ENOMEM;
	if (!lm || !lb)
		goto out;
	/* member k stands for the group's k-th member, whatever pool index it has in a generation */
	for (uint32_t k = 0; k < pg->n_members; k++)
		lm[k] = (struct sl_lb_pg_member){ k, m[k].ratio, m[k].priority };
	if ((rc = sl_lb_pg_build(&lb->pg, lm, pg->n_members)) || (rc = lb_states(lb, sl_lb_pg_state_size(lb->pg), n_workers)))
		goto out;
	lb->refs = 1;
	pg->lb = lb;
	lb = NULL;
out:
	free(lm);
	if (lb) {
		lb->refs = 1;
		lb_put(lb);
	}
	return rc;
}

void sl_gen_free(struct sl_gen *g)
{
	if (!g)
		return;
	for (uint32_t i = 0; g->pools && i < g->n_pools; i++)
		lb_put(g->pools[i].lb);
	for (uint32_t i = 0; g->poolgroups && i < g->n_poolgroups; i++)
		lb_put(g->poolgroups[i].lb);
	for (uint32_t i = 0; g->vs && i < g->n_vs; i++)
		sl_gen_http_put(g->vs[i].http);
	for (uint32_t i = 0; g->vs && i < g->n_vs; i++)
		sl_tls_vs_put(g->vs[i].tls);
#ifdef SL_HAVE_DNS
	for (uint32_t i = 0; i < g->n_vs; i++)
		if (g->vs[i].app_type == SL_APP_DNS && g->vs[i].app)
			sl_dns_db_free(g->vs[i].app);
#endif
	free(g->vs);
	free(g->listeners);
	free(g->pools);
	free(g->servers);
	free(g->poolgroups);
	free(g->pg_members);
	free(g->vips);
	free(g->vip_hash);
	free(g->lst_hash);
	free(g->sni_hash);
	free(g->sni_names);
	free(g->pool_by_slot);
	free(g->pg_by_slot);
	free(g);
}

static int cmp_listener(const void *a, const void *b)
{
	const struct sl_gen_listener *x = a, *y = b;
	if (x->vip != y->vip)
		return x->vip < y->vip ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return (int)x->port_lo - (int)y->port_lo;
}

#ifdef SL_HAVE_DNS
/* prev: the generation being replaced (alive while this one is built), whose databases hold the
 * SOA serials to keep for zones that did not change. */
static int compile_dns(struct sl_model *m, struct sl_gen *g, const struct sl_gen *prev, const struct sl_gen_build_ctx *bc,
		       struct sl_err *e)
{
	json_t *gslbs = NULL;
	for (uint32_t i = 0; i < g->n_vs; i++) {
		struct sl_gen_vs *gv = &g->vs[i];
		if (gv->app_type != SL_APP_DNS)
			continue;
		struct sl_node *n = m->slots[SL_T_VS][gv->slot];
		struct sl_ver *v = sl_node_view(n);
		struct sl_cc_vs *c = v->cc;
		if (!gslbs) {
			gslbs = json_array();
			for (uint32_t s = 0; s < m->n_slots[SL_T_GSLB]; s++) {
				struct sl_node *gn = m->slots[SL_T_GSLB][s];
				struct sl_ver *gvv = gn ? sl_node_view(gn) : NULL;
				if (gvv)
					json_array_append(gslbs, gvv->data);
			}
		}
		struct sl_dns_cerr cerr = { "", "" };
		struct sl_dns_db *db = NULL;
		int rc = sl_dns_compile(v->data, sl_node_view(c->app_profile)->data, gslbs, bc->n_workers, bc->health,
					bc->slot_fn, bc->slot_arg, &db, &cerr);
		if (rc) {
			json_decref(gslbs);
			return sl_err_set(e, rc == -ENOMEM ? 500 : 422, "dns_compile", cerr.path,
					  "virtual service \"%.100s\" (%s): %s", gv->name,
					  cerr.object[0] ? cerr.object : "virtualservice", cerr.detail);
		}
		uint32_t pi = prev ? prev->vs_by_slot[gv->slot] : SL_GEN_NONE;
		if (pi != SL_GEN_NONE && prev->vs[pi].app_type == SL_APP_DNS && prev->vs[pi].app)
			sl_dns_db_keep_serials(db, prev->vs[pi].app);
		gv->app = db;
	}
	json_decref(gslbs);
	return 0;
}
#endif

static void fill_pool(struct sl_gen *g, struct sl_node *n, struct sl_gen_pool *p, bool place_servers)
{
	struct sl_cc_pool *c = sl_node_view(n)->cc;
	copy_name(p->name, sizeof(p->name), n);
	p->slot = n->slot;
	p->max_conns = c->max_conns;
	p->graceful_timeout = c->graceful_timeout;
	p->lb_algorithm = c->lb_algorithm;
	p->lb_hash = c->lb_hash;
	memcpy(p->hash_hdr, c->hash_hdr, sizeof(p->hash_hdr));
	p->server_timeout_ms = c->server_timeout_ms;
	p->enabled = c->enabled;
	p->default_port = c->default_port;
	if (place_servers) {
		p->first_server = g->n_servers;
		g->n_servers += c->n_servers;
	}
	p->n_servers = c->n_servers;
	if (c->n_servers)
		memcpy(&g->servers[p->first_server], c->servers, c->n_servers * sizeof(*c->servers));
}

static void fill_pg(struct sl_gen *g, struct sl_node *n, struct sl_gen_poolgroup *pg, bool place)
{
	struct sl_cc_pg *c = sl_node_view(n)->cc;
	copy_name(pg->name, sizeof(pg->name), n);
	if (place) {
		pg->first_member = g->n_pg_members;
		g->n_pg_members += c->n;
	}
	pg->n_members = c->n;
	for (uint32_t k = 0; k < c->n; k++) {
		struct sl_gen_pg_member *mb = &g->pg_members[pg->first_member + k];
		mb->pool_idx = g->pool_by_slot[c->pools[k]->slot];
		mb->ratio = c->ratio[k];
		mb->priority = c->prio[k];
	}
}

static void fill_vs(struct sl_gen *g, struct sl_node *n, struct sl_gen_vs *gv)
{
	struct sl_cc_vs *c = sl_node_view(n)->cc;
	copy_name(gv->name, sizeof(gv->name), n);
	gv->slot = n->slot;
	gv->app_type = c->app_type;
	gv->proto = c->proto;
	gv->enabled = c->enabled;
	gv->vs_type = c->vs_type;
	gv->vip = c->n_vips ? c->vips[0] : 0;
	gv->port_lo = c->n_listeners ? c->listeners[0].port_lo : 0;
	gv->port_hi = c->n_listeners ? c->listeners[0].port_hi : 0;
	gv->pool_idx = c->pool ? g->pool_by_slot[c->pool->slot] : SL_GEN_NONE;
	gv->poolgroup_idx = c->poolgroup ? g->pg_by_slot[c->poolgroup->slot] : SL_GEN_NONE;
	gv->parent_idx = c->parent ? g->vs_by_slot[c->parent->slot] : SL_GEN_NONE;
	gv->n_certs = c->n_certs;
	gv->log_queries = c->log_queries;
	gv->log_throttle = c->log_throttle;
	gv->max_conns = c->max_conns;
	gv->idle_timeout_s = c->idle_timeout_s;
	gv->proxy_protocol = c->proxy_protocol;
}

static void *dup_arr(const void *p, size_t n)
{
	void *d = malloc(n ? n : 1);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

/* Whether t only changes objects the generation copies by value, leaving every table's shape (slots,
 * server and member counts, listeners, SNI names) as in prev. */
static bool can_patch(struct sl_model *m, const struct sl_gen *prev, const struct sl_txn *t)
{
	if (!prev || !t || prev->n_pool_slots != m->n_slots[SL_T_POOL] || prev->n_pg_slots != m->n_slots[SL_T_POOLGROUP])
		return false;
	for (uint32_t i = 0; i < t->n; i++) {
		const struct sl_txn_ent *te = &t->ents[i];
		struct sl_node *n = te->node;
		int ty = n->type;
		if (ty == SL_T_CERT || ty == SL_T_SSLPROF)
			return false;    /* the VSs using it rebuild their TLS (gen_tls.c compares what it was built from) */
		if (ty != SL_T_VS && ty != SL_T_POOL && ty != SL_T_POOLGROUP)
			continue;
		if (n->txn_new || !te->ver || !n->cur)
			return false;
		if (ty == SL_T_POOL) {
			uint32_t idx = prev->pool_by_slot[n->slot];
			if (idx == SL_GEN_NONE || prev->pools[idx].n_servers != ((struct sl_cc_pool *)te->ver->cc)->n_servers)
				return false;
		} else if (ty == SL_T_POOLGROUP) {
			uint32_t idx = prev->pg_by_slot[n->slot];
			if (idx == SL_GEN_NONE || prev->poolgroups[idx].n_members != ((struct sl_cc_pg *)te->ver->cc)->n)
				return false;
		} else {
			const struct sl_cc_vs *a = n->cur->cc, *b = te->ver->cc;
			if (prev->vs_by_slot[n->slot] == SL_GEN_NONE || a->n_listeners != b->n_listeners ||
			    a->n_domains != b->n_domains || a->parent != b->parent ||
			    (a->n_listeners && memcmp(a->listeners, b->listeners, a->n_listeners * sizeof(*a->listeners))))
				return false;
			for (uint32_t k = 0; k < a->n_domains; k++)
				if (strcmp(a->domains[k], b->domains[k]))
					return false;
		}
	}
	return true;
}

static struct sl_gen *patch_build(struct sl_model *m, uint64_t id, const struct sl_gen_build_ctx *bc,
				  const struct sl_gen *prev, const struct sl_txn *t, struct sl_err *e)
{
	struct sl_gen *g = malloc(sizeof(*g));
	if (!g)
		goto nomem;
	memcpy(g, prev, sizeof(*g));
	g->id = id;
	g->health = bc ? bc->health : prev->health;
	g->vs = dup_arr(prev->vs, (prev->n_vs + 1) * sizeof(*g->vs));
	g->listeners = dup_arr(prev->listeners, (prev->n_listeners + 1) * sizeof(*g->listeners));
	g->pools = dup_arr(prev->pools, (prev->n_pools + 1) * sizeof(*g->pools));
	g->servers = dup_arr(prev->servers, (prev->n_servers + 1) * sizeof(*g->servers));
	g->poolgroups = dup_arr(prev->poolgroups, (prev->n_poolgroups + 1) * sizeof(*g->poolgroups));
	g->pg_members = dup_arr(prev->pg_members, (prev->n_pg_members + 1) * sizeof(*g->pg_members));
	g->vips = dup_arr(prev->vips, (prev->n_vips + 1) * sizeof(*g->vips));
	g->vip_hash = dup_arr(prev->vip_hash, (prev->vip_mask + 1) * sizeof(*g->vip_hash));
	g->lst_hash = dup_arr(prev->lst_hash, (prev->lst_mask + 1) * sizeof(*g->lst_hash));
	g->sni_hash = prev->sni_hash ? dup_arr(prev->sni_hash, (prev->sni_mask + 1) * sizeof(*g->sni_hash)) : NULL;
	g->sni_names = prev->sni_names ? dup_arr(prev->sni_names, prev->sni_bytes) : NULL;
	g->pool_by_slot = dup_arr(prev->pool_by_slot, (prev->n_pool_slots + 1) * sizeof(uint32_t));
	g->pg_by_slot = dup_arr(prev->pg_by_slot, (prev->n_pg_slots + 1) * sizeof(uint32_t));
	/* DNS databases belong to one generation: never share prev's */
	for (uint32_t i = 0; g->vs && i < g->n_vs; i++)
		g->vs[i].app = NULL;
	if (!g->vs || !g->listeners || !g->pools || !g->servers || !g->poolgroups || !g->pg_members || !g->vips ||
	    !g->vip_hash || !g->lst_hash || (prev->sni_hash && (!g->sni_hash || !g->sni_names)) || !g->pool_by_slot ||
	    !g->pg_by_slot)
		goto nomem;
	/* the copied pools and groups share prev's pick structures */
	for (uint32_t i = 0; i < g->n_pools; i++)
		if (g->pools[i].lb)
			g->pools[i].lb->refs++;
	for (uint32_t i = 0; i < g->n_poolgroups; i++)
		if (g->poolgroups[i].lb)
			g->poolgroups[i].lb->refs++;
	for (uint32_t i = 0; i < g->n_vs; i++) {
		sl_gen_http_get(g->vs[i].http);
		sl_tls_vs_get(g->vs[i].tls);
	}
	for (uint32_t i = 0; i < t->n; i++) {
		struct sl_node *n = t->ents[i].node;
		if (n->type == SL_T_POOL) {
			uint32_t idx = g->pool_by_slot[n->slot];
			struct sl_gen_lb *old = g->pools[idx].lb;
			fill_pool(g, n, &g->pools[idx], false);
			int rc = lb_attach_pool(g, &g->pools[idx], prev, &prev->pools[idx], lb_workers(bc));
			lb_put(old);
			if (rc)
				goto nomem_built;
		} else if (n->type == SL_T_POOLGROUP) {
			uint32_t idx = g->pg_by_slot[n->slot];
			struct sl_gen_lb *old = g->poolgroups[idx].lb;
			fill_pg(g, n, &g->poolgroups[idx], false);
			int rc = lb_attach_pg(g, &g->poolgroups[idx], prev, &prev->poolgroups[idx], lb_workers(bc));
			lb_put(old);
			if (rc)
				goto nomem_built;
		} else if (n->type == SL_T_VS)
			fill_vs(g, n, &g->vs[g->vs_by_slot[n->slot]]);
	}
	if (sl_gen_http_patch(m, t, g, e) || sl_gen_tls_patch(m, t, g, lb_workers(bc), e)) {
		sl_gen_free(g);
		return NULL;
	}
#ifdef SL_HAVE_DNS
	if (compile_dns(m, g, prev, bc, e)) {
		sl_gen_free(g);
		return NULL;
	}
#else
	(void)m;
#endif
	return g;
nomem_built:
	sl_gen_free(g);     /* vs[].app are NULL yet; vs[].http hold references */
	sl_err_set(e, 500, "internal", "", "out of memory while compiling generation");
	return NULL;
nomem:
	if (g) {
		g->n_vs = 0;   /* nothing of ours to free in vs[].app */
		g->n_pools = g->n_poolgroups = 0;       /* no references taken yet */
		sl_gen_free(g);
	}
	sl_err_set(e, 500, "internal", "", "out of memory while compiling generation");
	return NULL;
}

struct sl_gen *sl_gen_build(struct sl_model *m, uint64_t id, const struct sl_gen_build_ctx *bc, const struct sl_gen *prev,
			    const struct sl_txn *t, struct sl_err *e)
{
	if (can_patch(m, prev, t))
		return patch_build(m, id, bc, prev, t, e);

	struct sl_gen *g = calloc(1, sizeof(*g));
	if (!g)
		goto nomem;
	g->release = sl_gen_free;
	g->pool_by_slot = calloc(m->n_slots[SL_T_POOL] + 1, sizeof(uint32_t));
	g->pg_by_slot = calloc(m->n_slots[SL_T_POOLGROUP] + 1, sizeof(uint32_t));
	if (!g->pool_by_slot || !g->pg_by_slot)
		goto nomem;
	g->n_pool_slots = m->n_slots[SL_T_POOL];
	g->n_pg_slots = m->n_slots[SL_T_POOLGROUP];
	g->id = id;
	g->health = bc ? bc->health : NULL;
	for (uint32_t i = 0; i < SL_MAX_VS; i++)
		g->vs_by_slot[i] = SL_GEN_NONE;

	/* pools */
	uint32_t np = 0, ns = 0;
	for (uint32_t s = 0; s < m->n_slots[SL_T_POOL]; s++) {
		struct sl_node *n = m->slots[SL_T_POOL][s];
		struct sl_ver *v = n ? sl_node_view(n) : NULL;
		g->pool_by_slot[s] = SL_GEN_NONE;
		if (!v)
			continue;
		g->pool_by_slot[s] = np++;
		ns += ((struct sl_cc_pool *)v->cc)->n_servers;
	}
	g->pools = calloc(np + 1, sizeof(*g->pools));
	g->servers = calloc(ns + 1, sizeof(*g->servers));
	if (!g->pools || !g->servers)
		goto nomem;
	for (uint32_t s = 0; s < m->n_slots[SL_T_POOL]; s++)
		if (g->pool_by_slot[s] != SL_GEN_NONE)
			fill_pool(g, m->slots[SL_T_POOL][s], &g->pools[g->pool_by_slot[s]], true);
	g->n_pools = np;
	for (uint32_t s = 0; s < m->n_slots[SL_T_POOL]; s++) {
		uint32_t idx = g->pool_by_slot[s];
		uint32_t pidx = prev && s < prev->n_pool_slots ? prev->pool_by_slot[s] : SL_GEN_NONE;
		if (idx != SL_GEN_NONE &&
		    lb_attach_pool(g, &g->pools[idx], prev, pidx != SL_GEN_NONE ? &prev->pools[pidx] : NULL, lb_workers(bc)))
			goto nomem;
	}

	/* pool groups */
	uint32_t ng = 0, nm = 0;
	for (uint32_t s = 0; s < m->n_slots[SL_T_POOLGROUP]; s++) {
		struct sl_node *n = m->slots[SL_T_POOLGROUP][s];
		struct sl_ver *v = n ? sl_node_view(n) : NULL;
		g->pg_by_slot[s] = SL_GEN_NONE;
		if (!v)
			continue;
		g->pg_by_slot[s] = ng++;
		nm += ((struct sl_cc_pg *)v->cc)->n;
	}
	g->poolgroups = calloc(ng + 1, sizeof(*g->poolgroups));
	g->pg_members = calloc(nm + 1, sizeof(*g->pg_members));
	if (!g->poolgroups || !g->pg_members)
		goto nomem;
	for (uint32_t s = 0; s < m->n_slots[SL_T_POOLGROUP]; s++)
		if (g->pg_by_slot[s] != SL_GEN_NONE)
			fill_pg(g, m->slots[SL_T_POOLGROUP][s], &g->poolgroups[g->pg_by_slot[s]], true);
	g->n_poolgroups = ng;
	for (uint32_t s = 0; s < m->n_slots[SL_T_POOLGROUP]; s++) {
		uint32_t idx = g->pg_by_slot[s];
		uint32_t pidx = prev && s < prev->n_pg_slots ? prev->pg_by_slot[s] : SL_GEN_NONE;
		if (idx != SL_GEN_NONE &&
		    lb_attach_pg(g, &g->poolgroups[idx], prev, pidx != SL_GEN_NONE ? &prev->poolgroups[pidx] : NULL,
				 lb_workers(bc)))
			goto nomem;
	}

	/* virtual services */
	uint32_t nv = 0, nl = 0, nsni = 0;
	size_t sni_bytes = 0;
	for (uint32_t s = 0; s < m->n_slots[SL_T_VS]; s++) {
		struct sl_node *n = m->slots[SL_T_VS][s];
		struct sl_ver *v = n ? sl_node_view(n) : NULL;
		if (!v)
			continue;
		struct sl_cc_vs *c = v->cc;
		g->vs_by_slot[s] = nv++;
		nl += c->n_listeners;
		nsni += c->n_domains;
		for (uint32_t k = 0; k < c->n_domains; k++)
			sni_bytes += strlen(c->domains[k]) + 1;
	}
	g->vs = calloc(nv + 1, sizeof(*g->vs));
	g->listeners = calloc(nl + 1, sizeof(*g->listeners));
	if (!g->vs || !g->listeners)
		goto nomem;
	g->n_vs = nv;
	for (uint32_t s = 0; s < m->n_slots[SL_T_VS]; s++) {
		if (g->vs_by_slot[s] == SL_GEN_NONE)
			continue;
		struct sl_node *n = m->slots[SL_T_VS][s];
		struct sl_cc_vs *c = sl_node_view(n)->cc;
		uint32_t idx = g->vs_by_slot[s];
		fill_vs(g, n, &g->vs[idx]);
		for (uint32_t k = 0; k < c->n_listeners; k++) {
			g->listeners[g->n_listeners] = c->listeners[k];
			g->listeners[g->n_listeners].vs_idx = idx;
			g->n_listeners++;
		}
	}
	if (sl_gen_http_build_all(m, t, g, prev, e) || sl_gen_tls_build_all(m, t, g, prev, lb_workers(bc), e)) {
		sl_gen_free(g);
		return NULL;
	}

	/* listener and VIP tables */
	qsort(g->listeners, g->n_listeners, sizeof(*g->listeners), cmp_listener);
	uint32_t nb = 0, nvip = 0;
	for (uint32_t i = 0; i < g->n_listeners; i++) {
		if (i == 0 || g->listeners[i].vip != g->listeners[i - 1].vip || g->listeners[i].proto != g->listeners[i - 1].proto)
			nb++;
		if (i == 0 || g->listeners[i].vip != g->listeners[i - 1].vip)
			nvip++;
	}
	uint32_t lcap = pow2_at_least(nb), vcap = pow2_at_least(nvip);
	g->lst_hash = calloc(lcap, sizeof(*g->lst_hash));
	g->vip_hash = calloc(vcap, sizeof(*g->vip_hash));
	g->vips = calloc(nvip + 1, sizeof(*g->vips));
	if (!g->lst_hash || !g->vip_hash || !g->vips)
		goto nomem;
	g->lst_mask = lcap - 1;
	g->vip_mask = vcap - 1;
	for (uint32_t i = 0; i < g->n_listeners;) {
		struct sl_gen_listener *l = &g->listeners[i];
		uint32_t j = i + 1;
		while (j < g->n_listeners && g->listeners[j].vip == l->vip && g->listeners[j].proto == l->proto)
			j++;
		uint32_t h = sl_gen_mix32(l->vip ^ ((uint32_t)l->proto << 24)) & g->lst_mask;
		while (g->lst_hash[h].n)
			h = (h + 1) & g->lst_mask;
		g->lst_hash[h] = (struct sl_gen_lslot){ l->vip, l->proto, i, j - i };
		if (!sl_gen_is_vip(g, l->vip)) {
			uint32_t k = sl_gen_mix32(l->vip) & g->vip_mask;
			while (g->vip_hash[k])
				k = (k + 1) & g->vip_mask;
			g->vip_hash[k] = l->vip;
			g->vips[g->n_vips++] = l->vip;
		}
		i = j;
	}

	/* SNI children */
	if (nsni) {
		uint32_t scap = pow2_at_least(nsni);
		g->sni_hash = calloc(scap, sizeof(*g->sni_hash));
		g->sni_names = malloc(sni_bytes);
		g->sni_bytes = sni_bytes;
		if (!g->sni_hash || !g->sni_names)
			goto nomem;
		g->sni_mask = scap - 1;
		uint32_t off = 0;
		for (uint32_t s = 0; s < m->n_slots[SL_T_VS]; s++) {
			if (g->vs_by_slot[s] == SL_GEN_NONE)
				continue;
			struct sl_cc_vs *c = sl_node_view(m->slots[SL_T_VS][s])->cc;
			if (!c->parent)
				continue;
			uint32_t pidx = g->vs_by_slot[c->parent->slot];
			for (uint32_t k = 0; k < c->n_domains; k++) {
				uint32_t len = (uint32_t)strlen(c->domains[k]);
				memcpy(g->sni_names + off, c->domains[k], len + 1);
				uint32_t h = sl_gen_sni_hash(pidx, c->domains[k], len) & g->sni_mask;
				while (g->sni_hash[h].len)
					h = (h + 1) & g->sni_mask;
				g->sni_hash[h] = (struct sl_gen_sni){ pidx, g->vs_by_slot[s], off, len };
				off += len + 1;
			}
		}
	}
#ifdef SL_HAVE_DNS
	if (compile_dns(m, g, prev, bc, e)) {
		sl_gen_free(g);
		return NULL;
	}
#endif
	return g;
nomem:
	sl_gen_free(g);
	sl_err_set(e, 500, "internal", "", "out of memory while compiling generation");
	return NULL;
}
