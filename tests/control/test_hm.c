/* Health-monitor scheduling and verdicts (control/hm.c) against a fake engine and a fake clock:
 * thresholds, timing, content checks (TCP expect, HTTP class, DNS rcode/answer), target churn. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm.h"
#include "sl_gen.h"

struct fake {
	uint64_t now;
	struct sl_hm_probe *q[4096];
	unsigned nq;
	struct sl_hm_probe *done[4096];
	unsigned nd;
	unsigned per_worker[8];
	/* how the "network" answers, by the last octet of the address */
	uint8_t outcome[256];
	const char *resp[256];
	unsigned resp_len[256];
	unsigned sent;
	struct seen { uint16_t port; uint32_t timeout_ms, req_len, expect_len; } last, lastk[5];
	uint8_t last_req[1024], lastk_req[5][1024];
};

static uint64_t fclock(void *a)
{
	return ((struct fake *)a)->now;
}

static int fsubmit(void *a, unsigned w, struct sl_hm_probe *p)
{
	struct fake *f = a;
	f->q[f->nq++] = p;
	f->per_worker[w]++;
	f->sent++;
	f->last = (struct seen){ p->port, p->timeout_ms, p->req_len, p->expect_len };
	memcpy(f->last_req, p->req, p->req_len < 1024 ? p->req_len : 1024);
	f->lastk[p->kind] = f->last;
	memcpy(f->lastk_req[p->kind], p->req, p->req_len < 1024 ? p->req_len : 1024);
	return 0;
}

static unsigned fcollect(void *a, struct sl_hm_probe **out, unsigned max)
{
	struct fake *f = a;
	unsigned n = f->nd < max ? f->nd : max;
	memcpy(out, f->done, n * sizeof(*out));
	memmove(f->done, f->done + n, (f->nd - n) * sizeof(*out));
	f->nd -= n;
	return n;
}

/* The engine answers everything queued so far. */
static void answer(struct fake *f)
{
	for (unsigned i = 0; i < f->nq; i++) {
		struct sl_hm_probe *p = f->q[i];
		unsigned k = ntohl(p->ip) & 0xff;
		p->outcome = f->outcome[k] ? f->outcome[k] : SL_HM_DONE;
		if (f->resp[k]) {
			memcpy(p->resp, f->resp[k], f->resp_len[k]);
			p->resp_len = (uint16_t)f->resp_len[k];
			if (p->kind == SL_HM_DNS && p->resp_len >= 2)   /* echo the query id */
				memcpy(p->resp, p->req, 2);
		}
		/* the worker reads the status line (dataplane/app/probe); the fake, the
		 * three digits of a well-formed one */
		p->status = 0;
		if (p->kind == SL_HM_HTTP && p->resp_len >= 12 && !memcmp(p->resp, "HTTP/1.", 7) && p->resp[8] == ' ')
			p->status = (uint16_t)((p->resp[9] - '0') * 100 + (p->resp[10] - '0') * 10 + (p->resp[11] - '0'));
		f->done[f->nd++] = p;
	}
	f->nq = 0;
}

/* Advance the clock in 100 ms steps for ms, the engine answering at once. */
static void run(struct sl_hm *h, struct fake *f, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 100) {
		f->now += 100;
		sl_hm_poll(h);
		answer(f);
		sl_hm_poll(h);
	}
}

