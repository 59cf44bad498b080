/* Control plane: the Unix-socket HTTP server, the REST API, applying changes and the health table.
 *
 * Everything runs on the caller's thread (the engine's main lcore) from sl_ctl_poll(); sockets are
 * non-blocking and every request is bounded, so a slow or hostile client can hold only its own buffer. */
/* Paths and details are deliberately truncated to fixed buffers. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_check.h"
#include "gen_build.h"
#include "hm.h"
#include "http.h"
#include "model.h"
#include "persist.h"
#include "sl_control.h"

#define SL_CTL_DEFAULT_SOCK "/run/sluice/control.sock"
#define SL_CTL_DEFAULT_STATE "/var/lib/sluice"
#define MAX_CONNS 256
#define READ_TIMEOUT_MS 10000
#define IDLE_TIMEOUT_MS 60000

struct conn {
	int fd;
	char *in, *out;
	size_t in_len, in_cap, out_len, out_off, out_cap;
	uint64_t t_start, t_last;
	bool closing, continue_sent, eof;
	uint32_t events;                 /* epoll interest currently registered */
	struct conn *prev, *next;
};

struct sl_ctl {
	char *sock_path, *state_dir;
	unsigned n_workers;
	bool default_certs;
	struct sl_ctl_hooks hooks;
	int lfd, epfd;
	struct conn *conns;
	unsigned n_conns;
	struct sl_model m;
	struct sl_persist ps;
	struct sl_gen *own_gen;          /* only without a publish hook */
	struct sl_gen *cur_gen;          /* last published; alive until the next one is published */
	uint64_t published;
	struct timespec started;
	/* health table */
	uint8_t health[SL_MAX_HEALTH];
	struct sl_hmap hslots;           /* "gslb\x1fip" or "\x1epool\x1ename:port\x1fip" -> slot + 1 */
	char *hkey[SL_MAX_HEALTH];
	uint32_t hmark[SL_MAX_HEALTH];
	uint8_t hkind[SL_MAX_HEALTH];    /* enum hkind */
	uint32_t hround, hnext, *hfree, hnfree;
	/* pool server slots of the transaction being applied: allocated by it (undone on abort) and
	   held by replaced versions but not by their successors (freed on commit) */
	uint32_t *pnew, npnew, cpnew, *prel, nprel, cprel;
	struct sl_hm *hm;                /* monitors: targets, schedule, verdicts */
	/* counters */
	uint64_t n_requests, n_applies, n_rejects, apply_us_sum, apply_us_max;
	size_t snapshot_min;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---------------- health table ---------------- */
/* Slots are keyed by what they stand for, so the same member or server keeps its slot (and health)
 * across generations. GSLB member slots are marked on every GSLB change and swept; pool server slots
 * follow the pool versions of each transaction, so a change that touches no pool or GSLB service
 * costs nothing here, however many servers are configured. */
enum hkind { HK_FREE, HK_GSLB, HK_POOL };

static void slot_free(struct sl_ctl *c, uint32_t s)
{
	sl_hm_targets(c->hm, s, 0, 0, NULL, 0);
	sl_hmap_del(&c->hslots, c->hkey[s]);
	free(c->hkey[s]);
	c->hkey[s] = NULL;
	c->hkind[s] = HK_FREE;
	c->health[s] = 1;
	c->hfree[c->hnfree++] = s;
}

/* >= 0: slot of key (*created when new), or -errno */
static int slot_get(struct sl_ctl *c, const char *key, uint8_t kind, bool *created)
{
	uintptr_t v = (uintptr_t)sl_hmap_get(&c->hslots, key);
	uint32_t s;
	*created = false;
	if (v) {
		s = (uint32_t)(v - 1);
	} else {
		if (c->hnfree)
			s = c->hfree[--c->hnfree];
		else if (c->hnext < SL_MAX_HEALTH)
			s = c->hnext++;
		else
			return -ENOSPC;
		c->hkey[s] = strdup(key);
		if (!c->hkey[s] || sl_hmap_put(&c->hslots, key, (void *)(uintptr_t)(s + 1))) {
			free(c->hkey[s]);
			c->hkey[s] = NULL;
			c->hfree[c->hnfree++] = s;
			return -ENOMEM;
		}
		c->health[s] = 1;
		c->hkind[s] = kind;
		*created = true;
	}
	c->hmark[s] = c->hround;
	return (int)s;
}

static int health_slot(void *arg, const char *gslb, uint32_t ip)
{
	struct sl_ctl *c = arg;
	char key[300];
	bool created;
	snprintf(key, sizeof(key), "%s\x1f%08x", gslb, ip);
	return slot_get(c, key, HK_GSLB, &created);
}

static int health_find(struct sl_ctl *c, const char *gslb, uint32_t ip)
{
	char key[300];
	snprintf(key, sizeof(key), "%s\x1f%08x", gslb, ip);
	uintptr_t v = (uintptr_t)sl_hmap_get(&c->hslots, key);
	return v ? (int)(v - 1) : -1;
}

static void pool_key(char *key, size_t cap, const char *pool, const struct sl_gen_server *sv)
{
	snprintf(key, cap, "\x1epool\x1e%s:%u\x1f%08x", pool, sv->port, sv->ip);
}

static int u32_push(uint32_t **a, uint32_t *n, uint32_t *cap, uint32_t v)
{
	if (*n == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 64;
		uint32_t *p = realloc(*a, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		*a = p;
		*cap = nc;
	}
	(*a)[(*n)++] = v;
	return 0;
}

/* Slots for the servers of one compiled pool version (written into its records, which both the full
 * build and the patch path copy into the generation). */
static int pool_assign(struct sl_ctl *c, const char *name, struct sl_cc_pool *cc)
{
	char key[300];
	for (uint32_t i = 0; i < cc->n_servers; i++) {
		bool created;
		pool_key(key, sizeof(key), name, &cc->servers[i]);
		int s = slot_get(c, key, HK_POOL, &created);
		if (s < 0 || (created && u32_push(&c->pnew, &c->npnew, &c->cpnew, (uint32_t)s)))
			return s < 0 ? s : -ENOMEM;
		cc->servers[i].slot = (uint32_t)s;
	}
	return 0;
}

/* Before compiling t: slots for the pools it stages, and the list of slots their replaced versions
 * hold that nothing in t keeps (released by health_commit). */
static int health_prepare_pools(struct sl_ctl *c, struct sl_txn *t)
{
	c->npnew = c->nprel = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		struct sl_txn_ent *te = &t->ents[i];
		if (te->node->type == SL_T_POOL && te->ver &&
		    pool_assign(c, json_string_value(json_object_get(te->ver->data, "name")) ?: "", te->ver->cc))
			return -ENOSPC;
	}
	for (uint32_t i = 0; i < t->n; i++) {
		struct sl_node *n = t->ents[i].node;
		if (n->type != SL_T_POOL || !n->cur || n->cur == t->ents[i].ver)
			continue;
		struct sl_cc_pool *cc = n->cur->cc;
		for (uint32_t k = 0; k < cc->n_servers; k++) {
			uint32_t s = cc->servers[k].slot;
			if (s != SL_GEN_NONE && c->hmark[s] != c->hround && c->hkind[s] == HK_POOL &&
			    u32_push(&c->prel, &c->nprel, &c->cprel, s))
				return -ENOMEM;
		}
	}
	return 0;
}

static bool txn_has(const struct sl_txn *t, int type)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->ents[i].node->type == type)
			return true;
	return false;
}

/* Give every member of every GSLB service (in the transaction view) a slot before compiling. */
static int health_prepare_gslb(struct sl_ctl *c)
{
	for (uint32_t s = 0; s < c->m.n_slots[SL_T_GSLB]; s++) {
		struct sl_node *n = c->m.slots[SL_T_GSLB][s];
		struct sl_ver *v = n ? sl_node_view(n) : NULL;
		if (!v)
			continue;
		const char *name = sl_node_name(n);
		size_t i, j;
		json_t *g, *mb;
		json_array_foreach(json_object_get(v->data, "groups"), i, g) {
			json_array_foreach(json_object_get(g, "members"), j, mb) {
				struct in_addr a;
				const char *s2 = json_string_value(json_object_get(json_object_get(mb, "ip"), "addr"));
				if (s2 && inet_pton(AF_INET, s2, &a) == 1 && health_slot(c, name, a.s_addr) < 0)
					return -ENOSPC;
			}
		}
	}
	return 0;
}

