/* HTTP virtual services in the generation: struct sl_gen_http from the VS's application profile
 * (http_profile) and the HTTPPolicySets of its http_policies[], compiled with dataplane/policy.
 *
 * Compiling a set costs regex compilation and JIT, so a built sl_gen_http is shared by every
 * generation in which the VS's profile and sets are the same versions; pools and pool groups the
 * sets name are bound by their stable slots, so changes to them never rebuild it. */
/* Paths and details are deliberately truncated to fixed buffers. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_http.h"
#include "sl_policy.h"

#define GH_MAX_SETS 64          /* http_policies[] bound of the schema */

/* One version of one object: the generation that last wrote an object is unique to that write. */
struct gh_key { uint32_t slot; uint64_t gen; };

/* What an sl_gen_http was built from, kept behind it so prev's can be compared without JSON. */
struct gh {
	struct sl_gen_http pub;     /* first: generations point here */
	struct gh_key prof;
	uint32_t n_sets;
	struct gh_key sets[];
};

struct gh_set { int64_t index; struct sl_node *n; };

static struct gh *gh_of(const struct sl_gen_http *h)
{
	return (struct gh *)(void *)h;
}

void sl_gen_http_get(const struct sl_gen_http *h)
{
	if (h)
		gh_of(h)->pub.refs++;
}

void sl_gen_http_put(const struct sl_gen_http *h)
{
	struct gh *g = gh_of(h);
	if (!g || --g->pub.refs)
		return;
	for (uint32_t i = 0; i < g->pub.n_policies; i++)
		sl_policy_free(g->pub.policies[i]);
	free(g->pub.policies);
	free(g);
}

static void join_path(char *out, size_t n, const char *prefix, const char *rel)
{
	snprintf(out, n, "%s%s%s", prefix, prefix[0] && rel[0] ? "." : "", rel);
}

/* ---- binding: policy refs -> pool / pool-group slots */
struct gh_res { struct sl_model *m; const struct sl_txn *t; };

static int resolve(void *arg, enum sl_policy_ref_kind kind, const char *ref)
{
	struct gh_res *r = arg;
	struct sl_node *n = sl_ref_find(r->m, r->t, kind == SL_POLICY_REF_POOL ? SL_T_POOL : SL_T_POOLGROUP, ref);
	return n ? (int)n->slot : -ENOENT;
}

/* Compiles and binds one set; NULL with e set at prefix + the policy engine's path. */
static struct sl_policy_set *compile_set(struct sl_model *m, const struct sl_txn *t, json_t *data, const char *prefix,
					 struct sl_err *e)
{
	char rel[192], msg[320], path[256];
	struct sl_policy_set *s = sl_policy_compile(data, rel, sizeof(rel), msg, sizeof(msg));
	if (!s) {
		int oom = errno == ENOMEM;
		join_path(path, sizeof(path), prefix, rel);
		sl_err_set(e, oom ? 500 : 422, oom ? "internal" : "invalid_policy", path, "%s", oom ? "out of memory" : msg);
		return NULL;
	}
	struct gh_res r = { m, t };
	int rc = sl_policy_bind(s, resolve, &r, rel, sizeof(rel), msg, sizeof(msg));
	if (rc) {
		join_path(path, sizeof(path), prefix, rel);
		sl_err_set(e, 422, "invalid_reference", path, "%s", msg);
		sl_policy_free(s);
		return NULL;
	}
	return s;
}

int sl_http_policy_check(struct sl_txn *t, struct sl_txn_ent *te, struct sl_err *e)
{
	/* compiled again by the generation build; keeping this one would tie a model version to
	 * generation lifetimes for the price of one more compile when a set changes */
	struct sl_policy_set *s = compile_set(t->m, t, te->ver->data, te->path, e);
	sl_policy_free(s);
	return s ? 0 : -1;
}

/* RFC 9110 token */
static bool is_token(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr("!#$%&'*+-.^_`|~", c)) ||
		    !c)
			return false;
	}
	return true;
}

int sl_http_profile_check(struct sl_txn_ent *te, struct sl_err *e)
{
	json_t *x = json_object_get(json_object_get(te->ver->data, "http_profile"), "xff_alternate_name");
	if (!json_is_string(x))
		return 0;
	char path[256];
	size_t n = json_string_length(x);
	if (n < sizeof(((struct sl_gen_http *)0)->xff_name) && is_token(json_string_value(x), n))
		return 0;
	join_path(path, sizeof(path), te->path, "http_profile.xff_alternate_name");
	return sl_err_set(e, 422, "invalid_value", path, "must be a header name (an RFC 9110 token) of 1..%zu characters",
			  sizeof(((struct sl_gen_http *)0)->xff_name) - 1);
}

/* ---- building */
/* Defaults are Avi's (HTTPApplicationProfile); docs/config-reference.md lists them. The schema
 * bounds every integer to fit its field. */
