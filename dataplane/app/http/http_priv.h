/* Private to dataplane/app/http: the proxy's per-request, per-connection
 * and per-worker state, shared by the per-request code (http_fp.c) and the
 * set-up and counter readers (http.c). */
#ifndef SL_APP_HTTP_PRIV_H
#define SL_APP_HTTP_PRIV_H

#include "../app_priv.h"
#include "sl_h1.h"
#include "sl_http_stats.h"
#include "sl_policy.h"

#define MAX_HDRS 100
#define HEAD_VIEW_MAX 65536u                     /* bytes of a head looked at (the worker's scratch) */
#define HDR_ACTIONS 32                           /* request header actions kept per request */
#define TRIES 3
#define SRV_RESPONSE_TIMEOUT_US (60ull * 1000000)
#define SRV_IDLE_TIMEOUT_US (30ull * 1000000)   /* a pooled server connection unused this long closes */
#define SRV_IDLE_MAX 64                          /* pooled connections per server per worker */
#define SRV_BUF (256u << 10)
#define SRV_RCV_MIN (32u << 10)   /* a server connection's receive buffer until its client shows a window */
#define RI_MAX 1024                              /* method, host, path, query kept for logs and response rules */
#define MAX_HTTP_WORKERS 64

enum { HC_IDLE, HC_HEAD, HC_BODY, HC_WAIT, HC_TUNNEL, HC_LINGER };

/* After the last response on a connection, our FIN goes out and what the
 * client still sends is read and dropped for up to this long before the
 * close (nginx's lingering close): closing with unread input would answer
 * it with an RST, and an RST makes the client's kernel drop the response
 * it has not read yet (a refused request's 400 would never be seen). */
#define LINGER_US (5ull * 1000000)

struct txn {
	struct txn *next_free;
	struct sl_app_conn *cli, *srv;
	struct sl_h1_parser req, rsp;
	struct sl_h1_chunked req_ck, rsp_ck;
	uint64_t req_left, rsp_left;     /* Content-Length bytes still to relay */
	uint32_t req_pend, rsp_pend;     /* chunked: bytes decoded, not yet relayed */
	uint8_t req_body, rsp_body;      /* enum sl_h1_body */
	bool req_done, rsp_head, rsp_done, head_sent, head_kept, upgrade;
	bool idempotent, client_close, head_req, head_in, req_ck_done, rsp_ck_done;
	uint8_t client_minor;
	uint8_t tries;
	uint16_t status;
	uint32_t head_len;
	uint32_t tried[TRIES];
	uint32_t pool_idx, pg_idx;       /* the target, in the pinned generation */
	uint32_t pool_used;              /* the pool the server was picked from */
	uint32_t srv_slot, srv_ip;
	uint16_t srv_port;
	uint8_t err;                     /* enum sl_http_log_err */
	uint64_t t0, t_srv;
	uint64_t bytes_in, bytes_out;
	uint64_t srv_tx, srv_rx;         /* bytes written to / read from the server, not yet counted */
	bool srv_judged;                 /* passive health already told about this response */
	bool slow_armed;                 /* the slow-reader deadline runs (reset by progress only) */
	int32_t rule_index;
	/* the request as matched: views into ri */
	struct sl_policy_req preq;
	uint16_t ri_len;
	char ri[RI_MAX];
	unsigned n_hdr;
	const struct sl_policy_hdr_action *hdr[HDR_ACTIONS];
	struct sl_h1_header req_h[MAX_HDRS], rsp_h[MAX_HDRS];
};

/* client side (inline in the connection) */
struct hc {
	struct txn *t;
	const struct sl_gen_vs *vs;       /* in the connection's pinned generation */
	uint8_t state;
	bool eof_seen;
	uint32_t n_req;
	uint64_t last_us;
	struct sl_app_conn *own;          /* connection multiplexing off: this client's server connection */
};

/* server side */
struct hs {
	struct txn *t;                    /* the request it carries, or NULL */
	struct sl_app_conn *owner;        /* multiplexing off: the client it belongs to */
	struct sl_app_conn *iprev, *inext;
	uint32_t slot;
	uint32_t requests;
	uint64_t since;                   /* connect start, then last use */
	bool connected, idle;
	bool rcv_big;                     /* receive buffer SRV_BUF (else SRV_RCV_MIN) */
};

struct sl_app_http_worker {
	struct sl_app_worker *aw;
	struct sl_policy_worker_ctx *pctx;
	struct txn *txns, *free_txn;
	uint32_t n_txn, txn_used;
	struct sl_app_conn **idle;        /* by server slot: pooled connections */
	uint16_t *n_idle;
	struct sl_http_vs_stats *vs;      /* by VS slot */
};

extern struct sl_app_http_worker *sl_http_workers[MAX_HTTP_WORKERS];

#endif
