/* Compiles an Avi HTTPPolicySet into the rule tables of policy_priv.h.  Runs
 * on the control thread; every refusal names the JSON path of the field. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_priv.h"

/* ---- arena: one free for the whole set ---- */

struct pol_block {
	struct pol_block *next;
	size_t used, cap;
	max_align_t data[];
};

static void *arena_alloc(struct pol_block **head, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct pol_block *b = *head;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 16384 ? n : 16384;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = *head;
		b->used = 0;
		b->cap = cap;
		*head = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

/* ---- compile context and error paths ---- */

struct cc {
	struct sl_policy_set *set;
	char path[512];
	size_t plen;
	char *err_path, *err_msg;
	size_t pathlen, msglen;
	int err;                 /* errno of the failure */
	pcre2_compile_context *cctx;
	bool jit_ok;             /* this build of PCRE2 has a JIT for this CPU */
};

/* Appends to the JSON path; returns the length to pop back to.  A path
 * longer than the buffer is cut, never overflowed. */
static size_t push(struct cc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t push(struct cc *c, const char *fmt, ...)
{
	size_t m = c->plen;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(c->path + m, sizeof(c->path) - m, fmt, ap);
	va_end(ap);
	if (w > 0)
		c->plen = m + (size_t)w < sizeof(c->path) ? m + (size_t)w : sizeof(c->path) - 1;
	return m;
}

#define push_key(c, k) push((c), (c)->plen ? ".%s" : "%s", (k))
#define push_idx(c, i) push((c), "[%zu]", (size_t)(i))

static void pop(struct cc *c, size_t m)
{
	c->plen = m;
	c->path[m] = 0;
}

static int fail(struct cc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct cc *c, const char *fmt, ...)
{
	if (c->err_path && c->pathlen)
		snprintf(c->err_path, c->pathlen, "%s", c->path);
	if (c->err_msg && c->msglen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err_msg, c->msglen, fmt, ap);
		va_end(ap);
	}
	c->err = EINVAL;
	return -EINVAL;
}

/* The same message at c->path + "." + key. */
#define FAIL_AT(c, key, ...) (push_key((c), (key)), fail((c), __VA_ARGS__))

static int oom(struct cc *c)
{
	fail(c, "out of memory");
	c->err = ENOMEM;
	return -ENOMEM;
}

static void *cc_alloc(struct cc *c, size_t n)
{
	return arena_alloc(&c->set->mem, n ? n : 1);
}

static const char *cc_strndup(struct cc *c, const char *s, size_t n, bool fold)
{
	char *d = cc_alloc(c, n + 1);
	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++)
		d[i] = fold && s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	d[n] = 0;
	return d;
}

/* ---- typed field access ---- */

/* Optional object at key: NULL when absent or null, else must be an object. */
static int get_obj(struct cc *c, const json_t *o, const char *key, bool required, const json_t **out)
{
	const json_t *x = json_object_get(o, key);
	*out = NULL;
	if (!x || json_is_null(x))
		return required ? FAIL_AT(c, key, "missing required field") : 0;
	if (!json_is_object(x))
		return FAIL_AT(c, key, "expected an object");
	*out = x;
	return 0;
}

static int get_arr(struct cc *c, const json_t *o, const char *key, bool required, size_t max, const json_t **out)
{
	const json_t *x = json_object_get(o, key);
	*out = NULL;
	if (!x || json_is_null(x))
		return required ? FAIL_AT(c, key, "missing required field") : 0;
	if (!json_is_array(x))
		return FAIL_AT(c, key, "expected an array");
	if (json_array_size(x) > max)
		return FAIL_AT(c, key, "more than %zu items", max);
	*out = x;
	return 0;
}

static int get_str(struct cc *c, const json_t *o, const char *key, bool required, size_t max, const char **out,
		   size_t *len)
{
	const json_t *x = json_object_get(o, key);
	*out = NULL;
	*len = 0;
	if (!x || json_is_null(x))
		return required ? FAIL_AT(c, key, "missing required field") : 0;
	if (!json_is_string(x))
		return FAIL_AT(c, key, "expected a string");
	if (json_string_length(x) > max)
		return FAIL_AT(c, key, "longer than %zu characters", max);
	*out = json_string_value(x);
	*len = json_string_length(x);
	return 0;
}

static int get_bool(struct cc *c, const json_t *o, const char *key, bool def, bool *out)
{
	const json_t *x = json_object_get(o, key);
	*out = def;
	if (!x || json_is_null(x))
		return 0;
	if (!json_is_boolean(x))
		return FAIL_AT(c, key, "expected a boolean");
	*out = json_is_true(x);
	return 0;
}

static int get_int(struct cc *c, const json_t *o, const char *key, bool required, long long lo, long long hi,
		   long long def, long long *out)
{
	const json_t *x = json_object_get(o, key);
	*out = def;
	if (!x || json_is_null(x))
		return required ? FAIL_AT(c, key, "missing required field") : 0;
	if (!json_is_integer(x))
		return FAIL_AT(c, key, "expected an integer");
	long long v = json_integer_value(x);
	if (v < lo || v > hi)
		return FAIL_AT(c, key, "%lld is outside %lld..%lld", v, lo, hi);
	*out = v;
	return 0;
}

