#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "sl_startup.h"

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

Test(startup, testbed_file)
{
	struct sl_startup su;
	char err[256] = "";
	const char *text =
		"# the test bed\n"
		"port fe0 dev net_af_xdp0 role frontend ip 198.18.0.1/24\n"
		"port be0 dev net_af_xdp1 role backend ip 198.18.1.1/24 gw 198.18.1.254 mtu 9000 vlan 7 csum-offload off rx-ring 512 tx-ring 2048\n"
		"idle backoff off\n"
		"impair fe0 rx seed 42 drop 0.05 dup 0.01 reorder 0.01\n"
		"impair be0 tx seed 0x10 delay 0.5 delay-us 2000   # trailing comment\n"
		"test udp-echo 7\n"
		"test udp-probe 198.18.0.2 9999\n"
		"test tcp-echo 7\ntest tcp-sink 9\ntest tcp-source 19\n"
		"test clock-offset-cycles 18446744073709\n"
		"tcp max-conns 5000 syncookie-threshold 64 data-retries 4 rto-max-ms 1000\n"
		"arp ttl-s 30\n";

	cr_assert_eq(sl_startup_parse("t", text, &su, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(su.n_ports, 2);
	cr_assert_str_eq(su.ports[0].name, "fe0");
	cr_assert_str_eq(su.ports[0].dev, "net_af_xdp0");
	cr_assert_eq(su.ports[0].role, SL_ROLE_FRONTEND);
	cr_assert_eq(su.ports[0].ip, ip("198.18.0.1"));
	cr_assert_eq(su.ports[0].prefix, 24);
	cr_assert_eq(su.ports[0].mtu, 1500);
	cr_assert_eq(su.ports[1].gw, ip("198.18.1.254"));
	cr_assert_eq(su.ports[1].mtu, 9000);
	cr_assert_eq(su.ports[1].vlan, 7);
	cr_assert_not(su.ports[0].no_csum_offload);
	cr_assert(su.ports[1].no_csum_offload);
	cr_assert_eq(su.ports[0].rx_ring, 0);
	cr_assert_eq(su.ports[1].rx_ring, 512);
	cr_assert_eq(su.ports[1].tx_ring, 2048);
	cr_assert_eq(su.arp_ttl_s, 30);
	cr_assert_not(su.idle_backoff);
	cr_assert(su.ports[0].impair[SL_DIR_RX].on);
	cr_assert_eq(su.ports[0].impair[SL_DIR_RX].seed, 42);
	cr_assert_float_eq(su.ports[0].impair[SL_DIR_RX].drop, 0.05, 1e-9);
	cr_assert_not(su.ports[0].impair[SL_DIR_TX].on);
	cr_assert_eq(su.ports[1].impair[SL_DIR_TX].seed, 16);
	cr_assert_eq(su.ports[1].impair[SL_DIR_TX].delay_us, 2000);
	cr_assert_eq(su.udp_echo_port, 7);
	cr_assert_eq(su.udp_probe_ip, ip("198.18.0.2"));
	cr_assert_eq(su.udp_probe_port, 9999);
	cr_assert_eq(su.tcp_echo_port, 7);
	cr_assert_eq(su.tcp_sink_port, 9);
	cr_assert_eq(su.tcp_source_port, 19);
	cr_assert_eq(su.tcp_max_conns, 5000);
	cr_assert_eq(su.tcp_syncookie_threshold, 64);
	cr_assert_eq(su.tcp_data_retries, 4);
	cr_assert_eq(su.tcp_rto_max_ms, 1000);
	cr_assert_eq(su.clock_offset_cycles, 18446744073709ull);
}

Test(startup, defaults)
{
	struct sl_startup su;
	char err[256];

	cr_assert_eq(sl_startup_parse("t", "port p dev d role both ip 198.18.0.1/16\n", &su, err,
				      sizeof(err)), 0);
	cr_assert(su.idle_backoff);
	cr_assert_eq(su.idle_max_sleep_us, 200);
	cr_assert_eq(su.ports[0].role, SL_ROLE_BOTH);
	cr_assert_eq(su.ports[0].vlan, 0);
	cr_assert_eq(su.udp_echo_port, 0);
	cr_assert_eq(su.tcp_max_conns, 8192);
	cr_assert_eq(su.tcp_syncookie_threshold, 1024);
	cr_assert_eq(su.arp_ttl_s, 300);
	cr_assert_eq(su.clock_offset_cycles, 0);
	cr_assert_not(su.ports[0].no_csum_offload);
}

/* Criterion re-executes the binary per test, so parameters must not hold
 * pointers: keep the strings inline. */
struct bad { char text[400]; char msg[80]; };

static struct bad bads[] = {
	{ "", "no 'port' line" },
	{ "bogus x\n", "t:1: bogus: unknown directive" },
	{ "port\n", "t:1: port: missing port name" },
	{ "port a role frontend ip 198.18.0.1/24\n", "t:1: dev: required" },
	{ "port a dev d ip 198.18.0.1/24\n", "t:1: role: required" },
	{ "port a dev d role frontend\n", "t:1: ip: required" },
	{ "\nport a dev d role front ip 198.18.0.1/24\n", "t:2: role: 'front' is not" },
	{ "port a dev d role both ip 198.18.0.1\n", "t:1: ip: '198.18.0.1' needs a /prefix" },
	{ "port a dev d role both ip 198.18.0.300/24\n", "t:1: ip: '198.18.0.300/24' is not" },
	{ "port a dev d role both ip 198.18.0.1/33\n", "t:1: ip:" },
	{ "port a dev d role both ip 198.18.0.1/24 gw 198.18.9.1\n", "t:1: gw: gateway is not inside" },
	{ "port a dev d role both ip 198.18.0.1/24 mtu 100\n", "t:1: mtu:" },
	{ "port a dev d role both ip 198.18.0.1/24 mtu -1\n", "t:1: mtu:" },
	{ "port a dev d role both ip 198.18.0.1/24 vlan 4095\n", "t:1: vlan:" },
	{ "port a dev d role both ip 198.18.0.1/24 speed 10\n", "t:1: speed: unknown port field" },
	{ "port a dev d role both ip 198.18.0.1/24 mtu\n", "t:1: mtu: missing value" },
	{ "port a dev d role both ip 198.18.0.1/24\nport a dev e role both ip 198.18.1.1/24\n",
	  "t:2: port: duplicate port 'a'" },
	{ "port a dev d role both ip 198.18.0.1/24\nidle backoff maybe\n", "t:2: backoff:" },
	{ "port a dev d role both ip 198.18.0.1/24\nidle backoff on max-sleep-us 0\n", "t:2: max-sleep-us:" },
	{ "port a dev d role both ip 198.18.0.1/24\nimpair b rx seed 1\n", "t:2: impair: unknown port 'b'" },
	{ "port a dev d role both ip 198.18.0.1/24\nimpair a rx drop 0.1\n", "t:2: seed: required" },
	{ "port a dev d role both ip 198.18.0.1/24\nimpair a rx seed 1 drop 1.5\n", "t:2: drop:" },
	{ "port a dev d role both ip 198.18.0.1/24\nimpair a up seed 1\n", "t:2: impair: 'up' is not rx or tx" },
	{ "port a dev d role both ip 198.18.0.1/24\nimpair a tx seed 1 delay 0.1\n", "t:2: delay-us: required" },
	{ "port a dev d role both ip 198.18.0.1/24\nimpair a tx seed 1 jitter 0.1\n", "t:2: jitter: unknown impairment" },
	{ "port a dev d role both ip 198.18.0.1/24\ntest udp-echo 70000\n", "t:2: udp-echo:" },
	{ "port a dev d role both ip 198.18.0.1/24\ntest udp-probe 198.18.0.2\n", "t:2: test: expected" },
	{ "port a dev d role both ip 198.18.0.1/24\ntest udp-probe 198.18.0.2 0\n", "t:2: udp-probe:" },
	{ "port a dev d role both ip 198.18.0.1/24\ntest tcp-echo 0\n", "t:2: tcp-echo:" },
	{ "port a dev d role both ip 198.18.0.1/24\ntest clock-offset-cycles -1\n", "t:2: clock-offset-cycles:" },
	{ "port a dev d role both ip 198.18.0.1/24\ntest clock-offset-cycles 0x4000000000000000\n",
	  "t:2: clock-offset-cycles:" },
	{ "port a dev d role both ip 198.18.0.1/24\ntest clock-offset-cycles 12s\n", "t:2: clock-offset-cycles:" },
	{ "port a dev d role both ip 198.18.0.1/24\ntcp max-conns 8\n", "t:2: max-conns:" },
	{ "port a dev d role both ip 198.18.0.1/24\ntcp max-conns\n", "t:2: tcp: expected" },
	{ "port a dev d role both ip 198.18.0.1/24\ntcp rto-max-ms 10\n", "t:2: rto-max-ms:" },
	{ "port a dev d role both ip 198.18.0.1/24\ntcp window 8\n", "t:2: window: unknown tcp setting" },
	{ "port a dev d role both ip 198.18.0.1/24 csum-offload maybe\n", "t:1: csum-offload:" },
	{ "port a dev d role both ip 198.18.0.1/24 rx-ring 1000\n", "t:1: rx-ring:" },
	{ "port a dev d role both ip 198.18.0.1/24 tx-ring 32\n", "t:1: tx-ring:" },
	{ "port a dev d role both ip 198.18.0.1/24 rx-ring 32768\n", "t:1: rx-ring:" },
	{ "port a dev d role both ip 198.18.0.1/24\narp ttl-s 0\n", "t:2: ttl-s:" },
	{ "port a dev d role both ip 198.18.0.1/24\narp ttl 5\n", "t:2: arp: expected" },
	{ "port a dev d role both ip 198.18.0.1/24\nport b dev d role both ip 198.18.1.1/24\n"
	  "port c dev d role both ip 198.18.2.1/24\nport e dev d role both ip 198.18.3.1/24\n"
	  "port f dev d role both ip 198.18.4.1/24\n", "t:5: port: too many ports" },
};

ParameterizedTestParameters(startup, bad_input)
{
	return cr_make_param_array(struct bad, bads, sizeof(bads) / sizeof(bads[0]));
}

ParameterizedTest(struct bad *b, startup, bad_input)
{
	struct sl_startup su;
	char err[256] = "";

	cr_assert_eq(sl_startup_parse("t", b->text, &su, err, sizeof(err)), -EINVAL, "accepted: %s", b->text);
	cr_assert(strstr(err, b->msg), "error '%s' lacks '%s'", err, b->msg);
}

Test(startup, load_missing_file)
{
	struct sl_startup su;
	char err[256] = "";

	cr_assert_eq(sl_startup_load("/nonexistent/sluice.conf", &su, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "cannot open"));
}
