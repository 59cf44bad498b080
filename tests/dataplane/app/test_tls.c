/* TLS termination over two back-to-back stacks (app_harness.h): an
 * in-memory OpenSSL client on the peer's side, the HTTP proxy above the
 * TLS transform, real generations from control with certificates made
 * here (ECDSA P-256 and RSA-2048, self-signed). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "app_harness.h"
#include "sl_gen.h"
#include "sl_tls.h"

static struct harness H;

static void setup(void)
{
	h_init(&H, 0, 0);
}

static void teardown(void)
{
	h_fini(&H);
}

TestSuite(tls, .init = setup, .fini = teardown, .timeout = 120);

/* ---- certificates */
struct pem { char cert[8192], key[8192]; };

static void bio_str(BIO *b, char *out, size_t cap)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	cr_assert(n > 0 && (size_t)n < cap);
	/* JSON-escaped newlines: the PEM goes into a JSON string */
	size_t o = 0;
	for (long i = 0; i < n && o + 3 < cap; i++) {
		if (p[i] == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = p[i];
		}
	}
	out[o] = 0;
}

static void mk_cert(struct pem *pm, bool rsa, const char *cn, long days_from, long days_to)
{
	EVP_PKEY *k = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	BIO *b;
	char san[300];
	X509_EXTENSION *ext;

	cr_assert(k && x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), days_from * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), days_to * 86400);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	snprintf(san, sizeof(san), "DNS:%s", cn);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	cr_assert(X509_sign(x, k, EVP_sha256()));
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	bio_str(b, pm->cert, sizeof(pm->cert));
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	bio_str(b, pm->key, sizeof(pm->key));
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
}

static char *cert_obj(const char *name, const struct pem *pm)
{
	static char buf[4][20000];
	static int i;
	char *o = buf[i++ & 3];

	snprintf(o, sizeof(buf[0]),
		 "{'model_name':'SSLKeyAndCertificate','data':{'name':'%s','type':'SSL_CERTIFICATE_TYPE_VIRTUALSERVICE',"
		 "'certificate':{'certificate':'%s'},'key':'%s'}}",
		 name, pm->cert, pm->key);
	return o;
}

static struct pem P_EC, P_RSA, C_EC, W_EC;

/* parent "shop" on 198.18.0.30: port 80 plain, 443 TLS (RSA + ECDSA), pool p;
 * child "child.test" (its own ECDSA cert, pool img, a policy that answers
 * 403 on /deny); child "*.wild.test" (no certificate of its own: the parent's) */
static void up(void)
{
	static char body[120000];
	static bool made;

	if (!made) {
		mk_cert(&P_EC, false, "parent.test", -1, 365);
		mk_cert(&P_RSA, true, "parent.test", -1, 365);
		mk_cert(&C_EC, false, "child.test", -1, 365);
		mk_cert(&W_EC, false, "x.wild.test", -1, 365);
		made = true;
	}
	h_listen_http(&H, h_ip("198.18.1.2"), 8081);
	h_listen_http(&H, h_ip("198.18.1.3"), 8081);
	h_listen_http(&H, h_ip("198.18.1.4"), 8081);
	snprintf(body, sizeof(body),
		 "[%s,%s,%s,"
		 "{'model_name':'Pool','data':{'name':'p','servers':[{'ip':{'addr':'198.18.1.2'},'port':8081}]}},"
		 "{'model_name':'Pool','data':{'name':'img','servers':[{'ip':{'addr':'198.18.1.3'},'port':8081}]}},"
		 "{'model_name':'Pool','data':{'name':'wild','servers':[{'ip':{'addr':'198.18.1.4'},'port':8081}]}},"
		 "{'model_name':'HTTPPolicySet','data':{'name':'deny','http_request_policy':{'rules':["
		 "{'name':'d','index':1,'enable':true,'match':{'path':{'match_criteria':'EQUALS','match_str':['/deny']}},"
		 " 'switching_action':{'action':'HTTP_SWITCHING_SELECT_LOCAL','status_code':'HTTP_LOCAL_RESPONSE_STATUS_CODE_403'}}]}}},"
		 "{'model_name':'VirtualService','data':{'name':'shop','type':'VS_TYPE_VH_PARENT',"
		 "'vip':[{'ip_address':{'addr':'198.18.0.30'}}],'services':[{'port':80},{'port':443,'enable_ssl':true}],"
		 "'application_profile_ref':'System-HTTP','pool_ref':'p',"
		 "'ssl_key_and_certificate_refs':['/api/sslkeyandcertificate?name=prsa','/api/sslkeyandcertificate?name=pec']}},"
		 "{'model_name':'VirtualService','data':{'name':'child','type':'VS_TYPE_VH_CHILD',"
		 "'vh_parent_vs_ref':'/api/virtualservice?name=shop','vh_domain_name':['child.test'],"
		 "'application_profile_ref':'System-HTTP','pool_ref':'img',"
		 "'http_policies':[{'index':1,'http_policy_set_ref':'/api/httppolicyset/?name=deny'}],"
		 "'ssl_key_and_certificate_refs':['/api/sslkeyandcertificate?name=cec']}},"
		 "{'model_name':'VirtualService','data':{'name':'wildchild','type':'VS_TYPE_VH_CHILD',"
		 "'vh_parent_vs_ref':'/api/virtualservice?name=shop','vh_domain_name':['*.wild.test'],"
		 "'application_profile_ref':'System-HTTP','pool_ref':'wild'}}]",
		 cert_obj("pec", &P_EC), cert_obj("prsa", &P_RSA), cert_obj("cec", &C_EC));
	cr_assert_eq(h_api(&H, "POST", "/api/macro", body), 200);
}

