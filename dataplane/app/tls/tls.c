/* TLS set-up on the main lcore (sl_tls.h): per-worker library contexts,
 * the compiled TLS of a virtual service (one SSL_CTX per worker), the
 * shared ticket keys, the key-log switch and the counter readers. This is
 * where TLS allocates; nothing here runs per packet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "tls_priv.h"

struct sl_tls_wk sl_tls_wks[SL_TLS_MAX_WORKERS];
struct sl_tls_tkey sl_tls_tkeys[SL_TLS_TKEYS];
uint32_t sl_tls_tkey_cur;
void (*sl_tls_keylog_fn)(void *arg, unsigned worker, uint32_t vs_slot, const char *line);
void *sl_tls_keylog_arg;
uint8_t sl_tls_keylog_on[SL_MAX_VS];

const char *const sl_tls_stats_names[SL_TLS_STATS_N] = {
	"handshakes_full", "handshakes_resumed", "handshakes_failed",
	"failed_no_shared_cipher", "failed_bad_record", "failed_timeout", "failed_bad_sni", "failed_version",
	"failed_other",
	"sni_child", "sni_unknown", "sni_none",
	"tls1_2", "tls1_3",
	"cipher_aes128_gcm", "cipher_aes256_gcm", "cipher_chacha20_poly1305", "cipher_other",
	"renegotiation_refused", "connections",
};

struct sl_tls_wk *sl_tls_wk_get(unsigned w)
{
	struct sl_tls_wk *k;

	if (w >= SL_TLS_MAX_WORKERS)
		return NULL;
	k = &sl_tls_wks[w];
	if (k->lib)
		return k;
	/* a library context of its own: OpenSSL 3.0 takes a lock on its
	 * context's method store for every fetch (openssl#20286), so workers
	 * sharing the default one would contend on every handshake */
	k->lib = OSSL_LIB_CTX_new();
	k->vs = calloc(SL_MAX_VS, sizeof(*k->vs));
	if (k->lib)
		k->aes = EVP_CIPHER_fetch(k->lib, "AES-256-CBC", NULL);
	if (!k->lib || !k->vs || !k->aes) {
		EVP_CIPHER_free(k->aes);
		OSSL_LIB_CTX_free(k->lib);
		free(k->vs);
		memset(k, 0, sizeof(*k));
		return NULL;
	}
	return k;
}

/* ---- ticket keys: four slots, the current one encrypts, the two before
 * it still decrypt; a slot is rewritten two periods after it stopped
 * being current, when no ticket it made is accepted any more */
static void tkey_make(struct sl_tls_tkey *k, time_t now)
{
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 || RAND_bytes(k->aes, sizeof(k->aes)) != 1 ||
	    RAND_bytes(k->hmac, sizeof(k->hmac)) != 1)
		abort();         /* no randomness: nothing safe to do */
	k->made = now;
}

int sl_tls_keys_tick(time_t now, unsigned period_s)
{
	uint32_t cur = __atomic_load_n(&sl_tls_tkey_cur, __ATOMIC_RELAXED);

	if (!period_s)
		period_s = 3600;
	if (!sl_tls_tkeys[cur].made) {
		tkey_make(&sl_tls_tkeys[cur], now);
		return 1;
	}
	if (now - sl_tls_tkeys[cur].made < (time_t)period_s)
		return 0;
	uint32_t next = (cur + 1) % SL_TLS_TKEYS;
	tkey_make(&sl_tls_tkeys[next], now);
	__atomic_store_n(&sl_tls_tkey_cur, next, __ATOMIC_RELEASE);
	return 1;
}

void sl_tls_keylog_hook(void (*fn)(void *arg, unsigned worker, uint32_t vs_slot, const char *line), void *arg)
{
	sl_tls_keylog_arg = arg;
	__atomic_store_n(&sl_tls_keylog_fn, fn, __ATOMIC_RELEASE);
}

void sl_tls_keylog_enable(uint32_t vs_slot, bool on)
{
	if (vs_slot < SL_MAX_VS)
		__atomic_store_n(&sl_tls_keylog_on[vs_slot], on, __ATOMIC_RELAXED);
}

