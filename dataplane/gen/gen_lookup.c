/* Lookups in a published generation: what the workers ask of it, per
 * connection or per query (never per packet of an established flow). */
#include <string.h>
#include <strings.h>

#include "sl_gen.h"

bool sl_gen_is_vip(const struct sl_gen *g, uint32_t ip)
{
	if (!ip || !g->vip_hash)
		return false;
	for (uint32_t i = sl_gen_mix32(ip) & g->vip_mask;; i = (i + 1) & g->vip_mask) {
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
	for (uint32_t i = sl_gen_mix32(vip ^ ((uint32_t)proto << 24)) & g->lst_mask;; i = (i + 1) & g->lst_mask) {
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
	for (uint32_t i = sl_gen_sni_hash(pidx, sni, len) & g->sni_mask;; i = (i + 1) & g->sni_mask) {
		const struct sl_gen_sni *s = &g->sni_hash[i];
		if (!s->len)
			return NULL;
		if (s->parent == pidx && s->len == len && !strncasecmp(g->sni_names + s->off, sni, len))
			return &g->vs[s->child];
	}
}

const struct sl_gen_vs *sl_gen_vh_match(const struct sl_gen *g, const struct sl_gen_vs *parent, const char *name,
					size_t n)
{
	const struct sl_gen_vs *c = sl_gen_vh_child(g, parent, name, n);
	const char *dot;
	char wc[258];

	if (c || n > 253)
		return c;
	dot = memchr(name, '.', n);
	if (!dot || dot == name || (size_t)(name + n - dot) < 2)
		return NULL;
	wc[0] = '*';
	memcpy(wc + 1, dot, (size_t)(name + n - dot));
	return sl_gen_vh_child(g, parent, wc, (size_t)(name + n - dot) + 1);
}

size_t sl_gen_vips(const struct sl_gen *g, const uint32_t **vips)
{
	*vips = g->vips;
	return g->n_vips;
}