struct enm {
	const char *s;
	int v;
};

static int get_enum(struct cc *c, const json_t *o, const char *key, bool required, const struct enm *tab, int def,
		    int *out)
{
	const json_t *x = json_object_get(o, key);
	*out = def;
	if (!x || json_is_null(x))
		return required ? FAIL_AT(c, key, "missing required field") : 0;
	if (!json_is_string(x))
		return FAIL_AT(c, key, "expected a string");
	for (const struct enm *e = tab; e->s; e++) {
		if (!strcmp(e->s, json_string_value(x))) {
			*out = e->v;
			return 0;
		}
	}
	return FAIL_AT(c, key, "unknown value \"%.100s\"", json_string_value(x));
}

/* ---- enum tables (Avi spellings) ---- */

#define CRIT(op, neg) ((op) << 1 | (neg))

static const struct enm crit_path[] = {
	{ "BEGINS_WITH", CRIT(OP_BEGINS, 0) }, { "DOES_NOT_BEGIN_WITH", CRIT(OP_BEGINS, 1) },
	{ "CONTAINS", CRIT(OP_CONTAINS, 0) },  { "DOES_NOT_CONTAIN", CRIT(OP_CONTAINS, 1) },
	{ "ENDS_WITH", CRIT(OP_ENDS, 0) },     { "DOES_NOT_END_WITH", CRIT(OP_ENDS, 1) },
	{ "EQUALS", CRIT(OP_EQUALS, 0) },      { "DOES_NOT_EQUAL", CRIT(OP_EQUALS, 1) },
	{ "REGEX_MATCH", CRIT(OP_REGEX, 0) },  { "REGEX_DOES_NOT_MATCH", CRIT(OP_REGEX, 1) },
	{ NULL, 0 }
};

static const struct enm crit_hdr[] = {
	{ "HDR_EXISTS", CRIT(OP_EXISTS, 0) },       { "HDR_DOES_NOT_EXIST", CRIT(OP_EXISTS, 1) },
	{ "HDR_BEGINS_WITH", CRIT(OP_BEGINS, 0) },  { "HDR_DOES_NOT_BEGIN_WITH", CRIT(OP_BEGINS, 1) },
	{ "HDR_CONTAINS", CRIT(OP_CONTAINS, 0) },   { "HDR_DOES_NOT_CONTAIN", CRIT(OP_CONTAINS, 1) },
	{ "HDR_ENDS_WITH", CRIT(OP_ENDS, 0) },      { "HDR_DOES_NOT_END_WITH", CRIT(OP_ENDS, 1) },
	{ "HDR_EQUALS", CRIT(OP_EQUALS, 0) },       { "HDR_DOES_NOT_EQUAL", CRIT(OP_EQUALS, 1) },
	{ NULL, 0 }
};

/* Avi 20.1 has QUERY_MATCH_CONTAINS only; later releases add the rest. */
static const struct enm crit_query[] = {
	{ "QUERY_MATCH_CONTAINS", CRIT(OP_CONTAINS, 0) },   { "QUERY_MATCH_DOES_NOT_CONTAIN", CRIT(OP_CONTAINS, 1) },
	{ "QUERY_MATCH_EXISTS", CRIT(OP_EXISTS, 0) },       { "QUERY_MATCH_DOES_NOT_EXIST", CRIT(OP_EXISTS, 1) },
	{ "QUERY_MATCH_BEGINS_WITH", CRIT(OP_BEGINS, 0) },  { "QUERY_MATCH_DOES_NOT_BEGIN_WITH", CRIT(OP_BEGINS, 1) },
	{ "QUERY_MATCH_ENDS_WITH", CRIT(OP_ENDS, 0) },      { "QUERY_MATCH_DOES_NOT_END_WITH", CRIT(OP_ENDS, 1) },
	{ "QUERY_MATCH_EQUALS", CRIT(OP_EQUALS, 0) },       { "QUERY_MATCH_DOES_NOT_EQUAL", CRIT(OP_EQUALS, 1) },
	{ "QUERY_MATCH_REGEX_MATCH", CRIT(OP_REGEX, 0) },   { "QUERY_MATCH_REGEX_DOES_NOT_MATCH", CRIT(OP_REGEX, 1) },
	{ NULL, 0 }
};

static const struct enm crit_in[] = { { "IS_IN", 0 }, { "IS_NOT_IN", 1 }, { NULL, 0 } };
static const struct enm match_case[] = { { "SENSITIVE", 0 }, { "INSENSITIVE", 1 }, { NULL, 0 } };
static const struct enm protos[] = { { "HTTP", SL_POLICY_HTTP }, { "HTTPS", SL_POLICY_HTTPS }, { NULL, 0 } };

/* The nine methods of the control schema, then the WebDAV ones Avi added in 18.2.3. */
static const char *const methods[] = { "GET", "HEAD", "PUT", "DELETE", "POST", "OPTIONS", "TRACE", "CONNECT",
				       "PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK" };
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

uint32_t pol_method_bit(const char *m, size_t n)
{
	for (unsigned i = 0; i < N_METHODS; i++)
		if (strlen(methods[i]) == n && !memcmp(methods[i], m, n))
			return 1u << i;
	return POL_METHOD_OTHER;
}

