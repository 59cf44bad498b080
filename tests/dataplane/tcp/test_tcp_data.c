/* Data transfer: ACK clocking, delayed ACK, retransmission, recovery,
 * windows. Packetdrill style (see harness.c). */
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

/* Peer offers everything, window scale 7 (win=1000 means 128000 bytes).
 * The handshake RTT is 10 ms, so RTO = rto_min = 200 ms. Send MSS 1448. */
#define PRELUDE                                                                                    \
	"0 app listen\n"                                                                           \
	"0 < S seq=0 win=65535 mss=1460 sackok ts=100:0 ws=7\n"                                    \
	"0 > S. seq=0 ack=1\n"                                                                     \
	"+10 < . seq=1 ack=1 win=1000 ts=110:$\n"                                                  \
	"+0 expect event accept\n"

/* Same without SACK. */
#define PRELUDE_NOSACK                                                                             \
	"0 app listen\n"                                                                           \
	"0 < S seq=0 win=65535 mss=1460 ts=100:0 ws=7\n"                                           \
	"0 > S. seq=0 ack=1 nosackok\n"                                                            \
	"+10 < . seq=1 ack=1 win=1000 ts=110:$\n"                                                  \
	"+0 expect event accept\n"

#define SEG(t, seq) t " > . seq=" #seq " len=1448\n"

Test(data, delayed_ack)
{
	run(NULL, PRELUDE
		  /* quick ACK: PSH after idle */
		  "+10 < P. seq=1 ack=1 len=1000 win=1000 ts=120:$\n"
		  "+0 > . ack=1001\n"
		  /* one segment: wait for the 40 ms timer */
		  "+10 < . seq=1001 ack=1 len=1448 win=1000 ts=130:$\n"
		  "+40 > . ack=2449\n"
		  /* every second segment: at once */
		  "+10 < . seq=2449 ack=1 len=1448 win=1000 ts=140:$\n"
		  "+5 < . seq=3897 ack=1 len=1448 win=1000 ts=145:$\n"
		  "+0 > . ack=5345\n"
		  /* PSH without idle does not force an ACK */
		  "+5 < P. seq=5345 ack=1 len=10 win=1000 ts=150:$\n"
		  "+40 > . ack=5355\n"
		  "+0 expect counter delayed_acks 2\n"
		  "+0 expect counter quick_acks 1\n"
		  "+0 expect rcvd 5354\n");
}

Test(data, ack_clocking_iw10_slow_start)
{
	run(NULL, PRELUDE "+0 app send 28960\n" SEG("+0", 1) SEG("+0", 1449) SEG("+0", 2897) SEG("+0", 4345)
			  SEG("+0", 5793) SEG("+0", 7241) SEG("+0", 8689) SEG("+0", 10137) SEG("+0", 11585)
			  SEG("+0", 13033)
		  /* one ACK for two segments: cwnd +1 MSS, so three go out */
		  "+10 < . seq=1 ack=2897 win=1000 ts=120:$\n" SEG("+0", 14481) SEG("+0", 15929) SEG("+0", 17377)
		  "+1 < . seq=1 ack=5793 win=1000 ts=121:$\n" SEG("+0", 18825) SEG("+0", 20273) SEG("+0", 21721)
		  /* an ACK beyond anything sent is answered, not believed */
		  "+1 < . seq=1 ack=28961 win=1000 ts=122:$\n"
		  "+0 > . seq=23169 len=0\n"
		  "+0 expect counter bad_acks 1\n"
		  "+1 < . seq=1 ack=8689 win=1000 ts=123:$\n" SEG("+0", 23169) SEG("+0", 24617) SEG("+0", 26065)
		  "+1 < . seq=1 ack=11585 win=1000 ts=124:$\n"
		  "+0 > P. seq=27513 len=1448\n"
		  "+1 < . seq=1 ack=28961 win=1000 ts=125:$\n"
		  "+0 expect counter retrans_segs 0\n");
}

Test(data, rto_backoff_and_reset)
{
	run(NULL, PRELUDE "+0 app send 1000\n"
			  "+0 > P. seq=1 len=1000\n"
			  "210 > P. seq=1 len=1000\n"
			  "610 > P. seq=1 len=1000\n"
			  "1410 > P. seq=1 len=1000\n"
			  "+10 < . seq=1 ack=1001 win=1000 ts=200:$\n"
			  "+0 expect counter rto_expired 3\n"
			  "+0 expect counter retrans_segs 3\n"
			  /* a fresh RTT sample ends the back-off (RFC 6298 5.7) */
			  "+0 app send 100\n"
			  "+0 > P. seq=1001 len=100\n"
			  "+200 > P. seq=1001 len=100\n"
			  "+5 < . seq=1 ack=1101 win=1000 ts=210:$\n");
}

