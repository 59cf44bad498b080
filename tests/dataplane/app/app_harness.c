#include "app_harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#define ENG_FE "198.18.0.1"
#define ENG_BE "198.18.1.1"

struct inbox_ent {
	struct rte_mbuf *m;
	uint32_t saddr, daddr;
	uint8_t hdr_len;
};

/* segments in flight toward each stack, delivered by h_pump */
static struct inbox_ent box[2][65536];
static unsigned box_n[2];

uint32_t h_ip(const char *s)
{
	struct in_addr a;

	cr_assert(inet_pton(AF_INET, s, &a) == 1);
	return a.s_addr;
}

static void b_ref(void *ctx, struct sl_buf *b)
{
	(void)ctx;
	rte_mbuf_refcnt_update((struct rte_mbuf *)b, 1);
}

static void b_unref(void *ctx, struct sl_buf *b)
{
	(void)ctx;
	rte_pktmbuf_free_seg((struct rte_mbuf *)b);
}

static const uint8_t *b_data(void *ctx, const struct sl_buf *b, uint32_t *len)
{
	(void)ctx;
	*len = ((const struct rte_mbuf *)b)->data_len;
	return rte_pktmbuf_mtod((const struct rte_mbuf *)b, const uint8_t *);
}

static struct sl_buf *b_next(void *ctx, const struct sl_buf *b)
{
	(void)ctx;
	return (struct sl_buf *)((const struct rte_mbuf *)b)->next;
}

static const struct sl_buf_ops bops = { b_ref, b_unref, b_data, b_next };

/* one frame per segment: header and payload copied into a fresh mbuf */
static int tx_to(struct harness *h, int to, const struct sl_tcp_seg_out *seg)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(h->pool);
	uint8_t *p;

	cr_assert(m, "harness out of mbufs");
	cr_assert(box_n[to] < sizeof(box[0]) / sizeof(box[0][0]), "inbox full");
	p = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(p, seg->hdr, seg->hdr_len);
	p += seg->hdr_len;
	for (unsigned i = 0; i < seg->n_iov; i++) {
		const struct rte_mbuf *b = (const struct rte_mbuf *)seg->iov[i].buf;
		uint32_t off = seg->iov[i].off, left = seg->iov[i].len;

		while (b && off >= b->data_len) {
			off -= b->data_len;
			b = b->next;
		}
		while (b && left) {
			uint32_t n = RTE_MIN(left, (uint32_t)b->data_len - off);

			memcpy(p, rte_pktmbuf_mtod_offset(b, const uint8_t *, off), n);
			p += n;
			left -= n;
			off = 0;
			b = b->next;
		}
	}
	m->data_len = (uint16_t)(seg->hdr_len + seg->payload_len);
	m->pkt_len = m->data_len;
	box[to][box_n[to]++] = (struct inbox_ent){ m, seg->saddr, seg->daddr, seg->hdr_len };
	return 0;
}

static int tx_eng(void *arg, const struct sl_tcp_seg_out *seg)
{
	return tx_to(arg, 1, seg);
}

static int tx_peer(void *arg, const struct sl_tcp_seg_out *seg)
{
	return tx_to(arg, 0, seg);
}

static uint32_t src_for(void *arg, uint32_t dst)
{
	(void)arg;
	if ((dst & htonl(0xffffff00)) == h_ip("198.18.1.0"))
		return h_ip(ENG_BE);
	if ((dst & htonl(0xffffff00)) == h_ip("198.18.0.0"))
		return h_ip(ENG_FE);
	return 0;
}

static int publish(void *arg, struct sl_gen *g)
{
	struct harness *h = arg;

	/* old generations stay: pinned connections may still read them */
	cr_assert(h->n_gens < H_MAX_GENS);
	h->gens[h->n_gens++] = g;
	__atomic_store_n(&h->gen, g, __ATOMIC_RELEASE);
	return 0;
}

/* ---- the peer's side: raw TCP */
static void p_flush(struct harness *h, struct peer_conn *p)
{
	while (p->c && p->tx_off < p->tx_len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(h->pool);
		uint32_t n = (uint32_t)RTE_MIN(p->tx_len - p->tx_off, (size_t)1448);
		int rc;

		cr_assert(m);
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), p->tx + p->tx_off, n);
		m->data_len = (uint16_t)n;
		m->pkt_len = n;
		rc = sl_tcp_send(p->c, (struct sl_buf *)m, 0, n);
		rte_pktmbuf_free(m);
		if (rc == -EAGAIN)
			return;
		cr_assert_eq(rc, 0, "peer send: %d", rc);
		p->tx_off += n;
	}
	/* a FIN needs an established connection (SYN_SENT refuses shutdown) */
	if (p->c && p->connected && p->close_when_sent && p->tx_off == p->tx_len) {
		sl_tcp_shutdown(p->c, 1);
		p->close_when_sent = false;
	}
}

