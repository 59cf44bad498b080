/* The smuggling corpus (smuggling/verdicts.txt): every raw request gets the
 * verdict written next to it, in one piece and byte by byte, and an accepted
 * request is exactly the file: nothing is left over to be read as a second
 * request. */
#include <criterion/criterion.h>

#include "h1_test.h"

#ifndef SMUGGLING_DIR
#error SMUGGLING_DIR
#endif

/* The verdict for buf: reject status, or the framing and its byte count. */
struct verdict {
	int status;          /* 0: accepted */
	enum sl_h1_body body;
	uint64_t cl;
	size_t total;        /* head + body bytes */
};

static void judge(const uint8_t *buf, size_t len, size_t step, struct verdict *v)
{
	static struct t_res r;
	memset(v, 0, sizeof(*v));
	if (step)
		t_parse_steps(&r, SL_H1_REQUEST, NULL, SL_H1_M_GET, buf, len, step);
	else
		t_parse(&r, SL_H1_REQUEST, NULL, SL_H1_M_GET, buf, len);
	if (r.rc == -EBADMSG) {
		v->status = r.p.msg.err_status;
		return;
	}
	cr_assert_gt(r.rc, 0, "incomplete head");
	v->body = r.p.msg.body;
	v->cl = r.p.msg.content_length;
	v->total = (size_t)r.rc;
	if (v->body == SL_H1_BODY_LENGTH) {
		v->total += v->cl;
	} else if (v->body == SL_H1_BODY_CHUNKED) {
		struct sl_h1_chunked c;
		sl_h1_chunked_init(&c, NULL);
		int rc = 0;
		while (rc == 0 && v->total < len) {
			size_t used, n = step && len - v->total > step ? step : len - v->total;
			struct sl_h1_span d;
			rc = sl_h1_chunked_feed(&c, buf + v->total, n, &used, &d);
			v->total += used;
		}
		if (rc < 0)
			v->status = sl_h1_err_status(c.err, SL_H1_REQUEST);
		else
			cr_assert_eq(rc, 1, "chunked body incomplete");
	}
}

static int check_file(const char *file, const char *want)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", SMUGGLING_DIR, file);
	size_t len;
	uint8_t *buf = t_slurp(path, &len);
	cr_assert_not_null(buf, "%s", path);
	struct verdict one, bytes, sevens;
	judge(buf, len, 0, &one);
	judge(buf, len, 1, &bytes);
	judge(buf, len, 7, &sevens);
	/* what was consumed before a reject depends on the pieces; the rest may not */
	cr_expect(one.status == bytes.status && one.body == bytes.body &&
		  (one.status || one.total == bytes.total), "%s: byte-by-byte differs", file);
	cr_expect(one.status == sevens.status && one.body == sevens.body &&
		  (one.status || one.total == sevens.total), "%s: 7-byte steps differ", file);

	int st;
	unsigned long long n;
	if (sscanf(want, "reject:%d", &st) == 1) {
		cr_expect_eq(one.status, st, "%s: status %d, want %d", file, one.status, st);
	} else if (!strcmp(want, "accept:none")) {
		cr_expect(one.status == 0 && one.body == SL_H1_BODY_NONE, "%s: %d/%d", file, one.status, one.body);
	} else if (sscanf(want, "accept:length=%llu", &n) == 1) {
		cr_expect(one.status == 0 && one.body == SL_H1_BODY_LENGTH && one.cl == n,
			  "%s: %d/%d/%llu", file, one.status, one.body, (unsigned long long)one.cl);
	} else if (!strcmp(want, "accept:chunked")) {
		cr_expect(one.status == 0 && one.body == SL_H1_BODY_CHUNKED, "%s: %d/%d", file, one.status,
			  one.body);
	} else {
		cr_assert_fail("%s: unknown verdict %s", file, want);
	}
	if (one.status == 0)
		cr_expect_eq(one.total, len, "%s: message is %zu of %zu bytes", file, one.total, len);
	free(buf);
	return one.status == 0;
}

Test(h1_smuggling, corpus)
{
	FILE *f = fopen(SMUGGLING_DIR "/verdicts.txt", "r");
	cr_assert_not_null(f);
	char line[512], file[256], want[64];
	int n = 0, accepted = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%255s %63s", file, want) != 2)
			continue;
		accepted += check_file(file, want);
		n++;
	}
	fclose(f);
	cr_expect_geq(n, 40, "%d files", n);
	cr_expect_geq(accepted, 10);
	cr_expect_geq(n - accepted, 30);
}
