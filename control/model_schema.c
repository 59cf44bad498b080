/* Field tables of every supported Avi object type. Anything not listed here (and not in
 * sl_ignored_fields) is refused with its JSON path. */
#include <strings.h>
#include <string.h>

#include "model.h"

#define E(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define F_STR(n, req, maxlen) { .name = n, .kind = K_STR, .required = req, .min = 0, .max = maxlen }
#define F_STRA(n, req, maxlen, am) { .name = n, .kind = K_STR, .array = true, .required = req, .max = maxlen, .amax = am }
#define F_INT(n, req, lo, hi) { .name = n, .kind = K_INT, .required = req, .min = lo, .max = hi }
#define F_INTA(n, req, lo, hi, am) { .name = n, .kind = K_INT, .array = true, .required = req, .min = lo, .max = hi, .amax = am }
#define F_BOOL(n) { .name = n, .kind = K_BOOL }
#define F_ENUM(n, req, en) { .name = n, .kind = K_ENUM, .required = req, .enums = en }
#define F_ENUMA(n, req, en) { .name = n, .kind = K_ENUM, .array = true, .required = req, .enums = en, .amax = 64 }
#define F_OBJ(n, req, s) { .name = n, .kind = K_OBJ, .required = req, .sub = s }
#define F_OBJA(n, req, s, am) { .name = n, .kind = K_OBJ, .array = true, .required = req, .sub = s, .amax = am }
#define F_REF(n, req, t) { .name = n, .kind = K_REF, .required = req, .ref_type = t }
#define F_REFA(n, req, t, am) { .name = n, .kind = K_REF, .array = true, .required = req, .ref_type = t, .amax = am }
#define F_IP(n, req) { .name = n, .kind = K_IP, .required = req }
#define F_OPAQUE(n) { .name = n, .kind = K_OPAQUE_STR }
#define F_END { .name = NULL }

/* Avi bookkeeping, accepted anywhere at an object's top level and ignored. */
const char *const sl_ignored_fields[] = {
	"tenant_ref", "cloud_ref", "vrf_ref", "se_group_ref", "created_by", "cloud_config_cksum",
	"service_metadata", "description", "markers", "tenant", "url", "uuid", "_last_modified",
	"_generation", "labels", "configpb_attributes", "tenant_uuid", "cloud_uuid", "vrf_context_ref",
	NULL
};

#define MAXNAME 255
#define F_NAME F_STR("name", true, MAXNAME)

/* IpAddr {addr, type} */
static const struct sl_fdef ipaddr_f[] = {
	F_STR("addr", true, 64), F_ENUM("type", false, E("V4", "V6", "DNS")), F_END
};

/* ---------------- application profile ---------------- */
/* Avi's HTTP2ApplicationProfile: the limits of HTTP/2 sessions to clients (docs/http2.md) */
static const struct sl_fdef http2_profile_f[] = {
	F_INT("max_http2_concurrent_streams_per_connection", false, 1, 1000),
	F_INT("max_http2_control_frames_per_connection", false, 0, 10000),
	F_INT("max_http2_empty_data_frames_per_connection", false, 0, 10000),
	F_INT("http2_initial_window_size", false, 64, 32768), F_INT("max_http2_header_field_size", false, 1, 262144),
	F_INT("max_http2_requests_per_connection", false, 0, 10000000),
	F_INT("max_http2_queued_frames_to_client_per_connection", false, 0, 10000), F_END
};
static const struct sl_fdef http_profile_f[] = {
	F_BOOL("connection_multiplexing_enabled"), F_BOOL("xff_enabled"), F_BOOL("x_forwarded_proto_enabled"),
	F_STR("xff_alternate_name", false, 128), F_INT("keepalive_timeout", false, 10, 1800000),
	F_INT("client_header_timeout", false, 10, 100000000), F_INT("client_body_timeout", false, 0, 100000000),
	F_INT("max_request_size", false, 0, 1 << 30), F_BOOL("http_to_https"), F_BOOL("websockets_enabled"),
	F_BOOL("keepalive_header"), F_INT("max_rps_uri", false, 0, 1000000), F_BOOL("hsts_enabled"),
	F_BOOL("enable_request_body_buffering"), F_INT("max_keepalive_requests", false, 0, 1000000),
	F_BOOL("server_side_redirect_to_https"), F_BOOL("use_app_keepalive_timeout"),
	F_OBJ("http2_profile", false, http2_profile_f), F_END
};
static const struct sl_fdef dns_zone_f[] = {
	F_STR("domain_name", true, 253), F_STR("name_server", false, 253), F_STR("admin_email", false, 253),
	F_INT("sluice_soa_serial", false, 1, 4294967295LL),   /* sluice extension: Avi's DnsZone has no serial */
	F_END
};
static const struct sl_fdef dns_service_profile_f[] = {
	F_INT("num_dns_ip", false, 1, 20), F_INT("ttl", false, 0, 86400), F_INT("negative_caching_ttl", false, 0, 86400),
	F_STRA("domain_names", false, 253, 1024), F_OBJA("dns_zones", false, dns_zone_f, 1024),
	F_ENUM("error_response", false, E("DNS_ERROR_RESPONSE_ERROR", "DNS_ERROR_RESPONSE_NONE")),
	F_BOOL("dns_over_tcp_enabled"), F_BOOL("aaaa_empty_response"), F_BOOL("ecs_stripping_enabled"),
	F_BOOL("edns"), F_INT("edns_client_subnet_prefix_len", false, 0, 32), F_STR("admin_email", false, 253),
	F_STR("name_server", false, 253), F_END
};
/* L4 application profile: PROXY protocol header sent to servers (Avi TCPApplicationProfile). */
static const struct sl_fdef tcp_app_profile_f[] = {
	F_BOOL("proxy_protocol_enabled"),
	F_ENUM("proxy_protocol_version", false, E("PROXY_PROTOCOL_VERSION_1", "PROXY_PROTOCOL_VERSION_2")), F_END
};
static const struct sl_fdef appprof_f[] = {
	F_NAME,
	F_ENUM("type", true, E("APPLICATION_PROFILE_TYPE_L4", "APPLICATION_PROFILE_TYPE_HTTP",
			       "APPLICATION_PROFILE_TYPE_DNS", "APPLICATION_PROFILE_TYPE_SSL")),
	F_OBJ("http_profile", false, http_profile_f), F_OBJ("dns_service_profile", false, dns_service_profile_f),
	F_OBJ("tcp_app_profile", false, tcp_app_profile_f),
	F_BOOL("preserve_client_ip"), F_BOOL("preserve_client_port"), F_BOOL("preserve_dest_ip_port"), F_END
};

