/* The control socket's connection handling, driven in-process: the test is the client and runs
 * sl_ctl_poll() itself, so every interleaving here is deterministic. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_test_util.h"

static int cli_connect(struct tctl *t)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	cr_assert(strlen(t->sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, t->sock, strlen(t->sock) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	cr_assert(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s", strerror(errno));
	return fd;
}

static void cli_send(int fd, const char *s)
{
	cr_assert(send(fd, s, strlen(s), MSG_NOSIGNAL) == (ssize_t)strlen(s));
}

/* Polls the control until the server closes fd (or ~2 s pass); returns what it sent, NUL-terminated. */
static char *cli_drain(struct tctl *t, int fd, bool *closed)
{
	size_t cap = 1 << 16, len = 0;
	char *b = malloc(cap);
	*closed = false;
	for (int i = 0; i < 400 && !*closed; i++) {
		sl_ctl_poll(t->c, 5);
		for (;;) {
			ssize_t n = recv(fd, b + len, cap - len - 1, MSG_DONTWAIT);
			if (n > 0) {
				len += (size_t)n;
				continue;
			}
			*closed = n == 0 || (n < 0 && errno != EAGAIN);
			break;
		}
	}
	b[len] = 0;
	return b;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* `printf 'GET ...' | nc -N`: the request and the end of the client's writes arrive together. */
Test(conn, request_then_shutdown_is_answered)
{
	struct tctl t;
	tctl_init(&t);
	for (int round = 0; round < 20; round++) {
		int fd = cli_connect(&t);
		cli_send(fd, "GET /api/pool HTTP/1.1\r\nHost: x\r\n\r\n");
		shutdown(fd, SHUT_WR);
		bool closed;
		char *r = cli_drain(&t, fd, &closed);
		cr_expect(!strncmp(r, "HTTP/1.1 200 ", 13), "round %d: got \"%.40s\"", round, r);
		cr_expect(closed, "round %d: the server closes after answering", round);
		free(r);
		close(fd);
	}
	tctl_fini(&t);
}

/* Pipelined requests before the EOF are all answered, in order; an incomplete tail is dropped. */
Test(conn, pipelined_then_shutdown)
{
	struct tctl t;
	tctl_init(&t);
	int fd = cli_connect(&t);
	cli_send(fd, "GET /api/pool HTTP/1.1\r\n\r\nGET /api/nope HTTP/1.1\r\n\r\n"
		     "POST /api/pool HTTP/1.1\r\nContent-Length: 18\r\n\r\n{\"name\":\"p-eof\"}  GET /api/st");
	shutdown(fd, SHUT_WR);
	bool closed;
	char *r = cli_drain(&t, fd, &closed);
	cr_expect_eq(count(r, "HTTP/1.1 "), 3, "%s", r);
	char *a = strstr(r, "HTTP/1.1 200"), *b = strstr(r, "HTTP/1.1 404"), *c = strstr(r, "HTTP/1.1 201");
	cr_expect(a && b && c && a < b && b < c, "%s", r);
	cr_expect(closed);
	free(r);
	close(fd);
	cr_expect_eq(treq(&t, "GET", "/api/pool/p-eof", NULL, NULL), 200);
	tctl_fini(&t);
}

/* A full table of idle keep-alive connections must not lock an operator out. */
Test(conn, idle_connections_do_not_lock_out)
{
	enum { N = 300 };
	struct tctl t;
	tctl_init(&t);
	int fds[N];
	for (int i = 0; i < N; i++) {
		fds[i] = cli_connect(&t);
		sl_ctl_poll(t.c, 0);
	}
	for (int i = 0; i < 20; i++)
		sl_ctl_poll(t.c, 1);
	int fd = cli_connect(&t);
	cli_send(fd, "GET /api/status HTTP/1.1\r\nConnection: close\r\n\r\n");
	bool closed;
	char *r = cli_drain(&t, fd, &closed);
	cr_expect(!strncmp(r, "HTTP/1.1 200 ", 13), "got \"%.60s\"", r);
	free(r);
	close(fd);
	/* the ones closed for it were the oldest idle ones: the newest are still open */
	char c;
	cr_expect(recv(fds[N - 1], &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "newest idle connection kept");
	cr_expect(recv(fds[0], &c, 1, MSG_DONTWAIT) == 0, "oldest idle connection closed");
	/* a connection in the middle of a request is not idle and is never picked */
	cli_send(fds[N - 1], "GET /api/status HTTP/1.1\r\n");
	for (int i = 0; i < 5; i++)
		sl_ctl_poll(t.c, 1);
	for (int k = 0; k < N; k++) {
		int x = cli_connect(&t);
		sl_ctl_poll(t.c, 0);
		close(x);
		sl_ctl_poll(t.c, 0);
	}
	cli_send(fds[N - 1], "\r\n");
	r = cli_drain(&t, fds[N - 1], &closed);
	cr_expect(!strncmp(r, "HTTP/1.1 200 ", 13), "busy connection kept: got \"%.60s\"", r);
	free(r);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	tctl_fini(&t);
}
