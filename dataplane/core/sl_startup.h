/* Start-up file: ports, idle policy and impairment, read once before EAL
 * ports are configured. Everything that can change at run time lives in
 * the control plane's config generations instead. */
#ifndef SL_STARTUP_H
#define SL_STARTUP_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define SL_MAX_PORTS 4
#define SL_NAME_LEN 32

enum sl_port_role { SL_ROLE_FRONTEND = 1, SL_ROLE_BACKEND = 2, SL_ROLE_BOTH = 3 };

enum sl_dir { SL_DIR_RX = 0, SL_DIR_TX = 1 };

struct sl_impair_conf {
	bool on;
	uint64_t seed;
	double drop, dup, reorder, delay;
	uint32_t delay_us;
};

struct sl_port_conf {
	char name[SL_NAME_LEN];
	char dev[64];           /* ethdev name, e.g. net_af_xdp0 */
	enum sl_port_role role;
	uint32_t ip;            /* network order */
	uint8_t prefix;
	uint32_t gw;            /* network order, 0 = none */
	uint16_t mtu;
	uint16_t vlan;          /* 0 = untagged */
	bool no_csum_offload;   /* "csum-offload off": checksums in software even if the device offers them */
	uint16_t rx_ring, tx_ring; /* descriptors per queue, 0 = default; adjusted to the device's limits */
	struct sl_impair_conf impair[2]; /* by enum sl_dir */
};

struct sl_startup {
	unsigned n_ports;
	struct sl_port_conf ports[SL_MAX_PORTS];
	bool idle_backoff;
	uint32_t idle_max_sleep_us;
	uint16_t udp_echo_port;  /* test-only UDP echo on interface IPs, 0 = off */
	uint32_t udp_probe_ip;   /* test-only: worker 0 sends a datagram there */
	uint16_t udp_probe_port; /* every second, through route + ARP resolution */
	/* test-only TCP endpoints on interface addresses, 0 = off */
	uint16_t tcp_echo_port, tcp_sink_port, tcp_source_port;
	/* TCP stack, per worker */
	uint32_t tcp_max_conns;          /* default 8192 */
	uint32_t tcp_syncookie_threshold; /* half-open connections, default 1024 */
	uint32_t tcp_data_retries;       /* RTO expiries before abort, 0 = stack default (15) */
	uint32_t tcp_rto_max_ms;         /* 0 = stack default (60000) */
	uint32_t arp_ttl_s;              /* neighbour entry lifetime before re-confirmation, default 300 */
	/* test-only: the engine clock starts this many TSC cycles in, so a
	 * test reaches points of its range (e.g. 2^64 / 10^6 cycles, where the
	 * old conversion overflowed) soon after start; 0 = off */
	uint64_t clock_offset_cycles;
};

/* Parse a start-up file. On error returns -EINVAL (or -errno for I/O) and
 * writes "FILE:LINE: field: reason" into err. */
int sl_startup_load(const char *path, struct sl_startup *out, char *err, size_t errlen);
/* Same, from memory; name is used in messages. */
int sl_startup_parse(const char *name, const char *text, struct sl_startup *out,
		     char *err, size_t errlen);

#endif