static const struct enm switch_actions[] = {
	{ "HTTP_SWITCHING_SELECT_POOL", SL_POLICY_POOL },
	{ "HTTP_SWITCHING_SELECT_POOLGROUP", SL_POLICY_POOLGROUP },
	{ "HTTP_SWITCHING_SELECT_LOCAL", SL_POLICY_LOCAL },
	{ NULL, 0 }
};

static const struct enm local_codes[] = {
	{ "HTTP_LOCAL_RESPONSE_STATUS_CODE_200", 200 }, { "HTTP_LOCAL_RESPONSE_STATUS_CODE_204", 204 },
	{ "HTTP_LOCAL_RESPONSE_STATUS_CODE_403", 403 }, { "HTTP_LOCAL_RESPONSE_STATUS_CODE_404", 404 },
	{ "HTTP_LOCAL_RESPONSE_STATUS_CODE_429", 429 }, { "HTTP_LOCAL_RESPONSE_STATUS_CODE_501", 501 },
	{ NULL, 0 }
};

static const struct enm redirect_codes[] = {
	{ "HTTP_REDIRECT_STATUS_CODE_301", 301 }, { "HTTP_REDIRECT_STATUS_CODE_302", 302 },
	{ "HTTP_REDIRECT_STATUS_CODE_307", 307 }, { "HTTP_REDIRECT_STATUS_CODE_308", 308 },
	{ NULL, 0 }
};

static const struct enm hdr_ops[] = {
	{ "HTTP_ADD_HDR", SL_POLICY_HDR_ADD }, { "HTTP_REPLACE_HDR", SL_POLICY_HDR_REPLACE },
	{ "HTTP_REMOVE_HDR", SL_POLICY_HDR_REMOVE }, { NULL, 0 }
};

static const struct enm tok_types[] = {
	{ "URI_TOKEN_TYPE_HOST", TOK_HOST }, { "URI_TOKEN_TYPE_PATH", TOK_PATH }, { "URI_TOKEN_TYPE_STRING", TOK_STRING },
	{ "URI_TOKEN_TYPE_STRING_GROUP", -1 }, { "URI_TOKEN_TYPE_REGEX", -1 }, { "URI_TOKEN_TYPE_REGEX_QUERY", -1 },
	{ NULL, 0 }
};

/* RFC 9110 token characters: a header name outside them would corrupt the message. */
static bool is_token(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", ch)))
			return false;
	}
	return true;
}

/* No CR, LF or NUL: a value with them would split the message it is written into. */
static bool is_field_value(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == 0)
			return false;
	return true;
}

/* ---- regexes ---- */

static int compile_regex(struct cc *c, const char *pat, size_t n, bool icase, pcre2_code **out)
{
	if (c->set->n_re >= SL_POLICY_MAX_REGEX)
		return fail(c, "more than %d regexes in one policy set", SL_POLICY_MAX_REGEX);
	/* NEVER_UTF/UCP: paths are bytes, and a (*UTF) in the pattern would make
	 * invalid UTF-8 in a request an error instead of a non-match. */
	uint32_t opt = PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C | PCRE2_DOLLAR_ENDONLY;
	if (icase)
		opt |= PCRE2_CASELESS;
	int ec;
	PCRE2_SIZE eoff;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, n, opt, &ec, &eoff, c->cctx);
	if (!re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		return fail(c, "bad regex at offset %zu: %s", (size_t)eoff, (const char *)msg);
	}
	if (c->jit_ok) {
		int rc = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
		if (rc) {
			/* The interpreter would still run it under the limits, but a pattern the
			 * JIT rejects is one whose cost we cannot vouch for: refuse it. */
			PCRE2_UCHAR msg[160];
			pcre2_get_error_message(rc, msg, sizeof(msg));
			pcre2_code_free(re);
			return fail(c, "regex cannot be JIT-compiled: %s", (const char *)msg);
		}
	}
	if (c->set->n_re == c->set->cap_re) {
		uint32_t nc = c->set->cap_re ? c->set->cap_re * 2 : 8;
		pcre2_code **p = realloc(c->set->re, nc * sizeof(*p));
		if (!p) {
			pcre2_code_free(re);
			return oom(c);
		}
		c->set->re = p;
		c->set->cap_re = nc;
	}
	c->set->re[c->set->n_re++] = re;
	*out = re;
	return 0;
}

/* ---- matches ---- */

/* Strings of one match (match_str[] or value[]): any may match. */
static int compile_strs(struct cc *c, const json_t *arr, struct pol_smatch *m)
{
	size_t n = json_array_size(arr);
	m->s = cc_alloc(c, n * sizeof(*m->s));
	if (!m->s)
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		const json_t *x = json_array_get(arr, i);
		size_t mk = push_idx(c, i);
		if (!json_is_string(x))
			return fail(c, "expected a string");
		size_t l = json_string_length(x);
		if (l > SL_POLICY_MAX_STR_LEN)
			return fail(c, "longer than %d characters", SL_POLICY_MAX_STR_LEN);
		struct pol_str *s = &m->s[m->n];
		if (m->op == OP_REGEX) {
			if (!l)
				return fail(c, "empty regex");
			if (compile_regex(c, json_string_value(x), l, m->icase, &s->re))
				return -c->err;
			s->p = cc_strndup(c, json_string_value(x), l, false);
		} else {
			/* Folded once here so the fast path folds only the subject. */
			s->p = cc_strndup(c, json_string_value(x), l, m->icase);
		}
		if (!s->p)
			return oom(c);
		s->n = (uint32_t)l;
		m->n++;
		pop(c, mk);
	}
	return 0;
}

