/* Object store and transactions.
 *
 * Objects live in nodes (stable identity: type, uuid, slot, referrers) holding a committed version.
 * A transaction stages new versions on the nodes themselves (in_txn/txn_ver), so every lookup made
 * while validating sees "the model as it would be after the change" without copying the model: the
 * cost of a change is proportional to what it touches, not to the size of the configuration. */
/* Paths and details are deliberately truncated to fixed buffers. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include "model.h"
#include "gen_http.h"
#include "hm.h"
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "ctl_check.h"
#include "sl_tls.h"

#include <openssl/ssl.h>

int sl_err_set(struct sl_err *e, int status, const char *error, const char *path, const char *fmt, ...)
{
	va_list ap;
	e->status = status;
	snprintf(e->error, sizeof(e->error), "%s", error);
	snprintf(e->path, sizeof(e->path), "%s", path ? path : "");
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---------------- JSON paths ---------------- */
struct pb { char b[256]; size_t n; };
static size_t pb_push_key(struct pb *p, const char *k)
{
	size_t o = p->n;
	int r = snprintf(p->b + p->n, sizeof(p->b) - p->n, "%s%s", p->n ? "." : "", k);
	if (r > 0)
		p->n = p->n + (size_t)r < sizeof(p->b) ? p->n + (size_t)r : sizeof(p->b) - 1;
	return o;
}
static size_t pb_push_idx(struct pb *p, size_t i)
{
	size_t o = p->n;
	int r = snprintf(p->b + p->n, sizeof(p->b) - p->n, "[%zu]", i);
	if (r > 0)
		p->n = p->n + (size_t)r < sizeof(p->b) ? p->n + (size_t)r : sizeof(p->b) - 1;
	return o;
}
static void pb_pop(struct pb *p, size_t o)
{
	p->n = o;
	p->b[o] = 0;
}
static void pb_init(struct pb *p, const char *prefix)
{
	snprintf(p->b, sizeof(p->b), "%s", prefix ? prefix : "");
	p->n = strlen(p->b);
}

/* ---------------- nodes and versions ---------------- */
static void cc_free(int type, void *cc)
{
	if (!cc)
		return;
	if (type == SL_T_VS) {
		struct sl_cc_vs *v = cc;
		free(v->listeners);
		for (uint32_t i = 0; i < v->n_domains; i++)
			free(v->domains[i]);
		free(v->domains);
	} else if (type == SL_T_POOL) {
		free(((struct sl_cc_pool *)cc)->servers);
	} else if (type == SL_T_POOLGROUP) {
		struct sl_cc_pg *g = cc;
		free(g->pools);
		free(g->ratio);
		free(g->prio);
	}
	free(cc);
}

static void ver_clear_derived(int type, struct sl_ver *v)
{
	free(v->refs);
	v->refs = NULL;
	v->n_refs = v->cap_refs = 0;
	for (uint32_t i = 0; i < v->n_claims; i++)
		free(v->claims[i].key);
	free(v->claims);
	v->claims = NULL;
	v->n_claims = 0;
	cc_free(type, v->cc);
	v->cc = NULL;
}

static void ver_free(int type, struct sl_ver *v)
{
	if (!v)
		return;
	ver_clear_derived(type, v);
	json_decref(v->data);
	free(v);
}

struct sl_ver *sl_node_view(const struct sl_node *n)
{
	return n->in_txn ? n->txn_ver : n->cur;
}

const char *sl_node_name(const struct sl_node *n)
{
	struct sl_ver *v = sl_node_view(n);
	if (v)
		return json_string_value(json_object_get(v->data, "name"));
	return n->name;
}

void sl_etag(const struct sl_ver *v, char *buf, size_t len)
{
	snprintf(buf, len, "\"%llu\"", (unsigned long long)v->gen);
}

static int slot_alloc(struct sl_model *m, int type, struct sl_node *n)
{
	if (m->n_free[type]) {
		n->slot = m->free_slots[type][--m->n_free[type]];
		m->slots[type][n->slot] = n;
		return 0;
	}
	if (type == SL_T_VS && m->n_slots[type] >= SL_MAX_VS)
		return -ENOSPC;
	if (m->n_slots[type] == m->cap_slots[type]) {
		uint32_t nc = m->cap_slots[type] ? m->cap_slots[type] * 2 : 64;
		struct sl_node **ns = realloc(m->slots[type], nc * sizeof(*ns));
		uint32_t *nf = realloc(m->free_slots[type], nc * sizeof(*nf));
		if (ns)
			m->slots[type] = ns;
		if (nf)
			m->free_slots[type] = nf;
		if (!ns || !nf)
			return -ENOMEM;
		m->cap_slots[type] = nc;
	}
	n->slot = m->n_slots[type]++;
	m->slots[type][n->slot] = n;
	return 0;
}

static void slot_release(struct sl_model *m, struct sl_node *n)
{
	m->slots[n->type][n->slot] = NULL;
	m->free_slots[n->type][m->n_free[n->type]++] = n->slot;
}

static void node_free(struct sl_node *n)
{
	if (!n)
		return;
	ver_free(n->type, n->cur);
	free(n->name);
	free(n->referrers);
	free(n);
}

