/* Handshake callbacks, installed on every SSL_CTX a VS builds: the
 * ClientHello (SNI -> child VS, before the certificate is chosen), ALPN,
 * session tickets with the keys all workers share, the key log.
 *
 * Run per handshake on the worker: nothing here allocates from the heap
 * (OpenSSL does, inside its own calls), locks, logs or blocks. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/tls1.h>

#include "tls_priv.h"

int sl_tls_parse_sni(const unsigned char *p, size_t len, const char **name, size_t *nlen)
{
	size_t list, n;

	/* ServerNameList: u16 length, then { u8 type, u16 length, bytes } */
	if (len < 5)
		return -1;
	list = (size_t)p[0] << 8 | p[1];
	if (list != len - 2 || p[2] != TLSEXT_NAMETYPE_host_name)
		return -1;
	n = (size_t)p[3] << 8 | p[4];
	/* one name only: RFC 6066 forbids two of one type, and nothing else
	 * is defined */
	if (n == 0 || n > 255 || n != list - 3)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = p[5 + i];

		if (!(ch == '-' || ch == '.' || ch == '_' || (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')))
			return -1;
	}
	*name = (const char *)p + 5;
	*nlen = n;
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* An SNI child's own SSLProfile on s when it differs from the listener's:
 * s keeps the versions, ciphers and options of the context it was made
 * from, and the callback runs before either is negotiated. */
static int child_profile(SSL *s, const struct sl_tls_vs *l, const struct sl_tls_vs *c)
{
	if (l && l->min_version == c->min_version && l->max_version == c->max_version &&
	    l->prefer_client == c->prefer_client && same_str(l->ciphers, c->ciphers) &&
	    same_str(l->ciphersuites, c->ciphersuites))
		return 0;
	if (SSL_set_min_proto_version(s, c->min_version) != 1 || SSL_set_max_proto_version(s, c->max_version) != 1 ||
	    SSL_set_cipher_list(s, c->ciphers ? c->ciphers : SL_TLS_DEFAULT_CIPHERS) != 1 ||
	    SSL_set_ciphersuites(s, c->ciphersuites ? c->ciphersuites : OSSL_default_ciphersuites()) != 1)
		return -1;
	if (c->prefer_client)
		SSL_clear_options(s, SSL_OP_CIPHER_SERVER_PREFERENCE);
	else
		SSL_set_options(s, SSL_OP_CIPHER_SERVER_PREFERENCE);
	return 0;
}

int sl_tls_client_hello_cb(SSL *s, int *al, void *arg)
{
	struct sl_tls_sess *ss = SSL_get_app_data(s);
	const unsigned char *p;
	const char *name;
	size_t len, n;
	const struct sl_gen_vs *child;

	(void)arg;
	if (!ss)
		return SSL_CLIENT_HELLO_ERROR;
	if (ss->svs != ss->vs)
		return SSL_CLIENT_HELLO_SUCCESS;     /* a second ClientHello (HRR): chosen already */
	if (!SSL_client_hello_get0_ext(s, TLSEXT_TYPE_server_name, &p, &len)) {
		ss->wk->vs[ss->vs->slot].sni_none++;
		return SSL_CLIENT_HELLO_SUCCESS;     /* no SNI: the listener's VS */
	}
	if (sl_tls_parse_sni(p, len, &name, &n)) {
		ss->fail = TLS_FAIL_BAD_SNI;
		*al = SSL_AD_DECODE_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	child = ss->vs->vs_type == SL_VS_VH_PARENT ? sl_gen_vh_match(ss->gen, ss->vs, name, n) : NULL;
	if (child && child->enabled && child->tls && ss->worker < child->tls->n_workers) {
		/* before the certificate is chosen: the child's certificate and key;
		 * versions and ciphers are the listener's (OpenSSL reads them from
		 * the context the SSL was made from) unless the child's profile
		 * differs, then they are set on s; the ticket callback stays */
		if (!SSL_set_SSL_CTX(s, child->tls->ctx[ss->worker]) || child_profile(s, ss->vs->tls, child->tls)) {
			*al = SSL_AD_INTERNAL_ERROR;
			ss->fail = TLS_FAIL_OTHER;
			return SSL_CLIENT_HELLO_ERROR;
		}
		ss->svs = child;
		ss->wk->vs[child->slot].sni_child++;
	} else if (child && child->enabled) {
		/* a child without a certificate of its own: the parent's
		 * certificate, the child's policies */
		ss->svs = child;
		ss->wk->vs[child->slot].sni_child++;
	} else {
		ss->wk->vs[ss->vs->slot].sni_unknown++;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

int sl_tls_alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
		   unsigned int inlen, void *arg)
{
	/* ours in our order of preference: h2 where the port enables it */
	static const unsigned char h1[] = "\x08http/1.1", both[] = "\x02h2\x08http/1.1";
	const struct sl_tls_sess *ss = SSL_get_app_data(s);
	bool h2 = ss && ss->h2;
	unsigned char *o;

	(void)arg;
	if (SSL_select_next_proto(&o, outlen, h2 ? both : h1, h2 ? sizeof(both) - 1 : sizeof(h1) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;     /* no http/1.1 offered: go on without ALPN */
	*out = o;
	return SSL_TLSEXT_ERR_OK;
}

/* The ticket keys every worker shares. Installing this callback is also
 * what keeps libssl from fetching a cipher and a MAC for every ticket it
 * issues or opens (the cipher is the worker's, fetched once). */
int sl_tls_ticket_cb(SSL *s, unsigned char key_name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
		     EVP_MAC_CTX *hctx, int enc)
{
	struct sl_tls_sess *ss = SSL_get_app_data(s);
	const struct sl_tls_tkey *k = NULL;
	char digest[] = "SHA256";
	OSSL_PARAM params[3];
	int ret = 1;

	if (!ss)
		return -1;
	if (enc) {
		uint32_t cur = __atomic_load_n(&sl_tls_tkey_cur, __ATOMIC_ACQUIRE);

		k = &sl_tls_tkeys[cur];
		if (!k->made || RAND_bytes_ex(ss->wk->lib, iv, 16, 0) != 1)
			return -1;
		memcpy(key_name, k->name, 16);
		if (EVP_EncryptInit_ex2(cctx, ss->wk->aes, k->aes, iv, NULL) != 1)
			return -1;
	} else {
		uint32_t cur = __atomic_load_n(&sl_tls_tkey_cur, __ATOMIC_ACQUIRE);

		/* the current key and the two before it */
		for (uint32_t a = 0; a < 3 && !k; a++) {
			const struct sl_tls_tkey *c = &sl_tls_tkeys[(cur + SL_TLS_TKEYS - a) % SL_TLS_TKEYS];

			if (c->made && !memcmp(c->name, key_name, 16)) {
				k = c;
				ret = a ? 2 : 1;     /* 2: accepted, and a new ticket under the current key */
			}
		}
		if (!k)
			return 0;                /* unknown key: a full handshake */
		if (EVP_DecryptInit_ex2(cctx, ss->wk->aes, k->aes, iv, NULL) != 1)
			return -1;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac, sizeof(k->hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		return -1;
	return ret;
}

void sl_tls_keylog_cb(const SSL *s, const char *line)
{
	const struct sl_tls_sess *ss = SSL_get_app_data(s);
	void (*fn)(void *, unsigned, uint32_t, const char *) = __atomic_load_n(&sl_tls_keylog_fn, __ATOMIC_ACQUIRE);
	uint32_t slot;

	if (!ss || !fn)
		return;
	slot = (ss->svs ? ss->svs : ss->vs)->slot;
	/* off unless a capture asked for this VS's keys; never logged */
	if (slot < SL_MAX_VS && __atomic_load_n(&sl_tls_keylog_on[slot], __ATOMIC_RELAXED))
		fn(sl_tls_keylog_arg, ss->worker, slot, line);
}

/* A ClientHello after the handshake is a renegotiation attempt
 * (SSL_OP_NO_RENEGOTIATION answers it with an alert): counted. TLS 1.3 has
 * no renegotiation (its post-handshake messages start no handshake here). */
void sl_tls_info_cb(const SSL *s, int where, int ret)
{
	const struct sl_tls_sess *ss = SSL_get_app_data(s);

	(void)ret;
	if (ss && ss->up && (where & SSL_CB_HANDSHAKE_START) && SSL_version(s) != TLS1_3_VERSION)
		ss->wk->vs[(ss->svs ? ss->svs : ss->vs)->slot].renegotiation_refused++;
}
