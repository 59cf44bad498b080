/* Handshakes and option negotiation, packetdrill style (see harness.c). */
#include <criterion/criterion.h>

#include "harness.h"

static struct pd P;

static void run(pd_tweak_fn tw, const char *script)
{
	pd_init(&P, tw);
	pd_run(&P, script);
	pd_fini(&P);
}

/* Defaults: rcvbuf 256 KiB -> our window scale 3; MTU 1500 -> MSS 1460. */

Test(handshake, passive_all_options)
{
	run(NULL, "0 app listen\n"
		  "0 < S seq=0 win=65535 mss=1460 sackok ts=100:0 ws=7\n"
		  "0 > S. seq=0 ack=1 win=65535 mss=1460 sackok ts=*:100 ws=3\n"
		  "+10 < . seq=1 ack=1 win=1000 ts=110:$\n"
		  "+0 expect event accept\n"
		  "+0 expect state ESTABLISHED\n"
		  "+0 expect counter passive_opens 1\n"
		  "+0 expect conns 1\n"
		  /* first data after idle with PSH: quick ACK; our window is scaled */
		  "+10 < P. seq=1 ack=1 len=1000 win=1000 ts=120:$\n"
		  "+0 > . seq=1 ack=1001 win=32768 ts=*:120 nosack\n"
		  "+0 expect rcvd 1000\n"
		  /* the peer's window is scaled by 7: 1000 << 7 bytes */
		  "+0 app send 3000\n"
		  "+0 > . seq=1 ack=1001 len=1448 ts=*:120\n"
		  "+0 > . seq=1449 ack=1001 len=1448\n"
		  "+0 > P. seq=2897 ack=1001 len=104\n"
		  "+10 < . seq=1001 ack=3001 win=1000 ts=130:$\n"
		  "+0 expect counter retrans_segs 0\n");
}

Test(handshake, passive_no_options)
{
	run(NULL, "0 app listen\n"
		  "0 < S seq=0 win=8192\n"
		  "0 > S. seq=0 ack=1 win=65535 mss=1460 nows nots nosackok\n"
		  "+1 < . seq=1 ack=1 win=8192\n"
		  "+0 expect event accept\n"
		  /* no MSS option: RFC 9293 default 536; no scaling */
		  "+0 app send 2000\n"
		  "+0 > . seq=1 ack=1 len=536 win=65535 nots\n"
		  "+0 > . seq=537 ack=1 len=536\n"
		  "+0 > . seq=1073 ack=1 len=536\n"
		  "+0 > P. seq=1609 ack=1 len=392\n"
		  "+5 < . seq=1 ack=2001 win=8192\n");
}

Test(handshake, passive_ts_without_sack_ws14)
{
	run(NULL, "0 app listen\n"
		  "0 < S seq=0 win=65535 mss=1400 ts=7:0 ws=14\n"
		  "0 > S. seq=0 ack=1 mss=1460 nosackok ts=*:7 ws=3\n"
		  "+1 < . seq=1 ack=1 win=1 ts=8:$\n"
		  "+0 expect event accept\n"
		  /* 1400 - 12 bytes of timestamp option */
		  "+0 app send 1500\n"
		  "+0 > . seq=1 len=1388\n"
		  "+0 > P. seq=1389 len=112\n"
		  "+5 < . seq=1 ack=1501 win=1 ts=9:$\n");
}

Test(handshake, tiny_mss_floored)
{
	run(NULL, "0 app listen\n"
		  "0 < S seq=0 win=65535 mss=100\n"
		  "0 > S. seq=0 ack=1 mss=1460\n"
		  "0 expect counter mss_floored 1\n"
		  "+1 < . seq=1 ack=1 win=65535\n"
		  "+0 expect event accept\n"
		  "+0 app send 600\n"
		  "+0 > . seq=1 len=536\n"
		  "+0 > P. seq=537 len=64\n"
		  "+5 < . seq=1 ack=601 win=65535\n");
}

