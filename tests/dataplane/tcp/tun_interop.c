/* Interop harness: the sluice TCP stack behind a TUN device, talking to the
 * Linux kernel's TCP in the same network namespace. Not a unit test (needs
 * root and a namespace); tun_interop.sh drives it.
 *
 *   tcp_tun_interop IFNAME LOCAL_IP [drop-probability] [connect PEER_IP PORT BYTES]
 *
 * Serves on LOCAL_IP: port 7 echo (zero-copy: received buffers are queued
 * back as they are), port 9 discard, port 19 source (sends 8 MiB, then
 * closes). With "connect" it also opens a connection to PEER_IP:PORT, sends
 * BYTES of a pattern and closes. Prints counters on SIGINT/SIGTERM.
 * Addresses must be inside 198.18.0.0/15.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "sl_tcp.h"

struct hbuf {
	int refs;
	uint32_t len;
	uint8_t data[];
};

static void hb_ref(void *ctx, struct sl_buf *b)
{
	(void)ctx;
	((struct hbuf *)b)->refs++;
}
static void hb_unref(void *ctx, struct sl_buf *b)
{
	(void)ctx;
	struct hbuf *h = (struct hbuf *)b;
	if (--h->refs == 0)
		free(h);
}
static const uint8_t *hb_data(void *ctx, const struct sl_buf *b, uint32_t *len)
{
	(void)ctx;
	*len = ((const struct hbuf *)b)->len;
	return ((const struct hbuf *)b)->data;
}
static struct sl_buf *hb_next(void *ctx, const struct sl_buf *b)
{
	(void)ctx, (void)b;
	return NULL;
}
static const struct sl_buf_ops hops = { hb_ref, hb_unref, hb_data, hb_next };

static struct hbuf *hb_new(uint32_t len)
{
	struct hbuf *h = malloc(sizeof(*h) + len);
	if (!h)
		abort();
	h->refs = 1;
	h->len = len;
	return h;
}

static int tun_fd;
static double drop_p;
static uint64_t rng = 88172645463325252ull;
static volatile sig_atomic_t stop;
static struct sl_tcp_stack *st;

static bool chance(double p)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return p > 0 && (double)(rng >> 11) / (double)(1ull << 53) < p;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}
static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int tun_tx(void *arg, const struct sl_tcp_seg_out *o)
{
	(void)arg;
	static uint8_t pkt[65536];
	uint32_t tl = 20u + o->hdr_len + o->payload_len;
	if (tl > sizeof(pkt))
		return -EMSGSIZE;
	uint8_t *ip = pkt, *tcp = pkt + 20;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tl >> 8);
	ip[3] = (uint8_t)tl;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &o->saddr, 4);
	memcpy(ip + 16, &o->daddr, 4);
	uint16_t c = csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	memcpy(tcp, o->hdr, o->hdr_len);
	uint32_t off = o->hdr_len;
	for (unsigned i = 0; i < o->n_iov; i++) {
		const struct hbuf *h = (const struct hbuf *)o->iov[i].buf;
		memcpy(tcp + off, h->data + o->iov[i].off, o->iov[i].len);
		off += o->iov[i].len;
	}
	uint8_t ph[12];
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)(off >> 8);
	ph[11] = (uint8_t)off;
	c = csum_fold(csum_add(csum_add(0, ph, 12), tcp, off));
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
	if (chance(drop_p))
		return 0;
	if (write(tun_fd, pkt, tl) != (ssize_t)tl)
		return -errno;
	return 0;
}

/* ---- services ---- */
enum { SVC_ECHO = 7, SVC_DISCARD = 9, SVC_SOURCE = 19 };
struct pend {
	struct pend *next;
	struct sl_buf *b;
	uint32_t off, len;
};
struct svc_conn {
	int kind;
	uint64_t left; /* source: bytes still to queue */
	uint64_t rx;
	struct pend *head, **tail; /* echo: received, not yet queued back */
	bool peer_done;
};

/* Echo as a proxy would do it: queue the received buffer itself; when the
 * send side is full keep it and stop opening the receive window, so the
 * client is slowed down by TCP flow control instead of being dropped. */
static void echo_flush(struct sl_tcp_conn *c, struct svc_conn *s)
{
	while (s->head) {
		struct pend *p = s->head;
		if (sl_tcp_send(c, p->b, p->off, p->len) < 0)
			return;
		sl_tcp_consumed(c, p->len);
		s->head = p->next;
		if (!s->head)
			s->tail = &s->head;
		hb_unref(NULL, p->b);
		free(p);
	}
}

