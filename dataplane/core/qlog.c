/* Query log writer (main lcore). Files are opened on first use and kept
 * open until shutdown (at most MAX_FILES; beyond that records are counted
 * as ring drops would be, not written). Records of a VS deleted before the
 * drain are discarded with it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <jansson.h>
#include <rte_malloc.h>

#include "engine.h"
#include "qlog.h"
#include "alog.h"
#include "sl_gen.h"

#define MAX_FILES 256

static struct {
	uint32_t slot;
	FILE *f;
} files[MAX_FILES];
static unsigned n_files;

int sl_qlog_worker_init(struct sl_qlog_worker *q, unsigned worker)
{
	char name[32];

	snprintf(name, sizeof(name), "sl_qlog_%u", worker);
	q->ring = rte_ring_create_elem(name, sizeof(struct sl_qlog_rec), SL_QLOG_RING, SOCKET_ID_ANY,
				       RING_F_SP_ENQ | RING_F_SC_DEQ);
	q->budget = rte_zmalloc("sl_qlog_budget", sizeof(*q->budget) * SL_MAX_VS, RTE_CACHE_LINE_SIZE);
	return q->ring && q->budget ? 0 : -ENOMEM;
}

static const char *rcode_name(unsigned r)
{
	static const char *n[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };

	if (r < 6)
		return n[r];
	return r == 16 ? "BADVERS" : "OTHER";
}

static const char *qtype_name(unsigned t, char *buf, size_t len)
{
	switch (t) {
	case 1: return "A";
	case 2: return "NS";
	case 5: return "CNAME";
	case 6: return "SOA";
	case 12: return "PTR";
	case 15: return "MX";
	case 16: return "TXT";
	case 28: return "AAAA";
	case 33: return "SRV";
	case 255: return "ANY";
	default:
		snprintf(buf, len, "TYPE%u", t);
		return buf;
	}
}

static FILE *file_for(const char *dir, uint32_t slot, const char *vs_name)
{
	char path[512];
	FILE *f;

	for (unsigned i = 0; i < n_files; i++)
		if (files[i].slot == slot)
			return files[i].f;
	if (n_files == MAX_FILES)
		return NULL;
	sl_log_file_name(path, sizeof(path), dir, vs_name, ".dns.jsonl");
	f = fopen(path, "a");
	if (!f)
		return NULL;
	files[n_files].slot = slot;
	files[n_files].f = f;
	n_files++;
	return f;
}

static void write_rec(FILE *f, const char *vs, const struct sl_qlog_rec *r)
{
	char ts[64], ip[INET_ADDRSTRLEN], tb[16];
	time_t sec = (time_t)(r->ts_us / 1000000);
	struct tm tm;
	json_t *o = json_object(), *ans = json_array();
	char *line;

	gmtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%06uZ", (unsigned)(r->ts_us % 1000000));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "vs", json_string(vs));
	inet_ntop(AF_INET, &r->client_ip, ip, sizeof(ip));
	json_object_set_new(o, "client", json_string(ip));
	json_object_set_new(o, "client_port", json_integer(r->client_port));
	json_object_set_new(o, "transport", json_string(r->tcp ? "tcp" : "udp"));
	json_object_set_new(o, "qname", json_string(r->qname));
	json_object_set_new(o, "qtype", json_string(qtype_name(r->qtype, tb, sizeof(tb))));
	if (r->drop) {
		json_object_set_new(o, "dropped", json_string(sl_dns_drop_name(r->drop)));
	} else {
		json_object_set_new(o, "rcode", json_string(rcode_name(r->rcode)));
		for (unsigned i = 0; i < r->n_ans && i < 8; i++) {
			inet_ntop(AF_INET, &r->ans_ip[i], ip, sizeof(ip));
			json_array_append_new(ans, json_string(ip));
		}
		if (r->flags & SL_DNS_QL_TC)
			json_object_set_new(o, "truncated", json_true());
		if (r->flags & SL_DNS_QL_GSLB)
			json_object_set_new(o, "gslb", json_true());
		if (r->err)
			json_object_set_new(o, "error", json_string(sl_dns_err_name(r->err)));
	}
	json_object_set_new(o, "answers", ans);
	json_object_set_new(o, "latency_us", json_real(r->latency_ns / 1000.0));
	json_object_set_new(o, "worker", json_integer(r->worker));
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
	if (line) {
		fputs(line, f);
		fputc('\n', f);
		free(line);
	}
	json_decref(o);
}

unsigned sl_qlog_drain(const char *dir)
{
	const struct sl_gen *g = __atomic_load_n((struct sl_gen **)&sl_eng.gen, __ATOMIC_ACQUIRE);
	struct sl_qlog_rec recs[64];
	unsigned total = 0;

	for (unsigned w = 0; w < sl_eng.n_workers; w++) {
		struct rte_ring *ring = sl_eng.w[w]->qlog.ring;
		unsigned n;

		while ((n = rte_ring_sc_dequeue_burst_elem(ring, recs, sizeof(recs[0]), 64, NULL))) {
			for (unsigned i = 0; i < n; i++) {
				uint32_t idx = g && recs[i].vs_slot < SL_MAX_VS ?
					g->vs_by_slot[recs[i].vs_slot] : SL_GEN_NONE;
				FILE *f;

				/* the VS was deleted since: its log goes with it */
				if (idx == SL_GEN_NONE)
					continue;
				f = file_for(dir, recs[i].vs_slot, g->vs[idx].name);
				if (f)
					write_rec(f, g->vs[idx].name, &recs[i]);
			}
			total += n;
		}
	}
	for (unsigned i = 0; i < n_files; i++)
		fflush(files[i].f);
	return total;
}