/* t == NULL: the whole model (start-up). */
static int health_prepare(struct sl_ctl *c, struct sl_txn *t)
{
	c->hround++;
	if (!t) {
		c->npnew = c->nprel = 0;
		for (uint32_t s = 0; s < c->m.n_slots[SL_T_POOL]; s++) {
			struct sl_node *n = c->m.slots[SL_T_POOL][s];
			struct sl_ver *v = n ? sl_node_view(n) : NULL;
			if (v && pool_assign(c, sl_node_name(n) ?: "", v->cc))
				return -ENOSPC;
		}
		return health_prepare_gslb(c);
	}
	if (health_prepare_pools(c, t))
		return -ENOSPC;
	return txn_has(t, SL_T_GSLB) ? health_prepare_gslb(c) : 0;
}

/* The transaction did not happen: slots it created go back. */
static void health_abort(struct sl_ctl *c)
{
	for (uint32_t i = 0; i < c->npnew; i++)
		if (c->hkind[c->pnew[i]] == HK_POOL)
			slot_free(c, c->pnew[i]);
	c->npnew = c->nprel = 0;
}

/* After a commit: slots the new generation does not use go back to the free list (a freed slot is
 * only handed out again by a later generation, and starts "up"). GSLB member slots are swept only
 * when GSLB services were prepared this round. */
static void health_commit(struct sl_ctl *c, bool swept_gslb)
{
	for (uint32_t i = 0; i < c->nprel; i++)
		if (c->hkind[c->prel[i]] == HK_POOL && c->hmark[c->prel[i]] != c->hround)
			slot_free(c, c->prel[i]);
	c->npnew = c->nprel = 0;
	if (!swept_gslb)
		return;
	for (uint32_t s = 0; s < c->hnext; s++)
		if (c->hkind[s] == HK_GSLB && c->hmark[s] != c->hround)
			slot_free(c, s);
}

/* Monitors of an object version: its health_monitor_refs as healthmonitor object slots. */
static unsigned ver_monitors(const struct sl_ver *v, uint32_t *out, unsigned max)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < v->n_refs && n < max; i++) {
		const struct sl_node *r = v->refs[i];
		bool dup = false;
		if (r->type != SL_T_HM)
			continue;
		for (unsigned k = 0; k < n; k++)
			dup |= out[k] == r->slot;
		if (!dup)
			out[n++] = r->slot;
	}
	return n;
}

/* Point the monitors at what node n (pool or GSLB service, committed) now holds. */
static void hm_sync_node(struct sl_ctl *c, struct sl_node *n)
{
	uint32_t ms[64];
	unsigned nm = ver_monitors(n->cur, ms, 64);
	if (n->type == SL_T_POOL) {
		const struct sl_cc_pool *cc = n->cur->cc;
		for (uint32_t i = 0; i < cc->n_servers; i++) {
			const struct sl_gen_server *sv = &cc->servers[i];
			if (sv->slot != SL_GEN_NONE)
				sl_hm_targets(c->hm, sv->slot, sv->ip, sv->port, ms, sv->enabled ? nm : 0);
		}
		return;
	}
	/* GSLB members: checked on the monitor's port (monitor_port or the type's default) */
	bool off = json_is_true(json_object_get(n->cur->data, "hm_off"));
	size_t i, j;
	json_t *g, *mb;
	json_array_foreach(json_object_get(n->cur->data, "groups"), i, g) {
		json_array_foreach(json_object_get(g, "members"), j, mb) {
			struct in_addr a;
			const char *ip = json_string_value(json_object_get(json_object_get(mb, "ip"), "addr"));
			int s = ip && inet_pton(AF_INET, ip, &a) == 1 ? health_find(c, n->name, a.s_addr) : -1;
			json_t *en = json_object_get(mb, "enabled");
			if (s >= 0)
				sl_hm_targets(c->hm, (uint32_t)s, a.s_addr, 0, ms, off || json_is_false(en) ? 0 : nm);
		}
	}
}

struct hm_ent { struct sl_node *n; uint32_t slot; int type; bool del; };

/* What a transaction changes for the monitors, taken before the commit frees its entries (and the
 * nodes it deletes). NULL with *n = 0 when nothing. */
static struct hm_ent *hm_ents(const struct sl_txn *t, uint32_t *n)
{
	*n = 0;
	struct hm_ent *v = NULL;
	for (uint32_t i = 0; i < t->n; i++) {
		int ty = t->ents[i].node->type;
		if (ty != SL_T_HM && ty != SL_T_POOL && ty != SL_T_GSLB)
			continue;
		if (!v && !(v = malloc(t->n * sizeof(*v))))
			return NULL;
		v[(*n)++] = (struct hm_ent){ t->ents[i].node, t->ents[i].node->slot, ty, !t->ents[i].ver };
	}
	return v;
}

/* After a commit (ents NULL: the whole model at start-up): monitors first, then what they check. */
static void hm_sync(struct sl_ctl *c, const struct hm_ent *ents, uint32_t n_ents)
{
	if (!ents) {
		for (uint32_t s = 0; s < c->m.n_slots[SL_T_HM]; s++) {
			struct sl_node *n = c->m.slots[SL_T_HM][s];
			if (n && n->cur)
				sl_hm_monitor_set(c->hm, n->slot, n->name, n->cur->data);
		}
		static const int tys[] = { SL_T_POOL, SL_T_GSLB };
		for (int k = 0; k < 2; k++)
			for (uint32_t s = 0; s < c->m.n_slots[tys[k]]; s++) {
				struct sl_node *n = c->m.slots[tys[k]][s];
				if (n && n->cur)
					hm_sync_node(c, n);
			}
		return;
	}
	for (uint32_t i = 0; i < n_ents; i++)
		if (ents[i].type == SL_T_HM)
			sl_hm_monitor_set(c->hm, ents[i].slot, ents[i].del ? NULL : ents[i].n->name,
					  ents[i].del ? NULL : ents[i].n->cur->data);
	for (uint32_t i = 0; i < n_ents; i++)
		if (ents[i].type != SL_T_HM && !ents[i].del)
			hm_sync_node(c, ents[i].n);
}

/* ---------------- applying changes ---------------- */
static void publish(struct sl_ctl *c, struct sl_gen *g)
{
	if (c->hooks.publish) {
		int rc = c->hooks.publish(c->hooks.arg, g);
		if (rc) {
			fprintf(stderr, "sluice: control: publish of generation %llu failed: %s\n", (unsigned long long)g->id,
				strerror(-rc));
			sl_gen_free(g);
			c->cur_gen = NULL;   /* the engine keeps the old one; do not patch from it any more */
			return;
		}
	} else {
		sl_gen_free(c->own_gen);
		c->own_gen = g;
	}
	c->published = g->id;
	c->cur_gen = g;
}