static void three_retries(struct sl_tcp_conf *c)
{
	c->data_retries = 3;
}

Test(data, retry_exhaustion_rst_and_error)
{
	run(three_retries, PRELUDE "+0 app send 1000\n"
				   "+0 > P. seq=1 len=1000\n"
				   "210 > P. seq=1 len=1000\n"
				   "610 > P. seq=1 len=1000\n"
				   "1410 > P. seq=1 len=1000\n"
				   "3010 > R. seq=1001 ack=1\n"
				   "3010 expect event error_timeout\n"
				   "3010 expect state CLOSED\n"
				   "3010 expect counter conn_timeout 1\n"
				   "3010 app close\n"
				   "3010 expect conns 0\n");
}

Test(data, fast_retransmit_newreno_partial_ack)
{
	run(NULL, PRELUDE_NOSACK "+0 app send 14480\n" SEG("+0", 1) SEG("+0", 1449) SEG("+0", 2897)
				 SEG("+0", 4345) SEG("+0", 5793) SEG("+0", 7241) SEG("+0", 8689) SEG("+0", 10137)
				 SEG("+0", 11585) "+0 > P. seq=13033 len=1448\n"
		  "+10 < . seq=1 ack=1449 win=1000 ts=120:$\n"
		  "+1 < . seq=1 ack=1449 win=1000 ts=121:$\n"
		  "+1 < . seq=1 ack=1449 win=1000 ts=122:$\n"
		  "+1 < . seq=1 ack=1449 win=1000 ts=123:$\n"
		  /* third duplicate: retransmit at once, no timer */
		  SEG("+0", 1449)
		  "+1 < . seq=1 ack=1449 win=1000 ts=124:$\n"
		  "+0 expect counter fast_retrans 1\n"
		  "+0 expect counter dupacks_in 4\n"
		  /* partial ACK: the next hole goes out (RFC 6582) */
		  "+10 < . seq=1 ack=5793 win=1000 ts=130:$\n" SEG("+0", 5793)
		  "+10 < . seq=1 ack=14481 win=1000 ts=140:$\n"
		  "+0 expect counter rto_expired 0\n"
		  "+0 expect counter retrans_segs 2\n");
}

Test(data, sack_recovery)
{
	run(NULL, PRELUDE "+0 app send 28960\n" SEG("+0", 1) SEG("+0", 1449) SEG("+0", 2897) SEG("+0", 4345)
			  SEG("+0", 5793) SEG("+0", 7241) SEG("+0", 8689) SEG("+0", 10137) SEG("+0", 11585)
			  SEG("+0", 13033)
		  /* the first segment is lost; the peer SACKs the rest. The first two
		   * duplicates release one new segment each (RFC 3042) */
		  "+10 < . seq=1 ack=1 win=1000 ts=120:$ sack=1449:2897\n" SEG("+0", 14481)
		  "+1 < . seq=1 ack=1 win=1000 ts=121:$ sack=1449:4345\n" SEG("+0", 15929)
		  /* third: retransmit; cwnd = ssthresh = 17376 / 2 */
		  "+1 < . seq=1 ack=1 win=1000 ts=122:$ sack=1449:5793\n" SEG("+0", 1)
		  "+1 < . seq=1 ack=1 win=1000 ts=123:$ sack=1449:7241\n"
		  "+1 < . seq=1 ack=1 win=1000 ts=124:$ sack=1449:8689\n"
		  "+1 < . seq=1 ack=1 win=1000 ts=125:$ sack=1449:10137\n"
		  /* pipe falls below cwnd: new data */
		  "+1 < . seq=1 ack=1 win=1000 ts=126:$ sack=1449:11585\n" SEG("+0", 17377)
		  /* partial ACK in SACK recovery: pipe decides, no NewReno retransmit */
		  "+1 < . seq=1 ack=11585 win=1000 ts=127:$\n" SEG("+0", 18825)
		  "+0 expect counter sack_recoveries 1\n"
		  "+0 expect counter retrans_segs 1\n"
		  /* beyond recover: recovery ends, cwnd = FlightSize + 1 MSS */
		  "+10 < . seq=1 ack=18825 win=1000 ts=130:$\n" SEG("+0", 20273)
		  "+10 < . seq=1 ack=21721 win=1000 ts=140:$\n" SEG("+0", 21721) SEG("+0", 23169) SEG("+0", 24617)
		  "+10 < . seq=1 ack=26065 win=1000 ts=150:$\n" SEG("+0", 26065)
		  "+0 > P. seq=27513 len=1448\n"
		  "+10 < . seq=1 ack=28961 win=1000 ts=160:$\n");
}

