/* Health monitors, control side.
 *
 * A target is one (health slot, monitor) pair: a pool server or GSLB member checked by one of the
 * monitors its object refers to. Targets sit in a binary heap by due time, so a poll costs nothing
 * while nothing is due, however many servers are monitored. A due target becomes a probe for one
 * worker (chosen by slot, so a server is always probed from the same worker); its result comes back
 * on a later poll, is judged here (expected bytes, HTTP status class, DNS rcode and answer), and
 * feeds the failed_checks / successful_checks counters. A slot is up while every monitor of it is. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hm.h"
#include "sl_gen.h"

#define HM_MAX_WORKERS 64
#define HM_INFLIGHT_PER_WORKER 768   /* below the engine's ring size, so results always fit back */
#define NONE UINT32_MAX

enum dns_need { NEED_QUERY_TYPE = 0, NEED_ANY_ANSWER, NEED_NOTHING };

struct mon {
	bool used, runnable;
	char name[128];
	char why[96];                /* not runnable: why */
	uint8_t kind;                /* enum sl_hm_kind */
	const char *type_name;
	uint32_t interval_ms, timeout_ms;
	uint16_t fail_n, ok_n, port;
	char *req;                   /* TCP: tcp_request; HTTP: request line (+ headers) without the final CRLF */
	uint32_t req_len;
	char *expect;                /* TCP: tcp_response */
	uint32_t expect_len;
	uint8_t http_mask;           /* bit k: kxx accepted; 0 = any */
	uint8_t *dnsq;               /* query with id 0 */
	uint32_t dnsq_len;
	uint16_t qtype;
	uint8_t dns_need;
	bool rcode_any, has_dns_ip;
	uint32_t dns_ip;
};

struct target {
	bool used, up;
	uint32_t gen;                /* bumped on reuse: stale heap entries and probes are ignored */
	uint32_t slot, mon, ip;
	uint16_t port;
	uint32_t next_in_slot;
	uint16_t ok_run, fail_run;
	uint64_t due_ms;
	struct sl_hm_probe *inflight;
	uint64_t last_probe_ms, last_change_ms, n_ok, n_fail;
	bool last_ok, probed;
	char last[112], reason[112];
};

struct hent { uint64_t due; uint32_t tid, gen; };

struct sl_hm {
	volatile uint8_t *health;
	unsigned n_workers;
	struct sl_hm_hooks hooks;
	struct mon *mons;
	uint32_t n_mons;
	struct target *t;
	uint32_t nt, cap_t, *tfree, nfree, cap_free;
	uint32_t *slot_head;         /* [SL_MAX_HEALTH] first target of a slot */
	struct hent *heap;
	uint32_t hn, hcap;
	unsigned inflight[HM_MAX_WORKERS];
	struct sl_hm_probe *outstanding;
	uint64_t submitted, results, skipped_busy, skipped_full, stale, transitions;
	uint64_t rng;
	uint64_t (*clock)(void *);
	void *clock_arg;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t hm_now(const struct sl_hm *h)
{
	return h->clock ? h->clock(h->clock_arg) : mono_ms();
}

void sl_hm_set_clock(struct sl_hm *h, uint64_t (*fn)(void *), void *arg)
{
	h->clock = fn;
	h->clock_arg = arg;
}

static const char *const kind_names[] = { "", "HEALTH_MONITOR_PING", "HEALTH_MONITOR_TCP", "HEALTH_MONITOR_HTTP",
					  "HEALTH_MONITOR_DNS" };

/* ---------------- monitor parameters ---------------- */
static int64_t jint(const json_t *o, const char *k, int64_t def)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

static const char *jstr(const json_t *o, const char *k, const char *def)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : def;
}

/* DNS name to wire labels; -1 when a label is empty or too long */
static int dns_name(const char *name, uint8_t *out, size_t cap)
{
	size_t o = 0, n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && name[j] != '.')
			j++;
		if (j == i || j - i > 63 || o + 1 + (j - i) + 1 > cap)
			return -1;
		out[o++] = (uint8_t)(j - i);
		memcpy(out + o, name + i, j - i);
		o += j - i;
		i = j + 1;
	}
	if (o + 1 > cap)
		return -1;
	out[o++] = 0;
	return (int)o;
}

