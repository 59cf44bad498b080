/* The TLS transform's per-worker set-up and teardown (main lcore): the
 * connection-state pool, sized like the layer's contexts, and the
 * worker's OpenSSL state. */
#include <errno.h>
#include <stdlib.h>

#include "tls_conn.h"

int sl_tls_bio_init(void);

int sl_app_tls_init(struct sl_app_worker *aw)
{
	struct sl_app_tls_worker *w;
	uint32_t n = aw->conf.max_conns;

	if (sl_tls_bio_init() || !sl_tls_wk_get(sl_app_env(aw)->worker_id))
		return -ENOMEM;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	/* ordinary memory, touched only as TLS connections use it */
	w->conns = calloc(n, sizeof(*w->conns));
	if (!w->conns) {
		free(w);
		return -ENOMEM;
	}
	w->aw = aw;
	w->n = n;
	for (uint32_t i = n; i-- > 0;) {
		w->conns[i].next_free = w->free;
		w->free = &w->conns[i];
	}
	aw->tls = w;
	return 0;
}

void sl_app_tls_fini(struct sl_app_worker *aw)
{
	struct sl_app_tls_worker *w = aw->tls;

	if (!w)
		return;
	for (uint32_t i = 0; i < w->n; i++)
		SSL_free(w->conns[i].ssl);
	free(w->conns);
	free(w);
	aw->tls = NULL;
}
