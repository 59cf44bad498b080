/* Port bring-up: one ethdev per start-up "port" line. Queues: as many as
 * the device offers up to the worker count; RX queue q is polled by worker
 * q % n_workers, TX queue w belongs to worker w, and workers beyond the
 * TX queue count send through their queue owner (see tx_flush). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "engine.h"

/* 4096 receive descriptors: with 1024 an AF_XDP ring overflowed at 8 bulk
 * streams while the worker was busy relaying (docs/benchmarks.md); the ring's
 * mbufs come out of the worker's pool, which is sized with this in mind. */
#define RX_DESC 4096
#define TX_DESC 1024

static uint16_t clamp_queues(uint16_t dev_max, unsigned workers)
{
	unsigned n = dev_max ? dev_max : 1;

	return (uint16_t)(n < workers ? n : workers);
}

static int port_init(struct sl_engine *e, unsigned idx, char *err, size_t errlen)
{
	struct sl_port *p = &e->ports[idx];
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t pid, nb_rxd, nb_txd;
	int rc;

	if (rte_eth_dev_get_port_by_name(p->conf.dev, &pid)) {
		snprintf(err, errlen, "port %s: no DPDK device named '%s' (add --vdev or check the PCI address)",
			 p->conf.name, p->conf.dev);
		return -ENODEV;
	}
	p->port_id = pid;
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc) {
		snprintf(err, errlen, "port %s: cannot read device info: %s", p->conf.name, strerror(-rc));
		return rc;
	}
	p->n_rxq = clamp_queues(info.max_rx_queues, e->n_workers);
	p->n_txq = clamp_queues(info.max_tx_queues, e->n_workers);
	memset(&conf, 0, sizeof(conf));
	/* Checksum offload where the device has it: the TCP checksum covers
	 * every payload byte, the most expensive per-byte work left on the
	 * path. Off by start-up option for comparison runs. */
	if (!p->conf.no_csum_offload) {
		const uint64_t tx = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		const uint64_t rx = RTE_ETH_RX_OFFLOAD_TCP_CKSUM;

		p->tx_csum = (info.tx_offload_capa & tx) == tx;
		p->rx_csum = (info.rx_offload_capa & rx) == rx;
		if (p->tx_csum)
			conf.txmode.offloads |= tx;
		if (p->rx_csum)
			conf.rxmode.offloads |= rx;
	}
	if (p->n_rxq > 1 && info.flow_type_rss_offloads) {
		/* Hardware RSS spreads flows; ownership is still decided by our
		 * symmetric hash, so the NIC hash only has to spread load. */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP);
	}
	rc = rte_eth_dev_configure(pid, p->n_rxq, p->n_txq, &conf);
	if (rc) {
		snprintf(err, errlen, "port %s: configure %u/%u queues: %s", p->conf.name, p->n_rxq,
			 p->n_txq, strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_set_mtu(pid, p->conf.mtu);
	if (rc && rc != -ENOTSUP) {
		snprintf(err, errlen, "port %s: mtu %u: %s", p->conf.name, p->conf.mtu, strerror(-rc));
		return rc;
	}
	nb_rxd = p->conf.rx_ring ? p->conf.rx_ring : RX_DESC;
	nb_txd = p->conf.tx_ring ? p->conf.tx_ring : TX_DESC;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
	if (rc) {
		snprintf(err, errlen, "port %s: ring sizes %u/%u: %s", p->conf.name, nb_rxd, nb_txd,
			 strerror(-rc));
		return rc;
	}
	p->rx_ring = nb_rxd;
	p->tx_ring = nb_txd;
	for (uint16_t q = 0; q < p->n_rxq; q++) {
		unsigned w = q % e->n_workers;

		rc = rte_eth_rx_queue_setup(pid, q, nb_rxd, (unsigned)rte_eth_dev_socket_id(pid), NULL,
					    e->pools[w]);
		if (rc) {
			snprintf(err, errlen, "port %s: rx queue %u: %s", p->conf.name, q, strerror(-rc));
			return rc;
		}
		e->w[w]->has_rxq[idx][q] = true;
	}
	for (uint16_t q = 0; q < p->n_txq; q++) {
		rc = rte_eth_tx_queue_setup(pid, q, nb_txd, (unsigned)rte_eth_dev_socket_id(pid), NULL);
		if (rc) {
			snprintf(err, errlen, "port %s: tx queue %u: %s", p->conf.name, q, strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(pid);
	if (rc) {
		snprintf(err, errlen, "port %s: start: %s", p->conf.name, strerror(-rc));
		return rc;
	}
	rte_eth_macaddr_get(pid, &p->mac);
	p->mask = p->conf.prefix ? rte_cpu_to_be_32(~0u << (32 - p->conf.prefix)) : 0;
	return 0;
}

int sl_ports_init(struct sl_engine *e, char *err, size_t errlen)
{
	e->n_ports = e->su.n_ports;
	for (unsigned i = 0; i < e->n_ports; i++) {
		int rc;

		e->ports[i].conf = e->su.ports[i];
		rc = port_init(e, i, err, errlen);
		if (rc) {
			e->n_ports = i;
			return rc;
		}
	}
	return 0;
}

void sl_ports_stop(struct sl_engine *e)
{
	for (unsigned i = 0; i < e->n_ports; i++) {
		rte_eth_dev_stop(e->ports[i].port_id);
		rte_eth_dev_close(e->ports[i].port_id);
	}
}
