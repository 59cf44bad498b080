/* libFuzzer target: the control socket's HTTP request-head parser, with default and tiny limits. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sl_http_limits tiny = { .max_line = 64, .max_head = 256, .max_headers = 4, .max_body = 100 };
	const struct sl_http_limits *lims[2] = { &sl_http_default_limits, &tiny };
	/* copy so reads past the end are caught by ASan */
	char *b = malloc(size ? size : 1);
	if (!b)
		return 0;
	memcpy(b, data, size);
	for (int i = 0; i < 2; i++) {
		struct sl_http_req r;
		int rc = sl_http_parse(b, size, lims[i], &r);
		if (rc > 0) {
			if ((size_t)rc > size || r.path < b || r.path + r.path_len > b + size)
				abort();
			if (r.query && (r.query < b || r.query + r.query_len > b + size))
				abort();
			if (r.content_length > lims[i]->max_body)
				abort();
			/* what the server does with the target: decode it, refusing control bytes */
			char d[64];
			int dl = sl_http_pct_decode(r.path, r.path_len, d, sizeof(d));
			if (dl >= (int)sizeof(d) || (dl >= 0 && (strlen(d) != (size_t)dl || sl_has_ctl_byte(d, (size_t)dl))))
				abort();
		} else if (rc < 0 && (rc > -400 || rc < -599)) {
			abort();
		}
	}
	free(b);
	return 0;
}
