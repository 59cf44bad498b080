/* l2_fp.c: the worker's output path (transmit, ARP, routing, hand-off). */
#ifndef SL_CORE_L2_H
#define SL_CORE_L2_H

#include "engine.h"

/* port index that routes to dst (network order) and the next hop, or -1 */
int sl_route(uint32_t dst, uint32_t *nh);
/* an IPv4 frame out of port pidx to next hop nh: resolved, queued, sent */
void sl_l2_output(struct sl_worker *w, struct rte_mbuf *m, int pidx, uint32_t nh);
/* m goes to the worker that owns its flow */
void sl_handoff(struct sl_worker *w, unsigned owner, unsigned pidx, struct rte_mbuf *m);
/* transmit queue of port pidx: as is / through the port's TX impairment / flushed */
void sl_tx_raw(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m);
void sl_tx_pkt(struct sl_worker *w, unsigned pidx, struct rte_mbuf *m);
void sl_tx_flush(struct sl_worker *w, unsigned pidx);
/* The port's seeded impairment in direction dir: the packet to pass on now,
 * or NULL when it was dropped, delayed or held back; duplicates and
 * released packets go out through emit(). */
struct rte_mbuf *sl_impair(struct sl_worker *w, unsigned pidx, unsigned dir, struct rte_mbuf *m,
			   void (*emit)(struct sl_worker *, unsigned, struct rte_mbuf *));
void sl_arp_send(struct sl_worker *w, unsigned pidx, uint16_t op, uint32_t tpa, const uint8_t *tha,
		 const uint8_t *eth_dst, uint32_t spa);
void sl_arp_learn(struct sl_worker *w, unsigned pidx, uint32_t ip, const uint8_t *mac, bool create);
/* ARP retries and expiry of pending packets */
void sl_arp_timer(struct sl_worker *w, uint64_t now);

#endif
