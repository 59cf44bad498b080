#include "ctl_test_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int publish(void *arg, struct sl_gen *g)
{
	struct tctl *t = arg;
	sl_gen_free(t->gen);
	t->gen = g;
	t->n_published++;
	return 0;
}

static struct sl_ctl *open_ctl(struct tctl *t, char *err, size_t errlen)
{
	struct sl_ctl_conf conf = { .sock_path = t->sock, .state_dir = t->state, .n_workers = 2,
				    .default_certs = t->default_certs };
	struct sl_ctl_hooks hooks = { .arg = t, .publish = publish };
	return sl_ctl_create(&conf, &hooks, err, errlen);
}

static void init(struct tctl *t, bool default_certs)
{
	memset(t, 0, sizeof(*t));
	t->default_certs = default_certs;
	snprintf(t->dir, sizeof(t->dir), "/tmp/sl-ctl-test-XXXXXX");
	cr_assert(mkdtemp(t->dir));
	snprintf(t->state, sizeof(t->state), "%s/state", t->dir);
	snprintf(t->sock, sizeof(t->sock), "%s/s.sock", t->dir);
	char err[512];
	t->c = open_ctl(t, err, sizeof(err));
	cr_assert(t->c, "sl_ctl_create: %s", err);
}

void tctl_init(struct tctl *t)
{
	init(t, false);
}

void tctl_init_default_certs(struct tctl *t)
{
	init(t, true);
}

bool tctl_restart(struct tctl *t, char *err, size_t errlen)
{
	sl_ctl_destroy(t->c);
	t->c = open_ctl(t, err, errlen);
	return t->c != NULL;
}

void tctl_fini(struct tctl *t)
{
	sl_ctl_destroy(t->c);
	sl_gen_free(t->gen);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
}

int treq_if(struct tctl *t, const char *method, const char *target, const char *if_match, const char *body,
	    json_t **out)
{
	int status = 0;
	char *resp = NULL;
	sl_ctl_request(t->c, method, target, if_match, body, body ? strlen(body) : 0, &status, &resp);
	if (out) {
		*out = resp ? json_loads(resp, 0, NULL) : NULL;
	}
	free(resp);
	return status;
}

int treq(struct tctl *t, const char *method, const char *target, const char *body, json_t **out)
{
	return treq_if(t, method, target, NULL, body, out);
}

char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	cr_assert(b && fread(b, 1, (size_t)n, f) == (size_t)n);
	b[n] = 0;
	fclose(f);
	return b;
}

int treq_sq(struct tctl *t, const char *method, const char *target, const char *body, json_t **out)
{
	char *b = body ? strdup(body) : NULL;
	for (char *p = b; p && *p; p++)
		if (*p == '\'')
			*p = '"';
	int st = treq(t, method, target, b, out);
	free(b);
	return st;
}

void tpost_file(struct tctl *t, const char *path)
{
	char *body = slurp(path);
	json_t *r = NULL;
	int st = treq(t, "POST", "/api/macro", body, &r);
	char *rs = json_dumps(r, JSON_COMPACT);
	cr_assert_eq(st, 200, "%s: %d %s", path, st, rs);
	free(rs);
	json_decref(r);
	free(body);
}

const struct sl_gen_vs *tgen_vs(const struct sl_gen *g, const char *name)
{
	for (uint32_t i = 0; g && i < g->n_vs; i++)
		if (!strcmp(g->vs[i].name, name))
			return &g->vs[i];
	cr_assert_fail("no virtual service %s", name);
	return NULL;
}
