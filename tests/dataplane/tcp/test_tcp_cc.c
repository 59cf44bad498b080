/* Congestion control shape: a peer 100 ms away ACKs every second segment,
 * once per round trip; one segment is lost when cwnd passes 200 segments.
 * CUBIC must cut to 0.7 and regain W_max after K = cbrt(W_max*(1-b)/C)
 * seconds along a concave curve; NewReno must cut to 0.5 and grow about one
 * segment per RTT. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct pd P;
static int cc_algo;

static void conf_cc(struct sl_tcp_conf *c)
{
	c->cc = (uint8_t)cc_algo;
	c->sndbuf = 8u << 20;
	c->rcvbuf = 1u << 20;
}

static void fill(void)
{
	for (;;) {
		struct tbuf *b = tbuf_new(NULL, 128 * 1024);
		int rc = sl_tcp_send(P.conn, (struct sl_buf *)b, 0, 128 * 1024);
		tbuf_put(b);
		if (rc)
			break;
	}
}

struct peer {
	uint32_t cum, ooo_lo, sack_hi;
	bool hole;
};

static void ack(struct peer *pe)
{
	struct sl_tcp_opts o;
	memset(&o, 0, sizeof(o));
	if (pe->hole) {
		o.n_sack = 1;
		o.sack[0].left = pe->ooo_lo;
		o.sack[0].right = pe->sack_hi;
	}
	pd_inject(&P, P.rport, SL_TCP_ACK, P.peer_isn + 1, pe->cum, 65535, &o, 0);
}

struct traj {
	uint32_t w_loss, ssthresh, flight_at_loss;
	double t_epoch;
	uint32_t cwnd[200];
	double t[200];
	unsigned n;
};

static void drive(int algo, struct traj *tr)
{
	cc_algo = algo;
	memset(tr, 0, sizeof(*tr));
	pd_init(&P, conf_cc);
	pd_run(&P, "0 app listen\n"
		   "0 < S seq=0 win=65535 mss=1460 sackok ws=7\n"
		   "0 > S. seq=0 ack=1\n"
		   "+100 < . seq=1 ack=1 win=65535\n"
		   "+0 expect event accept\n");
	P.ev_n = 0;
	fill();
	struct peer pe = { .cum = P.our_isn + 1 };
	bool lost = false;
	unsigned round = 0, after = 0;
	uint64_t t0 = 0;
	while (round++ < 260) {
		static uint32_t seq[8192], end[8192];
		unsigned n = 0;
		struct cap *c;
		while ((c = pd_pop(&P)))
			if (c->o.payload_len && n < 8192) {
				seq[n] = c->o.h.seq;
				end[n++] = c->o.h.seq + c->o.payload_len;
			}
		pd_step_to(&P, (P.now_us - P.base_us) / 1000 + 100);
		struct sl_tcp_conn_info ci;
		sl_tcp_conn_info(P.conn, &ci);
		bool lose_now = !lost && ci.cwnd >= 200u * ci.snd_mss;
		for (unsigned i = 0; i < n; i++) {
			if (lose_now && i == 0) {
				lost = true;
				tr->w_loss = ci.cwnd;
				tr->flight_at_loss = end[n - 1] - seq[0];
				continue;
			}
			if (seq[i] == pe.cum || (int32_t)(seq[i] - pe.cum) < 0) {
				if ((int32_t)(end[i] - pe.cum) > 0)
					pe.cum = end[i];
				if (pe.hole && (int32_t)(pe.cum - pe.ooo_lo) >= 0) {
					pe.cum = pe.sack_hi;
					pe.hole = false;
				}
			} else {
				if (!pe.hole)
					pe.ooo_lo = seq[i];
				pe.hole = true;
				pe.sack_hi = end[i];
			}
			if (i % 2 == 1 || i == n - 1)
				ack(&pe);
		}
		if (lose_now) {
			sl_tcp_conn_info(P.conn, &ci);
			tr->ssthresh = ci.ssthresh;
		}
		fill();
		if (lost && pd_counter(&P, "fast_retrans") && !pe.hole) {
			sl_tcp_conn_info(P.conn, &ci);
			if (!t0 && ci.cwnd >= ci.ssthresh)
				t0 = P.now_us; /* congestion avoidance epoch starts about here */
			if (t0 && tr->n < 200) {
				tr->t[tr->n] = (double)(P.now_us - t0) / 1e6;
				tr->cwnd[tr->n++] = ci.cwnd;
			}
			if (++after > 160)
				break;
		}
	}
	cr_assert(lost, "never reached 200 segments");
	cr_assert_eq(pd_counter(&P, "fast_retrans"), 1);
	cr_assert_eq(pd_counter(&P, "rto_expired"), 0);
	/* no leak checks on captured segments: drain and finish */
	while (pd_pop(&P))
		;
	sl_tcp_abort(P.conn);
	while (pd_pop(&P))
		;
	pd_fini(&P);
}

static uint32_t cwnd_at(const struct traj *tr, double t)
{
	for (unsigned i = 0; i < tr->n; i++)
		if (tr->t[i] >= t)
			return tr->cwnd[i];
	cr_assert_fail("trajectory too short for t=%.2f", t);
	return 0;
}

Test(cc, cubic_shape, .timeout = 60)
{
	struct traj tr;
	drive(SL_TCP_CC_CUBIC, &tr);
	double beta_eff = (double)tr.ssthresh / tr.flight_at_loss;
	cr_assert(fabs(beta_eff - 0.7) < 0.02, "CUBIC decrease %.3f, expected 0.7", beta_eff);
	double mss = 1448, wmax = tr.w_loss / mss;
	double k = cbrt(wmax * 0.3 / 0.4);
	uint32_t at_k = cwnd_at(&tr, k), at_half = cwnd_at(&tr, k / 2), at_0 = tr.cwnd[0];
	cr_log_info("CUBIC: W_max %.0f segs, K %.2f s, cwnd(0) %.0f, cwnd(K/2) %.0f, cwnd(K) %.0f segs", wmax, k,
		    at_0 / mss, at_half / mss, at_k / mss);
	cr_assert(fabs(at_k / mss - wmax) < 0.1 * wmax, "cwnd(K) %.0f, expected ~%.0f", at_k / mss, wmax);
	/* concave below W_max: the first half gains more than the second */
	cr_assert_gt(at_half - at_0, at_k - at_half, "not concave");
	/* convex beyond: probing accelerates */
	uint32_t at_15 = cwnd_at(&tr, 1.5 * k), at_2 = cwnd_at(&tr, 2 * k);
	cr_log_info("CUBIC: cwnd(1.5K) %.0f, cwnd(2K) %.0f segs", at_15 / mss, at_2 / mss);
	cr_assert_gt(at_2 - at_15, at_15 - at_k, "not convex after K");
}

Test(cc, newreno_shape, .timeout = 60)
{
	struct traj tr;
	drive(SL_TCP_CC_NEWRENO, &tr);
	double beta_eff = (double)tr.ssthresh / tr.flight_at_loss;
	cr_assert(fabs(beta_eff - 0.5) < 0.02, "NewReno decrease %.3f, expected 0.5", beta_eff);
	/* ~1 segment per RTT: 40 RTTs add about 40 segments */
	uint32_t a = cwnd_at(&tr, 1.0), b = cwnd_at(&tr, 5.0);
	double per_rtt = (b - a) / 1448.0 / 40.0;
	cr_log_info("NewReno: %.2f segments per RTT", per_rtt);
	cr_assert(per_rtt > 0.8 && per_rtt < 1.2, "NewReno grows %.2f segments per RTT", per_rtt);
}
