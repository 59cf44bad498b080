/* RST handling, challenge ACKs, closing sequences, TIME_WAIT, keepalive.
 * Packetdrill style (see harness.c). */
#include <criterion/criterion.h>

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

Test(rst, in_window_challenge_out_of_window_ignored_exact_resets)
{
	run(NULL, PRELUDE
		  /* RFC 5961 3.2: in the window but not RCV.NXT -> challenge ACK */
		  "+10 < R seq=100 win=0\n"
		  "+0 > . seq=1 ack=1\n"
		  "+0 expect counter challenge_acks 1\n"
		  "+0 expect state ESTABLISHED\n"
		  /* outside the window: silently dropped */
		  "+10 < R seq=900000 win=0\n"
		  "+0 expect state ESTABLISHED\n"
		  /* exactly RCV.NXT: reset */
		  "+10 < R seq=1 win=0\n"
		  "+0 expect event error_reset\n"
		  "+0 expect state CLOSED\n"
		  "+0 expect counter conn_reset 1\n"
		  "+0 app close\n"
		  "+0 expect conns 0\n");
}

Test(rst, syn_in_established_gets_challenge_ack)
{
	run(NULL, PRELUDE "+10 < S seq=500 win=100 mss=1460 ts=120:0\n"
			  "+0 > . seq=1 ack=1\n"
			  "+0 expect state ESTABLISHED\n"
			  "+0 expect counter challenge_acks 1\n"
			  /* a SYN outside the window gets a plain duplicate ACK */
			  "+10 < S seq=900000 win=100 mss=1460 ts=130:0\n"
			  "+0 > . seq=1 ack=1\n"
			  "+0 expect state ESTABLISHED\n");
}

static void limit2(struct sl_tcp_conf *c)
{
	c->challenge_ack_limit = 2;
}

Test(rst, challenge_ack_rate_limit)
{
	run(limit2, PRELUDE "+10 < R seq=100 win=0\n"
			    "+0 > . seq=1 ack=1\n"
			    "+1 < R seq=200 win=0\n"
			    "+0 > . seq=1 ack=1\n"
			    "+1 < R seq=300 win=0\n"
			    "+0 expect counter challenge_ack_limited 1\n"
			    "+0 expect counter challenge_acks 2\n"
			    /* a new one-second window */
			    "+1000 < R seq=400 win=0\n"
			    "+0 > . seq=1 ack=1\n"
			    "+0 expect state ESTABLISHED\n");
}

Test(rst, abort_sends_rst)
{
	run(NULL, PRELUDE "+0 app send 100\n"
			  "+0 > P. seq=1 len=100\n"
			  "+1 app abort\n"
			  "+0 > R. seq=101 ack=1\n"
			  "+0 expect conns 0\n"
			  /* late segments for the dead flow: RST from "no connection" */
			  "+1 < . seq=1 ack=101 win=1000\n"
			  "+0 > R seq=101\n");
}

static void short_msl(struct sl_tcp_conf *c)
{
	c->msl_ms = 1000;
}

Test(close, active_close_time_wait)
{
	run(short_msl, PRELUDE "+0 app close\n"
			       "+0 > F. seq=1 ack=1\n"
			       "+10 < . seq=1 ack=2 win=1000 ts=120:$\n"
			       "+0 expect conns 1\n"
			       "+10 < F. seq=1 ack=2 win=1000 ts=130:$\n"
			       "+0 > . seq=2 ack=2\n"
			       "+0 expect tw 1\n"
			       "+0 expect conns 0\n"
			       "+0 expect counter tw_entered 1\n"
			       /* retransmitted FIN: ACK again, 2MSL restarts */
			       "+100 < F. seq=1 ack=2 win=1000 ts=140:$\n"
			       "+0 > . seq=2 ack=2\n"
			       /* RFC 1337: RST does not kill TIME_WAIT */
			       "+10 < R seq=2 win=0\n"
			       "+0 expect tw 1\n"
			       "2129 expect tw 1\n"
			       "2130 expect tw 0\n"
			       "2130 expect counter tw_expired 1\n");
}

Test(close, time_wait_reuse_by_timestamp)
{
	run(short_msl, PRELUDE "+0 app close\n"
			       "+0 > F. seq=1 ack=1\n"
			       "+10 < F. seq=1 ack=2 win=1000 ts=120:$\n"
			       "+0 > . seq=2 ack=2\n"
			       "+0 expect tw 1\n"
			       /* an older timestamp: not a new incarnation, just ACK */
			       "+10 < S seq=5000 win=65535 mss=1460 ts=50:0\n"
			       "+0 > . seq=2 ack=2\n"
			       "+0 expect tw 1\n"
			       /* a newer one: TIME_WAIT gives way (RFC 6191) */
			       "+10 < S seq=5000 win=65535 mss=1460 ts=500:0\n"
			       "+0 > S. ack=5001 ts=*:500\n"
			       "+0 expect tw 0\n"
			       "+0 expect counter tw_reuse 1\n"
			       "+0 expect conns 1\n"
			       "+1000 > S. ack=5001\n"
			       "+0 < R seq=5001 win=0\n"
			       "+0 expect conns 0\n");
}