static struct harness *cur_h;

static const char *find(const char *b, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (!strncasecmp(b + i, needle, k))
			return b + i;
	return NULL;
}

static unsigned http_status(const struct peer_conn *p)
{
	uint32_t lip, rip;
	uint16_t lport, rport;

	sl_tcp_conn_tuple(p->c, &lip, &lport, &rip, &rport);
	for (unsigned i = 0; i < cur_h->n_st; i++)
		if (cur_h->st_ip[i] == lip)
			return cur_h->st_code[i];
	return 200;
}

static unsigned st_index(struct harness *h, uint32_t ip)
{
	unsigned i;

	for (i = 0; i < h->n_st && h->st_ip[i] != ip; i++)
		;
	cr_assert(i < 8);
	if (i == h->n_st) {
		h->st_ip[i] = ip;
		h->st_code[i] = 200;
		h->st_body[i] = 0;
		h->n_st++;
	}
	return i;
}

void h_http_status(struct harness *h, uint32_t ip, uint16_t status)
{
	h->st_code[st_index(h, ip)] = status;
}

void h_http_body(struct harness *h, uint32_t ip, uint32_t len)
{
	cr_assert(len <= (4u << 20));
	h->st_body[st_index(h, ip)] = len;
}

/* the large answer of p's address, or 0 */
static uint32_t http_body(const struct peer_conn *p)
{
	uint32_t lip, rip;
	uint16_t lport, rport;

	sl_tcp_conn_tuple(p->c, &lip, &lport, &rip, &rport);
	for (unsigned i = 0; i < cur_h->n_st; i++)
		if (cur_h->st_ip[i] == lip)
			return cur_h->st_body[i];
	return 0;
}

/* answers every complete request in rx past p->scan */
static void http_serve(struct peer_conn *p)
{
	for (;;) {
		const char *b = (const char *)p->rx + p->scan, *e;
		size_t n = p->rx_len - p->scan, head, end;
		const char *cl, *te;
		char *o;
		int len;

		e = find(b, n, "\r\n\r\n");
		if (!e)
			return;
		head = (size_t)(e - b) + 4;
		cl = find(b, head, "\r\nContent-Length:");
		te = find(b, head, "\r\nTransfer-Encoding: chunked");
		end = head;
		if (cl) {
			end += strtoul(cl + 17, NULL, 10);
		} else if (te) {
			/* the last chunk, then trailers (maybe none) up to an empty line */
			const char *z = n - head >= 3 && !memcmp(b + head, "0\r\n", 3) ? b + head - 2
												: find(b + head, n - head, "\r\n0\r\n");
			const char *t = z ? find(z + 2, n - (size_t)(z + 2 - b), "\r\n\r\n") : NULL;

			if (!t)
				return;
			end = (size_t)(t - b) + 4;
		}
		if (end > n)
			return;
		if (http_body(p)) {
			/* a large answer: head and body in the harness's one big buffer */
			uint32_t bl = http_body(p);
			int hl;

			if (!cur_h->big)
				cur_h->big = malloc((4u << 20) + 128);
			cr_assert(cur_h->big);
			hl = snprintf(cur_h->big, 128, "HTTP/1.1 %u X\r\nContent-Length: %u\r\n\r\n", http_status(p), bl);
			memset(cur_h->big + hl, 'b', bl);
			p->served++;
			p->scan += end;
			p->tx = (const uint8_t *)cur_h->big;
			p->tx_len = (size_t)hl + bl;
			p->tx_off = 0;
			p_flush(cur_h, p);
			continue;
		}
		o = p->out[p->served % 64];
		len = snprintf(o, sizeof(p->out[0]), "HTTP/1.1 %u %s\r\nContent-Length: %u\r\n\r\nr%u", http_status(p),
			       http_status(p) == 200 ? "OK" : "X",
			       p->served < 10 ? 2u : p->served < 100 ? 3u : 4u, p->served);
		p->served++;
		p->scan += end;
		/* one answer in flight at a time is all the proxy sends: queue it */
		p->tx = (const uint8_t *)o;
		p->tx_len = (size_t)len;
		p->tx_off = 0;
		p_flush(cur_h, p);
	}
}