void sl_qlog_close(void)
{
	for (unsigned i = 0; i < n_files; i++)
		fclose(files[i].f);
	n_files = 0;
}

/* Per-VS counters and per-member answer counts of one DNS answer (UDP or TCP). */
void sl_dns_account(struct sl_worker *w, const struct sl_gen_vs *vs, const struct sl_dns_qlog *ql, size_t rlen)
{
	sl_dns_stats_add(&w->dns_stats[vs->slot], ql, rlen);
	for (unsigned i = 0; i < ql->n_ans && i < 8; i++)
		if (ql->ans_slot[i] >= 0 && ql->ans_slot[i] < SL_MAX_HEALTH)
			w->member_answers[ql->ans_slot[i]]++;
}

/* Query log record, within the VS's per-second budget per worker. */
void sl_qlog_push(struct sl_worker *w, const struct sl_gen_vs *vs, uint32_t client_ip, uint16_t client_port,
		  bool tcp, const struct sl_dns_qlog *ql, uint64_t t0)
{
	struct sl_qlog_worker *q = &w->qlog;
	struct sl_qlog_budget *b = &q->budget[vs->slot];
	uint64_t now = sl_now_us();
	struct sl_qlog_rec r;

	if (vs->log_throttle) {
		uint32_t sec = (uint32_t)(now / 1000000);
		/* the VS budget is split over workers, rounding up */
		uint32_t per_worker = (vs->log_throttle + sl_eng.n_workers - 1) / sl_eng.n_workers;

		if (b->sec != sec) {
			b->sec = sec;
			b->used = 0;
		}
		if (b->used >= per_worker) {
			q->throttled++;
			return;
		}
		b->used++;
	}
	r.ts_us = sl_eng.wall_base_us + now;
	r.client_ip = client_ip;
	r.client_port = client_port;
	r.tcp = tcp;
	r.pad = 0;
	r.qtype = ql->qtype;
	r.vs_slot = vs->slot;
	r.latency_ns = (uint32_t)RTE_MIN(sl_tsc_to(&sl_eng.tsc_ns, rte_rdtsc() - t0), UINT32_MAX);
	r.rcode = ql->rcode;
	r.n_ans = ql->n_ans;
	r.flags = ql->flags;
	r.drop = ql->drop;
	r.worker = (uint8_t)w->id;
	r.err = ql->err;
	memcpy(r.ans_ip, ql->ans_ip, sizeof(r.ans_ip));
	memcpy(r.qname, ql->qname, sizeof(r.qname));
	if (rte_ring_sp_enqueue_elem(q->ring, &r, sizeof(r)))
		q->ring_full++;
	else
		q->logged++;
}
