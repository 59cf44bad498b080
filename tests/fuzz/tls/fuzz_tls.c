/* libFuzzer target for the TLS layer's record path: the input is what a
 * client sends, fed in pieces (the first byte picks the piece size) to an
 * SSL made from a VS's compiled SSL_CTX (dataplane/app/tls: the same
 * options, the ClientHello / SNI, ALPN, ticket and key-log callbacks),
 * handshake then reads, as tls_fp.c drives it; and every input to the SNI
 * parser on its own. The certificate is made once (ECDSA P-256).
 * Run: build-fuzz/tests/fuzz/tls/fuzz_tls tests/fuzz/tls/corpus */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls_priv.h"

static struct sl_tls_vs *tv;
static struct sl_gen gen;
static struct sl_gen_vs vs;

static char *pem_of(int (*w)(BIO *, void *), void *o)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	w(b, o);
	n = BIO_get_mem_data(b, &p);
	s = calloc(1, (size_t)n + 1);
	memcpy(s, p, (size_t)n);
	BIO_free(b);
	return s;
}

static int w_x509(BIO *b, void *o) { return PEM_write_bio_X509(b, o); }
static int w_key(BIO *b, void *o) { return PEM_write_bio_PrivateKey(b, o, NULL, NULL, 0, NULL, NULL); }

static void init(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	struct sl_tls_cert c;
	struct sl_tls_conf conf = { .certs = &c, .n_certs = 1 };
	char err[256];
	int which;

	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"f.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_sign(x, k, EVP_sha256());
	c = (struct sl_tls_cert){ pem_of(w_x509, x), pem_of(w_key, k), NULL, NULL };
	if (sl_tls_vs_build(&conf, 1, &tv, &which, err, sizeof(err)))
		abort();
	free((char *)c.pem);
	free((char *)c.key);
	vs.vs_type = SL_VS_VH_PARENT;
	vs.tls = tv;
	gen.n_vs = 1;
	gen.vs = &vs;
	X509_free(x);
	EVP_PKEY_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int done;
	struct sl_tls_sess s;
	const char *name;
	size_t nlen, step, off = 1;
	SSL *ssl;
	BIO *rb, *wb;
	uint8_t buf[16384];

	if (!done) {
		init();
		done = 1;
	}
	(void)sl_tls_parse_sni(data, size, &name, &nlen);
	if (!size)
		return 0;
	step = (size_t)data[0] * 7 + 1;
	ssl = SSL_new(tv->ctx[0]);
	rb = BIO_new(BIO_s_mem());
	wb = BIO_new(BIO_s_mem());
	SSL_set_bio(ssl, rb, wb);
	s = (struct sl_tls_sess){ .gen = &gen, .vs = &vs, .svs = &vs, .wk = sl_tls_wk_get(0), .worker = 0 };
	SSL_set_app_data(ssl, &s);
	SSL_set_accept_state(ssl);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		int rc;

		BIO_write(rb, data + off, (int)n);
		off += n;
		if (!s.up) {
			rc = SSL_do_handshake(ssl);
			if (rc == 1)
				s.up = true;
			else if (SSL_get_error(ssl, rc) != SSL_ERROR_WANT_READ)
				break;
		}
		if (s.up) {
			size_t got;

			while (SSL_read_ex(ssl, buf, sizeof(buf), &got) == 1)
				;
			if (SSL_get_error(ssl, 0) != SSL_ERROR_WANT_READ)
				break;
		}
		(void)BIO_reset(wb);
	}
	ERR_clear_error();
	SSL_free(ssl);
	return 0;
}
