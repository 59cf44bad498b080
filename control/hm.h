/* Private: health monitors on the control side: compiled monitor parameters, the probe schedule,
 * verdicts and the failed_checks / successful_checks state machine that writes the health table. */
#ifndef SL_HM_PRIV_H
#define SL_HM_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "sl_hm.h"

struct sl_hm;

struct sl_hm_hooks {
	void *arg;
	int (*submit)(void *arg, unsigned worker, struct sl_hm_probe *p);     /* 0 or -ENOBUFS */
	unsigned (*collect)(void *arg, struct sl_hm_probe **out, unsigned max);
};

/* health: the SL_MAX_HEALTH table the state machine writes. hooks NULL (or without submit): targets
   are tracked but no probe runs. */
struct sl_hm *sl_hm_create(volatile uint8_t *health, unsigned n_workers, const struct sl_hm_hooks *hooks);
void sl_hm_destroy(struct sl_hm *);

/* Checks a healthmonitor object beyond its schema. 0, or -1 with the field (relative path) and why. */
int sl_hm_check(const json_t *data, char *rel, size_t rlen, char *detail, size_t dlen);

/* The monitor stored in healthmonitor object slot hm_slot changed (data NULL: deleted). */
int sl_hm_monitor_set(struct sl_hm *, uint32_t hm_slot, const char *name, const json_t *data);

/* What health slot `slot` stands for: ip (network order) and port (host order, 0 = the monitor's
   default) checked by the monitors in hm_slots. n = 0: the slot is no longer monitored (health up).
   Targets that stay keep their counters and state. */
int sl_hm_targets(struct sl_hm *, uint32_t slot, uint32_t ip, uint16_t port, const uint32_t *hm_slots, unsigned n);

/* Collect finished probes and send the ones that are due. Cheap when nothing is due. */
void sl_hm_poll(struct sl_hm *);

/* State of the monitors of a slot for runtime APIs (new reference), or NULL when unmonitored. */
json_t *sl_hm_runtime(struct sl_hm *, uint32_t slot);

/* Tests: milliseconds from fn instead of CLOCK_MONOTONIC. */
void sl_hm_set_clock(struct sl_hm *, uint64_t (*fn)(void *), void *arg);

/* Counts for /metrics. */
void sl_hm_metrics(struct sl_hm *, uint32_t *targets, uint32_t *down, uint64_t *sent, uint64_t *skipped);

/* Totals for /api/status. */
json_t *sl_hm_status(struct sl_hm *);

#endif