Test(handshake, absurd_mss_refused)
{
	run(NULL, "0 app listen\n"
		  "0 < S seq=0 win=65535 mss=40\n"
		  "0 expect counter mss_refused 1\n"
		  "0 expect conns 0\n"
		  "+3000 expect counter segs_out 0\n");
}

Test(handshake, active_open)
{
	run(NULL, "0 app connect\n"
		  "0 > S seq=0 win=65535 mss=1460 sackok ts=*:0 ws=3\n"
		  "+20 < S. seq=0 ack=1 win=5000 mss=1400 ws=2 sackok ts=500:$\n"
		  "+0 > . seq=1 ack=1 ts=*:500\n"
		  "+0 expect event connected\n"
		  "+0 expect state ESTABLISHED\n"
		  "+0 expect counter active_opens 1\n");
}

Test(handshake, active_open_syn_retransmit_and_timeout)
{
	run(NULL, "0 app connect\n"
		  "0 > S seq=0\n"
		  "1000 > S seq=0\n"
		  "3000 > S seq=0\n"
		  "7000 > S seq=0\n"
		  "15000 > S seq=0\n"
		  "31000 > S seq=0\n"
		  "63000 > S seq=0\n"
		  /* syn_retries (6) used up: error, no RST (nothing to reset) */
		  "123000 expect event error_timeout\n"
		  "123000 expect state CLOSED\n"
		  "123000 app close\n"
		  "123000 expect conns 0\n");
}

Test(handshake, active_open_refused)
{
	run(NULL, "0 app connect\n"
		  "0 > S seq=0\n"
		  "+5 < R. seq=0 ack=1 win=0\n"
		  "+0 expect event error_refused\n"
		  "+0 app close\n"
		  "+0 expect conns 0\n");
}

Test(handshake, active_bad_synack_ack_gets_rst)
{
	run(NULL, "0 app connect\n"
		  "0 > S seq=0\n"
		  "+5 < S. seq=0 ack=77 win=5000 mss=1400\n"
		  "+0 > R seq=77\n"
		  "+0 expect state SYN_SENT\n"
		  "+0 app close\n");
}

Test(handshake, simultaneous_open)
{
	run(NULL, "0 app connect\n"
		  "0 > S seq=0 ws=3\n"
		  "+5 < S seq=0 win=5000 mss=1400 ws=1 sackok ts=9:0\n"
		  "+0 > S. seq=0 ack=1 mss=1460 ws=3 sackok ts=*:9\n"
		  "+0 expect state SYN_RCVD\n"
		  "+5 < S. seq=0 ack=1 win=5000 mss=1400 ws=1 sackok ts=10:$\n"
		  "+0 expect event connected\n"
		  "+0 expect state ESTABLISHED\n"
		  "+0 app close\n"
		  "+0 > F. seq=1 ack=1\n"
		  "+5 < F. seq=1 ack=2 win=5000 ts=11:$\n"
		  "+0 > . seq=2 ack=2\n"
		  "+0 expect tw 1\n");
}

Test(handshake, synack_retransmit_then_give_up)
{
	run(NULL, "0 app listen\n"
		  "0 < S seq=0 win=65535 mss=1460\n"
		  "0 > S. seq=0 ack=1\n"
		  /* duplicate SYN: SYN-ACK again */
		  "+100 < S seq=0 win=65535 mss=1460\n"
		  "+0 > S. seq=0 ack=1\n"
		  "1000 > S. seq=0 ack=1\n"
		  "3000 > S. seq=0 ack=1\n"
		  "7000 > S. seq=0 ack=1\n"
		  "15000 > S. seq=0 ack=1\n"
		  "31000 > S. seq=0 ack=1\n"
		  "63000 expect conns 0\n"
		  "63000 expect noevent\n");
}

Test(handshake, ack_to_listener_without_syn_gets_rst)
{
	run(NULL, "0 app listen\n"
		  "0 < . seq=5 ack=1234 win=100\n"
		  "0 > R\n"
		  "0 expect counter no_conn 1\n");
}