/* host_hdr, path, query, one hdrs[] element or cookie. */
static int compile_smatch(struct cc *c, const json_t *o, uint8_t field, struct pol_smatch *m)
{
	const struct enm *tab = field == F_PATH ? crit_path : field == F_QUERY ? crit_query : crit_hdr;
	int crit, mc;
	if (get_enum(c, o, "match_criteria", true, tab, 0, &crit) ||
	    get_enum(c, o, "match_case", false, match_case, 1, &mc))
		return -c->err;
	m->field = field;
	m->op = (uint8_t)(crit >> 1);
	m->neg = crit & 1;
	m->icase = mc == 1;
	if (field == F_HDR || field == F_COOKIE) {
		const char *nm;
		size_t nl;
		const char *key = field == F_HDR ? "hdr" : "key";
		/* Avi's CookieMatch names the cookie in "key"; "name", this
		 * engine's first spelling, is still read when "key" is absent */
		if (field == F_COOKIE && !json_object_get(o, "key") && json_object_get(o, "name"))
			key = "name";
		if (get_str(c, o, key, true, 256, &nm, &nl))
			return -c->err;
		if (!is_token(nm, nl))
			return FAIL_AT(c, key, "not a valid HTTP %s name", field == F_HDR ? "header" : "cookie");
		if (!(m->name = cc_strndup(c, nm, nl, false)))
			return oom(c);
		m->name_len = (uint32_t)nl;
	}
	const json_t *sg;
	if (get_arr(c, o, "string_group_refs", false, SL_POLICY_MAX_STRS, &sg))
		return -c->err;
	if (sg && json_array_size(sg))
		return FAIL_AT(c, "string_group_refs", "string groups are not supported");
	if (field == F_COOKIE) {
		/* CookieMatch has one value string, not an array. */
		const char *v;
		size_t vl;
		if (get_str(c, o, "value", false, SL_POLICY_MAX_STR_LEN, &v, &vl))
			return -c->err;
		if (m->op == OP_EXISTS)
			return 0;
		if (!v)
			return FAIL_AT(c, "value", "missing required field");
		m->s = cc_alloc(c, sizeof(*m->s));
		if (!m->s || !(m->s[0].p = cc_strndup(c, v, vl, m->icase)))
			return oom(c);
		m->s[0].n = (uint32_t)vl;
		m->n = 1;
		return 0;
	}
	const char *key = field == F_PATH || field == F_QUERY ? "match_str" : "value";
	const json_t *arr;
	if (get_arr(c, o, key, false, SL_POLICY_MAX_STRS, &arr))
		return -c->err;
	if (m->op == OP_EXISTS)
		return 0;
	if (!arr || !json_array_size(arr))
		return FAIL_AT(c, key, "at least one string is required for this match_criteria");
	size_t mk = push_key(c, key);
	if (compile_strs(c, arr, m))
		return -c->err;
	pop(c, mk);
	return 0;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int compile_ports(struct cc *c, const json_t *o, struct pol_rule *r)
{
	int neg;
	const json_t *arr;
	if (get_enum(c, o, "match_criteria", true, crit_in, 0, &neg) ||
	    get_arr(c, o, "ports", true, SL_POLICY_MAX_STRS, &arr))
		return -c->err;
	size_t n = json_array_size(arr);
	if (!n)
		return FAIL_AT(c, "ports", "at least one port is required");
	if (!(r->ports = cc_alloc(c, n * sizeof(*r->ports))))
		return oom(c);
	size_t mk = push_key(c, "ports");
	for (size_t i = 0; i < n; i++) {
		const json_t *x = json_array_get(arr, i);
		size_t m2 = push_idx(c, i);
		if (!json_is_integer(x) || json_integer_value(x) < 1 || json_integer_value(x) > 65535)
			return fail(c, "expected a port 1..65535");
		r->ports[i] = (uint16_t)json_integer_value(x);
		pop(c, m2);
	}
	pop(c, mk);
	qsort(r->ports, n, sizeof(*r->ports), cmp_u16);
	r->n_ports = (uint32_t)n;
	r->has_port = true;
	r->port_neg = neg;
	return 0;
}

static int compile_methods(struct cc *c, const json_t *o, struct pol_rule *r)
{
	int neg;
	const json_t *arr;
	if (get_enum(c, o, "match_criteria", true, crit_in, 0, &neg) ||
	    get_arr(c, o, "methods", true, 64, &arr))
		return -c->err;
	if (!json_array_size(arr))
		return FAIL_AT(c, "methods", "at least one method is required");
	size_t mk = push_key(c, "methods");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *x = json_array_get(arr, i);
		size_t m2 = push_idx(c, i);
		const char *s = json_string_value(x);
		if (!s)
			return fail(c, "expected a string");
		uint32_t bit = POL_METHOD_OTHER;
		if (!strncmp(s, "HTTP_METHOD_", 12))
			bit = pol_method_bit(s + 12, strlen(s + 12));
		if (bit == POL_METHOD_OTHER)
			return fail(c, "unknown value \"%.100s\"", s);
		r->methods |= bit;
		pop(c, m2);
	}
	pop(c, mk);
	r->has_method = true;
	r->method_neg = neg;
	return 0;
}

