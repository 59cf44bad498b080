#!/usr/bin/env bash
# The engine's clock across 2^64 / 10^6 TSC cycles, where the old
# conversion (cycles * 10^6 / hz in 64 bits, about 2.4 h after start at
# 2.1 GHz) overflowed: time fell back to near zero and every timer stopped
# for hours. Start-up "test clock-offset-cycles" starts the clock LEAD
# seconds before that point; across it: the clock goes on, wall and boot
# time from it still match the system's, TCP retransmits what the seeded
# impairment drops, ARP re-confirms, expires and retries, a health monitor
# marks a server down and up, and an L4 proxy idle timeout set before the
# point fires after it. Every wait polls for its condition.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

WRAP=18446744073709          # floor(2^64 / 10^6): the first cycle count past it overflowed
LEAD=${SL_CLOCK_LEAD_S:-25}  # seconds from the engine's start to that point
VIP=198.18.0.63
PROBE_IP=198.18.1.20         # "test udp-probe" target: a secondary address on srv0 the test removes
HM_IP=198.18.1.3 IV=2 FAILS=2 OKS=2
TMP=$(mktemp -d)
SRV_PIDS=()
cleanup() {
	[ ${#SRV_PIDS[@]} -gt 0 ] && kill "${SRV_PIDS[@]}" 2>/dev/null
	in_srv ip addr del $PROBE_IP/24 dev srv0 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# What reaches srv0 for PROBE_IP: "uni|bcast TIME" per ARP request (by its
# destination MAC), "udp TIME" per probe datagram; time as date +%s.%N.
capture() {
	exec ip netns exec $SL_NS_SRV $PY - $PROBE_IP <<'EOP'
import socket, sys, time
ip = socket.inet_aton(sys.argv[1])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("srv0", 0))
while True:
    f, a = s.recvfrom(2048)
    if a[2] == socket.PACKET_OUTGOING or len(f) < 42:
        continue
    kind = None
    if f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x01" and f[38:42] == ip:
        kind = "bcast" if f[0:6] == b"\xff" * 6 else "uni"
    elif f[12:14] == b"\x08\x00" and f[23] == 17 and f[30:34] == ip:
        kind = "udp"
    if kind:
        print(kind, f"{time.time():.3f}", flush=True)
EOP
}
# seen KIND SINCE [N]: at least N (1) KIND lines after time SINCE
seen() { [ "$(awk -v k="$1" -v t="$2" '$1 == k && $2 > t' "$TMP/cap" | wc -l)" -ge "${3:-1}" ]; }

# until_s SECONDS CMD...: poll CMD every 0.2 s until it succeeds; fails after SECONDS
until_s() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}
clk() { tel "$1" /sluice/clock; }
past_wrap() { [ "$(clk cycles)" -gt $WRAP ]; }
tcpstat() { tel "$1" /sluice/tcp; }
server_up() { # prints 1 / 0 for HM_IP in pool p-hm
	api GET /api/pool/p-hm/runtime | $PY -c '
import json, sys
print([int(s["oper_up"]) for s in json.load(sys.stdin)["servers"] if s["ip"] == sys.argv[1]][0])' $HM_IP
}
hm_is() { [ "$(server_up 2>/dev/null)" = "$1" ]; }
hm_server() {
	ip netns exec $SL_NS_SRV socat TCP-LISTEN:8081,bind=$HM_IP,reuseaddr,fork EXEC:/bin/cat >/dev/null 2>&1 &
	HM_PID=$!
	SRV_PIDS+=($HM_PID)
}
# clocks_match: the engine's wall and boot time within 1 s of the system's
clocks_match() {
	"$TELEMETRY" /sluice/clock | $PY -c '
import json, sys, time
d = json.load(sys.stdin)
w = d["wall_us"] / 1e6 - time.clock_gettime(time.CLOCK_REALTIME)
b = d["boot_us"] / 1e6 - time.clock_gettime(time.CLOCK_BOOTTIME)
print(f"engine wall {w:+.3f} s, boot {b:+.3f} s from the system clocks")
sys.exit(0 if abs(w) < 1 and abs(b) < 1 else 1)'
}

# The point is a cycle count, so the offset needs the TSC rate only roughly:
# 1 % off moves the point by a quarter second.
HZ=$($PY -c '
import re
m = re.search(r"^cpu MHz\s*:\s*([0-9.]+)", open("/proc/cpuinfo").read(), re.M)
print(int(float(m.group(1)) * 1e6) if m else 2000000000)')
OFF=$((WRAP - LEAD * HZ))

in_srv ip addr add $PROBE_IP/24 dev srv0
capture >"$TMP/cap" 2>&1 &
SRV_PIDS+=($!)
ip netns exec $SL_NS_SRV socat -t 120 TCP-LISTEN:8080,bind=198.18.1.2,reuseaddr,fork EXEC:/bin/cat >/dev/null 2>&1 &
SRV_PIDS+=($!)
hm_server
sleep 0.3

START=$(printf '%s\n' "test clock-offset-cycles $OFF" "test tcp-echo 7" "test udp-probe $PROBE_IP 9" \
	"arp ttl-s 2" "impair fe0 tx seed 11 drop 0.2")
if ! SL_STARTUP_EXTRA=$START engine_start; then
	not_ok "engine starts with test clock-offset-cycles $OFF"
	it_done
	exit
fi
c0=$(clk cycles) hz=$(clk tsc_hz) us0=$(clk now_us)
left=$(( (WRAP - c0) / hz ))
if [ "$c0" -lt $WRAP ] && [ "$left" -ge 8 ]; then
	ok "engine starts ${left} s before the clock reaches $WRAP cycles ($(engine_pmd), tsc_hz $hz)"
else
	not_ok "engine starts well before the clock reaches $WRAP cycles" "cycles $c0, tsc_hz $hz, ${left} s left"
fi
if out=$(clocks_match); then ok "before the point: $out"; else not_ok "before the point: wall and boot time match" "$out"; fi

hm='{"model_name":"HealthMonitor","data":{"name":"hm-clk","type":"HEALTH_MONITOR_TCP","send_interval":'$IV',
  "receive_timeout":1,"failed_checks":'$FAILS',"successful_checks":'$OKS'}}'