static uint32_t ip(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static struct sl_hm *mk(struct fake *f, uint8_t *health)
{
	memset(f, 0, sizeof(*f));
	f->now = 1000000;
	memset(health, 1, SL_MAX_HEALTH);
	struct sl_hm_hooks hk = { f, fsubmit, fcollect };
	struct sl_hm *h = sl_hm_create(health, 2, &hk);
	cr_assert(h);
	sl_hm_set_clock(h, fclock, f);
	return h;
}

static void mon(struct sl_hm *h, uint32_t slot, const char *json)
{
	json_error_t je;
	json_t *d = json_loads(json, 0, &je);
	cr_assert(d, "%s", je.text);
	cr_assert_eq(sl_hm_monitor_set(h, slot, "m", d), 0);
	json_decref(d);
}

static uint8_t health[SL_MAX_HEALTH];

Test(hm, tcp_thresholds_and_timing)
{
	struct fake f;
	struct sl_hm *h = mk(&f, health);
	mon(h, 0, "{\"type\":\"HEALTH_MONITOR_TCP\",\"send_interval\":2,\"receive_timeout\":1,\"failed_checks\":3,"
		  "\"successful_checks\":2}");
	uint32_t m0 = 0;
	cr_assert_eq(sl_hm_targets(h, 7, ip("198.18.1.2"), 8080, &m0, 1), 0);
	cr_assert_eq(sl_hm_targets(h, 8, ip("198.18.1.3"), 8080, &m0, 1), 0);
	run(h, &f, 1000);
	cr_expect_eq(f.sent, 2, "first probes within a second: %u", f.sent);
	cr_expect_eq(f.last.port, 8080);
	cr_expect_eq(f.last.timeout_ms, 1000);
	cr_expect(f.per_worker[1] == 1 && f.per_worker[0] == 1, "slot 7 and 8 on workers 1 and 0");
	run(h, &f, 10000);
	cr_expect_eq(f.sent, 12, "one probe per target per 2 s: %u", f.sent);
	cr_expect(health[7] && health[8]);
	/* .2 refuses from now on: down on the third failure, i.e. within 3 intervals */
	f.outcome[2] = SL_HM_REFUSED;
	unsigned ms = 0;
	while (health[7] && ms < 20000) {
		run(h, &f, 100);
		ms += 100;
	}
	cr_expect_eq(health[7], 0);
	cr_expect(ms > 4000 && ms <= 6000, "down after %u ms (3 failures at 2 s)", ms);
	cr_expect_eq(health[8], 1, "the other server is untouched");
	json_t *rt = sl_hm_runtime(h, 7);
	cr_assert(rt);
	cr_expect(json_is_false(json_object_get(rt, "oper_up")));
	cr_expect_str_eq(json_string_value(json_object_get(rt, "reason")), "3 failed checks: connection refused");
	json_decref(rt);
	/* back: up after 2 successes */
	f.outcome[2] = 0;
	ms = 0;
	while (!health[7] && ms < 20000) {
		run(h, &f, 100);
		ms += 100;
	}
	cr_expect(health[7] && ms > 2000 && ms <= 4000, "up after %u ms (2 successes at 2 s)", ms);
	/* a failure between successes resets the run: never down with alternating results */
	for (int i = 0; i < 10; i++) {
		f.outcome[3] = (i & 1) ? SL_HM_TIMEOUT : 0;
		run(h, &f, 2000);
		cr_expect_eq(health[8], 1);
	}
	sl_hm_destroy(h);
}

Test(hm, content_checks)
{
	struct fake f;
	struct sl_hm *h = mk(&f, health);
	mon(h, 1, "{\"type\":\"HEALTH_MONITOR_TCP\",\"send_interval\":2,\"receive_timeout\":1,\"failed_checks\":1,"
		  "\"successful_checks\":1,\"tcp_monitor\":{\"tcp_request\":\"PING\\r\\n\",\"tcp_response\":\"PONG\"}}");
	mon(h, 2, "{\"type\":\"HEALTH_MONITOR_HTTP\",\"send_interval\":2,\"receive_timeout\":1,\"failed_checks\":1,"
		  "\"successful_checks\":1,\"http_monitor\":{\"http_request\":\"GET /health\",\"http_response_code\":[\"HTTP_2XX\"]}}");
	/* DNS: A of www.example.test must hold 198.18.1.53 */
	mon(h, 3, "{\"type\":\"HEALTH_MONITOR_DNS\",\"send_interval\":2,\"receive_timeout\":1,\"failed_checks\":1,"
		  "\"successful_checks\":1,\"dns_monitor\":{\"query_name\":\"www.example.test\",\"response_string\":\"198.18.1.53\"}}");
	uint32_t m1 = 1, m2 = 2, m3 = 3;
	sl_hm_targets(h, 10, ip("198.18.1.10"), 7, &m1, 1);
	sl_hm_targets(h, 11, ip("198.18.1.11"), 80, &m2, 1);
	sl_hm_targets(h, 12, ip("198.18.1.12"), 0, &m3, 1);
	f.resp[10] = "PONG\n";
	f.resp_len[10] = 5;
	f.resp[11] = "HTTP/1.0 200 OK\r\n";
	f.resp_len[11] = 17;
	static const uint8_t dns_ok[] = { 0, 0, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 198, 18, 1, 53 };
	static uint8_t dns_other[sizeof(dns_ok)], dns_nx[34];
	memcpy(dns_other, dns_ok, sizeof(dns_ok));
	dns_other[sizeof(dns_ok) - 1] = 54;
	memcpy(dns_nx, dns_ok, 34);
	dns_nx[3] = 3;
	dns_nx[7] = 0;
	f.resp[12] = (const char *)dns_ok;
	f.resp_len[12] = sizeof(dns_ok);
	run(h, &f, 3000);
	cr_expect(health[10] && health[11] && health[12]);
	/* what went on the wire */
	sl_hm_targets(h, 11, ip("198.18.1.11"), 80, &m2, 1);
	cr_expect_eq(f.lastk[SL_HM_DNS].port, 53, "DNS monitors default to port 53");
	cr_expect_eq(f.lastk[SL_HM_DNS].req_len, 12 + 18 + 4);
	cr_expect_eq(f.lastk_req[SL_HM_DNS][2], 1, "RD");
	cr_expect_eq(f.lastk[SL_HM_TCP].req_len, 6);
	cr_expect_eq(memcmp(f.lastk_req[SL_HM_TCP], "PING\r\n", 6), 0);
	cr_expect_eq(f.lastk[SL_HM_TCP].expect_len, 4);
	cr_expect_eq(memcmp(f.lastk_req[SL_HM_DNS] + 12, "\3www\7example\4test\0\0\1\0\1", 22), 0);

	f.resp[10] = "PANG\n";
	f.resp[11] = "HTTP/1.1 500 Internal Server Error\r\n";
	f.resp_len[11] = 36;
	f.resp[12] = (const char *)dns_other;
	run(h, &f, 2000);
	cr_expect(!health[10] && !health[11] && !health[12]);
	json_t *rt = sl_hm_runtime(h, 11);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(rt, "monitors"), 0),
									   "last_probe"), "result")),
			 "HTTP 500 not an expected response code");
	json_decref(rt);
	rt = sl_hm_runtime(h, 12);
	cr_expect_str_eq(json_string_value(json_object_get(rt, "reason")), "1 failed checks: answer lacks 198.18.1.53 (1 answers)");
	json_decref(rt);
	f.resp[12] = (const char *)dns_nx;
	f.resp_len[12] = sizeof(dns_nx);
	run(h, &f, 2000);
	rt = sl_hm_runtime(h, 12);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(rt, "monitors"), 0),
									   "last_probe"), "result")), "DNS rcode 3");
	json_decref(rt);
	sl_hm_destroy(h);
}

