/* The application layer's set-up, teardown and readers (sl_app.h): the
 * main lcore's side and the telemetry thread's, never a worker's packet
 * path (that is app_fp.c), so allocation and formatting live here. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <rte_malloc.h>

#include "app_priv.h"
#include "upstream.h"

int sl_app_conns_dump(struct sl_app_worker *aw, void (*fn)(void *, const char *), void *arg, unsigned max,
		      unsigned timeout_ms)
{
	uint32_t req = __atomic_add_fetch(&aw->snap_req, 1, __ATOMIC_ACQ_REL);
	struct timespec ts = { 0, 1000000 };
	unsigned n;

	for (unsigned waited = 0; __atomic_load_n(&aw->snap_done, __ATOMIC_ACQUIRE) != req; waited++) {
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
	n = RTE_MIN(max, aw->snap_n);
	for (unsigned i = 0; i < n; i++) {
		const struct sl_app_snap *s = &aw->snap[i];
		char line[256], l[INET_ADDRSTRLEN], r[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &s->lip, l, sizeof(l));
		inet_ntop(AF_INET, &s->rip, r, sizeof(r));
		snprintf(line, sizeof(line),
			 "%s:%u-%s:%u %s %s%s%s q=%u%s gen=%" PRIu64 " snd_wnd=%u rcv_wnd=%u cwnd=%u rto_us=%u space=%u",
			 l, s->lport, r, s->rport, sl_tcp_state_name(s->state), s->app, s->detail[0] ? " " : "",
			 s->detail, s->in_bytes, s->eof ? " eof" : "", s->gen, s->snd_wnd, s->rcv_wnd, s->cwnd,
			 s->rto_us, s->space);
		fn(arg, line);
	}
	/* the next request may overwrite the snapshot: one reader at a time is
	 * the telemetry thread's own serialisation */
	return (int)n;
}

struct sl_app_worker *sl_app_worker_create(const struct sl_app_env *env, const struct sl_app_conf *conf)
{
	struct sl_app_worker *aw = rte_zmalloc("sl_app_worker", sizeof(*aw), RTE_CACHE_LINE_SIZE);
	uint32_t nb;

	if (!aw)
		return NULL;
	aw->env = *env;
	aw->conf = *conf;
	nb = conf->in_blocks ? conf->in_blocks : RTE_MAX(conf->max_conns / 2, 1024u);
	aw->snap_max = conf->snap_max ? conf->snap_max : 4096;
	aw->n_local_ips = RTE_MIN(conf->n_local_ips, (unsigned)RTE_DIM(aw->local_ips));
	memcpy(aw->local_ips, conf->local_ips, aw->n_local_ips * sizeof(uint32_t));
	aw->conns = rte_zmalloc("sl_app_conns", sizeof(*aw->conns) * conf->max_conns, RTE_CACHE_LINE_SIZE);
	aw->qblks = rte_zmalloc("sl_app_qblk", sizeof(*aw->qblks) * nb, RTE_CACHE_LINE_SIZE);
	aw->snap = rte_zmalloc("sl_app_snap", sizeof(*aw->snap) * aw->snap_max, RTE_CACHE_LINE_SIZE);
	if (!aw->conns || !aw->qblks || !aw->snap)
		goto fail;
	aw->n_qblk = nb;
	for (uint32_t i = conf->max_conns; i-- > 0;) {
		aw->conns[i].next_free = aw->free_conns;
		aw->free_conns = &aw->conns[i];
	}
	for (uint32_t i = nb; i-- > 0;) {
		aw->qblks[i].next = aw->free_qblk;
		aw->free_qblk = &aw->qblks[i];
	}
	aw->wheel_ms = *env->now_us / 1000;
	if (sl_up_init(aw) || sl_app_l4_init(aw) || sl_app_http_init(aw) || sl_app_h2_init(aw) || sl_app_tls_init(aw) ||
	    sl_app_test_init(aw))
		goto fail;
	return aw;
fail:
	sl_app_worker_destroy(aw);
	return NULL;
}

void sl_app_worker_destroy(struct sl_app_worker *aw)
{
	if (!aw)
		return;
	sl_app_tls_fini(aw);
	sl_app_h2_fini(aw);
	sl_app_http_fini(aw);
	sl_app_l4_fini(aw);
	sl_up_fini(aw);
	rte_free(aw->conns);
	rte_free(aw->qblks);
	rte_free(aw->snap);
	rte_free(aw);
}

void sl_app_worker_stats(const struct sl_app_worker *aw, struct sl_app_stats *out)
{
	*out = aw->st;
	out->conns = aw->n_conns;
	out->in_blocks_used = aw->qblk_used;
	out->in_blocks_total = aw->n_qblk;
	out->pinned_gens = 0;
	for (int i = 0; i < PIN_MAX; i++)
		out->pinned_gens += aw->pin_cnt[i] != 0;
}

size_t sl_app_conn_mem(void)
{
	return sizeof(struct sl_app_conn);
}