static int referrer_add(struct sl_node *t, struct sl_node *r)
{
	if (t->n_referrers == t->cap_referrers) {
		uint32_t nc = t->cap_referrers ? t->cap_referrers * 2 : 4;
		struct sl_node **p = realloc(t->referrers, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		t->referrers = p;
		t->cap_referrers = nc;
	}
	t->referrers[t->n_referrers++] = r;
	return 0;
}

static void referrer_del(struct sl_node *t, struct sl_node *r)
{
	for (uint32_t i = t->n_referrers; i-- > 0;)
		if (t->referrers[i] == r) {
			t->referrers[i] = t->referrers[--t->n_referrers];
			return;
		}
}

/* ---------------- claims (unique keys with port ranges) ---------------- */
struct claimlist { uint32_t n, cap; struct { struct sl_node *node; uint32_t lo, hi; } *e; };

static int claim_index_add(struct sl_hmap *idx, const char *key, struct sl_node *n, uint32_t lo, uint32_t hi)
{
	struct claimlist *cl = sl_hmap_get(idx, key);
	if (!cl) {
		cl = calloc(1, sizeof(*cl));
		if (!cl || sl_hmap_put(idx, key, cl)) {
			free(cl);
			return -ENOMEM;
		}
	}
	if (cl->n == cl->cap) {
		uint32_t nc = cl->cap ? cl->cap * 2 : 2;
		void *p = realloc(cl->e, nc * sizeof(*cl->e));
		if (!p)
			return -ENOMEM;
		cl->e = p;
		cl->cap = nc;
	}
	cl->e[cl->n].node = n;
	cl->e[cl->n].lo = lo;
	cl->e[cl->n].hi = hi;
	cl->n++;
	return 0;
}

static void claim_index_del(struct sl_hmap *idx, const char *key, struct sl_node *n)
{
	struct claimlist *cl = sl_hmap_get(idx, key);
	if (!cl)
		return;
	for (uint32_t i = 0; i < cl->n; i++)
		if (cl->e[i].node == n) {
			cl->e[i] = cl->e[--cl->n];
			break;
		}
	if (!cl->n) {
		sl_hmap_del(idx, key);
		free(cl->e);
		free(cl);
	}
}

static void claim_index_free(struct sl_hmap *idx)
{
	for (size_t i = 0; i < idx->cap; i++)
		if (sl_hmap_live(idx, i)) {
			struct claimlist *cl = idx->e[i].val;
			free(cl->e);
			free(cl);
		}
	sl_hmap_free(idx);
}

static int ver_claim_at(struct sl_ver *v, const char *key, uint32_t lo, uint32_t hi, uint32_t src)
{
	void *p = realloc(v->claims, (v->n_claims + 1) * sizeof(*v->claims));
	if (!p)
		return -ENOMEM;
	v->claims = p;
	v->claims[v->n_claims].key = strdup(key);
	if (!v->claims[v->n_claims].key)
		return -ENOMEM;
	v->claims[v->n_claims].lo = lo;
	v->claims[v->n_claims].hi = hi;
	v->claims[v->n_claims].src = src;
	v->n_claims++;
	return 0;
}

/* ---------------- lookups in the transaction view ---------------- */
static struct sl_node *view_by_uuid(struct sl_model *m, const char *uuid)
{
	struct sl_node *n = sl_hmap_get(&m->by_uuid, uuid);
	if (n && !sl_node_view(n))
		return NULL;
	return n;
}

static struct sl_node *txn_by_name(struct sl_txn *t, int type, const char *name)
{
	struct sl_node *n = sl_hmap_get(&t->names[type], name);
	if (n)
		return sl_node_view(n) ? n : NULL;
	n = sl_hmap_get(&t->m->by_name[type], name);
	if (!n)
		return NULL;
	if (n->in_txn) {
		const char *vn = sl_node_name(n);
		if (!n->txn_ver || !vn || strcmp(vn, name))
			return NULL;
	}
	return n;
}

static struct sl_node *txn_find(struct sl_txn *t, int type, const char *id)
{
	struct sl_node *n = view_by_uuid(t->m, id);
	if (n && n->type == type)
		return n;
	return txn_by_name(t, type, id);
}

struct sl_node *sl_model_find(struct sl_model *m, int type, const char *id)
{
	struct sl_node *n = sl_hmap_get(&m->by_uuid, id);
	if (n && n->type == type && n->cur)
		return n;
	n = sl_hmap_get(&m->by_name[type], id);
	return n && n->cur ? n : NULL;
}

/* ---------------- schema validation ---------------- */
static bool is_ignored(const char *k)
{
	for (int i = 0; sl_ignored_fields[i]; i++)
		if (!strcmp(k, sl_ignored_fields[i]))
			return true;
	return false;
}

struct dump_budget { size_t left; };

static int dump_count(const char *buf, size_t size, void *arg)
{
	struct dump_budget *b = arg;
	(void)buf;
	if (size > b->left)
		return -1;   /* stops the dump: over budget */
	b->left -= size;
	return 0;
}

/* Values nothing reads are stored, persisted and returned: without a cap a 12 MiB description
 * stays in memory (several times over, as JSON trees) and in every snapshot. */
static int check_ignored_size(json_t *v, struct pb *p, struct sl_err *e)
{
	struct dump_budget b = { SL_IGNORED_MAX_BYTES };
	if (json_dump_callback(v, dump_count, &b, JSON_COMPACT | JSON_ENCODE_ANY))
		return sl_err_set(e, 400, "invalid_value", p->b,
				  "accepted but ignored field larger than %u bytes (as compact JSON)", SL_IGNORED_MAX_BYTES);
	return 0;
}

static const struct sl_fdef *fdef_find(const struct sl_fdef *fd, const char *k)
{
	for (; fd->name; fd++)
		if (!strcmp(fd->name, k))
			return fd;
	return NULL;
}

static const char *jtype(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

static int check_obj(json_t *o, const struct sl_fdef *fds, struct pb *p, struct sl_err *e, bool top);

static int check_scalar(json_t *v, const struct sl_fdef *fd, struct pb *p, struct sl_err *e)
{
	switch (fd->kind) {
	case K_STR:
	case K_OPAQUE_STR:
	case K_REF:
		if (fd->kind == K_OPAQUE_STR) {
			/* opaque Avi references/settings: accepted as any JSON value, not used */
			return check_ignored_size(v, p, e);
		}
		if (!json_is_string(v))
			return sl_err_set(e, 400, "invalid_type", p->b, "expected a string, got %s", jtype(v));
		if (fd->kind == K_STR || fd->kind == K_REF) {
			size_t l = json_string_length(v);
			bool name = !strcmp(fd->name, "name");
			if (fd->kind == K_STR && fd->max && l > (size_t)fd->max)
				return sl_err_set(e, 400, "invalid_value", p->b, "string longer than %lld characters",
						  (long long)fd->max);
			if (strlen(json_string_value(v)) != l)
				return sl_err_set(e, 400, "invalid_value", p->b, "string contains a NUL character");
			/* names (and references, which hold names) are keys, file names and log labels */
			if ((name || fd->kind == K_REF) && sl_has_ctl_byte(json_string_value(v), l))
				return sl_err_set(e, 400, "invalid_value", p->b, "%s contains a control character",
						  name ? "name" : "reference");
			if (name && l == 0)
				return sl_err_set(e, 400, "invalid_value", p->b, "name must not be empty");
		}
		return 0;
	case K_INT: {
		if (!json_is_integer(v))
			return sl_err_set(e, 400, "invalid_type", p->b, "expected an integer, got %s", jtype(v));
		json_int_t x = json_integer_value(v);
		if (x < fd->min || x > fd->max)
			return sl_err_set(e, 400, "out_of_range", p->b, "%lld is outside %lld..%lld", (long long)x,
					  (long long)fd->min, (long long)fd->max);
		return 0;
	}
	case K_NUM:
		if (!json_is_number(v))
			return sl_err_set(e, 400, "invalid_type", p->b, "expected a number, got %s", jtype(v));
		return 0;
	case K_BOOL:
		if (!json_is_boolean(v))
			return sl_err_set(e, 400, "invalid_type", p->b, "expected a boolean, got %s", jtype(v));
		return 0;
	case K_ENUM:
		if (!json_is_string(v))
			return sl_err_set(e, 400, "invalid_type", p->b, "expected a string, got %s", jtype(v));
		if (sl_enum_index(fd->enums, json_string_value(v)) < 0) {
			char buf[400];
			size_t n = 0;
			buf[0] = 0;
			for (int i = 0; fd->enums[i] && n < sizeof(buf) - 1; i++) {
				int r = snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? ", " : "", fd->enums[i]);
				if (r < 0)
					break;
				n += (size_t)r;
			}
			return sl_err_set(e, 400, "invalid_enum", p->b, "\"%.64s\" is not one of: %s",
					  json_string_value(v), buf);
		}
		return 0;
	case K_OBJ:
	case K_IP:
		if (!json_is_object(v))
			return sl_err_set(e, 400, "invalid_type", p->b, "expected an object, got %s", jtype(v));
		return check_obj(v, fd->sub, p, e, false);
	}
	return 0;
}

static int check_obj(json_t *o, const struct sl_fdef *fds, struct pb *p, struct sl_err *e, bool top)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		size_t mark = pb_push_key(p, k);
		const struct sl_fdef *fd = fdef_find(fds, k);
		if (!fd) {
			if (top && is_ignored(k)) {
				if (check_ignored_size(v, p, e))
					return -1;
				pb_pop(p, mark);
				continue;
			}
			return sl_err_set(e, 400, "unknown_field", p->b, "field \"%.64s\" is not supported", k);
		}
		if (json_is_null(v)) {
			if (fd->required)
				return sl_err_set(e, 400, "missing_field", p->b, "required field is null");
			pb_pop(p, mark);
			continue;
		}
		if (fd->array && fd->kind != K_OPAQUE_STR) {
			if (!json_is_array(v))
				return sl_err_set(e, 400, "invalid_type", p->b, "expected an array, got %s", jtype(v));
			uint32_t amax = fd->amax ? fd->amax : 65536;
			if (json_array_size(v) > amax)
				return sl_err_set(e, 400, "out_of_range", p->b, "more than %u elements", amax);
			if (fd->required && json_array_size(v) == 0)
				return sl_err_set(e, 400, "missing_field", p->b, "at least one element is required");
			size_t i;
			json_t *x;
			json_array_foreach(v, i, x) {
				size_t m2 = pb_push_idx(p, i);
				if (check_scalar(x, fd, p, e))
					return -1;
				pb_pop(p, m2);
			}
		} else if (check_scalar(v, fd, p, e)) {
			return -1;
		}
		pb_pop(p, mark);
	}
	for (const struct sl_fdef *fd = fds; fd->name; fd++) {
		json_t *x = json_object_get(o, fd->name);
		if (fd->required && (!x || json_is_null(x))) {
			size_t mark = pb_push_key(p, fd->name);
			return sl_err_set(e, 400, "missing_field", p->b, "required field is missing");
			pb_pop(p, mark);
		}
	}
	return 0;
}

int sl_schema_check(int type, json_t *o, const char *prefix, struct sl_err *e)
{
	struct pb p;
	pb_init(&p, prefix);
	if (!json_is_object(o))
		return sl_err_set(e, 400, "invalid_type", p.b, "expected an object, got %s", jtype(o));
	return check_obj(o, sl_types[type].fields, &p, e, true);
}

/* ---------------- references ---------------- */
/* Parses "/api/pool?name=web", "/api/pool/?name=web", "/api/pool/<uuid>", "https://x/api/pool/<uuid>#web",
 * "<uuid>" or a plain name. Sets *type (-1 when the ref does not name one), id and whether it is a uuid. */
int sl_ref_parse(const char *ref, int *type, char *id, size_t idlen, bool *by_uuid)
{
	*type = -1;
	*by_uuid = false;
	const char *api = strstr(ref, "/api/");
	if (!api) {
		snprintf(id, idlen, "%s", ref);
		const char *dash = strchr(ref, '-');
		if (dash) {
			char tn[32];
			size_t l = (size_t)(dash - ref);
			if (l < sizeof(tn)) {
				memcpy(tn, ref, l);
				tn[l] = 0;
				int t = sl_type_by_name(tn);
				if (t >= 0 && !strcasecmp(tn, sl_types[t].name) && strlen(dash + 1) == 36) {
					*type = t;
					*by_uuid = true;
				}
			}
		}
		return 0;
	}
	const char *tp = api + 5;
	size_t tl = strcspn(tp, "/?#");
	char tn[32];
	if (tl == 0 || tl >= sizeof(tn))
		return -EINVAL;
	memcpy(tn, tp, tl);
	tn[tl] = 0;
	*type = sl_type_by_name(tn);
	if (*type < 0)
		return -EINVAL;
	const char *r = tp + tl;
	if (*r == '/')
		r++;
	if (*r == '?') {
		const char *q = r + 1;
		while (*q) {
			size_t pl = strcspn(q, "&#");
			if (pl > 5 && !strncmp(q, "name=", 5)) {
				/* a decoded control byte (%00 would cut the name) or an overlong name is no reference */
				return sl_http_pct_decode(q + 5, pl - 5, id, idlen) > 0 ? 0 : -EINVAL;
			}
			q += pl;
			if (*q == '#')
				break;
			if (*q)
				q++;
		}
		return -EINVAL;
	}
	size_t il = strcspn(r, "/?#");
	if (il == 0 || il >= idlen)
		return -EINVAL;
	memcpy(id, r, il);
	id[il] = 0;
	*by_uuid = true;
	return 0;
}

