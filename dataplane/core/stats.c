/* Counters: each worker owns its struct sl_wstats; readers (telemetry
 * thread, control) sum snapshots. No atomics on the packet path. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_xdp.h>
#include <sys/socket.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "engine.h"
#include "sl_h2_stats.h"
#include "health.h"
#include "stack.h"

#define FIELDS(X) \
	X(rx_pkts) X(tx_pkts) X(rx_bytes) X(tx_bytes) X(arp_replied) X(arp_requests_sent) \
	X(arp_learned) X(arp_expired) X(garp_sent) X(icmp_echo_replied) X(udp_echo_replied) X(udp_probes_sent) X(tcp_segs_in) \
	X(rx_csum_offloaded) X(tx_csum_offloaded) X(tx_csum_reused) X(dns_queries) \
	X(dns_answered) X(dns_dropped) X(handoff_out) X(handoff_in) X(loops) X(idle_sleeps) \
	X(impair_dup) X(impair_reorder) X(impair_delay) X(cycles_busy) X(cycles_idle) X(loops_busy) X(cycles_io)

void sl_stats_sum(const struct sl_engine *e, int worker, struct sl_wstats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < e->n_workers; i++) {
		const struct sl_wstats *s = &e->w[i]->st;

		if (worker >= 0 && (unsigned)worker != i)
			continue;
#define ADD(f) out->f += s->f;
		FIELDS(ADD)
#undef ADD
		for (unsigned r = 0; r < SL_DROP__MAX; r++)
			out->drop[r] += s->drop[r];
	}
}

/* Visit every counter by name; used by telemetry, /api/stats and /metrics
 * so the three never disagree on names. */
void sl_stats_visit(const struct sl_wstats *s, void (*fn)(void *, const char *, uint64_t), void *arg)
{
#define VISIT(f) fn(arg, #f, s->f);
	FIELDS(VISIT)
#undef VISIT
	for (unsigned r = 1; r < SL_DROP__MAX; r++) {
		char name[64];

		snprintf(name, sizeof(name), "drop_%s", sl_drop_name(r));
		fn(arg, name, s->drop[r]);
	}
}

static void tel_add(void *arg, const char *name, uint64_t v)
{
	rte_tel_data_add_dict_u64(arg, name, v);
}

/* Telemetry parameter: empty for all workers (-1), or one worker's id.
 * Returns the worker, -1, or -EINVAL. */
static int tel_worker_param(const char *params)
{
	char *end;
	long v;

	if (!params || !*params)
		return -1;
	v = strtol(params, &end, 10);
	if (*end || v < 0 || (unsigned long)v >= sl_eng.n_workers)
		return -EINVAL;
	return (int)v;
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sl_wstats s;
	int worker = tel_worker_param(params);

	(void)cmd;
	if (worker == -EINVAL)
		return -EINVAL;
	sl_stats_sum(&sl_eng, worker, &s);
	rte_tel_data_start_dict(d);
	sl_stats_visit(&s, tel_add, d);
	return 0;
}

static int tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < sl_eng.n_ports; i++) {
		const struct sl_port *p = &sl_eng.ports[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		struct rte_eth_stats es;
		char buf[64];

		if (!c)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "dev", p->conf.dev);
		rte_tel_data_add_dict_int(c, "port_id", p->port_id);
		rte_ether_format_addr(buf, sizeof(buf), &p->mac);
		rte_tel_data_add_dict_string(c, "mac", buf);
		inet_ntop(AF_INET, &p->conf.ip, buf, sizeof(buf));
		rte_tel_data_add_dict_string(c, "ip", buf);
		rte_tel_data_add_dict_int(c, "prefix", p->conf.prefix);
		rte_tel_data_add_dict_int(c, "rx_queues", p->n_rxq);
		rte_tel_data_add_dict_int(c, "tx_queues", p->n_txq);
		rte_tel_data_add_dict_int(c, "tx_csum_offload", p->tx_csum);
		rte_tel_data_add_dict_int(c, "rx_csum_offload", p->rx_csum);
		rte_tel_data_add_dict_int(c, "rx_ring", p->rx_ring);
		rte_tel_data_add_dict_int(c, "tx_ring", p->tx_ring);
		if (!rte_eth_stats_get(p->port_id, &es)) {
			rte_tel_data_add_dict_u64(c, "ipackets", es.ipackets);
			rte_tel_data_add_dict_u64(c, "opackets", es.opackets);
			rte_tel_data_add_dict_u64(c, "ierrors", es.ierrors);
			rte_tel_data_add_dict_u64(c, "imissed", es.imissed);
			rte_tel_data_add_dict_u64(c, "oerrors", es.oerrors);
		}
		rte_tel_data_add_dict_container(d, p->conf.name, c, 0);
	}
	return 0;
}

