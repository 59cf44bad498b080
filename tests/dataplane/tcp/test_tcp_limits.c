/* Bounds and corner cases: out-of-order queue limit, TIME_WAIT table limit,
 * timer wheel jumps, handshake RTT, ACK sequence after an RTO, unlisten. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct pd P;

static void run(pd_tweak_fn tw, const char *script)
{
	pd_init(&P, tw);
	pd_run(&P, script);
	pd_fini(&P);
}

#define PRELUDE                                                                                    \
	"0 app listen\n"                                                                           \
	"0 < S seq=0 win=65535 mss=1460 sackok ts=100:0 ws=7\n"                                    \
	"0 > S. seq=0 ack=1\n"                                                                     \
	"+10 < . seq=1 ack=1 win=1000 ts=110:$\n"                                                  \
	"+0 expect event accept\n"

static void ooo32(struct sl_tcp_conf *c)
{
	c->ooo_max = 32;
}

static void ooo4(struct sl_tcp_conf *c)
{
	c->ooo_max = 4;
}

Test(limits, ooo_queue_slides_and_bounds)
{
	run(ooo4, PRELUDE "+10 < . seq=101 ack=1 len=100 win=1000 ts=120:$\n"
			  "+0 > . ack=1 sack=101:201\n"
			  "+0 < . seq=301 ack=1 len=100 win=1000 ts=121:$\n"
			  "+0 > . ack=1 sack=301:401,101:201\n"
			  "+0 < . seq=401 ack=1 len=100 win=1000 ts=122:$\n"
			  "+0 > . ack=1 sack=301:501,101:201\n"
			  /* the first hole fills: one entry leaves the front */
			  "+0 < . seq=1 ack=1 len=100 win=1000 ts=123:$\n"
			  "+0 > . ack=201 sack=301:501\n"
			  "+0 < . seq=501 ack=1 len=100 win=1000 ts=124:$\n"
			  "+0 > . ack=201 sack=301:601\n"
			  /* the window reaches the end of its slice and slides back */
			  "+0 < . seq=601 ack=1 len=100 win=1000 ts=125:$\n"
			  "+0 > . ack=201 sack=301:701\n"
			  /* four held: the fifth is dropped */
			  "+0 < . seq=701 ack=1 len=100 win=1000 ts=126:$\n"
			  "+0 > . ack=201 sack=301:701\n"
			  "+0 expect counter ooo_drops 1\n"
			  "+0 < . seq=201 ack=1 len=100 win=1000 ts=127:$\n"
			  "+0 > . ack=701 nosack\n"
			  "+0 expect rcvd 700\n");
}

Test(limits, ooo_queue_bounded)
{
	static char script[16384];
	size_t n = (size_t)snprintf(script, sizeof(script), "%s", PRELUDE);
	/* 40 disjoint out-of-order segments: 32 are held, 8 dropped */
	for (unsigned i = 0; i < 40; i++)
		n += (size_t)snprintf(script + n, sizeof(script) - n,
				      "+0 < . seq=%u ack=1 len=100 win=1000 ts=%u:$\n+0 > . ack=1\n", 1001 + 200 * i,
				      120 + i);
	snprintf(script + n, sizeof(script) - n,
		 "+0 expect counter ooo_segs 40\n"
		 "+0 expect counter ooo_drops 8\n"
		 /* the hole fills: everything held is delivered at once */
		 "+0 < . seq=1 ack=1 len=1000 win=1000 ts=200:$\n"
		 "+0 > . ack=1101\n"
		 "+0 expect rcvd 1100\n");
	run(ooo32, script);
}

static void one_tw(struct sl_tcp_conf *c)
{
	c->max_tw = 1;
}

#define CLOSE_VIA_TW(port, ts)                                                                     \
	"+0 app newpeer " #port "\n"                                                               \
	"+0 < S seq=0 win=65535 mss=1460\n"                                                        \
	"+0 > S. seq=0 ack=1\n"                                                                    \
	"+1 < . seq=1 ack=1 win=1000\n"                                                            \
	"+0 expect event accept\n"                                                                 \
	"+0 app close\n"                                                                           \
	"+0 > F. seq=1 ack=1\n"                                                                    \
	"+1 < F. seq=1 ack=2 win=1000\n"                                                           \
	"+0 > . seq=2 ack=2\n"

Test(limits, time_wait_table_bounded)
{
	run(one_tw, "0 app listen\n" CLOSE_VIA_TW(40001, 1) "+0 expect tw 1\n"
		    "+0 expect counter tw_overflow 0\n" CLOSE_VIA_TW(40002, 2) "+0 expect tw 1\n"
		    "+0 expect counter tw_overflow 1\n"
		    "+0 expect conns 0\n"
		    /* the second flow went straight to CLOSED: a stray ACK gets a RST */
		    "+1 < . seq=2 ack=2 win=1000\n"
		    "+0 > R seq=2\n");
}

Test(limits, timer_wheel_big_jump)
{
	pd_init(&P, NULL);
	pd_run(&P, PRELUDE "+0 app send 100\n"
			   "+0 > P. seq=1 len=100\n");
	/* jump 10 s in one call: one RTO fires once, not once per skipped round */
	sl_tcp_tick(P.st, P.now_us + 10000000);
	P.now_us += 10000000;
	struct cap *c = pd_pop(&P);
	cr_assert(c && c->o.payload_len == 100, "retransmission expected");
	cr_assert_null(pd_pop(&P), "one expiry only");
	cr_assert_eq(pd_counter(&P, "rto_expired"), 1);
	/* the backed-off timer (400 ms) still works after the jump */
	pd_step_to(&P, 10010 + 399);
	cr_assert_null(pd_pop(&P));
	pd_step_to(&P, 10010 + 400);
	c = pd_pop(&P);
	cr_assert(c && c->o.payload_len == 100);
	pd_inject(&P, P.rport, SL_TCP_ACK, P.peer_isn + 1, P.our_isn + 101, 1000, NULL, 0);
	P.ev_n = 0;
	pd_fini(&P);
}