static void iw4(struct sl_tcp_conf *c)
{
	c->init_cwnd_segs = 4;
}

Test(data, lost_retransmission_detected)
{
	run(NULL, PRELUDE "+0 app send 28960\n" SEG("+0", 1) SEG("+0", 1449) SEG("+0", 2897) SEG("+0", 4345)
			  SEG("+0", 5793) SEG("+0", 7241) SEG("+0", 8689) SEG("+0", 10137) SEG("+0", 11585)
			  SEG("+0", 13033)
		  "+10 < . seq=1 ack=1 win=1000 ts=120:$ sack=1449:2897\n" SEG("+0", 14481)
		  "+1 < . seq=1 ack=1 win=1000 ts=121:$ sack=1449:4345\n" SEG("+0", 15929)
		  "+1 < . seq=1 ack=1 win=1000 ts=122:$ sack=1449:5793\n" SEG("+0", 1)
		  "+1 < . seq=1 ack=1 win=1000 ts=123:$ sack=1449:14481\n" SEG("+0", 17377) SEG("+0", 18825)
		  SEG("+0", 20273)
		  "+1 < . seq=1 ack=1 win=1000 ts=124:$ sack=1449:17377\n" SEG("+0", 21721) SEG("+0", 23169)
		  /* three segments sent after the retransmission arrived, it did not */
		  "+1 < . seq=1 ack=1 win=1000 ts=125:$ sack=1449:21721\n" SEG("+0", 1) SEG("+0", 24617)
		  SEG("+0", 26065)
		  "+0 > P. seq=27513 len=1448\n"
		  "+0 expect counter lost_retrans 1\n"
		  "+0 expect counter retrans_segs 2\n"
		  "+10 < . seq=1 ack=28961 win=1000 ts=130:$\n"
		  "+0 expect counter rto_expired 0\n");
}

Test(data, tail_loss_probe)
{
	/* the last two segments of a flight vanish: a probe after 2*SRTT + 2 ms
	 * (SRTT 10 ms) instead of waiting 200 ms for the RTO */
	run(NULL, PRELUDE "+0 app send 5792\n" SEG("+0", 1) SEG("+0", 1449) SEG("+0", 2897)
			  "+0 > P. seq=4345 len=1448\n"
			  "+10 < . seq=1 ack=2897 win=1000 ts=120:$\n"
			  "+22 > P. seq=4345 len=1448\n"
			  "+0 expect counter tlp_probes 1\n"
			  /* the probe is SACKed: the segment before it is lost */
			  "+10 < . seq=1 ack=2897 win=1000 ts=130:$ sack=4345:5793\n" SEG("+0", 2897)
			  "+0 expect counter fast_retrans 1\n"
			  "+10 < . seq=1 ack=5793 win=1000 ts=140:$\n"
			  "+0 expect counter rto_expired 0\n");
}

Test(data, tail_loss_probe_single_segment_waits_for_rto)
{
	/* one segment in flight: PTO would be 2*SRTT + 200 ms > RTO */
	run(NULL, PRELUDE "+0 app send 2896\n" SEG("+0", 1)
			  "+0 > P. seq=1449 len=1448\n"
			  "+10 < . seq=1 ack=1449 win=1000 ts=120:$\n"
			  "+200 > P. seq=1449 len=1448\n"
			  "+0 expect counter tlp_probes 0\n"
			  "+10 < . seq=1 ack=2897 win=1000 ts=130:$\n");
}

