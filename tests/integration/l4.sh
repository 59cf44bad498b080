#!/usr/bin/env bash
# L4 TCP proxy virtual services on the bed: clients in sl-cli connect to a
# VIP, the engine terminates TCP, picks a pool member (pool lb_algorithm) in
# sl-srv and relays both ways. Distribution per algorithm, least connections
# under held load, consistent hash stickiness and 1/N movement, pool groups,
# bulk data under loss (sha256), half-close, RST propagation, retry of a
# failed connect and passive health, VS and server connection limits,
# draining, PROXY protocol v1/v2, idle timeout, counters in /api and
# /metrics, configuration changes under load.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VIP=198.18.0.60
TMP=$(mktemp -d)
SRV_PIDS=()
CH_ADDED=0
cleanup() {
	[ ${#SRV_PIDS[@]} -gt 0 ] && kill "${SRV_PIDS[@]}" 2>/dev/null
	if [ "$CH_ADDED" = 1 ]; then
		for i in $(seq 100 160); do in_cli ip addr del 198.18.0.$i/24 dev cli0 2>/dev/null; done
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# Backends: echo on :8080, "who am I" on :8081, reset-after-accept on :8082,
# "who am I" then echo on :8083, PROXY protocol reader on :8086.
ip netns exec $SL_NS_SRV $PY "$IT_DIR/who_server.py" 8081 198.18.1.2 198.18.1.3 198.18.1.4 >/dev/null 2>&1 &
SRV_PIDS+=($!)
for i in 2 3 4; do
	ip netns exec $SL_NS_SRV socat -t 120 TCP-LISTEN:8080,bind=198.18.1.$i,reuseaddr,fork EXEC:/bin/cat >/dev/null 2>&1 &
	SRV_PIDS+=($!)
	# "who am I", then echo until the client closes (held connections)
	ip netns exec $SL_NS_SRV socat -t 120 TCP-LISTEN:8083,bind=198.18.1.$i,reuseaddr,fork SYSTEM:"echo 198.18.1.$i; exec cat" >/dev/null 2>&1 &
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

# who N PORT [GAP_MS]: N sequential connections; prints "ip count" lines. Each
# one is read to the server's EOF before the client closes, so it is over (both
# FINs relayed) before the next begins and least connections sees equal load.
# With several workers the old connection's last FIN may still wait in a
# hand-off ring when the next SYN is picked on another worker, so its server
# still counts one connection (engine-wide counts); GAP_MS lets it finish.
who() {
	in_cli $PY - $VIP "$2" "$1" "${3:-0}" <<'EOP'
import collections, socket, sys, time
c = collections.Counter()
gap = float(sys.argv[4]) / 1000
for i in range(int(sys.argv[3])):
    if gap:
        time.sleep(gap)
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
        c[s.makefile().read().strip() or "empty"] += 1
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

csum_errs() { # TCP segments with a bad checksum the client's and the servers' kernels saw
	echo $(($(in_cli nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ {print $2}') +
		$(in_srv nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ {print $2}')))
}
ce0=$(csum_errs)
ru0=$(tel tx_csum_reused)
check "100 MB each way through the proxy over 20 connections, sha256 equal; half-close carried" \
	in_cli env SL_BULK_PORT=80 $PY "$IT_DIR/tcp_bulk.py" $VIP echo 20 5000000 120
# Relayed segments carry the payload sum taken when they arrived (one pass
# over the bytes, not two): most of the 100 MB must have gone out that way,
# and neither kernel may have found a wrong checksum.
ce1=$(csum_errs)
ru1=$(tel tx_csum_reused)
if [ $((ru1 - ru0)) -gt 10000 ] && [ "$ce1" -eq "$ce0" ]; then
	ok "relayed segments reuse the receive-side payload sum ($((ru1 - ru0)) segments), peers' checksum errors +0"
else
	not_ok "relayed segments reuse the receive-side payload sum, peers see no checksum error" \
		"reused $ru0 -> $ru1" "peer TcpInCsumErrors $ce0 -> $ce1"
fi
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

# A service port range: every port of 9000-9002 proxied, its neighbours not.
apply "$(pool p-range 8081 "198.18.1.3:1")" \
	"$(vs vs-range 9000 p-range | sed 's/"services":\[{"port":9000}\]/"services":[{"port":9000,"port_range_end":9002}]/')"
out=$(in_cli $PY - $VIP <<'EOP'
import socket, sys
r = []
for port in (8999, 9000, 9001, 9002, 9003):
    try:
        s = socket.create_connection((sys.argv[1], port), timeout=3)
        r.append("%d:%s" % (port, s.makefile().read().strip()))
        s.close()
    except ConnectionRefusedError:
        r.append("%d:refused" % port)
    except OSError as e:
        r.append("%d:%s" % (port, type(e).__name__))
print(" ".join(r))
EOP
)
if [ "$out" = "8999:refused 9000:198.18.1.3 9001:198.18.1.3 9002:198.18.1.3 9003:refused" ]; then
	ok "service port range 9000-9002: each port proxied, 8999 and 9003 refused"
else
	not_ok "service port range 9000-9002 proxied, neighbours refused" "$out"
fi

f0=$("$TELEMETRY" -k proxy_connect_fail /sluice/tcp)
out=$(who 40 83)
f1=$("$TELEMETRY" -k proxy_connect_fail /sluice/tcp)
if [ "$out" = "198.18.1.2 40" ] && [ "$f1" -gt "$f0" ]; then
	ok "a refused server connect is retried on another server: 40 of 40 clients served ($((f1 - f0)) failed connects)"
else
	not_ok "a refused server connect is retried on another server" "$out" "connect failures $f0 -> $f1"
fi

# ---- load balancing, limits, draining, PROXY protocol, idle timeout, counters (issue 6)

# jq-like: api GET PATH, then a python expression over d (the JSON body)
jget() { api GET "$1" | $PY -c "import json,sys; d=json.load(sys.stdin); print($2)"; }
vs_ctr() { jget "/api/virtualservice/$1/runtime" "d['counters']['l4']['$2']"; }
pool_ctr() { jget "/api/pool/$1/runtime" "d['counters'].get('$2', 0)"; }
# srv_ctr POOL IP KEY
srv_ctr() { jget "/api/pool/$1/runtime" "[s for s in d['servers'] if s['ip']=='$2'][0]['counters']['$3']"; }
poolx() { # name port "ip:ratio ..." alg extra-json
	local srv="" x
	for x in $3; do srv+="{\"ip\":{\"addr\":\"${x%:*}\",\"type\":\"V4\"},\"port\":$2,\"ratio\":${x#*:}},"; done
	echo "{\"model_name\":\"Pool\",\"data\":{\"name\":\"$1\",\"lb_algorithm\":\"LB_ALGORITHM_$4\",\"servers\":[${srv%,}]${5:+,$5}}}"
}
vsx() { # name port pool-json-ref extra-json
	echo "{\"model_name\":\"VirtualService\",\"data\":{\"name\":\"$1\",\"vip\":[{\"vip_id\":\"0\",\"ip_address\":{\"addr\":\"$VIP\",\"type\":\"V4\"}}],
	  \"services\":[{\"port\":$2}],\"application_profile_ref\":\"/api/applicationprofile?name=${5:-System-L4-Application}\",
	  \"network_profile_ref\":\"/api/networkprofile?name=${6:-System-TCP-Proxy}\",$3${4:+,$4}}}"
}

for alg in LEAST_CONNECTIONS RANDOM CONSISTENT_HASH; do
	extra=""
	[ $alg = CONSISTENT_HASH ] && extra='"lb_algorithm_hash":"LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS_AND_PORT"'
	apply "$(poolx p-who 8081 "198.18.1.2:3 198.18.1.3:2 198.18.1.4:1" $alg "$extra")"
	gap=0 n=6000
	[ $alg = LEAST_CONNECTIONS ] && [ "${SL_WORKERS:-1}" -gt 1 ] && gap=1
	# A consistent hash sends each client to a fixed server, so its split over
	# N clients is a sample of the table's exact 3:2:1 (test_lb_ch): sigma is
	# 0.65 points for the 50 % server at 6,000 (the 2-point bound failed once in
	# ten runs, at 2.02); 12,000 clients put the bound past 4 sigma.
	[ $alg = CONSISTENT_HASH ] && n=12000
	out=$(who $n 81 $gap)
	name="$alg${extra:+ (source ip and port)} 3:2:1 over $n connections"
	if r=$(share_ok "$out" $n "198.18.1.2:50 198.18.1.3:33.33 198.18.1.4:16.67"); then ok "$name: $r"
	else not_ok "$name, each within 2 points" "$r" "$out"; fi
done
apply "$(pool p-who 8081 "198.18.1.2:3 198.18.1.3:2 198.18.1.4:1")"

# Least connections follows load: six held connections spread 2/2/2; after the two on one
# server close, the next two go to that server, and three more go one to each (open
# connections are counted engine-wide, so this holds for any number of workers).
apply "$(poolx p-hold 8083 "198.18.1.2:1 198.18.1.3:1 198.18.1.4:1" LEAST_CONNECTIONS)" "$(vsx vs-hold 84 '"pool_ref":"/api/pool?name=p-hold"')"
out=$(in_cli $PY - $VIP <<'EOP'
import collections, socket, sys
held = []
def open1():
    s = socket.create_connection((sys.argv[1], 84), timeout=3)
    ip = s.makefile().readline().strip()
    held.append((ip, s))
    return ip
first = collections.Counter(open1() for _ in range(6))
victim = sorted(first)[0]
for ip, s in [h for h in held if h[0] == victim]:
    s.close()
held[:] = [h for h in held if h[0] != victim]
import time; time.sleep(0.5)
refill = [open1() for _ in range(2)]
more = collections.Counter(open1() for _ in range(3))
print(dict(first) == {"198.18.1.2": 2, "198.18.1.3": 2, "198.18.1.4": 2} and refill == [victim, victim]
      and dict(more) == {"198.18.1.2": 1, "198.18.1.3": 1, "198.18.1.4": 1},
      dict(first), victim, refill, dict(more))
EOP
)
if [ "${out%% *}" = True ]; then ok "least connections follows load: held 2/2/2, refill goes to the emptied server ($out)"
else not_ok "least connections follows load" "$out"; fi

# Consistent hash on the source address: 60 client addresses, three connections each land on
# one server; when one of 4 servers leaves, exactly its clients move.
for i in $(seq 100 159); do in_cli ip addr add 198.18.0.$i/24 dev cli0 2>/dev/null; done
CH_ADDED=1
ip netns exec $SL_NS_SRV $PY "$IT_DIR/who_server.py" 8081 198.18.1.6 >/dev/null 2>&1 &
SRV_PIDS+=($!)
sleep 0.3
ch_map() { in_cli $PY - $VIP "$1" <<'EOP'
import socket, sys
out = []
for i in range(100, 160):
    seen = set()
    for _ in range(int(sys.argv[2])):
        s = socket.socket(); s.settimeout(3)
        s.bind(("198.18.0.%d" % i, 0))
        s.connect((sys.argv[1], 85))
        seen.add(s.makefile().readline().strip()); s.close()
    out.append("%d=%s" % (i, "+".join(sorted(seen))))
print(" ".join(out))
EOP
}
apply "$(poolx p-ch 8081 "198.18.1.2:1 198.18.1.3:1 198.18.1.4:1 198.18.1.6:1" CONSISTENT_HASH)" "$(vsx vs-ch 85 '"pool_ref":"/api/pool?name=p-ch"')"
m1=$(ch_map 3)
apply "$(poolx p-ch 8081 "198.18.1.2:1 198.18.1.3:1 198.18.1.4:1" CONSISTENT_HASH)"
m2=$(ch_map 1)
r=$($PY -c '
import sys
a = dict(x.split("=") for x in sys.argv[1].split()); b = dict(x.split("=") for x in sys.argv[2].split())
sticky = all("+" not in v for v in a.values())
on6 = [k for k, v in a.items() if v == "198.18.1.6"]
moved = [k for k in a if a[k] != b[k]]
ok = sticky and sorted(moved) == sorted(on6) and 0 < len(on6) < 30 and len(set(a.values())) == 4
print(ok, "clients kept their server over 3 connections:", sticky, "; on the removed server:", len(on6),
      "of 60; moved:", len(moved), "(only those:", sorted(moved) == sorted(on6), ")")' "$m1" "$m2")
if [ "${r%% *}" = True ]; then ok "consistent hash: ${r#* }"
else not_ok "consistent hash keeps clients and moves only the removed server's" "$r" "$m1" "$m2"; fi
# source ip and port: a client bound to a fixed port comes back to the same server.
# Its own address: an earlier file's TIME_WAITs (load tests widen the port range)
# cannot hold these ports on an address nothing else used.
in_cli ip addr add 198.18.0.160/24 dev cli0 2>/dev/null
apply "$(poolx p-ch 8081 "198.18.1.2:1 198.18.1.3:1 198.18.1.4:1 198.18.1.6:1" CONSISTENT_HASH '"lb_algorithm_hash":"LB_ALGORITHM_CONSISTENT_HASH_SOURCE_IP_ADDRESS_AND_PORT"')"
out=$(in_cli $PY - $VIP <<'EOP'
import socket, struct, sys
res = {}
for port in range(61100, 61140):   # above the ephemeral range: no TIME_WAIT of other tests
    seen = set()
    for _ in range(3):
        s = socket.socket(); s.settimeout(3)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("198.18.0.160", port)); s.connect((sys.argv[1], 85))
        seen.add(s.makefile().readline().strip())
        # RST: no TIME_WAIT anywhere, so the same port can come back at once
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()
    res[port] = seen
print(all(len(v) == 1 for v in res.values()) and len(set.union(*res.values())) >= 3,
      len(set.union(*res.values())), "servers used by 40 ports")
EOP
)
if [ "${out%% *}" = True ]; then ok "consistent hash on source ip and port: a fixed source port keeps its server (${out#* })"
else not_ok "consistent hash on source ip and port keeps a fixed source port on its server" "$out"; fi
in_cli ip addr del 198.18.0.160/24 dev cli0 2>/dev/null
for i in $(seq 100 159); do in_cli ip addr del 198.18.0.$i/24 dev cli0 2>/dev/null; done
CH_ADDED=0

# hold N: opens N connections to VIP:port $2, prints per connection the first line or the error
hold_py='
import socket, sys, time
res, held = [], []
for _ in range(int(sys.argv[3])):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
        l = s.makefile().readline().strip()
        res.append(l or "eof"); held.append(s)
    except OSError as e:
        res.append(type(e).__name__)
print(" ".join(res)); sys.stdout.flush()
time.sleep(float(sys.argv[4]))
'
# Connection limits: VS max 3; pool max 2 per server (two servers: 4 in all).
apply "$(poolx p-lim 8083 "198.18.1.2:1 198.18.1.3:1" ROUND_ROBIN '"max_concurrent_connections_per_server":2')" \
	"$(vsx vs-lim 86 '"pool_ref":"/api/pool?name=p-lim"' '"performance_limits":{"max_concurrent_connections":3}')"
out=$(in_cli $PY -c "$hold_py" $VIP 86 4 0)
n_vs=$(vs_ctr vs-lim limit_vs)
if [ "$(tr ' ' '\n' <<<"$out" | grep -c '^198.18.1')" = 3 ] && [ "$n_vs" = 1 ]; then
	ok "VS limit 3: 4th connection refused ($out), limit_vs counter $n_vs"
else not_ok "VS limit 3 enforced and counted" "$out" "limit_vs $n_vs"; fi
apply "$(vsx vs-lim 86 '"pool_ref":"/api/pool?name=p-lim"')"
sleep 0.5
out=$(in_cli $PY -c "$hold_py" $VIP 86 5 0)
n_srv=$(vs_ctr vs-lim limit_server)
c2=$(tr ' ' '\n' <<<"$out" | grep -c '^198.18.1.2$'); c3=$(tr ' ' '\n' <<<"$out" | grep -c '^198.18.1.3$')
if [ "$c2" = 2 ] && [ "$c3" = 2 ] && [ "$n_srv" = 1 ]; then
	ok "server limit 2: 2+2 served, 5th refused ($out), limit_server counter $n_srv"
else not_ok "server limit 2 enforced and counted" "$out" "limit_server $n_srv"; fi
# gauges while 3 connections are held
in_cli $PY -c "$hold_py" $VIP 86 3 4 >"$TMP/held" &
hp=$!
sleep 2
cur=$(vs_ctr vs-lim connections); pcur=$(pool_ctr p-lim connections)
wait $hp
sleep 1.5
cur0=$(vs_ctr vs-lim connections)
if [ "$cur" = 3 ] && [ "$pcur" = 3 ] && [ "$cur0" = 0 ]; then
	ok "open-connection gauges: VS 3 and pool 3 while held, VS 0 after"
else not_ok "open-connection gauges" "vs $cur pool $pcur after $cur0" "$(cat "$TMP/held")"; fi

# Draining: a held connection to a server that gets disabled keeps working and new ones go
# elsewhere; graceful_disable_timeout 0 then resets it.
apply "$(poolx p-dr 8083 "198.18.1.2:1 198.18.1.3:1" ROUND_ROBIN '"graceful_disable_timeout":1')" "$(vsx vs-dr 87 '"pool_ref":"/api/pool?name=p-dr"')"
mkfifo "$TMP/ctl"
in_cli $PY - $VIP "$TMP/ctl" >"$TMP/dr" 2>&1 <<'EOP' &
import socket, sys, time
vip, ctl = sys.argv[1], sys.argv[2]
s = socket.create_connection((vip, 87), timeout=3)
f = s.makefile("rb")
me = f.readline().strip().decode()
print("held", me, flush=True)
cmds = open(ctl)
for cmd in cmds:
    cmd = cmd.strip()
    if cmd == "ping":
        try:
            s.sendall(b"ping\n"); print("echo", f.readline().strip().decode() or "eof", flush=True)
        except OSError as e:
            print("echo", type(e).__name__, flush=True)
    elif cmd == "new":
        got = []
        for _ in range(6):
            n = socket.create_connection((vip, 87), timeout=3); got.append(n.makefile().readline().strip()); n.close()
        print("new", " ".join(sorted(set(got))), flush=True)
    elif cmd == "wait":
        s.settimeout(5)
        try:
            d = s.recv(10)
            print("end", "eof" if not d else "data", flush=True)
        except OSError as e:
            print("end", type(e).__name__, flush=True)
        break
EOP
drp=$!
exec 7>"$TMP/ctl"
sleep 1
held=$(sed -n 's/^held //p' "$TMP/dr")
other=198.18.1.3; [ "$held" = 198.18.1.3 ] && other=198.18.1.2
apply "$(poolx p-dr 8083 "$held:1 $other:1" ROUND_ROBIN '"graceful_disable_timeout":1' | sed "s/\"addr\":\"$held\",\"type\":\"V4\"},\"port\":8083,\"ratio\":1/&,\"enabled\":false/")"
sleep 1.5
echo ping >&7; echo new >&7; sleep 2
echo ping >&7; sleep 1
apply "$(poolx p-dr 8083 "$held:1 $other:1" ROUND_ROBIN '"graceful_disable_timeout":0' | sed "s/\"addr\":\"$held\",\"type\":\"V4\"},\"port\":8083,\"ratio\":1/&,\"enabled\":false/")"
echo wait >&7
exec 7>&-
wait $drp
dr=$(vs_ctr vs-dr drain_reset)
want=$(printf 'held %s\necho ping\nnew %s\necho ping\nend ConnectionResetError' "$held" "$other")
if [ "$(cat "$TMP/dr")" = "$want" ] && [ "$dr" = 1 ]; then
	ok "draining: disabled server keeps its connection (echo works), new ones go to $other; graceful_disable_timeout 0 resets it (drain_reset $dr)"
else not_ok "draining of a disabled server" "$(cat "$TMP/dr")" "drain_reset $dr"; fi

# PROXY protocol v1 and v2 seen by a python server, which answers with what it parsed.
ip netns exec $SL_NS_SRV $PY -c '
import socket, struct, threading
def serve(c):
    h = c.recv(16)
    if h.startswith(b"PROXY "):
        while not h.endswith(b"\r\n"): h += c.recv(1)
        _, fam, src, dst, sp, dp = h.decode().split()
        out = "v1 %s %s %s %s %s" % (fam, src, sp, dst, dp)
    elif h[:12] == b"\r\n\r\n\x00\r\nQUIT\n":
        ln = struct.unpack("!H", h[14:16])[0]; b = c.recv(ln)
        out = "v2 ver_cmd=%#x fam=%#x %s %d %s %d" % (h[12], h[13], socket.inet_ntoa(b[0:4]), struct.unpack("!H", b[8:10])[0],
                                                    socket.inet_ntoa(b[4:8]), struct.unpack("!H", b[10:12])[0])
    else:
        out = "none " + repr(h)
    c.sendall(out.encode() + b"\n"); c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.1.2", 8086)); s.listen(64)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,)).start()' >/dev/null 2>&1 &
SRV_PIDS+=($!)
sleep 0.3
pp_check() { # version
	in_cli $PY - $VIP <<'EOP'
import socket, sys
s = socket.create_connection((sys.argv[1], 88), timeout=3)
s.sendall(b"x")
line = s.makefile().readline().strip()
me = s.getsockname()
print(line, "|", me[0], me[1])
EOP
}
for v in 1 2; do
	apply "{\"model_name\":\"ApplicationProfile\",\"data\":{\"name\":\"l4-pp\",\"type\":\"APPLICATION_PROFILE_TYPE_L4\",\"tcp_app_profile\":{\"proxy_protocol_enabled\":true,\"proxy_protocol_version\":\"PROXY_PROTOCOL_VERSION_$v\"}}}" \
		"$(poolx p-pp 8086 "198.18.1.2:1" ROUND_ROBIN)" "$(vsx vs-pp 88 '"pool_ref":"/api/pool?name=p-pp"' "" l4-pp)"
	out=$(pp_check)
	sip=$(awk '{print $1}' <<<"${out#*| }"); sport=$(awk '{print $2}' <<<"${out#*| }")
	if [ $v = 1 ]; then want="v1 TCP4 $sip $sport $VIP 88"; else want="v2 ver_cmd=0x21 fam=0x11 $sip $sport $VIP 88"; fi
	if [ "${out%% |*}" = "$want" ]; then ok "PROXY protocol v$v header carries the client's address and port: ${out%% |*}"
	else not_ok "PROXY protocol v$v header" "got: $out" "want: $want"; fi
done

# Idle timeout (network profile idle_connection_timeout 5 s): an idle connection is closed, one
# that talks every 2 s is not.
apply "{\"model_name\":\"NetworkProfile\",\"data\":{\"name\":\"tcp-idle5\",\"profile\":{\"type\":\"PROTOCOL_TYPE_TCP_PROXY\",\"tcp_proxy_profile\":{\"idle_connection_timeout\":5}}}}" \
	"$(vsx vs-idle 89 '"pool_ref":"/api/pool?name=p-hold"' "" "" tcp-idle5)"
out=$(in_cli $PY - $VIP <<'EOP'
import socket, sys, time
idle = socket.create_connection((sys.argv[1], 89), timeout=3); idle.makefile().readline()
busy = socket.create_connection((sys.argv[1], 89), timeout=3); bf = busy.makefile("rb"); bf.readline()
t0 = time.time(); res = "busy ok"
while time.time() - t0 < 9:
    busy.sendall(b"tick\n")
    if bf.readline() != b"tick\n": res = "busy broken"; break
    time.sleep(2)
idle.settimeout(1)
try:
    d = idle.recv(10); ir = "idle closed" if not d else "idle data"
except socket.timeout:
    ir = "idle still open"
except OSError as e:
    ir = "idle " + type(e).__name__
print(ir, "/", res)
EOP
)
ic=$(vs_ctr vs-idle idle_closed)
if [ "$out" = "idle closed / busy ok" ] && [ "$ic" = 1 ]; then ok "idle timeout 5 s: the idle connection is closed, the busy one is not (idle_closed $ic)"
else not_ok "idle timeout" "$out" "idle_closed $ic"; fi

# Pool group: the highest priority with an up pool wins, ratio splits within it.
apply "$(poolx pg-a 8081 "198.18.1.2:1" ROUND_ROBIN)" "$(poolx pg-b 8081 "198.18.1.3:1" ROUND_ROBIN)" "$(poolx pg-c 8081 "198.18.1.4:1" ROUND_ROBIN)" \
	'{"model_name":"PoolGroup","data":{"name":"pg1","members":[{"pool_ref":"/api/pool?name=pg-a","ratio":3,"priority_label":"10"},{"pool_ref":"/api/pool?name=pg-b","ratio":1,"priority_label":"10"},{"pool_ref":"/api/pool?name=pg-c","ratio":1,"priority_label":"5"}]}}' \
	"$(vsx vs-pg 90 '"pool_group_ref":"/api/poolgroup?name=pg1"')"
out=$(who 400 90)
if r=$(share_ok "$out" 400 "198.18.1.2:75 198.18.1.3:25 198.18.1.4:0"); then ok "pool group: priority 10 split 3:1 over 400 connections, priority 5 unused: $r"
else not_ok "pool group priority and ratio" "$r" "$out"; fi
apply "$(poolx pg-a 8081 "198.18.1.2:1" ROUND_ROBIN | sed 's/"ratio":1/&,"enabled":false/')" "$(poolx pg-b 8081 "198.18.1.3:1" ROUND_ROBIN | sed 's/"ratio":1/&,"enabled":false/')"
out=$(who 50 90)
if [ "$out" = "198.18.1.4 50" ]; then ok "pool group: with no usable server at priority 10, priority 5 takes all 50"
else not_ok "pool group falls back to the next priority" "$out"; fi

# Counters: per VS, pool and server, in /api and /metrics
t0=$(vs_ctr vs-who connections_total)
who 30 81 >/dev/null
t1=$(vs_ctr vs-who connections_total)
bi=$(vs_ctr vs-who bytes_out)
s2=$(srv_ctr p-who 198.18.1.2 connections_total); ptot=$(pool_ctr p-who connections_total)
met=$(api GET /metrics | grep -c "^sluice_l4_vs_connections_total{vs=\"vs-who\"} $t1$")
mets=$(api GET /metrics | grep -c "^sluice_l4_server_up{pool=\"p-who\",server=\"198.18.1.2:8081\"} 1$")
if [ $((t1 - t0)) = 30 ] && [ "$bi" -gt 0 ] && [ "$s2" -gt 0 ] && [ "$ptot" -ge $((t1 - t0)) ] && [ "$met" = 1 ] && [ "$mets" = 1 ]; then
	ok "counters: VS connections_total +30, bytes_out $bi, server and pool totals, /metrics lines"
else not_ok "counters in /api and /metrics" "vs total $t0 -> $t1, bytes_out $bi, server $s2, pool $ptot, metrics $met $mets"; fi
# passive health: the dead server of p-retry was tried 3 times, then taken out
pf=$(srv_ctr p-retry 198.18.1.5 connect_failures); po=$(srv_ctr p-retry 198.18.1.5 passive_outs)
if [ "$pf" = 3 ] && [ "$po" = 1 ]; then ok "passive health: 3 failed connects to the dead server, then it is out (connect_failures $pf, passive_outs $po)"
else not_ok "passive health takes a failing server out" "connect_failures $pf passive_outs $po"; fi

# Fastest response: every connection served, and the connect-time EWMA is measured per server.
apply "$(poolx p-fr 8081 "198.18.1.2:1 198.18.1.3:1 198.18.1.4:1" FASTEST_RESPONSE)" "$(vsx vs-fr 91 '"pool_ref":"/api/pool?name=p-fr"')"
out=$(who 300 91)
rts=$(jget /api/pool/p-fr/runtime "' '.join(str(s['counters']['connect_time_us']) for s in d['servers'])")
if [ "$(awk '{s += $2} END {print s}' <<<"$out")" = 300 ] && ! grep -q error <<<"$out" && ! grep -qw 0 <<<"$rts"; then
	ok "fastest response: 300 of 300 served ($(tr '\n' ' ' <<<"$out")), connect-time EWMA per server (us): $rts"
else not_ok "fastest response serves and measures connect times" "$out" "connect_time_us: $rts"; fi

# Connect timeouts count against a server: 198.18.1.7 listens with a full accept queue (it never
# accepts), so SYNs to it go unanswered; each client waits out one 3 s timeout and is served by
# the other server, and after 3 timeouts the silent server is out.
ip netns exec $SL_NS_SRV $PY -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.1.7", 8081)); s.listen(0)
fill = []
for _ in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("198.18.1.7", 8081))
    except BlockingIOError: pass
    fill.append(c)
time.sleep(600)' >/dev/null 2>&1 &
SRV_PIDS+=($!)
sleep 1
apply "$(poolx p-to 8081 "198.18.1.7:1 198.18.1.2:1" ROUND_ROBIN)" "$(vsx vs-to 92 '"pool_ref":"/api/pool?name=p-to"')"
t0=$(date +%s.%N)
out=$(in_cli $PY - $VIP <<'EOP'
import socket, sys
res = []
for _ in range(4):
    s = socket.create_connection((sys.argv[1], 92), timeout=10)
    res.append(s.makefile().read().strip() or "empty"); s.close()
print(" ".join(res))
EOP
)
dt=$($PY -c "import time; print(round(time.time() - $t0, 1))")
tf=$(srv_ctr p-to 198.18.1.7 connect_failures); to=$(srv_ctr p-to 198.18.1.7 passive_outs)
if [ "$out" = "198.18.1.2 198.18.1.2 198.18.1.2 198.18.1.2" ] && [ "$tf" = 3 ] && [ "$to" = 1 ] &&
	$PY -c "import sys; sys.exit(0 if 8.5 <= $dt <= 16 else 1)"; then
	ok "connect timeouts: 3 SYN timeouts (3 s each) on the silent server, then it is out; 4 of 4 clients served in ${dt}s"
else not_ok "connect timeouts count against a server and the client is served elsewhere" "$out" "connect_failures $tf passive_outs $to in ${dt}s"; fi

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
