/* Header/option parser and builder, SipHash, stack config validation:
 * table-driven. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "sl_tcp.h"
#include "tcp_priv.h"

struct opt_case {
	const char *name;
	uint8_t bytes[40];
	size_t len;
	int rc;
	struct sl_tcp_opts want;
};

static const struct opt_case cases[] = {
	{ "empty", { 0 }, 0, 0, { 0 } },
	{ "mss", { 2, 4, 0x05, 0xb4 }, 4, 0, { .has_mss = true, .mss = 1460 } },
	{ "mss wrong length ignored", { 2, 3, 0x05, 0, 1 }, 5, 0, { 0 } },
	{ "wscale clamped to 14", { 1, 3, 3, 15 }, 4, 0, { .has_ws = true, .ws = 14 } },
	{ "sackok", { 4, 2 }, 2, 0, { .sack_ok = true } },
	{ "timestamps", { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 }, 12, 0,
	  { .has_ts = true, .ts_val = 1, .ts_ecr = 2 } },
	{ "one sack block", { 1, 1, 5, 10, 0, 0, 0, 10, 0, 0, 0, 20 }, 12, 0,
	  { .n_sack = 1, .sack = { { 10, 20 } } } },
	{ "sack with bad length ignored", { 5, 9, 0, 0, 0, 1, 0, 0, 0 }, 9, 0, { 0 } },
	{ "eol stops parsing", { 0, 2, 1 }, 3, 0, { 0 } },
	{ "unknown option skipped", { 30, 4, 9, 9, 2, 4, 0x02, 0x18 }, 8, 0, { .has_mss = true, .mss = 536 } },
	{ "zero length", { 2, 0, 0, 0 }, 4, -EINVAL, { 0 } },
	{ "length one", { 3, 1, 0, 0 }, 4, -EINVAL, { 0 } },
	{ "length past end", { 8, 10, 0, 0 }, 4, -EINVAL, { 0 } },
	{ "kind without length", { 1, 1, 2 }, 3, -EINVAL, { 0 } },
};

Test(opt, table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct opt_case *c = &cases[i];
		struct sl_tcp_opts o;
		int rc = sl_tcp_parse_opts(c->bytes, c->len, &o);
		cr_assert_eq(rc, c->rc, "%s: rc %d", c->name, rc);
		if (rc)
			continue;
		cr_assert_eq(o.has_mss, c->want.has_mss, "%s", c->name);
		cr_assert_eq(o.mss, c->want.mss, "%s", c->name);
		cr_assert_eq(o.has_ws, c->want.has_ws, "%s", c->name);
		cr_assert_eq(o.ws, c->want.ws, "%s", c->name);
		cr_assert_eq(o.sack_ok, c->want.sack_ok, "%s", c->name);
		cr_assert_eq(o.has_ts, c->want.has_ts, "%s", c->name);
		cr_assert_eq(o.ts_val, c->want.ts_val, "%s", c->name);
		cr_assert_eq(o.ts_ecr, c->want.ts_ecr, "%s", c->name);
		cr_assert_eq(o.n_sack, c->want.n_sack, "%s", c->name);
		for (unsigned k = 0; k < o.n_sack; k++)
			cr_assert(o.sack[k].left == c->want.sack[k].left && o.sack[k].right == c->want.sack[k].right,
				  "%s", c->name);
	}
}

Test(opt, header_bounds)
{
	uint8_t h[60] = { 0 };
	struct sl_tcp_hdr p;
	h[12] = 5 << 4;
	cr_assert_eq(sl_tcp_parse_hdr(h, 19, &p), -EINVAL);
	cr_assert_eq(sl_tcp_parse_hdr(h, 20, &p), 0);
	h[12] = 4 << 4;
	cr_assert_eq(sl_tcp_parse_hdr(h, 20, &p), -EINVAL, "data offset below 5");
	h[12] = 6 << 4;
	cr_assert_eq(sl_tcp_parse_hdr(h, 20, &p), -EINVAL, "options beyond the bytes given");
	h[12] = 15 << 4;
	cr_assert_eq(sl_tcp_parse_hdr(h, 60, &p), 0, "40 bytes of NOP/EOL options");
}

Test(opt, syn_layout_matches_linux)
{
	struct sl_tcp_hdr h;
	memset(&h, 0, sizeof(h));
	h.sport = 1;
	h.dport = 2;
	h.seq = 0x01020304;
	h.flags = SL_TCP_SYN;
	h.win = 65535;
	h.opts = (struct sl_tcp_opts){ .has_mss = true, .mss = 1460, .sack_ok = true, .has_ts = true,
				       .ts_val = 0x11223344, .ts_ecr = 0, .has_ws = true, .ws = 7 };
	uint8_t out[60];
	int hl = sl_tcp_build_hdr(&h, out);
	cr_assert_eq(hl, 40);
	static const uint8_t want[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 1, 3, 3, 7 };
	cr_assert_arr_eq(out + 20, want, 20);
	cr_assert_eq(out[12], 10 << 4);
	cr_assert_eq(out[13], SL_TCP_SYN);
	struct sl_tcp_hdr back;
	cr_assert_eq(sl_tcp_parse_hdr(out, (size_t)hl, &back), 0);
	cr_assert_eq(back.seq, h.seq);
	cr_assert(back.opts.has_mss && back.opts.mss == 1460 && back.opts.sack_ok && back.opts.has_ts &&
		  back.opts.ts_val == 0x11223344 && back.opts.has_ws && back.opts.ws == 7);
}

Test(opt, too_many_options_refused)
{
	struct sl_tcp_hdr h;
	memset(&h, 0, sizeof(h));
	h.opts.has_ts = true;
	h.opts.n_sack = 4; /* 12 + 4 + 32 > 40 */
	uint8_t out[60];
	cr_assert_eq(sl_tcp_build_hdr(&h, out), -EINVAL);
	h.opts.n_sack = 3;
	cr_assert_eq(sl_tcp_build_hdr(&h, out), 60);
}

