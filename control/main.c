/* sluice: the process. The engine starts (EAL, ports, workers:
 * dataplane/core/sl_engine.h), control opens its socket and publishes the
 * persisted configuration through the engine's hooks, the workers launch,
 * and the main lcore serves control until SIGTERM/SIGINT. This file is the
 * one place the two halves meet: control depends on the data plane's public
 * headers, never the other way round. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "gen_tls.h"
#include "sl_control.h"
#include "sl_engine.h"
#include "sl_tls.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- -c STARTUP_FILE [-s CONTROL_SOCKET] [-d STATE_DIR]\n"
		"          [--ready-file PATH] [--pid-file PATH]\n"
		"  -c, --config       start-up file (ports, idle policy, impairment)\n"
		"  -s, --socket       control socket (default /run/sluice/control.sock)\n"
		"  -d, --state-dir    persisted configuration (default /var/lib/sluice)\n"
		"      --ready-file   created once ports, workers and the control socket are up\n"
		"      --pid-file     written at start\n"
		"      --log-dir      per-VS query logs, <vs>.dns.jsonl (default /var/log/sluice)\n", prog);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static int mkdir_parent(const char *path)
{
	char dir[512];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The TLS counters join the engine's answers here: they live in dataplane/app/tls, which
 * control reads through the generation it published last (main lcore: that one is alive). */
static const struct sl_gen *published;

static int publish(void *arg, struct sl_gen *g)
{
	int rc = sl_engine_publish(arg, g);

	if (!rc)
		published = g;
	return rc;
}

static int vs_runtime(void *arg, uint32_t slot, json_t *out)
{
	int rc = sl_engine_vs_runtime(arg, slot, out);
	uint32_t idx = published && slot < SL_MAX_VS ? published->vs_by_slot[slot] : SL_GEN_NONE;
	const struct sl_gen_vs *gv = idx != SL_GEN_NONE ? &published->vs[idx] : NULL;

	if (!rc && gv && (gv->tls || (gv->parent_idx != SL_GEN_NONE && published->vs[gv->parent_idx].tls)))
		json_object_set_new(out, "tls", sl_tls_runtime_json(gv));
	return rc;
}

struct mbuf_out { char **buf; size_t *len, *cap; int rc; };

static void metric_put(void *arg, const char *line)
{
	struct mbuf_out *m = arg;
	size_t n = strlen(line);

	if (m->rc)
		return;
	if (*m->len + n + 1 > *m->cap) {
		size_t cap = (*m->cap ? *m->cap : 4096) * 2 + n;
		char *nb = realloc(*m->buf, cap);

		if (!nb) {
			m->rc = -ENOMEM;
			return;
		}
		*m->buf = nb;
		*m->cap = cap;
	}
	memcpy(*m->buf + *m->len, line, n + 1);
	*m->len += n;
}

static int metrics(void *arg, char **buf, size_t *len, size_t *cap)
{
	struct mbuf_out m = { buf, len, cap, sl_engine_metrics(arg, buf, len, cap) };

	sl_tls_metrics_text(published, metric_put, &m);
	return m.rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "log-dir", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfg = NULL, *sock = "/run/sluice/control.sock", *state = "/var/lib/sluice";
	const char *ready = NULL, *pidf = NULL, *log_dir = "/var/log/sluice";
	struct sl_ctl_conf cconf;
	struct sl_ctl_hooks hooks = {
		.arg = NULL, .publish = publish, .stats = sl_engine_stats,
		.vs_runtime = vs_runtime, .metrics = metrics,
		.member_answers = sl_engine_member_answers, .server_runtime = sl_engine_server_runtime,
		.hm_submit = sl_engine_hm_submit, .hm_collect = sl_engine_hm_collect,
	};
	struct sl_engine_args ea;
	struct sl_ctl *ctl;
	char err[512];
	int rc, c;

	rc = sl_engine_eal_init(argc, argv);
	if (rc < 0)
		return 1;
	argc -= rc;
	argv += rc;
	while ((c = getopt_long(argc, argv, "c:s:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg = optarg; break;
		case 's': sock = optarg; break;
		case 'd': state = optarg; break;
		case 'r': ready = optarg; break;
		case 'p': pidf = optarg; break;
		case 'l': log_dir = optarg; break;
		case 'h': usage(argv[0]); sl_engine_fini(); return 0;
		default: usage(argv[0]); sl_engine_fini(); return 2;
		}
	}
	if (!cfg) {
		usage(argv[0]);
		sl_engine_fini();
		return 2;
	}
	ea = (struct sl_engine_args){ .startup = cfg, .state_dir = state, .log_dir = log_dir };
	if (sl_engine_start(&ea, err, sizeof(err))) {
		fprintf(stderr, "sluice: %s\n", err);
		sl_engine_fini();
		return 1;
	}
	mkdir_parent(sock);
	if (mkdir(log_dir, 0755) && errno != EEXIST)
		fprintf(stderr, "sluice: warning: log dir %s: %s\n", log_dir, strerror(errno));
	/* control loads the persisted configuration and publishes the first
	 * generation before any worker runs */
	cconf = (struct sl_ctl_conf){ .sock_path = sock, .state_dir = state, .n_workers = sl_engine_workers(),
				   .default_certs = true };
	ctl = sl_ctl_create(&cconf, &hooks, err, sizeof(err));
	if (!ctl) {
		fprintf(stderr, "sluice: control: %s\n", err);
		sl_engine_stop();
		sl_engine_fini();
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	sl_engine_launch();
	if (pidf) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%d\n", getpid());
		mkdir_parent(pidf);
		if (write_file(pidf, buf))
			fprintf(stderr, "sluice: warning: cannot write %s\n", pidf);
	}
	if (ready) {
		mkdir_parent(ready);
		if (write_file(ready, "ready\n"))
			fprintf(stderr, "sluice: warning: cannot write %s\n", ready);
	}
	printf("sluice %s: %u worker(s), control at %s\n", SL_VERSION, sl_engine_workers(), sock);
	sl_engine_describe(stdout);
	fflush(stdout);
	while (!got_signal) {
		sl_ctl_poll(ctl, 20);
		sl_engine_poll();
		(void)sl_tls_keys_tick(time(NULL), 0);   /* the shared ticket keys rotate hourly */
	}
	printf("sluice: signal %d, stopping\n", (int)got_signal);
	sl_engine_stop();
	sl_ctl_destroy(ctl);
	sl_engine_fini();
	if (ready)
		unlink(ready);
	if (pidf)
		unlink(pidf);
	return 0;
}
