/* Private to dataplane/app/tls: the transform's per-connection and
 * per-worker state (tls_fp.c; set up by tls_app.c). */
#ifndef SL_TLS_CONN_H
#define SL_TLS_CONN_H

#include "../app_priv.h"
#include "tls_priv.h"

/* plaintext queued for the application before decoding pauses: more than
 * the 64 KiB an HTTP head may take, so the proxy can tell a 431 */
#define TLS_APPETITE (128u << 10)
#define TLS_BUF 16384u

struct tls_conn {
	struct tls_conn *next_free;
	struct sl_app_conn *c;
	SSL *ssl;
	BIO *bio;
	const struct sl_app_ops *inner;   /* the application above (HTTP) */
	struct rte_mbuf *pend, *pend_tail; /* encrypted bytes TCP refused, linked by ->next */
	uint32_t pend_bytes;
	uint8_t state;                     /* enum tls_state */
	bool shut;
	struct sl_tls_sess s;
};

struct sl_app_tls_worker {
	struct sl_app_worker *aw;
	struct tls_conn *conns, *free;
	uint32_t n, used;
	uint8_t buf[TLS_BUF];              /* decrypted records on their way to sl_app_in_push */
};

extern BIO_METHOD *sl_tls_bio_method;
extern const struct sl_app_ops sl_tls_ops;

#endif
