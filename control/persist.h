/* Private: crash-safe persistence (snapshot config.json + append-only journal of changes). */
#ifndef SL_PERSIST_H
#define SL_PERSIST_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct sl_persist {
	char *dir;
	int jfd;              /* journal, O_APPEND */
	size_t journal_bytes;
	size_t snapshot_bytes;
};

/* Reads the state. *objs = snapshot objects (or NULL on an empty dir), *records = journal records after
   the snapshot's generation, in order. 0, or -errno with a message naming file/line/column. */
int sl_persist_load(struct sl_persist *p, const char *dir, json_t **objs, uint64_t *snap_gen, json_t **records,
		    char *err, size_t errlen);
/* Durably appends one change record (fsync before returning). */
int sl_persist_append(struct sl_persist *p, json_t *record);
/* Atomically writes a full snapshot (temp, fsync, rename, fsync dir) and empties the journal. */
int sl_persist_snapshot(struct sl_persist *p, json_t *objs, uint64_t gen);
void sl_persist_close(struct sl_persist *p);
uint32_t sl_crc32(const void *buf, size_t len);
#endif
