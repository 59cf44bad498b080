/* Private to dataplane/app/h2: HTTP/2 sessions to clients (libnghttp2),
 * their streams, and the per-worker memory nghttp2 allocates from. */
#ifndef SL_APP_H2_PRIV_H
#define SL_APP_H2_PRIV_H

#include <nghttp2/nghttp2.h>

#include "../app_priv.h"
#include "sl_h1.h"
#include "sl_h2_stats.h"

/* Settings we announce, and the engine's own limits (docs/http2.md). */
/* the HTTP profile's http2_profile gives streams, window, field size, the
 * control and empty-DATA budgets and requests per connection; these are
 * what a session without one uses */
#define H2_MAX_STREAMS 128          /* SETTINGS_MAX_CONCURRENT_STREAMS */
#define H2_STREAM_WINDOW 65535      /* SETTINGS_INITIAL_WINDOW_SIZE: request body bytes unread per stream */
#define H2_CONN_WINDOW (256u << 10) /* the connection's receive window */
#define H2_HDR_LIST_MAX (64u << 10) /* decoded header list (name + value + 32 each): HPACK bombs */
#define H2_STREAM_OUT_MAX (64u << 10)   /* response bytes a stream holds before the server waits */
#define H2_RST_BURST 200            /* client RST_STREAMs in a second before GOAWAY (rapid reset) */
#define H2_NG_RST_BURST 1000        /* nghttp2's token bucket, the backstop: burst, then per second */
#define H2_NG_RST_RATE 100
#define H2_STALL_US (75ull * 1000000)   /* streams open, nothing in or out: the connection is reset */
#define H2_LINGER_US (2ull * 1000000)   /* after the last frame: the client's input read and dropped */
#define H2_MAX_CONTINUATIONS 8      /* CONTINUATION frames per header block */
#define H2_SESS_MEM_MAX (1u << 20)  /* nghttp2's allocations per session */
#define H2_ARENA_PER_CONN (32u << 10)   /* the worker's nghttp2 arena: this much per session it can hold (on average: one arena) */
#define H2_CLASSES 12               /* allocation size classes 32 B .. 64 KiB */

struct h2_sess;

struct h2_stream {
	struct h2_stream *next_free;
	struct h2_stream *prev, *next;   /* the session's streams */
	struct h2_sess *s;
	struct sl_app_conn *vc;          /* the virtual connection the HTTP/1.1 proxy serves; NULL once it ended */
	int32_t id;
	/* request: the head is assembled as the header block arrives */
	struct sl_app_inq hq, pq, aq;    /* regular fields / :path / :authority */
	char method[24];
	uint8_t method_len;
	bool has_te_trailers, has_cl, req_chunked, req_end, head_in, bad;
	uint32_t hdr_bytes;              /* decoded header list size */
	uint64_t unacked;                /* request DATA bytes pushed, not yet consumed by the proxy */
	/* response: the proxy's HTTP/1.1 bytes */
	struct sl_app_inq out;
	uint8_t body;                    /* enum sl_h1_body */
	bool rsp_head, rsp_done, submitted, ng_closed, want_wr, vc_gone, deferred_data, head_req;
	uint64_t rsp_left;
	struct sl_h1_chunked ck;
};

struct h2_sess {
	struct h2_sess *next_free;
	struct sl_app_h2_worker *w;
	struct sl_app_conn *c;           /* the carrier (TCP, or TLS over TCP) */
	const struct sl_gen_vs *vs;
	nghttp2_session *ng;
	struct h2_stream *streams;
	uint32_t n_streams;
	uint64_t mem;                    /* nghttp2's allocations now */
	struct sl_app_inq pend;          /* frames TCP refused */
	uint64_t last_us;                /* a frame in or out */
	uint64_t win_start_us, rst_start_us;   /* flood accounting windows */
	uint64_t empty_start_us;
	uint32_t ctrl_frames, rst_frames, empty_frames;
	uint32_t n_req;                  /* streams begun */
	bool closing, goaway;
};

/* The inline state in the carrier connection. */
struct h2c {
	struct h2_sess *s;
	const struct sl_gen_vs *vs;      /* while sniffing the preface */
	bool sniffing;
	bool linger;                     /* the session ended: reading to the client's FIN */
};

struct sl_app_h2_worker {
	struct sl_app_worker *aw;
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	struct h2_sess *sess, *free_sess;
	struct h2_stream *strm, *free_strm;
	uint32_t n_sess, n_strm;
	uint64_t next_scan_us;
	const struct sl_gen *scanned_gen;   /* the generation the last VS-removal scan saw */
	/* nghttp2's memory: size classes carved from one arena */
	uint8_t *arena;
	size_t arena_size, arena_used;
	void *free_cls[H2_CLASSES];
	struct sl_h2_stats st;
	struct sl_h1_header hdrs[SL_H1_DEF_HEADERS];
	nghttp2_nv nv[SL_H1_DEF_HEADERS + 1];
	uint8_t names[SL_H1_DEF_HEADER_BYTES];     /* lower-cased response field names */
	uint8_t scratch[65536 + 2];
	uint8_t ob[32768];                         /* frames gathered into one write (send_frames) */
};

/* h2_mem.c */
extern const nghttp2_mem sl_h2_mem_proto;
int sl_h2_mem_init(struct sl_app_h2_worker *w, size_t arena);

extern struct sl_app_h2_worker *sl_h2_workers[64];
void sl_h2_set_callbacks(nghttp2_session_callbacks *cbs);

#endif
