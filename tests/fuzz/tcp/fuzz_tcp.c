/* libFuzzer target for dataplane/tcp.
 *
 * Byte 0 selects the mode:
 *   even: the rest is a TCP header; parse it, and if it parses, rebuild it
 *         from the parsed fields and check the round trip.
 *   odd:  the rest is a list of records driving one stack with a listener:
 *           u8 ctl, u8 hlen, hlen header bytes, u16 payload length, u8 ms
 *         ctl bit 0: ack := last seq we emitted + header ack (so the fuzzer
 *                    reaches synchronized states without guessing ISNs)
 *             bit 1: seq := last ack we emitted + header seq
 *             bit 2: force ports onto the listener's flow
 *             bit 3: app sends 3000 bytes on every open connection
 *             bit 4: app shuts down / bit 5: app closes the newest one
 *         Invariants: no crash, no sanitizer report, every buffer reference
 *         returned once the stack is destroyed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_tcp.h"

struct fbuf {
	int refs;
	uint32_t len;
	uint8_t data[];
};
static long live;

static void fb_ref(void *ctx, struct sl_buf *b)
{
	(void)ctx;
	((struct fbuf *)b)->refs++;
}
static void fb_unref(void *ctx, struct sl_buf *b)
{
	(void)ctx;
	struct fbuf *f = (struct fbuf *)b;
	if (f->refs <= 0)
		abort();
	if (--f->refs == 0) {
		free(f);
		live--;
	}
}
static const uint8_t *fb_data(void *ctx, const struct sl_buf *b, uint32_t *len)
{
	(void)ctx;
	*len = ((const struct fbuf *)b)->len;
	return ((const struct fbuf *)b)->data;
}
static struct sl_buf *fb_next(void *ctx, const struct sl_buf *b)
{
	(void)ctx, (void)b;
	return NULL;
}
static const struct sl_buf_ops fops = { fb_ref, fb_unref, fb_data, fb_next };

static struct fbuf *fb_new(uint32_t len)
{
	struct fbuf *f = malloc(sizeof(*f) + len + 1);
	if (!f)
		abort();
	f->refs = 1;
	f->len = len;
	memset(f->data, 0xab, len);
	live++;
	return f;
}

static uint32_t last_seq, last_ack;
#define MAXC 16
static struct sl_tcp_conn *conns[MAXC];
static unsigned nconns;

static int ftx(void *arg, const struct sl_tcp_seg_out *o)
{
	(void)arg;
	struct sl_tcp_hdr h;
	if (sl_tcp_parse_hdr(o->hdr, o->hdr_len, &h) || h.seq != o->h.seq || h.flags != o->h.flags)
		abort(); /* we must emit what we can parse */
	uint32_t sum = 0;
	for (unsigned i = 0; i < o->n_iov; i++) {
		struct fbuf *f = (struct fbuf *)o->iov[i].buf;
		if (f->refs <= 0 || (uint64_t)o->iov[i].off + o->iov[i].len > f->len)
			abort(); /* payload reference outside a live buffer */
		sum += o->iov[i].len;
	}
	if (sum != o->payload_len)
		abort();
	last_seq = o->h.seq + o->payload_len + !!(o->h.flags & (SL_TCP_SYN | SL_TCP_FIN));
	last_ack = o->h.ack;
	return 0;
}

static void forget(struct sl_tcp_conn *c)
{
	for (unsigned i = 0; i < nconns; i++)
		if (conns[i] == c) {
			conns[i] = conns[--nconns];
			return;
		}
}
static void on_recv(void *u, struct sl_tcp_conn *c, struct sl_buf *b, uint32_t off, uint32_t len)
{
	(void)u, (void)c;
	struct fbuf *f = (struct fbuf *)b;
	if (f->refs <= 0 || (uint64_t)off + len > f->len)
		abort();
}
static void on_error(void *u, struct sl_tcp_conn *c, int r)
{
	(void)u, (void)r;
	forget(c);
	sl_tcp_close(c); /* closing from inside a callback is allowed */
}
static const struct sl_tcp_ops cops = { NULL, on_recv, NULL, NULL, on_error };
static int on_accept(void *arg, struct sl_tcp_conn *c)
{
	(void)arg;
	if (nconns == MAXC)
		return -1;
	conns[nconns++] = c;
	sl_tcp_set_ops(c, &cops, NULL);
	return 0;
}
static const struct sl_tcp_listen_ops lops = { on_accept };