static int ver_add_ref(struct sl_ver *v, struct sl_node *n)
{
	if (v->n_refs == v->cap_refs) {
		uint32_t nc = v->cap_refs ? v->cap_refs * 2 : 4;
		struct sl_node **p = realloc(v->refs, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		v->refs = p;
		v->cap_refs = nc;
	}
	v->refs[v->n_refs++] = n;
	return 0;
}

static int resolve_one(struct sl_txn *t, json_t *s, int want, struct pb *p, struct sl_ver *v, bool rewrite,
		       struct sl_node **out, struct sl_err *e)
{
	const char *ref = json_string_value(s);
	int type;
	bool by_uuid;
	char id[512];
	*out = NULL;
	if (sl_ref_parse(ref, &type, id, sizeof(id), &by_uuid))
		return sl_err_set(e, 400, "invalid_reference", p->b, "cannot parse reference \"%.200s\"", ref);
	if (type >= 0 && type != want)
		return sl_err_set(e, 422, "invalid_reference", p->b, "reference to a %s where a %s is expected",
				  sl_types[type].name, sl_types[want].name);
	struct sl_node *n = NULL;
	if (by_uuid) {
		n = view_by_uuid(t->m, id);
		if (n && n->type != want)
			n = NULL;
	}
	if (!n && type < 0)
		n = txn_find(t, want, id);
	if (!n && !by_uuid)
		n = txn_by_name(t, want, id);
	if (!n)
		return sl_err_set(e, 422, "invalid_reference", p->b, "%s \"%.200s\" does not exist", sl_types[want].name, id);
	if (ver_add_ref(v, n))
		return sl_err_set(e, 500, "internal", p->b, "out of memory");
	if (rewrite) {
		char canon[128];
		snprintf(canon, sizeof(canon), "/api/%s/%s", sl_types[want].name, n->uuid);
		if (strcmp(canon, ref))
			json_string_set(s, canon);
	}
	*out = n;
	return 0;
}

/* Walks the field table and resolves every reference. Empty strings mean "no reference" (AKO sends
 * "ssl_profile_ref": "") and are removed when rewriting. */
static int resolve_obj(struct sl_txn *t, json_t *o, const struct sl_fdef *fds, struct pb *p, struct sl_ver *v,
		       bool rewrite, struct sl_err *e)
{
	for (const struct sl_fdef *fd = fds; fd->name; fd++) {
		if (fd->kind != K_REF && fd->kind != K_OBJ && fd->kind != K_IP)
			continue;
		json_t *x = json_object_get(o, fd->name);
		if (!x || json_is_null(x))
			continue;
		size_t mark = pb_push_key(p, fd->name);
		if (fd->kind == K_REF && !fd->array) {
			struct sl_node *n;
			if (json_string_length(x) == 0) {
				if (fd->required)
					return sl_err_set(e, 400, "missing_field", p->b, "reference is empty");
				if (rewrite)
					json_object_del(o, fd->name);
			} else if (resolve_one(t, x, fd->ref_type, p, v, rewrite, &n, e)) {
				return -1;
			}
		} else if (fd->kind == K_REF) {
			size_t i;
			json_t *y;
			json_array_foreach(x, i, y) {
				size_t m2 = pb_push_idx(p, i);
				struct sl_node *n;
				if (json_string_length(y) == 0)
					return sl_err_set(e, 400, "invalid_reference", p->b, "reference is empty");
				if (resolve_one(t, y, fd->ref_type, p, v, rewrite, &n, e))
					return -1;
				pb_pop(p, m2);
			}
		} else if (fd->kind == K_OBJ && fd->array) {
			size_t i;
			json_t *y;
			json_array_foreach(x, i, y) {
				size_t m2 = pb_push_idx(p, i);
				if (resolve_obj(t, y, fd->sub, p, v, rewrite, e))
					return -1;
				pb_pop(p, m2);
			}
		} else if (fd->kind == K_OBJ) {
			if (resolve_obj(t, x, fd->sub, p, v, rewrite, e))
				return -1;
		}
		pb_pop(p, mark);
	}
	return 0;
}

/* First node referenced through field `key` (top level), resolved already in v->refs order is not
 * keyed, so look the canonical string up again (cheap: uuid hash). */
static struct sl_node *ref_of(struct sl_txn *t, json_t *o, const char *key, int want)
{
	json_t *x = json_object_get(o, key);
	if (!json_is_string(x) || !json_string_length(x))
		return NULL;
	int type;
	bool by_uuid;
	char id[512];
	if (sl_ref_parse(json_string_value(x), &type, id, sizeof(id), &by_uuid))
		return NULL;
	struct sl_node *n = by_uuid ? view_by_uuid(t->m, id) : txn_find(t, want, id);
	return n && n->type == want ? n : NULL;
}

struct sl_node *sl_ref_find(struct sl_model *m, const struct sl_txn *t, int want, const char *ref)
{
	int type;
	bool by_uuid;
	char id[512];
	if (!ref || !*ref || sl_ref_parse(ref, &type, id, sizeof(id), &by_uuid) || (type >= 0 && type != want))
		return NULL;
	struct sl_node *n = by_uuid ? view_by_uuid(m, id) : NULL;
	if (n && n->type != want)
		n = NULL;
	if (!n && !by_uuid) {
		/* as resolve_one; lookups only read the transaction */
		if (t)
			return type < 0 ? txn_find((struct sl_txn *)t, want, id) : txn_by_name((struct sl_txn *)t, want, id);
		n = sl_hmap_get(&m->by_name[want], id);
		if (n && !sl_node_view(n))
			n = NULL;
	}
	return n;
}

/* ---------------- semantic checks and compiled records ---------------- */
static int64_t jint(json_t *o, const char *k, int64_t def)
{
	json_t *x = json_object_get(o, k);
	return json_is_integer(x) ? json_integer_value(x) : def;
}
static bool jbool(json_t *o, const char *k, bool def)
{
	json_t *x = json_object_get(o, k);
	return json_is_boolean(x) ? json_is_true(x) : def;
}
static const char *jstr(json_t *o, const char *k, const char *def)
{
	json_t *x = json_object_get(o, k);
	return json_is_string(x) ? json_string_value(x) : def;
}

static void jpath(char *out, size_t n, const char *prefix, const char *rel)
{
	snprintf(out, n, "%s%s%s", prefix, prefix[0] && rel[0] ? "." : "", rel);
}

static int sem_err(struct sl_err *e, int status, const char *err, struct sl_txn_ent *te, const char *rel,
		   const char *detail)
{
	char path[256];
	jpath(path, sizeof(path), te->path, rel);
	return sl_err_set(e, status, err, path, "%s", detail);
}

/* IPv4 unicast: not 0/8, loopback, multicast, reserved/broadcast. */
static int parse_ip(json_t *ipaddr, uint32_t *out, struct sl_txn_ent *te, const char *rel, struct sl_err *e)
{
	const char *a = jstr(ipaddr, "addr", "");
	const char *type = jstr(ipaddr, "type", "V4");
	char p[200], d[256];
	snprintf(p, sizeof(p), "%s.addr", rel);
	if (strcmp(type, "V4")) {
		snprintf(p, sizeof(p), "%s.type", rel);
		return sem_err(e, 422, "unsupported", te, p, "only V4 addresses are supported");
	}
	struct in_addr ia;
	if (inet_pton(AF_INET, a, &ia) != 1) {
		snprintf(d, sizeof(d), "\"%.64s\" is not an IPv4 address", a);
		return sem_err(e, 400, "invalid_value", te, p, d);
	}
	uint32_t h = ntohl(ia.s_addr);
	if ((h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) == 14 || (h >> 28) == 15) {
		snprintf(d, sizeof(d), "%s is not a unicast address", a);
		return sem_err(e, 422, "invalid_value", te, p, d);
	}
	*out = ia.s_addr;
	return 0;
}

static struct sl_node *sys_node(struct sl_txn *t, int type, const char *name)
{
	return txn_by_name(t, type, name);
}

static int cc_type_val(struct sl_node *n)
{
	struct sl_ver *v = n ? sl_node_view(n) : NULL;
	return v && v->cc ? ((struct sl_cc_type *)v->cc)->v : 0;
}

static int sem_appprof(struct sl_txn_ent *te, struct sl_err *e)
{
	(void)e;
	struct sl_cc_type *c = calloc(1, sizeof(*c));
	if (!c)
		return sl_err_set(e, 500, "internal", "", "out of memory");
	const char *ty = jstr(te->ver->data, "type", "");
	static const char *const tys[] = { "APPLICATION_PROFILE_TYPE_L4", "APPLICATION_PROFILE_TYPE_HTTP",
					   "APPLICATION_PROFILE_TYPE_DNS", "APPLICATION_PROFILE_TYPE_SSL", NULL };
	c->v = (uint8_t)(sl_enum_index(tys, ty) + 1);
	te->ver->cc = c;
	return 0;
}

static int sem_netprof(struct sl_txn_ent *te, struct sl_err *e)
{
	struct sl_cc_type *c = calloc(1, sizeof(*c));
	if (!c)
		return sl_err_set(e, 500, "internal", "", "out of memory");
	const char *ty = jstr(json_object_get(te->ver->data, "profile"), "type", "");
	c->v = strstr(ty, "UDP") ? 17 : 6;
	te->ver->cc = c;
	return 0;
}

static int sem_hm(struct sl_txn_ent *te, struct sl_err *e)
{
	json_t *d = te->ver->data;
	if (jint(d, "receive_timeout", 4) >= jint(d, "send_interval", 10))
		return sem_err(e, 422, "invalid_value", te, "receive_timeout", "receive_timeout must be less than send_interval");
	char rel[64], why[160];
	if (sl_hm_check(d, rel, sizeof(rel), why, sizeof(why)))
		return sem_err(e, 422, "invalid_value", te, rel, why);
	return 0;
}

static int sem_vsvip(struct sl_txn_ent *te, struct sl_err *e)
{
	struct sl_cc_vsvip *c = calloc(1, sizeof(*c));
	if (!c)
		return sl_err_set(e, 500, "internal", "", "out of memory");
	te->ver->cc = c;
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(te->ver->data, "vip"), i, x) {
		char rel[64];
		snprintf(rel, sizeof(rel), "vip[%zu].ip_address", i);
		if (parse_ip(json_object_get(x, "ip_address"), &c->vips[c->n], te, rel, e))
			return -1;
		for (uint32_t j = 0; j < c->n; j++)
			if (c->vips[j] == c->vips[c->n])
				return sem_err(e, 422, "invalid_value", te, rel, "duplicate VIP address");
		c->n++;
	}
	return 0;
}

