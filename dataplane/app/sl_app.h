/* sl_app.h - the application layer: what every protocol on a TCP connection
 * (L4 proxy, DNS over TCP, HTTP, the test endpoints) implements, and the
 * helpers it uses instead of talking to the TCP stack itself.
 *
 * One sl_app_worker per worker lcore, shared-nothing. A connection is an
 * sl_app_conn: the TCP connection, the input queue of received bytes (mbuf
 * references, no copies), an optional byte-stream transform between TCP and
 * the application (TLS goes there), a timer, and the generation the
 * connection pinned when it began. Applications are tables of callbacks
 * (struct sl_app_ops) chosen per connection: for a passive one by the
 * virtual service the generation maps its VIP:port to (sl_app_classify), for
 * an active one by whoever opens it.
 *
 * Per-packet code: nothing here allocates from the heap, locks, logs or
 * blocks. Contexts, queue blocks and snapshots come from per-worker pools
 * sized at start. The layer never includes dataplane/core: the core hands it
 * an environment (struct sl_app_env) of values and hooks, so the layer and
 * its applications run over any pair of stacks, e.g. in unit tests.
 */
#ifndef SL_APP_H
#define SL_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "sl_gen.h"
#include "sl_tcp.h"

struct sl_app_worker;
struct sl_app_conn;
struct sl_app_xf_info;
struct sl_dns_qlog;
struct sl_http_log;

/* What the core gives the layer, per worker. */
struct sl_app_env {
	unsigned worker_id, n_workers;
	struct rte_mempool *pool;        /* payload mbufs */
	struct sl_tcp_stack *st;         /* this worker's stack */
	const uint64_t *now_us;          /* clock of the current loop iteration */
	const void *const *gen;          /* generation seen in this iteration (struct sl_gen *) */
	/* local address to reach dst from (the address of the port that routes
	 * to it), or 0 when no port does */
	uint32_t (*src_for)(void *arg, uint32_t dst);
	/* DNS over TCP answered (or dropped) one query: per-VS accounting and
	 * the query log, the same as for UDP. NULL: not reported. */
	void (*dns_done)(void *arg, const struct sl_gen_vs *vs, const struct sl_dns_qlog *ql, size_t rlen,
			 uint32_t client, uint16_t cport, uint64_t t0_tsc);
	/* HTTP access-log record (sl_http_stats.h) of a request on vs: the hook
	 * copies it (throttled per VS), never blocks. NULL: not logged. */
	void (*http_log)(void *arg, const struct sl_gen_vs *vs, const struct sl_http_log *rec);
	void *arg;
};

struct sl_app_conf {
	uint32_t max_conns;              /* contexts: one per TCB (the stack's max_conns) */
	uint32_t in_blocks;              /* input-queue blocks (0: max_conns / 2, at least 1024) */
	uint32_t snap_max;               /* connections one snapshot can hold (0: 4096) */
	/* test endpoints on the interface addresses: 0 = off */
	uint16_t echo_port, sink_port, source_port;
	const uint32_t *local_ips;       /* interface addresses, network order */
	unsigned n_local_ips;
};

/* Callbacks of one application. Each runs inside a stack call of this
 * worker and may call any sl_app_* function on the same worker; after
 * sl_app_close/abort returns, no callback is made for that connection. */
struct sl_app_ops {
	const char *name;
	/* A passive connection reached ESTABLISHED on vs (NULL for a test
	 * endpoint). Return 0, or <0 to reset it. */
	int (*accept)(struct sl_app_conn *c, const struct sl_gen_vs *vs);
	/* An active open completed. */
	void (*connected)(struct sl_app_conn *c);
	/* The input queue grew (sl_app_in_len). */
	void (*data)(struct sl_app_conn *c);
	/* Send space came back after a send that returned -EAGAIN. */
	void (*writable)(struct sl_app_conn *c);
	/* The peer finished sending: no input beyond what is queued. */
	void (*eof)(struct sl_app_conn *c);
	/* The deadline set with sl_app_timer_set passed. */
	void (*timer)(struct sl_app_conn *c);
	/* The transport failed (enum sl_tcp_err: reset, timeout, refused).
	 * The app must end the connection (close or abort) before returning. */
	void (*error)(struct sl_app_conn *c, int reason);
	/* A few words on the connection's state for the operator's snapshot
	 * (run by the worker when asked, never per packet). NULL: none. */
	void (*describe)(const struct sl_app_conn *c, char *buf, size_t len);
	/* Work asked for with sl_app_defer: runs once the current receive
	 * batch (or tick) is done, outside every other callback of this
	 * worker, so it may end any connection. NULL: never deferred. */
	void (*deferred)(struct sl_app_conn *c);
};