static int apply_txn(struct sl_ctl *c, struct sl_txn *t, bool persist, struct sl_err *e)
{
	uint64_t t0 = now_us();
	if (sl_txn_validate(t, e))
		goto fail;
	if (sl_txn_noop(t)) {
		/* PATCH {} or a PUT of the stored object: no generation, nothing persisted or published
		   (which would also move DNS serials); the caller answers with the current objects */
		sl_txn_abort(t);
		return 0;
	}
	bool gslb = txn_has(t, SL_T_GSLB);
	if (health_prepare(c, t)) {
		sl_err_set(e, 422, "capacity", "", "health table is full");
		goto fail;
	}
	struct sl_gen_build_ctx bc = { c->n_workers, c->health, health_slot, c };
	struct sl_gen *g = sl_gen_build(&c->m, t->gen, &bc, c->cur_gen, t, e);
	if (!g)
		goto fail;
	if (persist) {
		json_t *rec = sl_txn_record(t);
		int rc = rec ? sl_persist_append(&c->ps, rec) : -ENOMEM;
		json_decref(rec);
		if (rc) {
			sl_gen_free(g);
			sl_err_set(e, 500, "persist_failed", "", "cannot write the state journal: %s", strerror(-rc));
			goto fail;
		}
	}
	uint32_t nhe;
	struct hm_ent *he = hm_ents(t, &nhe);
	sl_txn_commit(t);
	health_commit(c, gslb);
	if (he)
		hm_sync(c, he, nhe);
	free(he);
	publish(c, g);
	/* compact when the journal outgrows twice the snapshot (and a floor), so replay stays cheap while a
	   big macro does not pay for writing its bytes twice */
	size_t thr = 2 * c->ps.snapshot_bytes > c->snapshot_min ? 2 * c->ps.snapshot_bytes : c->snapshot_min;
	if (persist && c->ps.journal_bytes > thr) {
		json_t *objs = sl_model_dump(&c->m);
		int rc = sl_persist_snapshot(&c->ps, objs, c->m.gen);
		json_decref(objs);
		if (rc)   /* the journal still holds everything: not fatal */
			fprintf(stderr, "sluice: control: snapshot failed: %s\n", strerror(-rc));
	}
	uint64_t dt = now_us() - t0;
	c->n_applies++;
	c->apply_us_sum += dt;
	if (dt > c->apply_us_max)
		c->apply_us_max = dt;
	return 0;
fail:
	health_abort(c);
	sl_txn_abort(t);
	c->n_rejects++;
	return -1;
}

/* ---------------- start-up ---------------- */
/* Avi's built-in System-Default-Cert (RSA) and System-Default-Cert-EC, which AKO attaches to shared
   parents: generated self-signed the first time the state dir lacks them and journalled like any
   object, so they survive restarts and an operator can PUT a real certificate over them. Deleted (when
   nothing refers to them), they come back at the next start, as they are always there on Avi. */
static int default_certs(struct sl_ctl *c, char *err, size_t errlen)
{
	static const struct { const char *name; bool ec; } dc[] = { { "System-Default-Cert", false },
								    { "System-Default-Cert-EC", true } };
	for (size_t i = 0; i < sizeof(dc) / sizeof(dc[0]); i++) {
		if (sl_model_find(&c->m, SL_T_CERT, dc[i].name))
			continue;
		char *pem, *key;
		int rc = sl_cert_selfsigned(dc[i].name, dc[i].ec, &pem, &key);
		if (rc) {
			snprintf(err, errlen, "%s: cannot generate %s: %s", c->state_dir, dc[i].name, strerror(-rc));
			return rc;
		}
		json_t *o = json_pack("{s:s, s:s, s:{s:s, s:b}, s:s}", "name", dc[i].name, "type",
				      "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE", "certificate", "certificate", pem, "self_signed", 1,
				      "key", key);
		free(pem);
		free(key);
		struct sl_txn t;
		struct sl_err e;
		sl_txn_begin(&t, &c->m);
		rc = o ? sl_txn_op(&t, SL_OP_CREATE, SL_T_CERT, NULL, o, NULL, "", &e) : -ENOMEM;
		json_decref(o);
		if (!rc && sl_txn_validate(&t, &e))
			rc = -EINVAL;
		json_t *rec = rc ? NULL : sl_txn_record(&t);
		if (!rc)
			rc = rec ? sl_persist_append(&c->ps, rec) : -ENOMEM;
		json_decref(rec);
		if (rc) {
			sl_txn_abort(&t);
			snprintf(err, errlen, "%s: cannot store %s: %s", c->state_dir, dc[i].name,
				 rc == -EINVAL ? e.detail : strerror(-rc));
			return rc < 0 ? rc : -EINVAL;
		}
		sl_txn_commit(&t);
	}
	return 0;
}

static int load_state(struct sl_ctl *c, char *err, size_t errlen)
{
	json_t *objs, *recs;
	uint64_t snap_gen;
	int rc = sl_persist_load(&c->ps, c->state_dir, &objs, &snap_gen, &recs, err, errlen);
	if (rc) {
		json_decref(objs);
		json_decref(recs);
		return rc;
	}
	struct sl_err e;
	struct sl_txn t;
	c->m.gen = 1;
	if (objs) {
		sl_txn_begin(&t, &c->m);
		t.loading = true;
		t.gen = snap_gen;
		for (int ty = 0; ty < SL_T__N && !rc; ty++) {
			size_t i;
			json_t *o;
			json_array_foreach(json_object_get(objs, sl_types[ty].name), i, o) {
				char path[96];
				snprintf(path, sizeof(path), "objects.%s[%zu]", sl_types[ty].name, i);
				if ((rc = sl_txn_op(&t, SL_OP_CREATE, ty, NULL, o, NULL, path, &e)))
					break;
			}
		}
		if (rc)
			sl_txn_abort(&t);
		if (rc || sl_txn_validate(&t, &e)) {
			if (!rc)
				sl_txn_abort(&t);
			snprintf(err, errlen, "%s/config.json: %s: %s (%s); refusing to start", c->state_dir, e.path, e.detail,
				 e.error);
			rc = -EINVAL;
		} else {
			sl_txn_commit(&t);
			c->m.gen = snap_gen;
		}
	}
	size_t ri;
	json_t *r;
	json_array_foreach(recs, ri, r) {
		if (rc)
			break;
		sl_txn_begin(&t, &c->m);
		t.loading = true;
		t.gen = (uint64_t)json_integer_value(json_object_get(r, "gen"));
		size_t i;
		json_t *op;
		json_array_foreach(json_object_get(r, "ops"), i, op) {
			int ty = sl_type_by_name(json_string_value(json_object_get(op, "type")) ?: "");
			const char *o = json_string_value(json_object_get(op, "op"));
			json_t *obj = json_object_get(op, "obj");
			const char *uuid = json_string_value(json_object_get(ty >= 0 && obj ? obj : op, "uuid"));
			if (ty < 0 || !o || !uuid) {
				rc = sl_err_set(&e, 400, "corrupt", "", "malformed journal operation %zu", i);
				break;
			}
			if (!strcmp(o, "del"))
				rc = sl_txn_op(&t, SL_OP_DELETE, ty, uuid, NULL, NULL, "", &e);
			else if (sl_model_find(&c->m, ty, uuid) || sl_hmap_get(&c->m.by_uuid, uuid))
				rc = sl_txn_op(&t, SL_OP_REPLACE, ty, uuid, obj, NULL, "", &e);
			else
				rc = sl_txn_op(&t, SL_OP_CREATE, ty, NULL, obj, NULL, "", &e);
			if (rc)
				break;
		}
		if (!rc && sl_txn_validate(&t, &e))
			rc = -1;
		if (rc) {
			sl_txn_abort(&t);
			snprintf(err, errlen, "%s/journal: record for generation %llu does not apply: %s: %s; refusing to start",
				 c->state_dir, (unsigned long long)json_integer_value(json_object_get(r, "gen")), e.path,
				 e.detail);
			rc = -EINVAL;
			break;
		}
		sl_txn_commit(&t);
	}
	json_decref(objs);
	json_decref(recs);
	if (rc)
		return rc;
	if (c->m.gen == 0)
		c->m.gen = 1;
	if (c->default_certs && (rc = default_certs(c, err, errlen)))
		return rc;
	/* first generation */
	if (health_prepare(c, NULL)) {
		snprintf(err, errlen, "%s: the stored configuration needs more than %u health slots", c->state_dir,
			 SL_MAX_HEALTH);
		return -ENOSPC;
	}
	struct sl_gen_build_ctx bc = { c->n_workers, c->health, health_slot, c };
	struct sl_gen *g = sl_gen_build(&c->m, c->m.gen, &bc, NULL, NULL, &e);
	if (!g) {
		snprintf(err, errlen, "%s: cannot compile the stored configuration: %s: %s", c->state_dir, e.path, e.detail);
		return -EINVAL;
	}
	health_commit(c, true);
	hm_sync(c, NULL, 0);
	publish(c, g);
	return 0;
}