int sl_hm_check(const json_t *d, char *rel, size_t rlen, char *detail, size_t dlen)
{
	const char *type = jstr(d, "type", "");
	if (!strcmp(type, "HEALTH_MONITOR_DNS")) {
		json_t *dm = json_object_get(d, "dns_monitor");
		uint8_t buf[300];
		if (!dm) {
			snprintf(rel, rlen, "dns_monitor");
			snprintf(detail, dlen, "a DNS monitor needs dns_monitor.query_name");
			return -1;
		}
		if (dns_name(jstr(dm, "query_name", ""), buf, sizeof(buf)) < 2) {
			snprintf(rel, rlen, "dns_monitor.query_name");
			snprintf(detail, dlen, "not a domain name (labels of 1-63 octets, 253 in all)");
			return -1;
		}
		const char *rs = jstr(dm, "response_string", NULL);
		struct in_addr a;
		if (rs && *rs && inet_pton(AF_INET, rs, &a) != 1) {
			snprintf(rel, rlen, "dns_monitor.response_string");
			snprintf(detail, dlen, "expected the IPv4 address the answer must contain");
			return -1;
		}
	}
	if (!strcmp(type, "HEALTH_MONITOR_HTTP")) {
		const char *r = jstr(json_object_get(d, "http_monitor"), "http_request", "GET / HTTP/1.0");
		if (!*r || strchr(" \r\n", r[0])) {
			snprintf(rel, rlen, "http_monitor.http_request");
			snprintf(detail, dlen, "expected a request line such as \"GET /health HTTP/1.0\"");
			return -1;
		}
	}
	return 0;
}

static void mon_clear(struct mon *m)
{
	free(m->req);
	free(m->expect);
	free(m->dnsq);
	memset(m, 0, sizeof(*m));
}

static char *dupn(const char *s, uint32_t *len)
{
	*len = (uint32_t)strlen(s);
	return strdup(s);
}