Test(hm, request_bytes_and_churn)
{
	struct fake f;
	struct sl_hm *h = mk(&f, health);
	mon(h, 2, "{\"type\":\"HEALTH_MONITOR_HTTP\",\"send_interval\":2,\"receive_timeout\":1,\"failed_checks\":1,"
		  "\"successful_checks\":1,\"http_monitor\":{\"http_request\":\"GET /h HTTP/1.1\"}}");
	uint32_t m2 = 2;
	sl_hm_targets(h, 20, ip("198.18.1.20"), 80, &m2, 1);
	run(h, &f, 1000);
	cr_assert_eq(f.sent, 1);
	f.last_req[f.last.req_len] = 0;
	cr_expect_str_eq((char *)f.last_req, "GET /h HTTP/1.1\r\nHost: 198.18.1.20\r\nConnection: close\r\n\r\n");
	/* the target goes away while its probe runs: the result is dropped, nothing is written */
	f.outcome[20] = SL_HM_REFUSED;
	run(h, &f, 2000);
	cr_expect_eq(health[20], 0);
	f.outcome[20] = 0;
	f.nq = 0;
	f.now += 2000;
	sl_hm_poll(h);
	cr_assert_eq(f.nq, 1);
	cr_expect_eq(sl_hm_targets(h, 20, 0, 0, NULL, 0), 0);
	cr_expect_eq(health[20], 1, "unmonitored is up");
	answer(&f);
	sl_hm_poll(h);
	json_t *st = sl_hm_status(h);
	cr_expect_eq(json_integer_value(json_object_get(st, "stale_results")), 1);
	cr_expect_eq(json_integer_value(json_object_get(st, "targets")), 0);
	json_decref(st);
	cr_expect_eq(health[20], 1);
	cr_expect_null(sl_hm_runtime(h, 20));
	/* an unmonitored slot's health is not touched by target updates */
	health[21] = 0;
	sl_hm_targets(h, 21, ip("198.18.1.21"), 80, NULL, 0);
	cr_expect_eq(health[21], 0);
	/* unsupported types are tracked but not run, and do not hold a server down */
	mon(h, 4, "{\"type\":\"HEALTH_MONITOR_EXTERNAL\",\"send_interval\":2,\"receive_timeout\":1}");
	uint32_t m4 = 4;
	unsigned before = f.sent;
	sl_hm_targets(h, 22, ip("198.18.1.22"), 80, &m4, 1);
	run(h, &f, 5000);
	cr_expect_eq(f.sent, before);
	cr_expect_eq(health[22], 1);
	sl_hm_destroy(h);
}