Test(data, limited_transmit_small_window)
{
	/* cwnd of 4 segments, the first lost: without RFC 3042 only two
	 * duplicates could ever arrive and only the RTO would repair it */
	run(iw4, PRELUDE "+0 app send 5792\n" SEG("+0", 1) SEG("+0", 1449) SEG("+0", 2897)
			  "+0 > P. seq=4345 len=1448\n"
			  "+0 app send 2896\n"
			  "+10 < . seq=1 ack=1 win=1000 ts=120:$ sack=1449:2897\n" SEG("+0", 5793)
			  "+1 < . seq=1 ack=1 win=1000 ts=121:$ sack=1449:4345\n"
			  "+0 > P. seq=7241 len=1448\n"
			  "+1 < . seq=1 ack=1 win=1000 ts=122:$ sack=1449:5793\n" SEG("+0", 1)
			  "+0 expect counter fast_retrans 1\n"
			  "+10 < . seq=1 ack=8689 win=1000 ts=130:$\n"
			  "+0 expect counter rto_expired 0\n");
}

Test(data, zero_window_probes)
{
	run(NULL, PRELUDE "+0 app send 1000\n"
			  "+0 > P. seq=1 len=1000\n"
			  "+10 < . seq=1 ack=1001 win=0 ts=120:$\n"
			  "+0 app send 500\n"
			  "220 > . seq=1001 len=1\n"
			  "+5 < . seq=1 ack=1001 win=0 ts=130:$\n"
			  "620 > . seq=1001 len=1\n"
			  "+5 < . seq=1 ack=1001 win=0 ts=140:$\n"
			  "1420 > . seq=1001 len=1\n"
			  /* window opens: the data follows at once */
			  "+5 < . seq=1 ack=1001 win=1000 ts=150:$\n"
			  "+0 > P. seq=1001 len=500\n"
			  "+5 < . seq=1 ack=1501 win=1000 ts=160:$\n"
			  "+0 expect counter zwin_probes 3\n"
			  "+0 expect counter rto_expired 0\n");
}

/* A peer that shut its window after taking only part of what we sent
 * accepts only SEG.SEQ = RCV.NXT: our ACK must carry snd_una + window, not
 * snd_max, or it ignores the ACK field (found with a Linux server behind
 * the L4 proxy: both sides then waited forever). */
Test(data, ack_seq_within_shut_window)
{
	run(NULL, PRELUDE "+0 app send 2896\n" SEG("+0", 1)
			  "+0 > P. seq=1449 len=1448\n"
			  "+10 < . seq=1 ack=1449 win=0 ts=120:$\n"
			  "+0 < P. seq=1 ack=1449 len=100 win=0 ts=121:$\n"
			  "+0 > . seq=1449 ack=101\n");
}

Test(data, zero_window_probe_accepted_byte)
{
	run(NULL, PRELUDE "+0 app send 1000\n"
			  "+0 > P. seq=1 len=1000\n"
			  "+10 < . seq=1 ack=1001 win=0 ts=120:$\n"
			  "+0 app send 500\n"
			  "220 > . seq=1001 len=1\n"
			  /* the peer took the probe byte and opened */
			  "+5 < . seq=1 ack=1002 win=1000 ts=130:$\n"
			  "+0 > P. seq=1002 len=499\n"
			  "+5 < . seq=1 ack=1501 win=1000 ts=140:$\n");
}

Test(data, receiver_sack_blocks)
{
	run(NULL, PRELUDE "+10 < . seq=1001 ack=1 len=1000 win=1000 ts=120:$\n"
			  "+0 > . ack=1 sack=1001:2001\n"
			  "+1 < . seq=3001 ack=1 len=1000 win=1000 ts=121:$\n"
			  "+0 > . ack=1 sack=3001:4001,1001:2001\n"
			  /* duplicate of a held segment: still SACKed */
			  "+1 < . seq=1001 ack=1 len=1000 win=1000 ts=122:$\n"
			  "+0 > . ack=1 sack=1001:2001,3001:4001\n"
			  "+1 < . seq=1 ack=1 len=1000 win=1000 ts=123:$\n"
			  "+0 > . ack=2001 sack=3001:4001\n"
			  "+1 < . seq=2001 ack=1 len=1000 win=1000 ts=124:$\n"
			  "+0 > . ack=4001 nosack\n"
			  "+0 expect rcvd 4000\n"
			  "+0 expect counter ooo_segs 3\n");
}

static void small_rcvbuf(struct sl_tcp_conf *c)
{
	c->rcvbuf = 4096;
}