/* ---------------- network profile ---------------- */
static const struct sl_fdef tcp_proxy_f[] = {
	F_BOOL("automatic"), F_INT("idle_connection_timeout", false, 5, 14400), F_INT("max_retransmissions", false, 3, 15),
	F_INT("max_syn_retransmissions", false, 3, 15), F_INT("time_wait_delay", false, 0, 1000000),
	F_BOOL("nagles_algorithm"), F_INT("receive_window", false, 2, 65536), F_BOOL("use_interface_mtu"),
	F_INT("max_segment_size", false, 0, 9000), F_ENUM("congestion_control", false, E("CC_ALGO_NEW_RENO", "CC_ALGO_CUBIC", "CC_ALGO_HTCP")),
	F_END
};
static const struct sl_fdef fast_path_f[] = {
	F_INT("session_idle_timeout", false, 2, 3600), F_BOOL("enable_syn_protection"), F_BOOL("per_pkt_loadbalance"),
	F_BOOL("snat"), F_END
};
static const struct sl_fdef netprof_profile_f[] = {
	F_ENUM("type", true, E("PROTOCOL_TYPE_TCP_PROXY", "PROTOCOL_TYPE_TCP_FAST_PATH", "PROTOCOL_TYPE_UDP_FAST_PATH",
			       "PROTOCOL_TYPE_UDP_PROXY")),
	F_OBJ("tcp_proxy_profile", false, tcp_proxy_f), F_OBJ("tcp_fast_path_profile", false, fast_path_f),
	F_OBJ("udp_fast_path_profile", false, fast_path_f), F_OBJ("udp_proxy_profile", false, fast_path_f), F_END
};
static const struct sl_fdef netprof_f[] = {
	F_NAME, F_OBJ("profile", true, netprof_profile_f), F_BOOL("connection_mirror"), F_END
};

/* ---------------- health monitor ---------------- */
static const char *const http_codes[] = { "HTTP_ANY", "HTTP_1XX", "HTTP_2XX", "HTTP_3XX", "HTTP_4XX", "HTTP_5XX", NULL };
static const struct sl_fdef http_mon_f[] = {
	F_STR("http_request", false, 4096), F_ENUMA("http_response_code", false, http_codes),
	F_STR("http_response", false, 4096), F_BOOL("exact_http_request"), F_INT("maintenance_code", false, 101, 599),
	F_STR("http_request_body", false, 4096), F_END
};
static const struct sl_fdef tcp_mon_f[] = {
	F_STR("tcp_request", false, 4096), F_STR("tcp_response", false, 4096), F_BOOL("tcp_half_open"),
	F_STR("maintenance_response", false, 4096), F_END
};
static const struct sl_fdef dns_mon_f[] = {
	F_STR("query_name", true, 253),
	F_ENUM("qtype", false, E("DNS_QUERY_TYPE", "DNS_ANY_TYPE", "DNS_ANY_THING")),
	F_ENUM("rcode", false, E("RCODE_NO_ERROR", "RCODE_ANYTHING")),
	F_ENUM("record_type", false, E("DNS_RECORD_A", "DNS_RECORD_AAAA", "DNS_RECORD_ANY")),
	F_STR("response_string", false, 255), F_END
};
static const struct sl_fdef hm_f[] = {
	F_NAME,
	F_ENUM("type", true, E("HEALTH_MONITOR_PING", "HEALTH_MONITOR_TCP", "HEALTH_MONITOR_HTTP", "HEALTH_MONITOR_HTTPS",
			       "HEALTH_MONITOR_UDP", "HEALTH_MONITOR_DNS", "HEALTH_MONITOR_EXTERNAL")),
	F_INT("send_interval", false, 1, 3600), F_INT("receive_timeout", false, 1, 2400),
	F_INT("failed_checks", false, 1, 50), F_INT("successful_checks", false, 1, 50),
	F_INT("monitor_port", false, 1, 65535), F_BOOL("is_federated"),
	F_OBJ("http_monitor", false, http_mon_f), F_OBJ("https_monitor", false, http_mon_f),
	F_OBJ("tcp_monitor", false, tcp_mon_f), F_OBJ("udp_monitor", false, tcp_mon_f),
	F_OBJ("dns_monitor", false, dns_mon_f), F_END
};

