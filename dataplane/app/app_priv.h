/* Private to dataplane/app: the per-worker state of the layer and the
 * hooks between the layer and its built-in applications. */
#ifndef SL_APP_PRIV_H
#define SL_APP_PRIV_H

#include <inttypes.h>

#include <rte_common.h>

#include "sl_app.h"

#define PIN_MAX 128         /* generations a worker's connections can pin at once */
#define PIN_NONE 0xff
#define WHEEL_SLOTS 4096    /* 1 ms each: a 4 s horizon, later deadlines go round */
#define WHEEL_MASK (WHEEL_SLOTS - 1)

struct sl_app_snap {
	uint32_t lip, rip;
	uint16_t lport, rport;
	uint8_t state;
	bool eof;
	const char *app;             /* the ops' static name */
	uint32_t in_bytes, snd_wnd, rcv_wnd, cwnd, rto_us, space;
	uint64_t gen;
	char detail[40];
};

struct sl_app_l4_worker;
struct sl_app_http_worker;
struct sl_up_worker;
struct sl_app_tls_worker;
struct sl_app_h2_worker;

struct sl_app_worker {
	struct sl_app_env env;
	struct sl_app_conf conf;
	uint32_t local_ips[8];
	unsigned n_local_ips;
	struct sl_app_conn *conns, *free_conns;
	uint32_t n_conns;
	struct sl_app_qblk *qblks, *free_qblk;
	uint32_t n_qblk, qblk_used;
	/* generation pins (sl_app_gen_pinned reads them from the main lcore) */
	const struct sl_gen *pin_gen[PIN_MAX];
	uint32_t pin_cnt[PIN_MAX];
	uint8_t pin_last;
	/* deferred work (sl_app_defer) */
	struct sl_app_conn *dhead;
	/* timers */
	uint64_t wheel_ms;
	struct sl_app_conn *wheel[WHEEL_SLOTS];
	/* the operator's snapshot: asked (snap_req) by a reader, done by the worker */
	uint32_t snap_req, snap_done;
	unsigned snap_n, snap_max;
	struct sl_app_snap *snap;
	struct sl_app_stats st;
	/* the built-in applications' per-worker state */
	struct sl_up_worker *up;
	struct sl_app_l4_worker *l4;
	struct sl_app_http_worker *http;
	struct sl_app_tls_worker *tls;
	struct sl_app_h2_worker *h2;
	uint8_t scratch[65536 + 2];  /* contiguous views (sl_app_in_view) of this worker's apps */
	uint8_t out[65536 + 2];      /* a response being built (DNS over TCP) */
};

/* input-queue entries and blocks (app_fp.c uses them, app.c sizes the pool) */
#define QBLK_ENTRIES 32
/* segments shorter than this are copied onto the queue's tail buffer, so a
 * peer dribbling tiny segments costs bytes, not queue entries (Linux's
 * tcp_collapse does the same for its receive queue) */
#define COALESCE_MAX 256

struct sl_app_qent {
	struct rte_mbuf *m;          /* one segment, referenced */
	uint32_t off;
	uint16_t len;
	bool owned;                  /* filled by us: may take more bytes while only we hold it */
};

struct sl_app_qblk {
	struct sl_app_qblk *next;
	struct sl_app_qent e[QBLK_ENTRIES];
};

struct rte_mbuf *sl_app_mbuf(struct sl_app_worker *aw);   /* a payload buffer, sum tag cleared */

/* Byte queues an application keeps itself (the layer's input-queue code):
 * references to [off, off+len) of m / a copy of d; a contiguous view of
 * the first n bytes (scratch when they span buffers); the first buffer;
 * consumed bytes and the whole queue given back. */
int sl_app_q_push_ref(struct sl_app_worker *aw, struct sl_app_inq *q, struct rte_mbuf *m, uint32_t off, uint32_t len);
int sl_app_q_copy_in(struct sl_app_worker *aw, struct sl_app_inq *q, const void *d, uint32_t len);
const uint8_t *sl_app_q_view(struct sl_app_inq *q, uint32_t n, uint8_t *scratch);
const uint8_t *sl_app_q_first(const struct sl_app_inq *q, uint32_t *len);
void sl_app_q_consume(struct sl_app_worker *aw, struct sl_app_inq *q, uint32_t n);
void sl_app_q_release(struct sl_app_worker *aw, struct sl_app_inq *q);

int sl_app_l4_init(struct sl_app_worker *aw);
void sl_app_l4_fini(struct sl_app_worker *aw);
void sl_app_l4_tick(struct sl_app_worker *aw, uint64_t now);
int sl_app_test_init(struct sl_app_worker *aw);
int sl_app_http_init(struct sl_app_worker *aw);
void sl_app_http_fini(struct sl_app_worker *aw);
void sl_app_http_tick(struct sl_app_worker *aw, uint64_t now);
int sl_app_h2_init(struct sl_app_worker *aw);
void sl_app_h2_fini(struct sl_app_worker *aw);
void sl_app_h2_tick(struct sl_app_worker *aw, uint64_t now);
int sl_app_tls_init(struct sl_app_worker *aw);
void sl_app_tls_fini(struct sl_app_worker *aw);
/* A connection accepted on a service port with enable_ssl: the TLS
 * transform goes under inner, whose accept runs once the handshake is done
 * (with the VS the SNI chose). 0, or <0 to refuse (the stack resets it). */
int sl_app_tls_accept(struct sl_app_conn *c, const struct sl_gen_vs *vs, const struct sl_app_ops *inner);

#endif
