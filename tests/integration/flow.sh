#!/usr/bin/env bash
# Flow ownership with two workers on one CPU: the port has one queue (AF_XDP
# on veth), so worker 0 receives everything and hands each UDP flow to the
# worker its symmetric 4-tuple hash names; the owner answers and, having no
# TX queue of its own, sends through worker 0. Every echo must come back.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

if ! SL_WORKERS=2 SL_STARTUP_EXTRA="test udp-echo 7" engine_start; then
	not_ok "engine starts with 2 workers"
	it_done
	exit
fi
ok "engine starts with 2 workers ($(engine_pmd))"
w() { "$TELEMETRY" -k "$2" "/sluice/stats,$1"; }
e0=$(w 0 udp_echo_replied) e1=$(w 1 udp_echo_replied)
out=$(in_cli $PY - $SL_SE_FE_IP <<'EOP'
import socket, sys
ok = 0
for port in range(40000, 40200):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(1.0)
    s.sendto(b"flow %d" % port, (sys.argv[1], 7))
    try:
        if s.recv(64) == b"flow %d" % port:
            ok += 1
    except socket.timeout:
        pass
    s.close()
print(ok)
EOP
)
a0=$(($(w 0 udp_echo_replied) - e0)) a1=$(($(w 1 udp_echo_replied) - e1))
if [ "$out" = 200 ]; then ok "200 UDP flows from distinct ports all echoed"
else not_ok "200 UDP flows from distinct ports all echoed" "echoed: $out"; fi
if [ "$a0" -ge 60 ] && [ "$a1" -ge 60 ] && [ $((a0 + a1)) -eq 200 ]; then
	ok "both workers own flows: worker 0 answered $a0, worker 1 answered $a1"
else
	not_ok "both workers own flows (each >= 60 of 200)" "worker 0: $a0, worker 1: $a1"
fi
h=$(w 0 handoff_out)
if [ "$h" -ge "$a1" ]; then ok "worker 0 handed off at least the $a1 flows worker 1 owns ($h hand-offs)"
else not_ok "worker 0 handed off worker 1's flows" "handoff_out $h < $a1"; fi
check "engine stops on SIGTERM" engine_stop

# Engine-originated traffic resolves its next hop: route, ARP request,
# pending queue, reply, flush (start-up "test udp-probe").
if SL_STARTUP_EXTRA="test udp-probe $SL_CLI_IP 9999" engine_start; then
	got=$(in_cli timeout 5 $PY -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9999)); s.settimeout(4)
print(s.recv(64).decode().strip())' 2>&1)
	req=$(tel arp_requests_sent)
	if [ "$got" = "sluice udp-probe" ] && [ "$req" -ge 1 ]; then
		ok "an engine-originated datagram reaches 198.18.0.2 after ARP resolution ($req request(s))"
	else
		not_ok "an engine-originated datagram reaches 198.18.0.2 after ARP resolution" "got: $got" "arp_requests_sent $req"
	fi
	engine_stop
else
	not_ok "engine starts with test udp-probe"
fi

# Neighbour aging: with "arp ttl-s 2" an entry past its lifetime is
# re-confirmed by unicast requests; a neighbour that changed its MAC without
# a gratuitous ARP stops answering at the old one, the entry expires, and a
# broadcast request finds the new MAC: the probes reach it again.
arp_aging() {
	local old new=02:00:5e:10:00:42 got rc=1
	old=$(in_srv cat /sys/class/net/srv0/address)
	in_srv timeout 30 $PY -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9998))
t0 = time.time()
while time.time() - t0 < 16:
    s.settimeout(max(0.1, 16 - (time.time() - t0)))
    try:
        s.recv(64)
    except socket.timeout:
        break
    print(f"{time.time() - t0:.1f}", flush=True)' >"$TMP/probes" 2>&1 &
	local rx=$!
	sleep 3
	in_srv ip link set srv0 address $new
	local exp0 exp1
	exp0=$(tel arp_expired)
	sleep 12
	exp1=$(tel arp_expired)
	wait $rx
	in_srv ip link set srv0 address "$old"
	# datagrams before the change, and again in the last seconds after it
	got=$(awk '$1 + 0 > 11' "$TMP/probes" | wc -l)
	echo "probes at: $(tr "\n" " " <"$TMP/probes")"
	echo "probes received: $(wc -l <"$TMP/probes"), after the MAC change settled: $got, arp_expired $exp0 -> $exp1"
	[ "$(awk '$1 + 0 > 0 && $1 + 0 < 3' "$TMP/probes" | wc -l)" -ge 1 ] && [ "$got" -ge 3 ] && [ "$exp1" -gt "$exp0" ] && rc=0
	return $rc
}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if SL_STARTUP_EXTRA=$(printf 'test udp-probe %s 9998\narp ttl-s 2' "$SL_SRV_IP") engine_start; then
	check "a neighbour that changes its MAC silently is found again once its ARP entry ages out" arp_aging
	engine_stop
else
	not_ok "engine starts with arp ttl-s 2"
fi
it_done
