/* Fast-path evaluation of a compiled HTTPPolicySet and the redirect builder.
 * Nothing here allocates, logs or locks: PCRE2 state lives in the worker's
 * sl_policy_worker_ctx, everything else is read from the immutable set. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_priv.h"

#define MAX_HDR_FIELDS 64     /* occurrences of one header name looked at */

struct sl_policy_worker_ctx *sl_policy_worker_ctx_new(void)
{
	struct sl_policy_worker_ctx *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->mctx = pcre2_match_context_create(NULL);
	/* One ovector pair: rules only ask "does it match", never for groups. */
	w->md = pcre2_match_data_create(1, NULL);
	w->jit = pcre2_jit_stack_create(32 * 1024, SL_POLICY_JIT_STACK_MAX, NULL);
	if (!w->mctx || !w->md) {
		sl_policy_worker_ctx_free(w);
		return NULL;
	}
	pcre2_set_match_limit(w->mctx, SL_POLICY_MATCH_LIMIT);
	pcre2_set_depth_limit(w->mctx, SL_POLICY_DEPTH_LIMIT);
	pcre2_set_heap_limit(w->mctx, SL_POLICY_HEAP_LIMIT_KIB);
	if (w->jit)
		pcre2_jit_stack_assign(w->mctx, NULL, w->jit);
	return w;
}

void sl_policy_worker_ctx_free(struct sl_policy_worker_ctx *w)
{
	if (!w)
		return;
	pcre2_match_data_free(w->md);
	pcre2_match_context_free(w->mctx);
	pcre2_jit_stack_free(w->jit);
	free(w);
}

const struct sl_policy_stats *sl_policy_worker_stats(const struct sl_policy_worker_ctx *w)
{
	return &w->st;
}

/* ---- string comparison ---- */

static inline char lc(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
}

/* b is already folded (compile time). */
static bool eq_fold(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lc(a[i]) != b[i])
			return false;
	return true;
}

/* Only for subjects longer than the scratch buffer: quadratic in the worst
 * case, bounded by SL_POLICY_MAX_STR_LEN per pattern. */
static bool contains_fold(const char *h, size_t hn, const char *nd, size_t nn)
{
	if (nn > hn)
		return false;
	for (size_t i = 0; i + nn <= hn; i++)
		if (eq_fold(h + i, nd, nn))
			return true;
	return false;
}

/* 1 match, 0 no match, -1 limit or error (counted). */
static int regex_test(struct sl_policy_worker_ctx *w, const pcre2_code *re, const char *s, size_t n)
{
	if (w->limit_hits >= SL_POLICY_EVAL_LIMIT_HITS) {
		w->st.regex_skipped++;
		return -1;
	}
	w->st.regex_matches++;
	int rc = pcre2_match(re, (PCRE2_SPTR)(s ? s : ""), n, 0, 0, w->md, w->mctx);
	if (rc >= 0)
		return 1;      /* 0 = ovector too small, still a match */
	if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL)
		return 0;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
	    rc == PCRE2_ERROR_JIT_STACKLIMIT) {
		w->st.regex_limit++;
		w->limit_hits++;
	} else {
		w->st.regex_error++;
	}
	return -1;
}

/* Does the subject satisfy the positive form of m for any of its strings?
 * folded: the subject in lower case, or NULL when it did not fit the scratch. */
static int test_strs(struct sl_policy_worker_ctx *w, const struct pol_smatch *m, const char *s, size_t n,
		     const char *folded)
{
	const char *x = m->icase && folded ? folded : s;
	bool slow = m->icase && !folded;
	int err = 0;
	for (uint32_t i = 0; i < m->n; i++) {
		const struct pol_str *p = &m->s[i];
		bool hit = false;
		switch (m->op) {
		case OP_BEGINS:
			hit = p->n <= n && (slow ? eq_fold(x, p->p, p->n) : !memcmp(x, p->p, p->n));
			break;
		case OP_ENDS:
			hit = p->n <= n && (slow ? eq_fold(x + n - p->n, p->p, p->n) : !memcmp(x + n - p->n, p->p, p->n));
			break;
		case OP_EQUALS:
			hit = p->n == n && (slow ? eq_fold(x, p->p, n) : !memcmp(x, p->p, n));
			break;
		case OP_CONTAINS:
			hit = slow ? contains_fold(x, n, p->p, p->n) : (!p->n || (n && memmem(x, n, p->p, p->n)));
			break;
		case OP_REGEX: {
			int r = regex_test(w, p->re, s, n);
			if (r < 0)
				err = 1;
			hit = r == 1;
			break;
		}
		default:
			break;
		}
		if (hit)
			return 1;
	}
	return err ? -1 : 0;
}

