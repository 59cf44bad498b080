/* HTTP access logs: the HTTP proxy hands a fixed-size record per request to
 * the engine's hook (struct sl_app_env.http_log), which copies it into the
 * worker's own ring within the VS's per-second budget, never waiting (a
 * full ring or a spent budget is counted); the main lcore drains the rings
 * into <log-dir>/<vs>.http.jsonl. The DNS query logs (qlog.h) work the same. */
#ifndef SL_ALOG_H
#define SL_ALOG_H

#include <stdint.h>

#define SL_ALOG_RING 4096

struct sl_gen_vs;
struct sl_http_log;

/* Per VS slot, summed over workers. not_written: drained but not written
 * (the file could not be opened or written). */
struct sl_alog_counts {
	uint64_t logged, throttled, ring_full, not_written;
};

/* Before the workers run: one ring and one budget table per worker. */
int sl_alog_init(unsigned n_workers);
/* The hook; arg is the worker (struct sl_worker *). */
void sl_alog_push(void *arg, const struct sl_gen_vs *vs, const struct sl_http_log *rec);
/* Main lcore: every ring into its VS's file. Returns records drained. */
unsigned sl_alog_drain(const char *log_dir);
void sl_alog_close(void);
/* dir/<vs><suffix> with the VS name's bytes outside [A-Za-z0-9._-] as '_':
 * a name never leads out of the log dir (DNS and HTTP logs alike). */
void sl_log_file_name(char *dst, size_t len, const char *dir, const char *vs, const char *suffix);
void sl_alog_counts(uint32_t vs_slot, struct sl_alog_counts *out);

#endif