static uint32_t vs_slot(const char *name)
{
	const struct sl_gen *g = H.gen;

	for (uint32_t i = 0; i < g->n_vs; i++)
		if (!strcmp(g->vs[i].name, name))
			return g->vs[i].slot;
	cr_assert_fail("no VS %s", name);
	return 0;
}

static struct sl_tls_vs_stats stats(const char *vs)
{
	struct sl_tls_vs_stats s;

	sl_tls_vs_stats(vs_slot(vs), &s);
	return s;
}

/* ---- an in-memory OpenSSL client over a peer connection */
struct tcli {
	struct peer_conn *p;
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rb, *wb;
	size_t rx_off;
	uint8_t out[1 << 16];
	char plain[1 << 16];
	size_t plain_len;
	bool done, failed;
};

static struct tcli *tc_new(int maxv, const char *sni, SSL_SESSION *sess, const char *ciphers)
{
	struct tcli *t = calloc(1, sizeof(*t));

	t->ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	if (maxv)
		SSL_CTX_set_max_proto_version(t->ctx, maxv);
	if (ciphers)
		cr_assert(SSL_CTX_set_cipher_list(t->ctx, ciphers));
	t->ssl = SSL_new(t->ctx);
	t->rb = BIO_new(BIO_s_mem());
	t->wb = BIO_new(BIO_s_mem());
	SSL_set_bio(t->ssl, t->rb, t->wb);
	SSL_set_connect_state(t->ssl);
	if (sni)
		SSL_set_tlsext_host_name(t->ssl, sni);
	SSL_set_alpn_protos(t->ssl, (const unsigned char *)"\x02h2\x08http/1.1", 12);
	if (sess)
		SSL_set_session(t->ssl, sess);
	t->p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.30"), 443);
	return t;
}

static void tc_free(struct tcli *t)
{
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	free(t);
}

/* one step: received bytes into OpenSSL, handshake or reads, its output out */
static void tc_drive(struct tcli *t)
{
	if (t->p->rx_len > t->rx_off) {
		BIO_write(t->rb, t->p->rx + t->rx_off, (int)(t->p->rx_len - t->rx_off));
		t->rx_off = t->p->rx_len;
	}
	if (!t->done && !t->failed) {
		int rc = SSL_do_handshake(t->ssl);

		if (rc == 1)
			t->done = true;
		else if (SSL_get_error(t->ssl, rc) != SSL_ERROR_WANT_READ)
			t->failed = true;
	}
	if (t->done) {
		int n;

		while (t->plain_len < sizeof(t->plain) - 1 &&
		       (n = SSL_read(t->ssl, t->plain + t->plain_len, (int)(sizeof(t->plain) - 1 - t->plain_len))) > 0)
			t->plain_len += (size_t)n;
		t->plain[t->plain_len] = 0;
	}
	ERR_clear_error();
	if (t->p->tx_off >= t->p->tx_len && BIO_ctrl_pending(t->wb)) {
		int n = BIO_read(t->wb, t->out, sizeof(t->out));

		if (n > 0)
			h_send(&H, t->p, t->out, (size_t)n);
	}
}

