/* Two TCP stacks back to back, no ports and no root: the engine's stack with
 * the application layer over it, and a peer stack playing clients and
 * servers with the raw sl_tcp API. Segments travel as mbufs of an EAL
 * started in memory (--no-huge); a fake clock drives both. Generations come
 * from a real control instance (control/) fed JSON. */
#ifndef APP_HARNESS_H
#define APP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_app.h"
#include "sl_control.h"
#include "sl_tcp.h"

#define H_MAX_GENS 512

struct peer_conn {
	struct sl_tcp_conn *c;
	uint8_t *rx;
	size_t rx_len, rx_cap;
	const uint8_t *tx;           /* bytes still to send */
	size_t tx_len, tx_off;
	bool connected, peer_closed, dead, echo, close_when_sent, http;
	size_t scan;                 /* http server: requests answered up to here */
	unsigned served;
	char out[64][256];           /* http server: its answers (tx points here) */
	int err;
};

struct harness {
	struct rte_mempool *pool;
	struct sl_tcp_stack *eng, *peer;
	struct sl_app_worker *aw;
	uint64_t now;
	const void *gen;             /* the engine's current generation */
	struct sl_ctl *ctl;
	char dir[64];
	struct sl_gen *gens[H_MAX_GENS];
	unsigned n_gens;
	struct peer_conn pc[4096];
	unsigned n_pc;
	/* the peer's server listeners echo what they get */
	unsigned accepted;
	/* http servers: the status each address answers with (200 when not set) */
	uint32_t st_ip[8];
	uint16_t st_code[8];
	uint32_t st_body[8];         /* body bytes of its answers; 0: the short "r<n>" */
	unsigned n_st;
	char *big;                   /* a large answer's bytes (h_http_body) */
};

void h_init(struct harness *h, uint16_t echo_port, uint16_t sink_port);
void h_fini(struct harness *h);
/* deliver segments and advance the clock by step_us per round, up to rounds */
void h_pump(struct harness *h, unsigned rounds, uint64_t step_us);
/* until cond(h, arg) or rounds run out; returns cond's last value */
bool h_pump_until(struct harness *h, bool (*cond)(struct harness *, void *), void *arg, unsigned rounds);
/* the peer opens a connection from src to dst:port */
struct peer_conn *h_connect(struct harness *h, uint32_t src, uint32_t dst, uint16_t port);
void h_send(struct harness *h, struct peer_conn *p, const void *data, size_t len);
/* the peer listens on ip:port and echoes */
void h_listen_echo(struct harness *h, uint32_t ip, uint16_t port);
/* the peer listens on ip:port as a tiny HTTP/1.1 server: every request
 * (no body, Content-Length or chunked) gets "200 OK" with body "r<n>" */
void h_listen_http(struct harness *h, uint32_t ip, uint16_t port);
/* the http servers on ip answer status from their next response on */
void h_http_status(struct harness *h, uint32_t ip, uint16_t status);
/* ... and with a body of len bytes (up to 4 MiB; 0: back to "r<n>") */
void h_http_body(struct harness *h, uint32_t ip, uint32_t len);
/* a control request; the published generation becomes the engine's */
int h_api(struct harness *h, const char *method, const char *target, const char *body);
uint32_t h_ip(const char *dotted);

#endif