pool() { # name ip port [extra]
	echo '{"model_name":"Pool","data":{"name":"'$1'","servers":[{"ip":{"addr":"'$2'","type":"V4"},"port":'$3'}]'${4:+,$4}'}}'
}
vs() { # name port pool network-profile
	echo '{"model_name":"VirtualService","data":{"name":"'$1'","vip":[{"vip_id":"0","ip_address":{"addr":"'$VIP'","type":"V4"}}],
	  "services":[{"port":'$2'}],"application_profile_ref":"/api/applicationprofile?name=System-L4-Application",
	  "network_profile_ref":"/api/networkprofile?name='$4'","pool_ref":"/api/pool?name='$3'"}}'
}
# the idle timeout ends after the point: the connection idles from before it
IDLE=$((left + 8))
np='{"model_name":"NetworkProfile","data":{"name":"tcp-idle-clk","profile":{"type":"PROTOCOL_TYPE_TCP_PROXY",
  "tcp_proxy_profile":{"idle_connection_timeout":'$IDLE'}}}}'
if out=$(printf '[%s]' "$hm,$np,$(pool p-echo 198.18.1.2 8080),$(vs vs-idle 80 p-echo tcp-idle-clk),$(pool p-hm $HM_IP 8081 \
	'"health_monitor_refs":["/api/healthmonitor?name=hm-clk"]'),$(vs vs-hm 81 p-hm System-TCP-Proxy)" |
	"$SL_CTL" apply -f /dev/stdin 2>&1); then
	ok "L4 VSs, pools and a TCP health monitor applied"
else
	not_ok "L4 VSs, pools and a TCP health monitor applied" "$out"
fi

# the idle connection: one echoed line, then silence until the engine closes it
in_cli $PY - $VIP $((IDLE + 60)) >"$TMP/idle" 2>&1 <<'EOP' &
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=30)
s.sendall(b"hello\n")
assert s.makefile("rb").readline() == b"hello\n"
t0 = time.time()
s.settimeout(float(sys.argv[2]))
try:
    r = "closed" if not s.recv(10) else "data"
except socket.timeout:
    r = "still open"
except OSError as e:
    r = type(e).__name__
print(r, f"{time.time() - t0:.1f}")
EOP
IDLE_PID=$!

if until_s 30 hm_is 1; then ok "health monitor: $HM_IP up before the point"
else not_ok "health monitor: $HM_IP up before the point" "$(api GET /api/pool/p-hm/runtime)"; fi
if until_s 10 seen udp 0 2; then
	ok "ARP: $PROBE_IP resolved, probes reach it before the point ($(grep -c udp "$TMP/cap") so far)"
else
	not_ok "ARP: $PROBE_IP resolved, probes reach it before the point" "$(tail -5 "$TMP/cap")" \
		"$("$TELEMETRY" /sluice/stats | tr -d '\n ' | cut -c1-400)"
fi
us1=$(clk now_us) t1=$(date +%s%N)

if until_s $((left + 30)) past_wrap; then
	us2=$(clk now_us) t2=$(date +%s%N)
	# engine microseconds against the system's over the same span
	drift=$(( (us2 - us1) - (t2 - t1) / 1000 ))
	if [ "$us2" -gt "$us1" ] && [ "$us1" -gt "$us0" ] && [ "${drift#-}" -lt 1000000 ]; then
		ok "the clock goes on past $WRAP cycles: $us1 -> $us2 us (${drift} us from the system's time)"
	else
		not_ok "the clock goes on past $WRAP cycles" "now_us $us0, $us1 -> $us2; system $(( (t2 - t1) / 1000 )) us"
	fi