static const char *fold_into(char *buf, const char *s, size_t n)
{
	if (n > SL_POLICY_SCRATCH)
		return NULL;
	for (size_t i = 0; i < n; i++)
		buf[i] = lc(s[i]);
	return buf;
}

/* Positive test on one present subject: folds it once for all strings. */
static int test_subject(struct sl_policy_worker_ctx *w, const struct pol_smatch *m, const char *s, size_t n)
{
	if (m->op == OP_EXISTS)
		return 1;
	const char *f = m->icase && m->op != OP_REGEX ? fold_into(w->scratch, s, n) : NULL;
	return test_strs(w, m, s, n, f);
}

/* Same for host, path and query (field < 3), whose folded copy is shared by
 * every rule of one evaluation. */
static int test_field(struct sl_policy_worker_ctx *w, const struct pol_smatch *m, const char *s, size_t n)
{
	if (m->op == OP_EXISTS)
		return 1;
	const char *f = NULL;
	if (m->icase && m->op != OP_REGEX) {
		if (!(w->folded & (1u << m->field))) {
			w->fold[m->field] = fold_into(w->fscratch[m->field], s, n);
			w->folded |= 1u << m->field;
		}
		f = w->fold[m->field];
	}
	return test_strs(w, m, s, n, f);
}

/* Host without a ":port" suffix ("[v6]:port" keeps its brackets). */
static size_t host_len_noport(const char *h, size_t n)
{
	size_t i = n;
	while (i > 0 && h[i - 1] >= '0' && h[i - 1] <= '9')
		i--;
	if (i > 0 && h[i - 1] == ':' && (h[0] != '[' || (i >= 2 && h[i - 2] == ']')))
		return i - 1;
	return n;
}

static bool is_ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Positive test of a cookie match on one Cookie field ("a=1; b=2"). */
static int test_cookie(struct sl_policy_worker_ctx *w, const struct pol_smatch *m, const char *v, size_t vl)
{
	int err = 0;
	size_t i = 0;
	while (i < vl) {
		while (i < vl && (is_ows(v[i]) || v[i] == ';'))
			i++;
		size_t ns = i;
		while (i < vl && v[i] != '=' && v[i] != ';')
			i++;
		size_t ne = i;
		size_t vs = i, ve = i;
		if (i < vl && v[i] == '=') {
			vs = ++i;
			while (i < vl && v[i] != ';')
				i++;
			ve = i;
			while (ve > vs && is_ows(v[ve - 1]))
				ve--;
			/* RFC 6265 allows the value in double quotes; compare what is inside. */
			if (ve - vs >= 2 && v[vs] == '"' && v[ve - 1] == '"') {
				vs++;
				ve--;
			}
		}
		while (ne > ns && is_ows(v[ne - 1]))
			ne--;
		/* Cookie names are case-sensitive (RFC 6265). */
		if (ne - ns == m->name_len && !memcmp(v + ns, m->name, m->name_len)) {
			int r = test_subject(w, m, v + vs, ve - vs);
			if (r == 1)
				return 1;
			err |= r < 0;
		}
	}
	return err ? -1 : 0;
}

/* hdrs[] and cookie: any occurrence of the header (Cookie for a cookie) may match. */
static int test_hdr(struct sl_policy_worker_ctx *w, const struct pol_smatch *m, const struct sl_policy_req *q)
{
	bool cookie = m->field == F_COOKIE;
	int err = 0;
	for (unsigned nth = 0; nth < MAX_HDR_FIELDS; nth++) {
		size_t vl = 0;
		const char *v = q->hdr(q->hdr_arg, cookie ? "Cookie" : m->name, cookie ? 6 : m->name_len, nth, &vl);
		if (!v)
			break;
		int r = cookie ? test_cookie(w, m, v, vl) : test_subject(w, m, v, vl);
		if (r == 1)
			return 1;
		err |= r < 0;
	}
	return err ? -1 : 0;
}

/* Whole criterion, negation included.  A regex that hit a limit or failed
 * makes the criterion false either way: the rule then does not fire. */
