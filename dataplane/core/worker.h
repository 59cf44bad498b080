/* worker_fp.c: the poll loop and the receive path. */
#ifndef SL_CORE_WORKER_H
#define SL_CORE_WORKER_H

#include "engine.h"

int sl_worker_main(void *arg);
/* gratuitous ARP for VIPs new in the current generation (and the ports' own addresses) */
void sl_worker_garp(struct sl_worker *w, bool ports_too);

#endif
