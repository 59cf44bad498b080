/* sl_probe.h - TCP and HTTP health probes as an application of the
 * application layer (dataplane/app): the probe's connection is an
 * sl_app_connect active open, so it shares the layer's input queue, timers
 * and transform slot (an HTTPS monitor puts TLS there). The core's probe
 * table (dataplane/core/hm_fp.c) starts them, keeps their deadlines and
 * hands the probe back to control, which judges it (control/hm.c). */
#ifndef SL_APP_PROBE_H
#define SL_APP_PROBE_H

#include <stdint.h>

#include "sl_app.h"
#include "sl_hm.h"

/* The exchange ended with outcome (enum sl_hm_outcome); p->resp holds what
 * came back and, for HTTP, p->status the status of a valid status line.
 * Called once per probe, from inside a callback of this worker (possibly
 * before sl_probe_start returns); the connection is closed by then. */
typedef void (*sl_probe_done_fn)(void *arg, uint8_t outcome);

/* Opens p's connection (kind SL_HM_TCP or SL_HM_HTTP); p->resp_len and
 * p->status are reset. NULL when it cannot start, with *outcome
 * SL_HM_NO_ROUTE or SL_HM_BUSY (no context, TCB or port). */
struct sl_app_conn *sl_probe_start(struct sl_app_worker *aw, struct sl_hm_probe *p, sl_probe_done_fn done,
				   void *arg, uint8_t *outcome);
/* A probe whose deadline passed: reset, no callback. */
void sl_probe_cancel(struct sl_app_conn *c);

#endif