/* ---------------- pool ---------------- */
static const struct sl_fdef server_f[] = {
	F_OBJ("ip", true, ipaddr_f), F_INT("port", false, 1, 65535), F_INT("ratio", false, 1, 20), F_BOOL("enabled"),
	F_STR("hostname", false, 253), F_STR("description", false, 1024), F_BOOL("resolve_server_by_dns"),
	F_STR("external_uuid", false, 128), F_END
};
const char *const sl_lb_algos[] = {
	"LB_ALGORITHM_ROUND_ROBIN", "LB_ALGORITHM_LEAST_CONNECTIONS", "LB_ALGORITHM_FASTEST_RESPONSE",
	"LB_ALGORITHM_CONSISTENT_HASH", "LB_ALGORITHM_LEAST_LOAD", "LB_ALGORITHM_FEWEST_SERVERS",
	"LB_ALGORITHM_RANDOM", "LB_ALGORITHM_FEWEST_TASKS", "LB_ALGORITHM_CORE_AFFINITY", NULL
};
const char *const sl_lb_hashes[] = {
	"LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS", "LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS_AND_PORT",
	"LB_ALGORITHM_CONSISTENT_HASH_URI", "LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_HEADER",
	"LB_ALGORITHM_CONSISTENT_HASH_CUSTOM_STRING", "LB_ALGORITHM_CONSISTENT_HASH_CALLID", NULL
};
static const struct sl_fdef pool_f[] = {
	F_NAME, F_OBJA("servers", false, server_f, 5000), F_INT("default_server_port", false, 1, 65535),
	{ .name = "lb_algorithm", .kind = K_ENUM, .enums = sl_lb_algos },
	{ .name = "lb_algorithm_hash", .kind = K_ENUM, .enums = sl_lb_hashes },
	F_STR("lb_algorithm_consistent_hash_hdr", false, 128),
	F_REFA("health_monitor_refs", false, SL_T_HM, 50), F_REF("ssl_key_and_certificate_ref", false, SL_T_CERT),
	F_OPAQUE("application_persistence_profile_ref"), F_OPAQUE("ssl_profile_ref"), F_OPAQUE("pki_profile_ref"),
	F_BOOL("enabled"), F_BOOL("sni_enabled"), F_BOOL("enable_http2"), F_BOOL("inline_health_monitor"),
	F_BOOL("use_service_port"), F_BOOL("rewrite_host_header_to_server_name"), F_BOOL("rewrite_host_header_to_sni"),
	F_INT("max_concurrent_connections_per_server", false, 0, 1000000000),
	F_INT("graceful_disable_timeout", false, -1, 7200), F_INT("connection_ramp_duration", false, 0, 300),
	F_INT("capacity_estimation_ttfb_thresh", false, 0, 100000),
	/* Avi: ms within which a server must answer a request (HTTP), 0 = the engine's default */
	F_INT("server_timeout", false, 0, 21600000), F_END
};

/* ---------------- pool group ---------------- */
static const struct sl_fdef pg_member_f[] = {
	F_REF("pool_ref", true, SL_T_POOL), F_INT("ratio", false, 0, 1000), F_STR("priority_label", false, 64),
	F_ENUM("deployment_state", false, E("EVALUATION_IN_PROGRESS", "IN_SERVICE", "OUT_OF_SERVICE", "EVALUATION_FAILED")),
	F_END
};
static const struct sl_fdef pg_f[] = {
	F_NAME, F_OBJA("members", false, pg_member_f, 1000), F_BOOL("implicit_priority_labels"),
	F_INT("min_servers", false, 0, 65535), F_OPAQUE("priority_labels_ref"), F_OPAQUE("deployment_policy_ref"),
	F_END
};

