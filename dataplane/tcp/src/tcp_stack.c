/* Stack creation and teardown: the only place that allocates memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_priv.h"

const char *const sl_tcp_counter_names[] = {
	"segs_in",
	"segs_out",
	"bytes_in",
	"bytes_out",
	"bad_segs",
	"tx_fail",
	"rst_in",
	"rst_out",
	"no_conn",
	"active_opens",
	"passive_opens",
	"established",
	"conn_refused",
	"accept_refused",
	"conn_reset",
	"conn_timeout",
	"conn_closed",
	"retrans_segs",
	"rto_expired",
	"fast_retrans",
	"sack_recoveries",
	"dupacks_in",
	"lost_retrans",
	"ooo_segs",
	"ooo_drops",
	"dup_data",
	"rcv_wnd_drops",
	"challenge_acks",
	"challenge_ack_limited",
	"paws_drops",
	"bad_acks",
	"oow_acks_limited",
	"syn_in",
	"syn_drops",
	"syncookies_sent",
	"syncookies_ok",
	"syncookies_bad",
	"mss_floored",
	"mss_refused",
	"tw_entered",
	"tw_overflow",
	"tw_reuse",
	"tw_expired",
	"delayed_acks",
	"quick_acks",
	"zwin_probes",
	"keepalive_probes",
	"keepalive_timeouts",
	"tlp_probes",
	"snd_no_block",
	"ooo_no_block",
	"mem_drops",
};
_Static_assert(sizeof(sl_tcp_counter_names) / sizeof(sl_tcp_counter_names[0]) == SL_TCP_N_COUNTERS,
	       "sl_tcp_counter_names out of step with struct sl_tcp_counters");

void sl_tcp_conf_defaults(struct sl_tcp_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->max_conns = 4096;
	c->max_listeners = 64;
	c->mtu = 1500;
	c->min_snd_mss = 536;
	c->refuse_mss = 64;
	c->sndbuf = c->rcvbuf = 256 * 1024;
	c->sndq_max = c->ooo_max = 256;
	c->rto_min_ms = 200;
	c->rto_max_ms = 60000;
	c->rto_init_ms = 1000;
	c->delack_ms = 40;
	c->msl_ms = 30000;
	c->fin_wait2_ms = 60000;
	c->syn_retries = 6;
	c->synack_retries = 5;
	c->data_retries = 15;
	c->keepalive_probes = 9;
	c->keepalive_idle_ms = 7200000;
	c->keepalive_intvl_ms = 75000;
	c->init_cwnd_segs = 10;
	c->syncookie_threshold = 256;
	c->challenge_ack_limit = 1000;
	c->ephemeral_lo = 32768;
	c->ephemeral_hi = 60999;
}

static uint32_t blocks(const struct sl_tcp_conf *c, uint32_t v)
{
	if (!v) {
		v = c->max_conns / 4;
		if (v < 64)
			v = 64;
	}
	return v < c->max_conns ? v : c->max_conns;
}

uint32_t sl_tcp_sndq_blocks(const struct sl_tcp_conf *c)
{
	return blocks(c, c->sndq_blocks);
}

uint32_t sl_tcp_ooo_blocks(const struct sl_tcp_conf *c)
{
	return blocks(c, c->ooo_blocks);
}

static uint32_t flow_slots(uint32_t n, uint32_t ntw)
{
	uint32_t fsz = 16;
	while (fsz < 2 * (n + ntw))
		fsz <<= 1;
	return fsz;
}

/* Allocation sizes are rounded to 64 bytes (see mem_alloc); the per-slot
 * figure spreads the shared tables over max_conns and rounds up. */
size_t sl_tcp_conn_mem(const struct sl_tcp_conf *c)
{
	size_t n = c->max_conns ? c->max_conns : 1, ntw = c->max_tw ? c->max_tw : n;
	size_t shared = ntw * sizeof(struct sl_tcp_tw) + (size_t)flow_slots((uint32_t)n, (uint32_t)ntw) * sizeof(struct flow_ent);
	return sizeof(struct sl_tcp_conn) + sizeof(uint32_t) + (shared + n - 1) / n;
}

size_t sl_tcp_block_mem(const struct sl_tcp_conf *c)
{
	size_t ns = sl_tcp_sndq_blocks(c), no = sl_tcp_ooo_blocks(c);
	return ns * (c->sndq_max * sizeof(struct sndq_ent) + sizeof(uint32_t)) +
	       no * (c->ooo_max * sizeof(struct ooo_ent) + sizeof(uint32_t));
}