int sl_hm_monitor_set(struct sl_hm *h, uint32_t ms, const char *name, const json_t *d)
{
	if (ms >= h->n_mons) {
		uint32_t n = ms + 16;
		struct mon *p = realloc(h->mons, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + h->n_mons, 0, (n - h->n_mons) * sizeof(*p));
		h->mons = p;
		h->n_mons = n;
	}
	struct mon *m = &h->mons[ms];
	mon_clear(m);
	if (!d)
		return 0;
	m->used = true;
	snprintf(m->name, sizeof(m->name), "%s", name ? name : "");
	const char *type = jstr(d, "type", "");
	m->type_name = "unsupported";
	for (int k = SL_HM_PING; k <= SL_HM_DNS; k++)
		if (!strcmp(type, kind_names[k])) {
			m->kind = (uint8_t)k;
			m->type_name = kind_names[k];
		}
	m->interval_ms = (uint32_t)jint(d, "send_interval", 10) * 1000;
	m->timeout_ms = (uint32_t)jint(d, "receive_timeout", 4) * 1000;
	m->fail_n = (uint16_t)jint(d, "failed_checks", 2);
	m->ok_n = (uint16_t)jint(d, "successful_checks", 2);
	m->port = (uint16_t)jint(d, "monitor_port", 0);
	if (!m->kind) {
		snprintf(m->why, sizeof(m->why), "%s is not run by this engine (PING, TCP, HTTP, DNS are)", type);
		return 0;
	}
	m->runnable = true;
	if (m->kind == SL_HM_TCP) {
		json_t *tm = json_object_get(d, "tcp_monitor");
		const char *rq = jstr(tm, "tcp_request", ""), *rp = jstr(tm, "tcp_response", "");
		m->req = dupn(rq, &m->req_len);
		m->expect = dupn(rp, &m->expect_len);
	} else if (m->kind == SL_HM_HTTP) {
		json_t *hmo = json_object_get(d, "http_monitor");
		const char *rq = jstr(hmo, "http_request", "GET / HTTP/1.0");
		size_t n = strlen(rq);
		while (n && (rq[n - 1] == '\r' || rq[n - 1] == '\n'))
			n--;
		/* Avi accepts a bare "GET /path": the version is ours to add */
		const char *crlf = strstr(rq, "\r\n");
		size_t line = crlf ? (size_t)(crlf - rq) : n;
		bool has_ver = line >= 8 && !strncmp(rq + line - 8, "HTTP/1.", 7);
		m->req = malloc(n + 16);
		if (m->req) {
			if (has_ver)
				memcpy(m->req, rq, n);
			else {
				memcpy(m->req, rq, line);
				memcpy(m->req + line, " HTTP/1.0", 9);
				memcpy(m->req + line + 9, rq + line, n - line);
			}
			m->req_len = (uint32_t)(n + (has_ver ? 0 : 9));
		}
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(hmo, "http_response_code"), i, c) {
			const char *s = json_string_value(c);
			if (s && !strcmp(s, "HTTP_ANY"))
				m->http_mask = 0x3e;
			else if (s && strlen(s) == 8 && s[5] >= '1' && s[5] <= '5')
				m->http_mask |= (uint8_t)(1u << (s[5] - '0'));
		}
		if (!m->http_mask)   /* Avi's default: 2xx and 3xx */
			m->http_mask = (1u << 2) | (1u << 3);
	} else if (m->kind == SL_HM_DNS) {
		json_t *dm = json_object_get(d, "dns_monitor");
		const char *rt = jstr(dm, "record_type", "DNS_RECORD_A");
		m->qtype = !strcmp(rt, "DNS_RECORD_AAAA") ? 28 : !strcmp(rt, "DNS_RECORD_ANY") ? 255 : 1;
		const char *qt = jstr(dm, "qtype", "DNS_QUERY_TYPE");
		m->dns_need = !strcmp(qt, "DNS_ANY_TYPE") ? NEED_ANY_ANSWER : !strcmp(qt, "DNS_ANY_THING") ? NEED_NOTHING
											   : NEED_QUERY_TYPE;
		m->rcode_any = !strcmp(jstr(dm, "rcode", "RCODE_NO_ERROR"), "RCODE_ANYTHING");
		const char *rs = jstr(dm, "response_string", "");
		struct in_addr a;
		if (*rs && inet_pton(AF_INET, rs, &a) == 1) {
			m->has_dns_ip = true;
			m->dns_ip = a.s_addr;
		}
		m->dnsq = calloc(1, 12 + 260 + 4);
		if (m->dnsq) {
			int nl = dns_name(jstr(dm, "query_name", ""), m->dnsq + 12, 260);
			if (nl < 0) {
				m->runnable = false;
				snprintf(m->why, sizeof(m->why), "query_name is not a domain name");
				return 0;
			}
			m->dnsq[2] = 0x01;   /* RD */
			m->dnsq[5] = 1;      /* QDCOUNT */
			uint8_t *q = m->dnsq + 12 + nl;
			q[0] = (uint8_t)(m->qtype >> 8);
			q[1] = (uint8_t)m->qtype;
			q[2] = 0;
			q[3] = 1;
			m->dnsq_len = 12 + (uint32_t)nl + 4;
		}
	}
	if ((m->kind == SL_HM_TCP && (!m->req || !m->expect)) || (m->kind == SL_HM_HTTP && !m->req) ||
	    (m->kind == SL_HM_DNS && !m->dnsq)) {
		m->runnable = false;
		snprintf(m->why, sizeof(m->why), "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* ---------------- heap ---------------- */
static bool hless(const struct hent *a, const struct hent *b)
{
	return a->due < b->due;
}

static int heap_push(struct sl_hm *h, uint64_t due, uint32_t tid)
{
	if (h->hn == h->hcap) {
		uint32_t nc = h->hcap ? h->hcap * 2 : 256;
		struct hent *p = realloc(h->heap, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		h->heap = p;
		h->hcap = nc;
	}
	uint32_t i = h->hn++;
	struct hent e = { due, tid, h->t[tid].gen };
	while (i) {
		uint32_t p = (i - 1) / 2;
		if (!hless(&e, &h->heap[p]))
			break;
		h->heap[i] = h->heap[p];
		i = p;
	}
	h->heap[i] = e;
	return 0;
}

static struct hent heap_pop(struct sl_hm *h)
{
	struct hent top = h->heap[0], last = h->heap[--h->hn];
	uint32_t i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		const struct hent *best = &last;
		if (l < h->hn && hless(&h->heap[l], best)) {
			m = l;
			best = &h->heap[l];
		}
		if (r < h->hn && hless(&h->heap[r], best))
			m = r;
		if (m == i)
			break;
		h->heap[i] = h->heap[m];
		i = m;
	}
	if (h->hn)
		h->heap[i] = last;
	return top;
}

/* ---------------- targets ---------------- */
struct sl_hm *sl_hm_create(volatile uint8_t *health, unsigned n_workers, const struct sl_hm_hooks *hooks)
{
	struct sl_hm *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->health = health;
	h->n_workers = n_workers ? (n_workers > HM_MAX_WORKERS ? HM_MAX_WORKERS : n_workers) : 1;
	if (hooks)
		h->hooks = *hooks;
	h->slot_head = malloc(SL_MAX_HEALTH * sizeof(uint32_t));
	if (!h->slot_head) {
		free(h);
		return NULL;
	}
	memset(h->slot_head, 0xff, SL_MAX_HEALTH * sizeof(uint32_t));
	h->rng = mono_ms() * 0x9E3779B97F4A7C15ull | 1;
	return h;
}

void sl_hm_destroy(struct sl_hm *h)
{
	if (!h)
		return;
	/* probes still with the engine: workers have stopped by now */
	for (struct sl_hm_probe *p = h->outstanding, *nx; p; p = nx) {
		nx = p->next;
		free(p);
	}
	for (uint32_t i = 0; i < h->n_mons; i++)
		mon_clear(&h->mons[i]);
	free(h->mons);
	free(h->t);
	free(h->tfree);
	free(h->slot_head);
	free(h->heap);
	free(h);
}

static bool slot_up(struct sl_hm *h, uint32_t slot)
{
	for (uint32_t i = h->slot_head[slot]; i != NONE; i = h->t[i].next_in_slot) {
		const struct target *t = &h->t[i];
		if (!t->up && t->mon < h->n_mons && h->mons[t->mon].runnable)
			return false;
	}
	return true;
}

static void target_free(struct sl_hm *h, uint32_t tid)
{
	struct target *t = &h->t[tid];
	if (t->inflight)
		t->inflight->tgen = UINT32_MAX;   /* its result is dropped when it comes back */
	t->used = false;
	t->inflight = NULL;
	t->gen++;
	if (h->nfree == h->cap_free) {
		uint32_t nc = h->cap_free ? h->cap_free * 2 : 256;
		uint32_t *p = realloc(h->tfree, nc * sizeof(*p));
		if (!p)
			return;   /* the entry is lost for reuse, nothing else */
		h->tfree = p;
		h->cap_free = nc;
	}
	h->tfree[h->nfree++] = tid;
}

static int target_new(struct sl_hm *h, uint32_t *out)
{
	if (h->nfree) {
		*out = h->tfree[--h->nfree];
		return 0;
	}
	if (h->nt == h->cap_t) {
		uint32_t nc = h->cap_t ? h->cap_t * 2 : 256;
		struct target *p = realloc(h->t, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		h->t = p;
		h->cap_t = nc;
	}
	memset(&h->t[h->nt], 0, sizeof(h->t[0]));
	*out = h->nt++;
	return 0;
}

int sl_hm_targets(struct sl_hm *h, uint32_t slot, uint32_t ip, uint16_t port, const uint32_t *ms, unsigned n)
{
	if (slot >= SL_MAX_HEALTH)
		return -EINVAL;
	bool had = h->slot_head[slot] != NONE;
	/* drop targets not in the new set */
	uint32_t *pp = &h->slot_head[slot];
	while (*pp != NONE) {
		uint32_t i = *pp;
		struct target *t = &h->t[i];
		bool keep = false;
		for (unsigned k = 0; k < n && !keep; k++)
			keep = ms[k] == t->mon && t->ip == ip && t->port == port;
		if (keep) {
			pp = &t->next_in_slot;
			continue;
		}
		*pp = t->next_in_slot;
		target_free(h, i);
	}
	uint64_t now = hm_now(h);
	int rc = 0;
	for (unsigned k = 0; k < n; k++) {
		bool have = false;
		for (uint32_t i = h->slot_head[slot]; i != NONE && !have; i = h->t[i].next_in_slot)
			have = h->t[i].mon == ms[k];
		if (have)
			continue;
		uint32_t tid;
		if ((rc = target_new(h, &tid)))
			break;
		struct target *t = &h->t[tid];
		uint32_t g = t->gen;
		memset(t, 0, sizeof(*t));
		t->gen = g + 1;
		t->used = true;
		t->slot = slot;
		t->mon = ms[k];
		t->ip = ip;
		t->port = port;
		t->up = h->health[slot] != 0;
		t->last_change_ms = now;
		snprintf(t->reason, sizeof(t->reason), "monitoring started");
		t->next_in_slot = h->slot_head[slot];
		h->slot_head[slot] = tid;
		/* first probes within about a second, but spread over up to a whole interval when there are
		   many targets, so a big change (and every round after it) does not come as one burst */
		const struct mon *m = ms[k] < h->n_mons ? &h->mons[ms[k]] : NULL;
		uint32_t iv = m && m->interval_ms ? m->interval_ms : 10000, win = 1000 + h->nt;
		t->due_ms = now + (slot * 2654435761u) % (win < iv ? win : iv);
		if ((rc = heap_push(h, t->due_ms, tid)))
			break;
	}
	/* an unmonitored slot's health belongs to whoever set it (API override) */
	if (had || n)
		h->health[slot] = slot_up(h, slot);
	return rc;
}

/* ---------------- verdicts ---------------- */
static bool dns_skip_name(const uint8_t *b, uint32_t len, uint32_t *o)
{
	for (int guard = 0; guard < 128; guard++) {
		if (*o >= len)
			return false;
		uint8_t l = b[*o];
		if ((l & 0xc0) == 0xc0) {
			*o += 2;
			return *o <= len;
		}
		if (l & 0xc0)
			return false;
		*o += 1u + l;
		if (!l)
			return true;
	}
	return false;
}

static bool judge_dns(const struct mon *m, const struct sl_hm_probe *p, char *why, size_t wl)
{
	const uint8_t *b = p->resp;
	uint32_t len = p->resp_len, o = 12;
	if (len < 12 || !(b[2] & 0x80)) {
		snprintf(why, wl, "malformed DNS response");
		return false;
	}
	unsigned rcode = b[3] & 0xf, qd = (unsigned)b[4] << 8 | b[5], an = (unsigned)b[6] << 8 | b[7];
	if (!m->rcode_any && rcode) {
		snprintf(why, wl, "DNS rcode %u", rcode);
		return false;
	}
	for (unsigned i = 0; i < qd; i++) {
		if (!dns_skip_name(b, len, &o) || o + 4 > len) {
			snprintf(why, wl, "malformed DNS response");
			return false;
		}
		o += 4;
	}
	bool type_seen = false, ip_seen = false;
	unsigned parsed = 0;
	for (unsigned i = 0; i < an; i++) {
		if (!dns_skip_name(b, len, &o) || o + 10 > len)
			break;   /* truncated to our buffer: judge what we have */
		uint16_t ty = (uint16_t)(b[o] << 8 | b[o + 1]), rdl = (uint16_t)(b[o + 8] << 8 | b[o + 9]);
		o += 10;
		if (o + rdl > len)
			break;
		parsed++;
		if (ty == m->qtype || m->qtype == 255)
			type_seen = true;
		if (ty == 1 && rdl == 4 && m->has_dns_ip && !memcmp(b + o, &m->dns_ip, 4))
			ip_seen = true;
		o += rdl;
	}
	if (m->dns_need == NEED_ANY_ANSWER && !an) {
		snprintf(why, wl, "DNS answer empty (rcode %u)", rcode);
		return false;
	}
	if (m->dns_need == NEED_QUERY_TYPE && !type_seen) {
		snprintf(why, wl, "no answer of the queried type (rcode %u, %u answers)", rcode, an);
		return false;
	}
	if (m->has_dns_ip && !ip_seen) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &m->dns_ip, a, sizeof(a));
		snprintf(why, wl, "answer lacks %s (%u answers)", a, parsed);
		return false;
	}
	snprintf(why, wl, "DNS rcode %u, %u answers", rcode, an);
	return true;
}

static bool judge(const struct mon *m, const struct sl_hm_probe *p, char *why, size_t wl)
{
	switch (p->outcome) {
	case SL_HM_REFUSED:
		snprintf(why, wl, "connection refused");
		return false;
	case SL_HM_RESET:
		snprintf(why, wl, "connection reset");
		return false;
	case SL_HM_NO_ROUTE:
		snprintf(why, wl, "no route to the address");
		return false;
	case SL_HM_TIMEOUT:
		if (m->kind == SL_HM_PING)
			snprintf(why, wl, "no echo reply within %u ms", m->timeout_ms);
		else if (p->resp_len || (m->kind == SL_HM_TCP && m->expect_len))
			snprintf(why, wl, "no %s within %u ms", m->kind == SL_HM_HTTP ? "HTTP status line" :
				 m->kind == SL_HM_DNS ? "DNS response" : "expected response", m->timeout_ms);
		else
			snprintf(why, wl, "no response within %u ms", m->timeout_ms);
		return false;
	case SL_HM_DONE:
		break;
	default:
		snprintf(why, wl, "probe outcome %u", p->outcome);
		return false;
	}
	switch (m->kind) {
	case SL_HM_PING:
		snprintf(why, wl, "echo reply in %u us", p->rtt_us);
		return true;
	case SL_HM_TCP:
		if (m->expect_len && !memmem(p->resp, p->resp_len, m->expect, m->expect_len)) {
			snprintf(why, wl, "response lacks the expected \"%.40s\"", m->expect);
			return false;
		}
		snprintf(why, wl, m->expect_len ? "expected response in %u us" : "connected in %u us", p->rtt_us);
		return true;
	case SL_HM_HTTP: {
		/* the worker read the status line with the strict response parser
		 * (dataplane/app/probe): 0 = none, or one it refused */
		unsigned code = p->status;
		if (code < 100 || code > 599) {
			snprintf(why, wl, p->resp_len ? "malformed HTTP status line in the response"
						    : "no HTTP status line in the response");
			return false;
		}
		if (!(m->http_mask & (1u << (code / 100)))) {
			snprintf(why, wl, "HTTP %u not an expected response code", code);
			return false;
		}
		snprintf(why, wl, "HTTP %u", code);
		return true;
	}
	case SL_HM_DNS:
		return judge_dns(m, p, why, wl);
	}
	return false;
}

static void apply(struct sl_hm *h, struct target *t, const struct mon *m, bool ok, const char *why, uint64_t now)
{
	t->probed = true;
	t->last_ok = ok;
	t->last_probe_ms = now;
	snprintf(t->last, sizeof(t->last), "%s", why);
	if (ok) {
		t->n_ok++;
		t->fail_run = 0;
		if (t->ok_run < UINT16_MAX)
			t->ok_run++;
		if (!t->up && t->ok_run >= m->ok_n) {
			t->up = true;
			t->last_change_ms = now;
			snprintf(t->reason, sizeof(t->reason), "%u successful checks: %s", t->ok_run, why);
			h->transitions++;
		}
	} else {
		t->n_fail++;
		t->ok_run = 0;
		if (t->fail_run < UINT16_MAX)
			t->fail_run++;
		if (t->up && t->fail_run >= m->fail_n) {
			t->up = false;
			t->last_change_ms = now;
			snprintf(t->reason, sizeof(t->reason), "%u failed checks: %s", t->fail_run, why);
			h->transitions++;
		}
	}
	h->health[t->slot] = slot_up(h, t->slot);
}

/* ---------------- probes ---------------- */
static void unlink_probe(struct sl_hm *h, struct sl_hm_probe *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		h->outstanding = p->next;
	if (p->next)
		p->next->prev = p->prev;
}

static struct sl_hm_probe *make_probe(struct sl_hm *h, const struct target *t, const struct mon *m)
{
	char host[80] = "";
	uint32_t extra = 0;
	if (m->kind == SL_HM_HTTP) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &t->ip, a, sizeof(a));
		/* HTTP/1.1 needs a Host header; the server's address is what we know */
		bool v11 = memmem(m->req, m->req_len, "HTTP/1.1", 8) && !memmem(m->req, m->req_len, "\nHost:", 6) &&
			   !memmem(m->req, m->req_len, "\nhost:", 6);
		snprintf(host, sizeof(host), "%s%s%sConnection: close\r\n\r\n", v11 ? "\r\nHost: " : "", v11 ? a : "",
			 "\r\n");
		extra = (uint32_t)strlen(host);
	}
	uint32_t rl = m->kind == SL_HM_DNS ? m->dnsq_len : m->kind == SL_HM_PING ? 0 : m->req_len;
	struct sl_hm_probe *p = malloc(sizeof(*p) + rl + extra + m->expect_len + 1);
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->kind = m->kind;
	p->ip = t->ip;
	p->port = m->port ? m->port : t->port ? t->port : m->kind == SL_HM_DNS ? 53 : 80;
	p->timeout_ms = m->timeout_ms;
	uint8_t *d = p->data;
	if (rl)
		memcpy(d, m->kind == SL_HM_DNS ? (const void *)m->dnsq : (const void *)m->req, rl);
	memcpy(d + rl, host, extra);
	p->req = d;
	p->req_len = rl + extra;
	if (m->kind == SL_HM_DNS) {
		h->rng ^= h->rng << 13;
		h->rng ^= h->rng >> 7;
		h->rng ^= h->rng << 17;
		d[0] = (uint8_t)(h->rng >> 8);
		d[1] = (uint8_t)h->rng;
	}
	if (m->kind == SL_HM_TCP && m->expect_len) {
		memcpy(d + rl + extra, m->expect, m->expect_len);
		p->expect = d + rl + extra;
		p->expect_len = m->expect_len;
	}
	return p;
}

