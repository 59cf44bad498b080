/* Test harness for the TCP stack: heap buffers with refcounts, segment
 * capture, and a small packetdrill-like script runner. */
#ifndef TCP_HARNESS_H
#define TCP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_tcp.h"

/* ---- heap buffers implementing struct sl_buf ---- */
struct tbuf {
	uint32_t magic;
	int refs;
	uint32_t len;
	struct tbuf *next;
	uint8_t data[];
};
extern const struct sl_buf_ops tbuf_ops;
extern long tbuf_live; /* buffers not yet freed: leak check */
struct tbuf *tbuf_new(const void *data, uint32_t len);
void tbuf_put(struct tbuf *b);
/* copy [off, off+len) of a chain into out */
void tbuf_copy(const struct sl_buf *b, uint32_t off, uint32_t len, uint8_t *out);

/* ---- captured output ---- */
struct cap {
	struct sl_tcp_seg_out o; /* iov pointers are not valid after capture */
	struct sl_tcp_hdr parsed; /* hdr[] re-parsed with the library parser */
	uint8_t *payload;
	uint64_t t_ms; /* relative to script start */
};

#define PD_MAX_CAP 4096
#define PD_MAX_EV 64

struct pd {
	struct sl_tcp_conf conf;
	struct sl_tcp_stack *st;
	uint64_t base_us, now_us;
	uint32_t lip, rip;
	uint16_t lport, rport;
	bool have_isn;
	uint32_t our_isn, peer_isn;
	uint32_t last_tsval;
	struct cap cap[PD_MAX_CAP];
	unsigned cap_head, cap_n;
	char ev[PD_MAX_EV][24];
	unsigned ev_head, ev_n;
	uint64_t rcvd;
	unsigned writable;
	struct sl_tcp_conn *conn;
	struct sl_tcp_listener *lst;
	bool accept_refuse;
	int line;
	uint64_t line_ms;
	uint32_t data_off; /* bytes of the send pattern already queued */
	/* connections talked to so far (newpeer / switch) */
	struct pd_peer {
		uint16_t rport;
		bool have_isn;
		uint32_t our_isn;
		struct sl_tcp_conn *conn;
	} peers[16];
	unsigned n_peers;
};

typedef void (*pd_tweak_fn)(struct sl_tcp_conf *c);
void pd_init(struct pd *p, pd_tweak_fn tweak);
void pd_run(struct pd *p, const char *script);
void pd_fini(struct pd *p);
/* Inject a raw segment built from fields (used by C-coded tests). */
void pd_inject(struct pd *p, uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
	       const struct sl_tcp_opts *o, uint32_t len);
struct cap *pd_pop(struct pd *p);
void pd_step_to(struct pd *p, uint64_t ms);
uint64_t pd_counter(const struct pd *p, const char *name);

#endif