void sl_tcp_block_usage(const struct sl_tcp_stack *st, struct sl_tcp_block_usage *u)
{
	u->sndq_total = st->conf.sndq_blocks;
	u->sndq_used = st->conf.sndq_blocks - st->sndq_nfree;
	u->ooo_total = st->conf.ooo_blocks;
	u->ooo_used = st->conf.ooo_blocks - st->ooo_nfree;
	u->sndq_waiters = st->wq_len;
}

static void *mem_alloc(const struct sl_tcp_conf *c, size_t size)
{
	size = (size + 63) & ~(size_t)63;
	void *p = c->alloc ? c->alloc(c->alloc_arg, size, 64) : aligned_alloc(64, size);
	if (p)
		memset(p, 0, size);
	return p;
}

static void mem_free(const struct sl_tcp_conf *c, void *p)
{
	if (!p)
		return;
	if (c->free)
		c->free(c->alloc_arg, p);
	else
		free(p);
}

static void key_from(uint64_t key[2], const uint8_t secret[32], uint64_t seed, uint64_t label)
{
	uint64_t base[2];
	memcpy(base, secret, 16);
	base[0] ^= seed;
	uint8_t in[16];
	memcpy(in, &label, 8);
	memcpy(in + 8, secret + 16, 8);
	key[0] = sl_tcp_siphash(base, in, sizeof(in));
	in[15] ^= 0x5a;
	key[1] = sl_tcp_siphash(base, in, sizeof(in));
}

struct sl_tcp_stack *sl_tcp_stack_create(const struct sl_tcp_conf *conf, uint64_t now_us)
{
	if (!conf->tx || !conf->buf_ops || !conf->buf_ops->ref || !conf->buf_ops->unref || !conf->max_conns ||
	    conf->max_conns >= FLOW_TW / 4 || conf->mtu < 128 || conf->ephemeral_lo == 0 ||
	    conf->ephemeral_hi < conf->ephemeral_lo || !conf->rcvbuf || !conf->sndbuf || !conf->rto_min_ms ||
	    conf->rto_max_ms < conf->rto_min_ms || !conf->init_cwnd_segs || !conf->max_listeners ||
	    conf->cc > SL_TCP_CC_CUBIC || conf->sndq_max < 4 || conf->sndq_max > 4096 || conf->ooo_max < 4 ||
	    conf->ooo_max > 4096) {
		errno = EINVAL;
		return NULL;
	}
	struct sl_tcp_stack *st = mem_alloc(conf, sizeof(*st));
	if (!st) {
		errno = ENOMEM;
		return NULL;
	}
	st->conf = *conf;
	if (!st->conf.max_tw)
		st->conf.max_tw = st->conf.max_conns;
	st->now_us = now_us;
	st->last_tick = now_us / 1000;
	for (unsigned i = 0; i < SL_TCP_WHEEL; i++)
		st->wheel[i].next = st->wheel[i].prev = &st->wheel[i];

	key_from(st->key_isn, conf->secret, conf->seed, 1);
	key_from(st->key_cookie, conf->secret, conf->seed, 2);
	key_from(st->key_ts, conf->secret, conf->seed, 3);
	key_from(st->key_flow, conf->secret, conf->seed, 4);

