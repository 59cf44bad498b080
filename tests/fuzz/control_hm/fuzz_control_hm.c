/* Health-monitor verdicts (control/hm.c) on what a server sends back: the HTTP status line, the
 * bytes a TCP monitor expects, a DNS response (header, question and answer records, compression
 * pointers). Input: byte 0 picks the monitor kind, byte 1 the probe outcome, the rest is the
 * response as the worker captured it (at most SL_HM_RESP_MAX bytes). */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "hm.h"
#include "sl_gen.h"

static const char *const monitors[] = {
	"{\"type\":\"HEALTH_MONITOR_HTTP\",\"send_interval\":2,\"receive_timeout\":1,"
	"\"http_monitor\":{\"http_request\":\"GET / HTTP/1.0\",\"http_response_code\":[\"HTTP_2XX\",\"HTTP_3XX\"]}}",
	"{\"type\":\"HEALTH_MONITOR_TCP\",\"send_interval\":2,\"receive_timeout\":1,"
	"\"tcp_monitor\":{\"tcp_request\":\"PING\\r\\n\",\"tcp_response\":\"PONG\"}}",
	"{\"type\":\"HEALTH_MONITOR_DNS\",\"send_interval\":2,\"receive_timeout\":1,"
	"\"dns_monitor\":{\"query_name\":\"www.example.test\",\"qtype\":\"DNS_QUERY_TYPE\",\"rcode\":\"RCODE_NO_ERROR\"}}",
	"{\"type\":\"HEALTH_MONITOR_DNS\",\"send_interval\":2,\"receive_timeout\":1,"
	"\"dns_monitor\":{\"query_name\":\"www.example.test\",\"qtype\":\"DNS_QUERY_TYPE\",\"rcode\":\"RCODE_ANYTHING\","
	"\"response_string\":\"198.18.1.53\"}}",
	"{\"type\":\"HEALTH_MONITOR_PING\",\"send_interval\":2,\"receive_timeout\":1}",
};
#define N_MON (sizeof(monitors) / sizeof(monitors[0]))

static uint8_t health[SL_MAX_HEALTH];
static struct sl_hm_probe *queued, *done;
static uint64_t now_ms;

static uint64_t fclock(void *a)
{
	(void)a;
	return now_ms;
}

static int fsubmit(void *a, unsigned w, struct sl_hm_probe *p)
{
	(void)a;
	(void)w;
	queued = p;
	return 0;
}

static unsigned fcollect(void *a, struct sl_hm_probe **out, unsigned max)
{
	(void)a;
	if (!done || !max)
		return 0;
	out[0] = done;
	done = NULL;
	return 1;
}

static struct sl_hm *hm;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!hm) {
		struct sl_hm_hooks hk = { NULL, fsubmit, fcollect };
		memset(health, 1, sizeof(health));
		hm = sl_hm_create(health, 1, &hk);
		if (!hm)
			return 0;
		sl_hm_set_clock(hm, fclock, NULL);
		for (uint32_t i = 0; i < N_MON; i++) {
			json_t *d = json_loads(monitors[i], 0, NULL);
			if (!d || sl_hm_monitor_set(hm, i, "fuzz", d))
				__builtin_trap();
			json_decref(d);
		}
	}
	if (size < 2)
		return 0;
	uint32_t m = data[0] % N_MON;
	struct in_addr a;
	inet_pton(AF_INET, "198.18.1.2", &a);
	if (sl_hm_targets(hm, 1, a.s_addr, 53, &m, 1))
		return 0;
	/* run the clock until the probe goes out, answer it with the input, collect the verdict */
	queued = NULL;
	for (int i = 0; i < 100 && !queued; i++) {
		now_ms += 500;
		sl_hm_poll(hm);
	}
	if (!queued)
		return 0;
	struct sl_hm_probe *p = queued;
	size_t n = size - 2 < SL_HM_RESP_MAX ? size - 2 : SL_HM_RESP_MAX;
	p->outcome = (uint8_t)(1 + data[1] % 7);
	memcpy(p->resp, data + 2, n);
	p->resp_len = (uint16_t)n;
	if (p->kind == SL_HM_DNS && n >= 2 && p->req_len >= 2 && (data[1] & 0x80))
		memcpy(p->resp, p->req, 2);   /* our query id, so the content is judged */
	p->rtt_us = 100;
	done = p;
	sl_hm_poll(hm);
	if (health[1] > 1)
		__builtin_trap();
	return 0;
}