/* ---------------- http policy set ---------------- */
static const char *const hdr_crit[] = { "HDR_EXISTS", "HDR_DOES_NOT_EXIST", "HDR_BEGINS_WITH", "HDR_DOES_NOT_BEGIN_WITH",
	"HDR_CONTAINS", "HDR_DOES_NOT_CONTAIN", "HDR_ENDS_WITH", "HDR_DOES_NOT_END_WITH", "HDR_EQUALS",
	"HDR_DOES_NOT_EQUAL", NULL };
static const char *const str_crit[] = { "BEGINS_WITH", "DOES_NOT_BEGIN_WITH", "CONTAINS", "DOES_NOT_CONTAIN",
	"ENDS_WITH", "DOES_NOT_END_WITH", "EQUALS", "DOES_NOT_EQUAL", "REGEX_MATCH", "REGEX_DOES_NOT_MATCH", NULL };
static const char *const match_case[] = { "SENSITIVE", "INSENSITIVE", NULL };
static const struct sl_fdef m_host_f[] = {
	F_ENUM("match_criteria", true, hdr_crit), F_STRA("value", false, 1024, 256),
	{ .name = "match_case", .kind = K_ENUM, .enums = match_case }, F_END
};
static const struct sl_fdef m_path_f[] = {
	F_ENUM("match_criteria", true, str_crit), F_STRA("match_str", false, 1024, 256),
	{ .name = "match_case", .kind = K_ENUM, .enums = match_case }, F_OPAQUE("string_group_refs"), F_END
};
static const struct sl_fdef m_port_f[] = {
	F_ENUM("match_criteria", true, E("IS_IN", "IS_NOT_IN")), F_INTA("ports", true, 1, 65535, 256), F_END
};
static const char *const methods[] = { "HTTP_METHOD_GET", "HTTP_METHOD_HEAD", "HTTP_METHOD_PUT", "HTTP_METHOD_DELETE",
	"HTTP_METHOD_POST", "HTTP_METHOD_OPTIONS", "HTTP_METHOD_TRACE", "HTTP_METHOD_CONNECT", "HTTP_METHOD_PATCH",
	"HTTP_METHOD_PROPFIND", "HTTP_METHOD_PROPPATCH", "HTTP_METHOD_MKCOL", "HTTP_METHOD_COPY", "HTTP_METHOD_MOVE",
	"HTTP_METHOD_LOCK", "HTTP_METHOD_UNLOCK", NULL };
static const struct sl_fdef m_method_f[] = {
	F_ENUM("match_criteria", true, E("IS_IN", "IS_NOT_IN")), F_ENUMA("methods", true, methods), F_END
};
static const struct sl_fdef m_hdr_f[] = {
	F_ENUM("match_criteria", true, hdr_crit), F_STR("hdr", true, 256), F_STRA("value", false, 1024, 256),
	{ .name = "match_case", .kind = K_ENUM, .enums = match_case }, F_END
};
/* Avi 20.1 has QUERY_MATCH_CONTAINS only; later releases add the rest
 * (dataplane/policy evaluates them all, docs/policy.md) */
static const char *const query_crit[] = { "QUERY_MATCH_CONTAINS", "QUERY_MATCH_DOES_NOT_CONTAIN", "QUERY_MATCH_EXISTS",
	"QUERY_MATCH_DOES_NOT_EXIST", "QUERY_MATCH_BEGINS_WITH", "QUERY_MATCH_DOES_NOT_BEGIN_WITH", "QUERY_MATCH_ENDS_WITH",
	"QUERY_MATCH_DOES_NOT_END_WITH", "QUERY_MATCH_EQUALS", "QUERY_MATCH_DOES_NOT_EQUAL", "QUERY_MATCH_REGEX_MATCH",
	"QUERY_MATCH_REGEX_DOES_NOT_MATCH", NULL };