/* The AF_XDP sockets' own counters (XDP_STATISTICS): frames the kernel
 * dropped because a ring was full or a descriptor was invalid never reach
 * an ethdev counter (the PMD reports only rx_dropped, as imissed), so this
 * is the one place they show. Found by probing this process's descriptors;
 * a telemetry-thread syscall per socket, never on the packet path. */
static int tel_xsk(const char *cmd, const char *params, struct rte_tel_data *d)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		struct xdp_statistics xs;
		socklen_t len = sizeof(xs);
		struct rte_tel_data *c;
		int fd = atoi(de->d_name);
		char key[32];

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || fd == dirfd(dir))
			continue;
		if (getsockopt(fd, SOL_XDP, XDP_STATISTICS, &xs, &len) || len < sizeof(xs))
			continue;
		c = rte_tel_data_alloc();
		if (!c)
			break;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "rx_dropped", xs.rx_dropped);
		rte_tel_data_add_dict_u64(c, "rx_invalid_descs", xs.rx_invalid_descs);
		rte_tel_data_add_dict_u64(c, "tx_invalid_descs", xs.tx_invalid_descs);
		rte_tel_data_add_dict_u64(c, "rx_ring_full", xs.rx_ring_full);
		rte_tel_data_add_dict_u64(c, "rx_fill_ring_empty_descs", xs.rx_fill_ring_empty_descs);
		rte_tel_data_add_dict_u64(c, "tx_ring_empty_descs", xs.tx_ring_empty_descs);
		snprintf(key, sizeof(key), "fd%d", fd);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
	closedir(dir);
	return 0;
}

