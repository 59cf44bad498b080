#!/usr/bin/env bash
# HTTP/2 to clients on the bed (two workers): h2 over TLS (ALPN) and h2c by
# prior knowledge on one VS whose services enable HTTP/2, proxied to nginx
# over the HTTP/1.1 keep-alive pools; HTTP/1.1 still served on the same
# ports; the same HTTPPolicySet as HTTP/1.1 (a redirect, a local response,
# a header rule, a pool switch); bodies both ways with sha256; h2load
# through both; frame-level conformance and the known HTTP/2 attacks with
# Debian's python3-h2 (tests/integration/h2_cases.py), each with a
# legitimate client served alongside; policy changes under an h2load run;
# counters in /api and /metrics.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VIP=198.18.0.74
TMP=$(mktemp -d)
PIDS=()
H2PY=/usr/bin/python3
cleanup() {
	[ ${#PIDS[@]} -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null
	[ -f "$TMP/ngx/nginx.pid" ] && kill "$(cat "$TMP/ngx/nginx.pid")" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$TMP/www" "$TMP/ngx"
head -c 3000000 /dev/urandom >"$TMP/www/big.bin"
printf 'static\n' >"$TMP/www/s.txt"
{ nginx_head "$TMP"; cat <<EOC
	keepalive_requests 100000;
	server {
		listen 8080 backlog=4096;
		root $TMP/www;
		client_max_body_size 0;
		location = /who { return 200 "\$server_addr \$request_method \$request_uri host=\$host xfp=\$http_x_forwarded_proto xh=\$http_x_h2 cl=\$http_content_length te=\$http_transfer_encoding\n"; }
		location = /alt { return 200 "alt \$server_addr\n"; }
		location = /empty { return 204; }
		location / { }
	}
}
EOC
} >"$TMP/nginx.conf"
in_srv nginx -c "$TMP/nginx.conf" >"$TMP/ngx/out.log" 2>&1 &
PIDS+=($!)
# an upload sink on .5:8089: the request body decoded (chunked or length) and hashed
in_srv $PY - "$TMP" >"$TMP/sink.log" 2>&1 <<'EOP' &
import hashlib, os, socket, sys, threading, time
def one(c):
    try:
        while True:
            b = b""
            while b"\r\n\r\n" not in b:
                d = c.recv(65536)
                if not d: return
                b += d
            h, _, buf = b.partition(b"\r\n\r\n"); hl = h.lower().decode("latin1")
            sha = hashlib.sha256(); n = 0
            def more():
                d = c.recv(1 << 20)
                if not d: raise EOFError
                return d
            if "transfer-encoding: chunked" in hl:
                while True:
                    while b"\r\n" not in buf: buf += more()
                    line, _, buf = buf.partition(b"\r\n"); size = int(line.split(b";")[0], 16)
                    while len(buf) < size + 2: buf += more()
                    sha.update(buf[:size]); n += size; buf = buf[size + 2:]
                    if size == 0: break
                mode = "chunked"
            else:
                cl = [int(l.split(":", 1)[1]) for l in hl.split("\r\n") if l.startswith("content-length:")]
                want = cl[0] if cl else 0
                while len(buf) < want: buf += more()
                sha.update(buf[:want]); n = want; mode = "length"
            xh = sum(1 for l in hl.split("\r\n") if l.startswith("x-h2:"))
            if hl.split(" ", 2)[1].startswith("/up-hold"):
                # answered once the test says so: a stream in flight for as long as it needs
                open(sys.argv[1] + "/held", "w").close()
                while not os.path.exists(sys.argv[1] + "/release"):
                    time.sleep(0.05)
            body = ("got %d %s %s xh=%d\n" % (n, sha.hexdigest(), mode, xh)).encode()
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    except EOFError:
        pass
    c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.1.5", 8089)); s.listen(256)
while True:
    c, _ = s.accept()
    threading.Thread(target=one, args=(c,), daemon=True).start()
EOP
PIDS+=($!)

if ! SL_WORKERS=${SL_WORKERS:-2} engine_start; then
	not_ok "engine starts"
	it_done
	exit
fi
ok "engine starts ($(engine_pmd), ${SL_WORKERS:-2} workers)"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=h2.test" -days 30 \
	-keyout "$TMP/k.pem" -out "$TMP/c.pem" 2>/dev/null
config() { # policy-variant
	$PY - "$VIP" "$TMP/c.pem" "$TMP/k.pem" "$1" <<'EOP'
import json, sys
vip, c, k, var = sys.argv[1:5]
rules = [
    {"name": "redir", "index": 1, "enable": True, "match": {"path": {"match_criteria": "EQUALS", "match_str": ["/old"]}},
     "redirect_action": {"protocol": "HTTPS", "port": 443, "path": {"type": "URI_PARAM_TYPE_TOKENIZED",
        "tokens": [{"type": "URI_TOKEN_TYPE_STRING", "str_value": "new"}]}, "status_code": "HTTP_REDIRECT_STATUS_CODE_302"}},
    {"name": "local", "index": 2, "enable": True, "match": {"path": {"match_criteria": "EQUALS", "match_str": ["/local"]}},
     "switching_action": {"action": "HTTP_SWITCHING_SELECT_LOCAL", "status_code": "HTTP_LOCAL_RESPONSE_STATUS_CODE_403",
        "file": {"content_type": "text/plain", "file_content": "local answer %s\n" % var}}},
    {"name": "up", "index": 3, "enable": True, "match": {"path": {"match_criteria": "BEGINS_WITH", "match_str": ["/up"]}},
     "switching_action": {"action": "HTTP_SWITCHING_SELECT_POOL", "pool_ref": "/api/pool?name=h2-sink"}},
    {"name": "hole", "index": 6, "enable": True, "match": {"path": {"match_criteria": "EQUALS", "match_str": ["/hole"]}},
     "switching_action": {"action": "HTTP_SWITCHING_SELECT_POOL", "pool_ref": "/api/pool?name=h2-hole"}},
    {"name": "alt", "index": 4, "enable": True, "match": {"path": {"match_criteria": "EQUALS", "match_str": ["/alt"]}},
     "switching_action": {"action": "HTTP_SWITCHING_SELECT_POOL", "pool_ref": "/api/pool?name=h2-alt"}},
]
req_rules = [{"name": "xh", "index": 5, "enable": True, "hdr_action": [{"action": "HTTP_ADD_HDR",
    "hdr": {"name": "X-H2", "value": {"val": "added-" + var}}}]}]
print(json.dumps([
  {"model_name": "SSLKeyAndCertificate", "data": {"name": "h2-cert", "type": "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE",
     "certificate": {"certificate": open(c).read()}, "key": open(k).read()}},
  {"model_name": "Pool", "data": {"name": "h2-web", "servers": [{"ip": {"addr": "198.18.1.2", "type": "V4"}, "port": 8080},
     {"ip": {"addr": "198.18.1.3", "type": "V4"}, "port": 8080}]}},
  {"model_name": "Pool", "data": {"name": "h2-alt", "servers": [{"ip": {"addr": "198.18.1.4", "type": "V4"}, "port": 8080}]}},
  {"model_name": "Pool", "data": {"name": "h2-hole", "servers": [{"ip": {"addr": "198.18.1.200", "type": "V4"}, "port": 8080}]}},
  {"model_name": "Pool", "data": {"name": "h2-sink", "servers": [{"ip": {"addr": "198.18.1.5", "type": "V4"}, "port": 8089}]}},
  {"model_name": "ApplicationProfile", "data": {"name": "h2-prof", "type": "APPLICATION_PROFILE_TYPE_HTTP",
     "http_profile": {"x_forwarded_proto_enabled": True,
                      "http2_profile": {"max_http2_requests_per_connection": 600, "max_http2_concurrent_streams_per_connection": 100}}}},
  {"model_name": "HTTPPolicySet", "data": {"name": "h2-rules", "http_request_policy": {"rules": rules + req_rules}}},
  {"model_name": "VirtualService", "data": {"name": "h2vs", "vip": [{"vip_id": "0", "ip_address": {"addr": vip, "type": "V4"}}],
     "services": [{"port": 80, "enable_http2": True}, {"port": 443, "enable_ssl": True, "enable_http2": True},
                  {"port": 8443, "enable_ssl": True}],
     "application_profile_ref": "/api/applicationprofile?name=h2-prof",
     "ssl_key_and_certificate_refs": ["/api/sslkeyandcertificate?name=h2-cert"],
     "pool_ref": "/api/pool?name=h2-web",
     "http_policies": [{"index": 10, "http_policy_set_ref": "/api/httppolicyset?name=h2-rules"}]}},
]))
EOP
}
apply() { config "$1" | "$SL_CTL" apply -f /dev/stdin >/dev/null; }
if out=$(apply v1 2>&1); then ok "VS with HTTP/2 on :80 (h2c) and :443 (h2 by ALPN), HTTP/1.1 only on :8443"; else
	not_ok "VS with HTTP/2 applied" "$out"; it_done; exit; fi

cc() { in_cli curl -sS --max-time 20 --resolve "h2.test:443:$VIP" --resolve "h2.test:8443:$VIP" --resolve "h2.test:80:$VIP" -k "$@"; }

# ---- negotiation
v=$(cc -v --http2 https://h2.test/who 2>&1)
if grep -q 'ALPN: server accepted h2\|ALPN, server accepted to use h2' <<<"$v" && grep -q '^< HTTP/2 200' <<<"$v" &&
   grep -q '198.18.1.[23] GET /who host=h2.test xfp=https xh=added-v1' <<<"$v"; then
	ok "h2 over TLS: ALPN h2, 200 from nginx with X-Forwarded-Proto https and the policy's header"
else not_ok "h2 over TLS by ALPN" "$(grep -E '^[<>*] |198' <<<"$v" | head -30)"; fi
v=$(cc -v --http1.1 https://h2.test/who 2>&1)
if grep -q '^< HTTP/1.1 200' <<<"$v" && grep -q 'ALPN: server accepted http/1.1\|ALPN, server accepted to use http/1.1' <<<"$v"; then
	ok "HTTP/1.1 over TLS on the same port (ALPN http/1.1)"
else not_ok "HTTP/1.1 over TLS on the HTTP/2 port" "$(grep -E '^[<>*] ' <<<"$v" | head -20)"; fi
v=$(cc -v --http2 https://h2.test:8443/who 2>&1)
if grep -q '^< HTTP/1.1 200' <<<"$v"; then ok "a port without enable_http2 offers no h2 (curl --http2 gets HTTP/1.1)"
else not_ok "no h2 where the port does not enable it" "$(grep -E '^[<>*] ' <<<"$v" | head -20)"; fi
v=$(cc -v --http2-prior-knowledge http://h2.test/who 2>&1)
if grep -q '^< HTTP/2 200' <<<"$v" && grep -q 'xfp=http ' <<<"$v"; then ok "h2c by prior knowledge on :80"
else not_ok "h2c by prior knowledge" "$(grep -E '^[<>*] |198' <<<"$v" | head -20)"; fi
v=$(cc -v http://h2.test/who 2>&1)
if grep -q '^< HTTP/1.1 200' <<<"$v"; then ok "HTTP/1.1 on the h2c port"
else not_ok "HTTP/1.1 on the h2c port" "$(grep -E '^[<>*] ' <<<"$v" | head -20)"; fi

# ---- the same policies
v=$(cc -s -o /dev/null -w '%{http_code} %{redirect_url}' --http2 https://h2.test/old)
[ "$v" = "302 https://h2.test/new" ] && ok "policy redirect over h2: $v" || not_ok "policy redirect over h2" "$v"
v=$(cc -s -w ' %{http_code}' --http2 https://h2.test/local)
[ "$v" = "local answer v1
 403" ] && ok "policy local response over h2 (403 with its body)" || not_ok "policy local response over h2" "$v"
v=$(cc -s --http2 https://h2.test/alt)
case $v in "alt 198.18.1.4") ok "policy pool switch over h2" ;; *) not_ok "policy pool switch over h2" "$v" ;; esac
v=$(cc -s -o /dev/null -w '%{http_code} %{size_download}' --http2 https://h2.test/empty)
[ "$v" = "204 0" ] && ok "204 over h2" || not_ok "204 over h2" "$v"
v=$(cc -s -I --http2 https://h2.test/big.bin | tr -d '\r' | grep -i '^content-length')
[ "$v" = "content-length: 3000000" ] && ok "HEAD over h2: the length, no body" || not_ok "HEAD over h2" "$v"
v=$(cc -s -o /dev/null -w '%{http_code}' --http2 https://h2.test/nothing-here)
[ "$v" = 404 ] && ok "404 from nginx passed through over h2" || not_ok "404 over h2" "$v"

# ---- bodies
want=$(sha256sum "$TMP/www/big.bin" | cut -d' ' -f1)
got=$(cc -s --http2 https://h2.test/big.bin | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] && ok "3 MB download over h2 (TLS), sha256 equal" || not_ok "3 MB download over h2" "$got vs $want"
got=$(cc -s --http2-prior-knowledge http://h2.test/big.bin | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] && ok "3 MB download over h2c, sha256 equal" || not_ok "3 MB download over h2c" "$got vs $want"
head -c 5000000 /dev/urandom >"$TMP/up.bin"
up_sha=$(sha256sum "$TMP/up.bin" | cut -d' ' -f1)
v=$(cc -s --http2 --data-binary @"$TMP/up.bin" https://h2.test/up)
[ "$v" = "got 5000000 $up_sha length xh=1" ] && ok "5 MB upload with a length over h2, sha256 equal at the server" ||
	not_ok "5 MB upload with a length over h2" "$v"
v=$(cat "$TMP/up.bin" | cc -s --http2 -H 'Transfer-Encoding: chunked' -T - https://h2.test/up)
[ "$v" = "got 5000000 $up_sha chunked xh=1" ] && ok "5 MB upload without a length over h2: chunked to the server, sha256 equal" ||
	not_ok "5 MB upload without a length over h2" "$v"

# the policy's header action once per request, also on the later requests of
# a keep-alive connection (a transaction once kept the last one's actions)
v=$(cc -s --http1.1 -d x https://h2.test/up https://h2.test/up https://h2.test/up | tr '\n' ' ')
want="got 1 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 length xh=1 "
[ "$v" = "$want$want$want" ] && ok "HTTP/1.1 keep-alive: 3 requests, the header action once on each" ||
	not_ok "HTTP/1.1 keep-alive: the header action once per request" "$v"
v=$(cc -s --http2 -d x https://h2.test/up https://h2.test/up https://h2.test/up | tr '\n' ' ')
[ "$v" = "$want$want$want" ] && ok "h2: 3 streams on one connection, the header action once on each" ||
	not_ok "h2: the header action once per stream" "$v"

# ---- many streams on one connection
v=$(in_cli h2load -n 2000 -c 4 -m 10 "https://$VIP/who" 2>&1)
if grep -q 'requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed' <<<"$v" &&
   grep -q 'status codes: 2000 2xx' <<<"$v"; then ok "h2load over TLS: 2000 requests, 4 connections x 10 streams, all 2xx"
else not_ok "h2load over TLS" "$(grep -E 'requests:|status codes:|Application protocol' <<<"$v")"; fi
v=$(in_cli h2load -n 2000 -c 4 -m 10 "http://$VIP/who" 2>&1)
if grep -q '2000 succeeded, 0 failed' <<<"$v" && grep -q 'status codes: 2000 2xx' <<<"$v"; then
	ok "h2load over h2c: 2000 requests, all 2xx"
else not_ok "h2load over h2c" "$(grep -E 'requests:|status codes:' <<<"$v")"; fi

# ---- frame-level conformance (RFC 9113) and the known attacks, each with
# a legitimate h2load run on other connections alongside
before=$(tel flood_ctrl /sluice/h2)
for c in $($H2PY "$IT_DIR/h2_cases.py" - list); do
	in_cli h2load -n 200 -c 2 -m 4 "http://$VIP/who" >"$TMP/legit.$c" 2>&1 &
	lp=$!
	r=$(in_cli timeout 60 $H2PY "$IT_DIR/h2_cases.py" "$VIP" "$c" 2>&1)
	wait $lp
	legit=$(grep -o '200 succeeded, 0 failed' "$TMP/legit.$c")
	case $r in
	ok\ *) if [ -n "$legit" ]; then ok "h2 ${r#ok }; legit clients alongside: 200 of 200"
		else not_ok "h2 $c: legit clients alongside" "$r" "$(grep -E 'requests:|status codes:' "$TMP/legit.$c")"; fi ;;
	*) not_ok "h2 case $c" "$r" ;;
	esac
done
after=$(tel flood_ctrl /sluice/h2)
[ "$((after - before))" -ge 5 ] && ok "flood counter: $((after - before)) connections ended for control-frame floods" ||
	not_ok "flood counter counts the floods" "before $before after $after"
for k in header_list_too_large flood_continuation stream_errors goaway_sent; do
	v=$(tel $k /sluice/h2)
	[ "${v:-0}" -ge 1 ] && ok "counter h2 $k = $v" || not_ok "counter h2 $k counts" "$v"
done

# ---- policy changes under load: 100 generations while h2load runs back to
# back (each run must end with 0 failed; the count of changes, not time, ends it)
touch "$TMP/churn"
( i=0; while [ -f "$TMP/churn" ]; do
	in_cli h2load -n 1000 -c 4 -m 10 "https://$VIP/who" >"$TMP/h2load.churn.$i" 2>&1; i=$((i + 1)); done ) &
lp=$!
n=0 bad=0
while [ $n -lt 100 ]; do
	if apply "v$n" >/dev/null 2>&1; then n=$((n + 1)); else bad=$((bad + 1)); [ $bad -gt 5 ] && break; fi
done
rm -f "$TMP/churn"
wait $lp
runs=$(ls "$TMP"/h2load.churn.* | wc -l)
good=$(grep -l '1000 succeeded, 0 failed' "$TMP"/h2load.churn.* | wc -l)
if [ $n -eq 100 ] && [ "$runs" -ge 1 ] && [ "$good" -eq "$runs" ]; then
	ok "100 policy changes during $runs back-to-back h2load runs over TLS ($((runs * 1000)) requests): 0 failed"
else
	not_ok "policy changes during h2load runs" "changes $n (refused $bad), runs $runs, clean $good" \
		"$(grep -h -E 'requests:|status codes:' "$TMP"/h2load.churn.* | sort | uniq -c)"
fi
v=$(cc -s --http2 https://h2.test/local)
[ "$v" = "local answer v$((n - 1))" ] && ok "the last policy change serves: $v" || not_ok "the last policy change serves" "$v"

# ---- counters in /api and /metrics
m=$(curl -sS --max-time 10 --unix-socket "$SL_CONTROL_SOCK" http://sluice/metrics 2>&1)
if grep -q '^sluice_h2_streams_total [1-9]' <<<"$m" && grep -q '^sluice_h2_conns_tls_total [1-9]' <<<"$m" &&
   grep -q '^sluice_h2_mem_bytes ' <<<"$m"; then ok "/metrics: sluice_h2_* ($(grep -c '^sluice_h2_' <<<"$m") series)"
else not_ok "/metrics: sluice_h2_*" "$(grep '^sluice_h2' <<<"$m" | head)"; fi
v=$(api GET /api/stats | jq -r '.http2 | "\(.conns) \(.conns_tls) \(.streams) \(.flood_ctrl)"')
read -r a b c d <<<"$v"
[ "${a:-0}" -gt 0 ] && [ "${b:-0}" -gt 0 ] && [ "${c:-0}" -ge 4000 ] && [ "${d:-0}" -ge 5 ] &&
	ok "/api/stats http2: conns $a (TLS $b), streams $c, flood GOAWAYs $d" || not_ok "/api/stats http2" "$v"

# ---- the VS leaves the configuration: GOAWAY (NO_ERROR, the last stream
# taken), the stream in flight finishes, then the connection ends
in_cli $H2PY "$IT_DIR/h2_cases.py" "$VIP" drain "$TMP" >"$TMP/drain.out" 2>&1 &
dp=$!
for _ in $(seq 200); do [ -f "$TMP/held" ] && break; sleep 0.1; done
api DELETE /api/virtualservice/h2vs >/dev/null 2>&1
for _ in $(seq 200); do [ -f "$TMP/goaway" ] && break; sleep 0.1; done
touch "$TMP/release"
wait $dp
r=$(cat "$TMP/drain.out")
case $r in ok\ *) ok "VS removed: ${r#ok }" ;; *) not_ok "VS removed with a stream in flight" "$r" ;; esac
v=$(tel drained /sluice/h2)
[ "${v:-0}" -ge 1 ] && ok "counter h2 drained = $v" || not_ok "counter h2 drained counts" "$v"

it_done
