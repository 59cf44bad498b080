/* sl_tls.h - TLS termination (OpenSSL 3) for the application layer.
 *
 * Two halves. The set-up half (tls.c, no DPDK) is what control calls on the
 * main lcore: it compiles a virtual service's certificates and protocol
 * settings into a struct sl_tls_vs, one SSL_CTX per worker, each in that
 * worker's own OSSL_LIB_CTX, and it owns the session-ticket keys every
 * worker shares. The per-connection half (tls_fp.c) is a transform of the
 * application layer (struct sl_app_xform): the layer attaches it to a
 * connection accepted on a service port with enable_ssl, and the
 * application above (the HTTP proxy) sees plaintext only. See docs/tls.md.
 */
#ifndef SL_TLS_H
#define SL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct ssl_ctx_st;
struct sl_gen_vs;

#define SL_TLS_MAX_WORKERS 64

/* Compiled TLS of one virtual service: immutable once built, shared by
 * every generation in which the VS's certificates and profile did not
 * change (refs, main lcore only), so a change elsewhere rebuilds no
 * SSL_CTX. */
struct sl_tls_vs {
	uint32_t refs;
	uint64_t fp;                     /* fingerprint of what it was built from */
	uint32_t hs_timeout_ms;          /* a handshake must finish within */
	time_t not_after;                /* earliest expiry of its certificates */
	uint8_t n_certs;
	/* its SSLProfile as built (copies; NULL: the default), which an SNI
	 * child applies on the connection when it differs from the
	 * listener's: OpenSSL reads versions and ciphers from the context the
	 * SSL was made from, not from the one SSL_set_SSL_CTX installs */
	int min_version, max_version;
	bool prefer_client;
	char *ciphers, *ciphersuites;
	uint32_t n_workers;
	struct ssl_ctx_st *ctx[];        /* by worker */
};

/* One certificate: PEM leaf (optionally followed by its chain), PEM key,
 * passphrase (NULL: none), and extra chain PEM (NULL: none). */
struct sl_tls_cert {
	const char *pem, *key, *pass, *chain;
};

struct sl_tls_conf {
	const struct sl_tls_cert *certs; /* at most one RSA and one ECDSA */
	unsigned n_certs;
	int min_version, max_version;    /* TLS1_2_VERSION / TLS1_3_VERSION; 0: 1.2 .. 1.3 */
	const char *ciphers;             /* TLS 1.2 cipher list, NULL: the default below */
	const char *ciphersuites;        /* TLS 1.3, NULL: OpenSSL's default */
	bool prefer_client;              /* default: the server's order */
	uint32_t hs_timeout_ms;          /* 0: 10 s */
};

/* The TLS 1.2 cipher list used when a profile names none: ECDHE with AEAD only. */
#define SL_TLS_DEFAULT_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* Main lcore, at config time: conf's versions, ciphers and suites set on
 * a context of worker 0's library, as the build will; 0, or -EINVAL with
 * err and *field the SSLProfile field at fault ("accepted_versions",
 * "accepted_ciphers", "ciphersuites"). A cipher list or suite list that
 * leaves nothing usable for a version the profile accepts is refused. */
int sl_tls_profile_check(const struct sl_tls_conf *conf, const char **field, char *err, size_t errlen);

/* Main lcore. 0, or -errno with err naming the cause and *which the index
 * of the certificate at fault (-1: the profile). */
int sl_tls_vs_build(const struct sl_tls_conf *conf, unsigned n_workers, struct sl_tls_vs **out, int *which,
		    char *err, size_t errlen);
void sl_tls_vs_get(const struct sl_tls_vs *t);
/* err = what, then OpenSSL's last error (the queue is cleared); -EINVAL */
int sl_tls_errstr(char *err, size_t len, const char *what);
/* pem_password_cb giving u (a NUL-terminated passphrase, or NULL: none) */
int sl_tls_pass_cb(char *buf, int size, int rwflag, void *u);
void sl_tls_vs_put(const struct sl_tls_vs *t);

/* Session-ticket keys, shared by all workers (a ticket issued by one is
 * accepted by any). The first call creates them; call at least every
 * second from the main lcore: the encryption key changes every
 * period_s (0: 3600), and a ticket decrypts for two periods after. */
int sl_tls_keys_tick(time_t now, unsigned period_s);

/* Key log (SSLKEYLOGFILE lines) for a capture: off for every VS by
 * default. fn is called on the worker, with the line (no newline); it must
 * copy it and never block. Main lcore. */
void sl_tls_keylog_hook(void (*fn)(void *arg, unsigned worker, uint32_t vs_slot, const char *line), void *arg);
void sl_tls_keylog_enable(uint32_t vs_slot, bool on);

/* Counters of one VS (summed over workers by sl_tls_vs_stats). */
struct sl_tls_vs_stats {
	uint64_t hs_full, hs_resumed, hs_failed;
	uint64_t fail_no_shared_cipher, fail_bad_record, fail_timeout, fail_bad_sni, fail_version, fail_other;
	uint64_t sni_child, sni_unknown, sni_none;    /* handshakes by how the served VS was chosen */
	uint64_t tls12, tls13;
	uint64_t aes128gcm, aes256gcm, chacha20, cipher_other;
	uint64_t renegotiation_refused, conns_active;
};
#define SL_TLS_STATS_N (sizeof(struct sl_tls_vs_stats) / sizeof(uint64_t))
extern const char *const sl_tls_stats_names[SL_TLS_STATS_N];
void sl_tls_vs_stats(uint32_t vs_slot, struct sl_tls_vs_stats *out);

#endif