static int sem_pool(struct sl_txn_ent *te, struct sl_err *e)
{
	json_t *d = te->ver->data;
	struct sl_cc_pool *c = calloc(1, sizeof(*c));
	if (!c)
		return sl_err_set(e, 500, "internal", "", "out of memory");
	te->ver->cc = c;
	c->lb_algorithm = (uint8_t)(sl_enum_index(sl_lb_algos, jstr(d, "lb_algorithm", "LB_ALGORITHM_ROUND_ROBIN")));
	if (c->lb_algorithm == SL_LB_CORE_AFFINITY)
		return sem_err(e, 422, "unsupported", te, "lb_algorithm",
			       "LB_ALGORITHM_CORE_AFFINITY is not supported by this engine");
	int h = sl_enum_index(sl_lb_hashes, jstr(d, "lb_algorithm_hash", sl_lb_hashes[0]));
	c->lb_hash = (uint8_t)(h < 0 ? 0 : h);
	snprintf(c->hash_hdr, sizeof(c->hash_hdr), "%s", jstr(d, "lb_algorithm_consistent_hash_hdr", ""));
	if (c->lb_hash == 3 /* LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER */ && !c->hash_hdr[0])
		return sem_err(e, 422, "invalid_value", te, "lb_algorithm_consistent_hash_hdr",
			       "LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER needs the header name");
	c->enabled = jbool(d, "enabled", true);
	c->default_port = (uint16_t)jint(d, "default_server_port", 80);
	c->max_conns = (uint32_t)jint(d, "max_concurrent_connections_per_server", 0);
	c->server_timeout_ms = (uint32_t)jint(d, "server_timeout", 0);
	c->graceful_timeout = (int32_t)jint(d, "graceful_disable_timeout", 1);
	json_t *srv = json_object_get(d, "servers");
	size_t n = json_array_size(srv);
	if (n) {
		c->servers = calloc(n, sizeof(*c->servers));
		if (!c->servers)
			return sl_err_set(e, 500, "internal", "", "out of memory");
	}
	struct sl_hmap seen;
	sl_hmap_init(&seen);
	size_t i;
	json_t *x;
	int rc = 0;
	json_array_foreach(srv, i, x) {
		char rel[64], key[32];
		snprintf(rel, sizeof(rel), "servers[%zu].ip", i);
		struct sl_gen_server *s = &c->servers[i];
		if (parse_ip(json_object_get(x, "ip"), &s->ip, te, rel, e)) {
			rc = -1;
			break;
		}
		s->port = (uint16_t)jint(x, "port", c->default_port);
		s->ratio = (uint16_t)jint(x, "ratio", 1);
		s->enabled = jbool(x, "enabled", true);
		s->slot = SL_GEN_NONE;
		snprintf(key, sizeof(key), "%08x:%u", s->ip, s->port);
		if (sl_hmap_get(&seen, key)) {
			rc = sem_err(e, 422, "duplicate", te, rel, "the same server ip:port appears twice in the pool");
			break;
		}
		sl_hmap_put(&seen, key, s);
		c->n_servers++;
	}
	sl_hmap_free(&seen);
	return rc;
}

static int sem_pg(struct sl_txn *t, struct sl_txn_ent *te, struct sl_err *e)
{
	json_t *mem = json_object_get(te->ver->data, "members");
	size_t n = json_array_size(mem);
	struct sl_cc_pg *c = calloc(1, sizeof(*c));
	if (!c)
		return sl_err_set(e, 500, "internal", "", "out of memory");
	te->ver->cc = c;
	c->pools = calloc(n + 1, sizeof(*c->pools));
	c->ratio = calloc(n + 1, sizeof(*c->ratio));
	c->prio = calloc(n + 1, sizeof(*c->prio));
	if (!c->pools || !c->ratio || !c->prio)
		return sl_err_set(e, 500, "internal", "", "out of memory");
	size_t i;
	json_t *x;
	json_array_foreach(mem, i, x) {
		c->pools[i] = ref_of(t, x, "pool_ref", SL_T_POOL);
		for (size_t j = 0; j < i; j++)
			if (c->pools[j] == c->pools[i]) {
				char rel[64];
				snprintf(rel, sizeof(rel), "members[%zu].pool_ref", i);
				return sem_err(e, 422, "duplicate", te, rel, "the pool is already a member of this group");
			}
		c->ratio[i] = (uint16_t)jint(x, "ratio", 1);
		c->prio[i] = (int32_t)strtol(jstr(x, "priority_label", "0"), NULL, 10);
		c->n++;
	}
	return 0;
}

static int sem_hps(struct sl_txn_ent *te, struct sl_err *e)
{
	static const char *const pols[] = { "http_request_policy", "http_response_policy" };
	for (int k = 0; k < 2; k++) {
		json_t *rules = json_object_get(json_object_get(te->ver->data, pols[k]), "rules");
		size_t i;
		json_t *r;
		json_array_foreach(rules, i, r) {
			char rel[128];
			for (size_t j = 0; j < i; j++)
				if (jint(json_array_get(rules, j), "index", -1) == jint(r, "index", -2)) {
					snprintf(rel, sizeof(rel), "%s.rules[%zu].index", pols[k], i);
					return sem_err(e, 422, "duplicate", te, rel, "rule index is used twice");
				}
			json_t *sw = json_object_get(r, "switching_action");
			if (!sw)
				continue;
			const char *a = jstr(sw, "action", "");
			if (!strcmp(a, "HTTP_SWITCHING_SELECT_POOL") && !json_object_get(sw, "pool_ref")) {
				snprintf(rel, sizeof(rel), "%s.rules[%zu].switching_action.pool_ref", pols[k], i);
				return sem_err(e, 422, "missing_field", te, rel, "HTTP_SWITCHING_SELECT_POOL needs pool_ref");
			}
			if (!strcmp(a, "HTTP_SWITCHING_SELECT_POOLGROUP") && !json_object_get(sw, "pool_group_ref")) {
				snprintf(rel, sizeof(rel), "%s.rules[%zu].switching_action.pool_group_ref", pols[k], i);
				return sem_err(e, 422, "missing_field", te, rel,
					       "HTTP_SWITCHING_SELECT_POOLGROUP needs pool_group_ref");
			}
		}
	}
	return 0;
}

static int sem_cert(struct sl_txn_ent *te, struct sl_err *e)
{
	json_t *d = te->ver->data;
	char rel[64], detail[400];
	const char *pem = jstr(json_object_get(d, "certificate"), "certificate", "");
	const char *key = jstr(d, "key", NULL);
	const char *type = jstr(d, "type", "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE");
	bool need_key = strcmp(type, "SSL_CERTIFICATE_TYPE_CA") != 0;
	int which = 0;
	int rc = sl_cert_check(pem, key, jstr(d, "key_passphrase", NULL), need_key, &which, detail, sizeof(detail));
	if (rc == 0)
		return 0;
	snprintf(rel, sizeof(rel), "%s", which ? "key" : "certificate.certificate");
	return sem_err(e, 422, "invalid_certificate", te, rel, detail);
}

/* SSLProfile: versions to a range, the cipher strings tried on a context as the build will set them
 * (dataplane/app/tls sl_tls_profile_check). Empty strings are "not set": the engine's defaults. */
static int sem_sslprof(struct sl_txn_ent *te, struct sl_err *e)
{
	json_t *d = te->ver->data, *pc = json_object_get(d, "prefer_client_cipher_ordering"),
	       *ps = json_object_get(d, "prefer_server_cipher_ordering");
	static const int vers[] = { SSL3_VERSION, TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION };
	static const char *const names[] = { "SSL_VERSION_SSLV3", "SSL_VERSION_TLS1", "SSL_VERSION_TLS1_1",
					     "SSL_VERSION_TLS1_2", "SSL_VERSION_TLS1_3", NULL };
	struct sl_cc_sslprof *c = calloc(1, sizeof(*c));
	char rel[64], det[400];
	size_t i;
	json_t *x;

	if (!c)
		return sl_err_set(e, 500, "internal", "", "out of memory");
	te->ver->cc = c;
	json_array_foreach(json_object_get(d, "accepted_versions"), i, x) {
		const char *v = jstr(x, "type", "");
		int k = sl_enum_index(names, v);

		snprintf(rel, sizeof(rel), "accepted_versions[%zu].type", i);
		if (k < 0 || vers[k] < TLS1_2_VERSION) {
			snprintf(det, sizeof(det), "%.64s is not served: sluice accepts SSL_VERSION_TLS1_2 and SSL_VERSION_TLS1_3 only",
				 v);
			return sem_err(e, 422, "unsupported", te, rel, det);
		}
		if (!c->min_version || vers[k] < c->min_version)
			c->min_version = vers[k];
		if (vers[k] > c->max_version)
			c->max_version = vers[k];
	}
	if (json_is_boolean(pc) && json_is_boolean(ps) && json_is_true(pc) == json_is_true(ps))
		return sem_err(e, 422, "incompatible", te, "prefer_server_cipher_ordering",
			       "contradicts prefer_client_cipher_ordering");
	c->prefer_client = json_is_boolean(pc) ? json_is_true(pc) : json_is_boolean(ps) ? !json_is_true(ps) : false;
	c->ciphers = jstr(d, "accepted_ciphers", "")[0] ? jstr(d, "accepted_ciphers", "") : NULL;
	c->ciphersuites = jstr(d, "ciphersuites", "")[0] ? jstr(d, "ciphersuites", "") : NULL;
	struct sl_tls_conf conf = { .min_version = c->min_version, .max_version = c->max_version, .ciphers = c->ciphers,
				    .ciphersuites = c->ciphersuites, .prefer_client = c->prefer_client };
	const char *field = NULL;
	if (sl_tls_profile_check(&conf, &field, det, sizeof(det)))
		return sem_err(e, 422, "invalid_value", te, field ? field : "", det);
	return 0;
}

static int sem_ds(struct sl_txn_ent *te, struct sl_err *e)
{
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(te->ver->data, "datascript"), i, x) {
		const char *s = jstr(x, "script", "");
		char err[400], rel[64], name[64];
		snprintf(name, sizeof(name), "=datascript[%zu]", i);
		if (sl_script_check(s, json_string_length(json_object_get(x, "script")), name, err, sizeof(err))) {
			snprintf(rel, sizeof(rel), "datascript[%zu].script", i);
			return sem_err(e, 422, "invalid_script", te, rel, err);
		}
	}
	return 0;
}

