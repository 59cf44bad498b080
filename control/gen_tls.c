/* The TLS of a generation's virtual services (sl_gen_vs.tls): their certificates and SSLProfile
 * compiled into one SSL_CTX per worker by dataplane/app/tls, shared with the previous generation
 * while neither changed (building an SSL_CTX is expensive in OpenSSL 3.0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_http.h"
#include "gen_tls.h"
#include "sl_tls.h"

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 1099511628211ull;
	}
	return h ^ 0xff;
}

static const char *jstr_of(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* The PEMs of cert node n: leaf (with what follows it) and key, its ca_certs' certificates as the
 * chain (into chain, malloc'ed). The fingerprint covers all of it. */
static int cert_of(struct sl_model *m, const struct sl_txn *t, struct sl_node *n, struct sl_tls_cert *c, char **chain,
		   uint64_t *fp)
{
	json_t *d = sl_node_view(n)->data, *cas = json_object_get(d, "ca_certs");
	size_t len = 1;
	char *s;

	c->pem = jstr_of(json_object_get(d, "certificate"), "certificate");
	c->key = jstr_of(d, "key");
	c->pass = json_string_value(json_object_get(d, "key_passphrase"));
	*fp = fnv(fnv(fnv(*fp, c->pem), c->key), c->pass ? c->pass : "");
	for (size_t i = 0; i < json_array_size(cas); i++) {
		struct sl_node *ca = sl_ref_find(m, t, SL_T_CERT, jstr_of(json_array_get(cas, i), "ca_ref"));

		if (ca && sl_node_view(ca))
			len += strlen(jstr_of(json_object_get(sl_node_view(ca)->data, "certificate"), "certificate")) + 1;
	}
	s = calloc(1, len);
	if (!s)
		return -1;
	for (size_t i = 0; i < json_array_size(cas); i++) {
		struct sl_node *ca = sl_ref_find(m, t, SL_T_CERT, jstr_of(json_array_get(cas, i), "ca_ref"));

		if (ca && sl_node_view(ca)) {
			strcat(s, jstr_of(json_object_get(sl_node_view(ca)->data, "certificate"), "certificate"));
			strcat(s, "\n");
		}
	}
	*fp = fnv(*fp, s);
	c->chain = s;
	*chain = s;
	return 0;
}

/* The VS's SSLProfile (System-Standard without ssl_profile_ref) into conf and the fingerprint. */
static void profile_of(struct sl_node *vn, struct sl_tls_conf *conf, uint64_t *fp)
{
	const struct sl_cc_vs *c = sl_node_view(vn)->cc;
	const struct sl_ver *pv = c && c->ssl_profile ? sl_node_view(c->ssl_profile) : NULL;
	const struct sl_cc_sslprof *p = pv ? pv->cc : NULL;
	char v[48];

	if (!p)
		return;
	conf->min_version = p->min_version;
	conf->max_version = p->max_version;
	conf->ciphers = p->ciphers;
	conf->ciphersuites = p->ciphersuites;
	conf->prefer_client = p->prefer_client;
	snprintf(v, sizeof(v), "%d-%d-%d", p->min_version, p->max_version, p->prefer_client);
	/* "-" marks an unset string apart from any list */
	*fp = fnv(fnv(fnv(*fp, v), p->ciphers ? p->ciphers : "-"), p->ciphersuites ? p->ciphersuites : "-");
}

/* *out: a reference for the VS at slot (prev's when built from the same certificates and
 * profile settings), NULL without certificates. */
static int attach(struct sl_model *m, const struct sl_txn *t, struct sl_gen_vs *gv, const struct sl_tls_vs *prev,
		  unsigned n_workers, struct sl_err *e)
{
	struct sl_node *vn = m->slots[SL_T_VS][gv->slot];
	json_t *d = sl_node_view(vn)->data, *refs = json_object_get(d, "ssl_key_and_certificate_refs");
	size_t n = json_array_size(refs);
	struct sl_tls_cert certs[8];
	char *chains[8] = { 0 };
	uint64_t fp = 1469598103934665603ull;
	struct sl_tls_conf conf = { .certs = certs };
	char err[256] = "";
	int which = -1, rc = 0;

	gv->tls = NULL;
	if (!n)
		return 0;
	if (n > 8)
		n = 8;
	fp = fnv(fp, n_workers == 1 ? "1" : "n");
	profile_of(vn, &conf, &fp);
	for (size_t i = 0; i < n; i++) {
		struct sl_node *cn = sl_ref_find(m, t, SL_T_CERT, json_string_value(json_array_get(refs, i)));

		if (!cn || !sl_node_view(cn) || cert_of(m, t, cn, &certs[conf.n_certs], &chains[conf.n_certs], &fp)) {
			rc = sl_err_set(e, cn ? 500 : 422, cn ? "internal" : "invalid_reference", "",
					"virtual service \"%.100s\": ssl_key_and_certificate_refs[%zu] not found", gv->name, i);
			goto out;
		}
		conf.n_certs++;
	}
	if (prev && prev->fp == fp && prev->n_workers == n_workers) {
		sl_tls_vs_get(prev);
		gv->tls = prev;
		goto out;
	}
	struct sl_tls_vs *tv = NULL;
	if (sl_tls_vs_build(&conf, n_workers, &tv, &which, err, sizeof(err))) {
		char path[64];

		snprintf(path, sizeof(path), which >= 0 ? "ssl_key_and_certificate_refs[%d]" : "ssl_profile_ref", which);
		rc = sl_err_set(e, 422, "invalid_certificate", path, "virtual service \"%.100s\": %s", gv->name, err);
		goto out;
	}
	tv->fp = fp;
	gv->tls = tv;
out:
	for (size_t i = 0; i < 8; i++)
		free(chains[i]);
	return rc;
}

