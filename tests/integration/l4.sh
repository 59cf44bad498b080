#!/usr/bin/env bash
# L4 TCP proxy virtual services on the bed: clients in sl-cli connect to a
# VIP, the engine terminates TCP, picks a pool member (smooth weighted round
# robin) in sl-srv and relays both ways. Distribution, bulk data under loss
# (sha256), half-close, RST propagation, retry of a failed connect on
# another server, configuration changes under load.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VIP=198.18.0.60
TMP=$(mktemp -d)
SRV_PIDS=()
cleanup() {
	[ ${#SRV_PIDS[@]} -gt 0 ] && kill "${SRV_PIDS[@]}" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# Backends: echo on :8080, "who am I" on :8081, reset-after-accept on :8082.
for i in 2 3 4; do
	ip netns exec $SL_NS_SRV socat -t 120 TCP-LISTEN:8080,bind=198.18.1.$i,reuseaddr,fork EXEC:/bin/cat >/dev/null 2>&1 &
	SRV_PIDS+=($!)
	ip netns exec $SL_NS_SRV socat TCP-LISTEN:8081,bind=198.18.1.$i,reuseaddr,fork SYSTEM:"echo 198.18.1.$i" >/dev/null 2>&1 &
	SRV_PIDS+=($!)
done
ip netns exec $SL_NS_SRV $PY -c '
import socket, struct
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.1.2", 8082)); s.listen(64)
while True:
    c, _ = s.accept()
    c.recv(16)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()' >/dev/null 2>&1 &
SRV_PIDS+=($!)
sleep 0.5

pool() { # name port "ip:ratio ..."
	local srv="" x
	for x in $3; do srv+="{\"ip\":{\"addr\":\"${x%:*}\",\"type\":\"V4\"},\"port\":$2,\"ratio\":${x#*:}},"; done
	echo "{\"model_name\":\"Pool\",\"data\":{\"name\":\"$1\",\"lb_algorithm\":\"LB_ALGORITHM_ROUND_ROBIN\",\"servers\":[${srv%,}]}}"
}
vs() { # name port pool
	echo "{\"model_name\":\"VirtualService\",\"data\":{\"name\":\"$1\",\"vip\":[{\"vip_id\":\"0\",\"ip_address\":{\"addr\":\"$VIP\",\"type\":\"V4\"}}],
	  \"services\":[{\"port\":$2}],\"application_profile_ref\":\"/api/applicationprofile?name=System-L4-Application\",
	  \"network_profile_ref\":\"/api/networkprofile?name=System-TCP-Proxy\",\"pool_ref\":\"/api/pool?name=$3\"}}"
}
apply() { printf '[%s]' "$(IFS=,; echo "$*")" | "$SL_CTL" apply -f /dev/stdin >/dev/null; }

# who N PORT: N sequential connections; prints "ip count" lines
who() {
	in_cli $PY - $VIP "$2" "$1" <<'EOP'
import collections, socket, sys
c = collections.Counter()
for i in range(int(sys.argv[3])):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
        c[s.makefile().readline().strip() or "empty"] += 1
        s.close()
    except OSError as e:
        c["error: " + type(e).__name__] += 1
for k, v in sorted(c.items()):
    print(k, v)
EOP
}

share_ok() { # "ip count" lines, n, "ip:pct ..."
	$PY -c '
import sys
got = dict(l.rsplit(" ", 1) for l in sys.argv[1].splitlines() if l.strip())
n = int(sys.argv[2]); bad = False; out = []
for item in sys.argv[3].split():
    ip, want = item.split(":")
    pct = 100.0 * int(got.get(ip, 0)) / n
    out.append(f"{ip} {pct:.2f}% (want {want}%)")
    bad |= abs(pct - float(want)) > 2.0
bad |= sum(int(v) for v in got.values()) != n or any(k.startswith("error") for k in got)
print("; ".join(out)); sys.exit(1 if bad else 0)' "$1" "$2" "$3"
}

if ! SL_STARTUP_EXTRA="" engine_start; then
	not_ok "engine starts"
	it_done
	exit
fi
ok "engine starts ($(engine_pmd))"
if apply "$(pool p-echo 8080 "198.18.1.2:1 198.18.1.3:1 198.18.1.4:1")" "$(vs vs-echo 80 p-echo)" \
	"$(pool p-who 8081 "198.18.1.2:3 198.18.1.3:2 198.18.1.4:1")" "$(vs vs-who 81 p-who)" \
	"$(pool p-rst 8082 "198.18.1.2:1")" "$(vs vs-rst 82 p-rst)" \
	"$(pool p-retry 8081 "198.18.1.5:1 198.18.1.2:1")" "$(vs vs-retry 83 p-retry)"; then
	ok "L4 VSs and pools applied"
else
	not_ok "L4 VSs and pools applied"
fi

out=$(who 6000 81)
if r=$(share_ok "$out" 6000 "198.18.1.2:50 198.18.1.3:33.33 198.18.1.4:16.67"); then
	ok "round robin 3:2:1 over 6000 connections: $r"
else
	not_ok "round robin 3:2:1 over 6000 connections, each within 2 points" "$r" "$out"
fi

check "100 MB each way through the proxy over 20 connections, sha256 equal; half-close carried" \
	in_cli env SL_BULK_PORT=80 $PY "$IT_DIR/tcp_bulk.py" $VIP echo 20 5000000 120
check "a 64 KB echo through the proxy, FIN after the data: everything back, then EOF" \
	in_cli env SL_BULK_PORT=80 $PY "$IT_DIR/tcp_bulk.py" $VIP echo 1 65536 20

out=$(in_cli $PY - $VIP <<'EOP'
import socket, sys
s = socket.create_connection((sys.argv[1], 82), timeout=3)
s.sendall(b"hello")
try:
    d = s.recv(16)
    print("no reset, got", d)
except ConnectionResetError:
    print("reset")
EOP
)
if [ "$out" = reset ]; then ok "a server's RST reaches the client as an RST"
else not_ok "a server's RST reaches the client as an RST" "$out"; fi

f0=$("$TELEMETRY" -k proxy_connect_fail /sluice/tcp)
out=$(who 40 83)
f1=$("$TELEMETRY" -k proxy_connect_fail /sluice/tcp)
if [ "$out" = "198.18.1.2 40" ] && [ "$f1" -gt "$f0" ]; then
	ok "a refused server connect is retried on another server: 40 of 40 clients served ($((f1 - f0)) failed connects)"
else
	not_ok "a refused server connect is retried on another server" "$out" "connect failures $f0 -> $f1"
fi

# 20 weight changes while 1000 connections go through: none may fail
who 1000 81 >"$TMP/live" &
load=$!
fails=0
for i in $(seq 1 20); do
	apply "$(pool p-who 8081 "198.18.1.2:$((i % 5 + 1)) 198.18.1.3:$(((i * 3) % 5 + 1)) 198.18.1.4:1")" || fails=$((fails + 1))
	sleep 0.1
done
wait $load
if [ $fails -eq 0 ] && ! grep -q error "$TMP/live" && [ "$(awk '{s += $2} END {print s}' "$TMP/live")" = 1000 ]; then
	ok "20 weight changes under load: 1000 of 1000 connections served"
else
	not_ok "20 weight changes under load: every connection served" "failed applies $fails" "$(cat "$TMP/live")"
fi
a=$("$TELEMETRY" -k active /sluice/tcp)
for _ in $(seq 20); do [ "$a" -eq 0 ] && break; sleep 0.25; a=$("$TELEMETRY" -k active /sluice/tcp); done
if [ "$a" -eq 0 ]; then ok "no proxied connection left behind"
else not_ok "no proxied connection left behind" "active $a"; fi
engine_stop

# The same bulk transfer with 5% loss and reordering on both ports. The
# echo servers run socat with -t 120: by default socat gives the other
# direction only 0.5 s after one side's EOF and then quits, which under this
# loss cut the last echoed kilobytes off with a clean FIN.
imp=$(printf 'impair fe0 rx seed 41 drop 0.05 reorder 0.01\nimpair fe0 tx seed 42 drop 0.05 reorder 0.01\nimpair be0 rx seed 43 drop 0.05 reorder 0.01\nimpair be0 tx seed 44 drop 0.05 reorder 0.01')
if SL_STARTUP_EXTRA="$imp" engine_start && apply "$(pool p-echo 8080 "198.18.1.2:1 198.18.1.3:1 198.18.1.4:1")" "$(vs vs-echo 80 p-echo)"; then
	check "100 MB each way through the proxy at 5% loss + reordering on both ports, sha256 equal" \
		in_cli env SL_BULK_PORT=80 $PY "$IT_DIR/tcp_bulk.py" $VIP echo 20 5000000 240
	engine_stop
else
	not_ok "engine with impairment on both ports starts and takes the L4 VS"
fi
it_done