static int listen_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	char dir[sizeof(sa.sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	char *sl = strrchr(dir, '/');
	if (sl && sl != dir) {
		*sl = 0;
		if (mkdir(dir, 0755) && errno != EEXIST) {
			snprintf(err, errlen, "%s: cannot create socket directory: %s", dir, strerror(errno));
			return -errno;
		}
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			close(fd);
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			close(fd);
			snprintf(err, errlen, "%s: another control plane is already listening", path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);   /* stale socket of a dead process */
	}
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc || chmod(path, 0600) || listen(fd, 128)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

struct sl_ctl *sl_ctl_create(const struct sl_ctl_conf *conf, const struct sl_ctl_hooks *hooks, char *err, size_t errlen)
{
	struct sl_ctl *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->lfd = c->epfd = -1;
	c->ps.jfd = -1;
	c->sock_path = strdup(conf && conf->sock_path ? conf->sock_path : SL_CTL_DEFAULT_SOCK);
	c->state_dir = strdup(conf && conf->state_dir ? conf->state_dir : SL_CTL_DEFAULT_STATE);
	c->n_workers = conf ? conf->n_workers : 1;
	c->default_certs = conf && conf->default_certs;
	if (hooks)
		c->hooks = *hooks;
	c->hfree = malloc(SL_MAX_HEALTH * sizeof(uint32_t));
	c->snapshot_min = 16u << 20;
	if (getenv("SLUICE_SNAPSHOT_MIN_BYTES"))
		c->snapshot_min = (size_t)strtoull(getenv("SLUICE_SNAPSHOT_MIN_BYTES"), NULL, 10);
	memset(c->health, 1, sizeof(c->health));
	sl_hmap_init(&c->hslots);
	struct sl_hm_hooks hh = { c->hooks.arg, c->hooks.hm_submit, c->hooks.hm_collect };
	c->hm = sl_hm_create(c->health, c->n_workers, &hh);
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	if (!c->sock_path || !c->state_dir || !c->hfree || !c->hm || sl_model_init(&c->m)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (load_state(c, err, errlen))
		goto fail;
	c->lfd = listen_socket(c->sock_path, err, errlen);
	if (c->lfd < 0)
		goto fail;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (c->epfd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ev)) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail;
	}
	return c;
fail:
	sl_ctl_destroy(c);
	return NULL;
}

static void conn_close(struct sl_ctl *c, struct conn *cn)
{
	close(cn->fd);
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		c->conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	free(cn->in);
	free(cn->out);
	free(cn);
	c->n_conns--;
}

void sl_ctl_destroy(struct sl_ctl *c)
{
	if (!c)
		return;
	while (c->conns)
		conn_close(c, c->conns);
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink(c->sock_path);
	}
	if (c->epfd >= 0)
		close(c->epfd);
	sl_gen_free(c->own_gen);
	sl_model_free(&c->m);
	sl_persist_close(&c->ps);
	for (uint32_t s = 0; s < c->hnext; s++)
		free(c->hkey[s]);
	sl_hmap_free(&c->hslots);
	free(c->hfree);
	free(c->pnew);
	free(c->prel);
	sl_hm_destroy(c->hm);
	free(c->sock_path);
	free(c->state_dir);
	free(c);
}

const volatile uint8_t *sl_ctl_health(struct sl_ctl *c)
{
	return c->health;
}

int sl_ctl_fd(struct sl_ctl *c)
{
	return c->epfd;
}

uint64_t sl_ctl_generation(struct sl_ctl *c)
{
	return c->published;
}

/* ---------------- responses ---------------- */
struct resp {
	int status;
	json_t *body;
	char *text;            /* non-JSON body (metrics), malloc'd */
	size_t text_len;
	char etag[32];
	bool gen_hdr;
};

static const char *reason(int s)
{
	switch (s) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

static void resp_err(struct resp *r, const struct sl_err *e)
{
	r->status = e->status;
	r->body = json_pack("{s:s, s:s, s:s}", "error", e->error, "path", e->path, "detail", e->detail);
	if (!r->body)   /* a detail quoting invalid UTF-8 input */
		r->body = json_pack("{s:s, s:s, s:s}", "error", e->error, "path", "", "detail",
				    "(detail not representable as UTF-8)");
}

static void resp_errf(struct resp *r, int status, const char *error, const char *detail)
{
	struct sl_err e;
	sl_err_set(&e, status, error, "", "%s", detail);
	resp_err(r, &e);
}

static int out_reserve(struct conn *cn, size_t n)
{
	if (cn->out_len + n <= cn->out_cap)
		return 0;
	size_t nc = cn->out_cap ? cn->out_cap : 4096;
	while (nc < cn->out_len + n)
		nc *= 2;
	char *p = realloc(cn->out, nc);
	if (!p)
		return -ENOMEM;
	cn->out = p;
	cn->out_cap = nc;
	return 0;
}

static void out_append(struct conn *cn, const char *s, size_t n)
{
	if (out_reserve(cn, n)) {
		cn->closing = true;
		return;
	}
	memcpy(cn->out + cn->out_len, s, n);
	cn->out_len += n;
}

static void send_resp(struct sl_ctl *c, struct conn *cn, struct resp *r, bool head_only, bool keep_alive)
{
	char *body = r->text;
	size_t blen = r->text_len;
	const char *ctype = "text/plain; version=0.0.4";
	if (r->body) {
		/* pretty for people, compact for bulk answers (a 10,000-VS macro echoes megabytes) */
		json_t *res = json_is_array(r->body) ? r->body : json_object_get(r->body, "results");
		size_t flags = json_array_size(res) > 64 ? JSON_COMPACT : JSON_INDENT(2);
		body = json_dumps(r->body, flags | JSON_PRESERVE_ORDER);
		blen = body ? strlen(body) : 0;
		ctype = "application/json";
		if (body) {
			char *nb = realloc(body, blen + 2);
			if (nb) {
				body = nb;
				body[blen++] = '\n';
			}
		}
	}
	if (r->status == 204)
		blen = 0;
	char hdr[512];
	int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s%s%s%s", r->status,
			 reason(r->status), blen, blen ? "Content-Type: " : "", blen ? ctype : "", blen ? "\r\n" : "",
			 r->etag[0] ? "ETag: " : "", r->etag);
	if (r->etag[0])
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, "\r\n");
	if (r->gen_hdr)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, "X-Sluice-Generation: %llu\r\n",
			      (unsigned long long)c->published);
	n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, "Connection: %s\r\n\r\n", keep_alive ? "keep-alive" : "close");
	out_append(cn, hdr, (size_t)n);
	if (!head_only && blen)
		out_append(cn, body, blen);
	if (body != r->text)
		free(body);
	free(r->text);
	json_decref(r->body);
	r->text = NULL;
	r->body = NULL;
}

/* ---------------- API ---------------- */
/* Decoded names are refused rather than cut: "victim%00zzz" must not name "victim". */
static void resp_bad_name(struct resp *rs, int rc, const char *where);

/* 1 and out set when key is in the query, 0 when not, -errno of sl_http_pct_decode. */
static int query_get(const struct sl_http_req *r, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	const char *q = r->query, *end = r->query ? r->query + r->query_len : NULL;
	while (q && q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *e = amp ? amp : end;
		if ((size_t)(e - q) > kl && !strncmp(q, key, kl) && q[kl] == '=') {
			int rc = sl_http_pct_decode(q + kl + 1, (size_t)(e - q - kl - 1), out, cap);
			return rc < 0 ? rc : 1;
		}
		q = amp ? amp + 1 : NULL;
	}
	return 0;
}

static json_t *parse_body(const char *body, size_t len, struct resp *rs)
{
	json_error_t je;
	if (!len) {
		resp_errf(rs, 400, "invalid_json", "a JSON body is required");
		return NULL;
	}
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		char d[300];
		snprintf(d, sizeof(d), "line %d column %d: %s", je.line, je.column, je.text);
		resp_errf(rs, 400, "invalid_json", d);
	}
	return j;
}