static const struct sl_tls_vs *prev_tls(const struct sl_gen *prev, uint32_t slot)
{
	uint32_t i = prev ? prev->vs_by_slot[slot] : SL_GEN_NONE;

	return i != SL_GEN_NONE ? prev->vs[i].tls : NULL;
}

int sl_gen_tls_build_all(struct sl_model *m, const struct sl_txn *t, struct sl_gen *g, const struct sl_gen *prev,
			 unsigned n_workers, struct sl_err *e)
{
	for (uint32_t i = 0; i < g->n_vs; i++)
		g->vs[i].tls = NULL;
	for (uint32_t i = 0; i < g->n_vs; i++)
		if (attach(m, t, &g->vs[i], prev_tls(prev, g->vs[i].slot), n_workers, e))
			return -1;
	return 0;
}

int sl_gen_tls_patch(struct sl_model *m, const struct sl_txn *t, struct sl_gen *g, unsigned n_workers,
		     struct sl_err *e)
{
	for (uint32_t i = 0; t && i < t->n; i++) {
		struct sl_node *n = t->ents[i].node;
		uint32_t idx;

		if (n->type != SL_T_VS || (idx = g->vs_by_slot[n->slot]) == SL_GEN_NONE)
			continue;
		const struct sl_tls_vs *old = g->vs[idx].tls;
		int rc = attach(m, t, &g->vs[idx], old, n_workers, e);

		sl_tls_vs_put(old);
		if (rc)
			return -1;
	}
	return 0;
}

/* ---- what the operator reads: /api/virtualservice/<vs>/runtime "tls" and the sluice_tls_*
 * families of /metrics, from the workers' counters (sl_tls_vs_stats) */
json_t *sl_tls_runtime_json(const struct sl_gen_vs *gv)
{
	struct sl_tls_vs_stats s;
	const uint64_t *v = (const uint64_t *)&s;
	json_t *o = json_object();

	sl_tls_vs_stats(gv->slot, &s);
	for (size_t i = 0; i < SL_TLS_STATS_N; i++)
		json_object_set_new(o, sl_tls_stats_names[i], json_integer((json_int_t)v[i]));
	if (gv->tls) {
		json_object_set_new(o, "certificates", json_integer(gv->tls->n_certs));
		json_object_set_new(o, "certificate_not_after", json_integer((json_int_t)gv->tls->not_after));
	}
	return o;
}

void sl_tls_metrics_text(const struct sl_gen *g, void (*put)(void *arg, const char *line), void *arg)
{
	char line[512];

	if (!g)
		return;
	for (size_t k = 0; k < SL_TLS_STATS_N + 1; k++) {
		const char *name = k < SL_TLS_STATS_N ? sl_tls_stats_names[k] : "certificate_not_after_seconds";
		bool gauge = k >= SL_TLS_STATS_N || !strcmp(name, "connections");
		bool first = true;

		for (uint32_t i = 0; i < g->n_vs; i++) {
			const struct sl_gen_vs *gv = &g->vs[i];
			struct sl_tls_vs_stats s;
			uint64_t v;

			/* TLS listeners and the SNI children they serve */
			if (!gv->tls && !(gv->vs_type == SL_VS_VH_CHILD && gv->parent_idx != SL_GEN_NONE &&
					  g->vs[gv->parent_idx].tls))
				continue;
			if (k == SL_TLS_STATS_N && !gv->tls)
				continue;
			if (first) {
				snprintf(line, sizeof(line), "# TYPE sluice_tls_%s%s %s\n", name, gauge ? "" : "_total",
					 gauge ? "gauge" : "counter");
				put(arg, line);
				first = false;
			}
			sl_tls_vs_stats(gv->slot, &s);
			v = k < SL_TLS_STATS_N ? ((const uint64_t *)&s)[k] : (uint64_t)gv->tls->not_after;
			snprintf(line, sizeof(line), "sluice_tls_%s%s{vs=\"", name, gauge ? "" : "_total");
			put(arg, line);
			/* VS names are validated printable; quotes and backslashes escaped all the same */
			for (const char *p = gv->name; *p; p++) {
				char e[3] = { *p, 0, 0 };

				if (*p == '"' || *p == '\\') {
					e[0] = '\\';
					e[1] = *p;
				}
				put(arg, e);
			}
			snprintf(line, sizeof(line), "\"} %llu\n", (unsigned long long)v);
			put(arg, line);
		}
	}
}
