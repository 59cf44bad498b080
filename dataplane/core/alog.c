/* HTTP access logs (alog.h): the workers' hook and the main lcore's writer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_ring.h>

#include "alog.h"
#include "engine.h"
#include "http_obs.h"
#include "sl_gen.h"

_Static_assert(sizeof(struct sl_http_log) % 4 == 0, "rte_ring elements are a multiple of 4 bytes");

/* Per worker and VS slot: the one-second budget, so one busy VS cannot
 * flood the disk or crowd the others out of the ring, and what became of
 * its records. Only the worker writes; readers sum racy snapshots. */
struct alog_vs {
	uint32_t sec, used;
	uint64_t logged, throttled, ring_full;
};

static struct alog_worker {
	struct rte_ring *ring;
	struct alog_vs *vs;          /* [SL_MAX_VS] */
} aw[SL_MAX_WORKERS];
static unsigned n_aw;

int sl_alog_init(unsigned n_workers)
{
	char name[32];

	if (n_workers > SL_MAX_WORKERS)
		return -E2BIG;
	for (unsigned i = 0; i < n_workers; i++) {
		snprintf(name, sizeof(name), "sl_alog_%u", i);
		aw[i].ring = rte_ring_create_elem(name, sizeof(struct sl_http_log), SL_ALOG_RING, SOCKET_ID_ANY,
						  RING_F_SP_ENQ | RING_F_SC_DEQ);
		aw[i].vs = rte_zmalloc("sl_alog_vs", sizeof(*aw[i].vs) * SL_MAX_VS, RTE_CACHE_LINE_SIZE);
		if (!aw[i].ring || !aw[i].vs)
			return -ENOMEM;
	}
	n_aw = n_workers;
	return 0;
}

void sl_alog_push(void *arg, const struct sl_gen_vs *vs, const struct sl_http_log *rec)
{
	const struct sl_worker *w = arg;
	struct alog_vs *v;
	struct sl_http_log r;

	if (w->id >= n_aw || vs->slot >= SL_MAX_VS)
		return;
	v = &aw[w->id].vs[vs->slot];
	if (vs->log_throttle) {
		uint32_t sec = (uint32_t)(w->now_us / 1000000);
		/* the VS's budget is split over workers, rounding up */
		uint32_t per_worker = (vs->log_throttle + n_aw - 1) / n_aw;

		if (v->sec != sec) {
			v->sec = sec;
			v->used = 0;
		}
		if (v->used >= per_worker) {
			v->throttled++;
			return;
		}
		v->used++;
	}
	memcpy(&r, rec, sizeof(r));
	r.t_us += sl_eng.wall_base_us;
	if (rte_ring_sp_enqueue_elem(aw[w->id].ring, &r, sizeof(r)))
		v->ring_full++;
	else
		v->logged++;
}

/* ---- main lcore: files by VS slot, opened on first use and kept open (at
 * most MAX_FILES: past that the least recently written one is closed) */
#define MAX_FILES 256

static struct afile {
	uint32_t slot;
	char name[128];              /* the VS's name when opened: a rename opens a new file */
	FILE *f;
	uint64_t used;               /* drain count of the last write, for eviction */
	bool failed;                 /* fopen failed in this drain: not retried per record */
} files[MAX_FILES];
static unsigned n_files;
static uint64_t n_drains;
static uint64_t not_written[SL_MAX_VS];

/* VS names are free text; the file name keeps [A-Za-z0-9._-] and turns the
 * rest (a '/' above all) into '_', so a name never leaves the log dir. */
void sl_log_file_name(char *dst, size_t len, const char *dir, const char *vs, const char *suffix)
{
	size_t k = (size_t)snprintf(dst, len, "%s/", dir);

	for (; *vs && k + strlen(suffix) + 1 < len; vs++, k++) {
		char c = *vs;

		dst[k] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
				 c == '_' || c == '-' ? c : '_';
	}
	snprintf(dst + k, len - k, "%s", suffix);
}

