#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "ctl_check.h"
#include "sl_tls.h"

static int fail(int *which, int w, char *detail, size_t len, const char *msg)
{
	sl_tls_errstr(detail, len, msg);
	*which = w;
	return -1;
}

int sl_cert_check(const char *pem, const char *key, const char *passphrase, bool need_key, int *which,
		  char *detail, size_t len)
{
	X509 *chain[16];
	int n = 0, rc = 0;
	BIO *b = BIO_new_mem_buf(pem, -1);
	if (!b)
		return fail(which, 0, detail, len, "out of memory");
	ERR_clear_error();
	while (n < 16) {
		X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		if (!x)
			break;
		chain[n++] = x;
	}
	BIO_free(b);
	ERR_clear_error();
	if (n == 0)
		return fail(which, 0, detail, len, "no PEM certificate could be parsed");
	for (int i = 0; i + 1 < n && !rc; i++) {
		if (X509_check_issued(chain[i + 1], chain[i]) != X509_V_OK) {
			char m[128];
			snprintf(m, sizeof(m), "chain out of order: certificate %d is not the issuer of certificate %d", i + 2,
				 i + 1);
			rc = fail(which, 0, detail, len, m);
		}
	}
	if (!rc && key && key[0]) {
		BIO *kb = BIO_new_mem_buf(key, -1);
		EVP_PKEY *pk = kb ? PEM_read_bio_PrivateKey(kb, NULL, sl_tls_pass_cb, (void *)passphrase) : NULL;
		BIO_free(kb);
		if (!pk)
			rc = fail(which, 1, detail, len, "the private key cannot be parsed (or the passphrase is wrong)");
		else if (X509_check_private_key(chain[0], pk) != 1)
			rc = fail(which, 1, detail, len, "the private key does not match the certificate");
		EVP_PKEY_free(pk);
	} else if (!rc && need_key) {
		rc = fail(which, 1, detail, len, "a private key is required for this certificate type");
	}
	for (int i = 0; i < n; i++)
		X509_free(chain[i]);
	return rc;
}