Test(handshake, closed_port_rst)
{
	run(NULL, "0 < S seq=0 win=100 mss=1460\n"
		  "0 > R. seq=0 ack=1\n"
		  "0 < R seq=0 win=100\n"
		  "0 expect counter rst_out 1\n");
}

Test(handshake, accept_refused_resets)
{
	run(NULL, "0 app listen\n"
		  "0 app refuse\n"
		  "0 < S seq=0 win=65535 mss=1460\n"
		  "0 > S. seq=0 ack=1\n"
		  "+1 < . seq=1 ack=1 win=100\n"
		  "+0 > R. seq=1 ack=1\n"
		  "+0 expect counter accept_refused 1\n"
		  "+0 expect conns 0\n");
}

static void two_conns(struct sl_tcp_conf *c)
{
	c->max_conns = 2;
}

Test(handshake, max_conns_refused_counter)
{
	run(two_conns, "0 app listen\n"
		       "0 < S seq=0 win=100 mss=1460 sport=1001\n"
		       "0 > S.\n"
		       "0 < S seq=0 win=100 mss=1460 sport=1002\n"
		       "0 > S.\n"
		       "0 < S seq=0 win=100 mss=1460 sport=1003\n"
		       "0 expect counter conn_refused 1\n"
		       "0 expect counter syn_drops 1\n"
		       "0 expect conns 2\n"
		       "+1 < R seq=1 sport=1001\n"
		       "+1 < R seq=1 sport=1002\n"
		       "+1 expect conns 0\n");
}

/* A restarted engine keeps its secret and adds a boot-time clock base: the
 * same 4-tuple's ISN and timestamp continue from the earlier run's instead
 * of starting anywhere, so a peer's TIME_WAIT entry accepts the new SYN. */
static struct pd Q;
static void base_10s(struct sl_tcp_conf *c) { c->clock_base_us = 10ull * 1000000; }

Test(handshake, clock_base_moves_isn_and_ts_forward)
{
	pd_init(&P, NULL);
	pd_init(&Q, base_10s);
	pd_run(&P, "0 app connect\n");
	pd_run(&Q, "0 app connect\n");
	struct cap *a = pd_pop(&P), *b = pd_pop(&Q);
	cr_assert(a && b);
	cr_assert_eq(a->parsed.flags & SL_TCP_SYN, SL_TCP_SYN);
	cr_assert_eq(P.lport, Q.lport, "same seed and secret: same first port");
	cr_assert_eq(b->parsed.seq - a->parsed.seq, 10u * 1000000 / 4, "ISN clock is 4 us");
	cr_assert(a->parsed.opts.has_ts && b->parsed.opts.has_ts);
	cr_assert_eq(b->parsed.opts.ts_val - a->parsed.opts.ts_val, 10000u, "TS clock is 1 ms");
	pd_fini(&P);
	pd_fini(&Q);
}

/* rcvbuf_max sizes the window scale offered, so a connection whose buffer
 * is raised later (the L4 proxy's 1 MiB) can advertise all of it. */
static void rcvmax_1m(struct sl_tcp_conf *c) { c->rcvbuf_max = 1u << 20; }

Test(handshake, rcvbuf_max_sets_window_scale)
{
	run(rcvmax_1m, "0 app listen\n"
		       "0 < S seq=0 win=65535 mss=1460 sackok ts=100:0 ws=7\n"
		       "0 > S. seq=0 ack=1 ws=5\n"
		       "+10 < . seq=1 ack=1 win=1000 ts=110:$\n"
		       "+0 expect event accept\n");
	run(NULL, "0 app listen\n"
		  "0 < S seq=0 win=65535 mss=1460 sackok ts=100:0 ws=7\n"
		  "0 > S. seq=0 ack=1 ws=3\n"
		  "+10 < . seq=1 ack=1 win=1000 ts=110:$\n"
		  "+0 expect event accept\n");
}
