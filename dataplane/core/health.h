/* hm_fp.c: health probes run by the workers (dataplane/gen/sl_hm.h). */
#ifndef SL_CORE_HEALTH_H
#define SL_CORE_HEALTH_H

#include "engine.h"

/* UDP probes use local ports SL_HM_UDP_LO.. */
#define SL_HM_UDP_LO 61440
struct sl_hm_probe;
int sl_hm_engine_init(unsigned n_workers);
int sl_hm_submit(void *arg, unsigned worker, struct sl_hm_probe *p);          /* main lcore */
unsigned sl_hm_collect(void *arg, struct sl_hm_probe **out, unsigned max);   /* main lcore */
void sl_hm_worker_tick(struct sl_worker *w, uint64_t now);
/* worker that sent the echo request this reply answers, or -1 when not ours */
int sl_hm_icmp_owner(const uint8_t *icmp);
bool sl_hm_icmp_reply(struct sl_worker *w, uint32_t src, const uint8_t *icmp);
bool sl_hm_udp_reply(struct sl_worker *w, uint32_t src, uint16_t sport_h, uint16_t dport_h, const uint8_t *payload,
		     uint32_t len);
void sl_hm_worker_stats(unsigned worker, uint64_t *started, uint64_t *finished, uint64_t *active);

#endif