static bool tc_hs(struct harness *h, void *arg)
{
	struct tcli *t = arg;

	(void)h;
	tc_drive(t);
	return t->done || t->failed || t->p->dead || t->p->peer_closed;
}

struct tc_want { struct tcli *t; const char *s; };

static bool tc_has(struct harness *h, void *arg)
{
	struct tc_want *w = arg;

	(void)h;
	tc_drive(w->t);
	return strstr(w->t->plain, w->s) || w->t->p->dead;
}

static bool tc_gone(struct harness *h, void *arg)
{
	struct tcli *t = arg;

	(void)h;
	tc_drive(t);
	return t->p->dead || t->p->peer_closed;
}

static void tc_write(struct tcli *t, const char *s)
{
	cr_assert(SSL_write(t->ssl, s, (int)strlen(s)) > 0);
	tc_drive(t);
}

static bool handshake(struct tcli *t)
{
	h_pump_until(&H, tc_hs, t, 5000);
	return t->done;
}

static void get(struct tcli *t, const char *host, const char *path, const char *want)
{
	char req[512];
	struct tc_want w = { t, want };

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host);
	tc_write(t, req);
	cr_assert(h_pump_until(&H, tc_has, &w, 5000), "no \"%s\" in %s", want, t->plain);
}

static char *peer_cn(struct tcli *t)
{
	static char cn[128];
	X509 *x = SSL_get1_peer_certificate(t->ssl);

	cn[0] = 0;
	if (x) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
		X509_free(x);
	}
	return cn;
}

static unsigned served(const char *ip)
{
	unsigned n = 0;

	for (unsigned i = 0; i < H.n_pc; i++) {
		uint32_t lip, rip;
		uint16_t lport, rport;

		if (!H.pc[i].http || !H.pc[i].c)
			continue;
		sl_tcp_conn_tuple(H.pc[i].c, &lip, &lport, &rip, &rport);
		if (lip == h_ip(ip))
			n += H.pc[i].served;
	}
	return n;
}

/* ---- tests */
Test(tls, tls12_and_tls13_handshakes_carry_http)
{
	up();
	struct tcli *a = tc_new(TLS1_2_VERSION, "parent.test", NULL, NULL);
	cr_assert(handshake(a));
	cr_assert_eq(SSL_version(a->ssl), TLS1_2_VERSION);
	get(a, "parent.test", "/one", "HTTP/1.1 200");
	cr_assert_eq(served("198.18.1.2"), 1);
	const unsigned char *alpn;
	unsigned alen;
	SSL_get0_alpn_selected(a->ssl, &alpn, &alen);
	cr_assert(alen == 8 && !memcmp(alpn, "http/1.1", 8), "ALPN http/1.1, not h2");
	/* keep-alive: a second request on the same TLS connection */
	a->plain_len = 0;
	a->plain[0] = 0;
	get(a, "parent.test", "/two", "HTTP/1.1 200");
	cr_assert_eq(served("198.18.1.2"), 2);

	struct tcli *b = tc_new(0, "parent.test", NULL, NULL);
	cr_assert(handshake(b));
	cr_assert_eq(SSL_version(b->ssl), TLS1_3_VERSION);
	get(b, "parent.test", "/three", "HTTP/1.1 200");

	struct sl_tls_vs_stats s = stats("shop");
	cr_assert_eq(s.hs_full, 2);
	cr_assert_eq(s.tls12, 1);
	cr_assert_eq(s.tls13, 1);
	cr_assert_eq(s.hs_failed, 0);
	cr_assert_eq(s.aes128gcm + s.aes256gcm + s.chacha20, 2);
	tc_free(a);
	tc_free(b);
}

Test(tls, rsa_or_ecdsa_certificate_as_the_client_supports)
{
	up();
	struct tcli *a = tc_new(TLS1_2_VERSION, "parent.test", NULL, "ECDHE-RSA-AES128-GCM-SHA256");
	cr_assert(handshake(a));
	X509 *x = SSL_get1_peer_certificate(a->ssl);
	cr_assert_eq(EVP_PKEY_get_base_id(X509_get0_pubkey(x)), EVP_PKEY_RSA);
	X509_free(x);
	struct tcli *b = tc_new(TLS1_2_VERSION, "parent.test", NULL, "ECDHE-ECDSA-AES128-GCM-SHA256");
	cr_assert(handshake(b));
	x = SSL_get1_peer_certificate(b->ssl);
	cr_assert_eq(EVP_PKEY_get_base_id(X509_get0_pubkey(x)), EVP_PKEY_EC);
	X509_free(x);
	tc_free(a);
	tc_free(b);
}