static int tel_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < sl_eng.n_workers; i++) {
		const struct sl_worker *w = sl_eng.w[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		char name[16];

		if (!c)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_int(c, "lcore", (int)w->lcore);
		rte_tel_data_add_dict_u64(c, "loops", w->st.loops);
		rte_tel_data_add_dict_u64(c, "idle_sleeps", w->st.idle_sleeps);
		rte_tel_data_add_dict_u64(c, "loops_busy", w->st.loops_busy);
		rte_tel_data_add_dict_u64(c, "cycles_busy", w->st.cycles_busy);
		rte_tel_data_add_dict_u64(c, "cycles_idle", w->st.cycles_idle);
		rte_tel_data_add_dict_u64(c, "cycles_io", w->st.cycles_io);
		rte_tel_data_add_dict_u64(c, "rx_pkts", w->st.rx_pkts);
		rte_tel_data_add_dict_u64(c, "handoff_in", w->st.handoff_in);
		rte_tel_data_add_dict_u64(c, "handoff_out", w->st.handoff_out);
		rte_tel_data_add_dict_u64(c, "mbufs_free", rte_mempool_avail_count(w->pool));
		rte_tel_data_add_dict_u64(c, "mbufs_total", w->pool->size);
		snprintf(name, sizeof(name), "%u", i);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	return 0;
}

#define TCP_FIELDS(X) \
	X(segs_in) X(segs_out) X(bytes_in) X(bytes_out) X(bad_segs) X(tx_fail) X(rst_in) X(rst_out) \
	X(no_conn) X(active_opens) X(passive_opens) X(established) X(conn_refused) X(accept_refused) \
	X(conn_reset) X(conn_timeout) X(conn_closed) X(retrans_segs) X(rto_expired) X(fast_retrans) \
	X(sack_recoveries) X(dupacks_in) X(lost_retrans) X(ooo_segs) X(ooo_drops) X(dup_data) \
	X(rcv_wnd_drops) X(challenge_acks) X(challenge_ack_limited) X(paws_drops) X(bad_acks) \
	X(oow_acks_limited) X(syn_in) X(syn_drops) X(syncookies_sent) X(syncookies_ok) \
	X(syncookies_bad) X(mss_floored) X(mss_refused) X(tw_entered) X(tw_overflow) X(tw_reuse) \
	X(tw_expired) X(delayed_acks) X(quick_acks) X(zwin_probes) X(keepalive_probes) \
	X(keepalive_timeouts) X(tlp_probes) X(snd_no_block) X(ooo_no_block) X(mem_drops)

void sl_tcp_stats_visit(const struct sl_engine *e, int worker,
			void (*fn)(void *, const char *, uint64_t), void *arg)
{
	struct sl_tcp_engine_stats t, sum;

	memset(&sum, 0, sizeof(sum));
	for (unsigned i = 0; i < e->n_workers; i++) {
		if (worker >= 0 && (unsigned)worker != i)
			continue;
		sl_tcp_worker_stats(e->w[i], &t);
#define ADD(f) sum.c.f += t.c.f;
		TCP_FIELDS(ADD)
#undef ADD
		sum.active += t.active;
		sum.mem_per_conn = t.mem_per_conn;
		sum.mem_blocks += t.mem_blocks;
		sum.time_wait += t.time_wait;
		sum.no_ctx += t.no_ctx;
		sum.dns_tcp_queries += t.dns_tcp_queries;
		sum.dns_tcp_dropped += t.dns_tcp_dropped;
		sum.echo_overflow += t.echo_overflow;
		sum.idle_closed += t.idle_closed;
		sum.mem_pressure += t.mem_pressure;
		sum.mem_pressure_events += t.mem_pressure_events;
		sum.mem_tight += t.mem_tight;
		sum.mem_tight_events += t.mem_tight_events;
		sum.proxy_accepted += t.proxy_accepted;
		sum.proxy_connect_fail += t.proxy_connect_fail;
		sum.proxy_no_server += t.proxy_no_server;
		sum.proxy_bytes_c2s += t.proxy_bytes_c2s;
		sum.proxy_bytes_s2c += t.proxy_bytes_s2c;
		sum.app_conns += t.app_conns;
		sum.app_no_pin += t.app_no_pin;
		sum.app_in_coalesced += t.app_in_coalesced;
		sum.app_in_blocks_used += t.app_in_blocks_used;
		sum.app_pinned_gens += t.app_pinned_gens;
	}
#define VISIT(f) fn(arg, #f, sum.c.f);
	TCP_FIELDS(VISIT)
#undef VISIT
	fn(arg, "active", sum.active);
	/* bytes an idle established connection costs: the stack's slot plus
	 * the engine's per-connection context; queues come from shared blocks */
	fn(arg, "mem_per_idle_conn", sum.mem_per_conn);
	fn(arg, "mem_queue_blocks", sum.mem_blocks);
	fn(arg, "time_wait", sum.time_wait);
	fn(arg, "app_no_context", sum.no_ctx);
	fn(arg, "dns_tcp_queries", sum.dns_tcp_queries);
	fn(arg, "dns_tcp_dropped", sum.dns_tcp_dropped);
	/* received data with no input-queue block left for it (the connection was reset) */
	fn(arg, "echo_overflow", sum.echo_overflow);
	fn(arg, "idle_closed", sum.idle_closed);
	fn(arg, "mem_pressure", sum.mem_pressure);
	fn(arg, "mem_pressure_events", sum.mem_pressure_events);
	fn(arg, "mem_tight", sum.mem_tight);
	fn(arg, "mem_tight_events", sum.mem_tight_events);
	fn(arg, "proxy_accepted", sum.proxy_accepted);
	fn(arg, "proxy_connect_fail", sum.proxy_connect_fail);
	fn(arg, "proxy_no_server", sum.proxy_no_server);
	fn(arg, "proxy_bytes_c2s", sum.proxy_bytes_c2s);
	fn(arg, "proxy_bytes_s2c", sum.proxy_bytes_s2c);
	fn(arg, "app_conns", sum.app_conns);
	fn(arg, "app_no_pin", sum.app_no_pin);
	fn(arg, "app_in_coalesced", sum.app_in_coalesced);
	fn(arg, "app_in_blocks_used", sum.app_in_blocks_used);
	fn(arg, "app_pinned_gens", sum.app_pinned_gens);
}

static int tel_tcp(const char *cmd, const char *params, struct rte_tel_data *d)
{
	int worker = tel_worker_param(params);

	(void)cmd;
	if (worker == -EINVAL)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	sl_tcp_stats_visit(&sl_eng, worker, tel_add, d);
	return 0;
}

static int tel_h2(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	sl_h2_stats_visit(tel_add, d);
	return 0;
}

static void tel_add_line(void *arg, const char *line)
{
	rte_tel_data_add_array_string(arg, line);
}

static int tel_conns(const char *cmd, const char *params, struct rte_tel_data *d)
{
	int worker = tel_worker_param(params);

	(void)cmd;
	if (worker == -EINVAL)
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (unsigned i = 0; i < sl_eng.n_workers; i++)
		if (worker < 0 || (unsigned)worker == i)
			sl_tcp_worker_conns(sl_eng.w[i], tel_add_line, d, 200);
	return 0;
}

/* The engine clock and the bases that turn it into wall and boot time, so
 * tests can see where in its range it is (test clock-offset-cycles) and
 * that both derived clocks still match the system's. */
static int tel_clock(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t tsc = rte_rdtsc();

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "tsc_hz", sl_eng.tsc_hz);
	rte_tel_data_add_dict_u64(d, "cycles", tsc - sl_eng.start_tsc);
	rte_tel_data_add_dict_u64(d, "offset_cycles", sl_eng.su.clock_offset_cycles);
	rte_tel_data_add_dict_u64(d, "now_us", sl_tsc_us(tsc));
	rte_tel_data_add_dict_u64(d, "wall_us", sl_eng.wall_base_us + sl_tsc_us(tsc));
	rte_tel_data_add_dict_u64(d, "boot_us", sl_eng.boot_base_us + sl_tsc_us(tsc));
	return 0;
}

