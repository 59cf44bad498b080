#!/usr/bin/env bash
# Active health monitors on the bed: the engine probes real servers in
# sl-srv through its own stack (TCP connect, HTTP status, ICMP echo, DNS
# query); control applies failed_checks / successful_checks and the L4 proxy
# and the DNS VS's GSLB answers follow the verdicts.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VIP=198.18.0.61
DNS_VIP=198.18.0.62
IV=2 FAILS=2 OKS=2          # send_interval, failed_checks, successful_checks of the TCP monitor
TMP=$(mktemp -d)
SRV_PIDS=()
cleanup() {
	[ ${#SRV_PIDS[@]} -gt 0 ] && kill "${SRV_PIDS[@]}" 2>/dev/null
	in_srv ip addr add 198.18.1.7/24 dev srv0 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

who_server() { # ip: "who am I" on :8080; prints the pid
	ip netns exec $SL_NS_SRV socat TCP-LISTEN:8080,bind=$1,reuseaddr,fork SYSTEM:"echo $1" >/dev/null 2>&1 &
	echo $!
}
declare -A WHO
for i in 2 3 4; do
	WHO[$i]=$(who_server 198.18.1.$i)
	SRV_PIDS+=("${WHO[$i]}")
done

# (servers are started with ip netns exec directly, so cleanup's kill reaches them)
# HTTP on 198.18.1.5:8090: answers with the status code in $TMP/code ("lf": a bare-LF status line)
echo 200 >"$TMP/code"
ip netns exec $SL_NS_SRV $PY - "$TMP/code" <<'EOP' >/dev/null 2>&1 &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code = open(sys.argv[1]).read().strip()
        if code == "lf":   # a status line ended by a bare LF: the strict parser refuses it
            self.wfile.write(b"HTTP/1.1 200 OK\nContent-Length: 0\n\n"); self.close_connection = True; return
        self.send_response(int(code)); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("198.18.1.5", 8090), H).serve_forever()
EOP
SRV_PIDS+=($!)

# DNS on 198.18.1.8:53: www.health.test A 198.18.1.53, or NXDOMAIN while $TMP/nx exists
ip netns exec $SL_NS_SRV $PY - "$TMP/nx" <<'EOP' >/dev/null 2>&1 &
import os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.1.8", 53))
while True:
    q, a = s.recvfrom(512)
    if len(q) < 12:
        continue
    end = 12
    while q[end]:
        end += q[end] + 1
    question = q[12:end + 5]
    if os.path.exists(sys.argv[1]):
        r = q[:2] + b"\x85\x03" + b"\x00\x01\x00\x00\x00\x00\x00\x00" + question
    else:
        r = (q[:2] + b"\x85\x00" + b"\x00\x01\x00\x01\x00\x00\x00\x00" + question +
             b"\xc0\x0c\x00\x01\x00\x01" + struct.pack(">IH", 30, 4) + socket.inet_aton("198.18.1.53"))
    s.sendto(r, a)
EOP
SRV_PIDS+=($!)
sleep 0.5

hm() { # name type extra-json
	echo "{\"model_name\":\"HealthMonitor\",\"data\":{\"name\":\"$1\",\"type\":\"$2\",\"send_interval\":$IV,
	  \"receive_timeout\":1,\"failed_checks\":$FAILS,\"successful_checks\":$OKS${3:+,$3}}}"
}
pool() { # name port "ip ..." monitor
	local srv="" x
	for x in $3; do srv+="{\"ip\":{\"addr\":\"$x\",\"type\":\"V4\"},\"port\":$2},"; done
	echo "{\"model_name\":\"Pool\",\"data\":{\"name\":\"$1\",\"servers\":[${srv%,}],
	  \"health_monitor_refs\":[\"/api/healthmonitor?name=$4\"]}}"
}
apply() { printf '[%s]' "$(IFS=,; echo "$*")" | "$SL_CTL" apply -f /dev/stdin >/dev/null; }

# server_state POOL IP: "up" / "down" / "?" from the pool runtime
server_state() {
	api GET "/api/pool/$1/runtime" 2>/dev/null | $PY -c '
import json, sys
for s in json.load(sys.stdin)["servers"]:
    if s["ip"] == sys.argv[1]:
        print("up" if s["oper_up"] else "down"); break
else:
    print("?")' "$2"
}
# wait_state POOL IP STATE MAX_S: seconds it took (1 decimal), or fails after MAX_S
wait_state() {
	local t0 now
	t0=$(date +%s.%N)
	while :; do
		[ "$(server_state "$1" "$2")" = "$3" ] && break
		now=$(date +%s.%N)
		if [ "$(echo "$now - $t0 > $4" | bc)" = 1 ]; then return 1; fi
		sleep 0.1
	done
	now=$(date +%s.%N)
	printf '%.1f\n' "$(echo "$now - $t0" | bc)"
}
reason() { # pool ip
	api GET "/api/pool/$1/runtime" | $PY -c '
import json, sys
for s in json.load(sys.stdin)["servers"]:
    if s["ip"] == sys.argv[1]:
        print(s["health"]["reason"])' "$2"
}

# who N: N sequential connections to the VIP; prints "ip count" lines
who() {
	in_cli $PY - $VIP "$1" <<'EOP'
import collections, socket, sys
c = collections.Counter()
for i in range(int(sys.argv[2])):
    try:
        s = socket.create_connection((sys.argv[1], 80), timeout=3)
        c[s.makefile().readline().strip() or "empty"] += 1
        s.close()
    except OSError as e:
        c["error: " + type(e).__name__] += 1
for k, v in sorted(c.items()):
    print(k, v)
EOP
}
connect_fails() { tel proxy_connect_fail /sluice/tcp 2>/dev/null || echo 0; }

if ! engine_start; then
	not_ok "engine starts"
	it_done
	exit
fi
ok "engine starts ($(engine_pmd), ${SL_WORKERS:-1} worker(s))"

if apply "$(hm hm-tcp HEALTH_MONITOR_TCP)" \
	"$(hm hm-http HEALTH_MONITOR_HTTP '"http_monitor":{"http_request":"GET /health","http_response_code":["HTTP_2XX"]}')" \
	"$(hm hm-ping HEALTH_MONITOR_PING)" \
	"$(hm hm-dns HEALTH_MONITOR_DNS '"dns_monitor":{"query_name":"www.health.test","response_string":"198.18.1.53"}')" \
	"$(hm hm-gslb HEALTH_MONITOR_TCP '"monitor_port":8080')" \
	"$(pool p-web 8080 "198.18.1.2 198.18.1.3 198.18.1.4" hm-tcp)" \
	"$(pool p-http 8090 "198.18.1.5" hm-http)" \
	"$(pool p-ping 80 "198.18.1.6 198.18.1.7" hm-ping)" \
	"$(pool p-dns 53 "198.18.1.8" hm-dns)" \
	"{\"model_name\":\"VirtualService\",\"data\":{\"name\":\"vs-web\",\"vip\":[{\"ip_address\":{\"addr\":\"$VIP\",\"type\":\"V4\"}}],
	  \"services\":[{\"port\":80}],\"application_profile_ref\":\"/api/applicationprofile?name=System-L4-Application\",
	  \"network_profile_ref\":\"/api/networkprofile?name=System-TCP-Proxy\",\"pool_ref\":\"/api/pool?name=p-web\"}}" \
	'{"model_name":"ApplicationProfile","data":{"name":"hm-dns-prof","type":"APPLICATION_PROFILE_TYPE_DNS",
	  "dns_service_profile":{"dns_zones":[{"domain_name":"gslb.test","name_server":"ns1.gslb.test"}]}}}' \
	'{"model_name":"GslbService","data":{"name":"hm-app","domain_names":["app.gslb.test"],"ttl":1,"num_dns_ip":2,
	  "health_monitor_refs":["/api/healthmonitor?name=hm-gslb"],
	  "groups":[{"name":"g","priority":10,"members":[{"ip":{"addr":"198.18.1.2","type":"V4"}},
	    {"ip":{"addr":"198.18.1.4","type":"V4"}}]}]}}' \
	"{\"model_name\":\"VirtualService\",\"data\":{\"name\":\"vs-dns\",\"vip\":[{\"ip_address\":{\"addr\":\"$DNS_VIP\",\"type\":\"V4\"}}],
	  \"services\":[{\"port\":53}],\"application_profile_ref\":\"/api/applicationprofile?name=hm-dns-prof\",
	  \"network_profile_ref\":\"/api/networkprofile?name=System-UDP-Fast-Path\"}}"; then
	ok "monitors, pools, L4 VS, GSLB service and DNS VS applied"
