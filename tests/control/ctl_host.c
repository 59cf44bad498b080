/* Minimal host for the control library: what the engine does, minus DPDK. Used by the integration
 * script and the benchmark before (and besides) the real engine. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_control.h"

static volatile sig_atomic_t stop;
static struct sl_gen *current;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

/* No workers read the generation here, so the old one can go at once (the engine waits for RCU). */
static int publish(void *arg, struct sl_gen *g)
{
	(void)arg;
	sl_gen_free(current);
	current = g;
	return 0;
}

static int stats(void *arg, json_t *out)
{
	(void)arg;
	json_object_set_new(out, "host", json_string("ctl_host"));
	json_object_set_new(out, "vs", json_integer(current ? current->n_vs : 0));
	json_object_set_new(out, "listeners", json_integer(current ? current->n_listeners : 0));
	return 0;
}

int main(int argc, char **argv)
{
	struct sl_ctl_conf conf = { .sock_path = NULL, .state_dir = NULL, .n_workers = 1 };
	const char *ready = NULL;
	int o;
	while ((o = getopt(argc, argv, "s:d:r:w:")) != -1) {
		switch (o) {
		case 's': conf.sock_path = optarg; break;
		case 'd': conf.state_dir = optarg; break;
		case 'r': ready = optarg; break;
		case 'w': conf.n_workers = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: ctl_host -s SOCK -d STATE_DIR [-r READY_FILE] [-w WORKERS]\n");
			return 2;
		}
	}
	struct sl_ctl_hooks hooks = { .publish = publish, .stats = stats };
	char err[512];
	struct sl_ctl *c = sl_ctl_create(&conf, &hooks, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "ctl_host: %s\n", err);
		return 1;
	}
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (f)
			fclose(f);
	}
	fprintf(stderr, "ctl_host: serving generation %llu\n", (unsigned long long)sl_ctl_generation(c));
	while (!stop)
		sl_ctl_poll(c, 200);
	sl_ctl_destroy(c);
	sl_gen_free(current);
	return 0;
}