static const struct sl_fdef m_query_f[] = {
	F_ENUM("match_criteria", true, query_crit), F_STRA("match_str", false, 1024, 256),
	{ .name = "match_case", .kind = K_ENUM, .enums = match_case }, F_OPAQUE("string_group_refs"), F_END
};
/* Avi's CookieMatch: the cookie's name in key ("name" accepted too), one value */
static const struct sl_fdef m_cookie_f[] = {
	F_ENUM("match_criteria", true, hdr_crit), F_STR("key", false, 256), F_STR("name", false, 256),
	F_STR("value", false, 1024), { .name = "match_case", .kind = K_ENUM, .enums = match_case }, F_END
};
static const struct sl_fdef m_proto_f[] = {
	F_ENUM("match_criteria", true, E("IS_IN", "IS_NOT_IN")), F_ENUM("protocols", true, E("HTTP", "HTTPS")), F_END
};
static const struct sl_fdef match_f[] = {
	F_OBJ("host_hdr", false, m_host_f), F_OBJ("path", false, m_path_f), F_OBJ("vs_port", false, m_port_f),
	F_OBJ("method", false, m_method_f), F_OBJA("hdrs", false, m_hdr_f, 64), F_OBJ("query", false, m_query_f),
	F_OBJ("cookie", false, m_cookie_f), F_OBJ("protocol", false, m_proto_f), F_END
};
static const struct sl_fdef file_f[] = {
	F_STR("content_type", true, 128), F_STR("file_content", false, 1 << 20), F_INT("file_length", false, 0, 1 << 20), F_END
};
static const struct sl_fdef switching_f[] = {
	F_ENUM("action", true, E("HTTP_SWITCHING_SELECT_POOL", "HTTP_SWITCHING_SELECT_POOLGROUP", "HTTP_SWITCHING_SELECT_LOCAL")),
	F_REF("pool_ref", false, SL_T_POOL), F_REF("pool_group_ref", false, SL_T_POOLGROUP),
	F_ENUM("status_code", false, E("HTTP_LOCAL_RESPONSE_STATUS_CODE_200", "HTTP_LOCAL_RESPONSE_STATUS_CODE_204",
					"HTTP_LOCAL_RESPONSE_STATUS_CODE_403", "HTTP_LOCAL_RESPONSE_STATUS_CODE_404",
					"HTTP_LOCAL_RESPONSE_STATUS_CODE_429", "HTTP_LOCAL_RESPONSE_STATUS_CODE_501")),
	F_OBJ("file", false, file_f), F_END
};
static const struct sl_fdef uri_token_f[] = {
	F_ENUM("type", true, E("URI_TOKEN_TYPE_HOST", "URI_TOKEN_TYPE_PATH", "URI_TOKEN_TYPE_STRING",
			       "URI_TOKEN_TYPE_STRING_GROUP", "URI_TOKEN_TYPE_REGEX", "URI_TOKEN_TYPE_REGEX_QUERY")),
	F_STR("str_value", false, 1024), F_INT("start_index", false, 0, 65535), F_INT("end_index", false, 0, 65535), F_END
};
static const struct sl_fdef uri_param_f[] = {
	F_ENUM("type", true, E("URI_PARAM_TYPE_TOKENIZED")), F_OBJA("tokens", false, uri_token_f, 64), F_END
};
static const struct sl_fdef redirect_f[] = {
	F_ENUM("protocol", true, E("HTTP", "HTTPS")), F_OBJ("host", false, uri_param_f), F_OBJ("path", false, uri_param_f),
	F_INT("port", false, 1, 65535), F_BOOL("keep_query"), F_BOOL("add_string"),
	F_ENUM("status_code", false, E("HTTP_REDIRECT_STATUS_CODE_301", "HTTP_REDIRECT_STATUS_CODE_302",
					"HTTP_REDIRECT_STATUS_CODE_307", "HTTP_REDIRECT_STATUS_CODE_308")),
	F_END
};
static const struct sl_fdef hdr_value_f[] = { F_STR("val", false, 4096), F_BOOL("is_sensitive"), F_END };
static const struct sl_fdef hdr_f[] = { F_STR("name", true, 256), F_OBJ("value", false, hdr_value_f), F_END };
static const struct sl_fdef hdr_action_f[] = {
	F_ENUM("action", true, E("HTTP_ADD_HDR", "HTTP_REMOVE_HDR", "HTTP_REPLACE_HDR")), F_OBJ("hdr", true, hdr_f), F_END
};
static const struct sl_fdef req_rule_f[] = {
	F_STR("name", true, 256), F_INT("index", true, 0, 65535), F_BOOL("enable"), F_BOOL("log"), F_BOOL("all_headers"),
	F_OBJ("match", false, match_f), F_OBJ("switching_action", false, switching_f),
	F_OBJ("redirect_action", false, redirect_f), F_OBJA("hdr_action", false, hdr_action_f, 64), F_END
};
static const struct sl_fdef req_policy_f[] = { F_OBJA("rules", false, req_rule_f, 1024), F_END };
static const struct sl_fdef resp_rule_f[] = {
	F_STR("name", true, 256), F_INT("index", true, 0, 65535), F_BOOL("enable"), F_BOOL("log"), F_BOOL("all_headers"),
	F_OBJ("match", false, match_f), F_OBJA("hdr_action", false, hdr_action_f, 64), F_END
};
static const struct sl_fdef resp_policy_f[] = { F_OBJA("rules", false, resp_rule_f, 1024), F_END };
static const struct sl_fdef hps_f[] = {
	F_NAME, F_OBJ("http_request_policy", false, req_policy_f), F_OBJ("http_response_policy", false, resp_policy_f),
	F_BOOL("is_internal_policy"), F_END
};