Test(tls, sni_picks_the_child_its_certificate_policies_and_pool)
{
	up();
	struct tcli *c = tc_new(0, "child.test", NULL, NULL);
	cr_assert(handshake(c));
	cr_assert_str_eq(peer_cn(c), "child.test");
	get(c, "child.test", "/x", "HTTP/1.1 200");
	cr_assert_eq(served("198.18.1.3"), 1, "the child's pool");
	cr_assert_eq(served("198.18.1.2"), 0);
	c->plain_len = 0;
	c->plain[0] = 0;
	get(c, "child.test", "/deny", "HTTP/1.1 403");   /* the child's policy */
	/* Host disagreeing with the SNI: served by the VS the SNI chose */
	c->plain_len = 0;
	c->plain[0] = 0;
	get(c, "parent.test", "/y", "HTTP/1.1 200");
	cr_assert_eq(served("198.18.1.3"), 2);
	cr_assert_eq(served("198.18.1.2"), 0);

	/* unknown SNI and no SNI: the parent's certificate and pool */
	struct tcli *u = tc_new(0, "nobody.test", NULL, NULL);
	cr_assert(handshake(u));
	cr_assert_str_eq(peer_cn(u), "parent.test");
	get(u, "nobody.test", "/deny", "HTTP/1.1 200");      /* the child's 403 rule is not the parent's */
	cr_assert_eq(served("198.18.1.2"), 1);
	struct tcli *n = tc_new(0, NULL, NULL, NULL);
	cr_assert(handshake(n));
	cr_assert_str_eq(peer_cn(n), "parent.test");

	/* wildcard child without a certificate: the parent's certificate, its own pool */
	struct tcli *w = tc_new(0, "shop.wild.test", NULL, NULL);
	cr_assert(handshake(w));
	cr_assert_str_eq(peer_cn(w), "parent.test");
	get(w, "shop.wild.test", "/", "HTTP/1.1 200");
	cr_assert_eq(served("198.18.1.4"), 1);
	/* one label only: a.b.wild.test is not *.wild.test */
	struct tcli *w2 = tc_new(0, "a.b.wild.test", NULL, NULL);
	cr_assert(handshake(w2));
	get(w2, "a.b.wild.test", "/", "HTTP/1.1 200");
	cr_assert_eq(served("198.18.1.4"), 1);
	cr_assert_eq(served("198.18.1.2"), 2);

	cr_assert_eq(stats("child").sni_child, 1);
	cr_assert_eq(stats("wildchild").sni_child, 1);
	cr_assert_eq(stats("shop").sni_unknown, 2);
	cr_assert_eq(stats("shop").sni_none, 1);
	cr_assert_eq(stats("child").hs_full, 1);
	tc_free(c);
	tc_free(u);
	tc_free(n);
	tc_free(w);
	tc_free(w2);
}

static void resume(int v)
{
	struct tcli *a = tc_new(v, "child.test", NULL, NULL);
	cr_assert(handshake(a));
	get(a, "child.test", "/", "HTTP/1.1 200");   /* TLS 1.3 tickets come after the handshake */
	SSL_SESSION *s = SSL_get1_session(a->ssl);
	cr_assert(s && SSL_SESSION_is_resumable(s), "a resumable session");
	struct tcli *b = tc_new(v, "child.test", s, NULL);
	cr_assert(handshake(b));
	cr_assert(SSL_session_reused(b->ssl), "resumed");
	get(b, "child.test", "/", "HTTP/1.1 200");
	cr_assert_eq(served("198.18.1.3"), 2, "the resumed connection is the child's too");
	SSL_SESSION_free(s);
	tc_free(a);
	tc_free(b);
}

Test(tls, ticket_resumption_tls13)
{
	up();
	resume(0);
	cr_assert_eq(stats("child").hs_resumed, 1);
	cr_assert_eq(stats("child").hs_full, 1);
}

Test(tls, ticket_resumption_tls12)
{
	up();
	resume(TLS1_2_VERSION);
	cr_assert_eq(stats("child").hs_resumed, 1);
}