Test(data, receive_window_backpressure)
{
	run(small_rcvbuf, "0 app listen\n"
			  "0 < S seq=0 win=65535 mss=1460 ws=7\n"
			  "0 > S. seq=0 ack=1 win=4096 ws=0\n"
			  "+10 < . seq=1 ack=1 win=1000\n"
			  "+0 expect event accept\n"
			  "+0 app manual\n"
			  "+10 < . seq=1 ack=1 len=1460 win=1000\n"
			  "+0 < . seq=1461 ack=1 len=1460 win=1000\n"
			  "+0 > . ack=2921 win=1176\n"
			  "+0 < P. seq=2921 ack=1 len=1176 win=1000\n"
			  "+40 > . ack=4097 win=0\n"
			  /* data beyond the window is not accepted */
			  "+10 < . seq=4097 ack=1 len=100 win=1000\n"
			  "+0 > . ack=4097 win=0\n"
			  "+0 expect rcvd 4096\n"
			  "+0 app consume 1000\n"
			  "+0 app consume 3096\n"
			  "+0 > . ack=4097 win=4096\n"
			  "+1 < . seq=4097 ack=1 len=100 win=1000\n"
			  "+0 expect rcvd 4196\n"
			  "+40 > . ack=4197\n");
}

/* A peer that filled our window while we hold a hole sends its ACKs with
 * SEG.SEQ at the window's right edge: they must still acknowledge our data
 * (the RFC's table refuses them; Linux takes them). Refused, our segment was
 * retransmitted at 200 ms, then at 400, 800 ... up to rto_max. */
Test(data, ack_at_right_edge_of_full_window)
{
	run(small_rcvbuf, "0 app listen\n"
			  "0 < S seq=0 win=65535 mss=1460 ws=7\n"
			  "0 > S. seq=0 ack=1 win=4096 ws=0\n"
			  "+10 < . seq=1 ack=1 win=1000\n"
			  "+0 expect event accept\n"
			  /* the first segment is lost: the rest of the window is held out of order */
			  "+10 < . seq=1461 ack=1 len=1460 win=1000\n"
			  "+0 > . ack=1\n"
			  "+0 < . seq=2921 ack=1 len=1176 win=1000\n"
			  "+0 > . ack=1\n"
			  "+0 app send 1000\n"
			  "+0 > P. seq=1 len=1000\n"
			  "+10 < . seq=4097 ack=1001 win=1000\n"
			  "+300 app send 10\n"
			  "+0 > P. seq=1001 len=10\n"
			  "+0 expect counter rto_expired 0\n");
}

static void small_sndbuf(struct sl_tcp_conf *c)
{
	c->sndbuf = 4000;
}

Test(data, send_limit_and_writable)
{
	run(small_sndbuf, PRELUDE "+0 app send 4000\n"
				  "+0 > . seq=1 len=1448\n"
				  "+0 > . seq=1449 len=1448\n"
				  "+0 > P. seq=2897 len=1104\n"
				  "+0 app send_eagain 10\n"
				  "+10 < . seq=1 ack=2897 win=1000 ts=120:$\n"
				  "+0 expect writable 1\n"
				  /* Nagle: the 1104-byte segment is still unacked */
				  "+0 app send 10\n"
				  "+10 < . seq=1 ack=4001 win=1000 ts=125:$\n"
				  "+0 > P. seq=4001 len=10\n"
				  "+10 < . seq=1 ack=4011 win=1000 ts=130:$\n");
}

Test(data, nagle_and_nodelay)
{
	run(NULL, PRELUDE "+0 app send 100\n"
			  "+0 > P. seq=1 len=100\n"
			  "+0 app send 100\n"
			  "+10 < . seq=1 ack=101 win=1000 ts=120:$\n"
			  "+0 > P. seq=101 len=100\n"
			  "+0 app nodelay\n"
			  "+0 app send 50\n"
			  "+0 > P. seq=201 len=50\n"
			  "+10 < . seq=1 ack=251 win=1000 ts=130:$\n");
}

Test(data, paws_drops_old_timestamp)
{
	run(NULL, PRELUDE "+10 < P. seq=1 ack=1 len=100 win=1000 ts=500:$\n"
			  "+0 > . ack=101\n"
			  "+10 < P. seq=101 ack=1 len=100 win=1000 ts=400:$\n"
			  "+0 > . ack=101\n"
			  "+0 expect counter paws_drops 1\n"
			  "+0 expect rcvd 100\n");
}

