/* HTTP/2 set-up: the per-worker sessions, streams, nghttp2 arena,
 * callbacks and options (the limits of docs/http2.md), and the counters'
 * reader. Runs at start and on the main lcore, never per packet. */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "h2_priv.h"

struct sl_app_h2_worker *sl_h2_workers[64];

int sl_app_h2_init(struct sl_app_worker *aw)
{
	struct sl_app_h2_worker *w = rte_zmalloc("sl_h2", sizeof(*w), 64);
	nghttp2_session_callbacks *cbs;
	uint32_t ns, nt;

	if (!w)
		return -ENOMEM;
	aw->h2 = w;
	w->aw = aw;
	ns = RTE_MIN(aw->conf.max_conns / 8, 1024u);
	ns = RTE_MAX(ns, 16u);
	nt = ns * 8;
	w->sess = rte_zmalloc("sl_h2_sess", sizeof(*w->sess) * ns, 64);
	w->strm = rte_zmalloc("sl_h2_strm", sizeof(*w->strm) * nt, 64);
	if (!w->sess || !w->strm || sl_h2_mem_init(w, (size_t)ns * H2_ARENA_PER_CONN))
		return -ENOMEM;
	w->n_sess = ns;
	w->n_strm = nt;
	for (uint32_t i = ns; i-- > 0;) {
		w->sess[i].next_free = w->free_sess;
		w->free_sess = &w->sess[i];
	}
	for (uint32_t i = nt; i-- > 0;) {
		w->strm[i].next_free = w->free_strm;
		w->free_strm = &w->strm[i];
	}
	if (nghttp2_session_callbacks_new(&cbs) || nghttp2_option_new(&w->opt))
		return -ENOMEM;
	w->cbs = cbs;
	sl_h2_set_callbacks(cbs);
	/* window updates follow what the proxy consumed, not what arrived */
	nghttp2_option_set_no_auto_window_update(w->opt, 1);
	nghttp2_option_set_max_outbound_ack(w->opt, 1000);
	nghttp2_option_set_max_settings(w->opt, 32);
	nghttp2_option_set_stream_reset_rate_limit(w->opt, H2_NG_RST_BURST, H2_NG_RST_RATE);
	nghttp2_option_set_max_continuations(w->opt, H2_MAX_CONTINUATIONS);
	nghttp2_option_set_max_deflate_dynamic_table_size(w->opt, 4096);
	if (aw->env.worker_id < RTE_DIM(sl_h2_workers))
		sl_h2_workers[aw->env.worker_id] = w;
	return 0;
}

void sl_app_h2_fini(struct sl_app_worker *aw)
{
	struct sl_app_h2_worker *w = aw->h2;

	if (!w)
		return;
	if (aw->env.worker_id < RTE_DIM(sl_h2_workers))
		sl_h2_workers[aw->env.worker_id] = NULL;
	if (w->cbs)
		nghttp2_session_callbacks_del(w->cbs);
	if (w->opt)
		nghttp2_option_del(w->opt);
	rte_free(w->arena);
	rte_free(w->sess);
	rte_free(w->strm);
	rte_free(w);
	aw->h2 = NULL;
}

void sl_h2_stats(struct sl_h2_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < RTE_DIM(sl_h2_workers); i++) {
		const struct sl_app_h2_worker *w = sl_h2_workers[i];
		const uint64_t *src;
		uint64_t *dst = (uint64_t *)out;

		if (!w)
			continue;
		src = (const uint64_t *)&w->st;
		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
	}
}

void sl_h2_stats_visit(void (*fn)(void *arg, const char *name, uint64_t v), void *arg)
{
	static const char *const names[] = {
		"conns", "conns_tls", "streams", "streams_refused", "stream_errors", "client_resets", "goaway_sent",
		"bad_preface", "protocol_errors", "flood_ctrl", "flood_reset", "flood_continuation",
		"header_list_too_large", "no_memory", "idle_closed", "stalled", "drained", "mem_bytes",
	};
	struct sl_h2_stats st;
	const uint64_t *v = (const uint64_t *)&st;

	_Static_assert(sizeof(names) / sizeof(names[0]) == sizeof(st) / sizeof(uint64_t),
		       "a name for every counter of struct sl_h2_stats");
	sl_h2_stats(&st);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		fn(arg, names[i], v[i]);
}
