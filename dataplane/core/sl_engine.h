/* sl_engine.h - the engine as the process sees it: start it, run it, stop
 * it, and the hooks the control plane calls (same signatures as struct
 * sl_ctl_hooks, so control/main.c passes them as they are). Main lcore only.
 * The data plane's one public face; everything else in dataplane/core is
 * private to it. */
#ifndef SL_ENGINE_API_H
#define SL_ENGINE_API_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "sl_gen.h"
#include "sl_hm.h"

struct sl_engine_args {
	const char *startup;     /* start-up file */
	const char *state_dir;   /* the TCP secret lives here too */
	const char *log_dir;     /* query logs */
};

/* EAL init: returns the arguments it consumed, or <0 (message printed). */
int sl_engine_eal_init(int argc, char **argv);
/* Start-up file, clocks, workers, ports, stacks, telemetry. 0, or <0 with err. */
int sl_engine_start(const struct sl_engine_args *a, char *err, size_t errlen);
unsigned sl_engine_workers(void);
/* Workers start polling (after the first generation is published). */
void sl_engine_launch(void);
void sl_engine_describe(FILE *f);
/* Between control polls: reclaim old generations, drain query logs. */
void sl_engine_poll(void);
/* Workers and ports stop; then (after control is gone) everything is freed. */
void sl_engine_stop(void);
void sl_engine_fini(void);

/* Control's hooks. */
int sl_engine_publish(void *arg, struct sl_gen *g);
int sl_engine_stats(void *arg, json_t *out);
int sl_engine_vs_runtime(void *arg, uint32_t vs_slot, json_t *out);
int sl_engine_metrics(void *arg, char **buf, size_t *len, size_t *cap);
uint64_t sl_engine_member_answers(void *arg, uint32_t health_slot);
int sl_engine_server_runtime(void *arg, uint32_t health_slot, json_t *out);
int sl_engine_hm_submit(void *arg, unsigned worker, struct sl_hm_probe *p);
unsigned sl_engine_hm_collect(void *arg, struct sl_hm_probe **out, unsigned max);

#endif