void sl_tls_vs_stats(uint32_t vs_slot, struct sl_tls_vs_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned w = 0; w < SL_TLS_MAX_WORKERS && vs_slot < SL_MAX_VS; w++) {
		const uint64_t *src;
		uint64_t *dst = (uint64_t *)out;

		if (!sl_tls_wks[w].vs)
			continue;
		src = (const uint64_t *)&sl_tls_wks[w].vs[vs_slot];
		for (size_t k = 0; k < SL_TLS_STATS_N; k++)
			dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
	}
}

/* ---- compiled TLS of a VS */
int sl_tls_pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *p = u;
	int n;

	(void)rwflag;
	if (!p)
		return 0;
	n = (int)strlen(p);
	if (n > size)
		n = size;
	memcpy(buf, p, (size_t)n);
	return n;
}

int sl_tls_errstr(char *err, size_t len, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[160] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, len, "%s%s%s", what, buf[0] ? ": " : "", buf);
	return -EINVAL;
}

/* Loads one certificate (leaf, its chain, key) into ctx. *kind: the key's
 * type (EVP_PKEY_RSA / EVP_PKEY_EC), for "one of each". */
static int load_cert(SSL_CTX *ctx, OSSL_LIB_CTX *lib, const struct sl_tls_cert *c, int *kind, time_t *not_after,
		     char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(c->pem, -1), *kb = NULL;
	X509 *leaf = NULL, *x;
	EVP_PKEY *pk = NULL;
	int rc = -EINVAL;

	if (!b)
		return -ENOMEM;
	leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (!leaf) {
		rc = sl_tls_errstr(err, errlen, "no PEM certificate could be parsed");
		goto out;
	}
	kb = BIO_new_mem_buf(c->key, -1);
	pk = kb ? PEM_read_bio_PrivateKey_ex(kb, NULL, sl_tls_pass_cb, (void *)c->pass, lib, NULL) : NULL;
	if (!pk) {
		rc = sl_tls_errstr(err, errlen, "the private key cannot be parsed (or the passphrase is wrong)");
		goto out;
	}
	*kind = EVP_PKEY_get_base_id(pk);
	if (*kind != EVP_PKEY_RSA && *kind != EVP_PKEY_EC) {
		snprintf(err, errlen, "only RSA and ECDSA keys are supported");
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		rc = sl_tls_errstr(err, errlen, "the private key does not match the certificate");
		goto out;
	}
	{
		const ASN1_TIME *na = X509_get0_notAfter(leaf);
		struct tm tm;

		if (na && ASN1_TIME_to_tm(na, &tm) == 1) {
			time_t t = timegm(&tm);

			if (!*not_after || t < *not_after)
				*not_after = t;
		}
	}
	/* the chain: what follows the leaf in the same PEM, then chain */
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			rc = sl_tls_errstr(err, errlen, "chain certificate refused");
			goto out;
		}
	ERR_clear_error();
	if (c->chain && c->chain[0]) {
		BIO *cb = BIO_new_mem_buf(c->chain, -1);
		int n = 0;

		while (cb && (x = PEM_read_bio_X509(cb, NULL, NULL, NULL))) {
			n++;
			if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
				X509_free(x);
				BIO_free(cb);
				rc = sl_tls_errstr(err, errlen, "chain certificate refused");
				goto out;
			}
		}
		BIO_free(cb);
		ERR_clear_error();
		if (!n) {
			snprintf(err, errlen, "the CA chain holds no PEM certificate");
			goto out;
		}
	}
	rc = 0;
out:
	X509_free(leaf);
	EVP_PKEY_free(pk);
	BIO_free(b);
	BIO_free(kb);
	return rc;
}