static int compile_proto(struct cc *c, const json_t *o, struct pol_rule *r)
{
	int neg, p;
	if (get_enum(c, o, "match_criteria", true, crit_in, 0, &neg) ||
	    get_enum(c, o, "protocols", true, protos, 0, &p))
		return -c->err;
	r->has_proto = true;
	r->proto_neg = neg;
	r->proto = (uint8_t)p;
	return 0;
}

static const char *const match_keys[] = { "host_hdr", "path", "query", "hdrs", "cookie", "vs_port", "method",
					  "protocol", NULL };

static int compile_match(struct cc *c, const json_t *m, struct pol_rule *r)
{
	/* An unknown match silently ignored would make the rule match more than
	 * its author meant (e.g. client_ip): refuse what we do not evaluate. */
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)m, k, v) {
		bool known = false;
		for (const char *const *p = match_keys; *p; p++)
			known |= !strcmp(*p, k);
		if (!known)
			return FAIL_AT(c, k, "unsupported match");
	}
	const json_t *hdrs;
	if (get_arr(c, m, "hdrs", false, 64, &hdrs))
		return -c->err;
	size_t nsm = 4 + (hdrs ? json_array_size(hdrs) : 0);
	if (!(r->sm = cc_alloc(c, nsm * sizeof(*r->sm))))
		return oom(c);
	static const struct { const char *key; uint8_t field; } one[] = {
		{ "host_hdr", F_HOST }, { "path", F_PATH }, { "query", F_QUERY }, { "cookie", F_COOKIE },
	};
	for (unsigned i = 0; i < 4; i++) {
		const json_t *o;
		if (get_obj(c, m, one[i].key, false, &o))
			return -c->err;
		if (!o)
			continue;
		size_t mk = push_key(c, one[i].key);
		if (compile_smatch(c, o, one[i].field, &r->sm[r->n_sm]))
			return -c->err;
		r->n_sm++;
		pop(c, mk);
	}
	if (hdrs) {
		size_t mk = push_key(c, "hdrs");
		for (size_t i = 0; i < json_array_size(hdrs); i++) {
			const json_t *o = json_array_get(hdrs, i);
			size_t m2 = push_idx(c, i);
			if (!json_is_object(o))
				return fail(c, "expected an object");
			if (compile_smatch(c, o, F_HDR, &r->sm[r->n_sm]))
				return -c->err;
			r->n_sm++;
			pop(c, m2);
		}
		pop(c, mk);
	}
	static const struct { const char *key; int (*fn)(struct cc *, const json_t *, struct pol_rule *); } other[] = {
		{ "vs_port", compile_ports }, { "method", compile_methods }, { "protocol", compile_proto },
	};
	for (unsigned i = 0; i < 3; i++) {
		const json_t *o;
		if (get_obj(c, m, other[i].key, false, &o))
			return -c->err;
		if (!o)
			continue;
		size_t mk = push_key(c, other[i].key);
		if (other[i].fn(c, o, r))
			return -c->err;
		pop(c, mk);
	}
	return 0;
}

/* ---- actions ---- */

static int compile_switching(struct cc *c, const json_t *o, struct pol_rule *r)
{
	int act;
	if (get_enum(c, o, "action", true, switch_actions, 0, &act))
		return -c->err;
	r->decision = (uint8_t)act;
	if (act == SL_POLICY_POOL || act == SL_POLICY_POOLGROUP) {
		const char *key = act == SL_POLICY_POOL ? "pool_ref" : "pool_group_ref";
		enum sl_policy_ref_kind kind = act == SL_POLICY_POOL ? SL_POLICY_REF_POOL : SL_POLICY_REF_POOLGROUP;
		const char *ref;
		size_t rl;
		if (get_str(c, o, key, true, 1024, &ref, &rl))
			return -c->err;
		if (!rl)
			return FAIL_AT(c, key, "missing required field");
		if (!(r->target_ref = cc_strndup(c, ref, rl, false)))
			return oom(c);
		r->ref_kind = (uint8_t)kind;
		return 0;
	}
	int st;
	if (get_enum(c, o, "status_code", false, local_codes, 200, &st))
		return -c->err;
	r->local.status = (uint16_t)st;
	const json_t *f;
	if (get_obj(c, o, "file", false, &f))
		return -c->err;
	if (!f)
		return 0;
	size_t mk = push_key(c, "file");
	const char *ct, *body;
	size_t ctl, bl;
	long long flen;
	if (get_str(c, f, "content_type", true, 128, &ct, &ctl) ||
	    get_str(c, f, "file_content", false, 1048576, &body, &bl) ||
	    get_int(c, f, "file_length", false, 0, 1048576, -1, &flen))
		return -c->err;
	if (!is_field_value(ct, ctl))
		return FAIL_AT(c, "content_type", "CR, LF or NUL in a header value");
	if (flen >= 0 && (size_t)flen != bl)
		return FAIL_AT(c, "file_length", "%lld differs from the length of file_content (%zu)", flen, bl);
	if (!(r->local.content_type = cc_strndup(c, ct, ctl, false)) ||
	    !(r->local.body = cc_strndup(c, body ? body : "", bl, false)))
		return oom(c);
	r->local.body_len = bl;
	pop(c, mk);
	return 0;
}

