/* Every match criterion both ways, match_case, several match strings, and
 * the integer matches (vs_port, method, protocol). */
#include "policy_test.h"

struct mcase {
	const char *match;
	const char *host, *path, *query;
	const char *h1n, *h1v, *h2n, *h2v;
	bool want;
};

static void run(const struct mcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct treq t;
		treq_init(&t, "GET", c[i].host, c[i].path ? c[i].path : "/", c[i].query);
		if (c[i].h1n)
			treq_hdr(&t, c[i].h1n, c[i].h1v);
		if (c[i].h2n)
			treq_hdr(&t, c[i].h2n, c[i].h2v);
		cr_expect_eq(tp_hit(c[i].match, &t), c[i].want, "case %zu: %s host=%s path=%.60s query=%s: want %d", i,
			     c[i].match, c[i].host, c[i].path, c[i].query, c[i].want);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define PATH(crit, strs) "\"path\":{\"match_criteria\":\"" crit "\",\"match_str\":[" strs "]}"
#define PATHC(crit, strs, mc) \
	"\"path\":{\"match_criteria\":\"" crit "\",\"match_case\":\"" mc "\",\"match_str\":[" strs "]}"

Test(policy_match, path_every_criterion)
{
	static const struct mcase c[] = {
		{ PATH("BEGINS_WITH", "\"/api\""), NULL, "/api/v1", NULL, .want = true },
		{ PATH("BEGINS_WITH", "\"/api\""), NULL, "/web/api", NULL, .want = false },
		{ PATH("DOES_NOT_BEGIN_WITH", "\"/api\""), NULL, "/web/api", NULL, .want = true },
		{ PATH("DOES_NOT_BEGIN_WITH", "\"/api\""), NULL, "/api/v1", NULL, .want = false },
		{ PATH("CONTAINS", "\"v1\""), NULL, "/api/v1/x", NULL, .want = true },
		{ PATH("CONTAINS", "\"v2\""), NULL, "/api/v1/x", NULL, .want = false },
		{ PATH("DOES_NOT_CONTAIN", "\"v2\""), NULL, "/api/v1/x", NULL, .want = true },
		{ PATH("DOES_NOT_CONTAIN", "\"v1\""), NULL, "/api/v1/x", NULL, .want = false },
		{ PATH("ENDS_WITH", "\".jpg\""), NULL, "/img/a.jpg", NULL, .want = true },
		{ PATH("ENDS_WITH", "\".jpg\""), NULL, "/img/a.png", NULL, .want = false },
		{ PATH("ENDS_WITH", "\"/very/long/suffix.jpg\""), NULL, "/a.jpg", NULL, .want = false },
		{ PATH("DOES_NOT_END_WITH", "\".jpg\""), NULL, "/img/a.png", NULL, .want = true },
		{ PATH("DOES_NOT_END_WITH", "\".jpg\""), NULL, "/img/a.jpg", NULL, .want = false },
		{ PATH("EQUALS", "\"/login\""), NULL, "/login", NULL, .want = true },
		{ PATH("EQUALS", "\"/login\""), NULL, "/login/", NULL, .want = false },
		{ PATH("DOES_NOT_EQUAL", "\"/login\""), NULL, "/login/", NULL, .want = true },
		{ PATH("DOES_NOT_EQUAL", "\"/login\""), NULL, "/login", NULL, .want = false },
		{ PATH("REGEX_MATCH", "\"^/item/[0-9]+$\""), NULL, "/item/42", NULL, .want = true },
		{ PATH("REGEX_MATCH", "\"^/item/[0-9]+$\""), NULL, "/item/4x2", NULL, .want = false },
		{ PATH("REGEX_DOES_NOT_MATCH", "\"^/item/[0-9]+$\""), NULL, "/item/4x2", NULL, .want = true },
		{ PATH("REGEX_DOES_NOT_MATCH", "\"^/item/[0-9]+$\""), NULL, "/item/42", NULL, .want = false },
		/* The query is not part of the path. */
		{ PATH("ENDS_WITH", "\".php\""), NULL, "/index.php", "a=.png", .want = true },
	};
	run(c, N(c));
}

Test(policy_match, path_case_and_multiple_strings)
{
	static const struct mcase c[] = {
		/* match_case defaults to INSENSITIVE, as Avi. */
		{ PATH("BEGINS_WITH", "\"/API\""), NULL, "/api/x", NULL, .want = true },
		{ PATHC("BEGINS_WITH", "\"/API\"", "INSENSITIVE"), NULL, "/Api/x", NULL, .want = true },
		{ PATHC("BEGINS_WITH", "\"/API\"", "SENSITIVE"), NULL, "/api/x", NULL, .want = false },
		{ PATHC("BEGINS_WITH", "\"/API\"", "SENSITIVE"), NULL, "/API/x", NULL, .want = true },
		{ PATHC("EQUALS", "\"/A\"", "SENSITIVE"), NULL, "/a", NULL, .want = false },
		{ PATHC("CONTAINS", "\"Foo\"", "INSENSITIVE"), NULL, "/xFOOy", NULL, .want = true },
		{ PATHC("CONTAINS", "\"Foo\"", "SENSITIVE"), NULL, "/xFOOy", NULL, .want = false },
		{ PATHC("ENDS_WITH", "\".JPG\"", "INSENSITIVE"), NULL, "/a.jpg", NULL, .want = true },
		{ PATHC("REGEX_MATCH", "\"^/ADMIN\"", "INSENSITIVE"), NULL, "/admin/x", NULL, .want = true },
		{ PATHC("REGEX_MATCH", "\"^/ADMIN\"", "SENSITIVE"), NULL, "/admin/x", NULL, .want = false },
		/* Any of several strings matches; a negation needs all of them to miss. */
		{ PATH("BEGINS_WITH", "\"/a\",\"/b\",\"/c\""), NULL, "/b/1", NULL, .want = true },
		{ PATH("BEGINS_WITH", "\"/a\",\"/b\",\"/c\""), NULL, "/d/1", NULL, .want = false },
		{ PATH("DOES_NOT_BEGIN_WITH", "\"/a\",\"/b\""), NULL, "/b/1", NULL, .want = false },
		{ PATH("DOES_NOT_BEGIN_WITH", "\"/a\",\"/b\""), NULL, "/c/1", NULL, .want = true },
		{ PATH("REGEX_MATCH", "\"^/x$\",\"^/y$\""), NULL, "/y", NULL, .want = true },
	};
	run(c, N(c));
}

/* A subject longer than the worker's scratch takes the byte-by-byte path. */
Test(policy_match, long_path_case_folding)
{
	static char path[SL_POLICY_SCRATCH + 100];
	memset(path, 'A', sizeof(path) - 1);
	path[0] = '/';
	memcpy(path + sizeof(path) - 8, "NeEdLe", 6);
	struct mcase c[] = {
		{ PATH("CONTAINS", "\"needle\""), NULL, path, NULL, .want = true },
		{ PATHC("CONTAINS", "\"needle\"", "SENSITIVE"), NULL, path, NULL, .want = false },
		{ PATH("BEGINS_WITH", "\"/aaa\""), NULL, path, NULL, .want = true },
		{ PATH("ENDS_WITH", "\"needlea\""), NULL, path, NULL, .want = true },
		{ PATH("EQUALS", "\"/aaa\""), NULL, path, NULL, .want = false },
	};
	run(c, N(c));
}

#define HOST(crit, vals) "\"host_hdr\":{\"match_criteria\":\"" crit "\",\"value\":[" vals "]}"
#define HOSTC(crit, vals, mc) "\"host_hdr\":{\"match_criteria\":\"" crit "\",\"match_case\":\"" mc "\",\"value\":[" vals "]}"

Test(policy_match, host_every_criterion)
{
	static const struct mcase c[] = {
		{ "\"host_hdr\":{\"match_criteria\":\"HDR_EXISTS\"}", "a.example.com", "/", NULL, .want = true },
		{ "\"host_hdr\":{\"match_criteria\":\"HDR_EXISTS\"}", NULL, "/", NULL, .want = false },
		{ "\"host_hdr\":{\"match_criteria\":\"HDR_DOES_NOT_EXIST\"}", NULL, "/", NULL, .want = true },
		{ "\"host_hdr\":{\"match_criteria\":\"HDR_DOES_NOT_EXIST\"}", "a", "/", NULL, .want = false },
		{ HOST("HDR_EQUALS", "\"a.example.com\""), "a.example.com", "/", NULL, .want = true },
		{ HOST("HDR_EQUALS", "\"a.example.com\""), "b.example.com", "/", NULL, .want = false },
		/* The port of the Host header is not part of the name. */
		{ HOST("HDR_EQUALS", "\"a.example.com\""), "a.example.com:8080", "/", NULL, .want = true },
		{ HOST("HDR_EQUALS", "\"[2001:db8::1]\""), "[2001:db8::1]:80", "/", NULL, .want = true },
		{ HOST("HDR_DOES_NOT_EQUAL", "\"a.example.com\""), "b.example.com", "/", NULL, .want = true },
		{ HOST("HDR_DOES_NOT_EQUAL", "\"a.example.com\""), "a.example.com", "/", NULL, .want = false },
		/* An absent host satisfies every negation: it equals nothing. */
		{ HOST("HDR_DOES_NOT_EQUAL", "\"a.example.com\""), NULL, "/", NULL, .want = true },
		{ HOST("HDR_EQUALS", "\"a.example.com\""), NULL, "/", NULL, .want = false },
		{ HOST("HDR_BEGINS_WITH", "\"api.\""), "api.example.com", "/", NULL, .want = true },
		{ HOST("HDR_BEGINS_WITH", "\"api.\""), "www.example.com", "/", NULL, .want = false },
		{ HOST("HDR_DOES_NOT_BEGIN_WITH", "\"api.\""), "www.example.com", "/", NULL, .want = true },
		{ HOST("HDR_DOES_NOT_BEGIN_WITH", "\"api.\""), "api.example.com", "/", NULL, .want = false },
		{ HOST("HDR_CONTAINS", "\"example\""), "api.example.com", "/", NULL, .want = true },
		{ HOST("HDR_CONTAINS", "\"example\""), "api.other.com", "/", NULL, .want = false },
		{ HOST("HDR_DOES_NOT_CONTAIN", "\"example\""), "api.other.com", "/", NULL, .want = true },
		{ HOST("HDR_DOES_NOT_CONTAIN", "\"example\""), "api.example.com", "/", NULL, .want = false },
		{ HOST("HDR_ENDS_WITH", "\".com\""), "api.example.com", "/", NULL, .want = true },
		{ HOST("HDR_ENDS_WITH", "\".com\""), "api.example.org", "/", NULL, .want = false },
		{ HOST("HDR_DOES_NOT_END_WITH", "\".com\""), "api.example.org", "/", NULL, .want = true },
		{ HOST("HDR_DOES_NOT_END_WITH", "\".com\""), "api.example.com", "/", NULL, .want = false },
		{ HOST("HDR_EQUALS", "\"A.Example.COM\""), "a.example.com", "/", NULL, .want = true },
		{ HOSTC("HDR_EQUALS", "\"A.Example.COM\"", "SENSITIVE"), "a.example.com", "/", NULL, .want = false },
		{ HOST("HDR_EQUALS", "\"x\",\"y\",\"a.example.com\""), "a.example.com", "/", NULL, .want = true },
	};
	run(c, N(c));
}

#define QUERY(crit, strs) "\"query\":{\"match_criteria\":\"" crit "\",\"match_str\":[" strs "]}"

Test(policy_match, query_every_criterion)
{
	static const struct mcase c[] = {
		{ QUERY("QUERY_MATCH_CONTAINS", "\"debug=1\""), NULL, "/", "a=2&debug=1", .want = true },
		{ QUERY("QUERY_MATCH_CONTAINS", "\"debug=1\""), NULL, "/", "a=2", .want = false },
		{ QUERY("QUERY_MATCH_CONTAINS", "\"debug=1\""), NULL, "/", NULL, .want = false },
		{ QUERY("QUERY_MATCH_DOES_NOT_CONTAIN", "\"debug\""), NULL, "/", "a=2", .want = true },
		{ QUERY("QUERY_MATCH_DOES_NOT_CONTAIN", "\"debug\""), NULL, "/", "debug", .want = false },
		{ "\"query\":{\"match_criteria\":\"QUERY_MATCH_EXISTS\"}", NULL, "/", "a", .want = true },
		{ "\"query\":{\"match_criteria\":\"QUERY_MATCH_EXISTS\"}", NULL, "/", NULL, .want = false },
		{ "\"query\":{\"match_criteria\":\"QUERY_MATCH_DOES_NOT_EXIST\"}", NULL, "/", NULL, .want = true },
		{ "\"query\":{\"match_criteria\":\"QUERY_MATCH_DOES_NOT_EXIST\"}", NULL, "/", "a", .want = false },
		{ QUERY("QUERY_MATCH_BEGINS_WITH", "\"a=\""), NULL, "/", "a=1", .want = true },
		{ QUERY("QUERY_MATCH_BEGINS_WITH", "\"a=\""), NULL, "/", "b=1", .want = false },
		{ QUERY("QUERY_MATCH_DOES_NOT_BEGIN_WITH", "\"a=\""), NULL, "/", "b=1", .want = true },
		{ QUERY("QUERY_MATCH_DOES_NOT_BEGIN_WITH", "\"a=\""), NULL, "/", "a=1", .want = false },
		{ QUERY("QUERY_MATCH_ENDS_WITH", "\"=1\""), NULL, "/", "a=1", .want = true },
		{ QUERY("QUERY_MATCH_ENDS_WITH", "\"=1\""), NULL, "/", "a=2", .want = false },
		{ QUERY("QUERY_MATCH_DOES_NOT_END_WITH", "\"=1\""), NULL, "/", "a=2", .want = true },
		{ QUERY("QUERY_MATCH_DOES_NOT_END_WITH", "\"=1\""), NULL, "/", "a=1", .want = false },
		{ QUERY("QUERY_MATCH_EQUALS", "\"a=1\""), NULL, "/", "A=1", .want = true },
		{ QUERY("QUERY_MATCH_EQUALS", "\"a=1\""), NULL, "/", "a=11", .want = false },
		{ QUERY("QUERY_MATCH_DOES_NOT_EQUAL", "\"a=1\""), NULL, "/", "a=11", .want = true },
		{ QUERY("QUERY_MATCH_DOES_NOT_EQUAL", "\"a=1\""), NULL, "/", "a=1", .want = false },
		{ QUERY("QUERY_MATCH_REGEX_MATCH", "\"(^|&)id=[0-9]+(&|$)\""), NULL, "/", "x=1&id=7", .want = true },
		{ QUERY("QUERY_MATCH_REGEX_MATCH", "\"(^|&)id=[0-9]+(&|$)\""), NULL, "/", "xid=7", .want = false },
		{ QUERY("QUERY_MATCH_REGEX_DOES_NOT_MATCH", "\"id=\""), NULL, "/", "x=1", .want = true },
		{ QUERY("QUERY_MATCH_REGEX_DOES_NOT_MATCH", "\"id=\""), NULL, "/", "id=1", .want = false },
	};
	run(c, N(c));
}

#define HDR(name, crit, vals) "\"hdrs\":[{\"hdr\":\"" name "\",\"match_criteria\":\"" crit "\",\"value\":[" vals "]}]"

Test(policy_match, headers_every_criterion)
{
	static const struct mcase c[] = {
		{ "\"hdrs\":[{\"hdr\":\"X-Canary\",\"match_criteria\":\"HDR_EXISTS\"}]", "h", "/", NULL, "x-canary", "",
		  .want = true },
		{ "\"hdrs\":[{\"hdr\":\"X-Canary\",\"match_criteria\":\"HDR_EXISTS\"}]", "h", "/", NULL, "x-other", "1",
		  .want = false },
		{ "\"hdrs\":[{\"hdr\":\"X-Canary\",\"match_criteria\":\"HDR_DOES_NOT_EXIST\"}]", "h", "/", NULL, "x-other",
		  "1", .want = true },
		{ "\"hdrs\":[{\"hdr\":\"X-Canary\",\"match_criteria\":\"HDR_DOES_NOT_EXIST\"}]", "h", "/", NULL, "X-CANARY",
		  "1", .want = false },
		{ HDR("User-Agent", "HDR_BEGINS_WITH", "\"curl/\""), "h", "/", NULL, "User-Agent", "curl/8.0", .want = true },
		{ HDR("User-Agent", "HDR_BEGINS_WITH", "\"curl/\""), "h", "/", NULL, "User-Agent", "wget", .want = false },
		{ HDR("User-Agent", "HDR_DOES_NOT_BEGIN_WITH", "\"curl/\""), "h", "/", NULL, "User-Agent", "wget",
		  .want = true },
		{ HDR("User-Agent", "HDR_DOES_NOT_BEGIN_WITH", "\"curl/\""), "h", "/", NULL, "User-Agent", "curl/1",
		  .want = false },
		{ HDR("Accept", "HDR_CONTAINS", "\"json\""), "h", "/", NULL, "Accept", "application/json", .want = true },
		{ HDR("Accept", "HDR_CONTAINS", "\"json\""), "h", "/", NULL, "Accept", "text/html", .want = false },
		{ HDR("Accept", "HDR_DOES_NOT_CONTAIN", "\"json\""), "h", "/", NULL, "Accept", "text/html", .want = true },
		{ HDR("Accept", "HDR_DOES_NOT_CONTAIN", "\"json\""), "h", "/", NULL, "Accept", "a/json", .want = false },
		{ HDR("Accept", "HDR_ENDS_WITH", "\"/html\""), "h", "/", NULL, "Accept", "text/html", .want = true },
		{ HDR("Accept", "HDR_ENDS_WITH", "\"/html\""), "h", "/", NULL, "Accept", "text/xml", .want = false },
		{ HDR("Accept", "HDR_DOES_NOT_END_WITH", "\"/html\""), "h", "/", NULL, "Accept", "text/xml", .want = true },
		{ HDR("Accept", "HDR_DOES_NOT_END_WITH", "\"/html\""), "h", "/", NULL, "Accept", "text/html",
		  .want = false },
		{ HDR("X-Env", "HDR_EQUALS", "\"prod\""), "h", "/", NULL, "x-env", "PROD", .want = true },
		{ HDR("X-Env", "HDR_EQUALS", "\"prod\""), "h", "/", NULL, "x-env", "prod2", .want = false },
		{ HDR("X-Env", "HDR_DOES_NOT_EQUAL", "\"prod\""), "h", "/", NULL, "x-env", "dev", .want = true },
		{ HDR("X-Env", "HDR_DOES_NOT_EQUAL", "\"prod\""), "h", "/", NULL, "x-env", "prod", .want = false },
		{ HDR("X-Env", "HDR_DOES_NOT_EQUAL", "\"prod\""), "h", "/", NULL, NULL, NULL, .want = true },
		{ "\"hdrs\":[{\"hdr\":\"X-Env\",\"match_criteria\":\"HDR_EQUALS\",\"match_case\":\"SENSITIVE\",\"value\":[\"prod\"]}]",
		  "h", "/", NULL, "x-env", "PROD", .want = false },
		/* Any occurrence of a repeated header may match. */
		{ HDR("X-Tag", "HDR_EQUALS", "\"b\""), "h", "/", NULL, "X-Tag", "a", "X-Tag", "b", .want = true },
		{ HDR("X-Tag", "HDR_DOES_NOT_EQUAL", "\"b\""), "h", "/", NULL, "X-Tag", "a", "X-Tag", "b", .want = false },
		/* Several hdrs[] entries must all pass. */
		{ "\"hdrs\":[{\"hdr\":\"A\",\"match_criteria\":\"HDR_EXISTS\"},{\"hdr\":\"B\",\"match_criteria\":\"HDR_EXISTS\"}]",
		  "h", "/", NULL, "A", "1", "B", "2", .want = true },
		{ "\"hdrs\":[{\"hdr\":\"A\",\"match_criteria\":\"HDR_EXISTS\"},{\"hdr\":\"B\",\"match_criteria\":\"HDR_EXISTS\"}]",
		  "h", "/", NULL, "A", "1", "C", "2", .want = false },
	};
	run(c, N(c));
}

/* Avi's CookieMatch names the cookie in "key"; "name" (this engine's first
 * spelling) is read when "key" is absent: the HDR_EXISTS cases use it */
#define COOKIE(name, crit, val) \
	"\"cookie\":{\"key\":\"" name "\",\"match_criteria\":\"" crit "\",\"value\":\"" val "\"}"

Test(policy_match, cookie_every_criterion)
{
	static const struct mcase c[] = {
		{ "\"cookie\":{\"name\":\"sid\",\"match_criteria\":\"HDR_EXISTS\"}", "h", "/", NULL, "Cookie", "a=1; sid=xyz",
		  .want = true },
		{ "\"cookie\":{\"name\":\"sid\",\"match_criteria\":\"HDR_EXISTS\"}", "h", "/", NULL, "Cookie", "a=1; xsid=1",
		  .want = false },
		{ "\"cookie\":{\"name\":\"sid\",\"match_criteria\":\"HDR_DOES_NOT_EXIST\"}", "h", "/", NULL, NULL, NULL,
		  .want = true },
		{ "\"cookie\":{\"name\":\"sid\",\"match_criteria\":\"HDR_DOES_NOT_EXIST\"}", "h", "/", NULL, "Cookie", "sid=",
		  .want = false },
		{ COOKIE("v", "HDR_EQUALS", "beta"), "h", "/", NULL, "Cookie", "a=1;v=beta", .want = true },
		{ COOKIE("v", "HDR_EQUALS", "beta"), "h", "/", NULL, "Cookie", "a=1;v=\"beta\"", .want = true },
		{ COOKIE("v", "HDR_EQUALS", "beta"), "h", "/", NULL, "Cookie", "V=beta", .want = false },
		{ COOKIE("v", "HDR_DOES_NOT_EQUAL", "beta"), "h", "/", NULL, "Cookie", "v=alpha", .want = true },
		{ COOKIE("v", "HDR_DOES_NOT_EQUAL", "beta"), "h", "/", NULL, "Cookie", "v=beta", .want = false },
		{ COOKIE("v", "HDR_BEGINS_WITH", "be"), "h", "/", NULL, "Cookie", "x=1", "Cookie", "v=BETA", .want = true },
		{ COOKIE("v", "HDR_BEGINS_WITH", "be"), "h", "/", NULL, "Cookie", "v=alpha", .want = false },
		{ COOKIE("v", "HDR_DOES_NOT_BEGIN_WITH", "be"), "h", "/", NULL, "Cookie", "v=alpha", .want = true },
		{ COOKIE("v", "HDR_DOES_NOT_BEGIN_WITH", "be"), "h", "/", NULL, "Cookie", "v=beta", .want = false },
		{ COOKIE("v", "HDR_CONTAINS", "et"), "h", "/", NULL, "Cookie", "v=beta", .want = true },
		{ COOKIE("v", "HDR_CONTAINS", "et"), "h", "/", NULL, "Cookie", "v=alpha; et=1", .want = false },
		{ COOKIE("v", "HDR_DOES_NOT_CONTAIN", "et"), "h", "/", NULL, "Cookie", "v=alpha", .want = true },
		{ COOKIE("v", "HDR_DOES_NOT_CONTAIN", "et"), "h", "/", NULL, "Cookie", "v=beta", .want = false },
		{ COOKIE("v", "HDR_ENDS_WITH", "ta"), "h", "/", NULL, "Cookie", "v=beta ", .want = true },
		{ COOKIE("v", "HDR_ENDS_WITH", "ta"), "h", "/", NULL, "Cookie", "v=alpha", .want = false },
		{ COOKIE("v", "HDR_DOES_NOT_END_WITH", "ta"), "h", "/", NULL, "Cookie", "v=alpha", .want = true },
		{ COOKIE("v", "HDR_DOES_NOT_END_WITH", "ta"), "h", "/", NULL, "Cookie", "v=beta", .want = false },
		{ "\"cookie\":{\"name\":\"v\",\"match_criteria\":\"HDR_EQUALS\",\"match_case\":\"SENSITIVE\",\"value\":\"beta\"}",
		  "h", "/", NULL, "Cookie", "v=BETA", .want = false },
		/* key wins over name when both are given */
		{ "\"cookie\":{\"key\":\"v\",\"name\":\"w\",\"match_criteria\":\"HDR_EQUALS\",\"value\":\"1\"}",
		  "h", "/", NULL, "Cookie", "v=1", .want = true },
		{ "\"cookie\":{\"key\":\"v\",\"name\":\"w\",\"match_criteria\":\"HDR_EQUALS\",\"value\":\"1\"}",
		  "h", "/", NULL, "Cookie", "w=1", .want = false },
		{ "\"cookie\":{\"key\":\"sid\",\"match_criteria\":\"HDR_EXISTS\"}", "h", "/", NULL, "Cookie", "sid=1",
		  .want = true },
	};
	run(c, N(c));
}

/* Integer matches: run the same table with a request varied per case. */
static bool hit_req(const char *match, const char *method, uint16_t port, enum sl_policy_proto proto)
{
	struct treq t;
	treq_init(&t, method, "h", "/", NULL);
	t.r.vs_port = port;
	t.r.proto = proto;
	return tp_hit(match, &t);
}

Test(policy_match, vs_port_method_protocol)
{
	const char *in = "\"vs_port\":{\"match_criteria\":\"IS_IN\",\"ports\":[443,80,8080]}";
	const char *out = "\"vs_port\":{\"match_criteria\":\"IS_NOT_IN\",\"ports\":[443,80]}";
	cr_expect(hit_req(in, "GET", 80, SL_POLICY_HTTP));
	cr_expect(hit_req(in, "GET", 8080, SL_POLICY_HTTP));
	cr_expect(!hit_req(in, "GET", 81, SL_POLICY_HTTP));
	cr_expect(!hit_req(out, "GET", 443, SL_POLICY_HTTP));
	cr_expect(hit_req(out, "GET", 8443, SL_POLICY_HTTP));

	const char *m_in = "\"method\":{\"match_criteria\":\"IS_IN\",\"methods\":[\"HTTP_METHOD_POST\",\"HTTP_METHOD_PUT\"]}";
	const char *m_out = "\"method\":{\"match_criteria\":\"IS_NOT_IN\",\"methods\":[\"HTTP_METHOD_GET\",\"HTTP_METHOD_HEAD\"]}";
	cr_expect(hit_req(m_in, "POST", 80, SL_POLICY_HTTP));
	cr_expect(hit_req(m_in, "PUT", 80, SL_POLICY_HTTP));
	cr_expect(!hit_req(m_in, "GET", 80, SL_POLICY_HTTP));
	/* Methods are case-sensitive tokens (RFC 9110). */
	cr_expect(!hit_req(m_in, "post", 80, SL_POLICY_HTTP));
	cr_expect(!hit_req(m_out, "HEAD", 80, SL_POLICY_HTTP));
	cr_expect(hit_req(m_out, "DELETE", 80, SL_POLICY_HTTP));
	/* A method no config can name is outside every IS_IN list. */
	cr_expect(hit_req(m_out, "BREW", 80, SL_POLICY_HTTP));
	cr_expect(!hit_req(m_in, "BREW", 80, SL_POLICY_HTTP));
	const char *all = "\"method\":{\"match_criteria\":\"IS_IN\",\"methods\":[\"HTTP_METHOD_GET\",\"HTTP_METHOD_HEAD\","
			  "\"HTTP_METHOD_PUT\",\"HTTP_METHOD_DELETE\",\"HTTP_METHOD_POST\",\"HTTP_METHOD_OPTIONS\","
			  "\"HTTP_METHOD_TRACE\",\"HTTP_METHOD_CONNECT\",\"HTTP_METHOD_PATCH\"]}";
	static const char *const ms[] = { "GET", "HEAD", "PUT", "DELETE", "POST", "OPTIONS", "TRACE", "CONNECT", "PATCH" };
	for (unsigned i = 0; i < 9; i++)
		cr_expect(hit_req(all, ms[i], 80, SL_POLICY_HTTP), "%s", ms[i]);

	const char *p_https = "\"protocol\":{\"match_criteria\":\"IS_IN\",\"protocols\":\"HTTPS\"}";
	const char *p_not_https = "\"protocol\":{\"match_criteria\":\"IS_NOT_IN\",\"protocols\":\"HTTPS\"}";
	cr_expect(hit_req(p_https, "GET", 443, SL_POLICY_HTTPS));
	cr_expect(!hit_req(p_https, "GET", 80, SL_POLICY_HTTP));
	cr_expect(hit_req(p_not_https, "GET", 80, SL_POLICY_HTTP));
	cr_expect(!hit_req(p_not_https, "GET", 443, SL_POLICY_HTTPS));
}

/* Every present criterion must pass (AND); none present matches everything. */
Test(policy_match, criteria_combine_with_and)
{
	const char *m = HOST("HDR_EQUALS", "\"a\"") "," PATH("BEGINS_WITH", "\"/x\"") ","
			"\"vs_port\":{\"match_criteria\":\"IS_IN\",\"ports\":[80]}";
	struct treq t;
	treq_init(&t, "GET", "a", "/x/1", NULL);
	cr_expect(tp_hit(m, &t));
	treq_init(&t, "GET", "b", "/x/1", NULL);
	cr_expect(!tp_hit(m, &t));
	treq_init(&t, "GET", "a", "/y", NULL);
	cr_expect(!tp_hit(m, &t));
	treq_init(&t, "GET", "a", "/x", NULL);
	t.r.vs_port = 81;
	cr_expect(!tp_hit(m, &t));
	treq_init(&t, "GET", NULL, "/anything", NULL);
	cr_expect(tp_hit("", &t));
}