static bool valid_domain(const char *s)
{
	size_t n = strlen(s), lab = 0;
	if (!n || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (lab == 0 && i + 1 != n)
				return false;
			lab = 0;
			continue;
		}
		if (!(isalnum(c) || c == '-' || c == '_' || (c == '*' && i == 0)))
			return false;
		if (++lab > 63)
			return false;
	}
	return true;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int sem_gslb(struct sl_txn_ent *te, struct sl_err *e)
{
	json_t *d = te->ver->data;
	size_t i, j;
	json_t *x, *g;
	char rel[128], key[300];
	json_array_foreach(json_object_get(d, "domain_names"), i, x) {
		snprintf(rel, sizeof(rel), "domain_names[%zu]", i);
		if (!valid_domain(json_string_value(x)))
			return sem_err(e, 400, "invalid_value", te, rel, "not a valid domain name");
		snprintf(key, sizeof(key), "G/%s", json_string_value(x));
		lower(key);
		if (ver_claim_at(te->ver, key, 0, 0, (uint32_t)i))
			return sl_err_set(e, 500, "internal", "", "out of memory");
	}
	json_array_foreach(json_object_get(d, "groups"), i, g) {
		json_array_foreach(json_object_get(g, "members"), j, x) {
			uint32_t ip;
			snprintf(rel, sizeof(rel), "groups[%zu].members[%zu].ip", i, j);
			if (parse_ip(json_object_get(x, "ip"), &ip, te, rel, e))
				return -1;
		}
	}
	json_t *dr = json_object_get(d, "down_response");
	if (dr && !strcmp(jstr(dr, "type", ""), "GSLB_SERVICE_DOWN_RESPONSE_FALLBACK_IP")) {
		uint32_t ip;
		if (!json_object_get(dr, "fallback_ip"))
			return sem_err(e, 422, "missing_field", te, "down_response.fallback_ip", "FALLBACK_IP needs fallback_ip");
		if (parse_ip(json_object_get(dr, "fallback_ip"), &ip, te, "down_response.fallback_ip", e))
			return -1;
	}
	return 0;
}

static int sem_vs(struct sl_txn *t, struct sl_txn_ent *te, struct sl_err *e)
{
	json_t *d = te->ver->data;
	char rel[128], key[320], det[300];
	struct sl_cc_vs *c = calloc(1, sizeof(*c));
	if (!c)
		return sl_err_set(e, 500, "internal", "", "out of memory");
	te->ver->cc = c;
	static const char *const vts[] = { "VS_TYPE_NORMAL", "VS_TYPE_VH_PARENT", "VS_TYPE_VH_CHILD", NULL };
	c->vs_type = (uint8_t)sl_enum_index(vts, jstr(d, "type", "VS_TYPE_NORMAL"));
	c->enabled = jbool(d, "enabled", true) && jbool(d, "traffic_enabled", true);

	c->app_profile = ref_of(t, d, "application_profile_ref", SL_T_APPPROF);
	if (!c->app_profile)
		c->app_profile = sys_node(t, SL_T_APPPROF, "System-HTTP");
	c->app_type = (uint8_t)cc_type_val(c->app_profile);
	c->ssl_profile = ref_of(t, d, "ssl_profile_ref", SL_T_SSLPROF);
	if (!c->ssl_profile)
		c->ssl_profile = sys_node(t, SL_T_SSLPROF, "System-Standard");
	struct sl_node *np = ref_of(t, d, "network_profile_ref", SL_T_NETPROF);
	if (!np)
		np = sys_node(t, SL_T_NETPROF, c->app_type == SL_APP_DNS ? "System-UDP-Fast-Path" : "System-TCP-Proxy");
	c->proto = (uint8_t)cc_type_val(np);
	if ((c->app_type == SL_APP_HTTP || c->app_type == SL_APP_SSL) && np &&
	    strcmp(jstr(json_object_get(sl_node_view(np)->data, "profile"), "type", ""), "PROTOCOL_TYPE_TCP_PROXY"))
		return sem_err(e, 422, "incompatible", te, "network_profile_ref",
			       "HTTP and SSL application profiles need a PROTOCOL_TYPE_TCP_PROXY network profile");
	c->pool = ref_of(t, d, "pool_ref", SL_T_POOL);
	c->poolgroup = ref_of(t, d, "pool_group_ref", SL_T_POOLGROUP);
	if (c->pool && c->poolgroup)
		return sem_err(e, 422, "incompatible", te, "pool_group_ref", "pool_ref and pool_group_ref are exclusive");
	c->n_certs = (uint32_t)json_array_size(json_object_get(d, "ssl_key_and_certificate_refs"));
	{
		/* L4 proxy settings by value, so the generation reads no JSON */
		json_t *tpp = np ? json_object_get(json_object_get(sl_node_view(np)->data, "profile"), "tcp_proxy_profile") : NULL;
		json_t *tap = json_object_get(sl_node_view(c->app_profile)->data, "tcp_app_profile");

		c->idle_timeout_s = (uint32_t)jint(tpp, "idle_connection_timeout", 600);
		c->max_conns = (uint32_t)jint(json_object_get(d, "performance_limits"), "max_concurrent_connections", 0);
		if (jbool(tap, "proxy_protocol_enabled", false))
			c->proxy_protocol = strcmp(jstr(tap, "proxy_protocol_version", "PROXY_PROTOCOL_VERSION_1"),
						   "PROXY_PROTOCOL_VERSION_2") ? 1 : 2;
	}
	{
		json_t *fcl = json_object_get(json_object_get(d, "analytics_policy"), "full_client_logs");
		json_t *thr = json_object_get(fcl, "throttle");

		c->log_queries = json_is_true(json_object_get(fcl, "enabled"));
		c->log_throttle = json_is_integer(thr) && json_integer_value(thr) > 0 ?
			(uint32_t)json_integer_value(thr) : 0;
	}

	static const char *const lists[] = { "http_policies", "vs_datascripts" };
	for (int k = 0; k < 2; k++) {
		json_t *arr = json_object_get(d, lists[k]);
		for (size_t i = 0; i < json_array_size(arr); i++)
			for (size_t j = 0; j < i; j++)
				if (jint(json_array_get(arr, i), "index", 0) == jint(json_array_get(arr, j), "index", 0)) {
					snprintf(rel, sizeof(rel), "%s[%zu].index", lists[k], i);
					return sem_err(e, 422, "duplicate", te, rel, "index is used twice");
				}
	}

	json_t *services = json_object_get(d, "services");
	json_t *doms = json_object_get(d, "vh_domain_name");
	if (c->vs_type == SL_VS_VH_CHILD) {
		c->parent = ref_of(t, d, "vh_parent_vs_ref", SL_T_VS);
		if (!c->parent)
			return sem_err(e, 422, "missing_field", te, "vh_parent_vs_ref", "a VS_TYPE_VH_CHILD needs vh_parent_vs_ref");
		if (c->parent == te->node)
			return sem_err(e, 422, "cycle", te, "vh_parent_vs_ref", "a virtual service cannot be its own parent");
		const char *pt = jstr(sl_node_view(c->parent)->data, "type", "VS_TYPE_NORMAL");
		if (strcmp(pt, "VS_TYPE_VH_PARENT")) {
			snprintf(det, sizeof(det), "parent \"%.128s\" is %s, not VS_TYPE_VH_PARENT", sl_node_name(c->parent), pt);
			return sem_err(e, 422, "invalid_reference", te, "vh_parent_vs_ref", det);
		}
		if (json_array_size(doms) == 0)
			return sem_err(e, 422, "missing_field", te, "vh_domain_name", "a VS_TYPE_VH_CHILD needs vh_domain_name");
		if (json_array_size(services) || json_object_get(d, "vip") || json_object_get(d, "vsvip_ref"))
			return sem_err(e, 422, "incompatible", te, json_array_size(services) ? "services" : "vsvip_ref",
				       "a VS_TYPE_VH_CHILD uses its parent's VIP and services");
		c->domains = calloc(json_array_size(doms), sizeof(char *));
		if (!c->domains)
			return sl_err_set(e, 500, "internal", "", "out of memory");
		for (size_t i = 0; i < json_array_size(doms); i++) {
			const char *dn = json_string_value(json_array_get(doms, i));
			snprintf(rel, sizeof(rel), "vh_domain_name[%zu]", i);
			if (!valid_domain(dn))
				return sem_err(e, 400, "invalid_value", te, rel, "not a valid domain name");
			c->domains[i] = strdup(dn);
			if (!c->domains[i])
				return sl_err_set(e, 500, "internal", "", "out of memory");
			lower(c->domains[i]);
			c->n_domains++;
			snprintf(key, sizeof(key), "S/%s/%s", c->parent->uuid, c->domains[i]);
			if (ver_claim_at(te->ver, key, 0, 0, (uint32_t)i))
				return sl_err_set(e, 500, "internal", "", "out of memory");
		}
		return 0;
	}
	if (json_object_get(d, "vh_parent_vs_ref"))
		return sem_err(e, 422, "incompatible", te, "vh_parent_vs_ref", "only a VS_TYPE_VH_CHILD has a parent");
	if (json_array_size(doms))
		return sem_err(e, 422, "incompatible", te, "vh_domain_name", "only a VS_TYPE_VH_CHILD has vh_domain_name");

	json_t *vip = json_object_get(d, "vip");
	struct sl_node *vsvip = ref_of(t, d, "vsvip_ref", SL_T_VSVIP);
	if (vip && vsvip)
		return sem_err(e, 422, "incompatible", te, "vip", "use either vip or vsvip_ref, not both");
	if (vsvip) {
		struct sl_cc_vsvip *vc = sl_node_view(vsvip)->cc;
		c->n_vips = vc ? vc->n : 0;
		if (vc)
			memcpy(c->vips, vc->vips, vc->n * sizeof(uint32_t));
	} else {
		size_t i;
		json_t *x;
		json_array_foreach(vip, i, x) {
			snprintf(rel, sizeof(rel), "vip[%zu].ip_address", i);
			if (parse_ip(json_object_get(x, "ip_address"), &c->vips[c->n_vips], te, rel, e))
				return -1;
			c->n_vips++;
		}
	}
	if (!c->n_vips)
		return sem_err(e, 422, "missing_field", te, "vsvip_ref", "a virtual service needs vsvip_ref or vip");
	if (!json_array_size(services))
		return sem_err(e, 422, "missing_field", te, "services", "a virtual service needs at least one service");
	c->listeners = calloc(json_array_size(services) * c->n_vips, sizeof(*c->listeners));
	if (!c->listeners)
		return sl_err_set(e, 500, "internal", "", "out of memory");
	size_t i;
	json_t *s;
	json_array_foreach(services, i, s) {
		uint16_t lo = (uint16_t)jint(s, "port", 0), hi = (uint16_t)jint(s, "port_range_end", lo);
		if (hi < lo) {
			snprintf(rel, sizeof(rel), "services[%zu].port_range_end", i);
			return sem_err(e, 422, "out_of_range", te, rel, "port_range_end is below port");
		}
		bool ssl = jbool(s, "enable_ssl", false);
		if (ssl && !c->n_certs) {
			snprintf(rel, sizeof(rel), "services[%zu].enable_ssl", i);
			return sem_err(e, 422, "missing_field", te, rel, "enable_ssl needs ssl_key_and_certificate_refs");
		}
		uint8_t proto = c->proto;
		struct sl_node *onp = ref_of(t, s, "override_network_profile_ref", SL_T_NETPROF);
		if (onp)
			proto = (uint8_t)cc_type_val(onp);
		for (uint32_t k = 0; k < c->n_vips; k++) {
			struct sl_gen_listener *l = &c->listeners[c->n_listeners++];
			l->vip = c->vips[k];
			l->proto = proto;
			l->port_lo = lo;
			l->port_hi = hi;
			l->enable_ssl = ssl;
			l->enable_http2 = jbool(s, "enable_http2", false);
			snprintf(key, sizeof(key), "L/%08x/%u", l->vip, proto);
			if (ver_claim_at(te->ver, key, lo, hi, (uint32_t)i))
				return sl_err_set(e, 500, "internal", "", "out of memory");
		}
	}
	return 0;
}

