#!/usr/bin/env bash
# Control API end to end with curl --unix-socket and sluicectl.
#   tests/integration/control_api.sh                 # starts build/tests/control/ctl_host in a temp dir
#   CTL_IT_SOCK=/run/sluice/control.sock tests/integration/control_api.sh   # against a running engine
# (CTL_IT_SOCK, not SLUICE_SOCK: the bed's lib.sh exports SLUICE_SOCK for
# sluicectl, and this script alone must still test its own ctl_host)
# Env: BUILD (default build), SLUICECTL, CTL_HOST. Exit status 0 only when every check passed.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
SLUICECTL=${SLUICECTL:-$BUILD/control/sluicectl}
CTL_HOST=${CTL_HOST:-$BUILD/tests/control/ctl_host}
FIX=$ROOT/tests/control/fixtures
TMP=$(mktemp -d /tmp/sl-ctl-it.XXXXXX)
OWN=0
HOST_PID=
PASS=0
FAIL=0
P=it$$                      # name prefix, so a real engine's objects are never touched

cleanup() {
	[ -n "$HOST_PID" ] && kill "$HOST_PID" 2>/dev/null && wait "$HOST_PID" 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
ko() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }

start_host() {
	rm -f "$TMP/ready"
	"$CTL_HOST" -s "$SOCK" -d "$TMP/state" -r "$TMP/ready" 2>>"$TMP/host.log" &
	HOST_PID=$!
	for _ in $(seq 100); do [ -S "$SOCK" ] && [ -e "$TMP/ready" ] && return 0; sleep 0.05; done
	echo "ctl_host did not start:"; cat "$TMP/host.log"; exit 1
}

if [ -n "${CTL_IT_SOCK:-}" ]; then
	SOCK=$CTL_IT_SOCK
else
	OWN=1
	SOCK=$TMP/control.sock
	[ -x "$CTL_HOST" ] || { echo "missing $CTL_HOST (build first)"; exit 1; }
	start_host
fi
[ -x "$SLUICECTL" ] || { echo "missing $SLUICECTL (build first)"; exit 1; }
export SLUICE_SOCK=$SOCK

# api METHOD PATH [BODY] -> prints body, sets CODE
api() {
	local m=$1 p=$2 body=${3-}
	if [ -n "$body" ]; then
		CODE=$(curl -s -o "$TMP/out" -w '%{http_code}' --unix-socket "$SOCK" -X "$m" -H 'Content-Type: application/json' \
			--data-binary "$body" "http://localhost$p")
	else
		CODE=$(curl -s -o "$TMP/out" -w '%{http_code}' --unix-socket "$SOCK" -X "$m" "http://localhost$p")
	fi
	cat "$TMP/out"
}
jget() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }
gen() { api GET /api/status | jget '["generation"]'; }

# ---- basics
api GET /api/status >/dev/null; check "GET /api/status 200" [ "$CODE" = 200 ]
if [ $OWN = 1 ]; then
	check "socket mode 0600" [ "$(stat -c %a "$SOCK")" = 600 ]
fi
n=$(api GET /api/applicationprofile | jget '["count"]')
check "system application profiles present" [ "$n" -ge 4 ]
for o in applicationprofile/System-HTTP applicationprofile/System-Secure-HTTP applicationprofile/System-L4-Application \
	applicationprofile/System-DNS networkprofile/System-TCP-Proxy networkprofile/System-UDP-Fast-Path \
	healthmonitor/System-TCP healthmonitor/System-HTTP healthmonitor/System-Ping healthmonitor/System-DNS; do
	api GET "/api/$o" >/dev/null; check "built-in $o" [ "$CODE" = 200 ]
done
api DELETE /api/healthmonitor/System-TCP >/dev/null; check "built-in objects cannot be deleted (409)" [ "$CODE" = 409 ]

