/* ns per sl_policy_eval_request() for a 10-rule set shaped like an AKO
 * shared VS: host + path switches, one regex rule, one header rule.
 * Usage: policy_bench [iterations]  (docs/policy.md quotes its output) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sl_policy.h"

static const char *hdr_fn(void *arg, const char *name, size_t nl, unsigned nth, size_t *vl)
{
	(void)arg;
	static const char *const h[][2] = { { "User-Agent", "curl/8.1.2" }, { "Accept", "*/*" },
					    { "Cookie", "session=abc123; lang=en" } };
	for (unsigned i = 0; i < 3; i++)
		if (strlen(h[i][0]) == nl && !strncasecmp(h[i][0], name, nl) && nth-- == 0) {
			*vl = strlen(h[i][1]);
			return h[i][1];
		}
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	char js[16384];
	size_t o = (size_t)snprintf(js, sizeof(js), "{\"name\":\"bench\",\"http_request_policy\":{\"rules\":[");
	for (int i = 0; i < 7; i++)
		o += (size_t)snprintf(js + o, sizeof(js) - o,
			"{\"name\":\"host-%d\",\"index\":%d,\"match\":{\"host_hdr\":{\"match_criteria\":\"HDR_EQUALS\","
			"\"value\":[\"app%d.avi.iberia.local\"]},\"path\":{\"match_criteria\":\"BEGINS_WITH\",\"match_str\":[\"/\"]}},"
			"\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_POOLGROUP\",\"pool_group_ref\":\"/api/poolgroup?name=pg%d\"}},",
			i, i, i, i);
	o += (size_t)snprintf(js + o, sizeof(js) - o,
		"{\"name\":\"re\",\"index\":7,\"match\":{\"path\":{\"match_criteria\":\"REGEX_MATCH\",\"match_str\":[\"^/api/v[0-9]+/items/[0-9]+$\"]}},"
		"\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_POOL\",\"pool_ref\":\"/api/pool?name=api\"}},"
		"{\"name\":\"ua\",\"index\":8,\"match\":{\"hdrs\":[{\"hdr\":\"User-Agent\",\"match_criteria\":\"HDR_CONTAINS\",\"value\":[\"bot\"]}]},"
		"\"hdr_action\":[{\"action\":\"HTTP_ADD_HDR\",\"hdr\":{\"name\":\"X-Bot\",\"value\":{\"val\":\"1\"}}}]},"
		"{\"name\":\"last\",\"index\":9,\"match\":{\"host_hdr\":{\"match_criteria\":\"HDR_ENDS_WITH\",\"value\":[\".iberia.local\"]},"
		"\"cookie\":{\"name\":\"lang\",\"match_criteria\":\"HDR_EQUALS\",\"value\":\"en\"}},"
		"\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_POOL\",\"pool_ref\":\"/api/pool?name=default\"}}]}}");
	json_error_t je;
	json_t *j = json_loads(js, 0, &je);
	char path[256], msg[256];
	struct sl_policy_set *s = j ? sl_policy_compile(j, path, sizeof(path), msg, sizeof(msg)) : NULL;
	json_decref(j);
	struct sl_policy_worker_ctx *w = sl_policy_worker_ctx_new();
	if (!s || !w) {
		fprintf(stderr, "setup failed: %s %s %s\n", j ? "" : je.text, path, msg);
		return 1;
	}
	static const struct { const char *what, *host, *path; } reqs[] = {
		{ "first rule (host+path)", "app0.avi.iberia.local", "/index.html" },
		{ "7th rule (host+path)", "app6.avi.iberia.local", "/index.html" },
		{ "regex rule (8th)", "api.example.com", "/api/v2/items/12345" },
		{ "last rule (all 10 tried)", "other.avi.iberia.local", "/x" },
		{ "no rule matches", "www.example.com", "/x" },
	};
	printf("policy_bench: 10 request rules, %ld evaluations each\n", n);
	for (unsigned k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
		struct sl_policy_req q = { .method = "GET", .method_len = 3, .host = reqs[k].host,
					   .host_len = strlen(reqs[k].host), .path = reqs[k].path,
					   .path_len = strlen(reqs[k].path), .vs_port = 80, .hdr = hdr_fn };
		struct sl_policy_result r;
		unsigned long acc = 0;
		for (long i = 0; i < n / 10; i++)
			acc += (unsigned)sl_policy_eval_request(s, w, &q, &r);
		double t0 = now();
		for (long i = 0; i < n; i++)
			acc += (unsigned)sl_policy_eval_request(s, w, &q, &r);
		double dt = now() - t0;
		printf("  %-28s %7.1f ns/eval  (decision %d, rule %s)\n", reqs[k].what, dt / (double)n, r.decision,
		       r.rule_name ? r.rule_name : "-");
		if (acc == 42)
			puts("");
	}
	sl_policy_worker_ctx_free(w);
	sl_policy_free(s);
	return 0;
}
