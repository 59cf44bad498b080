/* TCP connection-rate tool for scripts/bench tcp.
 *
 *   tcp_connrate server PORT            accept, read to EOF or RST, close
 *   tcp_connrate client IP PORT SECONDS [INFLIGHT]
 *
 * The client keeps INFLIGHT (default 64) non-blocking connects open; each
 * one that completes sends one byte and is closed with an RST (SO_LINGER
 * 0) so the client never runs out of ports to TIME_WAIT. It prints
 * "connections N seconds S rate R failed F". One thread each, so pin them
 * with taskset; the server is the Linux reference the engine is compared
 * with, doing the same work per connection as the engine's sink. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = ls }, evs[256];

	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 4096)) {
		perror("bind/listen");
		return 1;
	}
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == ls) {
				int c;

				while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct epoll_event ce = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = c };

					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
				}
				continue;
			}
			char buf[512];
			ssize_t r = read(fd, buf, sizeof(buf));

			if (r == 0 || (r < 0 && errno != EAGAIN) || (evs[i].events & (EPOLLRDHUP | EPOLLHUP)))
				close(fd);
		}
	}
}

static int client(const char *ip, int port, double secs, int inflight)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct linger lg = { 1, 0 };
	int ep = epoll_create1(0), open_n = 0;
	unsigned long done = 0, failed = 0;
	double t0 = now_s(), end = t0 + secs;
	struct epoll_event evs[256];

	inet_pton(AF_INET, ip, &a.sin_addr);
	while (now_s() < end) {
		while (open_n < inflight) {
			int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			struct epoll_event ev = { .events = EPOLLOUT, .data.fd = s };

			if (s < 0)
				break;
			setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			if (connect(s, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) {
				close(s);
				failed++;
				continue;
			}
			epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
			open_n++;
		}
		int n = epoll_wait(ep, evs, 256, 100);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, err = 0;
			socklen_t l = sizeof(err);

			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
			if (!err && write(fd, "x", 1) == 1)
				done++;
			else
				failed++;
			close(fd);
			open_n--;
		}
	}
	double dt = now_s() - t0;

	printf("connections %lu seconds %.2f rate %.0f failed %lu\n", done, dt, done / dt, failed);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]));
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atof(argv[4]), argc == 6 ? atoi(argv[5]) : 64);
	fprintf(stderr, "usage: %s server PORT | client IP PORT SECONDS [INFLIGHT]\n", argv[0]);
	return 2;
}