#define GH_U32(f) offsetof(struct sl_gen_http, f), true
#define GH_BOOL(f) offsetof(struct sl_gen_http, f), false
static const struct { const char *key; size_t off; bool u32; uint32_t def; } gh_fields[] = {
	{ "keepalive_timeout", GH_U32(keepalive_timeout_ms), 30000 },
	{ "client_header_timeout", GH_U32(client_header_timeout_ms), 10000 },
	{ "client_body_timeout", GH_U32(client_body_timeout_ms), 30000 },
	{ "max_keepalive_requests", GH_U32(max_keepalive_requests), 100 },
	{ "xff_enabled", GH_BOOL(xff), true },
	{ "x_forwarded_proto_enabled", GH_BOOL(xfp), false },
	{ "websockets_enabled", GH_BOOL(websockets), true },
	{ "connection_multiplexing_enabled", GH_BOOL(multiplex), true },
	{ "http_to_https", GH_BOOL(http_to_https), false },
};
/* http_profile.http2_profile */
static const struct { const char *key; size_t off; bool u32; uint32_t def; } gh2_fields[] = {
	{ "max_http2_concurrent_streams_per_connection", GH_U32(h2_max_streams), 128 },
	{ "max_http2_control_frames_per_connection", GH_U32(h2_ctrl_per_s), 1000 },
	{ "max_http2_empty_data_frames_per_connection", GH_U32(h2_empty_per_s), 1000 },
	{ "http2_initial_window_size", GH_U32(h2_window_kb), 64 },
	{ "max_http2_header_field_size", GH_U32(h2_field_max), 4096 },
	{ "max_http2_requests_per_connection", GH_U32(h2_max_requests), 1000 },
};

static void fill_profile(struct sl_gen_http *h, json_t *hp)
{
	for (size_t i = 0; i < sizeof(gh_fields) / sizeof(gh_fields[0]); i++) {
		json_t *x = json_object_get(hp, gh_fields[i].key);
		char *f = (char *)h + gh_fields[i].off;
		if (gh_fields[i].u32)
			*(uint32_t *)(void *)f = json_is_integer(x) ? (uint32_t)json_integer_value(x) : gh_fields[i].def;
		else
			*(bool *)f = json_is_boolean(x) ? json_is_true(x) : gh_fields[i].def != 0;
	}
	json_t *h2 = json_object_get(hp, "http2_profile");
	for (size_t i = 0; i < sizeof(gh2_fields) / sizeof(gh2_fields[0]); i++) {
		json_t *x = json_object_get(h2, gh2_fields[i].key);
		*(uint32_t *)(void *)((char *)h + gh2_fields[i].off) =
			json_is_integer(x) ? (uint32_t)json_integer_value(x) : gh2_fields[i].def;
	}
	/* KB, the unit of Avi's HTTP profile sizes */
	json_t *mr = json_object_get(hp, "max_request_size");
	h->max_request_size = json_is_integer(mr) ? (uint64_t)json_integer_value(mr) * 1024 : 0;
	json_t *xn = json_object_get(hp, "xff_alternate_name");
	const char *name = json_is_string(xn) ? json_string_value(xn) : "X-Forwarded-For";
	size_t n = strlen(name);
	if (n >= sizeof(h->xff_name))   /* refused by validation; never cut a header name silently */
		name = "X-Forwarded-For", n = strlen(name);
	memcpy(h->xff_name, name, n + 1);
	h->xff_name_len = (uint8_t)n;
}

/* Error path prefix of a set as the user sees it: its request part when the transaction stages
 * it, else its name. */
static void set_prefix(char *out, size_t n, const struct sl_txn *t, const struct sl_node *s)
{
	if (t && s->in_txn && s->txn_idx < t->n && t->ents[s->txn_idx].node == s && !t->ents[s->txn_idx].recheck)
		snprintf(out, n, "%s", t->ents[s->txn_idx].path);
	else
		snprintf(out, n, "(%s %s)", sl_types[SL_T_HTTPPOLICYSET].name, sl_node_name(s) ? sl_node_name(s) : s->uuid);
}

/* *out: a new reference for vs (prev's when built from the same versions), NULL for a VS that is
 * not HTTP. On error *out is NULL and e is set. */
