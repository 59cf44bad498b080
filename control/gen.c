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
#ifdef SL_HAVE_DNS
#include "sl_dns.h"
#endif

struct sl_gen_lslot { uint32_t vip; uint8_t proto; uint32_t first, n; };
struct sl_gen_sni { uint32_t parent, child, off, len; };

static inline uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* The committed name is cached on the node; only staged versions need a JSON lookup. */
static void copy_name(char *dst, size_t cap, const struct sl_node *n)
{
	const char *s = n->in_txn ? sl_node_name(n) : n->name;
	size_t l = s ? strlen(s) : 0;
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

static uint32_t sni_hash(uint32_t parent, const char *s, size_t len)
{
	uint32_t h = 2166136261u ^ parent;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)tolower((unsigned char)s[i]);
		h *= 16777619u;
	}
	return mix32(h);
}

bool sl_gen_is_vip(const struct sl_gen *g, uint32_t ip)
{
	if (!ip || !g->vip_hash)
		return false;
	for (uint32_t i = mix32(ip) & g->vip_mask;; i = (i + 1) & g->vip_mask) {
		if (g->vip_hash[i] == ip)
			return true;
		if (!g->vip_hash[i])
			return false;
	}
}

const struct sl_gen_listener *sl_gen_lookup_listener(const struct sl_gen *g, uint32_t vip, uint8_t proto, uint16_t port)
{
	if (!g->lst_hash)
		return NULL;
	for (uint32_t i = mix32(vip ^ ((uint32_t)proto << 24)) & g->lst_mask;; i = (i + 1) & g->lst_mask) {
		const struct sl_gen_lslot *s = &g->lst_hash[i];
		if (!s->n)
			return NULL;
		if (s->vip != vip || s->proto != proto)
			continue;
		for (uint32_t k = s->first; k < s->first + s->n; k++)
			if (g->listeners[k].port_lo <= port && port <= g->listeners[k].port_hi)
				return &g->listeners[k];
		return NULL;
	}
}

const struct sl_gen_vs *sl_gen_lookup(const struct sl_gen *g, uint32_t vip, uint8_t proto, uint16_t port)
{
	const struct sl_gen_listener *l = sl_gen_lookup_listener(g, vip, proto, port);
	return l ? &g->vs[l->vs_idx] : NULL;
}

const struct sl_gen_vs *sl_gen_vh_child(const struct sl_gen *g, const struct sl_gen_vs *parent, const char *sni,
					size_t len)
{
	if (!g->sni_hash || !parent)
		return NULL;
	uint32_t pidx = (uint32_t)(parent - g->vs);
	for (uint32_t i = sni_hash(pidx, sni, len) & g->sni_mask;; i = (i + 1) & g->sni_mask) {
		const struct sl_gen_sni *s = &g->sni_hash[i];
		if (!s->len)
			return NULL;
		if (s->parent == pidx && s->len == len && !strncasecmp(g->sni_names + s->off, sni, len))
			return &g->vs[s->child];
	}
}

size_t sl_gen_vips(const struct sl_gen *g, const uint32_t **vips)
{
	*vips = g->vips;
	return g->n_vips;
}

void sl_gen_free(struct sl_gen *g)
{
	if (!g)
		return;
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
static int compile_dns(struct sl_model *m, struct sl_gen *g, const struct sl_gen_build_ctx *bc, struct sl_err *e)
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
		gv->app = db;
	}
	json_decref(gslbs);
	return 0;
}
#endif

struct sl_gen *sl_gen_build(struct sl_model *m, uint64_t id, const struct sl_gen_build_ctx *bc, struct sl_err *e)
{
	struct sl_gen *g = calloc(1, sizeof(*g));
	uint32_t *pool_map = calloc(m->n_slots[SL_T_POOL] + 1, sizeof(uint32_t));
	uint32_t *pg_map = calloc(m->n_slots[SL_T_POOLGROUP] + 1, sizeof(uint32_t));
	if (!g || !pool_map || !pg_map)
		goto nomem;
	g->id = id;
	g->health = bc ? bc->health : NULL;
	for (uint32_t i = 0; i < SL_MAX_VS; i++)
		g->vs_by_slot[i] = SL_GEN_NONE;

	/* pools */
	uint32_t np = 0, ns = 0;
	for (uint32_t s = 0; s < m->n_slots[SL_T_POOL]; s++) {
		struct sl_node *n = m->slots[SL_T_POOL][s];
		struct sl_ver *v = n ? sl_node_view(n) : NULL;
		pool_map[s] = SL_GEN_NONE;
		if (!v)
			continue;
		pool_map[s] = np++;
		ns += ((struct sl_cc_pool *)v->cc)->n_servers;
	}
	g->pools = calloc(np + 1, sizeof(*g->pools));
	g->servers = calloc(ns + 1, sizeof(*g->servers));
	if (!g->pools || !g->servers)
		goto nomem;
	for (uint32_t s = 0; s < m->n_slots[SL_T_POOL]; s++) {
		if (pool_map[s] == SL_GEN_NONE)
			continue;
		struct sl_node *n = m->slots[SL_T_POOL][s];
		struct sl_cc_pool *c = sl_node_view(n)->cc;
		struct sl_gen_pool *p = &g->pools[pool_map[s]];
		copy_name(p->name, sizeof(p->name), n);
		p->lb_algorithm = c->lb_algorithm;
		p->lb_hash = c->lb_hash;
		p->enabled = c->enabled;
		p->default_port = c->default_port;
		p->first_server = g->n_servers;
		p->n_servers = c->n_servers;
		if (c->n_servers)
			memcpy(&g->servers[g->n_servers], c->servers, c->n_servers * sizeof(*c->servers));
		g->n_servers += c->n_servers;
	}
	g->n_pools = np;

