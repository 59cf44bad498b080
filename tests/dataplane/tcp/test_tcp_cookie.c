/* SYN flood defence: SYN cookies (RFC 4987) with MSS/wscale/SACK encoded. */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

static struct pd P;

static void cookie_conf(struct sl_tcp_conf *c)
{
	c->syncookie_threshold = 4;
	c->max_conns = 64;
}

static struct sl_tcp_opts syn_opts(bool ts, uint32_t tsval, uint16_t mss)
{
	struct sl_tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.has_mss = true;
	o.mss = mss;
	o.has_ws = true;
	o.ws = 7;
	o.sack_ok = true;
	if (ts) {
		o.has_ts = true;
		o.ts_val = tsval;
	}
	return o;
}

static void fill_half_open(void)
{
	for (uint16_t i = 0; i < 4; i++) {
		struct sl_tcp_opts o = syn_opts(true, 1, 1460);
		pd_inject(&P, (uint16_t)(2000 + i), SL_TCP_SYN, 777, 0, 65535, &o, 0);
		struct cap *c = pd_pop(&P);
		cr_assert(c && c->parsed.flags == (SL_TCP_SYN | SL_TCP_ACK));
	}
	cr_assert_eq(sl_tcp_active_conns(P.st), 4);
	cr_assert_eq(pd_counter(&P, "syncookies_sent"), 0);
}

Test(cookie, threshold_crossed_cookie_ack_completes)
{
	pd_init(&P, cookie_conf);
	pd_run(&P, "0 app listen\n");
	fill_half_open();

	/* fifth SYN: stateless SYN-ACK */
	struct sl_tcp_opts o = syn_opts(true, 5000, 1460);
	pd_inject(&P, 3000, SL_TCP_SYN, 100000, 0, 65535, &o, 0);
	struct cap *c = pd_pop(&P);
	cr_assert(c);
	cr_assert_eq(c->parsed.flags, SL_TCP_SYN | SL_TCP_ACK);
	cr_assert_eq(c->parsed.ack, 100001);
	cr_assert(c->parsed.opts.has_mss && c->parsed.opts.mss == 1460);
	cr_assert(c->parsed.opts.has_ts && c->parsed.opts.ts_ecr == 5000);
	cr_assert(c->parsed.opts.sack_ok && c->parsed.opts.has_ws && c->parsed.opts.ws == 3);
	cr_assert_eq(c->parsed.opts.ts_val & 0x3f, 7 | 0x10, "wscale/SACK not in TSval: %x", c->parsed.opts.ts_val);
	cr_assert_eq(sl_tcp_active_conns(P.st), 4, "a cookie must not allocate");
	cr_assert_eq(pd_counter(&P, "syncookies_sent"), 1);
	uint32_t cookie = c->parsed.seq, tsv = c->parsed.opts.ts_val;

	/* the ACK rebuilds the connection, with data on it */
	struct sl_tcp_opts a;
	memset(&a, 0, sizeof(a));
	a.has_ts = true;
	a.ts_val = 5001;
	a.ts_ecr = tsv;
	pd_step_to(&P, 20);
	pd_inject(&P, 3000, SL_TCP_ACK | SL_TCP_PSH, 100001, cookie + 1, 1000, &a, 100);
	cr_assert_eq(pd_counter(&P, "syncookies_ok"), 1);
	cr_assert_eq(sl_tcp_active_conns(P.st), 5);
	cr_assert(P.conn);
	cr_assert_eq(P.rcvd, 100);
	struct sl_tcp_conn_info ci;
	sl_tcp_conn_info(P.conn, &ci);
	cr_assert(ci.ts_ok && ci.sack_ok && ci.ws_ok);
	cr_assert_eq(ci.snd_wscale, 7);
	cr_assert_eq(ci.rcv_wscale, 3);
	cr_assert_eq(ci.snd_mss, 1448);
	cr_assert_eq(ci.snd_wnd, 1000u << 7);
	/* the quick ACK for the data, with our window scaled */
	c = pd_pop(&P);
	cr_assert(c && c->parsed.flags == SL_TCP_ACK && c->parsed.ack == 100101);
	cr_assert(c->parsed.opts.has_ts && c->parsed.opts.ts_ecr == 5001);
	cr_assert_lt(c->parsed.opts.ts_val - tsv, 100u, "TSval must not go back from the cookie's");
	P.ev_n = 0;

	/* a forged ACK for a cookie never issued: RST */
	pd_inject(&P, 3001, SL_TCP_ACK, 5555, 0x12345678, 1000, NULL, 0);
	c = pd_pop(&P);
	cr_assert(c && c->parsed.flags == SL_TCP_RST && c->parsed.seq == 0x12345678);
	cr_assert_eq(pd_counter(&P, "syncookies_bad"), 1);
	pd_fini(&P);
}

