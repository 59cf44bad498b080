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
#define sl_script_check sl_lua_check
#endif