Test(opt, siphash_reference_vector)
{
	/* SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e */
	const uint64_t key[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	uint8_t m[15];
	for (int i = 0; i < 15; i++)
		m[i] = (uint8_t)i;
	cr_assert_eq(sl_tcp_siphash(key, m, 15), 0xa129ca6149be45e5ull);
	/* first entry of the reference vectors.h: empty message */
	cr_assert_eq(sl_tcp_siphash(key, m, 0), 0x726fdb47dd0e0e31ull);
}

static int null_tx(void *a, const struct sl_tcp_seg_out *o)
{
	(void)a, (void)o;
	return 0;
}
static void nref(void *c, struct sl_buf *b)
{
	(void)c, (void)b;
}
static const struct sl_buf_ops nops = { nref, nref, NULL, NULL };

Test(opt, stack_conf_validation)
{
	struct sl_tcp_conf c;
	sl_tcp_conf_defaults(&c);
	cr_assert_null(sl_tcp_stack_create(&c, 0), "no tx/buf ops");
	c.tx = null_tx;
	c.buf_ops = &nops;
	struct sl_tcp_stack *st = sl_tcp_stack_create(&c, 0);
	cr_assert_not_null(st);
	cr_assert_eq(sl_tcp_active_conns(st), 0);
	sl_tcp_stack_destroy(st);
	c.ephemeral_lo = 5000;
	c.ephemeral_hi = 4000;
	cr_assert_null(sl_tcp_stack_create(&c, 0));
	sl_tcp_conf_defaults(&c);
	c.tx = null_tx;
	c.buf_ops = &nops;
	c.mtu = 60;
	cr_assert_null(sl_tcp_stack_create(&c, 0));
}

static bool no_ports(void *a, uint32_t l, uint16_t lp, uint32_t r, uint16_t rp)
{
	(void)a, (void)l, (void)lp, (void)r, (void)rp;
	return false;
}

Test(opt, connect_errors)
{
	struct sl_tcp_conf c;
	sl_tcp_conf_defaults(&c);
	c.tx = null_tx;
	c.buf_ops = &nops;
	c.max_conns = 1;
	c.port_ok = no_ports;
	struct sl_tcp_stack *st = sl_tcp_stack_create(&c, 0);
	int err = 0;
	cr_assert_null(sl_tcp_connect(st, 1, 2, 80, NULL, NULL, &err));
	cr_assert_eq(err, -EADDRNOTAVAIL, "predicate refuses every port");
	sl_tcp_stack_destroy(st);

	c.port_ok = NULL;
	st = sl_tcp_stack_create(&c, 0);
	struct sl_tcp_conn *a = sl_tcp_connect(st, 1, 2, 80, NULL, NULL, &err);
	cr_assert_not_null(a);
	cr_assert_null(sl_tcp_connect(st, 1, 2, 80, NULL, NULL, &err));
	cr_assert_eq(err, -ENOBUFS, "pool of one");
	cr_assert_eq(sl_tcp_counters(st)->conn_refused, 1);
	sl_tcp_close(a);
	cr_assert_eq(sl_tcp_active_conns(st), 0);
	struct sl_tcp_listen_ops lo = { NULL };
	cr_assert_null(sl_tcp_listen(st, 0, 80, &lo, NULL, &err));
	cr_assert_eq(err, -EINVAL);
	sl_tcp_stack_destroy(st);
}

Test(opt, counter_names_follow_struct)
{
	struct sl_tcp_counters c;
	memset(&c, 0, sizeof(c));
	c.syncookies_ok = 7;
	c.tlp_probes = 9;
	const uint64_t *v = (const uint64_t *)&c;
	int seen = 0;
	for (size_t i = 0; i < SL_TCP_N_COUNTERS; i++) {
		cr_assert_not_null(sl_tcp_counter_names[i]);
		if (!strcmp(sl_tcp_counter_names[i], "syncookies_ok")) {
			cr_assert_eq(v[i], 7);
			seen++;
		}
		if (!strcmp(sl_tcp_counter_names[i], "tlp_probes")) {
			cr_assert_eq(v[i], 9);
			seen++;
		}
	}
	cr_assert_eq(seen, 2);
	cr_assert_str_eq(sl_tcp_counter_names[0], "segs_in");
}