Test(hm, validation)
{
	char rel[64], why[160];
	json_t *d = json_loads("{\"type\":\"HEALTH_MONITOR_DNS\",\"dns_monitor\":{\"query_name\":\"a..b\"}}", 0, NULL);
	cr_expect_eq(sl_hm_check(d, rel, sizeof(rel), why, sizeof(why)), -1);
	cr_expect_str_eq(rel, "dns_monitor.query_name");
	json_decref(d);
	d = json_loads("{\"type\":\"HEALTH_MONITOR_DNS\",\"dns_monitor\":{\"query_name\":\"a.b\",\"response_string\":\"x\"}}", 0,
		       NULL);
	cr_expect_eq(sl_hm_check(d, rel, sizeof(rel), why, sizeof(why)), -1);
	cr_expect_str_eq(rel, "dns_monitor.response_string");
	json_decref(d);
	d = json_loads("{\"type\":\"HEALTH_MONITOR_DNS\"}", 0, NULL);
	cr_expect_eq(sl_hm_check(d, rel, sizeof(rel), why, sizeof(why)), -1);
	json_decref(d);
	d = json_loads("{\"type\":\"HEALTH_MONITOR_HTTP\",\"http_monitor\":{\"http_request\":\" GET /\"}}", 0, NULL);
	cr_expect_eq(sl_hm_check(d, rel, sizeof(rel), why, sizeof(why)), -1);
	cr_expect_str_eq(rel, "http_monitor.http_request");
	json_decref(d);
	d = json_loads("{\"type\":\"HEALTH_MONITOR_TCP\"}", 0, NULL);
	cr_expect_eq(sl_hm_check(d, rel, sizeof(rel), why, sizeof(why)), 0);
	json_decref(d);
}

Test(hm, many_targets_are_spread_over_the_interval)
{
	static struct fake f;
	struct sl_hm *h = mk(&f, health);
	mon(h, 0, "{\"type\":\"HEALTH_MONITOR_PING\",\"send_interval\":10,\"receive_timeout\":4}");
	uint32_t m0 = 0;
	for (uint32_t s = 0; s < 5000; s++)
		cr_assert_eq(sl_hm_targets(h, s, htonl(0xc6120000u + s), 0, &m0, 1), 0);
	unsigned max_round = 0;
	for (int i = 0; i < 99; i++) {   /* 9.9 s: the earliest target is due again at 10 s */
		unsigned before = f.sent;
		run(h, &f, 100);
		if (f.sent - before > max_round)
			max_round = f.sent - before;
	}
	cr_expect_eq(f.sent, 5000, "each target probed once in the first interval: %u", f.sent);
	cr_expect(max_round < 400, "no burst: at most %u probes in 100 ms", max_round);
	sl_hm_destroy(h);
}
