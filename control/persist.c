/* Persistence. A full snapshot of 10,000 virtual services is megabytes of JSON; rewriting it on every
 * change would cost tens of milliseconds. Each accepted change is therefore appended to a journal as one
 * CRC-protected line and fsync'ed; the snapshot is rewritten (atomically) only when the journal has grown
 * past the snapshot's size. Start-up = snapshot + replay of the journal records newer than it. */
#include "persist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint32_t sl_crc32(const void *buf, size_t len)
{
	static uint32_t tab[256];
	if (!tab[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			tab[i] = c;
		}
	uint32_t c = 0xffffffffu;
	const uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		c = tab[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) ? -errno : 0;
	close(fd);
	return rc;
}

static int write_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_atomic(const char *dir, const char *name, const char *data, size_t len)
{
	char tmp[4096], dst[4096];
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = write_all(fd, data, len);
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	if (!rc && rename(tmp, dst))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	return fsync_dir(dir);
}

static int open_journal(struct sl_persist *p)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/journal", p->dir);
	p->jfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	return p->jfd < 0 ? -errno : 0;
}

static char *read_file(const char *path, size_t *len, int *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		*err = -errno;
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap + 1);
	while (b) {
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (n < cap)
			break;
		cap *= 2;
		char *nb = realloc(b, cap + 1);
		if (!nb) {
			free(b);
			b = NULL;
			break;
		}
		b = nb;
	}
	*err = ferror(f) ? -EIO : (b ? 0 : -ENOMEM);
	fclose(f);
	if (*err) {
		free(b);
		return NULL;
	}
	b[n] = 0;
	*len = n;
	return b;
}

int sl_persist_load(struct sl_persist *p, const char *dir, json_t **objs, uint64_t *snap_gen, json_t **records,
		    char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->jfd = -1;
	*objs = NULL;
	*records = NULL;
	*snap_gen = 0;
	p->dir = strdup(dir);
	if (!p->dir)
		return -ENOMEM;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create state directory: %s", dir, strerror(errno));
		return -errno;
	}
	char path[4096];
	size_t len;
	int rc;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	char *buf = read_file(path, &len, &rc);
	if (!buf && rc != -ENOENT) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
		return rc;
	}
	if (buf) {
		json_error_t je;
		json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
		free(buf);
		p->snapshot_bytes = len;
		if (!root) {
			snprintf(err, errlen, "%s: corrupt state file, line %d column %d: %s (refusing to start with an "
				 "empty configuration; fix or move the file)", path, je.line, je.column, je.text);
			return -EINVAL;
		}
		json_t *o = json_object_get(root, "objects"), *g = json_object_get(root, "generation");
		if (json_integer_value(json_object_get(root, "version")) != 1 || !json_is_object(o) || !json_is_integer(g)) {
			json_decref(root);
			snprintf(err, errlen, "%s: corrupt state file: expected {\"version\":1,\"generation\":N,\"objects\":{...}}",
				 path);
			return -EINVAL;
		}
		*snap_gen = (uint64_t)json_integer_value(g);
		*objs = json_incref(o);
		json_decref(root);
	}
	*records = json_array();
	snprintf(path, sizeof(path), "%s/journal", dir);
	len = 0; /* a missing journal is empty, not as long as the snapshot */
	buf = read_file(path, &len, &rc);
	if (!buf && rc != -ENOENT) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
		return rc;
	}
	size_t good = 0;
	for (size_t off = 0, line = 1; buf && off < len; line++) {
		char *nl = memchr(buf + off, '\n', len - off);
		if (!nl) {
			/* a torn tail was never acknowledged (we answer only after fsync): drop it */
			fprintf(stderr, "sluice: %s: ignoring incomplete last record (%zu bytes)\n", path, len - off);
			break;
		}
		size_t ll = (size_t)(nl - (buf + off));
		char *l = buf + off;
		unsigned crc;
		json_error_t je;
		json_t *r = NULL;
		if (ll < 10 || sscanf(l, "%8x", &crc) != 1 || l[8] != ' ' || sl_crc32(l + 9, ll - 9) != crc ||
		    !(r = json_loadb(l + 9, ll - 9, 0, &je)) || !json_is_integer(json_object_get(r, "gen"))) {
			json_decref(r);
			free(buf);
			snprintf(err, errlen, "%s:%zu: corrupt journal record (bad checksum or JSON); refusing to start", path,
				 line);
			return -EINVAL;
		}
		if ((uint64_t)json_integer_value(json_object_get(r, "gen")) > *snap_gen)
			json_array_append(*records, r);
		json_decref(r);
		off += ll + 1;
		good = off;
	}
	free(buf);
	if (good < len) {
		snprintf(path, sizeof(path), "%s/journal", dir);
		if (truncate(path, (off_t)good)) {
			snprintf(err, errlen, "%s: cannot truncate torn record: %s", path, strerror(errno));
			return -errno;
		}
	}
	p->journal_bytes = good;
	rc = open_journal(p);
	if (rc)
		snprintf(err, errlen, "%s/journal: cannot open: %s", dir, strerror(-rc));
	return rc;
}

int sl_persist_append(struct sl_persist *p, json_t *record)
{
	char *s = json_dumps(record, JSON_COMPACT);
	if (!s)
		return -ENOMEM;
	size_t n = strlen(s);
	char *line = malloc(n + 11);
	if (!line) {
		free(s);
		return -ENOMEM;
	}
	snprintf(line, 10, "%08x", sl_crc32(s, n));
	line[8] = ' ';
	memcpy(line + 9, s, n);
	line[9 + n] = '\n';
	free(s);
	int rc = write_all(p->jfd, line, n + 10);
	free(line);
	if (!rc && fdatasync(p->jfd))
		rc = -errno;
	if (!rc)
		p->journal_bytes += n + 10;
	return rc;
}

int sl_persist_snapshot(struct sl_persist *p, json_t *objs, uint64_t gen)
{
	json_t *root = json_pack("{s:i, s:I, s:O}", "version", 1, "generation", (json_int_t)gen, "objects", objs);
	if (!root)
		return -ENOMEM;
	char *s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!s)
		return -ENOMEM;
	size_t n = strlen(s);
	int rc = write_atomic(p->dir, "config.json", s, n);
	free(s);
	if (rc)
		return rc;
	p->snapshot_bytes = n;
	/* the journal's records are now all <= gen and would be skipped; empty it */
	rc = write_atomic(p->dir, "journal", "", 0);
	if (rc)
		return rc;
	if (p->jfd >= 0)
		close(p->jfd);
	p->journal_bytes = 0;
	return open_journal(p);
}

void sl_persist_close(struct sl_persist *p)
{
	if (p->jfd >= 0)
		close(p->jfd);
	free(p->dir);
	memset(p, 0, sizeof(*p));
	p->jfd = -1;
}