/* The SSLProfile part of a context: versions, ciphers, suites, order. */
static int set_profile(SSL_CTX *ctx, const struct sl_tls_conf *conf, const char **field, char *err, size_t errlen)
{
	*field = "accepted_versions";
	if (SSL_CTX_set_min_proto_version(ctx, conf->min_version ? conf->min_version : TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, conf->max_version ? conf->max_version : TLS1_3_VERSION) != 1)
		return sl_tls_errstr(err, errlen, "accepted_versions");
	*field = "accepted_ciphers";
	if (SSL_CTX_set_cipher_list(ctx, conf->ciphers ? conf->ciphers : SL_TLS_DEFAULT_CIPHERS) != 1)
		return sl_tls_errstr(err, errlen, "cipher list: no cipher OpenSSL knows");
	*field = "ciphersuites";
	if (conf->ciphersuites && SSL_CTX_set_ciphersuites(ctx, conf->ciphersuites) != 1)
		return sl_tls_errstr(err, errlen, "ciphersuites: no TLS 1.3 suite OpenSSL knows");
	*field = NULL;
	/* no renegotiation (client-initiated renegotiation is a DoS lever),
	 * no compression (CRIME), the server's order unless the profile says */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
				 (conf->prefer_client ? 0 : SSL_OP_CIPHER_SERVER_PREFERENCE));
	return 0;
}

/* A list OpenSSL accepts may still hold names it skipped (a typo, or a
 * cipher this build lacks, such as 3DES or RC4 in Debian's): each element
 * that adds ciphers must match one on its own. */
static int check_elements(SSL_CTX *ctx, const char *list, int (*set)(SSL_CTX *, const char *), char *err,
			  size_t errlen)
{
	char el[128];

	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ": ,;");

		if (n && n < sizeof(el) && !strchr("!-+@", p[0])) {
			memcpy(el, p, n);
			el[n] = 0;
			if (set(ctx, el) != 1) {
				ERR_clear_error();
				snprintf(err, errlen, "\"%s\" matches no %s this OpenSSL has", el,
					 set == SSL_CTX_set_ciphersuites ? "TLS 1.3 suite" : "cipher");
				return -EINVAL;
			}
		}
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

int sl_tls_profile_check(const struct sl_tls_conf *conf, const char **field, char *err, size_t errlen)
{
	struct sl_tls_wk *wk = sl_tls_wk_get(0);
	SSL_CTX *ctx = wk ? SSL_CTX_new_ex(wk->lib, NULL, TLS_server_method()) : NULL;
	STACK_OF(SSL_CIPHER) *sk = NULL;
	SSL *s = NULL;
	int rc = -EINVAL, n12 = 0, n13 = 0;
	int lo = conf->min_version ? conf->min_version : TLS1_2_VERSION;
	int hi = conf->max_version ? conf->max_version : TLS1_3_VERSION;

	*field = NULL;
	if (!ctx) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (conf->ciphers && check_elements(ctx, conf->ciphers, SSL_CTX_set_cipher_list, err, errlen)) {
		*field = "accepted_ciphers";
		goto out;
	}
	if (conf->ciphersuites &&
	    check_elements(ctx, conf->ciphersuites, SSL_CTX_set_ciphersuites, err, errlen)) {
		*field = "ciphersuites";
		goto out;
	}
	if (set_profile(ctx, conf, field, err, errlen))
		goto out;
	/* what a handshake could pick: the lists after the version range and
	 * the security level have had their say */
	s = SSL_new(ctx);
	sk = s ? SSL_get1_supported_ciphers(s) : NULL;
	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		if (!strcmp(SSL_CIPHER_get_version(sk_SSL_CIPHER_value(sk, i)), "TLSv1.3"))
			n13++;
		else
			n12++;
	}
	ERR_clear_error();
	if (lo <= TLS1_2_VERSION && !n12) {
		*field = "accepted_ciphers";
		snprintf(err, errlen, "no TLS 1.2 cipher of \"%.200s\" is usable", conf->ciphers ? conf->ciphers : "");
	} else if (hi >= TLS1_3_VERSION && !n13) {
		*field = "ciphersuites";
		snprintf(err, errlen, "no TLS 1.3 suite of \"%.200s\" is usable",
			 conf->ciphersuites ? conf->ciphersuites : "");
	} else {
		rc = 0;
	}
out:
	sk_SSL_CIPHER_free(sk);
	SSL_free(s);
	SSL_CTX_free(ctx);
	return rc;
}