static struct afile *file_for(const char *dir, const struct sl_gen_vs *vs)
{
	static unsigned last;
	struct afile *a = NULL;
	char path[1024];

	if (last < n_files && files[last].slot == vs->slot)
		a = &files[last];
	for (unsigned i = 0; !a && i < n_files; i++)
		if (files[i].slot == vs->slot)
			a = &files[i];
	if (a && a->f && strcmp(a->name, vs->name)) {
		fclose(a->f);
		a->f = NULL;
		a->failed = false;
	}
	if (!a) {
		if (n_files < MAX_FILES) {
			a = &files[n_files++];
		} else {
			a = &files[0];
			for (unsigned i = 1; i < n_files; i++)
				if (files[i].used < a->used)
					a = &files[i];
			if (a->f)
				fclose(a->f);
		}
		*a = (struct afile){ .slot = vs->slot };
	}
	last = (unsigned)(a - files);
	if (!a->f && !a->failed) {
		sl_log_file_name(path, sizeof(path), dir, vs->name, ".http.jsonl");
		a->f = fopen(path, "a");
		a->failed = !a->f;
		snprintf(a->name, sizeof(a->name), "%s", vs->name);
	}
	a->used = n_drains;
	return a->f ? a : NULL;
}

static void write_one(const char *dir, const struct sl_gen *g, const struct sl_http_log *r, unsigned worker)
{
	static char line[SL_ALOG_LINE_MAX];
	uint32_t idx = r->vs_slot < SL_MAX_VS ? g->vs_by_slot[r->vs_slot] : SL_GEN_NONE;
	uint32_t pidx = r->pool_slot < g->n_pool_slots ? g->pool_by_slot[r->pool_slot] : SL_GEN_NONE;
	struct sl_alog_ctx c;
	struct afile *a;
	size_t n;

	/* the VS was deleted since: its log goes with it */
	if (idx == SL_GEN_NONE)
		return;
	c = (struct sl_alog_ctx){
		.vs = g->vs[idx].name,
		.pool = pidx != SL_GEN_NONE ? g->pools[pidx].name : NULL,
		.error = r->err != SL_HTTP_LOG_OK ? sl_http_log_err_name(r->err) : NULL,
		.worker = worker,
	};
	n = sl_alog_format(line, sizeof(line), r, &c);
	a = file_for(dir, &g->vs[idx]);
	if (!n || !a || fwrite(line, 1, n, a->f) != n)
		not_written[r->vs_slot]++;
}

unsigned sl_alog_drain(const char *dir)
{
	const struct sl_gen *g = __atomic_load_n((struct sl_gen **)&sl_eng.gen, __ATOMIC_ACQUIRE);
	static struct sl_http_log recs[32];
	unsigned total = 0;

	n_drains++;
	for (unsigned i = 0; i < n_files; i++)
		files[i].failed = false;
	for (unsigned w = 0; w < n_aw; w++) {
		unsigned n;

		while ((n = rte_ring_sc_dequeue_burst_elem(aw[w].ring, recs, sizeof(recs[0]), 32, NULL))) {
			for (unsigned i = 0; g && i < n; i++)
				write_one(dir, g, &recs[i], w);
			total += n;
		}
	}
	for (unsigned i = 0; total && i < n_files; i++)
		if (files[i].f && files[i].used == n_drains && fflush(files[i].f))
			clearerr(files[i].f);
	return total;
}

void sl_alog_close(void)
{
	for (unsigned i = 0; i < n_files; i++)
		if (files[i].f)
			fclose(files[i].f);
	n_files = 0;
}

void sl_alog_counts(uint32_t vs_slot, struct sl_alog_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (vs_slot >= SL_MAX_VS)
		return;
	for (unsigned i = 0; i < n_aw; i++) {
		const struct alog_vs *v = &aw[i].vs[vs_slot];

		out->logged += v->logged;
		out->throttled += v->throttled;
		out->ring_full += v->ring_full;
	}
	out->not_written = not_written[vs_slot];
}