/* ---------------- certificate ---------------- */
static const struct sl_fdef cert_inner_f[] = { F_STR("certificate", true, 1 << 20), F_BOOL("self_signed"), F_END };
static const struct sl_fdef ca_cert_f[] = { F_STR("name", false, 256), F_REF("ca_ref", false, SL_T_CERT), F_END };
static const struct sl_fdef cert_f[] = {
	F_NAME, F_OBJ("certificate", true, cert_inner_f), F_STR("key", false, 1 << 20), F_STR("key_passphrase", false, 1024),
	F_ENUM("type", false, E("SSL_CERTIFICATE_TYPE_VIRTUALSERVICE", "SSL_CERTIFICATE_TYPE_SYSTEM", "SSL_CERTIFICATE_TYPE_CA")),
	F_OBJA("ca_certs", false, ca_cert_f, 16), F_ENUM("format", false, E("SSL_PEM")), F_BOOL("certificate_base64"),
	F_BOOL("key_base64"), F_BOOL("enable_ocsp_stapling"), F_END
};

/* ---------------- ssl profile ---------------- */
/* The versions sluice never serves are in the enum so that they are refused with a 422 that says
 * so (control/model.c sem_sslprof), not as an unknown value. */
static const char *const ssl_versions[] = { "SSL_VERSION_SSLV3", "SSL_VERSION_TLS1", "SSL_VERSION_TLS1_1",
	"SSL_VERSION_TLS1_2", "SSL_VERSION_TLS1_3", NULL };
static const struct sl_fdef ssl_version_f[] = { F_ENUM("type", true, ssl_versions), F_END };
static const struct sl_fdef sslprof_f[] = {
	F_NAME, F_OBJA("accepted_versions", false, ssl_version_f, 8), F_STR("accepted_ciphers", false, 4096),
	F_STR("ciphersuites", false, 1024),
	/* Avi's field (default false) and its inverse (default true); both given, they must agree */
	F_BOOL("prefer_client_cipher_ordering"), F_BOOL("prefer_server_cipher_ordering"),
	F_ENUM("type", false, E("SSL_PROFILE_TYPE_APPLICATION", "SSL_PROFILE_TYPE_SYSTEM")),
	F_OPAQUE("ssl_rating"), F_OPAQUE("tags"), F_END
};

/* ---------------- datascript ---------------- */
static const struct sl_fdef ds_f_inner[] = {
	F_ENUM("evt", true, E("VS_DATASCRIPT_EVT_HTTP_REQ", "VS_DATASCRIPT_EVT_HTTP_RESP", "VS_DATASCRIPT_EVT_HTTP_RESP_FAILED",
			      "VS_DATASCRIPT_EVT_HTTP_LB_FAILED", "VS_DATASCRIPT_EVT_L4_REQUEST", "VS_DATASCRIPT_EVT_L4_RESPONSE",
			      "VS_DATASCRIPT_EVT_SSL_CLIENT_HELLO", "VS_DATASCRIPT_EVT_DNS_REQ", "VS_DATASCRIPT_EVT_HTTP_RESP_DATA",
			      "VS_DATASCRIPT_EVT_HTTP_REQ_DATA")),
	F_STR("script", true, 1 << 20), F_END
};
static const struct sl_fdef ds_f[] = {
	F_NAME, F_OBJA("datascript", true, ds_f_inner, 16), F_REFA("pool_refs", false, SL_T_POOL, 256),
	F_REFA("pool_group_refs", false, SL_T_POOLGROUP, 256), F_OPAQUE("ipgroup_refs"), F_OPAQUE("string_group_refs"),
	F_OPAQUE("protocol_parser_refs"), F_END
};

/* ---------------- gslb service ---------------- */
static const struct sl_fdef gs_member_f[] = {
	F_OBJ("ip", true, ipaddr_f), F_INT("ratio", false, 1, 20), F_BOOL("enabled"), F_STR("fqdn", false, 253),
	F_STR("cluster_uuid", false, 128), F_STR("vs_uuid", false, 128), F_INT("preference_order", false, 1, 128),
	F_STR("description", false, 1024), F_END
};
static const struct sl_fdef gs_group_f[] = {
	F_STR("name", false, 256), F_INT("priority", false, 0, 100),
	F_ENUM("algorithm", false, E("GSLB_ALGORITHM_ROUND_ROBIN", "GSLB_ALGORITHM_CONSISTENT_HASH", "GSLB_ALGORITHM_GEO",
				     "GSLB_ALGORITHM_TOPOLOGY", "GSLB_ALGORITHM_PREFERENCE_ORDER")),
	F_OBJA("members", false, gs_member_f, 256), F_INT("consistent_hash_mask", false, 1, 31), F_END
};
static const struct sl_fdef gs_down_f[] = {
	F_ENUM("type", true, E("GSLB_SERVICE_DOWN_RESPONSE_NONE", "GSLB_SERVICE_DOWN_RESPONSE_ALL_RECORDS",
			       "GSLB_SERVICE_DOWN_RESPONSE_FALLBACK_IP", "GSLB_SERVICE_DOWN_RESPONSE_EMPTY")),
	F_OBJ("fallback_ip", false, ipaddr_f), F_END
};
static const struct sl_fdef gslb_f[] = {
	F_NAME, F_STRA("domain_names", true, 253, 64), F_OBJA("groups", false, gs_group_f, 64),
	F_REFA("health_monitor_refs", false, SL_T_HM, 6), F_INT("ttl", false, 0, 86400), F_INT("num_dns_ip", false, 1, 20),
	F_OBJ("down_response", false, gs_down_f), F_INT("min_members", false, 0, 65535), F_BOOL("enabled"),
	F_BOOL("controller_health_status_enabled"), F_BOOL("use_edns_client_subnet"), F_BOOL("wildcard_match"),
	F_BOOL("site_persistence_enabled"), F_BOOL("is_federated"), F_BOOL("resolve_cname"), F_BOOL("hm_off"),
	F_ENUM("pool_algorithm", false, E("GSLB_SERVICE_ALGORITHM_PRIORITY", "GSLB_SERVICE_ALGORITHM_GEO")),
	F_ENUM("health_monitor_scope", false, E("GSLB_SERVICE_HEALTH_MONITOR_ALL_MEMBERS",
						"GSLB_SERVICE_HEALTH_MONITOR_ONLY_NON_AVI_MEMBERS")),
	F_END
};

