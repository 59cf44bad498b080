/* The HTTP proxy's set-up, teardown and counter readers (main lcore): no
 * per-request work here, so this is where it allocates. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http_priv.h"

struct sl_app_http_worker *sl_http_workers[MAX_HTTP_WORKERS];

int sl_app_http_init(struct sl_app_worker *aw)
{
	struct sl_app_http_worker *w = calloc(1, sizeof(*w));
	unsigned id = sl_app_env(aw)->worker_id;
	uint32_t n = RTE_MAX(aw->conf.max_conns / 2, 256u);

	if (!w || id >= MAX_HTTP_WORKERS) {
		free(w);
		return -ENOMEM;
	}
	aw->http = w;
	w->aw = aw;
	w->pctx = sl_policy_worker_ctx_new();
	/* transactions live only while a request is in flight, so an idle
	 * keep-alive client costs its connection context alone; ordinary
	 * memory (touched only as requests use it), the hugepages are for
	 * packets */
	w->txns = calloc(n, sizeof(*w->txns));
	w->idle = calloc(SL_MAX_HEALTH, sizeof(*w->idle));
	w->n_idle = calloc(SL_MAX_HEALTH, sizeof(*w->n_idle));
	w->vs = calloc(SL_MAX_VS, sizeof(*w->vs));
	if (!w->pctx || !w->txns || !w->idle || !w->n_idle || !w->vs)
		return -ENOMEM;
	w->n_txn = n;
	for (uint32_t i = n; i-- > 0;) {
		w->txns[i].next_free = w->free_txn;
		w->free_txn = &w->txns[i];
	}
	sl_http_workers[id] = w;
	return 0;
}

void sl_app_http_fini(struct sl_app_worker *aw)
{
	struct sl_app_http_worker *w = aw->http;

	if (!w)
		return;
	for (unsigned i = 0; i < MAX_HTTP_WORKERS; i++)
		if (sl_http_workers[i] == w)
			sl_http_workers[i] = NULL;
	if (w->pctx)
		sl_policy_worker_ctx_free(w->pctx);
	free(w->txns);
	free(w->idle);
	free(w->n_idle);
	free(w->vs);
	free(w);
	aw->http = NULL;
}

void sl_http_vs_stats(uint32_t vs_slot, struct sl_http_vs_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < MAX_HTTP_WORKERS && vs_slot < SL_MAX_VS; i++) {
		const uint64_t *src;
		uint64_t *dst = (uint64_t *)out;

		if (!sl_http_workers[i])
			continue;
		src = (const uint64_t *)&sl_http_workers[i]->vs[vs_slot];
		for (size_t k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
}
