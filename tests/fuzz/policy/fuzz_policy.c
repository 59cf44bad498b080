/* Input: HTTPPolicySet JSON, a NUL byte, then requests.  Each request is
 * fields separated by 0x01: flags byte (port/protocol), method, host, path,
 * query, headers ("name:value" separated by 0x02); requests are separated
 * by 0x03.  Every accepted set is bound, evaluated both ways and every
 * redirect built into a small and a large buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_policy.h"

struct fhdr {
	const char *n, *v;
	size_t nl, vl;
};

struct freq {
	struct fhdr h[16];
	unsigned nh;
};

static const char *lookup(void *arg, const char *name, size_t nl, unsigned nth, size_t *vl)
{
	struct freq *f = arg;
	for (unsigned i = 0; i < f->nh; i++)
		if (f->h[i].nl == nl && !strncasecmp(f->h[i].n, name, nl) && nth-- == 0) {
			*vl = f->h[i].vl;
			return f->h[i].v;
		}
	return NULL;
}

static int resolve(void *arg, enum sl_policy_ref_kind kind, const char *ref)
{
	(void)arg;
	(void)kind;
	/* Deterministic: refs ending in 'x' do not exist. */
	size_t n = strlen(ref);
	return n && ref[n - 1] == 'x' ? -2 : (int)n;
}

static struct sl_policy_worker_ctx *w;

static const char *field(const char **p, const char *end, char sep, size_t *len)
{
	const char *s = *p;
	const char *e = memchr(s, sep, (size_t)(end - s));
	if (!e)
		e = end;
	*len = (size_t)(e - s);
	*p = e < end ? e + 1 : end;
	return s;
}

static void one_request(const struct sl_policy_set *s, const char *p, const char *end)
{
	struct freq f = { 0 };
	struct sl_policy_req q = { .hdr = lookup, .hdr_arg = &f };
	size_t l;
	const char *fl = field(&p, end, 1, &l);
	uint8_t flags = l ? (uint8_t)fl[0] : 0;
	static const uint16_t ports[] = { 80, 443, 8080, 8443, 1, 65535, 81, 0 };
	q.vs_port = ports[flags & 7];
	q.proto = (flags & 8) ? SL_POLICY_HTTPS : SL_POLICY_HTTP;
	q.method = field(&p, end, 1, &q.method_len);
	q.host = field(&p, end, 1, &q.host_len);
	if (flags & 16)
		q.host = NULL, q.host_len = 0;
	q.path = field(&p, end, 1, &q.path_len);
	q.query = field(&p, end, 1, &q.query_len);
	if (flags & 32)
		q.hdr = NULL;
	while (p < end && f.nh < 16) {
		size_t hl;
		const char *h = field(&p, end, 2, &hl);
		const char *c = memchr(h, ':', hl);
		if (!c)
			continue;
		f.h[f.nh].n = h;
		f.h[f.nh].nl = (size_t)(c - h);
		f.h[f.nh].v = c + 1;
		f.h[f.nh].vl = hl - f.h[f.nh].nl - 1;
		f.nh++;
	}
	struct sl_policy_result r;
	int d = sl_policy_eval_request(s, w, &q, &r);
	if (d == SL_POLICY_REDIRECT) {
		char small[16], big[4096];
		int n1 = sl_policy_redirect_build(r.redirect, &q, small, sizeof(small));
		int n2 = sl_policy_redirect_build(r.redirect, &q, big, sizeof(big));
		if (n2 >= 0 && (size_t)n2 != strlen(big))
			abort();
		if (n1 >= 0 && (n2 != n1 || memcmp(small, big, (size_t)n1)))
			abort();
	}
	if (d == SL_POLICY_LOCAL && (!r.local || r.status != r.local->status))
		abort();
	for (unsigned i = 0; i < r.n_hdr; i++)
		if (!r.hdr[i]->name_len)
			abort();
	sl_policy_eval_response(s, w, &q, &r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!w && !(w = sl_policy_worker_ctx_new()))
		abort();
	const char *d = (const char *)data;
	const char *nul = memchr(d, 0, size);
	size_t jl = nul ? (size_t)(nul - d) : size;
	json_t *j = json_loadb(d, jl, JSON_DECODE_ANY, NULL);
	if (!j)
		return 0;
	char path[256], msg[256];
	struct sl_policy_set *s = sl_policy_compile(j, path, sizeof(path), msg, sizeof(msg));
	json_decref(j);
	if (!s) {
		if (!path[0] && !msg[0])
			abort();  /* a refusal must say why */
		return 0;
	}
	sl_policy_bind(s, resolve, NULL, path, sizeof(path), msg, sizeof(msg));
	if (nul) {
		const char *p = nul + 1, *end = d + size;
		for (unsigned k = 0; k < 8 && p <= end; k++) {
			size_t rl;
			const char *r = field(&p, end, 3, &rl);
			one_request(s, r, r + rl);
			if (p >= end)
				break;
		}
	}
	sl_policy_free(s);
	return 0;
}