static int compile_uri_param(struct cc *c, const json_t *o, bool host, struct pol_tok **out, uint32_t *n_out)
{
	static const struct enm types[] = { { "URI_PARAM_TYPE_TOKENIZED", 0 }, { NULL, 0 } };
	int t;
	const json_t *arr;
	if (get_enum(c, o, "type", true, types, 0, &t) || get_arr(c, o, "tokens", false, 64, &arr))
		return -c->err;
	size_t n = arr ? json_array_size(arr) : 0;
	if (!n)
		return FAIL_AT(c, "tokens", "at least one token is required");
	struct pol_tok *tk = cc_alloc(c, n * sizeof(*tk));
	if (!tk)
		return oom(c);
	size_t mk = push_key(c, "tokens");
	for (size_t i = 0; i < n; i++) {
		const json_t *x = json_array_get(arr, i);
		size_t m2 = push_idx(c, i);
		if (!json_is_object(x))
			return fail(c, "expected an object");
		int ty;
		long long s, e;
		const char *sv;
		size_t sl;
		if (get_enum(c, x, "type", true, tok_types, 0, &ty))
			return -c->err;
		if (ty < 0)
			return FAIL_AT(c, "type", "token type not supported");
		if (get_int(c, x, "start_index", false, 0, 65535, 0, &s) ||
		    get_int(c, x, "end_index", false, 0, 65535, 65535, &e) ||
		    get_str(c, x, "str_value", ty == TOK_STRING, SL_POLICY_MAX_STR_LEN, &sv, &sl))
			return -c->err;
		if (e < s)
			return FAIL_AT(c, "end_index", "end_index %lld before start_index %lld", e, s);
		if (ty == TOK_STRING) {
			/* Host strings also must not carry '/', '?' or '#': they would move the
			 * boundary between authority and path in the Location we build. */
			for (size_t k = 0; k < sl; k++) {
				unsigned char ch = (unsigned char)sv[k];
				if (ch <= 0x20 || ch == 0x7f || (host && strchr("/?#@", ch)))
					return FAIL_AT(c, "str_value", "character 0x%02x not allowed in a redirect %s",
						       ch, host ? "host" : "path");
			}
			if (!(tk[i].s = cc_strndup(c, sv, sl, false)))
				return oom(c);
			tk[i].n = (uint32_t)sl;
		}
		tk[i].type = (uint8_t)ty;
		tk[i].start = (uint16_t)s;
		tk[i].end = (uint16_t)e;
		pop(c, m2);
	}
	pop(c, mk);
	*out = tk;
	*n_out = (uint32_t)n;
	return 0;
}

static int compile_redirect(struct cc *c, const json_t *o, struct pol_rule *r)
{
	struct sl_policy_redirect *d = cc_alloc(c, sizeof(*d));
	if (!d)
		return oom(c);
	int proto, st;
	long long port;
	bool kq;
	if (get_enum(c, o, "protocol", true, protos, 0, &proto) ||
	    get_int(c, o, "port", false, 1, 65535, 0, &port) ||
	    get_bool(c, o, "keep_query", true, &kq) ||
	    get_enum(c, o, "status_code", false, redirect_codes, 302, &st))
		return -c->err;
	d->proto = (uint8_t)proto;
	/* The protocol's own port is left out of Location, as browsers print it. */
	d->port = (proto == SL_POLICY_HTTP && port == 80) || (proto == SL_POLICY_HTTPS && port == 443) ? 0
												     : (uint16_t)port;
	d->status = (uint16_t)st;
	d->keep_query = kq;
	static const char *const keys[] = { "host", "path" };
	for (unsigned i = 0; i < 2; i++) {
		const json_t *p;
		if (get_obj(c, o, keys[i], false, &p))
			return -c->err;
		if (!p)
			continue;
		size_t mk = push_key(c, keys[i]);
		if (compile_uri_param(c, p, i == 0, i == 0 ? &d->host : &d->path, i == 0 ? &d->n_host : &d->n_path))
			return -c->err;
		pop(c, mk);
		*(i == 0 ? &d->has_host : &d->has_path) = true;
	}
	r->redir = d;
	r->decision = SL_POLICY_REDIRECT;
	return 0;
}

