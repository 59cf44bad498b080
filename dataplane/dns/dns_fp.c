/* Per-query path: parse one DNS message, look it up in a compiled db, build
 * the response in the caller's buffer.  No heap, no locks, no logging: every
 * scratch structure lives on the stack and is bounded. */
#include <math.h>
#include <string.h>

#include "dns_priv.h"

#define HDR 12
#define CT_MAX 48         /* compression targets remembered per response */
#define MAX_HOPS 32       /* compression pointers followed per name */
#define CHASE_MAX 8       /* CNAME links followed within our zones */
#define GS_MAX_PICK 64    /* members considered per GSLB group (compile limit) */
#define UDP_MIN 512
#define UDP_MAX 1232      /* no IP fragmentation on the engine's TX path */
#define OPT_LEN 11

uint32_t sl_dns_hash(const uint8_t *w, unsigned len)
{
	uint32_t h = 2166136261u;
	for (unsigned i = 0; i < len; i++)
		h = (h ^ w[i]) * 16777619u;
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

uint32_t sl_dns_lookup(const struct sl_dns_db *db, const uint8_t *wire, unsigned len)
{
	uint32_t h = sl_dns_hash(wire, len) & db->hmask;
	for (;;) {
		uint32_t idx = db->htab[h];
		if (idx == DNS_NONE)
			return DNS_NONE;
		const struct dns_node *n = &db->nodes[idx];
		if (n->name_len == len && memcmp(db->names + n->name_off, wire, len) == 0)
			return idx;
		h = (h + 1) & db->hmask;
	}
}

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

/* Reads a possibly compressed name at *pos.  Pointers must go strictly backwards
 * from the start of the run they interrupt and not into the header, which rules
 * out loops and forward references.  out (lowercased wire name) may be NULL. */
static int read_name(const uint8_t *m, size_t len, size_t *pos, uint8_t *out, unsigned *outlen,
		     uint8_t *laboff, unsigned *nlab)
{
	size_t p = *pos, seg = *pos;
	unsigned total = 0, hops = 0, nl = 0;
	bool jumped = false;
	for (;;) {
		if (p >= len)
			return -SL_DNS_ERR_TRUNCATED;
		uint8_t c = m[p];
		if (c == 0) {
			if (out)
				out[total] = 0;
			total++;
			if (!jumped)
				*pos = p + 1;
			break;
		}
		if ((c & 0xC0) == 0xC0) {
			if (p + 1 >= len)
				return -SL_DNS_ERR_TRUNCATED;
			size_t t = (size_t)(c & 0x3F) << 8 | m[p + 1];
			if (t >= seg || t < HDR)
				return -SL_DNS_ERR_PTR_BAD;
			if (++hops > MAX_HOPS)
				return -SL_DNS_ERR_PTR_LOOP;
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			p = seg = t;
			continue;
		}
		if (c & 0xC0)
			return -SL_DNS_ERR_LABEL_TYPE;
		if (total + c + 2 > DNS_MAX_NAME)
			return -SL_DNS_ERR_NAME_LONG;
		if (p + 1 + c > len)
			return -SL_DNS_ERR_TRUNCATED;
		if (laboff)
			laboff[nl] = (uint8_t)total;
		nl++;
		if (out) {
			out[total] = c;
			for (unsigned i = 0; i < c; i++)
				out[total + 1 + i] = lower(m[p + 1 + i]);
		}
		total += c + 1u;
		p += c + 1u;
	}
	if (outlen)
		*outlen = total;
	if (nlab)
		*nlab = nl;
	return 0;
}

struct query {
	size_t qend;            /* offset after QTYPE/QCLASS */
	uint8_t name[DNS_MAX_NAME + 1];
	uint8_t laboff[128];
	unsigned name_len, nlabels;
	uint16_t qtype, qclass;
	bool edns;
	uint16_t udp;
	uint8_t version;
	bool dnssec_ok;
};

static int parse_query(const uint8_t *m, size_t len, struct query *q)
{
	if (rd16(m + 4) != 1)
		return -SL_DNS_ERR_QDCOUNT;
	size_t pos = HDR;
	int rc = read_name(m, len, &pos, q->name, &q->name_len, q->laboff, &q->nlabels);
	if (rc)
		return rc;
	if (pos + 4 > len)
		return -SL_DNS_ERR_TRUNCATED;
	q->qtype = rd16(m + pos);
	q->qclass = rd16(m + pos + 2);
	pos += 4;
	q->qend = pos;
	if (rd16(m + 6) || rd16(m + 8))
		return -SL_DNS_ERR_COUNTS;
	unsigned ar = rd16(m + 10);
	for (unsigned i = 0; i < ar; i++) {
		size_t start = pos;
		rc = read_name(m, len, &pos, NULL, NULL, NULL, NULL);
		if (rc)
			return rc;
		if (pos + 10 > len)
			return -SL_DNS_ERR_TRUNCATED;
		uint16_t type = rd16(m + pos), cls = rd16(m + pos + 2);
		uint32_t ttl = rd32(m + pos + 4);
		uint16_t rdlen = rd16(m + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			return -SL_DNS_ERR_TRUNCATED;
		if (type == DNS_T_OPT) {
			if (q->edns)
				return -SL_DNS_ERR_OPT_DUP;
			if (pos - 10 - start != 1)
				return -SL_DNS_ERR_OPT_NAME;
			size_t o = pos, end = pos + rdlen;
			while (o < end) {
				if (o + 4 > end || o + 4 + rd16(m + o + 2) > end)
					return -SL_DNS_ERR_OPT_OPTION;
				o += 4 + rd16(m + o + 2);
			}
			q->edns = true;
			q->udp = cls;
			q->version = (uint8_t)(ttl >> 16);
			q->dnssec_ok = (ttl & 0x8000) != 0;
		}
		pos += rdlen;
	}
	if (pos != len)
		return -SL_DNS_ERR_TRAILING;
	if (q->qtype == 0 || q->qtype == DNS_T_OPT)
		return -SL_DNS_ERR_QTYPE;
	return 0;
}

/* ---- response builder ---- */

struct ctarget { const uint8_t *s; uint16_t off; uint8_t len; };

struct builder {
	uint8_t *r;
	size_t lim, pos;
	bool over;
	unsigned nct;
	struct ctarget ct[CT_MAX];
	uint16_t an, ns;
};

static void ct_add(struct builder *b, const uint8_t *s, unsigned len, size_t off)
{
	if (b->nct < CT_MAX && off < 0x4000) {
		b->ct[b->nct].s = s;
		b->ct[b->nct].len = (uint8_t)len;
		b->ct[b->nct].off = (uint16_t)off;
		b->nct++;
	}
}

static inline bool room(struct builder *b, size_t n)
{
	if (b->pos + n > b->lim) {
		b->over = true;
		return false;
	}
	return true;
}

/* Writes a trusted lowercase wire name, compressed against names already in the
 * message when allowed (never for SRV targets, RFC 2782). */
static bool put_name(struct builder *b, const uint8_t *name, unsigned len, bool compress)
{
	unsigned i = 0;
	int hit = -1;
	if (compress) {
		for (i = 0; name[i] != 0; i += name[i] + 1u) {
			unsigned sl = len - i;
			for (unsigned k = 0; k < b->nct; k++) {
				if (b->ct[k].len == sl && memcmp(b->ct[k].s, name + i, sl) == 0) {
					hit = (int)k;
					break;
				}
			}
			if (hit >= 0)
				break;
		}
	} else {
		i = len - 1;
	}
	size_t need = hit >= 0 ? i + 2u : len;
	if (!room(b, need))
		return false;
	size_t start = b->pos;
	if (hit >= 0) {
		memcpy(b->r + b->pos, name, i);
		b->pos += i;
		wr16(b->r + b->pos, (uint16_t)(0xC000 | b->ct[hit].off));
		b->pos += 2;
	} else {
		memcpy(b->r + b->pos, name, len);
		b->pos += len;
		i = len - 1;
	}
	for (unsigned j = 0; j < i; j += name[j] + 1u)
		ct_add(b, name + j, len - j, start + j);
	return true;
}

static bool put_rr(struct builder *b, const uint8_t *owner, unsigned olen, uint16_t type,
		   uint32_t ttl, const uint8_t *rd, unsigned rdlen)
{
	if (!put_name(b, owner, olen, true) || !room(b, 10))
		return false;
	uint8_t *h = b->r + b->pos;
	wr16(h, type);
	wr16(h + 2, 1);
	wr32(h + 4, ttl);
	b->pos += 10;
	size_t rdstart = b->pos;
	switch (type) {
	case DNS_T_CNAME:
	case DNS_T_NS:
	case DNS_T_PTR:
		if (!put_name(b, rd, rdlen, true))
			return false;
		break;
	case DNS_T_MX:
		if (!room(b, 2))
			return false;
		memcpy(b->r + b->pos, rd, 2);
		b->pos += 2;
		if (!put_name(b, rd + 2, rdlen - 2, true))
			return false;
		break;
	case DNS_T_SOA: {
		unsigned l1 = 0, l2 = 0;
		while (rd[l1])
			l1 += rd[l1] + 1u;
		l1++;
		while (rd[l1 + l2])
			l2 += rd[l1 + l2] + 1u;
		l2++;
		if (!put_name(b, rd, l1, true) || !put_name(b, rd + l1, l2, true) || !room(b, 20))
			return false;
		memcpy(b->r + b->pos, rd + l1 + l2, 20);
		b->pos += 20;
		break;
	}
	case DNS_T_SRV:
		if (!room(b, 6))
			return false;
		memcpy(b->r + b->pos, rd, 6);
		b->pos += 6;
		if (!put_name(b, rd + 6, rdlen - 6, false))
			return false;
		break;
	default:
		if (!room(b, rdlen))
			return false;
		memcpy(b->r + b->pos, rd, rdlen);
		b->pos += rdlen;
	}
	wr16(h + 8, (uint16_t)(b->pos - rdstart));
	return true;
}

static void log_a(struct sl_dns_qlog *ql, uint32_t ip_be, int32_t slot)
{
	if (ql->n_ans < 8) {
		ql->ans_ip[ql->n_ans] = ip_be;
		ql->ans_slot[ql->n_ans] = slot;
		ql->n_ans++;
	}
}

static inline uint32_t *wstate(const struct sl_dns_db *db, unsigned worker)
{
	return db->state + (size_t)worker * db->stride;
}

static inline uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static bool put_rrset(const struct sl_dns_db *db, struct builder *b, uint32_t *ws,
		      const uint8_t *owner, unsigned olen, uint32_t rsi, uint32_t client,
		      struct sl_dns_qlog *ql)
{
	const struct dns_rrset *rs = &db->rrsets[rsi];
	unsigned c = rs->count, n = rs->nresp && rs->nresp < c ? rs->nresp : c, start = 0;
	if (c > 1) {
		if (rs->algo == RR_ALGO_CH)
			start = mix32(client) % c;
		else
			start = ws[rs->rot]++ % c;
	}
	for (unsigned k = 0; k < n; k++) {
		unsigned i = start + k;
		if (i >= c)
			i -= c;
		const struct dns_rr *rr = &db->rrs[rs->first + i];
		if (!put_rr(b, owner, olen, rs->type, rs->ttl, db->rdata + rr->off, rr->len))
			return false;
		b->an++;
		if (rs->type == DNS_T_A) {
			uint32_t ip;
			memcpy(&ip, db->rdata + rr->off, 4);
			log_a(ql, ip, -1);
		}
	}
	return true;
}

static bool put_soa_auth(const struct sl_dns_db *db, struct builder *b, uint32_t zone)
{
	const struct dns_zone *z = &db->zones[zone];
	const struct dns_node *apex = &db->nodes[z->node];
	const struct dns_rrset *rs = &db->rrsets[apex->rrset[TI_SOA]];
	const struct dns_rr *rr = &db->rrs[rs->first];
	if (!put_rr(b, db->names + apex->name_off, apex->name_len, DNS_T_SOA, z->neg_ttl,
		    db->rdata + rr->off, rr->len))
		return false;
	b->ns++;
	return true;
}

static inline bool member_up(const struct sl_dns_db *db, const struct dns_member *m)
{
	return m->enabled && (!db->health || db->health[m->slot] != 0);
}

static bool put_a(struct builder *b, const uint8_t *owner, unsigned olen, uint32_t ttl,
		  uint32_t ip_be, int32_t slot, struct sl_dns_qlog *ql)
{
	if (!put_rr(b, owner, olen, DNS_T_A, ttl, (const uint8_t *)&ip_be, 4))
		return false;
	b->an++;
	log_a(ql, ip_be, slot);
	return true;
}

/* Picks up to want members of one group (0 = all up) into out[]; returns count. */
static unsigned gslb_pick(const struct sl_dns_db *db, const struct dns_group *g, uint32_t *ws,
			  uint32_t client, unsigned want, uint32_t *out)
{
	const struct dns_member *m = db->members + g->first;
	unsigned cnt = g->count, nup = 0, n = 0;
	bool up[GS_MAX_PICK];
	for (unsigned i = 0; i < cnt; i++) {
		up[i] = member_up(db, &m[i]);
		nup += up[i];
	}
	if (!nup)
		return 0;
	if (!want || want > nup)
		want = nup;
	switch (g->algo) {
	case GS_ALGO_RR: {
		/* nginx smooth weighted round robin: holds the ratio over short windows. */
		int32_t *cw = (int32_t *)(ws + g->cw);
		int32_t total = 0;
		unsigned best = cnt;
		for (unsigned i = 0; i < cnt; i++) {
			if (!up[i])
				continue;
			cw[i] += m[i].ratio;
			total += m[i].ratio;
			if (best == cnt || cw[i] > cw[best])
				best = i;
		}
		cw[best] -= total;
		for (unsigned k = 0; k < cnt && n < want; k++) {
			unsigned i = (best + k) % cnt;
			if (up[i])
				out[n++] = i;
		}
		break;
	}
	case GS_ALGO_CH: {
		/* Weighted rendezvous hashing: a member going down only moves its own clients. */
		uint32_t key = client & g->mask_be;
		double score[GS_MAX_PICK];
		for (unsigned i = 0; i < cnt; i++) {
			if (!up[i])
				continue;
			uint32_t h = mix32(key ^ m[i].hkey) ^ mix32(m[i].hkey + key * 0x9e3779b9u);
			double u = ((double)h + 0.5) / 4294967296.0;
			score[i] = -(double)m[i].ratio / log(u);
		}
		while (n < want) {
			unsigned best = cnt;
			for (unsigned i = 0; i < cnt; i++)
				if (up[i] && (best == cnt || score[i] > score[best]))
					best = i;
			out[n++] = best;
			up[best] = false;
		}
		break;
	}
	default: /* preference order: compile sorted members by preference_order */
		for (unsigned i = 0; i < cnt && n < want; i++)
			if (up[i])
				out[n++] = i;
	}
	return n;
}

enum { GS_OK, GS_EMPTY, GS_DROP, GS_FULL };

static int gslb_answer(const struct sl_dns_db *db, struct builder *b, uint32_t *ws,
		       const uint8_t *owner, unsigned olen, uint32_t gi, uint32_t client,
		       struct sl_dns_qlog *ql)
{
	const struct dns_gslb *gs = &db->gslbs[gi];
	uint32_t pick[GS_MAX_PICK];
	ql->flags |= SL_DNS_QL_GSLB;
	for (unsigned k = 0; k < gs->ngroups; k++) {
		const struct dns_group *g = &db->groups[gs->first_group + k];
		unsigned n = gslb_pick(db, g, ws, client, gs->num_ip, pick);
		if (!n)
			continue;
		for (unsigned i = 0; i < n; i++) {
			const struct dns_member *m = &db->members[g->first + pick[i]];
			if (!put_a(b, owner, olen, gs->ttl, m->ip_be, (int32_t)m->slot, ql))
				return GS_FULL;
		}
		return GS_OK;
	}
	ql->flags |= SL_DNS_QL_DOWN;
	switch (gs->down) {
	case GS_DOWN_ALL: {
		unsigned before = b->an;
		for (unsigned k = 0; k < gs->ngroups; k++) {
			const struct dns_group *g = &db->groups[gs->first_group + k];
			for (unsigned i = 0; i < g->count; i++) {
				const struct dns_member *m = &db->members[g->first + i];
				if (m->enabled && !put_a(b, owner, olen, gs->ttl, m->ip_be, (int32_t)m->slot, ql))
					return GS_FULL;
			}
		}
		return b->an != before ? GS_OK : GS_EMPTY;
	}
	case GS_DOWN_FALLBACK:
		return put_a(b, owner, olen, gs->ttl, gs->fallback_be, -1, ql) ? GS_OK : GS_FULL;
	case GS_DOWN_EMPTY:
		return GS_EMPTY;
	default:
		return GS_DROP;
	}
}

static int type_index(uint16_t t)
{
	switch (t) {
	case DNS_T_A: return TI_A;
	case DNS_T_AAAA: return TI_AAAA;
	case DNS_T_CNAME: return TI_CNAME;
	case DNS_T_NS: return TI_NS;
	case DNS_T_SOA: return TI_SOA;
	case DNS_T_SRV: return TI_SRV;
	case DNS_T_MX: return TI_MX;
	case DNS_T_TXT: return TI_TXT;
	case DNS_T_PTR: return TI_PTR;
	default: return -1;
	}
}

static void qname_text(const uint8_t *m, struct sl_dns_qlog *ql)
{
	size_t p = HDR, o = 0;
	char *s = ql->qname;
	if (m[p] == 0) {
		s[o++] = '.';
	}
	while (m[p] != 0) {
		unsigned l = m[p++];
		for (unsigned i = 0; i < l; i++, p++) {
			uint8_t c = m[p];
			bool plain = c > 0x20 && c < 0x7f && c != '.' && c != '\\';
			size_t need = plain ? 1 : (c == '.' || c == '\\') ? 2 : 4;
			if (o + need >= sizeof(ql->qname))
				goto done;
			if (plain) {
				s[o++] = (char)c;
			} else if (c == '.' || c == '\\') {
				s[o++] = '\\';
				s[o++] = (char)c;
			} else {
				s[o++] = '\\';
				s[o++] = (char)('0' + c / 100);
				s[o++] = (char)('0' + c / 10 % 10);
				s[o++] = (char)('0' + c % 10);
			}
		}
		if (m[p] != 0 && o + 1 < sizeof(ql->qname))
			s[o++] = '.';
	}
done:
	s[o] = 0;
}

/* Header-only error answer (FORMERR, NOTIMP): the question may be unreadable. */
static size_t err_header(const uint8_t *q, uint8_t *r, uint8_t rcode, int err, struct sl_dns_qlog *ql)
{
	memcpy(r, q, 2);
	r[2] = (uint8_t)(0x80 | (q[2] & 0x79));   /* QR, opcode, RD */
	r[3] = rcode;
	memset(r + 4, 0, 8);
	ql->rcode = rcode;
	ql->err = (uint8_t)err;
	return HDR;
}

size_t sl_dns_answer(const struct sl_dns_db *db, unsigned worker, const uint8_t *q, size_t qlen,
		     uint8_t *resp, size_t cap, uint32_t client_ip_be, bool over_tcp,
		     struct sl_dns_qlog *ql)
{
	ql->qtype = 0;
	ql->rcode = 0;
	ql->drop = SL_DNS_DROP_NONE;
	ql->n_ans = 0;
	ql->err = 0;
	ql->flags = 0;
	ql->qname[0] = 0;

	if (qlen < HDR) {
		ql->drop = SL_DNS_DROP_SHORT;
		return 0;
	}
	if (q[2] & 0x80) {
		ql->drop = SL_DNS_DROP_QR;
		return 0;
	}
	if (cap < HDR) {
		ql->drop = SL_DNS_DROP_NO_SPACE;
		return 0;
	}
	if (over_tcp && !db->tcp) {
		ql->drop = SL_DNS_DROP_TCP_DISABLED;
		return 0;
	}
	if (((q[2] >> 3) & 0xF) != 0)
		return err_header(q, resp, 4, SL_DNS_ERR_OPCODE, ql);

	struct query qq;
	qq.edns = false;
	int rc = parse_query(q, qlen, &qq);
	if (rc)
		return err_header(q, resp, 1, -rc, ql);
	ql->qtype = qq.qtype;
	qname_text(q, ql);

	bool edns = qq.edns && db->edns;
	size_t lim;
	if (over_tcp)
		lim = 65535;
	else if (edns)
		lim = qq.udp < UDP_MIN ? UDP_MIN : qq.udp > UDP_MAX ? UDP_MAX : qq.udp;
	else
		lim = UDP_MIN;
	if (lim > cap)
		lim = cap;

	struct builder b;
	b.r = resp;
	b.lim = lim - (edns ? OPT_LEN : 0);
	b.over = false;
	b.nct = 0;
	b.an = b.ns = 0;
	size_t qsz = qq.qend - HDR;
	if (lim < HDR + qsz + (edns ? OPT_LEN : 0)) {
		ql->drop = SL_DNS_DROP_NO_SPACE;
		return 0;
	}
	memcpy(resp + HDR, q + HDR, qsz);
	b.pos = HDR + qsz;
	for (unsigned i = 0; i < qq.nlabels; i++)
		ct_add(&b, qq.name + qq.laboff[i], qq.name_len - qq.laboff[i], HDR + qq.laboff[i]);

	unsigned rcode = 0;
	bool aa = false;
	uint32_t *ws = wstate(db, worker < db->n_workers ? worker : worker % db->n_workers);

	if (edns && qq.version != 0) {
		rcode = 16;
		ql->err = SL_DNS_ERR_BADVERS;
		goto finish;
	}
	if (qq.qclass != 1 && qq.qclass != 255) {
		rcode = 5;
		ql->err = SL_DNS_ERR_CLASS;
		goto finish;
	}
	if (qq.qtype == DNS_T_AXFR || qq.qtype == DNS_T_IXFR) {
		rcode = 5;
		ql->err = SL_DNS_ERR_XFR;
		goto finish;
	}

	/* Current name being resolved: the question, then CNAME targets. */
	const uint8_t *cur = qq.name;
	unsigned cur_len = qq.name_len;
	int ti = type_index(qq.qtype);
	for (unsigned depth = 0;; depth++) {
		uint8_t loff[128];
		unsigned nl = 0;
		for (unsigned i = 0; cur[i]; i += cur[i] + 1u)
			loff[nl++] = (uint8_t)i;
		uint32_t ni = sl_dns_lookup(db, cur, cur_len);
		if (ni == DNS_NONE) {
			uint32_t ce = DNS_NONE;
			for (unsigned l = 1; l < nl && ce == DNS_NONE; l++)
				ce = sl_dns_lookup(db, cur + loff[l], cur_len - loff[l]);
			if (ce == DNS_NONE && nl > 0)
				ce = sl_dns_lookup(db, cur + cur_len - 1, 1);
			const struct dns_node *cn = ce == DNS_NONE ? NULL : &db->nodes[ce];
			if (cn && cn->wild_child != DNS_NONE)
				ni = cn->wild_child;
			else if (cn && (cn->flags & NODE_WILDMATCH))
				ni = ce;
			else if (cn && cn->zone != DNS_NONE) {
				rcode = 3;
				aa = true;
				if (!put_soa_auth(db, &b, cn->zone))
					goto finish;
				goto finish;
			} else if (depth == 0) {
				if (!db->refuse_outside) {
					ql->drop = SL_DNS_DROP_NOT_AUTH;
					return 0;
				}
				rcode = 5;
				goto finish;
			} else {
				goto finish;   /* CNAME leads outside our data: resolver continues */
			}
		}
		const struct dns_node *n = &db->nodes[ni];
		aa = true;
		if (qq.qtype == DNS_T_ANY) {
			unsigned before = b.an;
			for (int t = 0; t < TI_MAX; t++)
				if (n->rrset[t] != DNS_NONE &&
				    !put_rrset(db, &b, ws, cur, cur_len, n->rrset[t], client_ip_be, ql))
					goto finish;
			if (n->gslb != DNS_NONE && n->rrset[TI_A] == DNS_NONE) {
				int g = gslb_answer(db, &b, ws, cur, cur_len, n->gslb, client_ip_be, ql);
				if (g == GS_FULL)
					goto finish;
			}
			if (b.an == before) {
				ql->flags |= SL_DNS_QL_NODATA;
				if (n->zone != DNS_NONE)
					put_soa_auth(db, &b, n->zone);
			}
			goto finish;
		}
		if (ti >= 0 && n->rrset[ti] != DNS_NONE) {
			put_rrset(db, &b, ws, cur, cur_len, n->rrset[ti], client_ip_be, ql);
			goto finish;
		}
		if (ti == TI_A && n->gslb != DNS_NONE) {
			int g = gslb_answer(db, &b, ws, cur, cur_len, n->gslb, client_ip_be, ql);
			if (g == GS_DROP && depth == 0) {
				ql->drop = SL_DNS_DROP_GSLB_DOWN;
				return 0;
			}
			if (g == GS_OK || g == GS_FULL)
				goto finish;
			/* EMPTY (or NONE behind a CNAME): NODATA below */
		} else if (n->rrset[TI_CNAME] != DNS_NONE && depth < CHASE_MAX) {
			const struct dns_rrset *rs = &db->rrsets[n->rrset[TI_CNAME]];
			const struct dns_rr *rr = &db->rrs[rs->first];
			if (!put_rrset(db, &b, ws, cur, cur_len, n->rrset[TI_CNAME], client_ip_be, ql))
				goto finish;
			cur = db->rdata + rr->off;
			cur_len = rr->len;
			continue;
		}
		ql->flags |= SL_DNS_QL_NODATA;
		if (n->zone != DNS_NONE)
			put_soa_auth(db, &b, n->zone);
		goto finish;
	}

finish:
	if (b.over) {
		b.pos = HDR + qsz;
		b.an = b.ns = 0;
		ql->flags |= SL_DNS_QL_TC;
		ql->n_ans = 0;
	}
	resp[0] = q[0];
	resp[1] = q[1];
	resp[2] = (uint8_t)(0x80 | (aa ? 0x04 : 0) | (b.over ? 0x02 : 0) | (q[2] & 0x01));
	resp[3] = (uint8_t)((rcode & 0xF) | (q[3] & 0x10));   /* CD echoed */
	wr16(resp + 4, 1);
	wr16(resp + 6, b.an);
	wr16(resp + 8, b.ns);
	wr16(resp + 10, edns ? 1 : 0);
	if (edns) {
		uint8_t *o = resp + b.pos;
		o[0] = 0;
		wr16(o + 1, DNS_T_OPT);
		wr16(o + 3, UDP_MAX);
		o[5] = (uint8_t)(rcode >> 4);
		o[6] = 0;
		o[7] = qq.dnssec_ok ? 0x80 : 0;
		o[8] = 0;
		wr16(o + 9, 0);
		b.pos += OPT_LEN;
		ql->flags |= SL_DNS_QL_EDNS;
	}
	if (aa)
		ql->flags |= SL_DNS_QL_AA;
	ql->rcode = (uint8_t)rcode;
	return b.pos;
}