static void collect(struct sl_hm *h, uint64_t now)
{
	struct sl_hm_probe *ps[64];
	unsigned n;
	if (!h->hooks.collect)
		return;
	while ((n = h->hooks.collect(h->hooks.arg, ps, 64)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct sl_hm_probe *p = ps[i];
			unsigned w = p->worker < HM_MAX_WORKERS ? p->worker : 0;
			unlink_probe(h, p);
			struct target *t = p->target < h->nt ? &h->t[p->target] : NULL;
			h->results++;
			if (h->inflight[w])
				h->inflight[w]--;
			if (!t || !t->used || t->gen != p->tgen || t->inflight != p) {
				h->stale++;   /* its target went away while the probe ran */
				free(p);
				continue;
			}
			t->inflight = NULL;
			const struct mon *m = t->mon < h->n_mons ? &h->mons[t->mon] : NULL;
			if (p->outcome == SL_HM_BUSY || !m || !m->runnable) {
				h->skipped_busy++;
				snprintf(t->last, sizeof(t->last), "skipped: the worker had no room for the probe");
			} else {
				char why[112];
				bool ok = judge(m, p, why, sizeof(why));
				apply(h, t, m, ok, why, now);
			}
			free(p);
		}
		if (n < 64)
			break;
	}
}

