/* Two stacks back to back through a seeded impairment shim (drop, duplicate,
 * reorder, 1 Gbit/s bottleneck, 1 ms one-way delay) in virtual time. Each
 * side of each connection sends a few MB and half-closes; every received
 * byte is checked against the generator and the stream checksums must
 * match. With several connections the queue-block pools can be made smaller
 * than the number of busy connections. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define IP_A 0x010012c6u /* 198.18.0.1 */
#define IP_B 0x020012c6u /* 198.18.0.2 */
#define CHUNK 16384
#define HEAP_MAX 65536

struct pkt {
	uint64_t at_us;
	uint64_t order;
	int to; /* 0 = A, 1 = B */
	uint32_t saddr, daddr;
	uint8_t hdr[60];
	uint8_t hdr_len;
	struct tbuf *payload;
};

#define MAX_CONNS 8

/* One end of one connection; id is the stack it lives on (0 = A, 1 = B)
 * and selects the byte pattern it sends. */
struct side {
	struct sl_tcp_conn *conn;
	uint64_t to_send, sent, rcvd;
	uint64_t sum_tx, sum_rx; /* FNV-1a over the streams */
	bool shut, peer_closed, closed, error;
	int id;
};

struct sim {
	struct sl_tcp_stack *st[2];
	struct side s[2][MAX_CONNS];
	unsigned nc, n_accepted;
	struct pkt *heap[HEAP_MAX];
	unsigned n;
	uint64_t now_us, order;
	uint64_t rng;
	double drop, dup, reorder;
	uint64_t link_free_us[2];
	uint64_t dropped, duplicated, reordered, delivered;
};

static struct sim S;
static uint64_t ooo_no_block_total; /* across runs, for the small-pool tests */