/* ---------------- vsvip / virtual service ---------------- */
static const struct sl_fdef vip_f[] = {
	F_STR("vip_id", false, 64), F_OBJ("ip_address", true, ipaddr_f), F_BOOL("enabled"), F_BOOL("auto_allocate_ip"),
	F_BOOL("auto_allocate_floating_ip"), F_BOOL("avi_allocated_vip"), F_END
};
static const struct sl_fdef dns_info_f[] = {
	F_STR("fqdn", false, 253), F_INT("ttl", false, 0, 86400),
	F_ENUM("type", false, E("DNS_RECORD_A", "DNS_RECORD_AAAA", "DNS_RECORD_CNAME", "DNS_RECORD_OTHER")), F_END
};
static const struct sl_fdef vsvip_f[] = {
	F_NAME, F_OBJA("vip", true, vip_f, 8), F_OBJA("dns_info", false, dns_info_f, 64), F_BOOL("east_west_placement"),
	F_OPAQUE("tier1_lr"), F_END
};
static const struct sl_fdef service_f[] = {
	F_INT("port", true, 1, 65535), F_INT("port_range_end", false, 1, 65535), F_BOOL("enable_ssl"),
	F_BOOL("enable_http2"), F_REF("override_network_profile_ref", false, SL_T_NETPROF),
	F_REF("override_application_profile_ref", false, SL_T_APPPROF), F_END
};
static const struct sl_fdef http_pol_ref_f[] = {
	F_INT("index", true, 0, 65535), F_REF("http_policy_set_ref", true, SL_T_HTTPPOLICYSET), F_END
};
static const struct sl_fdef ds_ref_f[] = {
	F_INT("index", true, 0, 65535), F_REF("vs_datascript_set_ref", true, SL_T_DS), F_END
};
static const struct sl_fdef dns_ip_f[] = { F_OBJ("ip_address", true, ipaddr_f), F_END };
static const struct sl_fdef dns_ip6_f[] = { F_OBJ("ip6_address", true, ipaddr_f), F_END };
static const struct sl_fdef dns_cname_f[] = { F_STR("cname", true, 253), F_END };
static const struct sl_fdef dns_ns_f[] = { F_STR("nsname", true, 253), F_OBJ("ip_address", false, ipaddr_f), F_END };
static const struct sl_fdef dns_srv_f[] = {
	F_INT("port", true, 0, 65535), F_INT("priority", false, 0, 65535), F_INT("weight", false, 0, 65535),
	F_STR("target", false, 253), F_END
};
static const struct sl_fdef dns_mx_f[] = { F_STR("host", true, 253), F_INT("priority", false, 0, 65535), F_END };
static const struct sl_fdef dns_txt_f[] = { F_STR("text_str", true, 255), F_END };
static const struct sl_fdef dns_rec_f[] = {
	F_STRA("fqdn", true, 253, 64),
	F_ENUM("type", true, E("DNS_RECORD_A", "DNS_RECORD_AAAA", "DNS_RECORD_CNAME", "DNS_RECORD_NS", "DNS_RECORD_SRV",
			       "DNS_RECORD_MX", "DNS_RECORD_TXT", "DNS_RECORD_SOA", "DNS_RECORD_PTR", "DNS_RECORD_OTHER")),
	F_INT("ttl", false, 0, 86400), F_OBJA("ip_address", false, dns_ip_f, 64), F_OBJA("ip6_address", false, dns_ip6_f, 64),
	F_OBJ("cname", false, dns_cname_f), F_OBJA("ns", false, dns_ns_f, 16), F_OBJA("service_locator", false, dns_srv_f, 64),
	F_OBJA("mx_records", false, dns_mx_f, 64), F_OBJA("txt_records", false, dns_txt_f, 64),
	F_INT("num_records_in_response", false, 0, 20),
	F_ENUM("algorithm", false, E("DNS_RECORD_RESPONSE_ROUND_ROBIN", "DNS_RECORD_RESPONSE_CONSISTENT_HASH")),
	F_BOOL("wildcard_match"), F_BOOL("delegated"), F_STR("description", false, 1024), F_STR("ptr_name", false, 253),
	F_END
};
/* Avi: full_client_logs{enabled, duration (minutes, 0 = forever), throttle
 * (logs per second for the VS, 0 = no throttle)}. duration is accepted and
 * not enforced: logging stays on until the policy changes. */