Test(tls, a_rotated_ticket_key_still_resumes_then_two_rotations_later_not)
{
	up();
	struct tcli *a = tc_new(0, "parent.test", NULL, NULL);
	cr_assert(handshake(a));
	get(a, "parent.test", "/", "HTTP/1.1 200");
	SSL_SESSION *s = SSL_get1_session(a->ssl);
	time_t now = time(NULL);
	cr_assert_eq(sl_tls_keys_tick(now + 4000, 3600), 1);          /* rotated once */
	struct tcli *b = tc_new(0, "parent.test", s, NULL);
	cr_assert(handshake(b));
	cr_assert(SSL_session_reused(b->ssl), "the previous key decrypts");
	cr_assert_eq(sl_tls_keys_tick(now + 8000, 3600), 1);
	cr_assert_eq(sl_tls_keys_tick(now + 12000, 3600), 1);
	struct tcli *c = tc_new(0, "parent.test", s, NULL);
	cr_assert(handshake(c));
	cr_assert(!SSL_session_reused(c->ssl), "three keys later: a full handshake");
	SSL_SESSION_free(s);
	tc_free(a);
	tc_free(b);
	tc_free(c);
}

Test(tls, no_shared_cipher_fails_and_is_counted)
{
	up();
	/* RSA key exchange, CBC: not in the default list */
	struct tcli *a = tc_new(TLS1_2_VERSION, "parent.test", NULL, "AES128-SHA");
	handshake(a);
	cr_assert(!a->done);
	cr_assert(h_pump_until(&H, tc_gone, a, 5000), "closed");
	struct sl_tls_vs_stats s = stats("shop");
	cr_assert_eq(s.hs_failed, 1);
	cr_assert_eq(s.fail_no_shared_cipher, 1);
	/* TLS 1.1 only: refused by the version floor */
	struct tcli *b = tc_new(TLS1_1_VERSION, "parent.test", NULL, "DEFAULT:@SECLEVEL=0");
	SSL_set_min_proto_version(b->ssl, TLS1_VERSION);
	handshake(b);
	cr_assert(!b->done);
	s = stats("shop");
	cr_assert_eq(s.hs_failed, 2);
	cr_assert_eq(s.fail_version, 1, "version %lu other %lu", s.fail_version, s.fail_other);
	tc_free(a);
	tc_free(b);
}

Test(tls, handshake_timeout_cuts_a_silent_client)
{
	up();
	struct peer_conn *p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.30"), 443);
	h_send(&H, p, "\x16\x03\x01\x00\x50\x01", 6);  /* a ClientHello that never finishes */
	h_pump(&H, 50, 100000);                          /* 5 s: still open */
	cr_assert(!p->dead && !p->peer_closed);
	h_pump(&H, 60, 100000);                          /* past 10 s */
	cr_assert(p->dead || p->peer_closed, "cut by the handshake timeout");
	cr_assert_eq(stats("shop").fail_timeout, 1);
}

Test(tls, renegotiation_is_refused)
{
	up();
	struct tcli *a = tc_new(TLS1_2_VERSION, "parent.test", NULL, NULL);
	cr_assert(handshake(a));
	cr_assert(SSL_renegotiate(a->ssl));
	a->done = false;
	h_pump_until(&H, tc_hs, a, 2000);
	cr_assert(a->failed, "the renegotiation did not complete");
	cr_assert_geq(stats("shop").renegotiation_refused, 1);
	tc_free(a);
}

/* ---- malformed input: each case on a fresh connection, legitimate clients
 * served afterwards */
struct raw_case { const char *name; uint8_t b[600]; size_t len; uint8_t want; };

/* A minimal TLS 1.2 ClientHello with one SNI name of n bytes (fill c,
 * bad byte at pos when pos < n). */