static void roundtrip(const uint8_t *d, size_t n)
{
	struct sl_tcp_hdr h, h2;
	if (sl_tcp_parse_hdr(d, n, &h))
		return;
	uint8_t out[60];
	int hl = sl_tcp_build_hdr(&h, out);
	if (hl < 0)
		return; /* e.g. four SACK blocks plus timestamps do not fit */
	if (sl_tcp_parse_hdr(out, (size_t)hl, &h2))
		abort();
	if (h2.seq != h.seq || h2.ack != h.ack || h2.flags != h.flags || h2.win != h.win ||
	    h2.opts.has_mss != h.opts.has_mss || h2.opts.mss != h.opts.mss || h2.opts.has_ws != h.opts.has_ws ||
	    h2.opts.ws != h.opts.ws || h2.opts.sack_ok != h.opts.sack_ok || h2.opts.has_ts != h.opts.has_ts ||
	    h2.opts.ts_val != h.opts.ts_val || h2.opts.ts_ecr != h.opts.ts_ecr || h2.opts.n_sack != h.opts.n_sack)
		abort();
	for (unsigned i = 0; i < h.opts.n_sack; i++)
		if (h2.opts.sack[i].left != h.opts.sack[i].left || h2.opts.sack[i].right != h.opts.sack[i].right)
			abort();
}

static void drive(const uint8_t *d, size_t n)
{
	struct sl_tcp_conf c;
	sl_tcp_conf_defaults(&c);
	c.max_conns = 8;
	c.max_tw = 4;
	c.syncookie_threshold = 2;
	c.seed = 7;
	c.buf_ops = &fops;
	c.tx = ftx;
	c.rcvbuf = 8192;
	c.sndbuf = 8192;
	c.sndq_max = 4; /* small queues reach the full/slide/drop paths */
	c.ooo_max = 4;
	uint64_t now = 1000000000;
	struct sl_tcp_stack *st = sl_tcp_stack_create(&c, now);
	if (!st)
		abort();
	const uint32_t lip = 0x010012c6, rip = 0x020012c6;
	if (!sl_tcp_listen(st, lip, 80, &lops, NULL, NULL))
		abort();
	nconns = 0;
	last_seq = last_ack = 0;
	size_t i = 0;
	while (i + 2 <= n) {
		uint8_t ctl = d[i], hlen = d[i + 1];
		i += 2;
		if (hlen > 60 || i + hlen + 3 > n)
			break;
		uint8_t hdr[60];
		memcpy(hdr, d + i, hlen);
		i += hlen;
		uint32_t plen = (uint32_t)(d[i] | d[i + 1] << 8) % 3000;
		uint8_t ms = d[i + 2];
		i += 3;
		if (hlen >= 20) {
			if (ctl & 1) {
				uint32_t a = (uint32_t)hdr[8] << 24 | (uint32_t)hdr[9] << 16 | hdr[10] << 8 | hdr[11];
				a += last_seq;
				hdr[8] = (uint8_t)(a >> 24), hdr[9] = (uint8_t)(a >> 16), hdr[10] = (uint8_t)(a >> 8),
				hdr[11] = (uint8_t)a;
			}
			if (ctl & 2) {
				uint32_t s = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 | hdr[6] << 8 | hdr[7];
				s += last_ack;
				hdr[4] = (uint8_t)(s >> 24), hdr[5] = (uint8_t)(s >> 16), hdr[6] = (uint8_t)(s >> 8),
				hdr[7] = (uint8_t)s;
			}
			if (ctl & 4) {
				hdr[0] = 0x9c, hdr[1] = 0x40; /* 40000 */
				hdr[2] = 0, hdr[3] = 80;
			}
		}
		struct fbuf *p = plen ? fb_new(plen) : NULL;
		struct sl_tcp_seg_in in = { .saddr = rip, .daddr = lip, .tcp = hdr, .tcp_len = hlen,
					    .payload = (struct sl_buf *)p, .payload_off = 0, .payload_len = plen };
		sl_tcp_input(st, &in, now);
		if (p)
			fb_unref(NULL, (struct sl_buf *)p);
		if ((ctl & 8) && nconns) {
			for (unsigned k = 0; k < nconns; k++) {
				struct fbuf *b = fb_new(3000);
				sl_tcp_send(conns[k], (struct sl_buf *)b, 0, 3000);
				fb_unref(NULL, (struct sl_buf *)b);
			}
		}
		if ((ctl & 16) && nconns)
			sl_tcp_shutdown(conns[nconns - 1], 1);
		if ((ctl & 32) && nconns) {
			struct sl_tcp_conn *x = conns[--nconns];
			sl_tcp_close(x);
		}
		now += (uint64_t)ms * (ctl & 64 ? 100000 : 1000);
		sl_tcp_tick(st, now);
	}
	sl_tcp_stack_destroy(st);
	if (live)
		abort(); /* leaked or double-held buffer references */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		drive(data + 1, size - 1);
	else
		roundtrip(data + 1, size - 1);
	return 0;
}