static int semantic(struct sl_txn *t, struct sl_txn_ent *te, struct sl_err *e)
{
	switch (te->node->type) {
	case SL_T_VS: return sem_vs(t, te, e);
	case SL_T_VSVIP: return sem_vsvip(te, e);
	case SL_T_POOL: return sem_pool(te, e);
	case SL_T_POOLGROUP: return sem_pg(t, te, e);
	case SL_T_HTTPPOLICYSET: return sem_hps(te, e) ? -1 : sl_http_policy_check(t, te, e);
	case SL_T_CERT: return sem_cert(te, e);
	case SL_T_HM: return sem_hm(te, e);
	case SL_T_DS: return sem_ds(te, e);
	case SL_T_GSLB: return sem_gslb(te, e);
	case SL_T_APPPROF: return sem_appprof(te, e) ? -1 : sl_http_profile_check(te, e);
	case SL_T_NETPROF: return sem_netprof(te, e);
	case SL_T_SSLPROF: return sem_sslprof(te, e);
	}
	return 0;
}

/* ---------------- transactions ---------------- */
void sl_txn_begin(struct sl_txn *t, struct sl_model *m)
{
	memset(t, 0, sizeof(*t));
	t->m = m;
	t->gen = m->gen + 1;
	for (int i = 0; i < SL_T__N; i++)
		sl_hmap_init(&t->names[i]);
}

static struct sl_txn_ent *txn_ent(struct sl_txn *t, struct sl_node *n)
{
	if (n->in_txn)
		return &t->ents[n->txn_idx];
	if (t->n == t->cap) {
		uint32_t nc = t->cap ? t->cap * 2 : 16;
		struct sl_txn_ent *p = realloc(t->ents, nc * sizeof(*p));
		if (!p)
			return NULL;
		t->ents = p;
		t->cap = nc;
	}
	struct sl_txn_ent *te = &t->ents[t->n];
	memset(te, 0, sizeof(*te));
	te->node = n;
	n->in_txn = true;
	n->txn_idx = t->n++;
	n->txn_ver = n->cur;     /* until staged, the view is unchanged */
	return te;
}

