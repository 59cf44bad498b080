/* The engine's life on the main lcore (sl_engine.h): EAL, the start-up
 * file, clocks, workers and ports; publishing generations and reclaiming
 * them; the counters control serves. The process (control/main.c) wires
 * these to the control plane: the data plane never includes control. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <arpa/inet.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "alog.h"
#include "engine.h"
#include "health.h"
#include "http_obs.h"
#include "sl_h2_stats.h"
#include "sl_l4.h"
#include "stack.h"
#include "worker.h"
#include "sl_engine.h"
#include "sl_gen.h"

#define NB_MBUF 32767   /* TCP queues hold received mbufs: size for ~80 busy connections */
#define MBUF_CACHE 256

struct sl_engine sl_eng;
static const char *sl_eng_log_dir = "/var/log/sluice";


/* Old generations wait here until every worker passed a quiescent state
 * after the swap (RCU grace period) and no connection pins them any more
 * (docs/architecture.md, "Generations"). A pinned one can wait as long as
 * its connection lives, so the list grows as it must (main lcore only). */
static struct reclaim_ent {
	struct sl_gen *gen;
	uint64_t token;
} *reclaim;
static unsigned n_reclaim, cap_reclaim;

static bool gen_pinned(const struct sl_gen *g)
{
	for (unsigned w = 0; w < sl_eng.n_workers; w++)
		if (sl_tcp_worker_pins(sl_eng.w[w], g))
			return true;
	return false;
}

/* final: the workers have stopped, nothing can read a generation any more */
static void reclaim_poll(bool final)
{
	unsigned j = 0;

	for (unsigned i = 0; i < n_reclaim; i++) {
		if (final || (rte_rcu_qsbr_check(sl_eng.qs, reclaim[i].token, false) == 1 &&
			      !gen_pinned(reclaim[i].gen)))
			sl_gen_release(reclaim[i].gen);
		else
			reclaim[j++] = reclaim[i];
	}
	n_reclaim = j;
}

