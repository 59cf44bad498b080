/* Bad configurations are refused with the exact JSON path; regexes are
 * bounded at compile time and at match time. */
#include <errno.h>
#include <time.h>

#include "policy_test.h"

#define RQ(rules) "{\"name\":\"x\",\"http_request_policy\":{\"rules\":[" rules "]}}"
#define RS(rules) "{\"name\":\"x\",\"http_response_policy\":{\"rules\":[" rules "]}}"
#define OKR "{\"name\":\"ok\",\"index\":0}"
#define R1(body) "{\"name\":\"r\",\"index\":1," body "}"
#define PM(crit, strs) "\"match\":{\"path\":{\"match_criteria\":\"" crit "\",\"match_str\":[" strs "]}}"

Test(policy_compile, refusals_name_their_path)
{
	static const struct { const char *js, *path; } c[] = {
		{ "[]", "" },
		{ "{\"name\":\"x\",\"http_request_policy\":[]}", "http_request_policy" },
		{ "{\"name\":\"x\",\"http_request_policy\":{\"rules\":{}}}", "http_request_policy.rules" },
		{ "{\"name\":\"x\",\"http_security_policy\":{}}", "http_security_policy" },
		{ RQ("7"), "http_request_policy.rules[0]" },
		/* missing fields */
		{ RQ("{\"index\":0}"), "http_request_policy.rules[0].name" },
		{ RQ(OKR ",{\"name\":\"n\"}"), "http_request_policy.rules[1].index" },
		{ RQ(R1("\"match\":{\"path\":{\"match_str\":[\"/\"]}}")), "http_request_policy.rules[0].match.path.match_criteria" },
		{ RQ(R1(PM("BEGINS_WITH", ""))), "http_request_policy.rules[0].match.path.match_str" },
		{ RQ(R1("\"match\":{\"hdrs\":[{\"match_criteria\":\"HDR_EXISTS\"}]}")), "http_request_policy.rules[0].match.hdrs[0].hdr" },
		{ RQ(R1("\"match\":{\"host_hdr\":{\"match_criteria\":\"HDR_EQUALS\"}}")), "http_request_policy.rules[0].match.host_hdr.value" },
		{ RQ(R1("\"match\":{\"cookie\":{\"match_criteria\":\"HDR_EQUALS\",\"name\":\"a\"}}")), "http_request_policy.rules[0].match.cookie.value" },
		{ RQ(R1("\"match\":{\"cookie\":{\"match_criteria\":\"HDR_EQUALS\",\"key\":\"a\"}}")), "http_request_policy.rules[0].match.cookie.value" },
		{ RQ(R1("\"match\":{\"cookie\":{\"match_criteria\":\"HDR_EQUALS\",\"value\":\"a\"}}")), "http_request_policy.rules[0].match.cookie.key" },
		{ RQ(R1("\"match\":{\"cookie\":{\"match_criteria\":\"HDR_EQUALS\",\"key\":\"a b\",\"value\":\"a\"}}")), "http_request_policy.rules[0].match.cookie.key" },
		{ RQ(R1("\"match\":{\"query\":{\"match_criteria\":\"QUERY_MATCH_EQUALS\"}}")), "http_request_policy.rules[0].match.query.match_str" },
		{ RQ(R1("\"match\":{\"query\":{\"match_criteria\":\"QUERY_MATCH_LIKE\",\"match_str\":[\"a\"]}}")), "http_request_policy.rules[0].match.query.match_criteria" },
		{ RQ(R1("\"match\":{\"vs_port\":{\"match_criteria\":\"IS_IN\"}}")), "http_request_policy.rules[0].match.vs_port.ports" },
		{ RQ(R1("\"match\":{\"vs_port\":{\"match_criteria\":\"IS_IN\",\"ports\":[]}}")), "http_request_policy.rules[0].match.vs_port.ports" },
		{ RQ(R1("\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_POOL\"}")), "http_request_policy.rules[0].switching_action.pool_ref" },
		{ RQ(R1("\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_POOLGROUP\",\"pool_group_ref\":\"\"}")),
		  "http_request_policy.rules[0].switching_action.pool_group_ref" },
		{ RQ(R1("\"switching_action\":{}")), "http_request_policy.rules[0].switching_action.action" },
		{ RQ(R1("\"redirect_action\":{\"port\":443}")), "http_request_policy.rules[0].redirect_action.protocol" },
		{ RQ(R1("\"hdr_action\":[{\"action\":\"HTTP_ADD_HDR\"}]")), "http_request_policy.rules[0].hdr_action[0].hdr" },
		{ RQ(R1("\"hdr_action\":[{\"action\":\"HTTP_ADD_HDR\",\"hdr\":{}}]")), "http_request_policy.rules[0].hdr_action[0].hdr.name" },
		{ RQ(R1("\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_LOCAL\",\"file\":{}}")),
		  "http_request_policy.rules[0].switching_action.file.content_type" },
		/* unknown criteria and enum values */
		{ RQ(OKR "," OKR), "http_request_policy.rules[1].index" },
		{ RQ(OKR ",{\"name\":\"a\",\"index\":1},{\"name\":\"b\",\"index\":2," PM("STARTS_WITH", "\"/\"") "}"),
		  "http_request_policy.rules[2].match.path.match_criteria" },
		{ RQ(R1("\"match\":{\"host_hdr\":{\"match_criteria\":\"EQUALS\",\"value\":[\"a\"]}}")),
		  "http_request_policy.rules[0].match.host_hdr.match_criteria" },
		{ RQ(R1("\"match\":{\"path\":{\"match_criteria\":\"HDR_EXISTS\"}}")), "http_request_policy.rules[0].match.path.match_criteria" },
		{ RQ(R1("\"match\":{\"query\":{\"match_criteria\":\"CONTAINS\",\"match_str\":[\"a\"]}}")),
		  "http_request_policy.rules[0].match.query.match_criteria" },
		{ RQ(R1("\"match\":{\"path\":{\"match_criteria\":\"EQUALS\",\"match_case\":\"IGNORE\",\"match_str\":[\"/\"]}}")),
		  "http_request_policy.rules[0].match.path.match_case" },
		{ RQ(R1("\"match\":{\"method\":{\"match_criteria\":\"IS_IN\",\"methods\":[\"HTTP_METHOD_GET\",\"HTTP_METHOD_BREW\"]}}")),
		  "http_request_policy.rules[0].match.method.methods[1]" },
		{ RQ(R1("\"match\":{\"method\":{\"match_criteria\":\"IN\",\"methods\":[\"HTTP_METHOD_GET\"]}}")),
		  "http_request_policy.rules[0].match.method.match_criteria" },
		{ RQ(R1("\"match\":{\"protocol\":{\"match_criteria\":\"IS_IN\",\"protocols\":\"FTP\"}}")),
		  "http_request_policy.rules[0].match.protocol.protocols" },
		{ RQ(R1("\"match\":{\"vs_port\":{\"match_criteria\":\"IS_IN\",\"ports\":[80,0]}}")), "http_request_policy.rules[0].match.vs_port.ports[1]" },
		{ RQ(R1("\"match\":{\"client_ip\":{}}")), "http_request_policy.rules[0].match.client_ip" },
		{ RQ(R1("\"rewrite_url_action\":{}")), "http_request_policy.rules[0].rewrite_url_action" },
		{ RQ(R1("\"match\":{\"path\":{\"match_criteria\":\"BEGINS_WITH\",\"string_group_refs\":[\"/api/stringgroup?name=a\"]}}")),
		  "http_request_policy.rules[0].match.path.string_group_refs" },
		{ RQ(R1("\"match\":{\"path\":{\"match_criteria\":\"BEGINS_WITH\",\"match_str\":[\"/\",3]}}")),
		  "http_request_policy.rules[0].match.path.match_str[1]" },
		{ RQ(R1("\"enable\":\"yes\"")), "http_request_policy.rules[0].enable" },
		{ RQ("{\"name\":\"r\",\"index\":65536}"), "http_request_policy.rules[0].index" },
		/* bad status codes */
		{ RQ(R1("\"redirect_action\":{\"protocol\":\"HTTPS\",\"status_code\":\"HTTP_REDIRECT_STATUS_CODE_303\"}")),
		  "http_request_policy.rules[0].redirect_action.status_code" },
		{ RQ(R1("\"redirect_action\":{\"protocol\":\"HTTPS\",\"status_code\":302}")),
		  "http_request_policy.rules[0].redirect_action.status_code" },
		{ RQ(R1("\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_LOCAL\",\"status_code\":\"HTTP_LOCAL_RESPONSE_STATUS_CODE_500\"}")),
		  "http_request_policy.rules[0].switching_action.status_code" },
		{ RQ(R1("\"redirect_action\":{\"protocol\":\"HTTPS\",\"port\":0}")), "http_request_policy.rules[0].redirect_action.port" },
		{ RQ(R1("\"redirect_action\":{\"protocol\":\"HTTPS\",\"host\":{\"type\":\"URI_PARAM_TYPE_TOKENIZED\",\"tokens\":"
			"[{\"type\":\"URI_TOKEN_TYPE_REGEX\",\"str_value\":\"x\"}]}}")),
		  "http_request_policy.rules[0].redirect_action.host.tokens[0].type" },
		{ RQ(R1("\"redirect_action\":{\"protocol\":\"HTTPS\",\"host\":{\"type\":\"URI_PARAM_TYPE_TOKENIZED\",\"tokens\":"
			"[{\"type\":\"URI_TOKEN_TYPE_STRING\",\"str_value\":\"evil.com/x\"}]}}")),
		  "http_request_policy.rules[0].redirect_action.host.tokens[0].str_value" },
		{ RQ(R1("\"redirect_action\":{\"protocol\":\"HTTPS\",\"path\":{\"type\":\"URI_PARAM_TYPE_TOKENIZED\",\"tokens\":"
			"[{\"type\":\"URI_TOKEN_TYPE_PATH\",\"start_index\":3,\"end_index\":1}]}}")),
		  "http_request_policy.rules[0].redirect_action.path.tokens[0].end_index" },
		/* actions that cannot be combined, or do not belong */
		{ RQ(R1("\"redirect_action\":{\"protocol\":\"HTTPS\"},\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_LOCAL\"}")),
		  "http_request_policy.rules[0].redirect_action" },
		{ RS(R1("\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_LOCAL\"}")), "http_response_policy.rules[0].switching_action" },
		{ RQ(R1("\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_POOL\",\"pool_ref\":7}")),
		  "http_request_policy.rules[0].switching_action.pool_ref" },
		/* header actions that would split a message */
		{ RQ(R1("\"hdr_action\":[{\"action\":\"HTTP_ADD_HDR\",\"hdr\":{\"name\":\"X-A\",\"value\":{\"val\":\"a\\r\\nX-B: b\"}}}]")),
		  "http_request_policy.rules[0].hdr_action[0].hdr.value.val" },
		{ RQ(R1("\"hdr_action\":[{\"action\":\"HTTP_ADD_HDR\",\"hdr\":{\"name\":\"X A\"}}]")),
		  "http_request_policy.rules[0].hdr_action[0].hdr.name" },
		{ RQ(R1("\"hdr_action\":[{\"action\":\"HTTP_APPEND_HDR\",\"hdr\":{\"name\":\"X\"}}]")),
		  "http_request_policy.rules[0].hdr_action[0].action" },
		{ RQ(R1("\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_LOCAL\",\"file\":{\"content_type\":\"text/plain\","
			"\"file_content\":\"abc\",\"file_length\":4}}")),
		  "http_request_policy.rules[0].switching_action.file.file_length" },
		/* regexes */
		{ RQ(OKR ",{\"name\":\"a\",\"index\":1},{\"name\":\"b\",\"index\":2," PM("REGEX_MATCH", "\"^/ok$\",\"(unclosed\"") "}"),
		  "http_request_policy.rules[2].match.path.match_str[1]" },
		{ RQ(R1(PM("REGEX_MATCH", "\"\""))), "http_request_policy.rules[0].match.path.match_str[0]" },
		{ RQ(R1(PM("REGEX_MATCH", "\"(*UTF)x\""))), "http_request_policy.rules[0].match.path.match_str[0]" },
		{ RQ(R1(PM("REGEX_MATCH", "\"a\\\\Cb\""))), "http_request_policy.rules[0].match.path.match_str[0]" },
		{ RQ(R1(PM("REGEX_MATCH", "\"((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))\""))),
		  "http_request_policy.rules[0].match.path.match_str[0]" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		tp_refuse(c[i].js, c[i].path);
}

Test(policy_compile, pattern_length_cap)
{
	char *js = malloc(8192);
	char pat[SL_POLICY_MAX_STR_LEN + 2];
	memset(pat, 'a', sizeof(pat) - 1);
	pat[sizeof(pat) - 1] = 0;
	snprintf(js, 8192, RQ(R1(PM("REGEX_MATCH", "\"%s\""))), pat);
	tp_refuse(js, "http_request_policy.rules[0].match.path.match_str[0]");
	pat[sizeof(pat) - 2] = 0;  /* exactly at the cap: accepted */
	snprintf(js, 8192, RQ(R1(PM("REGEX_MATCH", "\"%s\""))), pat);
	struct sl_policy_set *s = tp_compile(js);
	cr_expect_eq(sl_policy_regex_count(s), 1);
	sl_policy_free(s);
	free(js);
}

Test(policy_compile, header_action_total_cap)
{
	/* Two rules of 64 actions fill the cap; one more is refused where it is. */
	size_t cap = 64 * 1024;
	char *js = malloc(cap);
	size_t o = (size_t)snprintf(js, cap, "{\"name\":\"x\",\"http_request_policy\":{\"rules\":[");
	for (int r = 0; r < 3; r++) {
		o += (size_t)snprintf(js + o, cap - o, "%s{\"name\":\"r%d\",\"index\":%d,\"hdr_action\":[", r ? "," : "", r, r);
		int n = r < 2 ? 64 : 1;
		for (int i = 0; i < n; i++)
			o += (size_t)snprintf(js + o, cap - o, "%s{\"action\":\"HTTP_ADD_HDR\",\"hdr\":{\"name\":\"X-%d\"}}",
					      i ? "," : "", i);
		o += (size_t)snprintf(js + o, cap - o, "]}");
	}
	snprintf(js + o, cap - o, "]}}");
	tp_refuse(js, "http_request_policy.rules[2].hdr_action[0]");
	free(js);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ^(a+)+$ on a^40 b backtracks 2^40 ways without a bound. */
Test(policy_compile, catastrophic_regex_is_bounded, .timeout = 10)
{
	struct sl_policy_set *s = tp_compile(RQ(R1(PM("REGEX_MATCH", "\"^/(a+)+$\"") ","
		"\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_POOL\",\"pool_ref\":\"p\"}")
		",{\"name\":\"neg\",\"index\":2," PM("REGEX_DOES_NOT_MATCH", "\"^/(a+)+$\"") ","
		"\"switching_action\":{\"action\":\"HTTP_SWITCHING_SELECT_POOL\",\"pool_ref\":\"q\"}}"));
	struct sl_policy_worker_ctx *w = sl_policy_worker_ctx_new();
	cr_assert(w);
	char path[64];
	path[0] = '/';
	memset(path + 1, 'a', 40);
	path[41] = 'b';
	path[42] = 0;
	struct treq t;
	treq_init(&t, "GET", "h", path, NULL);
	struct sl_policy_result r;
	double t0 = now_s();
	int d = sl_policy_eval_request(s, w, &t.r, &r);
	double dt = now_s() - t0;
	/* Neither rule fires: a limit hit is no match for REGEX_MATCH and also
	 * does not make REGEX_DOES_NOT_MATCH true. */
	cr_expect_eq(d, SL_POLICY_CONTINUE);
	cr_expect_eq(sl_policy_worker_stats(w)->regex_limit, 2, "limit hits: %lu",
		     (unsigned long)sl_policy_worker_stats(w)->regex_limit);
	cr_expect_lt(dt, 0.05, "took %.3f s", dt);
	/* The same pattern still matches what it should, within the limit. */
	treq_init(&t, "GET", "h", "/aaaa", NULL);
	cr_expect_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_POOL);
	cr_expect_str_eq(r.rule_name, "r");
	sl_policy_worker_ctx_free(w);
	sl_policy_free(s);
}

/* Many bad regexes in one set: a request pays for at most
 * SL_POLICY_EVAL_LIMIT_HITS of them; the rest are not run. */
Test(policy_compile, limit_hits_per_evaluation_are_capped, .timeout = 10)
{
	char js[4096];
	size_t o = (size_t)snprintf(js, sizeof(js), "{\"name\":\"x\",\"http_request_policy\":{\"rules\":[");
	for (int i = 0; i < 8; i++)
		o += (size_t)snprintf(js + o, sizeof(js) - o, "%s{\"name\":\"r%d\",\"index\":%d,"
				      PM("REGEX_MATCH", "\"^/(a+)+$\"") "}", i ? "," : "", i, i);
	snprintf(js + o, sizeof(js) - o, "]}}");
	struct sl_policy_set *s = tp_compile(js);
	struct sl_policy_worker_ctx *w = sl_policy_worker_ctx_new();
	char path[64];
	path[0] = '/';
	memset(path + 1, 'a', 40);
	strcpy(path + 41, "b");
	struct treq t;
	treq_init(&t, "GET", "h", path, NULL);
	struct sl_policy_result r;
	double t0 = now_s();
	cr_expect_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_CONTINUE);
	double dt = now_s() - t0;
	const struct sl_policy_stats *st = sl_policy_worker_stats(w);
	cr_expect_eq(st->regex_limit, SL_POLICY_EVAL_LIMIT_HITS);
	cr_expect_eq(st->regex_skipped, 8 - SL_POLICY_EVAL_LIMIT_HITS);
	cr_expect_lt(dt, 0.05, "took %.3f s", dt);
	/* The cap is per evaluation: the next request starts afresh. */
	cr_expect_eq(sl_policy_eval_request(s, w, &t.r, &r), SL_POLICY_CONTINUE);
	cr_expect_eq(st->regex_limit, 2 * SL_POLICY_EVAL_LIMIT_HITS);
	sl_policy_worker_ctx_free(w);
	sl_policy_free(s);
}

Test(policy_compile, errors_leave_errno)
{
	json_t *j = json_loads(RQ(R1(PM("REGEX_MATCH", "\"[\""))), 0, NULL);
	char path[128], msg[128];
	errno = 0;
	cr_expect_null(sl_policy_compile(j, path, sizeof(path), msg, sizeof(msg)));
	cr_expect_eq(errno, EINVAL);
	cr_expect(strstr(msg, "regex"), "%s", msg);
	/* NULL buffers are allowed. */
	cr_expect_null(sl_policy_compile(j, NULL, 0, NULL, 0));
	json_decref(j);
}