	/* pool groups */
	uint32_t ng = 0, nm = 0;
	for (uint32_t s = 0; s < m->n_slots[SL_T_POOLGROUP]; s++) {
		struct sl_node *n = m->slots[SL_T_POOLGROUP][s];
		struct sl_ver *v = n ? sl_node_view(n) : NULL;
		pg_map[s] = SL_GEN_NONE;
		if (!v)
			continue;
		pg_map[s] = ng++;
		nm += ((struct sl_cc_pg *)v->cc)->n;
	}
	g->poolgroups = calloc(ng + 1, sizeof(*g->poolgroups));
	g->pg_members = calloc(nm + 1, sizeof(*g->pg_members));
	if (!g->poolgroups || !g->pg_members)
		goto nomem;
	for (uint32_t s = 0; s < m->n_slots[SL_T_POOLGROUP]; s++) {
		if (pg_map[s] == SL_GEN_NONE)
			continue;
		struct sl_node *n = m->slots[SL_T_POOLGROUP][s];
		struct sl_cc_pg *c = sl_node_view(n)->cc;
		struct sl_gen_poolgroup *pg = &g->poolgroups[pg_map[s]];
		copy_name(pg->name, sizeof(pg->name), n);
		pg->first_member = g->n_pg_members;
		pg->n_members = c->n;
		for (uint32_t k = 0; k < c->n; k++) {
			struct sl_gen_pg_member *mb = &g->pg_members[g->n_pg_members++];
			mb->pool_idx = pool_map[c->pools[k]->slot];
			mb->ratio = c->ratio[k];
			mb->priority = c->prio[k];
		}
	}
	g->n_poolgroups = ng;

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
	for (uint32_t s = 0; s < m->n_slots[SL_T_VS]; s++) {
		if (g->vs_by_slot[s] == SL_GEN_NONE)
			continue;
		struct sl_node *n = m->slots[SL_T_VS][s];
		struct sl_cc_vs *c = sl_node_view(n)->cc;
		uint32_t idx = g->vs_by_slot[s];
		struct sl_gen_vs *gv = &g->vs[idx];
		copy_name(gv->name, sizeof(gv->name), n);
		gv->slot = s;
		gv->app_type = c->app_type;
		gv->proto = c->proto;
		gv->enabled = c->enabled;
		gv->vs_type = c->vs_type;
		gv->vip = c->n_vips ? c->vips[0] : 0;
		if (c->n_listeners) {
			gv->port_lo = c->listeners[0].port_lo;
			gv->port_hi = c->listeners[0].port_hi;
		}
		gv->pool_idx = c->pool ? pool_map[c->pool->slot] : SL_GEN_NONE;
		gv->poolgroup_idx = c->poolgroup ? pg_map[c->poolgroup->slot] : SL_GEN_NONE;
		gv->parent_idx = c->parent ? g->vs_by_slot[c->parent->slot] : SL_GEN_NONE;
		gv->n_certs = c->n_certs;
		gv->log_queries = c->log_queries;
		gv->log_throttle = c->log_throttle;
		for (uint32_t k = 0; k < c->n_listeners; k++) {
			g->listeners[g->n_listeners] = c->listeners[k];
			g->listeners[g->n_listeners].vs_idx = idx;
			g->n_listeners++;
		}
	}
	g->n_vs = nv;

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
		uint32_t h = mix32(l->vip ^ ((uint32_t)l->proto << 24)) & g->lst_mask;
		while (g->lst_hash[h].n)
			h = (h + 1) & g->lst_mask;
		g->lst_hash[h] = (struct sl_gen_lslot){ l->vip, l->proto, i, j - i };
		if (!sl_gen_is_vip(g, l->vip)) {
			uint32_t k = mix32(l->vip) & g->vip_mask;
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
				uint32_t h = sni_hash(pidx, c->domains[k], len) & g->sni_mask;
				while (g->sni_hash[h].len)
					h = (h + 1) & g->sni_mask;
				g->sni_hash[h] = (struct sl_gen_sni){ pidx, g->vs_by_slot[s], off, len };
				off += len + 1;
			}
		}
	}
#ifdef SL_HAVE_DNS
	if (compile_dns(m, g, bc, e)) {
		free(pool_map);
		free(pg_map);
		sl_gen_free(g);
		return NULL;
	}
#else
	(void)bc;
#endif
	free(pool_map);
	free(pg_map);
	return g;
nomem:
	free(pool_map);
	free(pg_map);
	sl_gen_free(g);
	sl_err_set(e, 500, "internal", "", "out of memory while compiling generation");
	return NULL;
}