int sl_engine_publish(void *arg, struct sl_gen *g)
{
	struct sl_gen *old;

	(void)arg;
	if (n_reclaim == cap_reclaim) {
		unsigned cap = cap_reclaim ? cap_reclaim * 2 : 64;
		struct reclaim_ent *r = realloc(reclaim, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		reclaim = r;
		cap_reclaim = cap;
	}
	old = __atomic_exchange_n((struct sl_gen **)&sl_eng.gen, g, __ATOMIC_ACQ_REL);
	if (old) {
		reclaim[n_reclaim].gen = old;
		reclaim[n_reclaim].token = rte_rcu_qsbr_start(sl_eng.qs);
		n_reclaim++;
	}
	return 0;
}

static void json_add_u64(void *arg, const char *name, uint64_t v)
{
	json_object_set_new(arg, name, json_integer((json_int_t)v));
}

int sl_engine_stats(void *arg, json_t *out)
{
	struct sl_wstats s;
	json_t *workers = json_array(), *ports = json_object(), *tot = json_object();

	(void)arg;
	sl_stats_sum(&sl_eng, -1, &s);
	sl_stats_visit(&s, json_add_u64, tot);
	for (unsigned i = 0; i < sl_eng.n_workers; i++) {
		json_t *wj = json_object();

		sl_stats_sum(&sl_eng, (int)i, &s);
		json_object_set_new(wj, "id", json_integer(i));
		json_object_set_new(wj, "lcore", json_integer(sl_eng.w[i]->lcore));
		sl_stats_visit(&s, json_add_u64, wj);
		json_array_append_new(workers, wj);
	}
	for (unsigned i = 0; i < sl_eng.n_ports; i++) {
		const struct sl_port *p = &sl_eng.ports[i];
		struct rte_eth_stats es;
		json_t *pj = json_object();
		char buf[RTE_ETHER_ADDR_FMT_SIZE];

		json_object_set_new(pj, "dev", json_string(p->conf.dev));
		rte_ether_format_addr(buf, sizeof(buf), &p->mac);
		json_object_set_new(pj, "mac", json_string(buf));
		if (!rte_eth_stats_get(p->port_id, &es)) {
			json_object_set_new(pj, "ipackets", json_integer((json_int_t)es.ipackets));
			json_object_set_new(pj, "opackets", json_integer((json_int_t)es.opackets));
			json_object_set_new(pj, "ierrors", json_integer((json_int_t)es.ierrors));
			json_object_set_new(pj, "imissed", json_integer((json_int_t)es.imissed));
		}
		json_object_set_new(ports, p->conf.name, pj);
	}
	{
		json_t *tcp = json_object();

		sl_tcp_stats_visit(&sl_eng, -1, json_add_u64, tcp);
		json_object_set_new(out, "tcp", tcp);
	}
	{
		json_t *h2 = json_object();

		sl_h2_stats_visit(json_add_u64, h2);
		json_object_set_new(out, "http2", h2);
	}
	{
		uint64_t st = 0, fin = 0, act = 0;

		for (unsigned i = 0; i < sl_eng.n_workers; i++) {
			uint64_t a, b, c;

			sl_hm_worker_stats(i, &a, &b, &c);
			st += a;
			fin += b;
			act += c;
		}
		json_object_set_new(out, "health_probes", json_pack("{s:I,s:I,s:I}", "started", (json_int_t)st,
								    "finished", (json_int_t)fin, "active", (json_int_t)act));
	}
	json_object_set_new(out, "totals", tot);
	json_object_set_new(out, "workers", workers);
	json_object_set_new(out, "ports", ports);
	return 0;
}

static void dns_stats_sum(uint32_t slot, struct sl_dns_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < sl_eng.n_workers; i++) {
		const uint64_t *src = (const uint64_t *)&sl_eng.w[i]->dns_stats[slot];
		uint64_t *dst = (uint64_t *)t;

		/* struct sl_dns_stats is all uint64_t, so sum it word by word */
		for (size_t k = 0; k < sizeof(*t) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
}

static json_t *dns_stats_json(const struct sl_dns_stats *t)
{
	static const char *rc[] = { "noerror", "formerr", "servfail", "nxdomain", "notimp", "refused" };
	json_t *o = json_object(), *drops = json_object(), *errs = json_object(), *rcodes = json_object();

	json_object_set_new(o, "queries", json_integer((json_int_t)t->queries));
	json_object_set_new(o, "responses", json_integer((json_int_t)t->responses));
	json_object_set_new(o, "dropped", json_integer((json_int_t)t->drops));
	for (unsigned i = 0; i < 6; i++)
		json_object_set_new(rcodes, rc[i], json_integer((json_int_t)t->rcode[i]));
	json_object_set_new(rcodes, "badvers", json_integer((json_int_t)t->badvers));
	json_object_set_new(o, "rcodes", rcodes);
	json_object_set_new(o, "nodata", json_integer((json_int_t)t->nodata));
	json_object_set_new(o, "truncated", json_integer((json_int_t)t->truncated));
	json_object_set_new(o, "edns", json_integer((json_int_t)t->edns));
	json_object_set_new(o, "gslb_answers", json_integer((json_int_t)t->gslb));
	json_object_set_new(o, "gslb_down_responses", json_integer((json_int_t)t->gslb_down));
	for (unsigned i = 1; i < SL_DNS_DROP_MAX; i++)
		json_object_set_new(drops, sl_dns_drop_name(i), json_integer((json_int_t)t->drop[i]));
	for (unsigned i = 1; i < SL_DNS_ERR_MAX; i++)
		json_object_set_new(errs, sl_dns_err_name(i), json_integer((json_int_t)t->err[i]));
	json_object_set_new(o, "drop_reasons", drops);
	json_object_set_new(o, "errors", errs);
	return o;
}

static json_t *l4_vs_json(uint32_t slot)
{
	struct sl_proxy_vs_stats v;

	sl_proxy_vs_stats(slot, &v);
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "connections", (json_int_t)v.cur,
			 "connections_total", (json_int_t)v.total, "bytes_in", (json_int_t)v.bytes_in,
			 "bytes_out", (json_int_t)v.bytes_out, "connect_failures", (json_int_t)v.connect_fail,
			 "no_server", (json_int_t)v.no_server, "limit_vs", (json_int_t)v.limit_vs,
			 "limit_server", (json_int_t)v.limit_server, "idle_closed", (json_int_t)v.idle_closed,
			 "drain_reset", (json_int_t)v.drain_reset);
}

int sl_engine_server_runtime(void *arg, uint32_t slot, json_t *out)
{
	struct sl_proxy_srv_stats s;

	(void)arg;
	if (slot >= SL_MAX_HEALTH)
		return -EINVAL;
	sl_proxy_srv_stats(slot, &s);
	json_object_set_new(out, "connections", json_integer((json_int_t)s.cur));
	json_object_set_new(out, "connections_total", json_integer((json_int_t)s.total));
	json_object_set_new(out, "bytes_in", json_integer((json_int_t)s.bytes_in));
	json_object_set_new(out, "bytes_out", json_integer((json_int_t)s.bytes_out));
	json_object_set_new(out, "connect_failures", json_integer((json_int_t)s.connect_fail));
	json_object_set_new(out, "passive_outs", json_integer((json_int_t)s.passive_out));
	json_object_set_new(out, "response_failures", json_integer((json_int_t)s.response_fail));
	json_object_set_new(out, "passive_out_workers", json_integer(s.out_workers));
	json_object_set_new(out, "connect_time_us", json_integer(s.connect_us));
	return 0;
}

/* An HTTP VS's counters and what became of its access-log records. */
static void http_vs_runtime(uint32_t slot, json_t *out)
{
	struct sl_http_vs_stats h;
	struct sl_alog_counts a;

	sl_http_vs_stats(slot, &h);
	sl_alog_counts(slot, &a);
	json_object_set_new(out, "http", sl_http_vs_json(&h));
	json_object_set_new(out, "access_logs", json_pack("{s:I,s:I,s:I,s:I}", "logged", (json_int_t)a.logged,
							  "throttled", (json_int_t)a.throttled,
							  "ring_full", (json_int_t)a.ring_full,
							  "not_written", (json_int_t)a.not_written));
}

int sl_engine_vs_runtime(void *arg, uint32_t slot, json_t *out)
{
	struct sl_dns_stats t;
	uint64_t logged = 0, throttled = 0, ring_full = 0;

	(void)arg;
	if (slot >= SL_MAX_VS)
		return -EINVAL;
	dns_stats_sum(slot, &t);
	for (unsigned i = 0; i < sl_eng.n_workers; i++) {
		logged += sl_eng.w[i]->qlog.logged;
		throttled += sl_eng.w[i]->qlog.throttled;
		ring_full += sl_eng.w[i]->qlog.ring_full;
	}
	if (t.queries)
		json_object_set_new(out, "dns", dns_stats_json(&t));
	{
		const struct sl_gen *g = sl_eng.gen;    /* main lcore: freed only here */
		uint32_t idx = g ? g->vs_by_slot[slot] : SL_GEN_NONE;

		if (idx != SL_GEN_NONE && g->vs[idx].app_type == SL_APP_L4)
			json_object_set_new(out, "l4", l4_vs_json(slot));
		if (idx != SL_GEN_NONE && g->vs[idx].app_type == SL_APP_HTTP)
			http_vs_runtime(slot, out);
	}
	json_object_set_new(out, "query_logs", json_pack("{s:I,s:I,s:I}", "logged", (json_int_t)logged,
							 "throttled", (json_int_t)throttled,
							 "ring_full", (json_int_t)ring_full));
	return 0;
}

uint64_t sl_engine_member_answers(void *arg, uint32_t health_slot)
{
	uint64_t n = 0;

	(void)arg;
	for (unsigned i = 0; i < sl_eng.n_workers && health_slot < SL_MAX_HEALTH; i++)
		n += sl_eng.w[i]->member_answers[health_slot];
	return n;
}

struct metrics_ctx {
	char **buf;
	size_t *len, *cap;
	int rc;
};

__attribute__((format(printf, 2, 3)))
static void metric_printf(struct metrics_ctx *m, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) || m->rc)
		return;
	if (*m->len + (size_t)n + 1 > *m->cap) {
		size_t cap = (*m->cap ? *m->cap : 4096) * 2 + (size_t)n;
		char *nb = realloc(*m->buf, cap);

		if (!nb) {
			m->rc = -ENOMEM;
			return;
		}
		*m->buf = nb;
		*m->cap = cap;
	}
	memcpy(*m->buf + *m->len, line, (size_t)n + 1);
	*m->len += (size_t)n;
}