static const struct sl_fdef full_client_logs_f[] = {
	F_BOOL("enabled"), F_INT("duration", false, 0, 1000000), F_INT("throttle", false, 0, 1000000), F_END
};
static const struct sl_fdef analytics_f[] = {
	F_OBJ("full_client_logs", false, full_client_logs_f), F_OPAQUE("metrics_realtime_update"), F_OPAQUE("client_insights"),
	F_BOOL("all_headers"), F_END
};
/* Avi PerformanceLimits; max_throughput is not enforced, so not accepted. */
static const struct sl_fdef perf_limits_f[] = {
	F_INT("max_concurrent_connections", false, 0, 100000000), F_END
};
static const struct sl_fdef vs_f[] = {
	F_NAME, F_ENUM("type", false, E("VS_TYPE_NORMAL", "VS_TYPE_VH_PARENT", "VS_TYPE_VH_CHILD")),
	F_BOOL("enabled"), F_BOOL("traffic_enabled"), F_OBJA("vip", false, vip_f, 8), F_REF("vsvip_ref", false, SL_T_VSVIP),
	F_OBJA("services", false, service_f, 64), F_REF("application_profile_ref", false, SL_T_APPPROF),
	F_REF("network_profile_ref", false, SL_T_NETPROF), F_REF("pool_ref", false, SL_T_POOL),
	F_REF("pool_group_ref", false, SL_T_POOLGROUP), F_OBJA("http_policies", false, http_pol_ref_f, 64),
	F_OBJA("vs_datascripts", false, ds_ref_f, 64), F_REFA("ssl_key_and_certificate_refs", false, SL_T_CERT, 8),
	F_REF("ssl_profile_ref", false, SL_T_SSLPROF), F_REF("vh_parent_vs_ref", false, SL_T_VS), F_STRA("vh_domain_name", false, 253, 64),
	F_OBJA("static_dns_records", false, dns_rec_f, 10000), F_OBJ("analytics_policy", false, analytics_f),
	F_OPAQUE("analytics_profile_ref"), F_OPAQUE("waf_policy_ref"), F_OPAQUE("application_persistence_profile_ref"),
	F_BOOL("east_west_placement"), F_BOOL("ign_pool_net_reach"), F_BOOL("use_bridge_ip_as_vip"),
	F_BOOL("delay_fairness"), F_BOOL("close_client_conn_on_config_update"), F_INT("weight", false, 1, 128),
	F_STR("fqdn", false, 253), F_OBJ("performance_limits", false, perf_limits_f), F_END
};

const struct sl_tdef sl_types[SL_T__N] = {
	[SL_T_VS] = { "virtualservice", "VirtualService", vs_f },
	[SL_T_VSVIP] = { "vsvip", "VsVip", vsvip_f },
	[SL_T_POOL] = { "pool", "Pool", pool_f },
	[SL_T_POOLGROUP] = { "poolgroup", "PoolGroup", pg_f },
	[SL_T_HTTPPOLICYSET] = { "httppolicyset", "HTTPPolicySet", hps_f },
	[SL_T_CERT] = { "sslkeyandcertificate", "SSLKeyAndCertificate", cert_f },
	[SL_T_HM] = { "healthmonitor", "HealthMonitor", hm_f },
	[SL_T_DS] = { "vsdatascriptset", "VSDataScriptSet", ds_f },
	[SL_T_GSLB] = { "gslbservice", "GslbService", gslb_f },
	[SL_T_APPPROF] = { "applicationprofile", "ApplicationProfile", appprof_f },
	[SL_T_NETPROF] = { "networkprofile", "NetworkProfile", netprof_f },
	[SL_T_SSLPROF] = { "sslprofile", "SSLProfile", sslprof_f },
};

int sl_type_by_name(const char *s)
{
	for (int i = 0; i < SL_T__N; i++)
		if (!strcasecmp(s, sl_types[i].name) || !strcasecmp(s, sl_types[i].model))
			return i;
	return -1;
}

int sl_enum_index(const char *const *enums, const char *s)
{
	for (int i = 0; enums[i]; i++)
		if (!strcmp(enums[i], s))
			return i;
	return -1;
}