static SSL_CTX *ctx_new(const struct sl_tls_conf *conf, struct sl_tls_wk *wk, int *which, time_t *not_after,
			char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new_ex(wk->lib, NULL, TLS_server_method());
	static const unsigned char sid[] = "sluice";
	bool have_rsa = false, have_ec = false;
	const char *field;

	*which = -1;
	if (!ctx) {
		sl_tls_errstr(err, errlen, "SSL_CTX_new_ex");
		return NULL;
	}
	if (set_profile(ctx, conf, &field, err, errlen))
		goto fail;
	/* buffers given back while a connection is idle (16 KiB per idle TLS
	 * connection otherwise); read-ahead: whole records per BIO read */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	/* stateless tickets only: no server-side session cache to lock or fill */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_timeout(ctx, 2 * 3600);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, sl_tls_ticket_cb);
	SSL_CTX_set_client_hello_cb(ctx, sl_tls_client_hello_cb, NULL);
	SSL_CTX_set_alpn_select_cb(ctx, sl_tls_alpn_cb, NULL);
	SSL_CTX_set_keylog_callback(ctx, sl_tls_keylog_cb);
	SSL_CTX_set_info_callback(ctx, sl_tls_info_cb);
	for (unsigned i = 0; i < conf->n_certs; i++) {
		int kind = 0;

		*which = (int)i;
		if (load_cert(ctx, wk->lib, &conf->certs[i], &kind, not_after, err, errlen))
			goto fail;
		if ((kind == EVP_PKEY_RSA && have_rsa) || (kind == EVP_PKEY_EC && have_ec)) {
			snprintf(err, errlen, "a virtual service carries at most one RSA and one ECDSA certificate");
			goto fail;
		}
		have_rsa |= kind == EVP_PKEY_RSA;
		have_ec |= kind == EVP_PKEY_EC;
	}
	*which = -1;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int sl_tls_vs_build(const struct sl_tls_conf *conf, unsigned n_workers, struct sl_tls_vs **out, int *which,
		    char *err, size_t errlen)
{
	struct sl_tls_vs *t;

	*out = NULL;
	*which = -1;
	if (!n_workers || n_workers > SL_TLS_MAX_WORKERS)
		return -EINVAL;
	t = calloc(1, sizeof(*t) + n_workers * sizeof(t->ctx[0]));
	if (!t)
		return -ENOMEM;
	t->refs = 1;
	t->n_workers = n_workers;
	t->n_certs = (uint8_t)conf->n_certs;
	t->hs_timeout_ms = conf->hs_timeout_ms ? conf->hs_timeout_ms : 10000;
	t->min_version = conf->min_version ? conf->min_version : TLS1_2_VERSION;
	t->max_version = conf->max_version ? conf->max_version : TLS1_3_VERSION;
	t->prefer_client = conf->prefer_client;
	t->ciphers = conf->ciphers ? strdup(conf->ciphers) : NULL;
	t->ciphersuites = conf->ciphersuites ? strdup(conf->ciphersuites) : NULL;
	if ((conf->ciphers && !t->ciphers) || (conf->ciphersuites && !t->ciphersuites)) {
		sl_tls_vs_put(t);
		return -ENOMEM;
	}
	for (unsigned w = 0; w < n_workers; w++) {
		struct sl_tls_wk *wk = sl_tls_wk_get(w);

		if (!wk) {
			sl_tls_vs_put(t);
			return -ENOMEM;
		}
		t->ctx[w] = ctx_new(conf, wk, which, &t->not_after, err, errlen);
		if (!t->ctx[w]) {
			sl_tls_vs_put(t);
			return -EINVAL;
		}
	}
	(void)sl_tls_keys_tick(time(NULL), 0);    /* keys exist before the first ticket */
	*out = t;
	return 0;
}

void sl_tls_vs_get(const struct sl_tls_vs *t)
{
	if (t)
		((struct sl_tls_vs *)t)->refs++;
}

void sl_tls_vs_put(const struct sl_tls_vs *ct)
{
	struct sl_tls_vs *t = (struct sl_tls_vs *)ct;

	if (!t || --t->refs)
		return;
	for (unsigned w = 0; w < t->n_workers; w++)
		SSL_CTX_free(t->ctx[w]);
	free(t->ciphers);
	free(t->ciphersuites);
	free(t);
}