static void metric_line(void *arg, const char *name, uint64_t v)
{
	if (!strncmp(name, "cycles_", 7) || !strcmp(name, "loops_busy"))
		return; /* per worker, worker_metrics() */
	if (!strncmp(name, "drop_", 5))
		metric_printf(arg, "sluice_drops_total{reason=\"%s\"} %lu\n", name + 5, (unsigned long)v);
	else
		metric_printf(arg, "sluice_%s_total %lu\n", name, (unsigned long)v);
}

static void tcp_metric_line(void *arg, const char *name, uint64_t v)
{
	/* gauges for the two current counts, counters for the rest */
	if (!strcmp(name, "active") || !strcmp(name, "time_wait") || !strncmp(name, "mem_", 4))
		metric_printf(arg, "sluice_tcp_%s %lu\n", name, (unsigned long)v);
	else
		metric_printf(arg, "sluice_tcp_%s_total %lu\n", name, (unsigned long)v);
}

/* Cycle accounting per worker: a sum over workers hides one saturated
 * worker next to an idle one. tsc_hz turns cycles into seconds. */
static void worker_metrics(struct metrics_ctx *m)
{
	metric_printf(m, "sluice_tsc_hz %lu\n", (unsigned long)sl_eng.tsc_hz);
	for (unsigned i = 0; i < sl_eng.n_workers; i++) {
		const struct sl_wstats *s = &sl_eng.w[i]->st;

		metric_printf(m, "sluice_worker_cycles_total{worker=\"%u\",state=\"busy\"} %lu\n", i,
			      (unsigned long)s->cycles_busy);
		metric_printf(m, "sluice_worker_cycles_total{worker=\"%u\",state=\"idle\"} %lu\n", i,
			      (unsigned long)s->cycles_idle);
		metric_printf(m, "sluice_worker_busy_loops_total{worker=\"%u\"} %lu\n", i,
			      (unsigned long)s->loops_busy);
	}
}