void sl_hm_poll(struct sl_hm *h)
{
	if (!h->hooks.submit)
		return;
	uint64_t now = hm_now(h);
	collect(h, now);
	while (h->hn && h->heap[0].due <= now) {
		struct hent e = heap_pop(h);
		struct target *t = &h->t[e.tid];
		if (!t->used || t->gen != e.gen || t->due_ms != e.due)
			continue;
		const struct mon *m = t->mon < h->n_mons ? &h->mons[t->mon] : NULL;
		uint32_t iv = m && m->interval_ms ? m->interval_ms : 10000;
		/* keep the cadence, but never try to catch up on missed rounds */
		t->due_ms = e.due + iv > now ? e.due + iv : now + iv;
		heap_push(h, t->due_ms, e.tid);
		if (!m || !m->runnable || t->inflight)
			continue;
		unsigned w = t->slot % h->n_workers;
		if (h->inflight[w] >= HM_INFLIGHT_PER_WORKER) {
			h->skipped_full++;
			continue;
		}
		struct sl_hm_probe *p = make_probe(h, t, m);
		if (!p)
			continue;
		p->target = e.tid;
		p->tgen = t->gen;
		p->worker = w;
		if (h->hooks.submit(h->hooks.arg, w, p)) {
			h->skipped_full++;
			free(p);
			continue;
		}
		p->next = h->outstanding;
		if (p->next)
			p->next->prev = p;
		h->outstanding = p;
		t->inflight = p;
		h->inflight[w]++;
		h->submitted++;
	}
}

