/* Control plane: REST/JSON on a Unix socket, object store, validation, generations, persistence. */
#ifndef SL_CONTROL_H
#define SL_CONTROL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_gen.h"
#include "sl_hm.h"

struct sl_ctl;

/* Frees a generation control built (what sl_gen_release() calls). */
void sl_gen_free(struct sl_gen *);

struct sl_ctl_conf {
	const char *sock_path;   /* NULL: /run/sluice/control.sock */
	const char *state_dir;   /* NULL: /var/lib/sluice */
	unsigned n_workers;
	bool default_certs;      /* create System-Default-Cert(-EC) when the state lacks them (the engine does) */
};

struct sl_ctl_hooks {
	void *arg;
	/* Called on the main lcore once a change is validated, compiled and persisted.
	   The engine takes ownership of g, swaps its RCU pointer, and frees the old one with
	   sl_gen_free() after the grace period. Returns 0 or -errno. */
	int (*publish)(void *arg, struct sl_gen *g);
	/* Fill runtime JSON for /api/stats ("ports", "workers", "drops" objects). */
	int (*stats)(void *arg, json_t *out);
	/* Runtime counters of one VS by its stable slot, for /api/virtualservice/<name>/runtime. */
	int (*vs_runtime)(void *arg, uint32_t vs_slot, json_t *out);
	/* Append Prometheus text lines for engine counters to /metrics (buffer is malloc'd; grow with realloc). */
	int (*metrics)(void *arg, char **buf, size_t *len, size_t *cap);
	/* Answers the workers gave with the GSLB member in this health slot
	   (summed over workers). NULL: not reported. */
	uint64_t (*member_answers)(void *arg, uint32_t health_slot);
	/* Traffic counters of the pool server in this health slot (L4 proxy: connections, bytes,
	   connect failures), summed over workers, as integer members of out; /api/pool/<name>/runtime
	   shows them per server and summed per pool. NULL: not reported. */
	int (*server_runtime)(void *arg, uint32_t health_slot, json_t *out);
	/* Health probes (control/sl_hm.h), both called on the main lcore from sl_ctl_poll. hm_submit hands
	   one probe to a worker: 0, or -ENOBUFS when its queue is full (the probe stays control's).
	   hm_collect returns up to max finished probes. NULL: monitors are tracked but not run. */
	int (*hm_submit)(void *arg, unsigned worker, struct sl_hm_probe *p);
	unsigned (*hm_collect)(void *arg, struct sl_hm_probe **out, unsigned max);
};

/* Loads state_dir/config.json (+ journal); corrupt -> NULL with message in err. Builds and publishes the
   first generation (id 1 on an empty state dir, else the persisted generation id). */
struct sl_ctl *sl_ctl_create(const struct sl_ctl_conf *, const struct sl_ctl_hooks *, char *err, size_t errlen);
/* Serve the socket for at most timeout_ms (0 = just what is ready). Returns events handled or -errno. */
int sl_ctl_poll(struct sl_ctl *, int timeout_ms);
void sl_ctl_destroy(struct sl_ctl *);
/* SL_MAX_HEALTH bytes, 1 = up, 0 = down; written only by the control thread. */
const volatile uint8_t *sl_ctl_health(struct sl_ctl *);
/* The control epoll fd (readable when sl_ctl_poll has work), for engines that nest it in their own epoll. */
int sl_ctl_fd(struct sl_ctl *);
/* Id of the generation last handed to publish(). */
uint64_t sl_ctl_generation(struct sl_ctl *);

/* Serve one request in-process (tests, tools): same routing and effects as over the socket.
   *resp (may be NULL) receives the malloc'd body or NULL. Returns 0. */
int sl_ctl_request(struct sl_ctl *, const char *method, const char *target, const char *if_match, const char *body,
		   size_t len, int *status, char **resp);

#endif