/* VS names are validated by control to a safe character set, so they go
 * into label values as they are. */
static void dns_metrics(struct metrics_ctx *m)
{
	static const char *rc[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };
	const struct sl_gen *g = sl_eng.gen;
	struct sl_dns_stats t;

	for (uint32_t i = 0; g && i < g->n_vs; i++) {
		const struct sl_gen_vs *vs = &g->vs[i];

		if (vs->app_type != SL_APP_DNS)
			continue;
		dns_stats_sum(vs->slot, &t);
		metric_printf(m, "sluice_dns_queries_total{vs=\"%s\"} %lu\n", vs->name, (unsigned long)t.queries);
		metric_printf(m, "sluice_dns_dropped_total{vs=\"%s\"} %lu\n", vs->name, (unsigned long)t.drops);
		for (unsigned r = 0; r < 6; r++)
			metric_printf(m, "sluice_dns_responses_total{vs=\"%s\",rcode=\"%s\"} %lu\n", vs->name,
				      rc[r], (unsigned long)t.rcode[r]);
		metric_printf(m, "sluice_dns_truncated_total{vs=\"%s\"} %lu\n", vs->name,
			      (unsigned long)t.truncated);
		metric_printf(m, "sluice_dns_gslb_answers_total{vs=\"%s\"} %lu\n", vs->name,
			      (unsigned long)t.gslb);
	}
}

/* L4 proxy: per VS and per pool server (with its health). Names are
 * validated by control to a safe character set. */