static void gen_uuid(int type, char *out, size_t n)
{
	uint8_t b[16];
	if (getrandom(b, sizeof(b), 0) != sizeof(b)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (int i = 0; i < 16; i++)
			b[i] = (uint8_t)((uint64_t)ts.tv_nsec >> (i % 8) * 8) ^ (uint8_t)rand();
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, n, "%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", sl_types[type].name,
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static bool valid_uuid(int type, const char *u)
{
	size_t tl = strlen(sl_types[type].name);
	if (strncmp(u, sl_types[type].name, tl) || u[tl] != '-' || strlen(u + tl + 1) != 36)
		return false;
	for (const char *p = u + tl + 1; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != '-')
			return false;
	return true;
}

/* RFC 7396 JSON merge patch. */
static json_t *merge_patch(json_t *target, json_t *patch)
{
	if (!json_is_object(patch))
		return json_incref(patch);
	json_t *r = json_is_object(target) ? json_deep_copy(target) : json_object();
	const char *k;
	json_t *v;
	json_object_foreach(patch, k, v) {
		if (json_is_null(v)) {
			json_object_del(r, k);
		} else {
			json_t *nv = merge_patch(json_object_get(r, k), v);
			json_object_set_new(r, k, nv);
		}
	}
	return r;
}

static void stamp(json_t *d, struct sl_node *n, uint64_t gen, bool keep_time)
{
	char buf[160];
	struct timespec ts;
	json_object_set_new(d, "uuid", json_string(n->uuid));
	snprintf(buf, sizeof(buf), "/api/%s/%s", sl_types[n->type].name, n->uuid);
	json_object_set_new(d, "url", json_string(buf));
	if (!keep_time || !json_is_string(json_object_get(d, "_last_modified"))) {
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(buf, sizeof(buf), "%lld", (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
		json_object_set_new(d, "_last_modified", json_string(buf));
	}
	json_object_set_new(d, "_generation", json_integer((json_int_t)gen));
}

static int check_if_match(struct sl_node *n, const char *if_match, const char *path, struct sl_err *e)
{
	if (!if_match || !strcmp(if_match, "*"))
		return 0;
	char et[32];
	sl_etag(sl_node_view(n), et, sizeof(et));
	const char *im = if_match;
	if (!strncmp(im, "W/", 2))
		im += 2;
	if (strcmp(im, et) && !(im[0] != '"' && strtoull(im, NULL, 10) == sl_node_view(n)->gen))
		return sl_err_set(e, 412, "precondition_failed", path, "object is at %s, If-Match was %.40s", et, if_match);
	return 0;
}

int sl_txn_op(struct sl_txn *t, enum sl_op op, int type, const char *id, json_t *body, const char *if_match,
	      const char *path, struct sl_err *e)
{
	struct sl_model *m = t->m;
	struct sl_node *n = NULL;
	char p2[256];
	if (op != SL_OP_CREATE) {
		if (!id && json_is_object(body))
			id = jstr(body, "uuid", jstr(body, "name", NULL));
		if (!id) {
			jpath(p2, sizeof(p2), path, "name");
			return sl_err_set(e, 400, "missing_field", p2, "name or uuid is required");
		}
		n = txn_find(t, type, id);
		if (!n)
			return sl_err_set(e, 404, "not_found", path, "%s \"%.200s\" does not exist", sl_types[type].name, id);
		if (n->system)
			return sl_err_set(e, 409, "system_object", path, "%s \"%.128s\" is a built-in system object and read-only",
					  sl_types[type].name, n->name);
		if (check_if_match(n, if_match, path, e))
			return -1;
	}
	if (op == SL_OP_DELETE) {
		struct sl_txn_ent *te = txn_ent(t, n);
		if (!te)
			return sl_err_set(e, 500, "internal", path, "out of memory");
		const char *nm = sl_node_name(n);
		if (nm && sl_hmap_get(&t->names[type], nm) == n)
			sl_hmap_del(&t->names[type], nm);
		if (n->txn_ver != n->cur)
			ver_free(type, n->txn_ver);
		n->txn_ver = NULL;
		te->ver = NULL;
		te->recheck = false;
		snprintf(te->path, sizeof(te->path), "%s", path);
		return 0;
	}
	json_t *data;
	if (op == SL_OP_PATCH) {
		if (!json_is_object(body))
			return sl_err_set(e, 400, "invalid_type", path, "a PATCH body must be an object");
		json_t *pb2 = body;
		/* Avi's {"replace": {...}} form is treated like a merge patch */
		if (json_object_size(body) == 1 && json_is_object(json_object_get(body, "replace")))
			pb2 = json_object_get(body, "replace");
		data = merge_patch(sl_node_view(n)->data, pb2);
	} else {
		if (!json_is_object(body))
			return sl_err_set(e, 400, "invalid_type", path, "expected an object");
		data = json_deep_copy(body);
	}
	if (!data)
		return sl_err_set(e, 500, "internal", path, "out of memory");
	if (op != SL_OP_CREATE && !json_object_get(data, "name"))
		json_object_set_new(data, "name", json_string(sl_node_name(n)));
	if (sl_schema_check(type, data, path, e)) {
		json_decref(data);
		return -1;
	}
	const char *name = jstr(data, "name", "");
	const char *uuid = jstr(data, "uuid", NULL);
	struct sl_node *other = txn_by_name(t, type, name);
	if (other && other != n) {
		jpath(p2, sizeof(p2), path, "name");
		sl_err_set(e, 409, "conflict", p2, "%s \"%.200s\" already exists", sl_types[type].name, name);
		json_decref(data);
		return -1;
	}
	if (op == SL_OP_CREATE) {
		if (uuid && (!valid_uuid(type, uuid) || sl_hmap_get(&m->by_uuid, uuid))) {
			jpath(p2, sizeof(p2), path, "uuid");
			sl_err_set(e, 409, "conflict", p2, "uuid \"%.100s\" is malformed or already in use", uuid);
			json_decref(data);
			return -1;
		}
		n = calloc(1, sizeof(*n));
		if (!n || slot_alloc(m, type, n)) {
			free(n);
			json_decref(data);
			return sl_err_set(e, type == SL_T_VS ? 409 : 500, "capacity", path, "no free %s slot",
					  sl_types[type].name);
		}
		n->type = type;
		n->txn_new = true;
		if (uuid)
			snprintf(n->uuid, sizeof(n->uuid), "%s", uuid);
		else
			gen_uuid(type, n->uuid, sizeof(n->uuid));
		if (sl_hmap_put(&m->by_uuid, n->uuid, n)) {
			slot_release(m, n);
			free(n);
			json_decref(data);
			return sl_err_set(e, 500, "internal", path, "out of memory");
		}
	} else if (uuid && strcmp(uuid, n->uuid)) {
		json_decref(data);
		jpath(p2, sizeof(p2), path, "uuid");
		return sl_err_set(e, 400, "invalid_value", p2, "uuid cannot be changed");
	}
	struct sl_txn_ent *te = txn_ent(t, n);
	struct sl_ver *v = calloc(1, sizeof(*v));
	if (!te || !v) {
		free(v);
		json_decref(data);
		return sl_err_set(e, 500, "internal", path, "out of memory");
	}
	const char *oldname = sl_node_name(n);
	if (oldname && sl_hmap_get(&t->names[type], oldname) == n)
		sl_hmap_del(&t->names[type], oldname);
	uint64_t g = t->gen;
	if (t->loading && json_is_integer(json_object_get(data, "_generation")))
		g = (uint64_t)json_integer_value(json_object_get(data, "_generation"));
	stamp(data, n, g, t->loading);
	v->data = data;
	v->gen = g;
	if (n->txn_ver && n->txn_ver != n->cur)
		ver_free(type, n->txn_ver);
	n->txn_ver = v;
	te->ver = v;
	te->recheck = false;
	snprintf(te->path, sizeof(te->path), "%s", path);
	if (sl_hmap_put(&t->names[type], jstr(data, "name", ""), n))
		return sl_err_set(e, 500, "internal", path, "out of memory");
	return 0;
}

/* A change to something a VS compiles in (its VIP, profiles, parent) must re-run that VS's checks. */
static int add_rechecks(struct sl_txn *t, struct sl_err *e)
{
	for (uint32_t i = 0; i < t->n; i++) {
		struct sl_txn_ent *te = &t->ents[i];
		struct sl_node *n = te->node;
		if (!te->ver || n->txn_new)
			continue;
		if (n->type != SL_T_VSVIP && n->type != SL_T_APPPROF && n->type != SL_T_NETPROF && n->type != SL_T_VS)
			continue;
		for (uint32_t k = 0; k < n->n_referrers; k++) {
			struct sl_node *r = n->referrers[k];
			if (r->in_txn || r->type != SL_T_VS)
				continue;
			struct sl_ver *v = calloc(1, sizeof(*v));
			struct sl_txn_ent *re = v ? txn_ent(t, r) : NULL;
			if (!re) {
				free(v);
				return sl_err_set(e, 500, "internal", "", "out of memory");
			}
			te = &t->ents[i];   /* txn_ent may have moved the array */
			v->data = json_incref(r->cur->data);
			v->gen = r->cur->gen;
			r->txn_ver = v;
			re->ver = v;
			re->recheck = true;
			snprintf(re->path, sizeof(re->path), "(%s %s)", sl_types[r->type].name, r->name);
		}
	}
	return 0;
}

static int check_claims(struct sl_txn *t, struct sl_err *e)
{
	struct sl_hmap local;
	sl_hmap_init(&local);
	int rc = 0;
	for (uint32_t i = 0; i < t->n && !rc; i++) {
		struct sl_txn_ent *te = &t->ents[i];
		if (!te->ver)
			continue;
		for (uint32_t c = 0; c < te->ver->n_claims && !rc; c++) {
			struct sl_claim *cl = &te->ver->claims[c];
			for (int pass = 0; pass < 2 && !rc; pass++) {
				struct claimlist *l = sl_hmap_get(pass ? &local : &t->m->claims, cl->key);
				for (uint32_t k = 0; l && k < l->n; k++) {
					struct sl_node *o = l->e[k].node;
					if (o == te->node || (!pass && o->in_txn))
						continue;
					if (l->e[k].lo > cl->hi || l->e[k].hi < cl->lo)
						continue;
					const char *what = cl->key[0] == 'L' ? "VIP, protocol and port overlap with"
							 : cl->key[0] == 'S' ? "vh_domain_name is already served by"
									     : "domain name is already served by";
					char rel[64] = "";
					if (cl->key[0] == 'L')
						snprintf(rel, sizeof(rel), "services[%u].port", cl->src);
					else if (cl->key[0] == 'S')
						snprintf(rel, sizeof(rel), "vh_domain_name[%u]", cl->src);
					else
						snprintf(rel, sizeof(rel), "domain_names[%u]", cl->src);
					char path[256], det[400];
					jpath(path, sizeof(path), te->path, rel);
					snprintf(det, sizeof(det), "%s %s \"%.150s\"", what, sl_types[o->type].name, sl_node_name(o));
					rc = sl_err_set(e, 409, "conflict", path, "%s", det);
					break;
				}
			}
			if (!rc && claim_index_add(&local, cl->key, te->node, cl->lo, cl->hi))
				rc = sl_err_set(e, 500, "internal", "", "out of memory");
		}
	}
	claim_index_free(&local);
	return rc;
}

int sl_txn_validate(struct sl_txn *t, struct sl_err *e)
{
	if (add_rechecks(t, e))
		return -1;
	/* VSs last: they compile in the records of VsVips and profiles staged in the same transaction. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < t->n; i++) {
			struct sl_txn_ent *te = &t->ents[i];
			if (!te->ver || (te->node->type == SL_T_VS) != (pass == 1))
				continue;
			ver_clear_derived(te->node->type, te->ver);
			struct pb p;
			pb_init(&p, te->path);
			if (resolve_obj(t, te->ver->data, sl_types[te->node->type].fields, &p, te->ver, !te->recheck, e))
				return -1;
			if (semantic(t, te, e))
				return -1;
		}
	}
	for (uint32_t i = 0; i < t->n; i++) {
		struct sl_txn_ent *te = &t->ents[i];
		if (te->ver || te->node->txn_new)
			continue;
		struct sl_node *n = te->node;
		for (uint32_t k = 0; k < n->n_referrers; k++) {
			struct sl_node *r = n->referrers[k];
			if (r->in_txn && !r->txn_ver)
				continue;       /* deleted in the same transaction */
			if (r->in_txn) {
				bool still = false;
				for (uint32_t j = 0; j < r->txn_ver->n_refs; j++)
					still |= r->txn_ver->refs[j] == n;
				if (!still)
					continue;
			}
			return sl_err_set(e, 409, "in_use", te->path, "%s \"%.128s\" is referenced by %s \"%.128s\"",
					  sl_types[n->type].name, n->name, sl_types[r->type].name, sl_node_name(r));
		}
	}
	/* cycles: only VS -> VS (vh_parent_vs_ref) can loop; follow each staged VS upwards */
	for (uint32_t i = 0; i < t->n; i++) {
		struct sl_txn_ent *te = &t->ents[i];
		if (!te->ver || te->node->type != SL_T_VS)
			continue;
		struct sl_node *cur = te->node;
		for (int depth = 0; cur; depth++) {
			struct sl_ver *v = sl_node_view(cur);
			struct sl_cc_vs *c = v ? v->cc : NULL;
			cur = c ? c->parent : NULL;
			if (cur == te->node || depth > 64)
				return sem_err(e, 422, "cycle", te, "vh_parent_vs_ref", "virtual service parents form a cycle");
		}
	}
	return check_claims(t, e);
}

/* Equal but for the stamps every staged version gets anew. */
static bool same_stored(json_t *a, json_t *b)
{
	static const char *const stamps[] = { "_last_modified", "_generation" };
	size_t na = json_object_size(a), nb = json_object_size(b);
	for (int i = 0; i < 2; i++) {
		na -= json_object_get(a, stamps[i]) != NULL;
		nb -= json_object_get(b, stamps[i]) != NULL;
	}
	if (na != nb)
		return false;
	const char *k;
	json_t *v;
	json_object_foreach(a, k, v) {
		if (strcmp(k, stamps[0]) && strcmp(k, stamps[1]) && !json_equal(v, json_object_get(b, k)))
			return false;
	}
	return true;
}

bool sl_txn_noop(const struct sl_txn *t)
{
	bool any = false;
	for (uint32_t i = 0; i < t->n; i++) {
		const struct sl_txn_ent *te = &t->ents[i];
		if (te->recheck)
			continue;
		if (!te->ver || te->node->txn_new || !te->node->cur || !same_stored(te->ver->data, te->node->cur->data))
			return false;
		any = true;
	}
	return any;
}

json_t *sl_txn_record(struct sl_txn *t)
{
	json_t *ops = json_array();
	for (uint32_t i = 0; i < t->n; i++) {
		struct sl_txn_ent *te = &t->ents[i];
		if (te->recheck || (te->node->txn_new && !te->ver) || te->node->system)
			continue;
		json_t *op = json_object();
		json_object_set_new(op, "type", json_string(sl_types[te->node->type].name));
		if (te->ver) {
			json_object_set_new(op, "op", json_string("put"));
			json_object_set(op, "obj", te->ver->data);
		} else {
			json_object_set_new(op, "op", json_string("del"));
			json_object_set_new(op, "uuid", json_string(te->node->uuid));
		}
		json_array_append_new(ops, op);
	}
	json_t *r = json_object();
	json_object_set_new(r, "gen", json_integer((json_int_t)t->gen));
	json_object_set_new(r, "ops", ops);
	return r;
}

static void txn_cleanup(struct sl_txn *t)
{
	for (int i = 0; i < SL_T__N; i++)
		sl_hmap_free(&t->names[i]);
	free(t->ents);
	t->ents = NULL;
	t->n = t->cap = 0;
}

static void node_unindex_refs(struct sl_model *m, struct sl_node *n, struct sl_ver *v)
{
	if (!v)
		return;
	for (uint32_t i = 0; i < v->n_refs; i++)
		referrer_del(v->refs[i], n);
	for (uint32_t i = 0; i < v->n_claims; i++)
		claim_index_del(&m->claims, v->claims[i].key, n);
}

void sl_txn_commit(struct sl_txn *t)
{
	struct sl_model *m = t->m;
	/* first unindex every old version, then index the new ones, so swaps inside one txn are consistent */
	for (uint32_t i = 0; i < t->n; i++) {
		struct sl_node *n = t->ents[i].node;
		node_unindex_refs(m, n, n->cur);
		if (n->name && sl_hmap_get(&m->by_name[n->type], n->name) == n)
			sl_hmap_del(&m->by_name[n->type], n->name);
	}
	for (uint32_t i = 0; i < t->n; i++) {
		struct sl_txn_ent *te = &t->ents[i];
		struct sl_node *n = te->node;
		struct sl_ver *nv = n->txn_ver;
		n->in_txn = false;
		n->txn_ver = NULL;
		if (!nv) {
			sl_hmap_del(&m->by_uuid, n->uuid);
			slot_release(m, n);
			if (n->cur)
				m->n_objs[n->type]--;
			node_free(n);
			continue;
		}
		if (nv != n->cur) {
			if (!n->cur)
				m->n_objs[n->type]++;
			ver_free(n->type, n->cur);
			n->cur = nv;
		}
		n->txn_new = false;
		free(n->name);
		n->name = strdup(jstr(nv->data, "name", ""));
		sl_hmap_put(&m->by_name[n->type], n->name, n);
		for (uint32_t k = 0; k < nv->n_refs; k++)
			referrer_add(nv->refs[k], n);
		for (uint32_t k = 0; k < nv->n_claims; k++)
			claim_index_add(&m->claims, nv->claims[k].key, n, nv->claims[k].lo, nv->claims[k].hi);
	}
	m->gen = t->gen;
	txn_cleanup(t);
}

void sl_txn_abort(struct sl_txn *t)
{
	struct sl_model *m = t->m;
	for (uint32_t i = 0; i < t->n; i++) {
		struct sl_node *n = t->ents[i].node;
		if (n->txn_ver != n->cur)
			ver_free(n->type, n->txn_ver);
		n->in_txn = false;
		n->txn_ver = NULL;
		if (n->txn_new) {
			sl_hmap_del(&m->by_uuid, n->uuid);
			slot_release(m, n);
			node_free(n);
		} else if (n->cur && n->cur->cc == NULL && n->cur->data) {
			/* committed versions keep their records; nothing to undo */
		}
	}
	txn_cleanup(t);
}

/* ---------------- model ---------------- */
static const struct { int type; const char *name; const char *json; } sys_objs[] = {
	{ SL_T_APPPROF, "System-HTTP", "{\"type\":\"APPLICATION_PROFILE_TYPE_HTTP\",\"http_profile\":{}}" },
	{ SL_T_APPPROF, "System-Secure-HTTP", "{\"type\":\"APPLICATION_PROFILE_TYPE_HTTP\",\"http_profile\":{\"x_forwarded_proto_enabled\":true,\"hsts_enabled\":true}}" },
	{ SL_T_APPPROF, "System-L4-Application", "{\"type\":\"APPLICATION_PROFILE_TYPE_L4\"}" },
	{ SL_T_APPPROF, "System-DNS", "{\"type\":\"APPLICATION_PROFILE_TYPE_DNS\",\"dns_service_profile\":{\"ttl\":30,\"negative_caching_ttl\":30,\"num_dns_ip\":1,\"error_response\":\"DNS_ERROR_RESPONSE_ERROR\"}}" },
	{ SL_T_APPPROF, "System-SSL-Application", "{\"type\":\"APPLICATION_PROFILE_TYPE_SSL\"}" },
	{ SL_T_NETPROF, "System-TCP-Proxy", "{\"profile\":{\"type\":\"PROTOCOL_TYPE_TCP_PROXY\",\"tcp_proxy_profile\":{\"automatic\":true}}}" },
	{ SL_T_NETPROF, "System-UDP-Fast-Path", "{\"profile\":{\"type\":\"PROTOCOL_TYPE_UDP_FAST_PATH\",\"udp_fast_path_profile\":{}}}" },
	{ SL_T_NETPROF, "System-TCP-Fast-Path", "{\"profile\":{\"type\":\"PROTOCOL_TYPE_TCP_FAST_PATH\",\"tcp_fast_path_profile\":{}}}" },
	{ SL_T_NETPROF, "System-UDP-Proxy", "{\"profile\":{\"type\":\"PROTOCOL_TYPE_UDP_PROXY\"}}" },
	{ SL_T_HM, "System-TCP", "{\"type\":\"HEALTH_MONITOR_TCP\",\"send_interval\":10,\"receive_timeout\":4,\"failed_checks\":2,\"successful_checks\":2}" },
	{ SL_T_HM, "System-HTTP", "{\"type\":\"HEALTH_MONITOR_HTTP\",\"send_interval\":10,\"receive_timeout\":4,\"failed_checks\":3,\"successful_checks\":3,\"http_monitor\":{\"http_request\":\"HEAD / HTTP/1.0\",\"http_response_code\":[\"HTTP_2XX\",\"HTTP_3XX\"]}}" },
	{ SL_T_HM, "System-Ping", "{\"type\":\"HEALTH_MONITOR_PING\",\"send_interval\":10,\"receive_timeout\":4,\"failed_checks\":2,\"successful_checks\":2}" },
	{ SL_T_HM, "System-DNS", "{\"type\":\"HEALTH_MONITOR_DNS\",\"send_interval\":6,\"receive_timeout\":4,\"failed_checks\":2,\"successful_checks\":2,\"dns_monitor\":{\"query_name\":\"www.google.com\",\"qtype\":\"DNS_QUERY_TYPE\",\"rcode\":\"RCODE_NO_ERROR\"}}" },
	/* what a VS without ssl_profile_ref gets; the TLS 1.3 suites are OpenSSL's default */
	{ SL_T_SSLPROF, "System-Standard", "{\"type\":\"SSL_PROFILE_TYPE_SYSTEM\",\"accepted_versions\":[{\"type\":\"SSL_VERSION_TLS1_2\"},{\"type\":\"SSL_VERSION_TLS1_3\"}],"
	  "\"accepted_ciphers\":\"" SL_TLS_DEFAULT_CIPHERS "\",\"ciphersuites\":\"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256\","
	  "\"prefer_client_cipher_ordering\":false}" },
};

int sl_model_init(struct sl_model *m)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < SL_T__N; i++)
		sl_hmap_init(&m->by_name[i]);
	sl_hmap_init(&m->by_uuid);
	sl_hmap_init(&m->claims);
	struct sl_txn t;
	struct sl_err e;
	sl_txn_begin(&t, m);
	t.gen = 0;
	for (size_t i = 0; i < sizeof(sys_objs) / sizeof(sys_objs[0]); i++) {
		json_t *o = json_loads(sys_objs[i].json, 0, NULL);
		char uuid[64];
		if (!o)
			return -ENOMEM;
		snprintf(uuid, sizeof(uuid), "%s-00000000-0000-4000-8000-%012zx", sl_types[sys_objs[i].type].name, i + 1);
		json_object_set_new(o, "name", json_string(sys_objs[i].name));
		json_object_set_new(o, "uuid", json_string(uuid));
		int rc = sl_txn_op(&t, SL_OP_CREATE, sys_objs[i].type, NULL, o, NULL, "", &e);
		json_decref(o);
		if (rc) {
			sl_txn_abort(&t);
			return -EINVAL;
		}
	}
	if (sl_txn_validate(&t, &e)) {
		sl_txn_abort(&t);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < t.n; i++)
		t.ents[i].node->system = true;
	sl_txn_commit(&t);
	m->gen = 0;
	return 0;
}

void sl_model_free(struct sl_model *m)
{
	for (size_t i = 0; i < m->by_uuid.cap; i++)
		if (sl_hmap_live(&m->by_uuid, i))
			node_free(m->by_uuid.e[i].val);
	for (int i = 0; i < SL_T__N; i++) {
		sl_hmap_free(&m->by_name[i]);
		free(m->slots[i]);
		free(m->free_slots[i]);
	}
	sl_hmap_free(&m->by_uuid);
	claim_index_free(&m->claims);
	memset(m, 0, sizeof(*m));
}

json_t *sl_model_dump(struct sl_model *m)
{
	json_t *objs = json_object();
	for (int t = 0; t < SL_T__N; t++) {
		json_t *arr = json_array();
		for (uint32_t s = 0; s < m->n_slots[t]; s++) {
			struct sl_node *n = m->slots[t][s];
			if (n && n->cur && !n->system)
				json_array_append(arr, n->cur->data);
		}
		json_object_set_new(objs, sl_types[t].name, arr);
	}
	return objs;
}