# ---- CRUD round trip with curl
api POST /api/pool "{\"name\":\"$P-web\",\"servers\":[{\"ip\":{\"addr\":\"198.18.1.2\",\"type\":\"V4\"},\"port\":80}]}" >/dev/null
check "POST pool 201" [ "$CODE" = 201 ]
uuid=$(api GET "/api/pool/$P-web" | jget '["uuid"]')
is_uuid4() { [[ "$1" =~ ^pool-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]; }
check "uuid is pool-<uuid4>" is_uuid4 "$uuid"
api GET "/api/pool/$uuid" >/dev/null; check "GET by uuid" [ "$CODE" = 200 ]
c=$(api GET "/api/pool?name=$P-web" | jget '["count"]'); check "GET ?name= finds one" [ "$c" = 1 ]
etag=$(curl -s -D - -o /dev/null --unix-socket "$SOCK" "http://localhost/api/pool/$P-web" | tr -d '\r' | sed -n 's/^ETag: //p')
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X PUT -H 'If-Match: "1"' \
	--data-binary "{\"name\":\"$P-web\",\"servers\":[]}" "http://localhost/api/pool/$P-web")
check "PUT with stale If-Match -> 412" [ "$code" = 412 ]
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X PUT -H "If-Match: $etag" \
	--data-binary "{\"name\":\"$P-web\",\"servers\":[{\"ip\":{\"addr\":\"198.18.1.3\"},\"port\":8080}]}" "http://localhost/api/pool/$P-web")
check "PUT with current If-Match -> 200" [ "$code" = 200 ]
port=$(api PATCH "/api/pool/$P-web" '{"lb_algorithm":"LB_ALGORITHM_LEAST_CONNECTIONS"}' | jget '["servers"][0]["port"]')
check "PATCH merges (servers kept)" [ "$port" = 8080 ]
api POST /api/pool "{\"name\":\"$P-bad\",\"servers\":[{\"ip\":{\"addr\":\"198.18.1.2\"},\"prt\":1}]}" >"$TMP/o"
check "unknown field -> 400 with JSON path" [ "$CODE" = 400 -a "$(jget '["path"]' <"$TMP/o")" = "servers[0].prt" ]

# ---- sluicectl
cat >"$TMP/vs.json" <<EOF
[{"model_name":"VsVip","data":{"name":"$P-vip","vip":[{"ip_address":{"addr":"198.18.0.98","type":"V4"}}]}},
 {"model_name":"VirtualService","data":{"name":"$P-vs","vsvip_ref":"/api/vsvip?name=$P-vip","services":[{"port":80}],
  "pool_ref":"/api/pool?name=$P-web","application_profile_ref":"/api/applicationprofile?name=System-HTTP"}}]
EOF
check "sluicectl apply -f macro" "$SLUICECTL" apply -f "$TMP/vs.json"
check "sluicectl apply is idempotent" "$SLUICECTL" apply -f "$TMP/vs.json"
check "sluicectl list shows the VS" bash -c "'$SLUICECTL' list virtualservice | grep -q '^$P-vs '"
check "sluicectl get --json" bash -c "'$SLUICECTL' --json get virtualservice $P-vs | grep -q '\"name\": \"$P-vs\"'"
echo "{\"name\":\"$P-one\",\"servers\":[{\"ip\":{\"addr\":\"198.18.1.9\"}}]}" >"$TMP/one.json"
check "sluicectl apply -f one object -t pool" "$SLUICECTL" apply -f "$TMP/one.json" -t pool
echo "{\"name\":\"$P-two\",\"servers\":[{\"ip\":{\"addr\":\"198.18.1.9\"},\"port\":99999}]}" >"$TMP/bad.json"
msg=$("$SLUICECTL" apply -f "$TMP/bad.json" -t pool 2>&1); rc=$?
check "sluicectl exits non-zero with the server's path" [ $rc -ne 0 -a -n "$(echo "$msg" | grep 'data.servers\[0\].port')" ]
check "sluicectl status" bash -c "'$SLUICECTL' status | grep -q '^generation'"
check "sluicectl stats" "$SLUICECTL" stats
check "sluicectl runtime" bash -c "'$SLUICECTL' runtime $P-vs | grep -q 'oper_status.state'"
"$SLUICECTL" delete pool "$P-web" >/dev/null 2>"$TMP/err"; rc=$?
check "delete in use -> refused, names the referrer" [ $rc -ne 0 -a -n "$(grep "virtualservice \"$P-vs\"" "$TMP/err")" ]
api GET /metrics >/dev/null; check "/metrics 200" [ "$CODE" = 200 ]
check "/metrics has generation" bash -c "curl -s --unix-socket '$SOCK' http://localhost/metrics | grep -q '^sluice_config_generation '"
api GET "/api/virtualservice/$P-vs/runtime" >/dev/null; check "VS runtime 200" [ "$CODE" = 200 ]