static void set_obj_resp(struct resp *rs, int status, struct sl_node *n)
{
	rs->status = status;
	rs->body = json_incref(n->cur->data);
	sl_etag(n->cur, rs->etag, sizeof(rs->etag));
	rs->gen_hdr = true;
}

static void api_object_write(struct sl_ctl *c, const char *method, int type, const char *id, const struct sl_http_req *r,
			     const char *body, size_t blen, struct resp *rs)
{
	struct sl_err e;
	struct sl_txn t;
	json_t *j = NULL;
	enum sl_op op = !strcmp(method, "POST") ? SL_OP_CREATE : !strcmp(method, "PUT") ? SL_OP_REPLACE
		      : !strcmp(method, "PATCH") ? SL_OP_PATCH : SL_OP_DELETE;
	if (op != SL_OP_DELETE && !(j = parse_body(body, blen, rs)))
		return;
	sl_txn_begin(&t, &c->m);
	if (sl_txn_op(&t, op, type, id, j, r->if_match[0] ? r->if_match : NULL, "", &e)) {
		sl_txn_abort(&t);
		c->n_rejects++;
		json_decref(j);
		resp_err(rs, &e);
		return;
	}
	char uuid[64] = "";
	if (op != SL_OP_DELETE)
		snprintf(uuid, sizeof(uuid), "%s", t.ents[0].node->uuid);
	json_decref(j);
	if (apply_txn(c, &t, true, &e)) {
		resp_err(rs, &e);
		return;
	}
	if (op == SL_OP_DELETE) {
		rs->status = 204;
		rs->gen_hdr = true;
		return;
	}
	set_obj_resp(rs, op == SL_OP_CREATE ? 201 : 200, sl_hmap_get(&c->m.by_uuid, uuid));
}

static void api_macro(struct sl_ctl *c, const char *method, const char *body, size_t blen, struct resp *rs)
{
	json_t *j = parse_body(body, blen, rs);
	if (!j)
		return;
	bool list = json_is_array(j);
	if (!list && !json_is_object(j)) {
		json_decref(j);
		return resp_errf(rs, 400, "invalid_type", "expected {\"model_name\":...,\"data\":{...}} or a list of them");
	}
	if (list && json_array_size(j) == 0) {
		json_decref(j);
		return resp_errf(rs, 400, "invalid_value", "empty macro");
	}
	struct sl_txn t;
	struct sl_err e;
	sl_txn_begin(&t, &c->m);
	size_t n = list ? json_array_size(j) : 1;
	json_t *order = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *it = list ? json_array_get(j, i) : j;
		char pre[32], p2[64];
		pre[0] = 0;
		if (list)
			snprintf(pre, sizeof(pre), "[%zu]", i);
		json_t *mn = json_object_get(it, "model_name"), *data = json_object_get(it, "data");
		int type = json_is_string(mn) ? sl_type_by_name(json_string_value(mn)) : -1;
		int rc = 0;
		if (!json_is_object(it)) {
			rc = sl_err_set(&e, 400, "invalid_type", pre, "expected {\"model_name\":...,\"data\":{...}}");
		} else if (type < 0) {
			snprintf(p2, sizeof(p2), "%s%smodel_name", pre, pre[0] ? "." : "");
			rc = sl_err_set(&e, 400, mn ? "invalid_enum" : "missing_field", p2, "unknown or missing model_name");
		} else if (!json_is_object(data)) {
			snprintf(p2, sizeof(p2), "%s%sdata", pre, pre[0] ? "." : "");
			rc = sl_err_set(&e, 400, "invalid_type", p2, "data must be an object");
		} else {
			const char *k;
			json_t *v;
			json_object_foreach(it, k, v) {
				if (strcmp(k, "model_name") && strcmp(k, "data")) {
					snprintf(p2, sizeof(p2), "%s%s%.32s", pre, pre[0] ? "." : "", k);
					rc = sl_err_set(&e, 400, "unknown_field", p2, "macro items have only model_name and data");
					break;
				}
			}
		}
		if (!rc) {
			snprintf(p2, sizeof(p2), "%s%sdata", pre, pre[0] ? "." : "");
			const char *id = json_string_value(json_object_get(data, "uuid"));
			if (!id)
				id = json_string_value(json_object_get(data, "name"));
			enum sl_op op = SL_OP_CREATE;
			if (!strcmp(method, "DELETE"))
				op = SL_OP_DELETE;
			else if (!strcmp(method, "PUT")) {
				/* PUT upserts, so re-applying a file is idempotent */
				struct sl_node *ex = id ? sl_model_find(&c->m, type, id) : NULL;
				bool staged = false;
				for (uint32_t k = 0; id && k < t.n; k++)
					if (t.ents[k].node->type == type && t.ents[k].ver &&
					    !strcmp(sl_node_name(t.ents[k].node), id))
						staged = true;
				op = (ex && (!ex->in_txn || ex->txn_ver)) || staged ? SL_OP_REPLACE : SL_OP_CREATE;
			}
			rc = sl_txn_op(&t, op, type, op == SL_OP_CREATE ? NULL : id, data, NULL, p2, &e);
			if (!rc)
				json_array_append_new(order, json_pack("{s:i, s:s}", "t", type,
								       "u", t.ents[t.n - 1].node->uuid));
		}
		if (rc) {
			sl_txn_abort(&t);
			c->n_rejects++;
			json_decref(j);
			json_decref(order);
			return resp_err(rs, &e);
		}
	}
	json_decref(j);
	if (apply_txn(c, &t, true, &e)) {
		json_decref(order);
		return resp_err(rs, &e);
	}
	json_t *res = json_array();
	size_t i;
	json_t *o;
	json_array_foreach(order, i, o) {
		const char *u = json_string_value(json_object_get(o, "u"));
		struct sl_node *nd = sl_hmap_get(&c->m.by_uuid, u);
		if (nd && nd->cur)
			json_array_append(res, nd->cur->data);
		else
			json_array_append_new(res, json_pack("{s:s, s:b}", "uuid", u, "deleted", 1));
	}
	json_decref(order);
	rs->status = 200;
	rs->body = res;
	rs->gen_hdr = true;
}

static double uptime_s(struct sl_ctl *c)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - c->started.tv_sec) + (double)(ts.tv_nsec - c->started.tv_nsec) / 1e9;
}

static void api_status(struct sl_ctl *c, struct resp *rs)
{
	json_t *objs = json_object();
	for (int t = 0; t < SL_T__N; t++)
		json_object_set_new(objs, sl_types[t].name, json_integer(c->m.n_objs[t]));
	rs->status = 200;
	rs->body = json_pack("{s:s, s:f, s:i, s:I, s:s, s:s, s:o, s:{s:I, s:I, s:I, s:I}}", "version", SL_VERSION,
			     "uptime_s", uptime_s(c), "workers", (int)c->n_workers, "generation", (json_int_t)c->published,
			     "socket", c->sock_path, "state_dir", c->state_dir, "objects", objs, "control", "requests",
			     (json_int_t)c->n_requests, "applies", (json_int_t)c->n_applies, "rejects",
			     (json_int_t)c->n_rejects, "apply_us_max", (json_int_t)c->apply_us_max);
	json_object_set_new(rs->body, "health_monitors", sl_hm_status(c->hm));
	json_object_set_new(rs->body, "health_slots", json_pack("{s:I, s:I}", "used", (json_int_t)(c->hnext - c->hnfree),
								 "capacity", (json_int_t)SL_MAX_HEALTH));
}

static void api_stats(struct sl_ctl *c, struct resp *rs)
{
	json_t *o = json_pack("{s:I, s:{}, s:{}, s:{}}", "generation", (json_int_t)c->published, "ports", "workers", "drops");
	if (c->hooks.stats && c->hooks.stats(c->hooks.arg, o)) {
		json_decref(o);
		return resp_errf(rs, 500, "internal", "the engine could not report statistics");
	}
	rs->status = 200;
	rs->body = o;
}

