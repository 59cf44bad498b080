/* Persistence: restart serves exactly the acknowledged configuration; corrupt state refuses start-up. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl_test_util.h"

static void put_file(const char *path, const char *data, const char *mode)
{
	FILE *f = fopen(path, mode);
	cr_assert(f);
	fputs(data, f);
	fclose(f);
}

static char *get(struct tctl *t, const char *target)
{
	char *resp = NULL;
	int st;
	sl_ctl_request(t->c, "GET", target, NULL, NULL, 0, &st, &resp);
	return st == 200 ? resp : (free(resp), NULL);
}

Test(persist, round_trip)
{
	struct tctl t;
	tctl_init(&t);
	cr_assert_eq(treq(&t, "POST", "/api/macro",
			  "[{\"model_name\":\"Pool\",\"data\":{\"name\":\"p\",\"servers\":[{\"ip\":{\"addr\":\"198.18.1.2\"}}]}},"
			  "{\"model_name\":\"VirtualService\",\"data\":{\"name\":\"vs\",\"vip\":[{\"ip_address\":{\"addr\":\"198.18.0.10\"}}],"
			  "\"services\":[{\"port\":80}],\"pool_ref\":\"p\"}},{\"model_name\":\"Pool\",\"data\":{\"name\":\"gone\"}}]", NULL), 200);
	cr_assert_eq(treq(&t, "DELETE", "/api/pool/gone", NULL, NULL), 204);
	cr_assert_eq(treq(&t, "PATCH", "/api/pool/p", "{\"default_server_port\":8080}", NULL), 200);
	uint64_t g = sl_ctl_generation(t.c);
	char *before_vs = get(&t, "/api/virtualservice/vs"), *before_p = get(&t, "/api/pool/p");
	char err[512];
	cr_assert(tctl_restart(&t, err, sizeof(err)), "%s", err);
	cr_expect_eq(sl_ctl_generation(t.c), g);
	char *after_vs = get(&t, "/api/virtualservice/vs"), *after_p = get(&t, "/api/pool/p");
	cr_expect_str_eq(after_vs, before_vs);
	cr_expect_str_eq(after_p, before_p);
	cr_expect_null(get(&t, "/api/pool/gone"));
	cr_expect(t.gen && t.gen->n_vs == 1 && t.gen->id == g);
	/* the next change continues the numbering */
	cr_expect_eq(treq(&t, "POST", "/api/pool", "{\"name\":\"n\"}", NULL), 201);
	cr_expect_eq(sl_ctl_generation(t.c), g + 1);
	free(before_vs);
	free(before_p);
	free(after_vs);
	free(after_p);
	tctl_fini(&t);
}

Test(persist, snapshot_compaction_round_trip)
{
	struct tctl t;
	tctl_init(&t);
	/* big enough for the journal to outgrow the (lowered) floor and trigger a snapshot */
	setenv("SLUICE_SNAPSHOT_MIN_BYTES", "1048576", 1);
	char err0[512];
	cr_assert(tctl_restart(&t, err0, sizeof(err0)), "%s", err0);
	json_t *m = json_array();
	for (int i = 0; i < 6000; i++) {
		char name[32], ipb[32];
		snprintf(name, sizeof(name), "pool-%d", i);
		snprintf(ipb, sizeof(ipb), "198.18.%d.%d", 1 + i / 250, 1 + i % 250);
		json_array_append_new(m, json_pack("{s:s, s:{s:s, s:[{s:{s:s, s:s}, s:i}], s:s}}", "model_name", "Pool", "data",
						   "name", name, "servers", "ip", "addr", ipb, "type", "V4", "port", 80,
						   "description", "padding padding padding padding padding"));
	}
	char *body = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	cr_assert_eq(treq(&t, "POST", "/api/macro", body, NULL), 200);
	free(body);
	char path[256];
	snprintf(path, sizeof(path), "%s/config.json", t.state);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "snapshot written");
	cr_expect_gt(st.st_size, 1 << 20);
	cr_assert_eq(treq(&t, "DELETE", "/api/pool/pool-17", NULL, NULL), 204);
	uint64_t g = sl_ctl_generation(t.c);
	char err[512];
	cr_assert(tctl_restart(&t, err, sizeof(err)), "%s", err);
	cr_expect_eq(sl_ctl_generation(t.c), g);
	cr_expect_eq(t.gen->n_pools, 5999);
	cr_expect_null(get(&t, "/api/pool/pool-17"));
	char *p = get(&t, "/api/pool/pool-5999");
	cr_expect_not_null(p);
	free(p);
	tctl_fini(&t);
}

Test(persist, corrupt_snapshot_refused)
{
	struct tctl t;
	tctl_init(&t);
	char path[256], err[512];
	snprintf(path, sizeof(path), "%s/config.json", t.state);
	put_file(path, "{\"version\":1,\"generation\":5,\"objects\":{\"pool\":[{\"name\":\"x\"}", "w");
	cr_expect(!tctl_restart(&t, err, sizeof(err)));
	cr_expect(strstr(err, "config.json") && strstr(err, "corrupt"), "%s", err);
	/* valid JSON but an invalid object is refused too, never replaced by an empty config */
	put_file(path, "{\"version\":1,\"generation\":5,\"objects\":{\"pool\":[{\"name\":\"x\",\"bogus\":1}]}}", "w");
	cr_expect(!tctl_restart(&t, err, sizeof(err)));
	cr_expect(strstr(err, "objects.pool[0].bogus"), "%s", err);
	put_file(path, "{\"version\":1,\"generation\":5,\"objects\":{\"pool\":[{\"name\":\"x\"}]}}", "w");
	cr_expect(tctl_restart(&t, err, sizeof(err)), "%s", err);
	cr_expect_eq(sl_ctl_generation(t.c), 5);
	char *p = get(&t, "/api/pool/x");
	cr_expect_not_null(p);
	free(p);
	tctl_fini(&t);
}

Test(persist, corrupt_journal_refused_torn_tail_ignored)
{
	struct tctl t;
	tctl_init(&t);
	cr_assert_eq(treq(&t, "POST", "/api/pool", "{\"name\":\"a\"}", NULL), 201);
	cr_assert_eq(treq(&t, "POST", "/api/pool", "{\"name\":\"b\"}", NULL), 201);
	uint64_t g = sl_ctl_generation(t.c);
	char path[256], err[512];
	snprintf(path, sizeof(path), "%s/journal", t.state);
	/* a torn last record (no newline) was never acknowledged: ignored */
	put_file(path, "0badc0de {\"gen\":99,\"ops\":[", "a");
	cr_assert(tctl_restart(&t, err, sizeof(err)), "%s", err);
	cr_expect_eq(sl_ctl_generation(t.c), g);
	/* a complete record with a bad checksum is corruption */
	char *j = slurp(path);
	char *q = strstr(j, "\"b\"");
	cr_assert(q);
	q[1] = 'c';
	put_file(path, j, "w");
	free(j);
	cr_expect(!tctl_restart(&t, err, sizeof(err)));
	cr_expect(strstr(err, "journal:2") && strstr(err, "corrupt"), "%s", err);
	tctl_fini(&t);
}

Test(persist, unreadable_state_refused)
{
	struct tctl t;
	tctl_init(&t);
	char path[256], err[512];
	snprintf(path, sizeof(path), "%s/config.json", t.state);
	cr_assert_eq(mkdir(path, 0700), 0);   /* a directory where the file should be */
	cr_expect(!tctl_restart(&t, err, sizeof(err)));
	cr_expect(strstr(err, "config.json"), "%s", err);
	tctl_fini(&t);
}