Test(close, passive_close_close_wait_last_ack)
{
	run(NULL, PRELUDE "+10 < F. seq=1 ack=1 win=1000 ts=120:$\n"
			  "+0 > . seq=1 ack=2\n"
			  "+0 expect event peer_closed\n"
			  "+0 expect state CLOSE_WAIT\n"
			  /* half-closed by the peer: we can still send */
			  "+0 app send 100\n"
			  "+0 > P. seq=1 ack=2 len=100\n"
			  "+10 < . seq=2 ack=101 win=1000 ts=130:$\n"
			  "+0 app close\n"
			  "+0 > F. seq=101 ack=2\n"
			  "+10 < . seq=2 ack=102 win=1000 ts=140:$\n"
			  "+0 expect conns 0\n"
			  "+0 expect tw 0\n"
			  "+0 expect counter conn_closed 1\n");
}

Test(close, half_close_by_us_then_receive)
{
	run(NULL, PRELUDE "+0 app send 100\n"
			  "+0 > P. seq=1 len=100\n"
			  "+0 app shutdown\n"
			  "+0 > F. seq=101 ack=1\n"
			  "+0 expect state FIN_WAIT_1\n"
			  "+10 < . seq=1 ack=102 win=1000 ts=120:$\n"
			  "+0 expect state FIN_WAIT_2\n"
			  /* the peer keeps sending after our FIN */
			  "+10 < P. seq=1 ack=102 len=500 win=1000 ts=130:$\n"
			  "+0 > . seq=102 ack=501\n"
			  "+0 expect rcvd 500\n"
			  "+10 < F. seq=501 ack=102 win=1000 ts=140:$\n"
			  "+0 > . seq=102 ack=502\n"
			  "+0 expect event peer_closed\n"
			  "+0 expect state TIME_WAIT\n"
			  "+0 expect tw 1\n"
			  "+0 app close\n"
			  "+0 expect conns 0\n");
}

Test(close, fin_with_data_and_out_of_order_fin)
{
	run(NULL, PRELUDE
		  /* FIN arrives before the data that precedes it */
		  "+10 < F. seq=101 ack=1 win=1000 ts=120:$\n"
		  "+0 > . seq=1 ack=1\n"
		  "+0 expect state ESTABLISHED\n"
		  "+1 < P. seq=1 ack=1 len=100 win=1000 ts=121:$\n"
		  "+0 > . seq=1 ack=102\n"
		  "+0 expect event peer_closed\n"
		  "+0 expect rcvd 100\n"
		  "+0 expect state CLOSE_WAIT\n");
}

Test(close, simultaneous_close)
{
	run(NULL, PRELUDE "+0 app close\n"
			  "+0 > F. seq=1 ack=1\n"
			  /* the peer's FIN crosses ours */
			  "+5 < F. seq=1 ack=1 win=1000 ts=120:$\n"
			  "+0 > . seq=2 ack=2\n"
			  "+0 expect tw 0\n"
			  "+5 < . seq=2 ack=2 win=1000 ts=130:$\n"
			  "+0 expect tw 1\n"
			  "+0 expect conns 0\n");
}

Test(close, fin_retransmitted_until_acked)
{
	run(NULL, PRELUDE "+0 app close\n"
			  "+0 > F. seq=1 ack=1\n"
			  "210 > F. seq=1 ack=1\n"
			  "610 > F. seq=1 ack=1\n"
			  "+5 < . seq=1 ack=2 win=1000 ts=120:$\n"
			  "+5 < F. seq=1 ack=2 win=1000 ts=130:$\n"
			  "+0 > . seq=2 ack=2\n"
			  "+0 expect tw 1\n");
}

static void short_fw2(struct sl_tcp_conf *c)
{
	c->fin_wait2_ms = 500;
}

Test(close, orphan_fin_wait_2_times_out)
{
	run(short_fw2, PRELUDE "+0 app close\n"
			       "+0 > F. seq=1 ack=1\n"
			       "+10 < . seq=1 ack=2 win=1000 ts=120:$\n"
			       "+0 expect conns 1\n"
			       "+499 expect conns 1\n"
			       "+1 expect conns 0\n");
}

Test(close, data_after_close_gets_rst)
{
	run(NULL, PRELUDE "+0 app close\n"
			  "+0 > F. seq=1 ack=1\n"
			  "+10 < P. seq=1 ack=1 len=100 win=1000 ts=120:$\n"
			  "+0 > R. seq=2 ack=1\n"
			  "+0 expect conns 0\n");
}

static void fast_keepalive(struct sl_tcp_conf *c)
{
	c->keepalive_idle_ms = 1000;
	c->keepalive_intvl_ms = 100;
	c->keepalive_probes = 3;
}

Test(close, keepalive_probes_then_timeout)
{
	run(fast_keepalive, PRELUDE "+0 app keepalive\n"
				    "1010 > . seq=0 ack=1\n"
				    "+5 < . seq=1 ack=1 win=1000 ts=200:$\n"
				    "2015 > . seq=0 ack=1\n"
				    "2115 > . seq=0 ack=1\n"
				    "2215 > . seq=0 ack=1\n"
				    "2315 > R. seq=1 ack=1\n"
				    "2315 expect event error_timeout\n"
				    "2315 expect counter keepalive_probes 4\n"
				    "2315 expect counter keepalive_timeouts 1\n"
				    "2315 app close\n");
}