static int mprintf(char **buf, size_t *len, size_t *cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int mprintf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return 0;
		}
		size_t nc = *cap * 2 + (size_t)n;
		char *p = realloc(*buf, nc);
		if (!p)
			return -ENOMEM;
		*buf = p;
		*cap = nc;
	}
}

/* Per-member health and answers of every GSLB service; names and IPs
 * are validated, so they go into label values as they are. */
static void gslb_metrics(struct sl_ctl *c, char **b, size_t *len, size_t *cap)
{
	for (uint32_t k = 0; k < c->m.n_slots[SL_T_GSLB]; k++) {
		struct sl_node *n = c->m.slots[SL_T_GSLB][k];
		size_t i, j;
		json_t *g, *mb;

		if (!n || !n->cur)
			continue;
		json_array_foreach(json_object_get(n->cur->data, "groups"), i, g) {
			json_array_foreach(json_object_get(g, "members"), j, mb) {
				const char *ip = json_string_value(json_object_get(json_object_get(mb, "ip"), "addr"));
				struct in_addr a;
				int s = ip && inet_pton(AF_INET, ip, &a) == 1 ? health_find(c, n->name, a.s_addr) : -1;

				if (s < 0)
					continue;
				mprintf(b, len, cap, "sluice_gslb_member_up{gslb=\"%s\",member=\"%s\"} %d\n", n->name, ip,
					c->health[s] ? 1 : 0);
				if (c->hooks.member_answers)
					mprintf(b, len, cap,
						"sluice_gslb_member_answers_total{gslb=\"%s\",member=\"%s\"} %llu\n",
						n->name, ip,
						(unsigned long long)c->hooks.member_answers(c->hooks.arg, (uint32_t)s));
			}
		}
	}
}

static void api_metrics(struct sl_ctl *c, struct resp *rs)
{
	size_t cap = 4096, len = 0;
	char *b = malloc(cap);
	if (!b)
		return resp_errf(rs, 500, "internal", "out of memory");
	b[0] = 0;
	mprintf(&b, &len, &cap,
		"# HELP sluice_config_generation Id of the published configuration generation.\n"
		"# TYPE sluice_config_generation gauge\nsluice_config_generation %llu\n"
		"# TYPE sluice_control_requests_total counter\nsluice_control_requests_total %llu\n"
		"# TYPE sluice_control_applies_total counter\nsluice_control_applies_total %llu\n"
		"# TYPE sluice_control_rejects_total counter\nsluice_control_rejects_total %llu\n"
		"# TYPE sluice_control_apply_seconds_sum counter\nsluice_control_apply_seconds_sum %.6f\n"
		"# TYPE sluice_uptime_seconds gauge\nsluice_uptime_seconds %.3f\n"
		"# TYPE sluice_config_objects gauge\n",
		(unsigned long long)c->published, (unsigned long long)c->n_requests, (unsigned long long)c->n_applies,
		(unsigned long long)c->n_rejects, (double)c->apply_us_sum / 1e6, uptime_s(c));
	for (int t = 0; t < SL_T__N; t++)
		mprintf(&b, &len, &cap, "sluice_config_objects{type=\"%s\"} %u\n", sl_types[t].name, c->m.n_objs[t]);
	if (c->hooks.metrics)
		c->hooks.metrics(c->hooks.arg, &b, &len, &cap);
	gslb_metrics(c, &b, &len, &cap);
	uint32_t nt, nd;
	uint64_t sent, skipped;
	sl_hm_metrics(c->hm, &nt, &nd, &sent, &skipped);
	mprintf(&b, &len, &cap,
		"# TYPE sluice_health_targets gauge\nsluice_health_targets %u\n"
		"# TYPE sluice_health_targets_down gauge\nsluice_health_targets_down %u\n"
		"# TYPE sluice_health_probes_total counter\nsluice_health_probes_total %llu\n"
		"# TYPE sluice_health_probes_skipped_total counter\nsluice_health_probes_skipped_total %llu\n",
		nt, nd, (unsigned long long)sent, (unsigned long long)skipped);
	rs->status = 200;
	rs->text = b;
	rs->text_len = len;
}

static void api_vs_runtime(struct sl_ctl *c, struct sl_node *n, struct resp *rs)
{
	struct sl_cc_vs *cc = n->cur->cc;
	const char *state = "OPER_UP", *reason_s = "";
	if (!cc->enabled) {
		state = "OPER_DISABLED";
		reason_s = "virtual service is disabled";
	} else if (cc->app_type != SL_APP_DNS && cc->vs_type != SL_VS_VH_PARENT && !cc->pool && !cc->poolgroup &&
		   !json_array_size(json_object_get(n->cur->data, "http_policies")) &&
		   !json_array_size(json_object_get(n->cur->data, "vs_datascripts"))) {
		state = "OPER_DOWN";
		reason_s = "no pool or pool group";
	} else if (cc->pool) {
		struct sl_cc_pool *pc = cc->pool->cur->cc;
		uint32_t up = 0;
		for (uint32_t i = 0; i < pc->n_servers; i++)
			up += pc->servers[i].enabled;
		if (!up || !pc->enabled) {
			state = "OPER_DOWN";
			reason_s = "pool has no enabled server";
		}
	}
	json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:{s:s, s:s}}", "name", n->name, "uuid", n->uuid, "slot", (int)n->slot,
			      "generation", (json_int_t)c->published, "oper_status", "state", state, "reason", reason_s);
	json_t *ctr = json_object();
	if (c->hooks.vs_runtime && c->hooks.vs_runtime(c->hooks.arg, n->slot, ctr)) {
		json_decref(ctr);
		json_decref(o);
		return resp_errf(rs, 500, "internal", "the engine could not report runtime counters");
	}
	json_object_set_new(o, "counters", ctr);
	rs->status = 200;
	rs->body = o;
}

/* Servers of a pool with their health slot, state and monitors. */
static void api_pool_runtime(struct sl_ctl *c, struct sl_node *n, struct resp *rs)
{
	const struct sl_cc_pool *cc = n->cur->cc;
	json_t *arr = json_array(), *tot = json_object();
	uint32_t up = 0;
	for (uint32_t i = 0; i < cc->n_servers; i++) {
		const struct sl_gen_server *sv = &cc->servers[i];
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &sv->ip, a, sizeof(a));
		bool h = sv->slot != SL_GEN_NONE && c->health[sv->slot];
		up += h && sv->enabled;
		json_t *o = json_pack("{s:s, s:i, s:b, s:i, s:b}", "ip", a, "port", sv->port, "enabled", sv->enabled,
				      "health_slot", sv->slot == SL_GEN_NONE ? -1 : (int)sv->slot, "oper_up", h);
		json_t *hm = sv->slot != SL_GEN_NONE ? sl_hm_runtime(c->hm, sv->slot) : NULL;
		if (hm)
			json_object_set_new(o, "health", hm);
		if (c->hooks.server_runtime && sv->slot != SL_GEN_NONE) {
			json_t *ctr = json_object(), *v;
			const char *k;
			if (!c->hooks.server_runtime(c->hooks.arg, sv->slot, ctr)) {
				/* the pool's counters are its servers' sums */
				json_object_foreach(ctr, k, v) {
					json_t *acc = json_object_get(tot, k);
					if (json_is_integer(v))
						json_object_set_new(tot, k, json_integer(json_integer_value(v) +
										       (acc ? json_integer_value(acc) : 0)));
				}
				json_object_set(o, "counters", ctr);
			}
			json_decref(ctr);
		}
		json_array_append_new(arr, o);
	}
	rs->status = 200;
	rs->body = json_pack("{s:s, s:s, s:I, s:i, s:o, s:o}", "name", n->name, "uuid", n->uuid, "generation",
			     (json_int_t)c->published, "servers_up", (int)up, "servers", arr, "counters", tot);
}

