#!/usr/bin/env bash
# TLS termination on the bed (two workers): the seed's hackazon secure
# ingress as AKO sends it (SSLKeyAndCertificate with the seed's expired
# ECDSA certificate, Pool, PoolGroup, the parent's 80->443 redirect and the
# child's pool-group switch through /api/macro) with the host as an SNI
# child of a shared parent; curl -L over both ports, openssl s_client for
# the certificate chosen by SNI, TLS 1.2 / 1.3, resumption with tickets on
# any worker, refused versions and ciphers, a malformed ClientHello, a
# certificate whose key does not match refused at its field path, the
# counters in /api and /metrics, and SSL profiles (a TLS 1.3-only parent, a
# child on one TLS 1.2 cipher, a profile change, refusals). nginx in sl-srv
# is the server.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VIP=198.18.0.72
HOST=hackazon.avi.iberia.local
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	[ ${#PIDS[@]} -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null
	[ -f "$TMP/ngx/nginx.pid" ] && kill "$(cat "$TMP/ngx/nginx.pid")" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$TMP/ngx"
{ nginx_head "$TMP"; cat <<EOC
	server {
		listen 8080;
		location / { return 200 "\$server_addr \$request_uri host=\$host xfp=\$http_x_forwarded_proto\n"; }
	}
}
EOC
} >"$TMP/nginx.conf"
in_srv nginx -c "$TMP/nginx.conf" >"$TMP/ngx/out.log" 2>&1 &
PIDS+=($!)

if ! SL_WORKERS=${SL_WORKERS:-2} engine_start; then
	not_ok "engine starts"
	it_done
	exit
fi
ok "engine starts ($(engine_pmd), ${SL_WORKERS:-2} workers)"

# the parent's own certificate (RSA), made here
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=shared.parent.test" -days 30 \
	-keyout "$TMP/p.key" -out "$TMP/p.crt" 2>/dev/null
$PY - "$SL_ROOT/tests/control/fixtures" "$VIP" "$TMP/p.crt" "$TMP/p.key" >"$TMP/cfg.json" <<'EOP'
import json, sys
d, vip, pc, pk = sys.argv[1:5]
objs = [{"model_name": "SSLKeyAndCertificate", "data": {"name": "parent-cert",
         "type": "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE",
         "certificate": {"certificate": open(pc).read()}, "key": open(pk).read()}}]
for f in ("ako_2_sslkeyandcertificate.json", "ako_3_pool.json", "ako_4_poolgroup.json", "ako_1_httppolicyset.json",
          "ako_5_httppolicyset.json"):
    objs.append(json.load(open(f"{d}/{f}")))
for o in json.load(open(f"{d}/shared_l7_parent_vs.json")):
    if o["model_name"] == "VsVip":
        o["data"]["vip"][0]["ip_address"]["addr"] = vip
    if o["model_name"] == "VirtualService":
        # the parent keeps the 80->443 redirect and its own certificate; the host is an SNI child
        o["data"]["ssl_key_and_certificate_refs"] = ["/api/sslkeyandcertificate/?name=parent-cert"]
        o["data"]["http_policies"] = [{"index": 10, "http_policy_set_ref": "/api/httppolicyset/?name=S1-AZ1--Shared-L7-0"}]
    objs.append(o)
objs.append({"model_name": "VirtualService", "data": {
    "name": "S1-AZ1--default-hackazon.avi.iberia.local", "type": "VS_TYPE_VH_CHILD",
    "vh_parent_vs_ref": "/api/virtualservice/?name=S1-AZ1--Shared-L7-0",
    "vh_domain_name": ["hackazon.avi.iberia.local"],
    "application_profile_ref": "/api/applicationprofile/?name=System-Secure-HTTP",
    "ssl_key_and_certificate_refs": ["/api/sslkeyandcertificate/?name=S1-AZ1--hackazon.avi.iberia.local"],
    "http_policies": [{"index": 11, "http_policy_set_ref": "/api/httppolicyset/?name=S1-AZ1--default-hackazon.avi.iberia.local_-hackazon"}]}})
print(json.dumps(objs))
EOP
if out=$(api POST /api/macro "$(cat "$TMP/cfg.json")" 2>&1); then ok "seed payloads + SNI child accepted (the seed's certificate has expired)"; else
	not_ok "seed payloads + SNI child accepted" "$out"; fi
pool=S1-AZ1--default-hackazon.avi.iberia.local_-hackazon
api PATCH "/api/pool/$pool" '{"servers":[{"ip":{"addr":"198.18.1.2","type":"V4"},"port":8080}]}' >/dev/null 2>&1 ||
	diag "pool servers not set"
sleep 0.5

RES=(--resolve "$HOST:80:$VIP" --resolve "$HOST:443:$VIP" --resolve "other.test:443:$VIP")
c_curl() { in_cli curl -sS --max-time 10 "${RES[@]}" "$@"; }

h=$(c_curl -D - -o /dev/null "http://$HOST/shop?x=1" 2>&1)
if grep -q '^HTTP/1.1 302' <<<"$h" && grep -qi "^Location: https://$HOST/shop?x=1" <<<"$h"; then
	ok "port 80 on the parent: 302 to https"; else not_ok "port 80 on the parent: 302 to https" "$h"; fi

b=$(c_curl -k -L "http://$HOST/shop?x=1" 2>&1)
if grep -q "^198.18.1.2 /shop?x=1 host=$HOST xfp=https" <<<"$b"; then
	ok "curl -L over both ports: the child's pool group serves the host over TLS"
else
	not_ok "curl -L over both ports" "$b"
fi

subj() { in_cli timeout 5 openssl s_client -connect "$VIP:443" "$@" </dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null; }
s=$(subj -servername "$HOST")
grep -q "CN = $HOST" <<<"$s" && ok "SNI $HOST: the child's (seed's ECDSA) certificate" || not_ok "SNI child certificate" "$s"
k=$(in_cli timeout 5 openssl s_client -connect "$VIP:443" -servername "$HOST" </dev/null 2>/dev/null | grep -m1 'Server public key')
grep -q '256 bit' <<<"$k" && ok "  ... an ECDSA P-256 key" || not_ok "  ... an ECDSA P-256 key" "$k"
s=$(subj -servername other.test)
grep -q "CN = shared.parent.test" <<<"$s" && ok "unknown SNI: the parent's certificate" || not_ok "unknown SNI: the parent's certificate" "$s"
s=$(subj -noservername)
grep -q "CN = shared.parent.test" <<<"$s" && ok "no SNI: the parent's certificate" || not_ok "no SNI: the parent's certificate" "$s"
b=$(c_curl -k "https://other.test/x" -o /dev/null -w '%{http_code}' 2>&1)
[ "$b" = 200 ] && ok "unknown SNI: the parent's policies and pool (200)" || diag "unknown SNI answered $b (the parent has no pool: 503 expected)"

# Host and SNI disagree: a Host that names another child of the parent is 421
# (RFC 9110 15.5.20: the client retries on a connection of its own); a Host no
# child claims is served by the VS the SNI chose
b=$(c_curl -k -H "Host: $HOST" -o /dev/null -w '%{http_code}' "https://other.test/x" 2>&1)
[ "$b" = 421 ] && ok "SNI other.test, Host $HOST (another child): 421" || not_ok "SNI other.test, Host $HOST: 421" "$b"
b=$(c_curl -k -H "Host: $HOST.:443" -o /dev/null -w '%{http_code}' "https://other.test/x" 2>&1)
[ "$b" = 421 ] && ok "  ... with a port and a trailing dot: 421" || not_ok "  ... with a port and a trailing dot: 421" "$b"
b=$(c_curl -k -H "Host: unclaimed.test" -o /dev/null -w '%{http_code}' "https://$HOST/sni" 2>&1)
# the child's only rule matches its own host and it has no pool of its own: 503, not 421
[ "$b" = 503 ] && ok "SNI $HOST, Host unclaimed.test: served by the SNI's child (no rule, no pool: 503), not 421" ||
	not_ok "SNI $HOST, Host unclaimed.test: served by the child (503)" "$b"

for v in 1.2 1.3; do
	b=$(c_curl -k --tlsv$v --tls-max $v -w '%{http_code}\n' "https://$HOST/v$v" 2>&1 | tr '\n' ' ')
	grep -q "/v$v host=$HOST xfp=https 200 " <<<"$b" && ok "TLS $v" || not_ok "TLS $v" "$b"
done
a=$(c_curl -k --http1.1 -v "https://$HOST/a" 2>&1 | grep -i 'ALPN.*accepted\|ALPN: server accepted' | head -1)
grep -q 'http/1.1' <<<"$a" && ok "ALPN http/1.1" || not_ok "ALPN http/1.1" "$a"

# resumption: a ticket from one connection resumes on the next (any worker:
# the ticket keys are shared); several tries so both workers are hit
res=0
for v in -tls1_2 -tls1_3; do
	for i in 1 2 3 4; do
		# a request answered with a close: s_client reads to the end, so a
		# TLS 1.3 ticket (sent after the handshake) is in the saved session
		in_cli bash -c "printf 'GET /r HTTP/1.1\\r\\nHost: $HOST\\r\\nConnection: close\\r\\n\\r\\n' |
			timeout 5 openssl s_client -ign_eof -connect $VIP:443 -servername $HOST $v -sess_out $TMP/s$v >/dev/null 2>&1;
			timeout 5 openssl s_client -connect $VIP:443 -servername $HOST $v -sess_in $TMP/s$v </dev/null 2>/dev/null" |
			grep -q '^Reused' && res=$((res + 1))
	done
done
[ "$res" = 8 ] && ok "ticket resumption, TLS 1.2 and 1.3, 8 of 8" || not_ok "ticket resumption 8 of 8" "resumed: $res"

out=$(in_cli timeout 5 openssl s_client -connect "$VIP:443" -servername "$HOST" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null 2>&1)
grep -q 'BEGIN CERTIFICATE\|^New, TLSv1.1' <<<"$out" && not_ok "TLS 1.1 refused" "$out" || ok "TLS 1.1 refused"
out=$(in_cli timeout 5 openssl s_client -connect "$VIP:443" -servername "$HOST" -tls1_2 -cipher 'AES128-SHA' </dev/null 2>&1)
grep -q 'BEGIN CERTIFICATE' <<<"$out" && not_ok "a CBC/RSA-kx-only client refused (no shared cipher)" "$out" ||
	ok "a CBC/RSA-kx-only client refused (no shared cipher)"
out=$(in_cli $PY - "$VIP" <<'EOP'
import socket, sys
s = socket.create_connection((sys.argv[1], 443), timeout=5)
# a ClientHello whose SNI holds a NUL byte
name = b"bad\x00name"
sni = b"\x00\x00" + (len(name) + 5).to_bytes(2, "big") + (len(name) + 3).to_bytes(2, "big") + b"\x00" + len(name).to_bytes(2, "big") + name
body = b"\x03\x03" + b"\x42" * 32 + b"\x00" + b"\x00\x02\xc0\x2b" + b"\x01\x00" + len(sni).to_bytes(2, "big") + sni
hs = b"\x01" + len(body).to_bytes(3, "big") + body
s.sendall(b"\x16\x03\x01" + len(hs).to_bytes(2, "big") + hs)
d = s.recv(100)
print("alert" if d[:1] == b"\x15" else "answer %r" % d[:10])
EOP
)
[ "$out" = alert ] && ok "SNI with a NUL: alert" || not_ok "SNI with a NUL: alert" "$out"
b=$(c_curl -k -o /dev/null -w '%{http_code}' "https://$HOST/still" 2>&1)
[ "$b" = 200 ] && ok "legit clients served after the bad ones" || not_ok "legit clients served after the bad ones" "$b"

# bad input through the API: refused at its field path, the running config untouched
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=x" -days 3 \
	-keyout "$TMP/x.key" -out "$TMP/x.crt" 2>/dev/null
body=$($PY -c 'import json,sys; print(json.dumps({"name":"bad","certificate":{"certificate":open(sys.argv[1]).read()},"key":open(sys.argv[2]).read()}))' "$TMP/x.crt" "$TMP/p.key")
out=$(api POST /api/sslkeyandcertificate "$body" 2>&1)
grep -q '"path": *"key"' <<<"$out" && ok "a key that does not match: 422 at key" || not_ok "a key that does not match: 422 at key" "$out"
body=$($PY -c 'import json,sys; print(json.dumps({"name":"bad2","certificate":{"certificate":open(sys.argv[1]).read()},"key":open(sys.argv[2]).read(),"key_passphrase":"nope"}))' "$TMP/x.crt" "$TMP/x.key")
openssl pkey -in "$TMP/x.key" -aes256 -passout pass:right -out "$TMP/xe.key" 2>/dev/null
body=$($PY -c 'import json,sys; print(json.dumps({"name":"bad2","certificate":{"certificate":open(sys.argv[1]).read()},"key":open(sys.argv[2]).read(),"key_passphrase":"wrong"}))' "$TMP/x.crt" "$TMP/xe.key")
out=$(api POST /api/sslkeyandcertificate "$body" 2>&1)
grep -q '"path": *"key"' <<<"$out" && ok "a wrong passphrase: 422 at key" || not_ok "a wrong passphrase: 422 at key" "$out"
body=$($PY -c 'import json,sys; print(json.dumps({"name":"good","certificate":{"certificate":open(sys.argv[1]).read()},"key":open(sys.argv[2]).read(),"key_passphrase":"right"}))' "$TMP/x.crt" "$TMP/xe.key")
out=$(api POST /api/sslkeyandcertificate "$body" 2>&1) && ok "the right passphrase: accepted" || not_ok "the right passphrase: accepted" "$out"
s=$(subj -servername "$HOST")
grep -q "CN = $HOST" <<<"$s" && ok "the running config is untouched" || not_ok "the running config is untouched" "$s"

# counters
rt=$(api GET "/api/virtualservice/S1-AZ1--default-hackazon.avi.iberia.local/runtime" 2>&1)
read -r full resumed t12 t13 nsc ver < <($PY -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        if isinstance(o.get("tls"), dict): return o["tls"]
        for v in o.values():
            r = find(v)
            if r is not None: return r
    return None
t = find(json.loads(sys.stdin.read())) or {}
print(t.get("handshakes_full", 0), t.get("handshakes_resumed", 0), t.get("tls1_2", 0), t.get("tls1_3", 0),
      t.get("failed_no_shared_cipher", 0), t.get("failed_version", 0))' <<<"$rt" 2>&1)
if [ "${full:-0}" -ge 10 ] && [ "${resumed:-0}" -ge 8 ] && [ "${t12:-0}" -ge 5 ] && [ "${t13:-0}" -ge 5 ]; then
	ok "child runtime counters: $full full, $resumed resumed, TLS 1.2 $t12, 1.3 $t13"
else
	not_ok "child runtime counters" "full $full resumed $resumed 1.2 $t12 1.3 $t13" "$(printf '%s' "$rt" | grep -A30 '"tls"')"
fi
# a failure after the SNI chose the child is the child's
[ "${nsc:-0}" -ge 1 ] && [ "${ver:-0}" -ge 1 ] && ok "child failure counters: no shared cipher $nsc, version $ver" ||
	not_ok "child failure counters" "no shared cipher ${nsc:-} version ${ver:-}"
rt=$(api GET "/api/virtualservice/S1-AZ1--Shared-L7-0/runtime" 2>&1)
read -r failed bad_sni unk none < <($PY -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        if isinstance(o.get("tls"), dict): return o["tls"]
        for v in o.values():
            r = find(v)
            if r is not None: return r
    return None
t = find(json.loads(sys.stdin.read())) or {}
print(t.get("handshakes_failed", 0), t.get("failed_bad_sni", 0), t.get("sni_unknown", 0), t.get("sni_none", 0))' <<<"$rt" 2>&1)
[ "${bad_sni:-0}" -ge 1 ] && [ "${unk:-0}" -ge 1 ] && [ "${none:-0}" -ge 1 ] &&
	ok "parent counters: $failed failed (bad SNI $bad_sni), unknown SNI $unk, no SNI $none" ||
	not_ok "parent counters" "failed $failed bad_sni $bad_sni unknown $unk none $none" "$(printf '%s' "$rt" | grep -A30 '"tls"')"
m=$(curl -sS --max-time 10 --unix-socket "$SL_CONTROL_SOCK" http://sluice/metrics 2>&1)
if grep -q '^sluice_tls_handshakes_full_total{vs="S1-AZ1--default-hackazon.avi.iberia.local"} [1-9]' <<<"$m" &&
   grep -q '^sluice_tls_certificate_not_after_seconds{vs="S1-AZ1--default-hackazon.avi.iberia.local"} 16' <<<"$m"; then
	ok "/metrics: sluice_tls_* with the (expired, 2021) certificate's expiry"
else
	not_ok "/metrics: sluice_tls_*" "$(grep sluice_tls <<<"$m" | head -20)"
fi
# SSL profiles: the parent on TLS 1.3 only, the child on one TLS 1.2
# cipher, a profile change for new connections, refusals at field paths
hs() { in_cli timeout 5 openssl s_client -connect "$VIP:443" "$@" </dev/null 2>&1; }
neg() { grep -m1 '^New, ' <<<"$1"; }	# "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"
out=$(api POST /api/macro '[{"model_name":"SSLProfile","data":{"name":"only13","accepted_versions":[{"type":"SSL_VERSION_TLS1_3"}]}},
	{"model_name":"SSLProfile","data":{"name":"child-aes256","accepted_versions":[{"type":"SSL_VERSION_TLS1_2"}],
	 "accepted_ciphers":"ECDHE-ECDSA-AES256-GCM-SHA384"}}]' 2>&1) && ok "SSLProfiles created" || not_ok "SSLProfiles created" "$out"
out=$(api PATCH /api/virtualservice/S1-AZ1--Shared-L7-0 '{"ssl_profile_ref":"/api/sslprofile/?name=only13"}' 2>&1) ||
	not_ok "parent: ssl_profile_ref only13" "$out"
sleep 0.3
out=$(hs -servername other.test -tls1_2)
grep -q 'alert protocol version' <<<"$out" && ! grep -q 'BEGIN CERTIFICATE' <<<"$out" &&
	ok "parent on a TLS 1.3-only profile: s_client -tls1_2 refused (protocol version alert)" ||
	not_ok "parent on a TLS 1.3-only profile: -tls1_2 refused" "$(head -n 20 <<<"$out")"
n=$(neg "$(hs -servername other.test -tls1_3)")
grep -q 'TLSv1.3' <<<"$n" && ok "  ... -tls1_3 accepted ($n)" || not_ok "  ... -tls1_3 accepted" "$n"
out=$(api PATCH "/api/virtualservice/S1-AZ1--default-hackazon.avi.iberia.local" '{"ssl_profile_ref":"child-aes256"}' 2>&1) ||
	not_ok "child: ssl_profile_ref child-aes256" "$out"
sleep 0.3
n=$(neg "$(hs -servername "$HOST")")
[ "$n" = "New, TLSv1.2, Cipher is ECDHE-ECDSA-AES256-GCM-SHA384" ] &&
	ok "SNI child on its own profile: TLS 1.2 with the profile's one cipher, under a TLS 1.3-only parent" ||
	not_ok "SNI child on its own profile: TLS 1.2, ECDHE-ECDSA-AES256-GCM-SHA384" "$n"
out=$(hs -servername "$HOST" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)
if grep -q 'alert handshake failure' <<<"$out" && ! grep -q 'BEGIN CERTIFICATE' <<<"$out"; then
	ok "  ... a cipher outside its list refused (handshake failure)"
else
	not_ok "  ... a cipher outside its list refused (handshake failure)" "$(head -n 20 <<<"$out")"
fi
out=$(api PATCH /api/sslprofile/child-aes256 '{"accepted_ciphers":"ECDHE-ECDSA-CHACHA20-POLY1305"}' 2>&1) ||
	not_ok "profile update accepted" "$out"
sleep 0.3
n=$(neg "$(hs -servername "$HOST")")
[ "$n" = "New, TLSv1.2, Cipher is ECDHE-ECDSA-CHACHA20-POLY1305" ] &&
	ok "profile changed: new connections negotiate the new cipher ($n)" || not_ok "profile changed: the new cipher" "$n"
b=$(c_curl -k -o /dev/null -w '%{http_code}' "https://$HOST/profiled" 2>&1)
[ "$b" = 200 ] && ok "  ... and carry HTTP (200)" || not_ok "  ... and carry HTTP (200)" "$b"
out=$(api POST /api/sslprofile '{"name":"old","accepted_versions":[{"type":"SSL_VERSION_TLS1_1"}]}' 2>&1)
grep -q '"path": *"accepted_versions\[0\].type"' <<<"$out" && grep -q '"unsupported"' <<<"$out" &&
	ok "SSL_VERSION_TLS1_1: 422 at accepted_versions[0].type" || not_ok "SSL_VERSION_TLS1_1: 422 at its path" "$out"
out=$(api POST /api/sslprofile '{"name":"typo","accepted_ciphers":"ECDHE-ECDSA-AES256-GCM-SHA348"}' 2>&1)
grep -q '"path": *"accepted_ciphers"' <<<"$out" && ok "a cipher OpenSSL does not know: 422 at accepted_ciphers" ||
	not_ok "a cipher OpenSSL does not know: 422 at accepted_ciphers" "$out"
out=$(api DELETE /api/sslprofile/child-aes256 2>&1)
grep -q '"in_use"' <<<"$out" && ok "a profile in use is not deleted (409 in_use)" || not_ok "a profile in use: 409 in_use" "$out"
api PATCH "/api/virtualservice/S1-AZ1--default-hackazon.avi.iberia.local" '{"ssl_profile_ref":null}' >/dev/null 2>&1
api PATCH /api/virtualservice/S1-AZ1--Shared-L7-0 '{"ssl_profile_ref":null}' >/dev/null 2>&1
sleep 0.3
n=$(neg "$(hs -servername other.test -tls1_2)")
grep -q 'TLSv1.2, Cipher is ECDHE-RSA-AES128-GCM-SHA256' <<<"$n" && ok "back on System-Standard: TLS 1.2 again, the default's first cipher ($n)" ||
	not_ok "back on System-Standard: TLS 1.2 again" "$n"
out=$(api DELETE /api/sslprofile/child-aes256 2>&1) && ok "unreferenced, the profile is deleted" ||
	not_ok "unreferenced, the profile is deleted" "$out"

# ---- a handshake flood: 1000 connections that send a ClientHello's first
# bytes and stall; legitimate handshakes go on, the handshake timeout (10 s)
# cuts every stalled one, and the TLS contexts they held are given back
tlsrt() { api GET "/api/virtualservice/S1-AZ1--Shared-L7-0/runtime" | jq -r ".counters.tls.$1"; }
t0=$(tlsrt failed_timeout)
in_cli $PY - "$VIP" "$TMP/flood" <<'EOP' &
import os, socket, sys, time
vip, flag = sys.argv[1], sys.argv[2]
socks = []
for _ in range(1000):
    s = socket.socket(); s.settimeout(10)
    s.connect((vip, 443))
    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")   # a record and a hello that never end
    socks.append(s)
open(flag + ".held", "w").close()
cut = 0
deadline = time.time() + 60
for s in socks:
    s.settimeout(max(0.1, deadline - time.time()))
    try:
        cut += s.recv(1) == b""
    except ConnectionResetError:
        cut += 1
    except socket.timeout:
        pass
open(flag + ".done", "w").write("%d" % cut)
EOP
fp=$!
for _ in $(seq 600); do [ -f "$TMP/flood.held" ] && break; sleep 0.1; done
held=$(tlsrt connections)
b=$(c_curl -k -o /dev/null -w '%{http_code}' "https://$HOST/during-flood" 2>&1)
[ -f "$TMP/flood.held" ] && [ "$b" = 200 ] && [ "${held:-0}" -ge 1000 ] &&
	ok "1000 stalled handshakes held ($held TLS connections): a legitimate client still served (200)" ||
	not_ok "a legitimate client during a handshake flood" "held file $(ls "$TMP"/flood.* 2>&1) connections $held curl $b"
wait $fp
cut=$(cat "$TMP/flood.done" 2>/dev/null)
t1=$(tlsrt failed_timeout)
left=$(tlsrt connections)
[ "${cut:-0}" -eq 1000 ] && [ $((t1 - t0)) -ge 1000 ] && [ "${left:-1}" -le 1 ] &&
	ok "the handshake timeout cut all 1000 ($((t1 - t0)) counted as failed_timeout), TLS connections back to $left" ||
	not_ok "the handshake timeout cuts stalled handshakes" "cut $cut, failed_timeout +$((t1 - t0)), connections left $left"


# ---- memory per idle TLS connection: 2000 clients, one request each on a
# keep-alive connection, held idle; the engine's RSS (OpenSSL allocates
# from the heap; the engine's own pools are sized at start) over the count
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$(cat "$SL_RUN_DIR/sluice.pid")/status"; }
r0=$(rss)
in_cli $PY - "$VIP" "$HOST" "$TMP/idle" <<'EOP' &
import os, socket, ssl, sys, time
vip, host, flag = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
held = []
for i in range(2000):
    s = ctx.wrap_socket(socket.create_connection((vip, 443), timeout=10), server_hostname=host)
    s.sendall(b"GET /idle HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n")
    b = b""
    while b"\r\n\r\n" not in b:
        b += s.recv(4096)
    held.append(s)
open(flag + ".held", "w").write("%d" % len(held))
while not os.path.exists(flag + ".go"):
    time.sleep(0.1)
EOP
ip=$!
for _ in $(seq 1200); do [ -f "$TMP/idle.held" ] && break; sleep 0.1; done
r1=$(rss)
n=$(cat "$TMP/idle.held" 2>/dev/null)
touch "$TMP/idle.go"
wait $ip
per=$(( (r1 - r0) * 1024 / ${n:-1} ))
[ "${n:-0}" -eq 2000 ] && [ "$per" -le 16384 ] &&
	ok "memory per idle TLS connection: $per B (RSS +$((r1 - r0)) KiB for $n held; target <= 16 KiB)" ||
	not_ok "memory per idle TLS connection <= 16 KiB" "held ${n:-0}, RSS $r0 -> $r1 KiB, $per B each"

it_done