static int attach(struct sl_model *m, const struct sl_txn *t, struct sl_node *vs, const struct sl_gen_http *prev,
		  const struct sl_gen_http **out, struct sl_err *e)
{
	struct sl_ver *v = sl_node_view(vs);
	struct sl_cc_vs *c = v->cc;
	*out = NULL;
	if (c->app_type != SL_APP_HTTP || !c->app_profile)
		return 0;
	struct gh_set sets[GH_MAX_SETS];
	json_t *arr = json_object_get(v->data, "http_policies");
	size_t n = json_array_size(arr);
	if (n > GH_MAX_SETS)
		n = GH_MAX_SETS;
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(arr, i);
		json_t *ref = json_object_get(it, "http_policy_set_ref");
		struct sl_node *s = json_is_string(ref) ? sl_ref_find(m, t, SL_T_HTTPPOLICYSET, json_string_value(ref)) : NULL;
		if (!s) {   /* validation resolved it: only a model inconsistency gets here */
			char path[256];
			snprintf(path, sizeof(path), "(%s %s).http_policies[%zu].http_policy_set_ref", sl_types[SL_T_VS].name,
				 sl_node_name(vs) ? sl_node_name(vs) : vs->uuid, i);
			return sl_err_set(e, 422, "invalid_reference", path, "HTTP policy set does not exist");
		}
		/* indexes are unique (validation); insertion sort keeps this allocation-free */
		struct gh_set cur = { json_integer_value(json_object_get(it, "index")), s };
		size_t k = i;
		while (k > 0 && sets[k - 1].index > cur.index) {
			sets[k] = sets[k - 1];
			k--;
		}
		sets[k] = cur;
	}
	struct gh_key prof = { c->app_profile->slot, sl_node_view(c->app_profile)->gen };
	struct gh *old = prev ? gh_of(prev) : NULL;
	if (old && old->prof.slot == prof.slot && old->prof.gen == prof.gen && old->n_sets == n) {
		size_t k = 0;
		while (k < n && old->sets[k].slot == sets[k].n->slot && old->sets[k].gen == sl_node_view(sets[k].n)->gen)
			k++;
		if (k == n) {
			old->pub.refs++;
			*out = prev;
			return 0;
		}
	}
	struct gh *h = calloc(1, sizeof(*h) + n * sizeof(h->sets[0]));
	if (!h || !(h->pub.policies = calloc(n + 1, sizeof(*h->pub.policies)))) {
		free(h);
		return sl_err_set(e, 500, "internal", "", "out of memory while compiling HTTP policies");
	}
	h->pub.refs = 1;
	h->prof = prof;
	h->n_sets = (uint32_t)n;
	fill_profile(&h->pub, json_object_get(sl_node_view(c->app_profile)->data, "http_profile"));
	for (size_t i = 0; i < n; i++) {
		struct sl_ver *sv = sl_node_view(sets[i].n);
		char prefix[192];
		h->sets[i] = (struct gh_key){ sets[i].n->slot, sv->gen };
		set_prefix(prefix, sizeof(prefix), t, sets[i].n);
		if (!(h->pub.policies[i] = compile_set(m, t, sv->data, prefix, e))) {
			sl_gen_http_put(&h->pub);
			return -1;
		}
		h->pub.n_policies++;
	}
	*out = &h->pub;
	return 0;
}

static const struct sl_gen_http *prev_http(const struct sl_gen *prev, uint32_t slot)
{
	uint32_t i = prev ? prev->vs_by_slot[slot] : SL_GEN_NONE;
	return i != SL_GEN_NONE ? prev->vs[i].http : NULL;
}

int sl_gen_http_build_all(struct sl_model *m, const struct sl_txn *t, struct sl_gen *g, const struct sl_gen *prev,
			  struct sl_err *e)
{
	for (uint32_t i = 0; i < g->n_vs; i++) {
		struct sl_gen_vs *gv = &g->vs[i];
		if (gv->app_type == SL_APP_HTTP &&
		    attach(m, t, m->slots[SL_T_VS][gv->slot], prev_http(prev, gv->slot), &gv->http, e))
			return -1;
	}
	return 0;
}

/* Re-attach g's VS at slot, whose http is (a reference to) prev's. */
static int reattach(struct sl_model *m, const struct sl_txn *t, struct sl_gen *g, uint32_t slot, struct sl_err *e)
{
	uint32_t idx = g->vs_by_slot[slot];
	if (idx == SL_GEN_NONE)
		return 0;
	struct sl_gen_vs *gv = &g->vs[idx];
	const struct sl_gen_http *old = gv->http;
	int rc = attach(m, t, m->slots[SL_T_VS][slot], old, &gv->http, e);
	sl_gen_http_put(old);
	return rc;
}

int sl_gen_http_patch(struct sl_model *m, const struct sl_txn *t, struct sl_gen *g, struct sl_err *e)
{
	for (uint32_t i = 0; i < t->n; i++) {
		const struct sl_txn_ent *te = &t->ents[i];
		struct sl_node *n = te->node;
		if (!te->ver)
			continue;
		if (n->type == SL_T_VS && reattach(m, t, g, n->slot, e))
			return -1;
		if (n->type != SL_T_HTTPPOLICYSET)
			continue;
		/* a VS in t that still uses the set is in referrers too (committed refs): attaching it
		 * twice finds the same versions and keeps its build */
		for (uint32_t k = 0; k < n->n_referrers; k++)
			if (n->referrers[k]->type == SL_T_VS && reattach(m, t, g, n->referrers[k]->slot, e))
				return -1;
	}
	return 0;
}