static void svc_free(struct svc_conn *s)
{
	while (s->head) {
		struct pend *p = s->head;
		s->head = p->next;
		hb_unref(NULL, p->b);
		free(p);
	}
	free(s);
}

static void pump_source(struct sl_tcp_conn *c, struct svc_conn *s)
{
	while (s->left) {
		uint32_t n = s->left < 65536 ? (uint32_t)s->left : 65536;
		struct hbuf *h = hb_new(n);
		for (uint32_t i = 0; i < n; i++)
			h->data[i] = (uint8_t)('a' + (i % 26));
		int rc = sl_tcp_send(c, (struct sl_buf *)h, 0, n);
		hb_unref(NULL, (struct sl_buf *)h);
		if (rc)
			return;
		s->left -= n;
	}
	if (s->kind == SVC_SOURCE || s->kind == 0) {
		sl_tcp_shutdown(c, 1);
	}
}

static void on_recv(void *u, struct sl_tcp_conn *c, struct sl_buf *b, uint32_t off, uint32_t len)
{
	struct svc_conn *s = u;
	s->rx += len;
	if (s->kind != SVC_ECHO)
		return;
	struct pend *p = malloc(sizeof(*p));
	p->next = NULL;
	p->b = b;
	p->off = off;
	p->len = len;
	hb_ref(NULL, b);
	*s->tail = p;
	s->tail = &p->next;
	echo_flush(c, s);
}
static void on_writable(void *u, struct sl_tcp_conn *c)
{
	struct svc_conn *s = u;
	if (s->kind != SVC_ECHO) {
		pump_source(c, s);
		return;
	}
	echo_flush(c, s);
	if (s->peer_done && !s->head) {
		sl_tcp_close(c);
		svc_free(s);
	}
}
static void on_peer_closed(void *u, struct sl_tcp_conn *c)
{
	struct svc_conn *s = u;
	fprintf(stderr, "conn kind %d: peer closed after %llu bytes\n", s->kind, (unsigned long long)s->rx);
	if (s->kind == SVC_ECHO && s->head) {
		/* echo the rest after the client's FIN; close once flushed */
		s->peer_done = true;
		echo_flush(c, s);
		if (s->head)
			return;
	}
	sl_tcp_close(c);
	svc_free(s);
}
static int connect_tries;
static uint64_t t_connect;
static bool want_connect;

static void on_error(void *u, struct sl_tcp_conn *c, int r)
{
	fprintf(stderr, "conn kind %d: error %d\n", ((struct svc_conn *)u)->kind, r);
	if (((struct svc_conn *)u)->kind == 0 && r == SL_TCP_ERR_REFUSED && ++connect_tries < 100) {
		want_connect = true; /* the kernel side is not listening yet */
		t_connect = now_us() + 200000;
	}
	sl_tcp_close(c);
	svc_free(u);
}
static void on_connected(void *u, struct sl_tcp_conn *c)
{
	fprintf(stderr, "connected\n");
	pump_source(c, u);
}
static const struct sl_tcp_ops svc_ops = { on_connected, on_recv, on_writable, on_peer_closed, on_error };

