/* Private: content checks used by validation (certificates via OpenSSL, DataScripts via LuaJIT). */
#ifndef SL_CTL_CHECK_H
#define SL_CTL_CHECK_H
#include <stdbool.h>
#include <stddef.h>

#include "sl_lua_check.h"

/* Parses the PEM chain (leaf first, each next certificate the issuer of the previous) and the key,
 * and checks that the key belongs to the leaf. 0, or -1 with *which = 0 (certificate) / 1 (key). */
int sl_cert_check(const char *pem, const char *key, const char *passphrase, bool need_key, int *which,
		  char *detail, size_t len);
/* A self-signed certificate and its key, both PEM, for the built-in System-Default-Cert objects:
 * ec false: RSA-2048, true: ECDSA P-256; valid from now for ten years, CN and SAN dns:cn.
 * Returns 0 with malloc'd *pem and *key, or -errno. */
int sl_cert_selfsigned(const char *cn, bool ec, char **pem, char **key);
#define sl_script_check sl_lua_check
#endif