static void l4_metrics(struct metrics_ctx *m)
{
	const struct sl_gen *g = sl_eng.gen;

	for (uint32_t i = 0; g && i < g->n_vs; i++) {
		const struct sl_gen_vs *vs = &g->vs[i];
		struct sl_proxy_vs_stats v;

		if (vs->app_type != SL_APP_L4)
			continue;
		sl_proxy_vs_stats(vs->slot, &v);
		metric_printf(m, "sluice_l4_vs_connections{vs=\"%s\"} %lu\n", vs->name, (unsigned long)v.cur);
		metric_printf(m, "sluice_l4_vs_connections_total{vs=\"%s\"} %lu\n", vs->name, (unsigned long)v.total);
		metric_printf(m, "sluice_l4_vs_bytes_total{vs=\"%s\",dir=\"in\"} %lu\n", vs->name,
			      (unsigned long)v.bytes_in);
		metric_printf(m, "sluice_l4_vs_bytes_total{vs=\"%s\",dir=\"out\"} %lu\n", vs->name,
			      (unsigned long)v.bytes_out);
		metric_printf(m, "sluice_l4_vs_connect_failures_total{vs=\"%s\"} %lu\n", vs->name,
			      (unsigned long)v.connect_fail);
		metric_printf(m, "sluice_l4_vs_refused_total{vs=\"%s\",reason=\"no_server\"} %lu\n", vs->name,
			      (unsigned long)v.no_server);
		metric_printf(m, "sluice_l4_vs_refused_total{vs=\"%s\",reason=\"limit_vs\"} %lu\n", vs->name,
			      (unsigned long)v.limit_vs);
		metric_printf(m, "sluice_l4_vs_refused_total{vs=\"%s\",reason=\"limit_server\"} %lu\n", vs->name,
			      (unsigned long)v.limit_server);
		metric_printf(m, "sluice_l4_vs_closed_total{vs=\"%s\",reason=\"idle\"} %lu\n", vs->name,
			      (unsigned long)v.idle_closed);
		metric_printf(m, "sluice_l4_vs_closed_total{vs=\"%s\",reason=\"drain\"} %lu\n", vs->name,
			      (unsigned long)v.drain_reset);
	}
	for (uint32_t p = 0; g && p < g->n_pools; p++) {
		const struct sl_gen_pool *pool = &g->pools[p];

		for (uint32_t i = 0; i < pool->n_servers; i++) {
			const struct sl_gen_server *sv = &g->servers[pool->first_server + i];
			struct sl_proxy_srv_stats s;
			char ip[INET_ADDRSTRLEN];

			if (sv->slot >= SL_MAX_HEALTH)
				continue;
			sl_proxy_srv_stats(sv->slot, &s);
			inet_ntop(AF_INET, &sv->ip, ip, sizeof(ip));
#define SRV_LABELS "pool=\"%s\",server=\"%s:%u\""
			metric_printf(m, "sluice_l4_server_up{" SRV_LABELS "} %u\n", pool->name, ip, sv->port,
				      g->health ? g->health[sv->slot] : 1u);
			metric_printf(m, "sluice_l4_server_connections{" SRV_LABELS "} %lu\n", pool->name, ip, sv->port,
				      (unsigned long)s.cur);
			metric_printf(m, "sluice_l4_server_connections_total{" SRV_LABELS "} %lu\n", pool->name, ip,
				      sv->port, (unsigned long)s.total);
			metric_printf(m, "sluice_l4_server_bytes_total{" SRV_LABELS ",dir=\"in\"} %lu\n", pool->name, ip,
				      sv->port, (unsigned long)s.bytes_in);
			metric_printf(m, "sluice_l4_server_bytes_total{" SRV_LABELS ",dir=\"out\"} %lu\n", pool->name, ip,
				      sv->port, (unsigned long)s.bytes_out);
			metric_printf(m, "sluice_l4_server_connect_failures_total{" SRV_LABELS "} %lu\n", pool->name, ip,
				      sv->port, (unsigned long)s.connect_fail);
#undef SRV_LABELS
		}
	}
}

static void metric_put(void *m, const char *line)
{
	metric_printf(m, "%s", line);
}

static void h2_metric_line(void *arg, const char *name, uint64_t v)
{
	if (!strcmp(name, "mem_bytes"))
		metric_printf(arg, "sluice_h2_mem_bytes %lu\n", (unsigned long)v);
	else
		metric_printf(arg, "sluice_h2_%s_total %lu\n", name, (unsigned long)v);
}

/* Summed first, then written family by family (http_obs.c). */
static void http_metrics(struct metrics_ctx *m)
{
	const struct sl_gen *g = sl_eng.gen;
	struct sl_http_vs_stats *st;
	const char **names;
	unsigned n = 0;

	for (uint32_t i = 0; g && i < g->n_vs; i++)
		n += g->vs[i].app_type == SL_APP_HTTP;
	if (!n)
		return;
	st = malloc(sizeof(*st) * n);
	names = malloc(sizeof(*names) * n);
	if (!st || !names) {
		m->rc = -ENOMEM;
		free(st);
		free(names);
		return;
	}
	n = 0;
	for (uint32_t i = 0; i < g->n_vs; i++)
		if (g->vs[i].app_type == SL_APP_HTTP) {
			names[n] = g->vs[i].name;
			sl_http_vs_stats(g->vs[i].slot, &st[n++]);
		}
	sl_http_metrics_text(metric_put, m, n, names, st, sl_http_lat_bounds_us);
	free(st);
	free(names);
}