/* A virtual connection has no TCP under it: another application carries
 * it (an HTTP/2 stream is one, so the HTTP/1.1 proxy serves it like a
 * client connection). Its output goes to these hooks; its input is what
 * the carrier pushes (sl_app_in_push). The hooks run inside the virtual
 * connection's application: they must not end a connection (defer it). */
struct sl_app_vops {
	/* bytes [off, off+len) of m by reference: 0, or -EAGAIN when the
	 * carrier holds enough already (sl_app_vconn_writable follows) */
	int (*send)(struct sl_app_conn *c, void *vctx, struct rte_mbuf *m, uint32_t off, uint32_t len);
	/* the application consumed n input bytes (flow control) */
	void (*consumed)(struct sl_app_conn *c, void *vctx, uint32_t n);
	/* what it can send now without -EAGAIN */
	uint32_t (*space)(const struct sl_app_conn *c, const void *vctx);
	/* the connection ends (enum sl_app_xf_end): after this no hook runs */
	void (*end)(struct sl_app_conn *c, void *vctx, int how);
};

/* A byte-stream transform between TCP and the application (NULL = plain).
 * input: raw bytes are queued (sl_app_raw_*); decode what it can, push
 * plaintext with sl_app_in_push, consume raw with sl_app_raw_consume, and
 * stop while sl_app_in_len is over the application's appetite, so the TCP
 * window closes on a slow reader. output: encode len plaintext bytes of m
 * and send the result with sl_app_raw_send. Both return 0 or -errno (the
 * connection is aborted). */
struct sl_app_xform {
	const char *name;
	int (*input)(struct sl_app_conn *c, void *xctx);
	int (*output)(struct sl_app_conn *c, void *xctx, struct rte_mbuf *m, uint32_t off, uint32_t len);
	/* The connection is being shut down for writing, closed or aborted
	 * (enum sl_app_xf_end), before the layer tells TCP: the transform
	 * writes its last bytes (TLS close_notify) and, unless only shut
	 * down, frees its state. NULL: nothing to do. */
	void (*end)(struct sl_app_conn *c, void *xctx, int how);
	bool secure;                     /* the peer is authenticated and the bytes encrypted (TLS) */
	/* What the transform negotiated, for an application's logs (NULL: nothing). */
	void (*info)(const struct sl_app_conn *c, const void *xctx, struct sl_app_xf_info *out);
};
struct sl_app_xf_info {
	char sni[64];                    /* truncated */
	char version[8];                 /* "TLSv1.3" */
	char cipher[32];
	bool resumed;
};
enum sl_app_xf_end { SL_APP_XF_SHUTDOWN, SL_APP_XF_CLOSE, SL_APP_XF_ABORT };

/* Received bytes waiting for the application: mbuf references in blocks
 * taken from the worker's pool as the queue grows and given back as it
 * drains, so an idle connection holds none. Private to the layer. */
struct sl_app_inq {
	struct sl_app_qblk *head, *tail;
	uint32_t bytes;
	uint16_t hidx, tidx;             /* first used entry of head, next free one of tail */
};

struct sl_app_conn {
	/* for applications to read */
	struct sl_app_worker *aw;
	struct sl_tcp_conn *tc;
	const struct sl_app_ops *ops;
	void *ctx;                       /* the application's */
	const struct sl_gen *gen;        /* pinned at accept; NULL for active opens */
	uint32_t lip, rip;               /* network order */
	uint16_t lport, rport;           /* host order */
	bool eof;                        /* peer sent FIN (input may still be queued) */
	bool passive;
	/* the layer's */
	uint8_t in_ops;                  /* callbacks of this connection running (nested) */
	bool dead;
	uint8_t pin_idx;
	const struct sl_app_xform *xf;
	void *xctx;
	struct sl_app_inq in, raw;
	uint64_t deadline_us;
	struct sl_app_conn *tprev, *tnext;   /* timer wheel slot */
	struct sl_app_conn *dprev, *dnext;   /* deferred-work list */
	bool deferred;
	/* a virtual connection's (sl_app_vconn_open) */
	const struct sl_app_vops *vo;
	void *vctx;
	struct sl_app_conn *carrier;
	struct sl_app_conn *next_free;
	uint64_t priv[14];               /* the application's own small state (sl_app_priv) */
};

