/* Per-query logs: workers push fixed-size records to their own ring
 * (never blocking: a full ring or an exhausted per-VS budget is counted),
 * the main lcore drains the rings and writes JSON lines per VS. */
#ifndef SL_QLOG_H
#define SL_QLOG_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ring.h>

#include "sl_dns.h"

#define SL_QLOG_RING 4096

struct sl_qlog_rec {
	uint64_t ts_us;          /* wall clock, microseconds since the epoch */
	uint32_t client_ip;      /* network order */
	uint16_t client_port;    /* host order */
	uint16_t qtype;
	uint32_t vs_slot;
	uint32_t latency_ns;
	uint8_t rcode, n_ans, flags, drop;
	uint8_t worker, err, tcp, pad;
	uint32_t ans_ip[8];
	char qname[256];
};

/* Per worker and VS slot: a one-second budget, so one chatty VS cannot
 * flood the disk or starve the others' logs. */
struct sl_qlog_budget {
	uint32_t sec;
	uint32_t used;
};

struct sl_qlog_worker {
	struct rte_ring *ring;
	struct sl_qlog_budget *budget;      /* [SL_MAX_VS] */
	uint64_t logged, throttled, ring_full;
};

int sl_qlog_worker_init(struct sl_qlog_worker *q, unsigned worker);
/* Main lcore: drain every worker ring and append JSON lines to
 * log_dir/<vs name>.dns.jsonl. Returns records written. */
unsigned sl_qlog_drain(const char *log_dir);
void sl_qlog_close(void);

/* Worker side, for an answer over UDP or TCP: per-VS counters and
 * per-member answer counts; a query log record within the VS's per-second
 * budget. */
struct sl_worker;
struct sl_gen_vs;
void sl_dns_account(struct sl_worker *w, const struct sl_gen_vs *vs, const struct sl_dns_qlog *ql, size_t rlen);
void sl_qlog_push(struct sl_worker *w, const struct sl_gen_vs *vs, uint32_t client_ip, uint16_t client_port,
		  bool tcp, const struct sl_dns_qlog *ql, uint64_t t0);

#endif