int sl_engine_metrics(void *arg, char **buf, size_t *len, size_t *cap)
{
	struct metrics_ctx m = { buf, len, cap, 0 };
	struct sl_wstats s;

	(void)arg;
	sl_stats_sum(&sl_eng, -1, &s);
	sl_stats_visit(&s, metric_line, &m);
	worker_metrics(&m);
	sl_tcp_stats_visit(&sl_eng, -1, tcp_metric_line, &m);
	dns_metrics(&m);
	l4_metrics(&m);
	http_metrics(&m);
	sl_h2_stats_visit(h2_metric_line, &m);
	return m.rc;
}



/* The TCP secret (RFC 6528 ISNs, SYN cookies, timestamp offsets) lives in
 * the state dir, readable by root only: with it and a boot-time clock, a
 * restarted engine's ISNs and timestamps carry on from the last run's, so
 * servers still holding its 4-tuples in TIME_WAIT accept the new SYNs.
 * Without a usable state dir each start draws a fresh one. */
static int tcp_secret_load(const char *state, uint8_t secret[32])
{
	char path[512], tmp[520];
	int fd;

	snprintf(path, sizeof(path), "%s/tcp-secret", state);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, secret, 32);

		close(fd);
		if (n == 32)
			return 0;
	}
	if (getrandom(secret, 32, 0) != 32)
		return -EIO;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, secret, 32) != 32 || fsync(fd)) {
		close(fd);
		unlink(tmp);
		return -EIO;
	}
	close(fd);
	return rename(tmp, path) ? -errno : 0;
}

/* DPDK 22.11's AF_XDP PMD registers a worker pool as one UMEM from the
 * pool's first memory chunk for populated_size x object size bytes. A pool
 * on 2 MiB pages keeps objects from straddling page boundaries, so the
 * padding at each page end pushes the last objects past that length: the
 * kernel rejects them as invalid descriptors (XDP_STATISTICS
 * tx_invalid_descs), silently, and never completes them. A frame sent from
 * one is lost, and every retransmission drawn from the same stretch of the
 * pool is lost too: seconds-long transmit stalls on both ports. Those few
 * mbufs are taken out of the pool for good before any port uses it. */
struct umem_range {
	uintptr_t base;
	uint64_t size;
	size_t hdr, obj;
	unsigned outside;
};

static bool umem_outside(const struct umem_range *r, const void *obj)
{
	uintptr_t a = (uintptr_t)obj - r->hdr;

	return a < r->base || a - r->base + r->obj > r->size;
}

static void umem_count_cb(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	struct umem_range *r = arg;

	(void)mp;
	(void)idx;
	r->outside += umem_outside(r, obj);
}

static int quarantine_outside_umem(struct rte_mempool *mp, unsigned *kept)
{
	struct rte_mempool_memhdr *mh = STAILQ_FIRST(&mp->mem_list);
	struct umem_range r;
	void **all;
	unsigned n = 0, k = 0;

	*kept = 0;
	if (!mh)
		return 0;
	r.base = (uintptr_t)mh->addr & ~((uintptr_t)getpagesize() - 1);
	r.hdr = mp->header_size;
	r.obj = rte_mempool_calc_obj_size(mp->elt_size, mp->flags, NULL);
	r.size = (uint64_t)mp->populated_size * r.obj + ((uintptr_t)mh->addr - r.base);
	r.outside = 0;
	rte_mempool_obj_iter(mp, umem_count_cb, &r);
	if (!r.outside)
		return 0;
	all = malloc(sizeof(*all) * mp->populated_size);
	if (!all)
		return -ENOMEM;
	while (n < mp->populated_size && !rte_mempool_get(mp, &all[n]))
		n++;
	for (unsigned i = 0; i < n; i++) {
		if (umem_outside(&r, all[i]))
			k++;            /* never put back: held for the process's life */
		else
			rte_mempool_put(mp, all[i]);
	}
	free(all);
	*kept = k;
	return 0;
}