static int compile_hdr_actions(struct cc *c, const json_t *arr, struct pol_rule *r, unsigned *total)
{
	size_t n = json_array_size(arr);
	if (!(r->hdr = cc_alloc(c, n * sizeof(*r->hdr))))
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		const json_t *x = json_array_get(arr, i);
		size_t mk = push_idx(c, i);
		if (!json_is_object(x))
			return fail(c, "expected an object");
		if (++*total > SL_POLICY_HDR_MAX)
			return fail(c, "more than %d header actions in this policy", SL_POLICY_HDR_MAX);
		struct sl_policy_hdr_action *a = &r->hdr[i];
		int op;
		const json_t *h, *v = NULL;
		if (get_enum(c, x, "action", true, hdr_ops, 0, &op) || get_obj(c, x, "hdr", true, &h))
			return -c->err;
		size_t m2 = push_key(c, "hdr");
		const char *nm, *val = NULL;
		size_t nl, vl = 0;
		if (get_str(c, h, "name", true, 256, &nm, &nl) || get_obj(c, h, "value", false, &v))
			return -c->err;
		if (!is_token(nm, nl))
			return FAIL_AT(c, "name", "not a valid HTTP header name");
		if (v) {
			size_t m3 = push_key(c, "value");
			bool sens;
			if (get_str(c, v, "val", false, 4096, &val, &vl) || get_bool(c, v, "is_sensitive", false, &sens))
				return -c->err;
			if (!is_field_value(val, vl))
				return FAIL_AT(c, "val", "CR, LF or NUL in a header value");
			a->sensitive = sens;
			pop(c, m3);
		}
		pop(c, m2);
		a->op = (enum sl_policy_hdr_op)op;
		if (!(a->name = cc_strndup(c, nm, nl, false)) ||
		    !(a->value = cc_strndup(c, op == SL_POLICY_HDR_REMOVE || !val ? "" : val,
					    op == SL_POLICY_HDR_REMOVE ? 0 : vl, false)))
			return oom(c);
		a->name_len = (uint32_t)nl;
		a->value_len = op == SL_POLICY_HDR_REMOVE ? 0 : (uint32_t)vl;
		r->n_hdr++;
		pop(c, mk);
	}
	return 0;
}

static const char *const rule_keys[] = { "name", "index", "enable", "log", "all_headers", "match",
					 "switching_action", "redirect_action", "hdr_action", NULL };

static int compile_rule(struct cc *c, const json_t *o, bool response, struct pol_rule *r, unsigned *hdr_total)
{
	if (!json_is_object(o))
		return fail(c, "expected an object");
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		bool known = false;
		for (const char *const *p = rule_keys; *p; p++)
			known |= !strcmp(*p, k);
		if (!known)
			return FAIL_AT(c, k, "unsupported field");
	}
	const char *nm;
	size_t nl;
	long long idx;
	bool en, dummy;
	if (get_str(c, o, "name", true, 256, &nm, &nl) || get_int(c, o, "index", true, 0, 65535, 0, &idx) ||
	    get_bool(c, o, "enable", true, &en) || get_bool(c, o, "log", false, &dummy) ||
	    get_bool(c, o, "all_headers", false, &dummy))
		return -c->err;
	if (!(r->name = cc_strndup(c, nm, nl, false)))
		return oom(c);
	r->index = (int32_t)idx;
	r->enable = en;
	r->target = -1;
	const json_t *m, *sw, *rd, *ha;
	if (get_obj(c, o, "match", false, &m) || get_obj(c, o, "switching_action", false, &sw) ||
	    get_obj(c, o, "redirect_action", false, &rd) || get_arr(c, o, "hdr_action", false, 64, &ha))
		return -c->err;
	if (m) {
		size_t mk = push_key(c, "match");
		if (compile_match(c, m, r))
			return -c->err;
		pop(c, mk);
	}
	if (response && (sw || rd))
		return FAIL_AT(c, sw ? "switching_action" : "redirect_action", "not allowed in a response rule");
	/* Avi: "the redirect action may not be stacked with other actions". */
	if (rd && (sw || (ha && json_array_size(ha))))
		return FAIL_AT(c, "redirect_action", "cannot be combined with %s",
			       sw ? "switching_action" : "hdr_action");
	if (sw) {
		size_t mk = push_key(c, "switching_action");
		if (compile_switching(c, sw, r))
			return -c->err;
		pop(c, mk);
	}
	if (rd) {
		size_t mk = push_key(c, "redirect_action");
		if (compile_redirect(c, rd, r))
			return -c->err;
		pop(c, mk);
	}
	if (ha) {
		size_t mk = push_key(c, "hdr_action");
		if (compile_hdr_actions(c, ha, r, hdr_total))
			return -c->err;
		pop(c, mk);
	}
	return 0;
}

static int cmp_rule(const void *a, const void *b)
{
	return ((const struct pol_rule *)a)->index - ((const struct pol_rule *)b)->index;
}

