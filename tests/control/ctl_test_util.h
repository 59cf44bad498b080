/* Helpers shared by the control unit tests: a control instance in a temp dir, in-process requests. */
#ifndef CTL_TEST_UTIL_H
#define CTL_TEST_UTIL_H
#include <jansson.h>
#include <stdbool.h>

#include "sl_control.h"

struct tctl {
	struct sl_ctl *c;
	char dir[128];
	char state[160];
	char sock[160];
	struct sl_gen *gen;        /* last published */
	unsigned n_published;
	bool default_certs;        /* as the engine starts it: System-Default-Cert(-EC) created */
};

/* Creates a temp dir and a control instance over it; aborts the test on failure. */
void tctl_init(struct tctl *t);
/* The same, with the built-in default certificates the engine creates at first start. */
void tctl_init_default_certs(struct tctl *t);
/* Re-opens the same state dir (restart). Returns false and fills err when start-up is refused. */
bool tctl_restart(struct tctl *t, char *err, size_t errlen);
void tctl_fini(struct tctl *t);
/* Sends a request; returns the HTTP status and (if out) the parsed JSON body. */
int treq(struct tctl *t, const char *method, const char *target, const char *body, json_t **out);
int treq_if(struct tctl *t, const char *method, const char *target, const char *if_match, const char *body,
	    json_t **out);
char *slurp(const char *path);
/* treq with a body written with ' for " (JSON in C literals without escapes). */
int treq_sq(struct tctl *t, const char *method, const char *target, const char *body, json_t **out);
/* POSTs the file at path to /api/macro as it is; fails the test unless it is accepted. */
void tpost_file(struct tctl *t, const char *path);
/* The VS called name in g; fails the test when there is none. */
const struct sl_gen_vs *tgen_vs(const struct sl_gen *g, const char *name);
#endif