Test(data, sack_dupacks_with_changing_window)
{
	/* RFC 6675: an ACK that SACKs new data is a duplicate even when the
	 * window field moved (a receiver growing its buffer) */
	run(NULL, PRELUDE "+0 app send 14480\n" SEG("+0", 1) SEG("+0", 1449) SEG("+0", 2897) SEG("+0", 4345)
			  SEG("+0", 5793) SEG("+0", 7241) SEG("+0", 8689) SEG("+0", 10137) SEG("+0", 11585)
		  "+0 > P. seq=13033 len=1448\n"
		  "+10 < . seq=1 ack=1 win=1001 ts=120:$ sack=1449:2897\n"
		  "+1 < . seq=1 ack=1 win=1002 ts=121:$ sack=1449:4345\n"
		  "+1 < . seq=1 ack=1 win=1003 ts=122:$ sack=1449:5793\n" SEG("+0", 1)
		  /* no new SACK information and a new window: not a duplicate */
		  "+1 < . seq=1 ack=1 win=1004 ts=123:$ sack=1449:5793\n"
		  "+0 expect counter dupacks_in 3\n"
		  "+10 < . seq=1 ack=14481 win=1004 ts=130:$\n");
}

/* A receive batch holds the every-second-segment ACK to its end: one ACK
 * for four segments, none in between; outside a batch, every second. A
 * segment out of order inside a batch still gets its duplicate ACK at once. */
Test(data, batch_holds_ack_to_end)
{
	pd_init(&P, NULL);
	pd_run(&P, PRELUDE);
	sl_tcp_batch_begin(P.st);
	/* the runner fails a "<" line if anything was emitted before it */
	pd_run(&P, "20 < . seq=1 ack=1 len=1448 win=1000 ts=120:$\n"
		   "+0 < . seq=1449 ack=1 len=1448 win=1000 ts=120:$\n"
		   "+0 < . seq=2897 ack=1 len=1448 win=1000 ts=120:$\n"
		   "+0 < . seq=4345 ack=1 len=1448 win=1000 ts=120:$\n"
		   "20 expect rcvd 5792\n");
	cr_assert_null(pd_pop(&P), "no ACK before the batch ends");
	sl_tcp_batch_end(P.st);
	pd_run(&P, "20 > . ack=5793\n"
		   /* outside a batch: every second segment at once */
		   "30 < . seq=5793 ack=1 len=1448 win=1000 ts=130:$\n"
		   "+0 < . seq=7241 ack=1 len=1448 win=1000 ts=130:$\n"
		   "+0 > . ack=8689\n");
	sl_tcp_batch_begin(P.st);
	pd_run(&P, "40 < . seq=8689 ack=1 len=1448 win=1000 ts=140:$\n"
		   "+0 < . seq=10137 ack=1 len=1448 win=1000 ts=140:$\n"
		   /* a hole: the duplicate ACK with SACK is not held */
		   "+0 < . seq=13033 ack=1 len=1448 win=1000 ts=140:$\n"
		   "+0 > . ack=11585 sack=13033:14481\n");
	sl_tcp_batch_end(P.st);
	cr_assert_null(pd_pop(&P), "the duplicate ACK already covered the held one");
	pd_fini(&P);
}

/* Under memory pressure a segment's ACK still counts but its data is
 * dropped (mem_drops) and not acknowledged; the peer's retransmission is
 * taken once the pressure is gone. */
Test(data, mem_pressure_takes_ack_drops_data)
{
	pd_init(&P, NULL);
	pd_run(&P, PRELUDE "+0 app send 1000\n"
			   "+0 > P. seq=1 ack=1 len=1000\n");
	sl_tcp_set_mem_pressure(P.st, true);
	pd_run(&P, "20 < P. seq=1 ack=1001 len=500 win=1000 ts=120:$\n"
		   "20 expect rcvd 0\n"
		   "20 expect counter mem_drops 1\n"
		   /* our 1000 bytes were acknowledged: no retransmission at RTO */
		   "400 expect counter retrans_segs 0\n");
	sl_tcp_set_mem_pressure(P.st, false);
	pd_run(&P, "500 < P. seq=1 ack=1001 len=500 win=1000 ts=130:$\n"
		   "500 > . seq=1001 ack=501\n"
		   "500 expect rcvd 500\n");
	pd_fini(&P);
}