static void p_recv(void *uarg, struct sl_tcp_conn *c, struct sl_buf *b, uint32_t off, uint32_t len)
{
	struct peer_conn *p = uarg;
	const struct rte_mbuf *m = (const struct rte_mbuf *)b;

	(void)c;
	if (p->rx_len + len > p->rx_cap) {
		p->rx_cap = (p->rx_len + len) * 2;
		p->rx = realloc(p->rx, p->rx_cap);
		cr_assert(p->rx);
	}
	while (m && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (m && len) {
		uint32_t n = RTE_MIN(len, (uint32_t)m->data_len - off);

		memcpy(p->rx + p->rx_len, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n);
		p->rx_len += n;
		len -= n;
		off = 0;
		m = m->next;
	}
	if (p->http) {
		http_serve(p);
		return;
	}
	if (p->echo) {
		/* echo what arrived since the last echo */
		p->tx = p->rx;
		p->tx_len = p->rx_len;
		p_flush(cur_h, p);
	}
}

static void p_writable(void *uarg, struct sl_tcp_conn *c)
{
	(void)c;
	p_flush(cur_h, uarg);
}

static void p_closed(void *uarg, struct sl_tcp_conn *c)
{
	struct peer_conn *p = uarg;

	(void)c;
	p->peer_closed = true;
	if (p->echo)
		p->close_when_sent = true, p_flush(cur_h, p);
}

static void p_error(void *uarg, struct sl_tcp_conn *c, int reason)
{
	struct peer_conn *p = uarg;

	p->err = reason;
	p->dead = true;
	sl_tcp_close(c);
	p->c = NULL;
}

static void p_connected(void *uarg, struct sl_tcp_conn *c)
{
	struct peer_conn *p = uarg;

	(void)c;
	p->connected = true;
	p_flush(cur_h, p);
}

static const struct sl_tcp_ops p_ops = { p_connected, p_recv, p_writable, p_closed, p_error };

static struct peer_conn *pc_new(struct harness *h)
{
	struct peer_conn *p;

	cr_assert(h->n_pc < sizeof(h->pc) / sizeof(h->pc[0]));
	p = &h->pc[h->n_pc++];
	memset(p, 0, sizeof(*p));
	return p;
}

static int p_accept(void *arg, struct sl_tcp_conn *c)
{
	struct harness *h = arg;
	struct peer_conn *p = pc_new(h);

	p->c = c;
	p->connected = true;
	p->echo = true;
	h->accepted++;
	sl_tcp_set_ops(c, &p_ops, p);
	return 0;
}

static const struct sl_tcp_listen_ops p_lops = { .accept = p_accept };

static int p_accept_http(void *arg, struct sl_tcp_conn *c)
{
	int rc = p_accept(arg, c);
	struct harness *h = arg;

	h->pc[h->n_pc - 1].echo = false;
	h->pc[h->n_pc - 1].http = true;
	return rc;
}

static const struct sl_tcp_listen_ops p_lops_http = { .accept = p_accept_http };

void h_listen_http(struct harness *h, uint32_t ip, uint16_t port)
{
	int err = 0;

	cr_assert(sl_tcp_listen(h->peer, ip, port, &p_lops_http, h, &err), "peer listen: %d", err);
}

void h_listen_echo(struct harness *h, uint32_t ip, uint16_t port)
{
	int err = 0;

	cr_assert(sl_tcp_listen(h->peer, ip, port, &p_lops, h, &err), "peer listen: %d", err);
}

struct peer_conn *h_connect(struct harness *h, uint32_t src, uint32_t dst, uint16_t port)
{
	struct peer_conn *p = pc_new(h);
	int err = 0;

	p->c = sl_tcp_connect(h->peer, src, dst, port, &p_ops, p, &err);
	cr_assert(p->c, "peer connect: %d", err);
	return p;
}

void h_send(struct harness *h, struct peer_conn *p, const void *data, size_t len)
{
	p->tx = data;
	p->tx_len = len;
	p->tx_off = 0;
	p_flush(h, p);
}

/* ---- set-up */
static void eal_once(void)
{
	static bool done;
	char prefix[48];
	char *argv[] = { "test_app", "--no-huge", "-m", "768", "--no-pci", "--no-shconf", prefix, "--no-telemetry",
			 "-l", "0", "--log-level=lib.*:error", NULL };

	if (done)
		return;
	snprintf(prefix, sizeof(prefix), "--file-prefix=sl_test_app_%d", (int)getpid());
	cr_assert(rte_eal_init(11, argv) >= 0, "EAL init");
	done = true;
}

static struct sl_tcp_stack *mk_stack(struct harness *h, int (*tx)(void *, const struct sl_tcp_seg_out *),
				     uint64_t seed)
{
	struct sl_tcp_conf conf;

	sl_tcp_conf_defaults(&conf);
	conf.max_conns = 8192;
	conf.max_tw = 8192;
	conf.sndq_max = 1024;
	conf.rcvbuf_max = 1u << 20;
	conf.max_listeners = 16;
	conf.seed = seed;
	memset(conf.secret, (int)seed, sizeof(conf.secret));
	conf.buf_ops = &bops;
	conf.tx = tx;
	conf.tx_arg = h;
	conf.msl_ms = 1000;
	return sl_tcp_stack_create(&conf, h->now);
}

void h_init(struct harness *h, uint16_t echo_port, uint16_t sink_port)
{
	static uint32_t ips[2];
	struct sl_ctl_conf cc = { 0 };
	struct sl_ctl_hooks hooks = { .arg = h, .publish = publish };
	char state[96], sock[96], err[256];
	struct sl_app_env env;
	struct sl_app_conf ac;
	int e = 0;

	eal_once();
	memset(h, 0, sizeof(*h));
	cur_h = h;
	box_n[0] = box_n[1] = 0;
	h->now = 1000000;
	h->pool = rte_pktmbuf_pool_create("h_pool", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	cr_assert(h->pool);
	h->eng = mk_stack(h, tx_eng, 1);
	h->peer = mk_stack(h, tx_peer, 2);
	cr_assert(h->eng && h->peer);
	ips[0] = h_ip(ENG_FE);
	ips[1] = h_ip(ENG_BE);
	env = (struct sl_app_env){ .worker_id = 0, .n_workers = 1, .pool = h->pool, .st = h->eng, .now_us = &h->now,
				   .gen = &h->gen, .src_for = src_for, .arg = h };
	ac = (struct sl_app_conf){ .max_conns = 8192, .echo_port = echo_port, .sink_port = sink_port,
				   .local_ips = ips, .n_local_ips = 2 };
	h->aw = sl_app_worker_create(&env, &ac);
	cr_assert(h->aw);
	sl_tcp_set_serves(h->eng, sl_app_serves, h->aw);
	cr_assert(sl_tcp_listen(h->eng, 0, 0, &sl_app_listen_ops, h->aw, &e), "wildcard listen: %d", e);
	snprintf(h->dir, sizeof(h->dir), "/tmp/sl-app-test-XXXXXX");
	cr_assert(mkdtemp(h->dir));
	snprintf(state, sizeof(state), "%s/state", h->dir);
	snprintf(sock, sizeof(sock), "%s/s.sock", h->dir);
	cc = (struct sl_ctl_conf){ .sock_path = sock, .state_dir = state, .n_workers = 1 };
	h->ctl = sl_ctl_create(&cc, &hooks, err, sizeof(err));
	cr_assert(h->ctl, "control: %s", err);
}

void h_fini(struct harness *h)
{
	char cmd[128];

	sl_ctl_destroy(h->ctl);
	free(h->big);
	h->big = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", h->dir);
}

int h_api(struct harness *h, const char *method, const char *target, const char *body)
{
	char *b = body ? strdup(body) : NULL, *resp = NULL;
	int status = 0;

	for (char *p = b; p && *p; p++)
		if (*p == '\'')
			*p = '"';
	sl_ctl_request(h->ctl, method, target, NULL, b, b ? strlen(b) : 0, &status, &resp);
	if (status >= 300)
		fprintf(stderr, "%s %s -> %d %s\n", method, target, status, resp ? resp : "");
	free(b);
	free(resp);
	return status;
}

static void deliver(struct harness *h, int to)
{
	struct sl_tcp_stack *st = to ? h->peer : h->eng;
	unsigned n = box_n[to];
	static struct inbox_ent batch[65536];

	memcpy(batch, box[to], n * sizeof(batch[0]));
	box_n[to] = 0;
	for (unsigned i = 0; i < n; i++) {
		struct inbox_ent *e = &batch[i];
		struct sl_tcp_seg_in seg = {
			.saddr = e->saddr, .daddr = e->daddr, .tcp = rte_pktmbuf_mtod(e->m, const uint8_t *),
			.tcp_len = e->m->data_len, .payload = (struct sl_buf *)e->m, .payload_off = e->hdr_len,
			.payload_len = e->m->data_len - e->hdr_len,
		};

		sl_tcp_input(st, &seg, h->now);
		rte_pktmbuf_free(e->m);
	}
}

void h_pump(struct harness *h, unsigned rounds, uint64_t step_us)
{
	for (unsigned r = 0; r < rounds; r++) {
		sl_tcp_batch_begin(h->eng);
		deliver(h, 0);
		sl_tcp_batch_end(h->eng);
		deliver(h, 1);
		h->now += step_us;
		sl_tcp_tick(h->eng, h->now);
		sl_tcp_tick(h->peer, h->now);
		sl_app_tick(h->aw, h->now);
		for (unsigned i = 0; i < h->n_pc; i++)
			p_flush(h, &h->pc[i]);
	}
}

bool h_pump_until(struct harness *h, bool (*cond)(struct harness *, void *), void *arg, unsigned rounds)
{
	for (unsigned r = 0; r < rounds; r++) {
		if (cond(h, arg))
			return true;
		h_pump(h, 1, 200);
	}
	return cond(h, arg);
}
