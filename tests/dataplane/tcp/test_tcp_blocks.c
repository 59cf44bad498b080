/* Queue blocks: connections take send / out-of-order blocks only while
 * those queues hold something, give them back when they empty or the
 * connection ends, and behave when the pools run dry. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "harness.h"

static struct pd P;

static void run(pd_tweak_fn tw, const char *script)
{
	pd_init(&P, tw);
	pd_run(&P, script);
	pd_fini(&P);
}

/* Two established connections, A from port 40000 and B from 40001 (SACK,
 * no timestamps so that segment lines need no TSecr); B is current. */
#define TWO_CONNS                                                                                  \
	"0 app listen\n"                                                                           \
	"0 < S seq=0 win=65535 mss=1460 sackok\n"                                                  \
	"0 > S. seq=0 ack=1\n"                                                                     \
	"+10 < . seq=1 ack=1 win=65535\n"                                                          \
	"+0 expect event accept\n"                                                                 \
	"+0 app newpeer 40001\n"                                                                   \
	"+0 < S seq=0 win=65535 mss=1460 sackok\n"                                                 \
	"+0 > S. seq=0 ack=1\n"                                                                    \
	"+10 < . seq=1 ack=1 win=65535\n"                                                          \
	"+0 expect event accept\n"

Test(blocks, idle_connections_hold_none_and_blocks_return_when_queues_drain)
{
	run(NULL, TWO_CONNS "+0 expect conns 2\n"
			    "+0 expect blocks 0 0\n"
			    "+0 app send 1000\n"
			    "+0 > P. seq=1 len=1000\n"
			    "+0 expect blocks 1 0\n"
			    /* a hole: the segment is held in a fresh out-of-order block */
			    "+0 < . seq=101 ack=1 len=100 win=65535\n"
			    "+0 > . ack=1 sack=101:201\n"
			    "+0 expect blocks 1 1\n"
			    /* the hole fills and half the data is acknowledged */
			    "+10 < . seq=1 ack=501 len=100 win=65535\n"
			    "+0 > . ack=201 nosack\n"
			    "+0 expect blocks 1 0\n"
			    "+0 expect rcvd 200\n"
			    "+10 < . seq=201 ack=1001 win=65535\n"
			    "+0 expect blocks 0 0\n"
			    /* the next send takes a block again */
			    "+0 app send 10\n"
			    "+0 > P. seq=1001 len=10\n"
			    "+0 expect blocks 1 0\n"
			    "+10 < . seq=201 ack=1011 win=65535\n"
			    "+0 expect blocks 0 0\n"
			    "+0 app switch 40000\n"
			    "+0 app send 10\n"
			    "+0 > P. seq=1 len=10\n"
			    "+0 < . seq=1 ack=11 win=65535\n"
			    "+0 expect blocks 0 0\n"
			    "+0 expect counter snd_no_block 0\n"
			    "+0 expect counter ooo_no_block 0\n");
}

static void one_block(struct sl_tcp_conf *c)
{
	c->sndq_blocks = 1;
	c->ooo_blocks = 1;
}

Test(blocks, send_block_exhaustion_eagain_then_writable_on_ack)
{
	run(one_block, TWO_CONNS "+0 app switch 40000\n"
				 "+0 app send 1000\n"
				 "+0 > P. seq=1 len=1000\n"
				 "+0 app switch 40001\n"
				 "+0 expect counter snd_no_block 0\n"
				 "+0 app send_eagain 100\n"
				 "+0 app send_eagain 100\n"
				 "+0 expect counter snd_no_block 2\n"
				 "+0 expect waiters 1\n"
				 "+0 expect blocks 1 0\n"
				 /* A's data is only partly acknowledged: A keeps its block */
				 "+0 app switch 40000\n"
				 "+10 < . seq=1 ack=501 win=65535\n"
				 "+0 expect writable 0\n"
				 "+0 expect waiters 1\n"
				 /* all acknowledged: the block frees and B hears writable */
				 "+10 < . seq=1 ack=1001 win=65535\n"
				 "+0 expect writable 1\n"
				 "+0 expect waiters 0\n"
				 "+0 expect blocks 0 0\n"
				 "+0 app switch 40001\n"
				 "+0 app send 100\n"
				 "+0 > P. seq=1 len=100\n"
				 "+0 expect blocks 1 0\n"
				 "+10 < . seq=1 ack=101 win=65535\n"
				 "+0 expect blocks 0 0\n");
}