static int on_accept(void *arg, struct sl_tcp_conn *c)
{
	struct svc_conn *s = calloc(1, sizeof(*s));
	s->kind = (int)(intptr_t)arg;
	s->tail = &s->head;
	if (s->kind == SVC_SOURCE)
		s->left = 8u << 20;
	sl_tcp_set_ops(c, &svc_ops, s);
	if (s->kind == SVC_ECHO || s->kind == SVC_SOURCE)
		sl_tcp_set_nodelay(c, true);
	if (s->kind == SVC_ECHO)
		sl_tcp_set_manual_window(c, true);
	if (s->kind == SVC_SOURCE)
		pump_source(c, s);
	return 0;
}
static const struct sl_tcp_listen_ops lops = { on_accept };

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s IFNAME LOCAL_IP [drop] [connect PEER PORT BYTES]\n", argv[0]);
		return 2;
	}
	struct in_addr lip, pip = { 0 };
	if (inet_pton(AF_INET, argv[2], &lip) != 1 || (ntohl(lip.s_addr) >> 17) != (0xc6120000u >> 17)) {
		fprintf(stderr, "LOCAL_IP must be in 198.18.0.0/15\n");
		return 2;
	}
	drop_p = argc > 3 ? atof(argv[3]) : 0;
	tun_fd = open("/dev/net/tun", O_RDWR);
	if (tun_fd < 0) {
		perror("open /dev/net/tun");
		return 1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", argv[1]);
	if (ioctl(tun_fd, TUNSETIFF, &ifr) < 0) {
		perror("TUNSETIFF");
		return 1;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);

	struct sl_tcp_conf conf;
	sl_tcp_conf_defaults(&conf);
	conf.buf_ops = &hops;
	conf.tx = tun_tx;
	conf.seed = (uint64_t)now_us();
	for (int i = 0; i < 32; i++)
		conf.secret[i] = (uint8_t)(now_us() >> (i % 8));
	if (getenv("SL_TCP_CC") && !strcmp(getenv("SL_TCP_CC"), "cubic"))
		conf.cc = SL_TCP_CC_CUBIC;
	st = sl_tcp_stack_create(&conf, now_us());
	if (!st) {
		perror("sl_tcp_stack_create");
		return 1;
	}
	sl_tcp_listen(st, lip.s_addr, SVC_ECHO, &lops, (void *)(intptr_t)SVC_ECHO, NULL);
	sl_tcp_listen(st, lip.s_addr, SVC_DISCARD, &lops, (void *)(intptr_t)SVC_DISCARD, NULL);
	sl_tcp_listen(st, lip.s_addr, SVC_SOURCE, &lops, (void *)(intptr_t)SVC_SOURCE, NULL);
	want_connect = argc > 7 && !strcmp(argv[4], "connect");
	if (want_connect && (inet_pton(AF_INET, argv[5], &pip) != 1 || (ntohl(pip.s_addr) >> 17) != (0xc6120000u >> 17))) {
		fprintf(stderr, "PEER must be in 198.18.0.0/15\n");
		return 2;
	}
	t_connect = now_us() + 300000; /* after the script configured the link */
	printf("ready\n");
	fflush(stdout);

	static uint8_t pkt[65536];
	while (!stop) {
		if (want_connect && now_us() >= t_connect) {
			want_connect = false;
			struct svc_conn *s = calloc(1, sizeof(*s));
			s->tail = &s->head;
			s->left = strtoull(argv[7], NULL, 0);
			int err;
			if (!sl_tcp_connect(st, lip.s_addr, pip.s_addr, (uint16_t)atoi(argv[6]), &svc_ops, s, &err))
				fprintf(stderr, "connect: %d\n", err);
		}
		struct pollfd pfd = { .fd = tun_fd, .events = POLLIN };
		int n = poll(&pfd, 1, 1);
		if (n > 0 && (pfd.revents & POLLIN)) {
			ssize_t r = read(tun_fd, pkt, sizeof(pkt));
			if (r >= 40 && (pkt[0] >> 4) == 4 && pkt[9] == 6 && !chance(drop_p)) {
				unsigned ihl = (pkt[0] & 15u) * 4u;
				unsigned tl = (unsigned)(pkt[2] << 8 | pkt[3]);
				if (tl > (unsigned)r || ihl < 20 || tl < ihl + 20)
					continue;
				const uint8_t *tcp = pkt + ihl;
				unsigned tcplen = tl - ihl, doff = (unsigned)(tcp[12] >> 4) * 4u;
				if (doff < 20 || doff > tcplen)
					continue;
				uint32_t plen = tcplen - doff;
				struct hbuf *h = plen ? hb_new(plen) : NULL;
				if (h)
					memcpy(h->data, tcp + doff, plen);
				struct sl_tcp_seg_in in;
				memset(&in, 0, sizeof(in));
				memcpy(&in.saddr, pkt + 12, 4);
				memcpy(&in.daddr, pkt + 16, 4);
				in.tcp = tcp;
				in.tcp_len = doff;
				in.payload = (struct sl_buf *)h;
				in.payload_len = plen;
				sl_tcp_input(st, &in, now_us());
				if (h)
					hb_unref(NULL, (struct sl_buf *)h);
			}
		}
		sl_tcp_tick(st, now_us());
	}
	const uint64_t *cv = (const uint64_t *)sl_tcp_counters(st);
	for (size_t i = 0; i < SL_TCP_N_COUNTERS; i++)
		if (cv[i])
			printf("%s %llu\n", sl_tcp_counter_names[i], (unsigned long long)cv[i]);
	sl_tcp_stack_destroy(st);
	return 0;
}