# ---- AKO seed payloads, exactly as AKO sent them
api DELETE /api/macro '[{"model_name":"HTTPPolicySet","data":{"name":"S1-AZ1--default-hackazon.avi.iberia.local_-hackazon"}},
 {"model_name":"PoolGroup","data":{"name":"S1-AZ1--default-hackazon.avi.iberia.local_-hackazon"}},
 {"model_name":"Pool","data":{"name":"S1-AZ1--default-hackazon.avi.iberia.local_-hackazon"}},
 {"model_name":"SSLKeyAndCertificate","data":{"name":"S1-AZ1--hackazon.avi.iberia.local"}},
 {"model_name":"HTTPPolicySet","data":{"name":"S1-AZ1--Shared-L7-0"}}]' >/dev/null
for f in "$FIX"/ako_*.json; do
	api POST /api/macro "$(cat "$f")" >/dev/null
	check "AKO seed $(basename "$f")" [ "$CODE" = 200 ]
done

# ---- a macro with one bad object changes nothing
g0=$(gen)
api POST /api/macro "[{\"model_name\":\"Pool\",\"data\":{\"name\":\"$P-m1\"}},{\"model_name\":\"Pool\",\"data\":{\"name\":\"$P-m2\",\"servers\":[{\"ip\":{\"addr\":\"224.1.1.1\"}}]}}]" >"$TMP/m"
check "bad macro refused (422, path [1].data.servers[0].ip.addr)" [ "$CODE" = 422 -a "$(jget '["path"]' <"$TMP/m")" = "[1].data.servers[0].ip.addr" ]
api GET "/api/pool/$P-m1" >/dev/null; check "... and its good object was not created" [ "$CODE" = 404 ]
check "... and no generation was published" [ "$(gen)" = "$g0" ]

# ---- HTTP limits and many clients
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" http://localhost/api/status)
check "oversized headers -> 431" [ "$code" = 431 ]
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "http://localhost/api/pool?name=$(head -c 9000 /dev/zero | tr '\0' a)")
check "oversized request line -> 414" [ "$code" = 414 ]
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$SOCK" -H 'Content-Length: 99999999999' -H 'Expect:' \
	--data-binary x http://localhost/api/pool)
check "oversized body -> 413" [ "$code" = 413 ]
# a client that never finishes its request does not block others
( printf 'POST /api/pool HTTP/1.1\r\nContent-Length: 100\r\n\r\n{' ; sleep 3 ) | socat - "UNIX-CONNECT:$SOCK" >/dev/null 2>&1 &
slow=$!
sleep 0.2
t0=$(date +%s%N)
pids=()
for i in $(seq 50); do curl -s -o /dev/null -w '%{http_code}\n' --unix-socket "$SOCK" http://localhost/api/status >"$TMP/par$i" & pids+=($!); done
wait "${pids[@]}"
cat "$TMP"/par[0-9]* >"$TMP/par"
t1=$(date +%s%N)
check "50 parallel clients served while one stalls ($(( (t1 - t0) / 1000000 )) ms)" [ "$(grep -c '^200$' "$TMP/par")" = 50 ]
kill $slow 2>/dev/null; wait $slow 2>/dev/null
# a client that sends its request and shuts down its write side (printf ... | nc -N) gets its answer;
# socat half-closes on stdin EOF like nc -N (the ncat here has no -N)
got=0
for i in $(seq 300); do
	printf 'GET /api/pool HTTP/1.1\r\nHost: x\r\n\r\n' | socat -t 5 - "UNIX-CONNECT:$SOCK" 2>/dev/null | head -1 |
		grep -q '^HTTP/1.1 200 ' && got=$((got + 1))