int sl_telemetry_init(void)
{
	int rc = rte_telemetry_register_cmd("/sluice/stats", tel_stats,
		"Engine counters summed over workers. Parameter: worker id for one worker");

	rc = rc ? rc : rte_telemetry_register_cmd("/sluice/ports", tel_ports,
		"Ports: device, MAC, address, queues, ethdev counters");
	rc = rc ? rc : rte_telemetry_register_cmd("/sluice/xsk", tel_xsk,
						  "AF_XDP socket counters (XDP_STATISTICS) per socket");
	rc = rc ? rc : rte_telemetry_register_cmd("/sluice/tcp", tel_tcp,
		"TCP stack counters summed over workers. Parameter: worker id for one worker");
	rc = rc ? rc : rte_telemetry_register_cmd("/sluice/h2", tel_h2,
		"HTTP/2 counters summed over workers: sessions, streams, resets, GOAWAYs, floods, memory");
	rc = rc ? rc : rte_telemetry_register_cmd("/sluice/conns", tel_conns,
		"Open TCP connections with an application (up to 200 per worker): tuple, state, queues, windows");
	rc = rc ? rc : rte_telemetry_register_cmd("/sluice/workers", tel_workers,
		"Workers: lcore, loops, idle sleeps, busy and idle cycles, handoffs");
	rc = rc ? rc : rte_telemetry_register_cmd("/sluice/clock", tel_clock,
		"Engine clock: TSC rate, cycles and microseconds since its zero, wall and boot time from it");
	return rc;
}