else
	not_ok "the clock reaches $WRAP cycles" "cycles $(clk cycles)"
fi
if out=$(clocks_match); then ok "after the point: $out"; else not_ok "after the point: wall and boot time match" "$out"; fi

# TCP: a fifth of the engine's frames to the client are dropped; every lost
# echo is sent again only by a retransmission timer (nothing follows it)
r0=$(tcpstat retrans_segs)
if out=$(in_cli timeout 150 $PY - $SL_SE_FE_IP 2>&1 <<'EOP'
import socket, sys
for i in range(30):
    s = socket.create_connection((sys.argv[1], 7), timeout=20)
    msg = b"clock %d\n" % i
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        d = s.recv(64)
        if not d:
            break
        got += d
    assert got == msg, (i, got)
    s.close()
EOP
); then
	r1=$(tcpstat retrans_segs)
	if [ "$r1" -gt "$r0" ]; then ok "TCP after the point: 30 echoes through 20 % loss, $((r1 - r0)) segments retransmitted"
	else not_ok "TCP after the point: retransmissions counted" "retrans_segs $r0 -> $r1"; fi
else
	not_ok "TCP after the point: 30 echoes through 20 % loss" "$out" "$("$TELEMETRY" /sluice/tcp | tr -d '\n ' | cut -c1-500)"
fi

# ARP: the probe target goes away; its entry (ttl 2 s) is re-confirmed by
# unicast requests, expires, is asked for by broadcast with retries, and the
# probes waiting on it are dropped; back, it is found again
exp0=$(tel arp_expired) unres0=$(tel drop_arp_unresolved)
t_del=$(date +%s.%N)
in_srv ip addr del $PROBE_IP/24 dev srv0
arp_gave_up() {
	local t_uni
	t_uni=$(awk -v t="$t_del" '$1 == "uni" && $2 > t { print $2; exit }' "$TMP/cap")
	[ -n "$t_uni" ] && seen bcast "$t_uni" 3 && [ "$(tel arp_expired)" -gt "$exp0" ] &&
		[ "$(tel drop_arp_unresolved)" -gt "$unres0" ]
}
if until_s 40 arp_gave_up; then
	ok "ARP after the point: $PROBE_IP gone: $(awk -v t="$t_del" '$2 > t' "$TMP/cap" | cut -d' ' -f1 | uniq -c | xargs) requests, expired, $(( $(tel drop_arp_unresolved) - unres0 )) probe(s) dropped unresolved"
else
	not_ok "ARP after the point: entry re-confirmed, expired, asked for again, unresolved probes dropped" \
		"after removal: $(awk -v t="$t_del" '$2 > t' "$TMP/cap" | cut -d' ' -f1 | uniq -c | xargs)" \
		"arp_expired $exp0 -> $(tel arp_expired), drop_arp_unresolved $unres0 -> $(tel drop_arp_unresolved)"
fi
t_add=$(date +%s.%N)
in_srv ip addr add $PROBE_IP/24 dev srv0
if until_s 20 seen udp "$t_add"; then ok "ARP after the point: $PROBE_IP back, resolved, probes reach it again"
else not_ok "ARP after the point: $PROBE_IP resolved again" "$(tail -5 "$TMP/cap")"; fi

# health monitor: the server stops, is marked down, starts, is marked up
kill "$HM_PID"
went_down=0
if until_s $((IV * FAILS + 20)) hm_is 0; then
	went_down=1
	ok "health monitor after the point: $HM_IP down once its server stops"
else
	not_ok "health monitor after the point: $HM_IP down" "$(api GET /api/pool/p-hm/runtime)"
fi
hm_server
# up again only counts after down: a monitor that stopped probing stays up
if [ $went_down = 1 ] && until_s $((IV * OKS + 20)) hm_is 1; then
	ok "health monitor after the point: $HM_IP up again once it listens"
else
	not_ok "health monitor after the point: $HM_IP down, then up again" "went down: $went_down" \
		"$(api GET /api/pool/p-hm/runtime)"
fi

# the idle connection: closed by the engine after its timeout, not before
wait $IDLE_PID
read -r res took <"$TMP/idle" || res=$(cat "$TMP/idle")
ic=$(api GET /api/virtualservice/vs-idle/runtime | $PY -c 'import json,sys; print(json.load(sys.stdin)["counters"]["l4"]["idle_closed"])')
if [ "$res" = closed ] && [ "${took%.*}" -ge $((IDLE - 2)) ] && [ "$ic" = 1 ]; then
	ok "L4 idle timeout ${IDLE} s set before the point fires after it (closed after ${took} s, idle_closed $ic)"
else
	not_ok "L4 idle timeout ${IDLE} s fires after the point" "client: $(cat "$TMP/idle")" "idle_closed $ic"
fi

check "engine stops on SIGTERM" engine_stop
it_done
