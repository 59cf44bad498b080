/* Private to dataplane/app/tls: what the set-up (tls.c), the handshake
 * callbacks (tls_cb_fp.c) and the per-connection transform (tls_fp.c)
 * share. */
#ifndef SL_TLS_PRIV_H
#define SL_TLS_PRIV_H

#include <openssl/ssl.h>

#include "sl_gen.h"
#include "sl_tls.h"

enum sl_tls_fail {
	TLS_FAIL_NONE = 0, TLS_FAIL_NO_SHARED_CIPHER, TLS_FAIL_BAD_RECORD, TLS_FAIL_TIMEOUT, TLS_FAIL_BAD_SNI,
	TLS_FAIL_VERSION, TLS_FAIL_OTHER,
};

/* A worker's OpenSSL state: its library context (so no fetch contends
 * with another worker's), the algorithms the ticket callback uses fetched
 * once, its counters by VS slot. Built on the main lcore. */
struct sl_tls_wk {
	OSSL_LIB_CTX *lib;
	EVP_CIPHER *aes;                 /* AES-256-CBC for tickets */
	struct sl_tls_vs_stats *vs;      /* by VS slot */
};
extern struct sl_tls_wk sl_tls_wks[SL_TLS_MAX_WORKERS];
/* Creates worker w's state if missing; NULL when out of memory. */
struct sl_tls_wk *sl_tls_wk_get(unsigned w);

/* The TLS facts of one connection: SSL_get_app_data of its SSL. */
struct sl_tls_sess {
	const struct sl_gen *gen;        /* the connection's pinned generation */
	const struct sl_gen_vs *vs;      /* the listener's VS (an SNI parent, or a normal VS) */
	const struct sl_gen_vs *svs;     /* the VS serving it: vs, or the child the SNI chose */
	struct sl_tls_wk *wk;
	unsigned worker;
	uint8_t fail;                    /* enum sl_tls_fail seen by a callback */
	bool up;
	bool h2;                         /* the port serves HTTP/2: ALPN offers h2 first */
};

static inline struct sl_tls_vs_stats *sl_tls_st(const struct sl_tls_sess *s)
{
	return &s->wk->vs[s->svs ? s->svs->slot : s->vs->slot];
}

/* Handshake callbacks (tls_cb_fp.c), installed on every SSL_CTX. */
int sl_tls_client_hello_cb(SSL *s, int *al, void *arg);
int sl_tls_alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
		   unsigned int inlen, void *arg);
int sl_tls_ticket_cb(SSL *s, unsigned char key_name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
		     EVP_MAC_CTX *hctx, int enc);
void sl_tls_keylog_cb(const SSL *s, const char *line);
void sl_tls_info_cb(const SSL *s, int where, int ret);
/* Parses the server_name extension body: 0 and the host name (not NUL
 * terminated), or -1 when malformed (bad lengths, type, NUL, > 255). */
int sl_tls_parse_sni(const unsigned char *p, size_t len, const char **name, size_t *nlen);

/* session-ticket keys */
struct sl_tls_tkey {
	uint8_t name[16], aes[32], hmac[32];
	time_t made;
};
#define SL_TLS_TKEYS 4
extern struct sl_tls_tkey sl_tls_tkeys[SL_TLS_TKEYS];
extern uint32_t sl_tls_tkey_cur;      /* index of the encryption key; written by the main lcore */

/* key log */
extern void (*sl_tls_keylog_fn)(void *arg, unsigned worker, uint32_t vs_slot, const char *line);
extern void *sl_tls_keylog_arg;
extern uint8_t sl_tls_keylog_on[SL_MAX_VS];

#endif