/* The application's inline state (at most sizeof(c->priv) bytes). */
#define sl_app_priv(c, type) \
	(__extension__({ _Static_assert(sizeof(type) <= sizeof(((struct sl_app_conn *)0)->priv), \
				       #type " too large for sl_app_conn.priv"); \
			 (type *)(void *)(c)->priv; }))

/* ---- the core's side */
struct sl_app_worker *sl_app_worker_create(const struct sl_app_env *env, const struct sl_app_conf *conf);
void sl_app_worker_destroy(struct sl_app_worker *aw);
/* The stack's conf.serves hook: does the current generation (or a test
 * endpoint) accept connections on lip:lport? Called per SYN. */
bool sl_app_serves(void *aw, uint32_t lip, uint16_t lport);
/* Listen ops for the stack's wildcard listener (arg = the sl_app_worker). */
extern const struct sl_tcp_listen_ops sl_app_listen_ops;
/* Timers, idle scans and the snapshot request; call at least every ms. */
void sl_app_tick(struct sl_app_worker *aw, uint64_t now_us);

/* Generation pins: a connection holds its generation until it ends. True
 * while any connection of this worker pins g (main lcore, after the RCU
 * grace period of g: pins can then only go down). */
bool sl_app_gen_pinned(const struct sl_app_worker *aw, const struct sl_gen *g);

struct sl_app_stats {
	uint64_t conns, no_ctx, no_pin, in_no_block, in_coalesced, accepted;
	uint64_t dns_tcp_queries, dns_tcp_dropped, idle_closed, vconns;
	uint64_t in_blocks_used, in_blocks_total, pinned_gens;
};
void sl_app_worker_stats(const struct sl_app_worker *aw, struct sl_app_stats *out);
size_t sl_app_conn_mem(void);    /* bytes per connection context */

/* A snapshot of this worker's connections for the operator, taken by the
 * worker itself (sl_app_tick) when asked: the reader never touches live
 * contexts. Call from any non-worker thread; waits up to timeout_ms.
 * Returns the number of lines given to fn, or -ETIMEDOUT. */
int sl_app_conns_dump(struct sl_app_worker *aw, void (*fn)(void *, const char *), void *arg, unsigned max,
		      unsigned timeout_ms);

/* ---- for applications */
uint64_t sl_app_now(const struct sl_app_conn *c);
const struct sl_gen *sl_app_current_gen(const struct sl_app_worker *aw);
const struct sl_app_env *sl_app_env(const struct sl_app_worker *aw);

/* Active open to ip:port (network order / host order) from the address
 * that routes there. It pins no generation (c->gen NULL): it works for a
 * connection that holds one, and a pooled server connection may outlive
 * that one's generation. NULL with *err = -EHOSTUNREACH (no route),
 * -ENOBUFS, -EADDRNOTAVAIL. */
struct sl_app_conn *sl_app_connect(struct sl_app_worker *aw, uint32_t ip, uint16_t port,
				   const struct sl_app_ops *ops, void *ctx, int *err);
/* End: FIN after queued data (the stack finishes on its own) / RST. */
void sl_app_close(struct sl_app_conn *c);
void sl_app_abort(struct sl_app_conn *c);
/* Half-close: FIN after queued data, input still flows. */
int sl_app_shutdown(struct sl_app_conn *c);

/* Input. */
static inline uint32_t sl_app_in_len(const struct sl_app_conn *c) { return c->in.bytes; }
/* The first n (<= sl_app_in_len) input bytes as one contiguous run: a
 * pointer into the first buffer when they lie in it, else a copy in
 * scratch (n bytes). */
const uint8_t *sl_app_in_view(struct sl_app_conn *c, uint32_t n, uint8_t *scratch);
/* The bytes of the first queued buffer (a decoder walks the input buffer
 * by buffer without copying); NULL when the queue is empty. */
const uint8_t *sl_app_in_first(const struct sl_app_conn *c, uint32_t *len);
/* Drop the first n input bytes; the TCP window opens by as much. */
void sl_app_in_consume(struct sl_app_conn *c, uint32_t n);
/* Send up to max queued input bytes on to another connection by reference
 * (zero copy), consuming them as they go. *moved = bytes sent. Returns 0
 * when the queue (or max) is exhausted, -EAGAIN when to's send space ran
 * out (its writable follows), -EPIPE/-errno when to cannot send. */
int sl_app_in_relay(struct sl_app_conn *c, struct sl_app_conn *to, uint32_t max, uint32_t *moved);
/* Limits per connection: the receive window (bytes unconsumed before the
 * peer must wait) and the send buffer. */
int sl_app_set_bufs(struct sl_app_conn *c, uint32_t sndbuf, uint32_t rcvbuf);
/* Nagle off: a request/response protocol writes a head and relays a body
 * as separate sends, and Nagle would hold the second until the peer's
 * (delayed: 40 ms) ACK of the first. */
void sl_app_set_nodelay(struct sl_app_conn *c, bool on);

/* Output. -EAGAIN: no space now (writable follows); -EPIPE: shut down. */
uint32_t sl_app_send_space(const struct sl_app_conn *c);
/* The window the peer offers now (bytes). */
uint32_t sl_app_peer_window(const struct sl_app_conn *c);
/* Bytes [off, off+len) of m by reference (the layer takes its own). */
int sl_app_send_ref(struct sl_app_conn *c, struct rte_mbuf *m, uint32_t off, uint32_t len);
/* Up to len bytes copied into fresh buffers: returns the bytes queued
 * (fewer than len when the send space ran out: writable follows), or
 * -EAGAIN when none fit, or -errno. */
int sl_app_write(struct sl_app_conn *c, const void *data, uint32_t len);

/* Timer: the app's timer callback once now passes deadline (0 = none). */
void sl_app_timer_set(struct sl_app_conn *c, uint64_t deadline_us);

/* Transform. Set before any byte flows (at accept). */
void sl_app_set_xform(struct sl_app_conn *c, const struct sl_app_xform *xf, void *xctx);
/* Whether the connection runs over a secure transform (TLS): the scheme an
 * application reports (X-Forwarded-Proto) without knowing the transform. */
static inline bool sl_app_secure(const struct sl_app_conn *c)
{
	if (c->carrier)
		c = c->carrier;
	return c->xf && c->xf->secure;
}
/* false when the connection has no transform, or it tells nothing */
static inline bool sl_app_xf_info(const struct sl_app_conn *c, struct sl_app_xf_info *out)
{
	if (c->carrier)
		c = c->carrier;
	if (!c->xf || !c->xf->info)
		return false;
	c->xf->info(c, c->xctx, out);
	return true;
}
/* For transforms: the raw input queue, plaintext in, raw out. */
static inline uint32_t sl_app_raw_len(const struct sl_app_conn *c) { return c->raw.bytes; }
const uint8_t *sl_app_raw_view(struct sl_app_conn *c, uint32_t n, uint8_t *scratch);
void sl_app_raw_consume(struct sl_app_conn *c, uint32_t n);
int sl_app_in_push(struct sl_app_conn *c, const void *data, uint32_t len);
int sl_app_raw_send(struct sl_app_conn *c, struct rte_mbuf *m, uint32_t off, uint32_t len);

/* Deferred work: c's ops->deferred runs once the current batch is done. */
void sl_app_defer(struct sl_app_conn *c);
/* The core's side: run what was deferred (after each receive batch). */
void sl_app_run_deferred(struct sl_app_worker *aw);

/* A virtual connection carried by carrier, served by ops (whose accept
 * the caller runs), pinning the carrier's generation. NULL: no context. */
struct sl_app_conn *sl_app_vconn_open(struct sl_app_conn *carrier, const struct sl_app_ops *ops,
				      const struct sl_app_vops *vo, void *vctx);
/* The carrier tells the virtual connection's application: input grew,
 * send space came back, the peer finished sending, the peer reset. */
void sl_app_vconn_data(struct sl_app_conn *c);
void sl_app_vconn_writable(struct sl_app_conn *c);
void sl_app_vconn_eof(struct sl_app_conn *c);
void sl_app_vconn_error(struct sl_app_conn *c, int reason);

/* The applications (dataplane/app/<name>/). */
extern const struct sl_app_ops sl_app_l4_ops;       /* L4 TCP proxy, client side */
extern const struct sl_app_ops sl_app_http_ops;     /* HTTP/1.1 reverse proxy, client side */
extern const struct sl_app_ops sl_app_h2_ops;       /* HTTP/2 to clients (its streams go to sl_app_http_ops) */
extern const struct sl_app_ops sl_app_h2c_ops;      /* cleartext port with HTTP/2: the preface picks h2 or HTTP/1.1 */
extern const struct sl_app_ops sl_app_dns_ops;      /* DNS over TCP */
extern const struct sl_app_ops sl_app_echo_ops, sl_app_sink_ops, sl_app_source_ops;

#endif