static void gslb_runtime_json(struct sl_ctl *c, struct sl_node *n, struct resp *rs)
{
	json_t *mem = json_array();
	size_t i, j;
	json_t *g, *mb;
	json_array_foreach(json_object_get(n->cur->data, "groups"), i, g) {
		json_array_foreach(json_object_get(g, "members"), j, mb) {
			const char *ip = json_string_value(json_object_get(json_object_get(mb, "ip"), "addr"));
			struct in_addr a;
			int s = ip && inet_pton(AF_INET, ip, &a) == 1 ? health_find(c, n->name, a.s_addr) : -1;
			json_t *m = json_pack("{s:s, s:i, s:b}", "ip", ip ? ip : "", "health_slot", s,
					      "oper_up", s >= 0 && c->health[s]);
			json_t *hm = s >= 0 ? sl_hm_runtime(c->hm, (uint32_t)s) : NULL;
			if (hm)
				json_object_set_new(m, "health", hm);
			if (s >= 0 && c->hooks.member_answers)
				json_object_set_new(m, "answers",
						    json_integer((json_int_t)c->hooks.member_answers(c->hooks.arg,
												     (uint32_t)s)));
			json_array_append_new(mem, m);
		}
	}
	rs->status = 200;
	rs->body = json_pack("{s:s, s:s, s:o}", "name", n->name, "uuid", n->uuid, "members", mem);
}

/* Operational override of member health (no new generation): flips health bytes workers read. */
static void api_gslb_runtime_put(struct sl_ctl *c, struct sl_node *n, const char *body, size_t blen, struct resp *rs)
{
	json_t *j = parse_body(body, blen, rs);
	if (!j)
		return;
	json_t *mem = json_object_get(j, "members");
	struct sl_err e;
	int slots[256];
	uint8_t vals[256];
	size_t i;
	json_t *m;
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		if (strcmp(k, "members")) {
			sl_err_set(&e, 400, "unknown_field", k, "only \"members\" can be set");
			goto err;
		}
	}
	if (!json_is_array(mem) || json_array_size(mem) > 256) {
		sl_err_set(&e, 400, "invalid_type", "members", "expected an array of at most 256 {ip, oper_up}");
		goto err;
	}
	json_array_foreach(mem, i, m) {
		char p[64];
		const char *ip = json_string_value(json_object_get(m, "ip"));
		json_t *up = json_object_get(m, "oper_up");
		struct in_addr a;
		json_object_foreach(m, k, v) {
			if (strcmp(k, "ip") && strcmp(k, "oper_up")) {
				snprintf(p, sizeof(p), "members[%zu].%.32s", i, k);
				sl_err_set(&e, 400, "unknown_field", p, "only ip and oper_up");
				goto err;
			}
		}
		snprintf(p, sizeof(p), "members[%zu].ip", i);
		if (!ip || inet_pton(AF_INET, ip, &a) != 1) {
			sl_err_set(&e, 400, "invalid_value", p, "expected an IPv4 address");
			goto err;
		}
		if ((slots[i] = health_find(c, n->name, a.s_addr)) < 0) {
			sl_err_set(&e, 422, "not_found", p, "%s is not a member of %s", ip, n->name);
			goto err;
		}
		snprintf(p, sizeof(p), "members[%zu].oper_up", i);
		if (!json_is_boolean(up)) {
			sl_err_set(&e, 400, "invalid_type", p, "expected a boolean");
			goto err;
		}
		vals[i] = json_is_true(up);
	}
	for (i = 0; i < json_array_size(mem); i++)
		c->health[slots[i]] = vals[i];
	json_decref(j);
	return gslb_runtime_json(c, n, rs);
err:
	json_decref(j);
	resp_err(rs, &e);
}

static void resp_bad_name(struct resp *rs, int rc, const char *where)
{
	char d[160];
	if (rc == -EILSEQ)
		snprintf(d, sizeof(d), "%s holds a control character (%%00-%%1F or %%7F after decoding); names cannot", where);
	else
		snprintf(d, sizeof(d), "%s is longer than 511 bytes after decoding; no name is that long", where);
	resp_errf(rs, 400, "invalid_value", d);
}

static void handle(struct sl_ctl *c, const struct sl_http_req *r, const char *body, size_t blen, struct resp *rs)
{
	char seg[4][512];
	int ns = 0;
	const char *m = r->method;
	c->n_requests++;
	/* split on '/' before decoding would be stricter; names with '/' are rare and must be %2F-encoded */
	for (const char *p = r->path, *end = r->path + r->path_len; p < end && ns < 4;) {
		while (p < end && *p == '/')
			p++;
		if (p >= end)
			break;
		const char *q = memchr(p, '/', (size_t)(end - p));
		if (!q)
			q = end;
		int rc = sl_http_pct_decode(p, (size_t)(q - p), seg[ns++], sizeof(seg[0]));
		if (rc < 0)
			return resp_bad_name(rs, rc, "a path segment");
		p = q;
		if (ns == 4 && q < end) {
			ns = 5;
			break;
		}
	}
	bool get = !strcmp(m, "GET") || !strcmp(m, "HEAD");
	if (ns == 1 && !strcmp(seg[0], "metrics")) {
		if (!get)
			return resp_errf(rs, 405, "method_not_allowed", "GET only");
		return api_metrics(c, rs);
	}
	if (ns < 2 || ns > 4 || strcmp(seg[0], "api"))
		return resp_errf(rs, 404, "not_found", "no such endpoint");
	if (ns == 2 && !strcmp(seg[1], "status"))
		return get ? api_status(c, rs) : resp_errf(rs, 405, "method_not_allowed", "GET only");
	if (ns == 2 && !strcmp(seg[1], "stats"))
		return get ? api_stats(c, rs) : resp_errf(rs, 405, "method_not_allowed", "GET only");
	if (ns == 2 && !strcmp(seg[1], "macro")) {
		if (strcmp(m, "POST") && strcmp(m, "PUT") && strcmp(m, "DELETE"))
			return resp_errf(rs, 405, "method_not_allowed", "POST, PUT or DELETE");
		return api_macro(c, m, body, blen, rs);
	}
	int type = sl_type_by_name(seg[1]);
	if (type < 0 || strcasecmp(seg[1], sl_types[type].name))
		return resp_errf(rs, 404, "not_found", "no such object type");
	if (ns == 2) {
		if (!strcmp(m, "POST"))
			return api_object_write(c, m, type, NULL, r, body, blen, rs);
		if (!get)
			return resp_errf(rs, 405, "method_not_allowed", "GET or POST");
		char name[512];
		int by_name = query_get(r, "name", name, sizeof(name));
		if (by_name < 0)
			return resp_bad_name(rs, by_name, "the name query parameter");
		json_t *res = json_array();
		if (by_name) {
			struct sl_node *n = sl_model_find(&c->m, type, name);
			if (n && !strcmp(n->name, name))
				json_array_append(res, n->cur->data);
		} else {
			for (uint32_t s = 0; s < c->m.n_slots[type]; s++) {
				struct sl_node *n = c->m.slots[type][s];
				if (n && n->cur)
					json_array_append(res, n->cur->data);
			}
		}
		rs->status = 200;
		rs->body = json_pack("{s:i, s:o}", "count", (int)json_array_size(res), "results", res);
		return;
	}
	struct sl_node *n = sl_model_find(&c->m, type, seg[2]);
	if (ns == 4) {
		if (!n)
			return resp_errf(rs, 404, "not_found", "no such object");
		if (!strcmp(seg[3], "runtime") && type == SL_T_VS && get)
			return api_vs_runtime(c, n, rs);
		if (!strcmp(seg[3], "runtime") && type == SL_T_POOL && get)
			return api_pool_runtime(c, n, rs);
		if (!strcmp(seg[3], "runtime") && type == SL_T_GSLB && get)
			return gslb_runtime_json(c, n, rs);
		if (!strcmp(seg[3], "runtime") && type == SL_T_GSLB && !strcmp(m, "PUT"))
			return api_gslb_runtime_put(c, n, body, blen, rs);
		return resp_errf(rs, strcmp(seg[3], "runtime") ? 404 : 405, "not_found", "no such endpoint or method");
	}
	if (get) {
		if (!n)
			return resp_errf(rs, 404, "not_found", "no such object");
		return set_obj_resp(rs, 200, n);
	}
	if (!strcmp(m, "PUT") || !strcmp(m, "PATCH") || !strcmp(m, "DELETE"))
		return api_object_write(c, m, type, seg[2], r, body, blen, rs);
	resp_errf(rs, 405, "method_not_allowed", "GET, PUT, PATCH or DELETE");
}