static size_t ch_build(uint8_t *o, size_t n, char c, size_t pos, uint8_t badch)
{
	uint8_t *p = o;
	size_t ext_len = 9 + n, body;

	*p++ = 0x16; *p++ = 3; *p++ = 1; p += 2;        /* record, length later */
	*p++ = 1; p += 3;                                /* ClientHello, length later */
	*p++ = 3; *p++ = 3;
	memset(p, 0x42, 32); p += 32;                    /* random */
	*p++ = 0;                                        /* session id */
	*p++ = 0; *p++ = 4; *p++ = 0xc0; *p++ = 0x2b; *p++ = 0xc0; *p++ = 0x2f;
	*p++ = 1; *p++ = 0;                              /* null compression */
	*p++ = (uint8_t)(ext_len >> 8); *p++ = (uint8_t)ext_len;
	*p++ = 0; *p++ = 0;                              /* server_name */
	*p++ = (uint8_t)((n + 5) >> 8); *p++ = (uint8_t)(n + 5);
	*p++ = (uint8_t)((n + 3) >> 8); *p++ = (uint8_t)(n + 3);
	*p++ = 0;
	*p++ = (uint8_t)(n >> 8); *p++ = (uint8_t)n;
	memset(p, c, n);
	if (pos < n)
		p[pos] = badch;
	p += n;
	body = (size_t)(p - o) - 9;
	o[6] = (uint8_t)(body >> 16); o[7] = (uint8_t)(body >> 8); o[8] = (uint8_t)body;
	o[3] = (uint8_t)((body + 4) >> 8); o[4] = (uint8_t)(body + 4);
	return (size_t)(p - o);
}