	st->conf.sndq_blocks = sl_tcp_sndq_blocks(conf);
	st->conf.ooo_blocks = sl_tcp_ooo_blocks(conf);
	uint32_t n = st->conf.max_conns, ntw = st->conf.max_tw;
	uint32_t nsb = st->conf.sndq_blocks, nob = st->conf.ooo_blocks;
	uint32_t fsz = flow_slots(n, ntw);
	st->conns = mem_alloc(conf, (size_t)n * sizeof(struct sl_tcp_conn));
	st->sndq_pool = mem_alloc(conf, (size_t)nsb * conf->sndq_max * sizeof(struct sndq_ent));
	st->ooo_pool = mem_alloc(conf, (size_t)nob * conf->ooo_max * sizeof(struct ooo_ent));
	st->sndq_free = mem_alloc(conf, (size_t)nsb * sizeof(uint32_t));
	st->ooo_free = mem_alloc(conf, (size_t)nob * sizeof(uint32_t));
	st->conn_free = mem_alloc(conf, (size_t)n * sizeof(uint32_t));
	st->tws = mem_alloc(conf, (size_t)ntw * sizeof(struct sl_tcp_tw));
	st->ft = mem_alloc(conf, (size_t)fsz * sizeof(struct flow_ent));
	st->lst = mem_alloc(conf, (size_t)st->conf.max_listeners * sizeof(struct sl_tcp_listener));
	if (!st->conns || !st->sndq_pool || !st->ooo_pool || !st->sndq_free || !st->ooo_free || !st->conn_free ||
	    !st->tws || !st->ft || !st->lst) {
		sl_tcp_stack_destroy(st);
		errno = ENOMEM;
		return NULL;
	}
	st->ft_mask = fsz - 1;
	for (uint32_t i = 0; i < fsz; i++)
		st->ft[i].ref = FLOW_EMPTY;
	for (uint32_t i = 0; i < n; i++)
		st->conn_free[i] = n - 1 - i;
	st->n_free = n;
	/* lowest block first, so a lightly loaded stack touches little memory */
	for (uint32_t i = 0; i < nsb; i++)
		st->sndq_free[i] = nsb - 1 - i;
	st->sndq_nfree = nsb;
	for (uint32_t i = 0; i < nob; i++)
		st->ooo_free[i] = nob - 1 - i;
	st->ooo_nfree = nob;
	st->wq_head = st->wq_tail = WQ_NONE;
	for (uint32_t i = 0; i < ntw; i++)
		st->tws[i].tn.prev = i + 1 < ntw ? &st->tws[i + 1].tn : NULL;
	st->tw_free = ntw ? &st->tws[0] : NULL;

	uint32_t mss = (uint32_t)conf->mtu - 40;
	st->our_mss = (uint16_t)(mss > 65535 ? 65535 : mss);
	uint8_t ws = 0;
	uint32_t wmax = st->conf.rcvbuf_max > st->conf.rcvbuf ? st->conf.rcvbuf_max : st->conf.rcvbuf;
	while (ws < 14 && (wmax >> ws) > 65535)
		ws++;
	st->our_wscale = ws;
	st->next_eph = (uint16_t)(sl_tcp_siphash(st->key_flow, (const uint8_t *)&conf->seed, 8) %
				  ((uint32_t)conf->ephemeral_hi - conf->ephemeral_lo + 1));
	return st;
}

void sl_tcp_stack_destroy(struct sl_tcp_stack *st)
{
	if (!st)
		return;
	const struct sl_tcp_conf *c = &st->conf;
	if (st->conns) {
		for (uint32_t i = 0; i < c->max_conns; i++) {
			struct sl_tcp_conn *t = &st->conns[i];
			if (!t->in_use)
				continue;
			for (unsigned k = 0; k < t->sndq_cnt; k++)
				c->buf_ops->unref(c->buf_ctx, t->sndq[(t->sndq_head + k) % c->sndq_max].b);
			for (unsigned k = 0; k < t->n_ooo; k++)
				c->buf_ops->unref(c->buf_ctx, t->ooo_blk[t->ooo_first + k].b);
		}
	}
	struct sl_tcp_conf copy = *c;
	mem_free(&copy, st->conns);
	mem_free(&copy, st->sndq_pool);
	mem_free(&copy, st->ooo_pool);
	mem_free(&copy, st->sndq_free);
	mem_free(&copy, st->ooo_free);
	mem_free(&copy, st->conn_free);
	mem_free(&copy, st->tws);
	mem_free(&copy, st->ft);
	mem_free(&copy, st->lst);
	mem_free(&copy, st);
}

const struct sl_tcp_counters *sl_tcp_counters(const struct sl_tcp_stack *st)
{
	return &st->cnt;
}

uint32_t sl_tcp_active_conns(const struct sl_tcp_stack *st)
{
	return st->n_active;
}

uint32_t sl_tcp_tw_count(const struct sl_tcp_stack *st)
{
	return st->n_tw;
}

const char *sl_tcp_state_name(int s)
{
	static const char *const n[] = { "CLOSED",     "LISTEN",	  "SYN_SENT",	"SYN_RCVD",
					 "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
					 "CLOSING",	"LAST_ACK",   "TIME_WAIT" };
	return (s >= 0 && s <= SL_TCP_TIME_WAIT) ? n[s] : "?";
}