Test(blocks, send_block_freed_by_abort_wakes_waiter_on_tick)
{
	run(one_block, TWO_CONNS "+0 app switch 40000\n"
				 "+0 app send 1000\n"
				 "+0 > P. seq=1 len=1000\n"
				 "+0 app switch 40001\n"
				 "+0 app send_eagain 100\n"
				 "+0 app switch 40000\n"
				 /* the API call frees the block outside any callback:
				  * the waiter is told on the next tick */
				 "+0 app abort\n"
				 "+0 > R. seq=1001\n"
				 "+0 expect blocks 0 0\n"
				 "+0 expect writable 0\n"
				 "+1 tick\n"
				 "+0 expect writable 1\n"
				 "+0 expect waiters 0\n"
				 "+0 app switch 40001\n"
				 "+0 app send 100\n"
				 "+0 > P. seq=1 len=100\n"
				 "+10 < . seq=1 ack=101 win=65535\n");
}

Test(blocks, waiter_that_closes_is_forgotten)
{
	run(one_block, TWO_CONNS "+0 app switch 40000\n"
				 "+0 app send 1000\n"
				 "+0 > P. seq=1 len=1000\n"
				 "+0 app switch 40001\n"
				 "+0 app send_eagain 100\n"
				 "+0 expect waiters 1\n"
				 "+0 app close\n"
				 "+0 > F. seq=1 ack=1\n"
				 "+0 app switch 40000\n"
				 "+10 < . seq=1 ack=1001 win=65535\n"
				 "+0 expect writable 0\n"
				 "+0 expect waiters 0\n"
				 "+0 expect blocks 0 0\n"
				 "+0 app switch 40001\n"
				 "+0 < F. seq=1 ack=2 win=65535\n"
				 "+0 > . seq=2 ack=2\n"
				 "+0 expect tw 1\n");
}

Test(blocks, ooo_block_exhaustion_drops_and_counts)
{
	run(one_block, TWO_CONNS "+0 app switch 40000\n"
				 "+0 < . seq=101 ack=1 len=100 win=65535\n"
				 "+0 > . ack=1 sack=101:201\n"
				 "+0 expect blocks 0 1\n"
				 /* B's out-of-order segment finds no block: dropped, no SACK */
				 "+0 app switch 40001\n"
				 "+0 < . seq=101 ack=1 len=100 win=65535\n"
				 "+0 > . ack=1 nosack\n"
				 "+0 expect counter ooo_no_block 1\n"
				 "+0 expect counter ooo_segs 2\n"
				 "+0 expect counter ooo_drops 0\n"
				 /* A's hole fills: its block goes back */
				 "+0 app switch 40000\n"
				 "+0 < . seq=1 ack=1 len=100 win=65535\n"
				 "+0 > . ack=201 nosack\n"
				 "+0 expect blocks 0 0\n"
				 /* B's retransmission is held now */
				 "+0 app switch 40001\n"
				 "+0 < . seq=101 ack=1 len=100 win=65535\n"
				 "+0 > . ack=1 sack=101:201\n"
				 "+0 expect blocks 0 1\n"
				 "+0 < . seq=1 ack=1 len=100 win=65535\n"
				 "+0 > . ack=201 nosack\n"
				 "+0 expect blocks 0 0\n"
				 "+0 expect rcvd 400\n"
				 "+0 expect counter ooo_no_block 1\n");
}

Test(blocks, blocks_return_on_reset)
{
	run(NULL, TWO_CONNS "+0 app send 1000\n"
			    "+0 > P. seq=1 len=1000\n"
			    "+0 < . seq=101 ack=1 len=100 win=65535\n"
			    "+0 > . ack=1 sack=101:201\n"
			    "+0 expect blocks 1 1\n"
			    "+0 < R seq=1 win=0\n"
			    "+0 expect event error_reset\n"
			    "+0 expect blocks 0 0\n"
			    "+0 app close\n"
			    "+0 expect conns 1\n");
}