static bool smatch_pass(struct sl_policy_worker_ctx *w, const struct pol_smatch *m, const struct sl_policy_req *q)
{
	int r = 0;
	switch (m->field) {
	case F_HOST:
		if (q->host && q->host_len)
			r = test_field(w, m, q->host, host_len_noport(q->host, q->host_len));
		break;
	case F_PATH:
		r = test_field(w, m, q->path ? q->path : "", q->path ? q->path_len : 0);
		break;
	case F_QUERY:
		if (m->op == OP_EXISTS)
			r = q->query && q->query_len;
		else
			r = test_field(w, m, q->query ? q->query : "", q->query ? q->query_len : 0);
		break;
	case F_HDR:
	case F_COOKIE:
		r = q->hdr ? test_hdr(w, m, q) : 0;
		break;
	default:
		break;
	}
	if (r < 0)
		return false;
	return m->neg ? !r : r;
}

static bool port_in(const struct pol_rule *r, uint16_t port)
{
	uint32_t lo = 0, hi = r->n_ports;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (r->ports[mid] == port)
			return true;
		if (r->ports[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Cheap integer matches first, strings and regexes last. */
static bool rule_pass(struct sl_policy_worker_ctx *w, const struct pol_rule *r, const struct sl_policy_req *q,
		      uint32_t mbit)
{
	if (r->has_port && port_in(r, q->vs_port) == r->port_neg)
		return false;
	if (r->has_method && ((r->methods & mbit) != 0) == r->method_neg)
		return false;
	if (r->has_proto && (r->proto == (uint8_t)q->proto) == r->proto_neg)
		return false;
	for (uint32_t i = 0; i < r->n_sm; i++)
		if (!smatch_pass(w, &r->sm[i], q))
			return false;
	return true;
}

static void result_init(struct sl_policy_result *o)
{
	o->decision = SL_POLICY_CONTINUE;
	o->rule_index = o->first_index = -1;
	o->rule_name = o->first_name = NULL;
	o->n_matched = 0;
	o->target = -1;
	o->target_ref = NULL;
	o->status = 0;
	o->local = NULL;
	o->redirect = NULL;
	o->n_hdr = 0;
}

static void take_hdrs(struct sl_policy_result *o, const struct pol_rule *r)
{
	/* Compile caps the total per direction at SL_POLICY_HDR_MAX; the test
	 * here only keeps a corrupted set from writing past the array. */
	for (uint32_t i = 0; i < r->n_hdr && o->n_hdr < SL_POLICY_HDR_MAX; i++)
		o->hdr[o->n_hdr++] = &r->hdr[i];
}

static void note_match(struct sl_policy_result *o, const struct pol_rule *r)
{
	if (!o->n_matched++) {
		o->first_index = r->index;
		o->first_name = r->name;
	}
}

int sl_policy_eval_request(const struct sl_policy_set *s, struct sl_policy_worker_ctx *w,
			   const struct sl_policy_req *q, struct sl_policy_result *o)
{
	result_init(o);
	w->st.req_evals++;
	w->folded = 0;
	w->limit_hits = 0;
	uint32_t mbit = pol_method_bit(q->method ? q->method : "", q->method ? q->method_len : 0);
	for (uint32_t i = 0; i < s->n_req; i++) {
		const struct pol_rule *r = &s->req[i];
		if (o->decision != SL_POLICY_CONTINUE) {
			/* Decided: only header actions can still come, so rules without
			 * any are not even matched. */
			if (i >= s->req_hdr_end)
				break;
			if (!r->n_hdr)
				continue;
		}
		if (!r->enable || !rule_pass(w, r, q, mbit))
			continue;
		note_match(o, r);
		take_hdrs(o, r);
		if (r->decision == SL_POLICY_CONTINUE || o->decision != SL_POLICY_CONTINUE)
			continue;
		o->decision = (enum sl_policy_decision)r->decision;
		o->rule_index = r->index;
		o->rule_name = r->name;
		if (r->decision == SL_POLICY_REDIRECT) {
			o->redirect = r->redir;
			o->status = r->redir->status;
			break;   /* the client gets our answer: later rules cannot matter */
		}
		if (r->decision == SL_POLICY_LOCAL) {
			o->local = &r->local;
			o->status = r->local.status;
			break;
		}
		o->target = r->target;
		o->target_ref = r->target_ref;
	}
	return o->decision;
}

int sl_policy_eval_response(const struct sl_policy_set *s, struct sl_policy_worker_ctx *w,
			    const struct sl_policy_req *q, struct sl_policy_result *o)
{
	result_init(o);
	w->st.rsp_evals++;
	w->folded = 0;
	w->limit_hits = 0;
	uint32_t mbit = pol_method_bit(q->method ? q->method : "", q->method ? q->method_len : 0);
	for (uint32_t i = 0; i < s->n_rsp; i++) {
		const struct pol_rule *r = &s->rsp[i];
		if (!r->enable || !rule_pass(w, r, q, mbit))
			continue;
		note_match(o, r);
		take_hdrs(o, r);
	}
	return (int)o->n_hdr;
}

/* ---- redirect ---- */

struct wbuf {
	char *b;
	size_t n, cap;
	bool over;
};

static void put(struct wbuf *w, const char *s, size_t n)
{
	if (w->over || n >= w->cap - w->n) {
		w->over = true;
		return;
	}
	memcpy(w->b + w->n, s, n);
	w->n += n;
}

/* Bytes copied from the request into Location: nothing a header cannot hold. */
static bool clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Tokens start..end of s split on sep (empty tokens skipped), joined by sep. */
static void put_tokens(struct wbuf *w, const char *s, size_t n, char sep, unsigned start, unsigned end)
{
	unsigned k = 0;
	bool first = true;
	size_t i = 0;
	while (i < n) {
		while (i < n && s[i] == sep)
			i++;
		if (i >= n)
			break;
		size_t b = i;
		while (i < n && s[i] != sep)
			i++;
		if (k >= start && k <= end) {
			if (!first)
				put(w, &sep, 1);
			put(w, s + b, i - b);
			first = false;
		}
		if (k++ >= end)
			break;
	}
}

static void put_param(struct wbuf *w, const struct pol_tok *t, uint32_t n, const char *host, size_t hl,
		      const char *path, size_t pl)
{
	for (uint32_t i = 0; i < n; i++) {
		if (t[i].type == TOK_STRING)
			put(w, t[i].s, t[i].n);
		else if (t[i].type == TOK_HOST)
			put_tokens(w, host, hl, '.', t[i].start, t[i].end);
		else
			put_tokens(w, path, pl, '/', t[i].start, t[i].end);
	}
}

int sl_policy_redirect_build(const struct sl_policy_redirect *d, const struct sl_policy_req *q, char *buf,
			     size_t cap)
{
	if (!d || !buf || !cap)
		return -EINVAL;
	const char *host = q->host ? q->host : "";
	size_t hl = q->host ? host_len_noport(q->host, q->host_len) : 0;
	const char *path = q->path ? q->path : "";
	size_t pl = q->path ? q->path_len : 0;
	const char *qs = q->query ? q->query : "";
	size_t ql = q->query ? q->query_len : 0;
	if (!clean(host, hl) || !clean(path, pl) || (d->keep_query && !clean(qs, ql)))
		return -EINVAL;
	struct wbuf w = { buf, 0, cap, false };
	if (d->proto == SL_POLICY_HTTPS)
		put(&w, "https://", 8);
	else
		put(&w, "http://", 7);
	size_t hstart = w.n;
	if (d->has_host)
		put_param(&w, d->host, d->n_host, host, hl, path, pl);
	else
		put(&w, host, hl);
	if (!w.over && w.n == hstart)
		return -EINVAL;  /* neither the rule nor the request names a host */
	if (d->port) {
		char p[8];
		int k = 0;
		char rev[6];
		unsigned v = d->port;
		do
			rev[k++] = (char)('0' + v % 10);
		while ((v /= 10));
		p[0] = ':';
		for (int i = 0; i < k; i++)
			p[1 + i] = rev[k - 1 - i];
		put(&w, p, (size_t)k + 1);
	}
	if (d->has_path) {
		/* Avi's path param carries no leading slash. */
		put(&w, "/", 1);
		size_t ps = w.n;
		put_param(&w, d->path, d->n_path, host, hl, path, pl);
		if (!w.over && w.n > ps && buf[ps] == '/') {
			memmove(buf + ps, buf + ps + 1, w.n - ps - 1);
			w.n--;
		}
	} else if (pl) {
		put(&w, path, pl);
	} else {
		put(&w, "/", 1);
	}
	if (d->keep_query && ql) {
		put(&w, "?", 1);
		put(&w, qs, ql);
	}
	if (w.over)
		return -ENOSPC;
	buf[w.n] = 0;
	return (int)w.n;
}

uint16_t sl_policy_redirect_status(const struct sl_policy_redirect *d)
{
	return d->status;
}