/* Pop every captured segment; each data segment's payload must be the send
 * pattern at its stream offset (byte k of the stream is k & 0xff). Returns
 * the highest stream offset sent; counts data segments in *n. */
static uint32_t drain_checked(struct pd *p, uint32_t hi, unsigned *n)
{
	struct cap *c;

	while ((c = pd_pop(p))) {
		uint32_t len = c->o.payload_len, off = c->parsed.seq - p->our_isn - 1;

		if (!len)
			continue;
		for (uint32_t i = 0; i < len; i++)
			cr_assert_eq(c->payload[i], (uint8_t)(off + i), "stream byte %u: 0x%02x", off + i, c->payload[i]);
		if (off + len > hi)
			hi = off + len;
		(*n)++;
	}
	return hi;
}

/* The tight level holds every connection's send space to SL_TCP_TIGHT_BUF
 * (the pool is getting short: connections that do not drain must stop
 * taking buffers), and gives the configured space back when it ends. */
Test(data, mem_tight_holds_send_space)
{
	pd_init(&P, NULL);
	pd_run(&P, PRELUDE);
	uint32_t full = sl_tcp_send_space(P.conn);
	cr_assert_gt(full, SL_TCP_TIGHT_BUF);
	sl_tcp_set_mem_tight(P.st, true);
	cr_expect_eq(sl_tcp_send_space(P.conn), SL_TCP_TIGHT_BUF);
	uint32_t hi = 0, sent = 0;
	unsigned n = 0;
	while (sent < SL_TCP_TIGHT_BUF) {
		struct tbuf *b = tbuf_new(NULL, 1024);

		for (uint32_t k = 0; k < 1024; k++)
			b->data[k] = (uint8_t)(P.data_off + k);
		cr_assert_eq(sl_tcp_send(P.conn, (struct sl_buf *)b, 0, 1024), 0);
		tbuf_put(b);
		P.data_off += 1024;
		sent += 1024;
		hi = drain_checked(&P, hi, &n);
		cr_expect_eq(sl_tcp_send_space(P.conn), SL_TCP_TIGHT_BUF - sent);
	}
	cr_expect_eq(sl_tcp_send_space(P.conn), 0, "the tight buffer is full (unacknowledged data counts)");
	sl_tcp_set_mem_tight(P.st, false);
	cr_expect_eq(sl_tcp_send_space(P.conn), full - SL_TCP_TIGHT_BUF);
	pd_fini(&P);
}

/* The send queue's gather cursor: 250 entries of 120 bytes go out as
 * full segments straddling entries, in order, after an RTO rewinds to
 * SND.UNA (before the cursor), and after ACKs that end inside an entry
 * (the head entry is trimmed under the cursor). Every byte must be the
 * right one. */
Test(data, gather_cursor_straddles_rewinds_and_trims)
{
	char line[96];
	uint32_t hi = 0, acked = 0;
	unsigned n = 0, ts = 200;

	pd_init(&P, NULL);
	pd_run(&P, PRELUDE);
	for (int i = 0; i < 250; i++) {
		struct tbuf *b = tbuf_new(NULL, 120);

		for (uint32_t k = 0; k < 120; k++)
			b->data[k] = (uint8_t)(P.data_off + k);
		cr_assert_eq(sl_tcp_send(P.conn, (struct sl_buf *)b, 0, 120), 0, "send %d", i);
		tbuf_put(b);
		P.data_off += 120;
		hi = drain_checked(&P, hi, &n);
	}
	cr_assert_gt(hi, 0);
	/* no ACK for a while: the RTO resends from SND.UNA */
	pd_run(&P, "+400 expect counter rto_expired 1\n");
	hi = drain_checked(&P, hi, &n);
	for (int round = 0; acked < 30000; round++) {
		cr_assert_lt(round, 200, "stuck: acked %u, sent up to %u", acked, hi);
		/* every other ACK ends 50 bytes short of what was sent, inside an
		 * entry; the others take all (Nagle holds a short tail until then) */
		acked = round % 2 ? hi : hi - 50;
		snprintf(line, sizeof(line), "+1 < . seq=1 ack=%u win=1000 ts=%u:$\n", acked + 1, ts++);
		pd_run(&P, line);
		hi = drain_checked(&P, hi, &n);
	}
	cr_assert_eq(hi, 30000);
	cr_assert_gt(n, 21, "%u data segments for 30000 bytes", n);
	pd_fini(&P);
}