Test(blocks, blocks_return_on_abort_and_time_wait)
{
	run(NULL, TWO_CONNS "+0 app send 1000\n"
			    "+0 > P. seq=1 len=1000\n"
			    "+0 < . seq=101 ack=1 len=100 win=65535\n"
			    "+0 > . ack=1 sack=101:201\n"
			    "+0 app abort\n"
			    "+0 > R. seq=1001\n"
			    "+0 expect blocks 0 0\n"
			    /* A: close, FIN acked, then the peer's FIN arrives while a
			     * segment beyond it is still held out of order */
			    "+0 app switch 40000\n"
			    "+0 < . seq=201 ack=1 len=100 win=65535\n"
			    "+0 > . ack=1 sack=201:301\n"
			    "+0 app close\n"
			    "+0 > F. seq=1 ack=1\n"
			    "+10 < . seq=1 ack=2 win=65535\n"
			    "+0 expect blocks 0 1\n"
			    "+0 < F. seq=1 ack=2 win=65535\n"
			    "+0 > . seq=2 ack=2\n"
			    "+0 expect tw 1\n"
			    "+0 expect conns 0\n"
			    "+0 expect blocks 0 0\n");
}

static int no_tx(void *arg, const struct sl_tcp_seg_out *o)
{
	(void)arg, (void)o;
	cr_assert_fail("no traffic expected");
	return 0;
}

static struct sl_tcp_stack *make(uint32_t max_conns, uint32_t sndq_blocks, uint32_t ooo_blocks)
{
	struct sl_tcp_conf c;
	sl_tcp_conf_defaults(&c);
	c.max_conns = max_conns;
	c.sndq_blocks = sndq_blocks;
	c.ooo_blocks = ooo_blocks;
	c.buf_ops = &tbuf_ops;
	c.tx = no_tx;
	struct sl_tcp_stack *st = sl_tcp_stack_create(&c, 1000000);
	cr_assert(st);
	return st;
}

Test(blocks, pool_sizes_default_and_clamp)
{
	static const struct {
		uint32_t conns, snd, ooo, want_snd, want_ooo;
	} t[] = {
		{ 4096, 0, 0, 1024, 1024 }, /* max_conns / 4 */
		{ 64, 0, 0, 64, 64 },	    /* at least 64 */
		{ 16, 0, 0, 16, 16 },	    /* but never more than max_conns */
		{ 8, 10, 3, 8, 3 },	    /* explicit, clamped */
		{ 100, 1, 100, 1, 100 },
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sl_tcp_stack *st = make(t[i].conns, t[i].snd, t[i].ooo);
		struct sl_tcp_block_usage u;
		sl_tcp_block_usage(st, &u);
		cr_assert(u.sndq_total == t[i].want_snd && u.ooo_total == t[i].want_ooo,
			  "row %u: %u/%u blocks, expected %u/%u", i, u.sndq_total, u.ooo_total, t[i].want_snd,
			  t[i].want_ooo);
		cr_assert(u.sndq_used == 0 && u.ooo_used == 0 && u.sndq_waiters == 0);
		sl_tcp_stack_destroy(st);
	}
}

Test(blocks, memory_accounting)
{
	struct sl_tcp_conf c;
	sl_tcp_conf_defaults(&c);
	c.max_conns = 4096;
	size_t per_conn = sl_tcp_conn_mem(&c);
	/* the product target: an idle established connection within 2 KiB */
	cr_assert_leq(per_conn, 2048, "%zu bytes per connection slot", per_conn);
	cr_assert_geq(per_conn, 256, "%zu bytes per connection slot is implausible", per_conn);
	/* 1024 blocks of each kind, 256 entries of 16 and 24 bytes, plus a
	 * 4-byte free-list slot per block */
	cr_assert_eq(sl_tcp_block_mem(&c), 1024u * (256 * 16 + 4) + 1024u * (256 * 24 + 4));
	c.sndq_blocks = 10;
	c.ooo_blocks = 20;
	c.sndq_max = 4;
	c.ooo_max = 8;
	cr_assert_eq(sl_tcp_block_mem(&c), 10u * (4 * 16 + 4) + 20u * (8 * 24 + 4));
	/* a smaller TIME_WAIT table costs less per slot */
	struct sl_tcp_conf d = c;
	d.max_tw = 16;
	cr_assert_lt(sl_tcp_conn_mem(&d), sl_tcp_conn_mem(&c));
}
