#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
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

static char *bio_string(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (s) {
		memcpy(s, p, (size_t)n);
		s[n] = 0;
	}
	return s;
}

int sl_cert_selfsigned(const char *cn, bool ec, char **pem, char **key)
{
	int rc = -ENOMEM;
	*pem = *key = NULL;
	EVP_PKEY *pk = ec ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
	X509 *x = X509_new();
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	X509_EXTENSION *ext = NULL;
	if (!pk || !x || !cb || !kb)
		goto out;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	/* a random serial: replacing the files and restarting must not repeat an issuer+serial pair */
	if (RAND_bytes(serial, sizeof(serial)) != 1 || !(bn = BN_bin2bn(serial, sizeof(serial), NULL)))
		goto out;
	BN_set_bit(bn, 0);
	BN_clear_bit(bn, 127);
	ASN1_INTEGER *sn = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_NAME *nm = X509_get_subject_name(x);
	char san[300];
	snprintf(san, sizeof(san), "DNS:%s", cn);
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	rc = -EINVAL;
	if (!sn || X509_set_version(x, 2) != 1 || !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400) || X509_set_pubkey(x, pk) != 1 ||
	    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, nm) != 1)
		goto out;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (!(ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san)) || X509_add_ext(x, ext, -1) != 1)
		goto out;
	if (X509_sign(x, pk, EVP_sha256()) <= 0 || PEM_write_bio_X509(cb, x) != 1 ||
	    PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	*pem = bio_string(cb);
	*key = bio_string(kb);
	rc = *pem && *key ? 0 : -ENOMEM;
	if (rc) {
		free(*pem);
		free(*key);
		*pem = *key = NULL;
	}
out:
	X509_EXTENSION_free(ext);
	BIO_free(cb);
	BIO_free(kb);
	X509_free(x);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return rc;
}