/* ---------------- connections ---------------- */
static void conn_flush(struct sl_ctl *c, struct conn *cn)
{
	while (cn->out_off < cn->out_len) {
		ssize_t w = send(cn->fd, cn->out + cn->out_off, cn->out_len - cn->out_off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			cn->closing = true;
			cn->out_off = cn->out_len;
			break;
		}
		cn->out_off += (size_t)w;
		cn->t_last = now_ms();
	}
	if (cn->out_off == cn->out_len)
		cn->out_off = cn->out_len = 0;
	/* after the client's EOF, EPOLLIN would stay ready forever: only wait to write */
	uint32_t want = (cn->eof ? 0 : EPOLLIN) | (cn->out_len ? EPOLLOUT : 0);
	if (want != cn->events) {
		struct epoll_event ev = { .events = want, .data.ptr = cn };
		epoll_ctl(c->epfd, EPOLL_CTL_MOD, cn->fd, &ev);
		cn->events = want;
	}
}

static void conn_process(struct sl_ctl *c, struct conn *cn)
{
	const struct sl_http_limits *lim = &sl_http_default_limits;
	while (!cn->closing && cn->in_len) {
		struct sl_http_req r;
		int h = sl_http_parse(cn->in, cn->in_len, lim, &r);
		if (h == 0) {
			if (!cn->t_start)
				cn->t_start = now_ms();
			break;
		}
		if (h < 0) {
			struct resp rs = { 0 };
			resp_errf(&rs, -h, -h == 413 ? "too_large" : "bad_request",
				  -h == 414 ? "request line too long" : -h == 431 ? "request headers too large"
				  : -h == 413 ? "request body too large" : -h == 501 ? "not implemented (chunked bodies are not supported)"
				  : "malformed request");
			send_resp(c, cn, &rs, false, false);
			cn->closing = true;
			break;
		}
		size_t need = (size_t)h + r.content_length;
		if (cn->in_len < need) {
			if (!cn->t_start)
				cn->t_start = now_ms();
			if (r.expect_continue && !cn->continue_sent && !cn->eof) {
				out_append(cn, "HTTP/1.1 100 Continue\r\n\r\n", 25);
				cn->continue_sent = true;
			}
			break;
		}
		struct resp rs = { 0 };
		handle(c, &r, cn->in + h, r.content_length, &rs);
		send_resp(c, cn, &rs, !strcmp(r.method, "HEAD"), r.keep_alive);
		memmove(cn->in, cn->in + need, cn->in_len - need);
		cn->in_len -= need;
		cn->t_start = 0;
		cn->continue_sent = false;
		if (!r.keep_alive)
			cn->closing = true;
	}
	/* what is left after the client's EOF can never complete */
	if (cn->eof)
		cn->closing = true;
	conn_flush(c, cn);
}

static void conn_read(struct sl_ctl *c, struct conn *cn)
{
	const struct sl_http_limits *lim = &sl_http_default_limits;
	size_t hard = lim->max_head + lim->max_body + 1;
	for (;;) {
		if (cn->in_len == cn->in_cap) {
			if (cn->in_cap >= hard)
				break;   /* the parser has already answered 413/431 by now */
			size_t nc = cn->in_cap ? cn->in_cap * 2 : 16384;
			if (nc > hard)
				nc = hard;
			char *p = realloc(cn->in, nc);
			if (!p) {
				cn->closing = true;
				return;
			}
			cn->in = p;
			cn->in_cap = nc;
		}
		ssize_t n = recv(cn->fd, cn->in + cn->in_len, cn->in_cap - cn->in_len, 0);
		if (n > 0) {
			cn->in_len += (size_t)n;
			cn->t_last = now_ms();
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		/* EOF or error: a client that shut down its write side (nc -N) still waits for the answers
		   to every complete request it sent, so process them before closing */
		cn->eof = true;
		break;
	}
	conn_process(c, cn);
}

/* The longest-idle keep-alive connection: nothing buffered either way, no request begun. Ties go
 * to the older one (the list is newest first). NULL when every connection is busy. */
static struct conn *longest_idle(struct sl_ctl *c)
{
	struct conn *best = NULL;
	for (struct conn *cn = c->conns; cn; cn = cn->next)
		if (!cn->closing && !cn->t_start && !cn->in_len && !cn->out_len && (!best || cn->t_last <= best->t_last))
			best = cn;
	return best;
}

static void do_accept(struct sl_ctl *c)
{
	for (;;) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* idle keep-alive connections (curl loops, forgotten clients) must not lock an operator
		   out: at the limit the longest-idle one makes room; only busy ones are worth a 503, and
		   those end within READ_TIMEOUT_MS */
		struct conn *victim = c->n_conns >= MAX_CONNS ? longest_idle(c) : NULL;
		if (victim)
			conn_close(c, victim);
		if (c->n_conns >= MAX_CONNS) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* nothing more to do for a client we refuse */
			}
			close(fd);
			continue;
		}
		struct conn *cn = calloc(1, sizeof(*cn));
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = cn };
		if (!cn || epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			free(cn);
			close(fd);
			continue;
		}
		cn->fd = fd;
		cn->events = EPOLLIN;
		cn->t_last = now_ms();
		cn->next = c->conns;
		if (c->conns)
			c->conns->prev = cn;
		c->conns = cn;
		c->n_conns++;
	}
}

int sl_ctl_poll(struct sl_ctl *c, int timeout_ms)
{
	struct epoll_event evs[64];
	int n = epoll_wait(c->epfd, evs, 64, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	bool accept = false;
	for (int i = 0; i < n; i++) {
		struct conn *cn = evs[i].data.ptr;
		if (!cn) {
			accept = true;
			continue;
		}
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			conn_read(c, cn);
		if (evs[i].events & EPOLLOUT)
			conn_flush(c, cn);
		if (cn->closing && cn->out_len == 0)
			conn_close(c, cn);
	}
	/* after this batch's connection events: accepting may close an idle connection evs[] names */
	if (accept)
		do_accept(c);
	sl_hm_poll(c->hm);
	uint64_t now = now_ms();
	for (struct conn *cn = c->conns, *nx; cn; cn = nx) {
		nx = cn->next;
		if (cn->t_start && now - cn->t_start > READ_TIMEOUT_MS && !cn->closing) {
			struct resp rs = { 0 };
			resp_errf(&rs, 408, "timeout", "request not received in time");
			send_resp(c, cn, &rs, false, false);
			cn->closing = true;
			conn_flush(c, cn);
		}
		if ((cn->closing && cn->out_len == 0) || (!cn->t_start && cn->out_len == 0 && now - cn->t_last > IDLE_TIMEOUT_MS) ||
		    (cn->closing && now - cn->t_last > READ_TIMEOUT_MS))
			conn_close(c, cn);
	}
	return n;
}

int sl_ctl_request(struct sl_ctl *c, const char *method, const char *target, const char *if_match, const char *body,
		   size_t len, int *status, char **resp)
{
	struct sl_http_req r;
	memset(&r, 0, sizeof(r));
	snprintf(r.method, sizeof(r.method), "%s", method);
	r.path = target;
	const char *q = strchr(target, '?');
	r.path_len = q ? (size_t)(q - target) : strlen(target);
	if (q) {
		r.query = q + 1;
		r.query_len = strlen(q + 1);
	}
	if (if_match)
		snprintf(r.if_match, sizeof(r.if_match), "%s", if_match);
	r.keep_alive = true;
	struct resp rs = { 0 };
	handle(c, &r, body ? body : "", body ? len : 0, &rs);
	*status = rs.status;
	if (resp) {
		if (rs.body)
			*resp = json_dumps(rs.body, JSON_COMPACT);
		else if (rs.text) {
			*resp = rs.text;
			rs.text = NULL;
		} else
			*resp = NULL;
	}
	json_decref(rs.body);
	free(rs.text);
	return 0;
}
