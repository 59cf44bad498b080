#!/usr/bin/env bash
# testssl.sh (Debian package testssl.sh) against a TLS VS of the engine on
# the default profile (System-Standard), with the built-in RSA and ECDSA
# certificates: protocols, cipher categories, renegotiation, CRIME and RC4
# (about 30 s on two CPUs; SL_TESTSSL_OPTS adds checks, e.g.
# --server-defaults, about 50 s more). The verdict is read from its JSON
# output, by finding id and severity, never from the text. A second, short
# run against a VS whose profile does offer a weak cipher shows the reading
# catches what it looks for. IP only: no DNS (--nodns none), nothing
# fetched from outside (no --phone-out).
# Env: SL_TESTSSL_MAX (s, default 110): the main run must finish within;
# SL_TESTSSL_OPTS: more testssl options for the main run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VIP=198.18.0.74
WEAK=198.18.0.75
MAX=${SL_TESTSSL_MAX:-110}
TMP=$(mktemp -d)
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT

if ! command -v testssl >/dev/null 2>&1; then
	not_ok "testssl installed (scripts/setup installs the Debian package testssl.sh)"
	it_done
	exit
fi
if ! SL_WORKERS=${SL_WORKERS:-2} engine_start; then
	not_ok "engine starts"
	it_done
	exit
fi
ok "engine starts ($(engine_pmd), ${SL_WORKERS:-2} workers, $(dpkg-query -W -f='testssl.sh ${Version}' testssl.sh 2>/dev/null))"

cfg='[{"model_name":"VirtualService","data":{"name":"tls-default","vip":[{"ip_address":{"addr":"'$VIP'"}}],
 "services":[{"port":443,"enable_ssl":true}],
 "ssl_key_and_certificate_refs":["System-Default-Cert","System-Default-Cert-EC"]}},
 {"model_name":"SSLProfile","data":{"name":"weak-cbc","accepted_versions":[{"type":"SSL_VERSION_TLS1_2"}],
 "accepted_ciphers":"ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"}},
 {"model_name":"VirtualService","data":{"name":"tls-weak","vip":[{"ip_address":{"addr":"'$WEAK'"}}],
 "services":[{"port":443,"enable_ssl":true}],"ssl_profile_ref":"/api/sslprofile/?name=weak-cbc",
 "ssl_key_and_certificate_refs":["System-Default-Cert"]}}]'
if out=$(api POST /api/macro "$cfg" 2>&1); then ok "TLS VSs on System-Standard and on a weak profile"; else
	not_ok "TLS VSs on System-Standard and on a weak profile" "$out"; it_done; exit; fi
sleep 0.5

# run_testssl JSON TARGET OPTIONS...: prints its wall time in seconds
run_testssl() {
	local json=$1 target=$2 t0 t1
	shift 2
	t0=$(date +%s.%N)
	in_cli timeout -k 5 "$((MAX + 60))" testssl --quiet --color 0 --nodns none --warnings off \
		--connect-timeout 5 --openssl-timeout 5 "$@" --jsonfile "$json" "$target" >"$json.log" 2>&1
	t1=$(date +%s.%N)
	$PY -c "print('%.1f' % ($t1 - $t0))"
}

OPTS=(--protocols --std --renegotiation --crime --rc4 ${SL_TESTSSL_OPTS:-})
secs=$(run_testssl "$TMP/default.json" "$VIP:443" "${OPTS[@]}")
if [ -s "$TMP/default.json" ] && $PY -c "import sys; sys.exit(0 if float('$secs') <= $MAX else 1)"; then
	ok "testssl ${OPTS[*]}: ${secs}s (limit ${MAX}s)"
else
	not_ok "testssl finishes within ${MAX}s with JSON output" "took ${secs}s" "$(tail -n 15 "$TMP/default.json.log")"
fi

# verdict JSON GROUP: "ok" lines and "not ok" lines for the ids of GROUP
verdict() {
	$PY - "$1" "$2" <<'EOP'
import json, sys
path, group = sys.argv[1:3]
try:
    rows = json.load(open(path))
except Exception as e:
    print("bad\tJSON unreadable: %s" % e)
    sys.exit()
by = {}
for r in rows:
    by.setdefault(r.get("id"), []).append(r)
# an id must be there, every row of it at a harmless severity, the finding as expected
NOT = "not offered"
groups = {
    "protocols": [("SSLv2", NOT), ("SSLv3", NOT), ("TLS1", NOT), ("TLS1_1", NOT),
                  ("TLS1_2", "offered"), ("TLS1_3", "offered")],
    "ciphers": [("cipherlist_NULL", NOT), ("cipherlist_aNULL", NOT), ("cipherlist_EXPORT", NOT),
                ("cipherlist_LOW", NOT), ("cipherlist_3DES_IDEA", NOT), ("cipherlist_AVERAGE", NOT), ("RC4", "")],
    "reneg": [("secure_renego", ""), ("secure_client_renego", "")],
    "crime": [("CRIME_TLS", "")],
    "weak": [("cipherlist_AVERAGE", "offered")],
}
harmless = {"OK", "INFO"}
for ident, want in groups[group]:
    rs = by.get(ident)
    if not rs:
        print("bad\t%s: missing from the output" % ident)
        continue
    for r in rs:
        sev, fin = r.get("severity", ""), r.get("finding", "")
        if group == "weak":
            good = fin.startswith("offered") and sev not in harmless
        else:
            good = sev in harmless and (not want or fin.startswith(want))
        print("%s\t%s: %s (%s)" % ("good" if good else "bad", ident, fin, sev))
EOP
}

report() { # name group json
	local res bad
	res=$(verdict "$3" "$2")
	bad=$(grep -v '^good' <<<"$res")
	if [ -n "$res" ] && [ -z "$bad" ]; then ok "$1"; diag "$(cut -f2 <<<"$res")"; else
		not_ok "$1" "$(cut -f2 <<<"$res")"; fi
}
report "no SSLv2/SSLv3/TLS 1.0/TLS 1.1; TLS 1.2 and 1.3 offered" protocols "$TMP/default.json"
report "no NULL, aNULL, export, LOW, 3DES/IDEA, CBC-obsoleted or RC4 cipher" ciphers "$TMP/default.json"
report "no insecure renegotiation (secure renegotiation, no client-initiated)" reneg "$TMP/default.json"
report "no TLS compression (CRIME)" crime "$TMP/default.json"

# the reading catches a weak cipher when there is one: a profile that allows
# AES128-SHA (RSA key exchange, CBC; Debian's OpenSSL has no 3DES or RC4 to offer)
secs=$(run_testssl "$TMP/weak.json" "$WEAK:443" --std)
report "weak profile: testssl reports an obsoleted CBC cipher offered (${secs}s)" weak "$TMP/weak.json"
it_done