Test(cookie, without_timestamps_no_wscale_no_sack)
{
	pd_init(&P, cookie_conf);
	pd_run(&P, "0 app listen\n");
	fill_half_open();
	struct sl_tcp_opts o = syn_opts(false, 0, 1400);
	pd_inject(&P, 3002, SL_TCP_SYN, 9000, 0, 65535, &o, 0);
	struct cap *c = pd_pop(&P);
	cr_assert(c && c->parsed.flags == (SL_TCP_SYN | SL_TCP_ACK));
	cr_assert(!c->parsed.opts.has_ts && !c->parsed.opts.has_ws && !c->parsed.opts.sack_ok);
	uint32_t cookie = c->parsed.seq;
	pd_inject(&P, 3002, SL_TCP_ACK, 9001, cookie + 1, 20000, NULL, 0);
	cr_assert_eq(pd_counter(&P, "syncookies_ok"), 1);
	cr_assert(P.conn);
	struct sl_tcp_conn_info ci;
	sl_tcp_conn_info(P.conn, &ci);
	cr_assert(!ci.ts_ok && !ci.sack_ok && !ci.ws_ok);
	cr_assert_eq(ci.snd_mss, 1400, "MSS table entry <= peer MSS");
	cr_assert_eq(ci.snd_wnd, 20000);
	P.ev_n = 0;
	pd_fini(&P);
}

Test(cookie, flood_bounded_memory_and_expiry)
{
	pd_init(&P, cookie_conf);
	pd_run(&P, "0 app listen\n");
	fill_half_open();
	uint32_t first_cookie = 0;
	for (unsigned i = 0; i < 5000; i++) {
		struct sl_tcp_opts o = syn_opts(true, i, 1460);
		pd_inject(&P, (uint16_t)(10000 + i), SL_TCP_SYN, i * 7919u, 0, 65535, &o, 0);
		struct cap *c = pd_pop(&P);
		cr_assert(c && c->parsed.flags == (SL_TCP_SYN | SL_TCP_ACK), "SYN %u unanswered", i);
		if (!i)
			first_cookie = c->parsed.seq;
	}
	cr_assert_eq(sl_tcp_active_conns(P.st), 4, "flood allocated state");
	cr_assert_eq(pd_counter(&P, "syncookies_sent"), 5000);
	/* cookies expire: after ~2 counter periods (2 x 67 s) it is refused */
	pd_step_to(&P, 140000);
	P.cap_n = 0; /* SYN-ACK retransmissions of the 4 half-open ones */
	pd_inject(&P, 10000, SL_TCP_ACK, 1, first_cookie + 1, 1000, NULL, 0);
	cr_assert_eq(pd_counter(&P, "syncookies_ok"), 0);
	cr_assert_eq(sl_tcp_active_conns(P.st), 0, "half-open ones were given up");
	struct cap *c = pd_pop(&P);
	cr_assert(c && c->parsed.flags == SL_TCP_RST);
	pd_fini(&P);
}