else
	not_ok "monitors, pools, L4 VS, GSLB service and DNS VS applied"
	it_done
	exit
fi

# every monitored server passes real probes (probes_ok > 0) and is up
sleep $((IV + 2))
rt=$(for p in p-web p-http p-ping p-dns; do api GET /api/pool/$p/runtime; done)
if out=$($PY -c '
import json, sys
dec = json.JSONDecoder(); s = sys.stdin.read().strip(); bad = []; n = 0
while s:
    o, i = dec.raw_decode(s); s = s[i:].strip()
    for sv in o["servers"]:
        m = sv["health"]["monitors"][0]; n += 1
        if not sv["oper_up"] or m["probes_ok"] < 1 or m["probes_failed"]:
            bad.append(o["name"] + " " + sv["ip"] + ": " + str(m))
print(n, "servers"); print("\n".join(bad)); sys.exit(1 if bad or n != 7 else 0)' <<<"$rt" 2>&1); then
	ok "TCP, HTTP, PING and DNS probes pass on all 7 live servers"
else
	not_ok "TCP, HTTP, PING and DNS probes pass on all 7 live servers" "$out"
fi

# --- TCP: kill a server
limit=$((IV * FAILS + IV))
kill "${WHO[3]}"
if t=$(wait_state p-web 198.18.1.3 down $limit); then
	ok "killed server 198.18.1.3 marked down after ${t}s (send_interval*failed_checks = $((IV * FAILS))s, limit ${limit}s): $(reason p-web 198.18.1.3)"
else
	not_ok "killed server 198.18.1.3 marked down within ${limit}s" "$(api GET /api/pool/p-web/runtime)"
fi
f0=$(connect_fails)
out=$(who 300)
f1=$(connect_fails)
if ! grep -q '^198.18.1.3 \|^error' <<<"$out" && [ "$(awk '{s+=$2} END {print s}' <<<"$out")" = 300 ]; then
	ok "300 connections after detection all succeed, none on 198.18.1.3: $(tr '\n' ' ' <<<"$out")"
else
	not_ok "300 connections after detection all succeed, none on 198.18.1.3" "$out"
fi
if [ "$f1" = "$f0" ]; then
	ok "no connect attempt to the down server (proxy_connect_fail stays $f0)"
else
	not_ok "no connect attempt to the down server" "proxy_connect_fail $f0 -> $f1"
fi
if [ "$(server_state p-web 198.18.1.2)" = up ] && [ "$(server_state p-web 198.18.1.4)" = up ]; then
	ok "the other servers stay up"
else
	not_ok "the other servers stay up" "$(api GET /api/pool/p-web/runtime)"
fi

WHO[3]=$(who_server 198.18.1.3)
SRV_PIDS+=("${WHO[3]}")
limit=$((IV * OKS + IV))
if t=$(wait_state p-web 198.18.1.3 up $limit); then
	ok "restored server up after ${t}s (send_interval*successful_checks = $((IV * OKS))s, limit ${limit}s): $(reason p-web 198.18.1.3)"
else
	not_ok "restored server up within ${limit}s" "$(api GET /api/pool/p-web/runtime)"
fi
out=$(who 300)
n3=$(awk '$1 == "198.18.1.3" {print $2}' <<<"$out")
if [ "${n3:-0}" -ge 80 ] && ! grep -q '^error' <<<"$out"; then
	ok "it takes connections again: $(tr '\n' ' ' <<<"$out")"
else
	not_ok "it takes connections again (about a third of 300)" "$out"
fi

# --- HTTP: the status class decides
echo 500 >"$TMP/code"
if t=$(wait_state p-http 198.18.1.5 down $((IV * FAILS + IV))) && r=$(reason p-http 198.18.1.5) &&
	grep -q 'HTTP 500 not an expected response code' <<<"$r"; then
	ok "HTTP server answering 500 marked down after ${t}s: $r"
else
	not_ok "HTTP server answering 500 marked down" "$(api GET /api/pool/p-http/runtime)"
fi
echo 204 >"$TMP/code"
if t=$(wait_state p-http 198.18.1.5 up $((IV * OKS + IV))); then
	ok "HTTP 204 (2xx) brings it back after ${t}s"
else
	not_ok "HTTP 204 brings it back" "$(api GET /api/pool/p-http/runtime)"
fi
# the status line is read by the strict HTTP parser on the application layer:
# "HTTP/1.1 200 OK" ended by a bare LF is no status line
echo lf >"$TMP/code"
if t=$(wait_state p-http 198.18.1.5 down $((IV * FAILS + IV))) && r=$(reason p-http 198.18.1.5) &&
	grep -q 'malformed HTTP status line' <<<"$r"; then
	ok "HTTP status line ended by a bare LF: down after ${t}s: $r"
else
	not_ok "HTTP status line ended by a bare LF marked down" "$(api GET /api/pool/p-http/runtime)"
fi
echo 200 >"$TMP/code"
if t=$(wait_state p-http 198.18.1.5 up $((IV * OKS + IV))); then
	ok "a well-formed 200 brings it back after ${t}s"
else
	not_ok "a well-formed 200 brings it back" "$(api GET /api/pool/p-http/runtime)"
fi

# --- PING: an address that stops answering
in_srv ip addr del 198.18.1.7/24 dev srv0
if t=$(wait_state p-ping 198.18.1.7 down $((IV * FAILS + IV))) && [ "$(server_state p-ping 198.18.1.6)" = up ]; then
	ok "PING: 198.18.1.7 gone from its namespace, down after ${t}s ($(reason p-ping 198.18.1.7)); 198.18.1.6 still up"
else
	not_ok "PING: an unanswering address goes down, the answering one stays up" "$(api GET /api/pool/p-ping/runtime)"
fi
in_srv ip addr add 198.18.1.7/24 dev srv0
if t=$(wait_state p-ping 198.18.1.7 up $((IV * OKS + IV + 2))); then
	ok "PING: address back, up after ${t}s"
else
	not_ok "PING: address back, up again" "$(api GET /api/pool/p-ping/runtime)"
fi

# --- DNS: rcode and answer
touch "$TMP/nx"
if t=$(wait_state p-dns 198.18.1.8 down $((IV * FAILS + IV))) && r=$(reason p-dns 198.18.1.8) && grep -q 'rcode 3' <<<"$r"; then
	ok "DNS server answering NXDOMAIN marked down after ${t}s: $r"
else
	not_ok "DNS server answering NXDOMAIN marked down" "$(api GET /api/pool/p-dns/runtime)"
fi
rm -f "$TMP/nx"
if t=$(wait_state p-dns 198.18.1.8 up $((IV * OKS + IV))); then
	ok "DNS answer with 198.18.1.53 again: up after ${t}s"
else
	not_ok "DNS server up again" "$(api GET /api/pool/p-dns/runtime)"
fi

# --- GSLB: a member whose monitor fails is no longer answered
answers() { in_cli dig +short +time=1 +tries=2 @$DNS_VIP app.gslb.test A | sort | tr '\n' ' '; }
a=$(answers)
if [ "$a" = "198.18.1.2 198.18.1.4 " ]; then
	ok "GSLB: both healthy members answered: $a"
else
	not_ok "GSLB: both healthy members answered" "$a"
fi
gslb_member_up() {
	api GET /api/gslbservice/hm-app/runtime | $PY -c '
import json, sys
for m in json.load(sys.stdin)["members"]:
    if m["ip"] == sys.argv[1]:
        print("up" if m["oper_up"] else "down")' "$1"
}
kill "${WHO[4]}"
t0=$(date +%s)
while [ "$(gslb_member_up 198.18.1.4)" != down ] && [ $(($(date +%s) - t0)) -le $((IV * FAILS + IV)) ]; do sleep 0.2; done
took=$(($(date +%s) - t0))
bad=0
for _ in $(seq 20); do [ "$(answers)" = "198.18.1.2 " ] || bad=$((bad + 1)); done
if [ "$(gslb_member_up 198.18.1.4)" = down ] && [ $bad -eq 0 ]; then
	ok "GSLB: member 198.18.1.4 down after about ${took}s (limit $((IV * FAILS + IV))s); 20 queries all answer only 198.18.1.2"
else
	not_ok "GSLB: down member no longer answered" "member: $(gslb_member_up 198.18.1.4), $bad of 20 answers wrong: $(answers)"
fi
WHO[4]=$(who_server 198.18.1.4)
SRV_PIDS+=("${WHO[4]}")
t0=$(date +%s)
while [ "$(gslb_member_up 198.18.1.4)" != up ] && [ $(($(date +%s) - t0)) -le $((IV * OKS + IV)) ]; do sleep 0.2; done
a=$(answers)
if [ "$a" = "198.18.1.2 198.18.1.4 " ]; then
	ok "GSLB: restored member answered again: $a"
else
	not_ok "GSLB: restored member answered again" "$a"
fi

st=$(api GET /api/status | $PY -c 'import json,sys; print(json.load(sys.stdin)["health_monitors"])')
diag "monitor totals: $st"
it_done