done
check "request then write shutdown (nc -N): $got/300 answered" [ "$got" = 300 ]
# 300 idle keep-alive connections (more than the 256 allowed) do not lock an operator out
/usr/bin/python3 - "$SOCK" "$TMP/idle.ready" <<'EOF' &
import socket, sys, time, os
socks = []
for _ in range(300):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    socks.append(s)
open(sys.argv[2], "w").close()
time.sleep(10)
EOF
idle=$!
for _ in $(seq 100); do [ -e "$TMP/idle.ready" ] && break; sleep 0.05; done
sleep 0.2
t0=$(date +%s%N)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$SOCK" http://localhost/api/status)
t1=$(date +%s%N)
check "300 idle connections open: a new client still gets 200 ($code in $(( (t1 - t0) / 1000000 )) ms)" \
	[ "$code" = 200 -a $(( (t1 - t0) / 1000000 )) -lt 1000 ]
kill $idle 2>/dev/null; wait $idle 2>/dev/null

# ---- concurrent writers end consistent
g0=$(gen)
pids=()
for w in $(seq 8); do
	( for i in $(seq 10); do
		curl -s -o /dev/null -w '%{http_code}\n' --unix-socket "$SOCK" -X POST \
			--data-binary "{\"name\":\"$P-cw$w-$i\"}" http://localhost/api/pool
		# everyone also fights over one shared name: exactly one create may win
		curl -s -o /dev/null -w '%{http_code}\n' --unix-socket "$SOCK" -X POST \
			--data-binary "{\"name\":\"$P-shared-$i\"}" http://localhost/api/pool
	  done ) >"$TMP/w$w" &
	pids+=($!)
done
wait "${pids[@]}"
created=$(cat "$TMP"/w? | grep -c '^201$')
conflicts=$(cat "$TMP"/w? | grep -c '^409$')
cnt=$(api GET /api/pool | /usr/bin/python3 -c "import json,sys; print(sum(1 for o in json.load(sys.stdin)['results'] if o['name'].startswith('$P-cw') or o['name'].startswith('$P-shared')))")
check "concurrent writers: 90 created, 70 conflicts, 90 stored" [ "$created" = 90 -a "$conflicts" = 70 -a "$cnt" = 90 ]
check "concurrent writers: one generation per accepted change" [ "$(gen)" = $((g0 + 90)) ]

# ---- kill -9 in a stream of applies, restart serves the last acknowledged generation
if [ $OWN = 1 ]; then
	: >"$TMP/acked"
	( for i in $(seq 100000); do
		h=$(curl -s -D - -o /dev/null --unix-socket "$SOCK" -X POST --data-binary "{\"name\":\"$P-k$i\"}" http://localhost/api/pool | tr -d '\r')
		g=$(echo "$h" | sed -n 's/^X-Sluice-Generation: //p')
		echo "$h" | head -1 | grep -q ' 201 ' && echo "$i $g" >>"$TMP/acked" || break
	  done ) &
	writer=$!
	sleep 1.5
	kill -9 "$HOST_PID"; wait "$HOST_PID" 2>/dev/null; HOST_PID=
	wait $writer 2>/dev/null
	read -r last lastgen < <(tail -1 "$TMP/acked")
	start_host
	g=$(gen)
	# the request in flight when the process died may have become durable without being acknowledged
	if [ "$g" = "$lastgen" ]; then inflight=none; else inflight=$((last + 1)); fi
	check "kill -9 after $last acked applies: restart serves generation $lastgen (got $g, in-flight: $inflight)" \
		bash -c "[ '$g' = '$lastgen' ] || { [ '$g' = $((lastgen + 1)) ] && curl -sf -o /dev/null --unix-socket '$SOCK' http://localhost/api/pool/$P-k$inflight; }"
	have=$(api GET /api/pool | /usr/bin/python3 -c "import json,sys; print(sum(1 for o in json.load(sys.stdin)['results'] if o['name'].startswith('$P-k')))")
	check "every acknowledged object survived ($have >= $last)" [ "$have" -ge "$last" ]
fi

# ---- clean up our objects on a shared engine
if [ $OWN = 0 ]; then
	api DELETE /api/macro "[{\"model_name\":\"VirtualService\",\"data\":{\"name\":\"$P-vs\"}},{\"model_name\":\"VsVip\",\"data\":{\"name\":\"$P-vip\"}}]" >/dev/null
	api GET /api/pool | /usr/bin/python3 -c "import json,sys; [print(o['name']) for o in json.load(sys.stdin)['results'] if o['name'].startswith('$P-')]" |
		while read -r n; do api DELETE "/api/pool/$n" >/dev/null; done
fi

echo "control_api: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