Test(limits, handshake_rtt_without_timestamps)
{
	/* 10 ms handshake RTT -> RTO clamps to 200 ms instead of the initial 1 s */
	run(NULL, "0 app listen\n"
		  "0 < S seq=0 win=65535 mss=1460\n"
		  "0 > S. seq=0 ack=1\n"
		  "+10 < . seq=1 ack=1 win=65535\n"
		  "+0 expect event accept\n"
		  "+0 app send 100\n"
		  "+0 > P. seq=1 len=100\n"
		  "+200 > P. seq=1 len=100\n"
		  "+1 < . seq=1 ack=101 win=65535\n");
}

Test(limits, handshake_rtt_karn_after_synack_retransmit)
{
	/* the SYN-ACK was retransmitted: no sample, RTO stays backed off (2 s) */
	run(NULL, "0 app listen\n"
		  "0 < S seq=0 win=65535 mss=1460\n"
		  "0 > S. seq=0 ack=1\n"
		  "1000 > S. seq=0 ack=1\n"
		  "+10 < . seq=1 ack=1 win=65535\n"
		  "+0 expect event accept\n"
		  "+0 app send 100\n"
		  "+0 > P. seq=1 len=100\n"
		  "+2000 > P. seq=1 len=100\n"
		  "+1 < . seq=1 ack=101 win=65535\n");
}

Test(limits, pure_ack_after_rto_carries_snd_max)
{
	run(NULL, PRELUDE "+0 app send 3000\n"
			  "+0 > . seq=1 len=1448\n"
			  "+0 > . seq=1449 len=1448\n"
			  "+0 > P. seq=2897 len=104\n"
			  "210 > . seq=1 len=1448\n"
			  /* the peer sends data: our ACK must not use the rewound SND.NXT */
			  "+5 < P. seq=1 ack=1 len=100 win=1000 ts=200:$\n"
			  "+0 > . seq=3001 ack=101\n"
			  "+5 < . seq=101 ack=3001 win=1000 ts=210:$\n"
			  "+0 expect counter retrans_segs 1\n");
}

Test(limits, unlisten_resets_pending_handshake)
{
	pd_init(&P, NULL);
	pd_run(&P, "0 app listen\n"
		   "0 < S seq=0 win=65535 mss=1460\n"
		   "0 > S. seq=0 ack=1\n");
	sl_tcp_unlisten(P.lst);
	pd_run(&P, "+1 < . seq=1 ack=1 win=100\n"
		   "+0 > R. seq=1 ack=1\n"
		   "+0 expect counter accept_refused 1\n"
		   "+0 expect conns 0\n"
		   /* no listener any more: a SYN gets RST */
		   "+1 < S seq=0 win=100 mss=1460\n"
		   "+0 > R. ack=1\n");
	pd_fini(&P);
}

static void twenty_ms_delack(struct sl_tcp_conf *c)
{
	c->delack_ms = 20;
	c->nodelay = true;
}

Test(limits, conf_delack_and_nodelay_default)
{
	run(twenty_ms_delack, PRELUDE "+10 < . seq=1 ack=1 len=100 win=1000 ts=120:$\n"
				      "+20 > . ack=101\n"
				      "+0 app send 10\n"
				      "+0 > P. seq=1 len=10\n"
				      "+0 app send 10\n"
				      "+0 > P. seq=11 len=10\n"
				      "+5 < . seq=101 ack=21 win=1000 ts=130:$\n");
}

Test(limits, per_connection_send_limit)
{
	run(NULL, PRELUDE "+0 app bufs 1000 262144\n"
			  "+0 app send 1000\n"
			  "+0 > P. seq=1 len=1000\n"
			  "+0 app send_eagain 10\n"
			  "+10 < . seq=1 ack=1001 win=1000 ts=120:$\n"
			  "+0 expect writable 1\n");
}

Test(limits, per_connection_receive_limit_closes_window)
{
	pd_init(&P, NULL);
	pd_run(&P, PRELUDE "+0 app manual\n"
			   "+0 app bufs 262144 4000\n");
	/* the 65535 bytes already advertised stay open (no shrinking), after
	 * that the 4000-byte limit shows */
	uint16_t last_win = 0xffff;
	for (uint32_t i = 0; i < 46; i++) {
		pd_inject(&P, P.rport, SL_TCP_ACK, P.peer_isn + 1 + i * 1448, P.our_isn + 1, 1000, NULL, 1448);
		struct cap *c;
		while ((c = pd_pop(&P)))
			last_win = c->parsed.win;
	}
	pd_step_to(&P, 200);
	struct cap *c;
	while ((c = pd_pop(&P)))
		last_win = c->parsed.win;
	cr_assert_eq(last_win, 0, "window %u after the limit", last_win);
	/* scaled window fields round up, so the edge may sit up to 7 bytes on */
	cr_assert(P.rcvd >= 65535u && P.rcvd < 65535u + 8, "advertised window accepted, got %llu",
		  (unsigned long long)P.rcvd);
	sl_tcp_consumed(P.conn, (uint32_t)P.rcvd);
	c = pd_pop(&P);
	cr_assert(c && c->parsed.win == 4000 >> 3, "window update to the 4000-byte limit, got %u", c ? c->parsed.win : 0);
	P.ev_n = 0;
	pd_fini(&P);
}