static uint64_t rnd(void)
{
	uint64_t z = (S.rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static double frand(void)
{
	return (double)(rnd() >> 11) / (double)(1ull << 53);
}

static inline uint8_t gen(int dir, uint64_t i)
{
	return (uint8_t)(((i * 2654435761u) >> 13) ^ (uint64_t)(dir * 0x5a) ^ (i >> 20));
}
static inline uint64_t fnv(uint64_t h, uint8_t b)
{
	return (h ^ b) * 0x100000001b3ull;
}

static bool pkt_before(const struct pkt *a, const struct pkt *b)
{
	return a->at_us < b->at_us || (a->at_us == b->at_us && a->order < b->order);
}

static void heap_push(struct pkt *p)
{
	cr_assert_lt(S.n, HEAP_MAX);
	unsigned i = S.n++;
	S.heap[i] = p;
	while (i && pkt_before(S.heap[i], S.heap[(i - 1) / 2])) {
		struct pkt *t = S.heap[i];
		S.heap[i] = S.heap[(i - 1) / 2];
		S.heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static struct pkt *heap_pop(void)
{
	struct pkt *top = S.heap[0];
	S.heap[0] = S.heap[--S.n];
	unsigned i = 0;
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;
		if (l < S.n && pkt_before(S.heap[l], S.heap[m]))
			m = l;
		if (r < S.n && pkt_before(S.heap[r], S.heap[m]))
			m = r;
		if (m == i)
			break;
		struct pkt *t = S.heap[i];
		S.heap[i] = S.heap[m];
		S.heap[m] = t;
		i = m;
	}
	return top;
}

static void enqueue(int to, const struct sl_tcp_seg_out *o, uint64_t extra_us)
{
	struct pkt *p = calloc(1, sizeof(*p));
	cr_assert(p);
	p->to = to;
	p->saddr = o->saddr;
	p->daddr = o->daddr;
	memcpy(p->hdr, o->hdr, o->hdr_len);
	p->hdr_len = o->hdr_len;
	if (o->payload_len) {
		/* the wire copies: the sender's buffers stay with the sender */
		p->payload = tbuf_new(NULL, o->payload_len);
		uint32_t got = 0;
		for (unsigned i = 0; i < o->n_iov; i++) {
			tbuf_copy(o->iov[i].buf, o->iov[i].off, o->iov[i].len, p->payload->data + got);
			got += o->iov[i].len;
		}
		cr_assert_eq(got, o->payload_len);
	}
	/* 1 Gbit/s serialisation, FIFO per direction, 1 ms propagation */
	uint64_t bits = (uint64_t)(o->hdr_len + o->payload_len + 20 + 38) * 8;
	uint64_t start = S.link_free_us[to] > S.now_us ? S.link_free_us[to] : S.now_us;
	S.link_free_us[to] = start + bits / 1000;
	p->at_us = S.link_free_us[to] + 1000 + extra_us;
	p->order = S.order++;
	heap_push(p);
}

static int sim_tx(void *arg, const struct sl_tcp_seg_out *o)
{
	int from = (int)(intptr_t)arg, to = !from;
	cr_assert_eq(o->saddr, from ? IP_B : IP_A);
	cr_assert_eq(o->daddr, to ? IP_B : IP_A);
	if (getenv("SL_TCP_TRACE") && S.now_us > strtoull(getenv("SL_TCP_TRACE"), NULL, 0))
		fprintf(stderr, "%.6f %c>%c fl %02x seq %u ack %u len %u win %u sack %u\n", (double)S.now_us / 1e6,
			'A' + from, 'A' + to, o->h.flags, o->h.seq, o->h.ack, o->payload_len, o->h.win,
			o->h.opts.n_sack);
	if (frand() < S.drop) {
		S.dropped++;
		return 0;
	}
	uint64_t extra = 0;
	if (frand() < S.reorder) {
		extra = 200 + rnd() % 3000;
		S.reordered++;
	}
	enqueue(to, o, extra);
	if (frand() < S.dup) {
		S.duplicated++;
		enqueue(to, o, rnd() % 2000);
	}
	return 0;
}

static void pump(struct side *sd)
{
	while (sd->conn && sd->sent < sd->to_send) {
		uint32_t len = (uint32_t)(sd->to_send - sd->sent < CHUNK ? sd->to_send - sd->sent : CHUNK);
		struct tbuf *b = tbuf_new(NULL, len);
		for (uint32_t i = 0; i < len; i++)
			b->data[i] = gen(sd->id, sd->sent + i);
		int rc = sl_tcp_send(sd->conn, (struct sl_buf *)b, 0, len);
		tbuf_put(b);
		if (rc == -EAGAIN)
			return;
		cr_assert_eq(rc, 0, "send: %d", rc);
		for (uint32_t i = 0; i < len; i++)
			sd->sum_tx = fnv(sd->sum_tx, gen(sd->id, sd->sent + i));
		sd->sent += len;
	}
	if (sd->conn && !sd->shut && sd->sent == sd->to_send) {
		cr_assert_eq(sl_tcp_shutdown(sd->conn, 1), 0);
		sd->shut = true;
	}
}

static void on_connected(void *u, struct sl_tcp_conn *c)
{
	(void)c;
	pump(u);
}
static void on_recv(void *u, struct sl_tcp_conn *c, struct sl_buf *b, uint32_t off, uint32_t len)
{
	(void)c;
	struct side *sd = u;
	static uint8_t tmp[65536];
	cr_assert_leq(len, sizeof(tmp));
	tbuf_copy(b, off, len, tmp);
	for (uint32_t i = 0; i < len; i++) {
		uint8_t want = gen(!sd->id, sd->rcvd + i);
		if (tmp[i] != want)
			cr_assert_fail("side %d: byte %llu is %u, expected %u", sd->id,
				       (unsigned long long)(sd->rcvd + i), tmp[i], want);
		sd->sum_rx = fnv(sd->sum_rx, tmp[i]);
	}
	sd->rcvd += len;
}
static void on_writable(void *u, struct sl_tcp_conn *c)
{
	(void)c;
	pump(u);
}
static void on_peer_closed(void *u, struct sl_tcp_conn *c)
{
	(void)c;
	((struct side *)u)->peer_closed = true;
}
static void on_error(void *u, struct sl_tcp_conn *c, int reason)
{
	(void)c;
	struct side *sd = u;
	sd->error = true;
	struct sl_tcp_conn_info ci;
	sl_tcp_conn_info(c, &ci);
	cr_log_error("side %d: error %d at %.3f s: sent %llu rcvd %llu shut %d peer_closed %d, srtt %u rto %u "
		     "cwnd %u snd_wnd %u retrans %llu",
		     sd->id, reason, (double)S.now_us / 1e6, (unsigned long long)sd->sent,
		     (unsigned long long)sd->rcvd, sd->shut, sd->peer_closed, ci.srtt_us, ci.rto_us, ci.cwnd,
		     ci.snd_wnd, (unsigned long long)ci.retrans);
}
static const struct sl_tcp_ops sim_ops = { on_connected, on_recv, on_writable, on_peer_closed, on_error };

static int on_accept(void *arg, struct sl_tcp_conn *c)
{
	(void)arg;
	cr_assert_lt(S.n_accepted, S.nc, "more connections accepted than opened");
	struct side *sd = &S.s[1][S.n_accepted++];
	sd->conn = c;
	sl_tcp_set_ops(c, &sim_ops, sd);
	pump(sd);
	return 0;
}
static const struct sl_tcp_listen_ops sim_lops = { on_accept };

static bool port_even(void *arg, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	(void)arg, (void)lip, (void)rip, (void)rport;
	return (lport & 1) == 0; /* stands in for "return flow hashes to this worker" */
}

static void transfer(double drop, double dup, double reorder, uint64_t bytes, uint64_t seed);

struct shape {
	unsigned conns;		     /* concurrent connections, all opened by A */
	uint32_t sndq_blocks, ooo_blocks; /* 0 = stack default */
};

static void transfer_n(double drop, double dup, double reorder, uint64_t bytes, uint64_t seed, int cc,
		       struct shape sh)
{
	memset(&S, 0, sizeof(S));
	S.rng = seed;
	S.drop = drop;
	S.dup = dup;
	S.reorder = reorder;
	S.now_us = 5000000;
	S.nc = sh.conns;
	cr_assert(S.nc >= 1 && S.nc <= MAX_CONNS);
	for (int i = 0; i < 2; i++) {
		struct sl_tcp_conf c;
		sl_tcp_conf_defaults(&c);
		c.max_conns = 16;
		c.seed = seed * 2 + (uint64_t)i;
		c.buf_ops = &tbuf_ops;
		c.tx = sim_tx;
		c.tx_arg = (void *)(intptr_t)i;
		c.port_ok = port_even;
		c.cc = (uint8_t)cc;
		c.sndq_blocks = sh.sndq_blocks;
		c.ooo_blocks = sh.ooo_blocks;
		S.st[i] = sl_tcp_stack_create(&c, S.now_us);
		cr_assert(S.st[i]);
		for (unsigned k = 0; k < S.nc; k++) {
			struct side *sd = &S.s[i][k];
			sd->id = i;
			sd->to_send = bytes;
			sd->sum_tx = sd->sum_rx = 0xcbf29ce484222325ull;
		}
	}
	int err;
	cr_assert(sl_tcp_listen(S.st[1], IP_B, 7000, &sim_lops, NULL, &err));
	for (unsigned k = 0; k < S.nc; k++) {
		S.s[0][k].conn = sl_tcp_connect(S.st[0], IP_A, IP_B, 7000, &sim_ops, &S.s[0][k], &err);
		cr_assert(S.s[0][k].conn, "connect: %d", err);
		uint32_t a, b;
		uint16_t lp, rp;
		sl_tcp_conn_tuple(S.s[0][k].conn, &a, &lp, &b, &rp);
		cr_assert_eq(lp & 1, 0, "port predicate ignored");
		cr_assert(lp >= 32768 && lp <= 60999);
	}

	uint64_t deadline = S.now_us + 900ull * 1000000, closed_at = 0;
	uint64_t next_tick = S.now_us + 1000;
	while (S.now_us < deadline) {
		bool done = S.n_accepted == S.nc;
		for (int i = 0; i < 2; i++) {
			for (unsigned k = 0; k < S.nc; k++) {
				struct side *sd = &S.s[i][k];
				cr_assert(!sd->error, "side %d connection %u failed", i, k);
				done = done && sd->peer_closed && sd->shut && sd->rcvd == bytes;
			}
		}
		if (done && !closed_at) {
			/* all sent, all received: let go of the handles */
			closed_at = S.now_us;
			for (int i = 0; i < 2; i++) {
				for (unsigned k = 0; k < S.nc; k++) {
					sl_tcp_close(S.s[i][k].conn);
					S.s[i][k].conn = NULL;
					S.s[i][k].closed = true;
				}
			}
		}
		if (closed_at && S.now_us > closed_at + 10ull * 1000000)
			break;
		if (S.n && S.heap[0]->at_us <= next_tick) {
			struct pkt *p = heap_pop();
			S.now_us = p->at_us;
			struct sl_tcp_seg_in in = { .saddr = p->saddr, .daddr = p->daddr, .tcp = p->hdr,
						    .tcp_len = p->hdr_len, .payload = (struct sl_buf *)p->payload,
						    .payload_off = 0, .payload_len = p->payload ? p->payload->len : 0 };
			cr_assert_eq(sl_tcp_input(S.st[p->to], &in, S.now_us), 0);
			S.delivered++;
			if (p->payload)
				tbuf_put(p->payload);
			free(p);
		} else {
			S.now_us = next_tick;
			next_tick += 1000;
			sl_tcp_tick(S.st[0], S.now_us);
			sl_tcp_tick(S.st[1], S.now_us);
		}
	}
	cr_assert(closed_at, "transfer did not finish: A sent %llu rcvd %llu, B sent %llu rcvd %llu (first connection)",
		  (unsigned long long)S.s[0][0].sent, (unsigned long long)S.s[0][0].rcvd,
		  (unsigned long long)S.s[1][0].sent, (unsigned long long)S.s[1][0].rcvd);
	/* a stall (RTO ladder, ACK loop) shows up as time, not just as a fail */
	cr_assert_lt(closed_at - 5000000, 30ull * 1000000, "took %.1f s of virtual time",
		     (double)(closed_at - 5000000) / 1e6);
	for (int i = 0; i < 2; i++) {
		for (unsigned k = 0; k < S.nc; k++) {
			cr_assert_eq(S.s[i][k].rcvd, bytes);
			/* every connection carries the same pattern per direction */
			cr_assert_eq(S.s[i][k].sum_rx, S.s[!i][0].sum_tx, "checksum mismatch towards side %d (%u)", i, k);
		}
		cr_assert_eq(sl_tcp_active_conns(S.st[i]), 0, "side %d still holds a TCB", i);
		struct sl_tcp_block_usage u;
		sl_tcp_block_usage(S.st[i], &u);
		cr_assert(u.sndq_used == 0 && u.ooo_used == 0 && u.sndq_waiters == 0,
			  "side %d: blocks still in use (%u send, %u out-of-order, %u waiting)", i, u.sndq_used,
			  u.ooo_used, u.sndq_waiters);
	}
	/* one TIME_WAIT per connection, or two after a simultaneous close */
	uint32_t tw = sl_tcp_tw_count(S.st[0]) + sl_tcp_tw_count(S.st[1]);
	cr_assert(tw >= S.nc && tw <= 2 * S.nc, "%u TIME_WAIT entries", tw);
	const struct sl_tcp_counters *ca = sl_tcp_counters(S.st[0]), *cb = sl_tcp_counters(S.st[1]);
	cr_log_info("drop %.2f, %u conn(s): %.1f s virtual, %llu pkts, dropped %llu dup %llu reord %llu, retrans A "
		    "%llu B %llu, rto A %llu B %llu, fast A %llu B %llu, sack A %llu B %llu, no send block A %llu "
		    "B %llu, no ooo block A %llu B %llu",
		    drop, S.nc, (double)(closed_at - 5000000) / 1e6, (unsigned long long)S.delivered,
		    (unsigned long long)S.dropped, (unsigned long long)S.duplicated, (unsigned long long)S.reordered,
		    (unsigned long long)ca->retrans_segs, (unsigned long long)cb->retrans_segs,
		    (unsigned long long)ca->rto_expired, (unsigned long long)cb->rto_expired,
		    (unsigned long long)ca->fast_retrans, (unsigned long long)cb->fast_retrans,
		    (unsigned long long)ca->sack_recoveries, (unsigned long long)cb->sack_recoveries,
		    (unsigned long long)ca->snd_no_block, (unsigned long long)cb->snd_no_block,
		    (unsigned long long)ca->ooo_no_block, (unsigned long long)cb->ooo_no_block);
	if (drop == 0 && dup == 0 && reorder == 0) {
		cr_assert_eq(ca->retrans_segs + cb->retrans_segs, 0, "retransmissions on a clean link");
		cr_assert_eq(ca->dupacks_in + cb->dupacks_in, 0);
	} else {
		cr_assert_gt(S.dropped, 0);
		cr_assert_gt(ca->retrans_segs + cb->retrans_segs, 0);
		cr_assert_gt(ca->sack_recoveries + cb->sack_recoveries, 0, "losses never repaired with SACK");
	}
	ooo_no_block_total += ca->ooo_no_block + cb->ooo_no_block;
	if (sh.sndq_blocks && sh.sndq_blocks < S.nc)
		cr_assert(ca->snd_no_block && cb->snd_no_block, "send-block pools never ran dry");
	while (S.n) {
		struct pkt *p = heap_pop();
		if (p->payload)
			tbuf_put(p->payload);
		free(p);
	}
	for (int i = 0; i < 2; i++)
		sl_tcp_stack_destroy(S.st[i]);
	cr_assert_eq(tbuf_live, 0, "%ld buffers leaked", tbuf_live);
}

static void transfer_cc(double drop, double dup, double reorder, uint64_t bytes, uint64_t seed, int cc)
{
	transfer_n(drop, dup, reorder, bytes, seed, cc, (struct shape){ .conns = 1 });
}

Test(loopback, clean_4MB_each_way, .timeout = 60)
{
	transfer(0, 0, 0, 4u << 20, 1);
}

Test(loopback, loss_1pct_dup_reorder, .timeout = 60)
{
	transfer(0.01, 0.01, 0.02, 4u << 20, 2);
}

Test(loopback, loss_5pct_dup_reorder, .timeout = 120)
{
	transfer(0.05, 0.01, 0.02, 4u << 20, 3);
}

static void transfer(double drop, double dup, double reorder, uint64_t bytes, uint64_t seed)
{
	transfer_cc(drop, dup, reorder, bytes, seed, SL_TCP_CC_NEWRENO);
}

Test(loopback, cubic_loss_1pct, .timeout = 60)
{
	transfer_cc(0.01, 0.01, 0.02, 4u << 20, 4, SL_TCP_CC_CUBIC);
}

Test(loopback, cubic_loss_5pct, .timeout = 120)
{
	transfer_cc(0.05, 0.01, 0.02, 4u << 20, 5, SL_TCP_CC_CUBIC);
}

/* Many seeds, smaller transfers: shakes out rare orderings. */
Test(loopback, many_seeds_1MB, .timeout = 120)
{
	for (uint64_t seed = 100; seed < 130; seed++) {
		double drop = (seed & 1) ? 0.05 : 0.02;
		transfer(drop, 0.02, 0.05, 1u << 20, seed);
	}
}

/* Eight busy connections each way share four send blocks and two
 * out-of-order blocks per stack: senders wait for blocks (writable when one
 * frees), receivers drop out-of-order segments they cannot hold, and every
 * byte still arrives. */
Test(loopback, small_block_pools_8_conns_clean, .timeout = 60)
{
	transfer_n(0, 0, 0, 1u << 20, 200, SL_TCP_CC_NEWRENO, (struct shape){ 8, 4, 2 });
}

Test(loopback, small_block_pools_8_conns_loss, .timeout = 120)
{
	ooo_no_block_total = 0;
	for (uint64_t seed = 201; seed < 206; seed++) {
		double drop = (seed & 1) ? 0.05 : 0.02;
		transfer_n(drop, 0.02, 0.05, 1u << 20, seed, (seed & 2) ? SL_TCP_CC_CUBIC : SL_TCP_CC_NEWRENO,
			   (struct shape){ 8, 4, 2 });
	}
	cr_assert_gt(ooo_no_block_total, 0, "out-of-order pools never ran dry");
}