/* ---------------- reporting ---------------- */
json_t *sl_hm_runtime(struct sl_hm *h, uint32_t slot)
{
	if (slot >= SL_MAX_HEALTH || h->slot_head[slot] == NONE)
		return NULL;
	uint64_t now = hm_now(h);
	json_t *arr = json_array();
	const struct target *latest = NULL;
	for (uint32_t i = h->slot_head[slot]; i != NONE; i = h->t[i].next_in_slot) {
		const struct target *t = &h->t[i];
		const struct mon *m = t->mon < h->n_mons ? &h->mons[t->mon] : NULL;
		if (!m)
			continue;
		if (!latest || t->last_change_ms > latest->last_change_ms)
			latest = t;
		json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:f, s:s}", "name", m->name, "type", m->type_name,
				      "state", !m->runnable ? "not_run" : t->up ? "up" : "down", "successes_in_a_row",
				      t->ok_run, "failures_in_a_row", t->fail_run, "probes_ok", (json_int_t)t->n_ok,
				      "probes_failed", (json_int_t)t->n_fail, "last_change_s_ago",
				      (double)(now - t->last_change_ms) / 1000.0, "reason", t->reason);
		if (!m->runnable)
			json_object_set_new(o, "not_run_because", json_string(m->why));
		if (t->probed) {
			json_object_set_new(o, "last_probe", json_pack("{s:b, s:s, s:f}", "ok", t->last_ok, "result", t->last,
									 "s_ago", (double)(now - t->last_probe_ms) / 1000.0));
		}
		json_array_append_new(arr, o);
	}
	return json_pack("{s:b, s:f, s:s, s:o}", "oper_up", h->health[slot] != 0, "last_change_s_ago",
			 latest ? (double)(now - latest->last_change_ms) / 1000.0 : 0.0, "reason",
			 latest ? latest->reason : "", "monitors", arr);
}

json_t *sl_hm_status(struct sl_hm *h)
{
	uint32_t n = 0, down = 0;
	for (uint32_t i = 0; i < h->nt; i++)
		if (h->t[i].used) {
			n++;
			down += !h->t[i].up;
		}
	return json_pack("{s:i, s:i, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "targets", (int)n, "targets_down", (int)down,
			 "running", h->hooks.submit != NULL, "probes_sent", (json_int_t)h->submitted, "results",
			 (json_int_t)h->results, "skipped_busy", (json_int_t)h->skipped_busy, "skipped_queue_full",
			 (json_int_t)h->skipped_full, "stale_results", (json_int_t)h->stale, "transitions",
			 (json_int_t)h->transitions);
}

void sl_hm_metrics(struct sl_hm *h, uint32_t *targets, uint32_t *down, uint64_t *sent, uint64_t *skipped)
{
	uint32_t n = 0, d = 0;
	for (uint32_t i = 0; i < h->nt; i++)
		if (h->t[i].used) {
			n++;
			d += !h->t[i].up;
		}
	*targets = n;
	*down = d;
	*sent = h->submitted;
	*skipped = h->skipped_busy + h->skipped_full;
}