static int compile_policy(struct cc *c, const json_t *top, const char *key, bool response, struct pol_rule **out,
			  uint32_t *n_out)
{
	const json_t *p, *rules;
	if (get_obj(c, top, key, false, &p))
		return -c->err;
	if (!p)
		return 0;
	size_t mk = push_key(c, key);
	if (get_arr(c, p, "rules", false, SL_POLICY_MAX_RULES, &rules))
		return -c->err;
	size_t n = rules ? json_array_size(rules) : 0;
	struct pol_rule *r = cc_alloc(c, n * sizeof(*r));
	if (!r)
		return oom(c);
	unsigned hdr_total = 0;
	size_t m2 = push_key(c, "rules");
	for (size_t i = 0; i < n; i++) {
		size_t m3 = push_idx(c, i);
		r[i].pos = (uint32_t)i;
		if (compile_rule(c, json_array_get(rules, i), response, &r[i], &hdr_total))
			return -c->err;
		for (size_t j = 0; j < i; j++)
			if (r[j].index == r[i].index)
				return FAIL_AT(c, "index", "index %d already used by rules[%zu]", r[i].index, j);
		pop(c, m3);
	}
	pop(c, m2);
	pop(c, mk);
	qsort(r, n, sizeof(*r), cmp_rule);
	if (!response)
		for (size_t i = 0; i < n; i++)
			if (r[i].n_hdr)
				c->set->req_hdr_end = (uint32_t)i + 1;
	*out = r;
	*n_out = (uint32_t)n;
	return 0;
}

void sl_policy_free(struct sl_policy_set *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->n_re; i++)
		pcre2_code_free(s->re[i]);
	free(s->re);
	struct pol_block *b = s->mem;
	while (b) {
		struct pol_block *nx = b->next;
		free(b);
		b = nx;
	}
	free(s);
}

struct sl_policy_set *sl_policy_compile(const json_t *hps, char *err_path, size_t pathlen, char *err_msg,
					size_t msglen)
{
	struct cc c = { .err_path = err_path, .err_msg = err_msg, .pathlen = pathlen, .msglen = msglen };
	if (err_path && pathlen)
		err_path[0] = 0;
	if (err_msg && msglen)
		err_msg[0] = 0;
	c.set = calloc(1, sizeof(*c.set));
	if (!c.set) {
		errno = ENOMEM;
		return NULL;
	}
	uint32_t jit = 0;
	c.jit_ok = pcre2_config(PCRE2_CONFIG_JIT, &jit) >= 0 && jit;
	c.cctx = pcre2_compile_context_create(NULL);
	if (!c.cctx) {
		oom(&c);
		goto bad;
	}
	/* Nesting is where compile time and JIT code size blow up; 32 levels is
	 * far more than a path pattern needs. */
	pcre2_set_parens_nest_limit(c.cctx, 32);
	pcre2_set_max_pattern_length(c.cctx, SL_POLICY_MAX_STR_LEN);
	if (!json_is_object(hps)) {
		fail(&c, "expected an object");
		goto bad;
	}
	if (json_object_get(hps, "http_security_policy")) {
		FAIL_AT(&c, "http_security_policy", "not supported");
		goto bad;
	}
	const char *nm;
	size_t nl;
	if (get_str(&c, hps, "name", false, 255, &nm, &nl) ||
	    !(c.set->name = cc_strndup(&c, nm ? nm : "", nl, false))) {
		if (!c.err)
			oom(&c);
		goto bad;
	}
	if (compile_policy(&c, hps, "http_request_policy", false, &c.set->req, &c.set->n_req) ||
	    compile_policy(&c, hps, "http_response_policy", true, &c.set->rsp, &c.set->n_rsp))
		goto bad;
	pcre2_compile_context_free(c.cctx);
	return c.set;
bad:
	pcre2_compile_context_free(c.cctx);
	sl_policy_free(c.set);
	errno = c.err ? c.err : EINVAL;
	return NULL;
}

/* ---- references ---- */

static int bind_rules(struct pol_rule *r, uint32_t n, const char *dir,
		      sl_policy_resolve_fn fn, void *arg, char *err_path, size_t pathlen, char *err_msg, size_t msglen)
{
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].decision != SL_POLICY_POOL && r[i].decision != SL_POLICY_POOLGROUP)
			continue;
		enum sl_policy_ref_kind kind = (enum sl_policy_ref_kind)r[i].ref_kind;
		const char *key = kind == SL_POLICY_REF_POOL ? "pool_ref" : "pool_group_ref";
		int h = fn(arg, kind, r[i].target_ref);
		if (h < 0) {
			if (err_path && pathlen)
				snprintf(err_path, pathlen, "%s.rules[%u].switching_action.%s", dir, r[i].pos, key);
			if (err_msg && msglen)
				snprintf(err_msg, msglen, "%s \"%.200s\" cannot be resolved (%s)",
					 kind == SL_POLICY_REF_POOL ? "pool" : "poolgroup", r[i].target_ref,
					 h == -ENOENT ? "does not exist" : "error");
			return h;
		}
		r[i].target = h;
	}
	return 0;
}

int sl_policy_bind(struct sl_policy_set *s, sl_policy_resolve_fn fn, void *arg, char *err_path, size_t pathlen,
		   char *err_msg, size_t msglen)
{
	if (!s || !fn)
		return -EINVAL;
	return bind_rules(s->req, s->n_req, "http_request_policy", fn, arg, err_path, pathlen, err_msg, msglen);
}

const char *sl_policy_name(const struct sl_policy_set *s)
{
	return s->name;
}

unsigned sl_policy_rule_count(const struct sl_policy_set *s, bool response)
{
	return response ? s->n_rsp : s->n_req;
}

unsigned sl_policy_regex_count(const struct sl_policy_set *s)
{
	return s->n_re;
}