Test(tls, malformed_records_and_client_hellos)
{
	static struct raw_case cs[12];
	unsigned n = 0;

	up();
	cs[n] = (struct raw_case){ "plain HTTP on the TLS port", { 0 }, 0, 0 };
	memcpy(cs[n].b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	cs[n++].len = 27;
	cs[n] = (struct raw_case){ "oversized record", { 0x16, 3, 1, 0x48, 0x01, 1 }, 6, 0 };
	memset(cs[n].b + 6, 0, 300);
	cs[n++].len = 306;
	cs[n] = (struct raw_case){ "handshake length beyond the record", { 0x16, 3, 1, 0, 8, 1, 0, 0xff, 0xff, 3, 3, 0, 0 },
				   13, 0 };
	n++;
	cs[n] = (struct raw_case){ "wrong record version", { 0x16, 9, 9, 0, 4, 1, 0, 0, 0 }, 9, 0 };
	n++;
	cs[n] = (struct raw_case){ "truncated ClientHello then FIN", { 0 }, 0, 0 };
	cs[n].len = ch_build(cs[n].b, 10, 'a', 99, 0) - 20;
	n++;
	cs[n] = (struct raw_case){ "SNI with a NUL", { 0 }, 0, 1 };
	cs[n].len = ch_build(cs[n].b, 12, 'a', 4, 0);
	n++;
	cs[n] = (struct raw_case){ "SNI of 256 bytes", { 0 }, 0, 1 };
	cs[n].len = ch_build(cs[n].b, 256, 'a', 999, 0);
	n++;
	cs[n] = (struct raw_case){ "SNI with a space", { 0 }, 0, 1 };
	cs[n].len = ch_build(cs[n].b, 12, 'a', 3, ' ');
	n++;

	uint64_t bad_sni0 = stats("shop").fail_bad_sni;
	for (unsigned i = 0; i < n; i++) {
		struct peer_conn *p = h_connect(&H, h_ip("198.18.0.2"), h_ip("198.18.0.30"), 443);
		uint64_t f0 = stats("shop").hs_failed;

		h_send(&H, p, cs[i].b, cs[i].len);
		h_pump(&H, 50, 1000);
		if (!p->dead && !p->peer_closed)
			sl_tcp_close(p->c);                  /* the truncated ones: the client gives up */
		h_pump(&H, 50, 1000);
		cr_assert_eq(stats("shop").hs_failed, f0 + 1, "%s: counted as failed", cs[i].name);
		if (cs[i].want)
			cr_assert_eq(stats("shop").fail_bad_sni, ++bad_sni0, "%s: bad SNI", cs[i].name);
	}
	/* the good client still gets served */
	struct tcli *a = tc_new(0, "child.test", NULL, NULL);
	cr_assert(handshake(a));
	get(a, "child.test", "/", "HTTP/1.1 200");
	tc_free(a);
}

Test(tls, bad_certificates_are_refused_with_the_field_path)
{
	struct pem a, b;
	char body[40000];

	mk_cert(&a, false, "a.test", -1, 365);
	mk_cert(&b, false, "b.test", -1, 365);
	/* key of another certificate */
	snprintf(body, sizeof(body),
		 "{'name':'mismatch','certificate':{'certificate':'%s'},'key':'%s'}", a.cert, b.key);
	cr_assert_eq(h_api(&H, "POST", "/api/sslkeyandcertificate", body), 422);
	/* two ECDSA certificates on one VS */
	up();
	snprintf(body, sizeof(body), "[%s]", cert_obj("pec2", &a));
	cr_assert_eq(h_api(&H, "POST", "/api/macro", body), 200);
	int st = h_api(&H, "PATCH", "/api/virtualservice/shop",
		       "{'ssl_key_and_certificate_refs':['/api/sslkeyandcertificate?name=pec','/api/sslkeyandcertificate?name=pec2']}");
	cr_assert_eq(st, 422);
	/* the running generation still serves the old certificates */
	struct tcli *c = tc_new(0, "parent.test", NULL, NULL);
	cr_assert(handshake(c));
	cr_assert_str_eq(peer_cn(c), "parent.test");
	tc_free(c);
}

Test(tls, expired_certificate_is_accepted)
{
	struct pem old;
	char body[40000];

	up();
	mk_cert(&old, false, "old.test", -400, -30);
	snprintf(body, sizeof(body), "[%s,"
		 "{'model_name':'VirtualService','data':{'name':'old','type':'VS_TYPE_VH_CHILD',"
		 "'vh_parent_vs_ref':'/api/virtualservice?name=shop','vh_domain_name':['old.test'],"
		 "'application_profile_ref':'System-HTTP','pool_ref':'img',"
		 "'ssl_key_and_certificate_refs':['/api/sslkeyandcertificate?name=oldc']}}]", cert_obj("oldc", &old));
	cr_assert_eq(h_api(&H, "POST", "/api/macro", body), 200);
	struct tcli *c = tc_new(0, "old.test", NULL, NULL);
	cr_assert(handshake(c));
	cr_assert_str_eq(peer_cn(c), "old.test");
	tc_free(c);
}

Test(tls, changing_a_child_leaves_established_connections_alone)
{
	up();
	struct tcli *a = tc_new(0, "parent.test", NULL, NULL);
	cr_assert(handshake(a));
	get(a, "parent.test", "/", "HTTP/1.1 200");
	struct pem n2;
	char body[40000];
	mk_cert(&n2, false, "child2.test", -1, 365);
	/* replace the child's certificate: a new generation, new SSL_CTXs for the child */
	snprintf(body, sizeof(body), "{'name':'cec','type':'SSL_CERTIFICATE_TYPE_VIRTUALSERVICE',"
		 "'certificate':{'certificate':'%s'},'key':'%s'}", n2.cert, n2.key);
	cr_assert_eq(h_api(&H, "PUT", "/api/sslkeyandcertificate/cec", body), 200);
	struct tcli *b = tc_new(0, "child.test", NULL, NULL);
	cr_assert(handshake(b));
	cr_assert_str_eq(peer_cn(b), "child2.test", "a new connection gets the new certificate");
	tc_free(b);
	a->plain_len = 0;
	a->plain[0] = 0;
	get(a, "parent.test", "/again", "HTTP/1.1 200");
	tc_free(a);
}

static const struct sl_tls_vs *tls_of(const char *name)
{
	const struct sl_gen *g = H.gen;

	return g->vs[g->vs_by_slot[vs_slot(name)]].tls;
}

static const char *cipher(struct tcli *t)
{
	return SSL_CIPHER_get_name(SSL_get_current_cipher(t->ssl));
}

/* One handshake with SNI sni, at most version maxv (0: any), the client's
 * TLS 1.2 list ciphers (NULL: OpenSSL's); whether it completed. */
static bool try_hs(const char *sni, int maxv, const char *ciphers, int *version, char *cname, size_t cl)
{
	struct tcli *t = tc_new(maxv, sni, NULL, ciphers);
	bool ok = handshake(t);

	*version = ok ? SSL_version(t->ssl) : 0;
	snprintf(cname, cl, "%s", ok ? cipher(t) : "");
	tc_free(t);
	return ok;
}

Test(tls, ssl_profiles_on_the_parent_and_on_an_sni_child)
{
	int v;
	char c[64];

	up();
	/* defaults (System-Standard): 1.2 and 1.3, the server's order */
	cr_assert(try_hs("parent.test", TLS1_2_VERSION, NULL, &v, c, sizeof(c)));
	cr_assert_str_eq(c, "ECDHE-ECDSA-AES128-GCM-SHA256", "the server's first choice");
	cr_assert_eq(h_api(&H, "POST", "/api/macro",
			   "[{'model_name':'SSLProfile','data':{'name':'only13','accepted_versions':[{'type':'SSL_VERSION_TLS1_3'}],"
			   "'ciphersuites':'TLS_CHACHA20_POLY1305_SHA256'}},"
			   "{'model_name':'SSLProfile','data':{'name':'c12','accepted_versions':[{'type':'SSL_VERSION_TLS1_2'}],"
			   "'accepted_ciphers':'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305'}}]"),
		     200);
	cr_assert_eq(h_api(&H, "PATCH", "/api/virtualservice/shop", "{'ssl_profile_ref':'/api/sslprofile?name=only13'}"), 200);
	cr_assert(!try_hs("parent.test", TLS1_2_VERSION, NULL, &v, c, sizeof(c)), "TLS 1.2 refused by the parent's profile");
	cr_assert(try_hs("parent.test", 0, NULL, &v, c, sizeof(c)));
	cr_assert_eq(v, TLS1_3_VERSION);
	cr_assert_str_eq(c, "TLS_CHACHA20_POLY1305_SHA256", "the profile's only TLS 1.3 suite");
	/* a child with a profile of its own: its versions and ciphers, set on the connection the SNI gives it */
	cr_assert(try_hs("child.test", 0, NULL, &v, c, sizeof(c)));
	cr_assert_eq(v, TLS1_3_VERSION, "a child on System-Standard gets the listener's profile");
	cr_assert_eq(h_api(&H, "PATCH", "/api/virtualservice/child", "{'ssl_profile_ref':'c12'}"), 200);
	cr_assert(try_hs("child.test", 0, NULL, &v, c, sizeof(c)));
	cr_assert_eq(v, TLS1_2_VERSION, "the child's profile caps at TLS 1.2");
	cr_assert_str_eq(c, "ECDHE-ECDSA-AES256-GCM-SHA384");
	cr_assert(!try_hs("child.test", TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", &v, c, sizeof(c)),
		  "a cipher outside the child's list");
	cr_assert(!try_hs("parent.test", TLS1_2_VERSION, NULL, &v, c, sizeof(c)), "the parent still refuses 1.2");
	cr_assert(try_hs("nobody.test", 0, NULL, &v, c, sizeof(c)));
	cr_assert_eq(v, TLS1_3_VERSION);
	/* the profile changed: new connections get the new settings; the client's order now wins */
	struct tcli *a = tc_new(0, "child.test", NULL, NULL);
	cr_assert(handshake(a));
	get(a, "child.test", "/", "HTTP/1.1 200");
	const struct sl_tls_vs *shop_tls = tls_of("shop");
	cr_assert_eq(h_api(&H, "PATCH", "/api/sslprofile/c12",
			   "{'accepted_ciphers':'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305',"
			   "'prefer_client_cipher_ordering':true}"),
		     200);
	cr_assert(try_hs("child.test", 0, "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256", &v, c, sizeof(c)));
	cr_assert_str_eq(c, "ECDHE-ECDSA-CHACHA20-POLY1305", "the client's order");
	cr_assert(try_hs("child.test", 0, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305", &v, c, sizeof(c)));
	cr_assert_str_eq(c, "ECDHE-ECDSA-AES128-GCM-SHA256");
	cr_assert_eq(tls_of("shop"), shop_tls, "the parent's contexts are shared, not rebuilt");
	a->plain_len = 0;
	a->plain[0] = 0;
	get(a, "child.test", "/again", "HTTP/1.1 200");
	cr_assert_str_eq(cipher(a), "ECDHE-ECDSA-AES256-GCM-SHA384", "an established connection keeps its cipher");
	tc_free(a);
	/* back to the defaults */
	cr_assert_eq(h_api(&H, "PATCH", "/api/virtualservice/shop", "{'ssl_profile_ref':null}"), 200);
	cr_assert(try_hs("parent.test", TLS1_2_VERSION, NULL, &v, c, sizeof(c)));
	cr_assert_eq(h_api(&H, "DELETE", "/api/sslprofile/c12", NULL), 409, "still the child's");
	cr_assert_eq(h_api(&H, "DELETE", "/api/sslprofile/only13", NULL), 204);
}
