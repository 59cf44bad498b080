/* What the engine makes of the HTTP proxy's counters and access-log
 * records (sl_http_stats.h) for operators: the access-log JSON line, the
 * runtime JSON object and the Prometheus text. No DPDK, so the unit tests
 * drive it directly; the rings and the files are alog.c's. */
#ifndef SL_HTTP_OBS_H
#define SL_HTTP_OBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sl_http_stats.h"

/* What a line needs beyond the record: names resolved on the main lcore
 * from the current generation. */
struct sl_alog_ctx {
	const char *vs;
	const char *pool;     /* NULL: none */
	const char *error;    /* sl_http_log_err_name(), NULL when SL_HTTP_LOG_OK */
	unsigned worker;
};

/* Every byte of text, VS and pool name escaped (6 bytes at most each) plus
 * the fixed fields fits, so a line is never cut. */
#define SL_ALOG_LINE_MAX 8192

/* One JSON line ('\n' included, NUL-terminated) for r, whose t_us is wall
 * clock (microseconds since the epoch). Returns its length; 0 when cap is
 * too small (nothing usable is in buf then). */
size_t sl_alog_format(char *buf, size_t cap, const struct sl_http_log *r, const struct sl_alog_ctx *c);

/* The runtime object of an HTTP VS ("http" in /api/virtualservice/<name>/runtime). */
json_t *sl_http_vs_json(const struct sl_http_vs_stats *s);

/* Prometheus text for n HTTP VSs (names[i] has stats st[i]), one family
 * after the other (the text format wants a family's samples together),
 * each line handed to out with its '\n'. bounds_us: the histograms' upper
 * bounds, SL_HTTP_LAT_BUCKETS - 1 of them (sl_http_lat_bounds_us). */
void sl_http_metrics_text(void (*out)(void *arg, const char *line), void *arg, unsigned n,
			  const char *const *names, const struct sl_http_vs_stats *st, const uint32_t *bounds_us);

#endif