static int workers_init(char *err, size_t errlen)
{
	unsigned lcore, id = 0;
	size_t sz;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct sl_worker *w;
		char name[32];

		if (id == SL_MAX_WORKERS) {
			snprintf(err, errlen, "more than %d worker lcores", SL_MAX_WORKERS);
			return -E2BIG;
		}
		w = rte_zmalloc_socket("sl_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
				       (int)rte_lcore_to_socket_id(lcore));
		snprintf(name, sizeof(name), "sl_mbuf_%u", id);
		sl_eng.pools[id] = rte_pktmbuf_pool_create(name, NB_MBUF, MBUF_CACHE, 0,
							   RTE_MBUF_DEFAULT_BUF_SIZE,
							   (int)rte_lcore_to_socket_id(lcore));
		if (!w || !sl_eng.pools[id]) {
			snprintf(err, errlen, "worker %u: out of hugepage memory (%s): reserve more 2 MiB pages",
				 id, rte_strerror(rte_errno));
			return -ENOMEM;
		}
		{
			unsigned kept;

			if (quarantine_outside_umem(sl_eng.pools[id], &kept)) {
				snprintf(err, errlen, "worker %u: out of memory", id);
				return -ENOMEM;
			}
			if (kept)
				fprintf(stderr, "sluice: worker %u: %u of %u mbufs lie past the AF_XDP UMEM "
					"length (page padding); kept out of use\n", id, kept,
					sl_eng.pools[id]->populated_size);
		}
		w->dns_stats = calloc(SL_MAX_VS, sizeof(*w->dns_stats));
		w->member_answers = calloc(SL_MAX_HEALTH, sizeof(*w->member_answers));
		w->vip_seen = calloc(SL_VIP_SEEN, sizeof(*w->vip_seen));
		if (!w->dns_stats || !w->member_answers || !w->vip_seen ||
		    sl_qlog_worker_init(&w->qlog, id)) {
			snprintf(err, errlen, "worker %u: out of memory for counters and logs", id);
			return -ENOMEM;
		}
		w->id = id;
		w->lcore = lcore;
		w->pool = sl_eng.pools[id];
		w->sleep_us = 1;
		sl_eng.w[id++] = w;
	}
	if (!id) {
		snprintf(err, errlen, "no worker lcore: give EAL at least two lcores (-l 0,1)");
		return -EINVAL;
	}
	sl_eng.n_workers = id;
	for (unsigned s = 0; s < id; s++)
		for (unsigned d = 0; d < id; d++) {
			char name[32];

			if (s == d)
				continue;
			snprintf(name, sizeof(name), "sl_ho_%u_%u", s, d);
			sl_eng.ho[s][d] = rte_ring_create(name, SL_HANDOFF_RING, SOCKET_ID_ANY,
							  RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!sl_eng.ho[s][d]) {
				snprintf(err, errlen, "handoff ring %s: %s", name, rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
	sz = rte_rcu_qsbr_get_memsize(id);
	sl_eng.qs = rte_zmalloc("sl_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (!sl_eng.qs || rte_rcu_qsbr_init(sl_eng.qs, id)) {
		snprintf(err, errlen, "RCU init failed");
		return -ENOMEM;
	}
	return 0;
}

static void impair_seed(void)
{
	for (unsigned w = 0; w < sl_eng.n_workers; w++)
		for (unsigned p = 0; p < sl_eng.n_ports; p++)
			for (unsigned d = 0; d < 2; d++) {
				uint64_t s = sl_eng.ports[p].conf.impair[d].seed;

				/* distinct, reproducible streams per worker/port/direction */
				s ^= 0x9E3779B97F4A7C15ull * (1 + w * 16 + p * 2 + d);
				sl_eng.w[w]->imp[p][d].rng.s = s ? s : 1;
			}
}

/* ---- the engine's life, called by the process (control/main.c) */
int sl_engine_eal_init(int argc, char **argv)
{
	int rc = rte_eal_init(argc, argv);

	if (rc < 0)
		fprintf(stderr, "sluice: EAL init failed: %s\n", rte_strerror(rte_errno));
	return rc;
}

static int start_fail(char *err, size_t errlen, const char *msg)
{
	if (msg)
		snprintf(err, errlen, "%s", msg);
	sl_ports_stop(&sl_eng);
	return -1;
}

int sl_engine_start(const struct sl_engine_args *a, char *err, size_t errlen)
{
	char e[512];
	int rc;

	rc = sl_startup_load(a->startup, &sl_eng.su, e, sizeof(e));
	if (rc) {
		snprintf(err, errlen, "start-up file: %s", e);
		return rc;
	}
	sl_eng.tsc_hz = rte_get_tsc_hz();
	sl_eng.tsc_us = sl_tsc_scale_init(sl_eng.tsc_hz, 1000000);
	sl_eng.tsc_ns = sl_tsc_scale_init(sl_eng.tsc_hz, 1000000000);
	sl_eng.start_tsc = rte_rdtsc() - sl_eng.su.clock_offset_cycles;
	{
		struct timespec ts;
		uint64_t now = sl_now_us();

		clock_gettime(CLOCK_REALTIME, &ts);
		sl_eng.wall_base_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 - now;
		clock_gettime(CLOCK_BOOTTIME, &ts);
		sl_eng.boot_base_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 - now;
	}
	mkdir(a->state_dir, 0700);
	rc = tcp_secret_load(a->state_dir, sl_eng.tcp_secret);
	if (rc)
		fprintf(stderr, "sluice: warning: %s/tcp-secret: %s; TCP ISNs restart from a new secret\n",
			a->state_dir, strerror(-rc));
	if ((rc = workers_init(err, errlen)) || (rc = sl_ports_init(&sl_eng, err, errlen)))
		return start_fail(err, errlen, NULL);
	impair_seed();
	if (sl_hm_engine_init(sl_eng.n_workers))
		return start_fail(err, errlen, "health probe rings: out of hugepage memory");
	if (sl_alog_init(sl_eng.n_workers))
		return start_fail(err, errlen, "access-log rings: out of hugepage memory");
	for (unsigned i = 0; i < sl_eng.n_workers; i++)
		if (sl_tcp_worker_init(sl_eng.w[i])) {
			snprintf(e, sizeof(e), "worker %u: TCP stack: out of memory for %u connections "
				 "(lower 'tcp max-conns' or reserve more hugepages)", i, sl_eng.su.tcp_max_conns);
			return start_fail(err, errlen, e);
		}
	if (sl_telemetry_init())
		fprintf(stderr, "sluice: warning: telemetry commands not registered\n");
	sl_eng_log_dir = a->log_dir;
	return 0;
}

unsigned sl_engine_workers(void)
{
	return sl_eng.n_workers;
}

void sl_engine_launch(void)
{
	unsigned lcore;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		for (unsigned i = 0; i < sl_eng.n_workers; i++)
			if (sl_eng.w[i]->lcore == lcore)
				rte_eal_remote_launch(sl_worker_main, sl_eng.w[i], lcore);
	}
}

void sl_engine_describe(FILE *f)
{
	for (unsigned i = 0; i < sl_eng.n_ports; i++) {
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		rte_ether_format_addr(mac, sizeof(mac), &sl_eng.ports[i].mac);
		fprintf(f, "  port %s: %s mac %s rxq %u txq %u\n", sl_eng.ports[i].conf.name,
			sl_eng.ports[i].conf.dev, mac, sl_eng.ports[i].n_rxq, sl_eng.ports[i].n_txq);
	}
}

void sl_engine_poll(void)
{
	reclaim_poll(false);
	sl_qlog_drain(sl_eng_log_dir);
	sl_alog_drain(sl_eng_log_dir);
}

void sl_engine_stop(void)
{
	sl_eng.stop = true;
	rte_eal_mp_wait_lcore();
	sl_ports_stop(&sl_eng);
	sl_qlog_drain(sl_eng_log_dir);
	sl_qlog_close();
	sl_alog_drain(sl_eng_log_dir);
	sl_alog_close();
}

void sl_engine_fini(void)
{
	reclaim_poll(true);
	if (sl_eng.gen)
		sl_gen_release(sl_eng.gen);
	sl_eng.gen = NULL;
	rte_eal_cleanup();
}

int sl_engine_hm_submit(void *arg, unsigned worker, struct sl_hm_probe *p)
{
	return sl_hm_submit(arg, worker, p);
}

unsigned sl_engine_hm_collect(void *arg, struct sl_hm_probe **out, unsigned max)
{
	return sl_hm_collect(arg, out, max);
}
