/* sl_http_stats.h - counters of the HTTP/1.1 proxy (dataplane/app/http),
 * summed over workers for /api and /metrics (racy snapshots, main lcore). */
#ifndef SL_HTTP_STATS_H
#define SL_HTTP_STATS_H

#include <stdint.h>

/* Latency histogram buckets (upper bounds, microseconds; the last is +Inf). */
#define SL_HTTP_LAT_BUCKETS 12
extern const uint32_t sl_http_lat_bounds_us[SL_HTTP_LAT_BUCKETS - 1];

/* Per VS by VS slot. All uint64_t: summed word by word. */
struct sl_http_vs_stats {
	uint64_t conns, requests, resp_1xx, resp_2xx, resp_3xx, resp_4xx, resp_5xx;
	uint64_t bytes_in, bytes_out;         /* request / response bytes, heads and bodies */
	uint64_t local, redirects;            /* answered by the engine (policy, errors) / redirects */
	uint64_t bad_request, header_timeout, too_large;   /* 4xx the engine sent: 400-505 parse, 408, 413 */
	uint64_t misdirected;                 /* 421: TLS, and the Host names another SNI child of the parent */
	uint64_t no_server, connect_fail, bad_response, server_timeout, server_reset;  /* 503, 502, 502, 504, mid-body */
	uint64_t retries, server_conns, server_reused;
	uint64_t total_us_sum, server_us_sum;
	uint64_t total_hist[SL_HTTP_LAT_BUCKETS], server_hist[SL_HTTP_LAT_BUCKETS];
};

void sl_http_vs_stats(uint32_t vs_slot, struct sl_http_vs_stats *out);

/* Why a request did not get a server's answer (access logs). */
enum sl_http_log_err {
	SL_HTTP_LOG_OK = 0, SL_HTTP_LOG_BAD_REQUEST, SL_HTTP_LOG_HEADER_TIMEOUT, SL_HTTP_LOG_TOO_LARGE,
	SL_HTTP_LOG_NO_SERVER, SL_HTTP_LOG_CONNECT_FAIL, SL_HTTP_LOG_BAD_RESPONSE, SL_HTTP_LOG_SERVER_TIMEOUT,
	SL_HTTP_LOG_SERVER_RESET, SL_HTTP_LOG_CLIENT_ABORT, SL_HTTP_LOG_LOCAL, SL_HTTP_LOG_REDIRECT,
	SL_HTTP_LOG_MISDIRECTED,
	SL_HTTP_LOG__MAX
};
const char *sl_http_log_err_name(unsigned e);

/* One access-log record, handed by the worker to the engine's log hook
 * (struct sl_app_env.http_log) for every request of a VS with full client
 * logs on, and for significant ones (status >= 400, an error, or slower
 * than SL_HTTP_LOG_SLOW_US) otherwise. Fixed size: the hook copies it into
 * a ring, the main lcore writes the JSON line. */
#define SL_HTTP_LOG_SLOW_US 1000000
#define SL_HTTP_LOG_TEXT 480
struct sl_http_log {
	uint64_t t_us;                /* engine clock when the request began */
	uint64_t total_us, server_us; /* server_us: head sent to response done; 0 = no server */
	uint64_t req_bytes, rsp_bytes;
	uint32_t vs_slot, pool_slot;  /* pool_slot SL_GEN_NONE: none */
	uint32_t client_ip, server_ip;   /* network order; server 0 = none */
	uint16_t client_port, server_port;
	uint32_t client_rtt_us;
	uint16_t status;
	int16_t rule_index;           /* the deciding HTTPPolicySet rule's index, -1 none */
	uint8_t err;                  /* enum sl_http_log_err */
	bool significant;
	uint16_t method_len, host_len, uri_len;   /* in text, one after the other (truncated) */
	/* TLS connections (the transform's sl_app_xf_info): SNI, version, cipher,
	 * resumed; tls_version "" otherwise */
	char sni[64], tls_version[8], tls_cipher[32];
	bool tls_resumed;
	char text[SL_HTTP_LOG_TEXT];
};

#endif
