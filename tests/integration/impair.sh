#!/usr/bin/env bash
# The engine's seeded impairment hook (start-up "impair" lines), which later
# TCP tests rely on because this kernel has no tc netem: drop, duplicate,
# delay and reorder on a port, each visible to a real client and counted.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

# ping_stats COUNT [ping args] -> "received duplicates avg_rtt_ms"
ping_stats() {
	local n=$1 out
	shift
	out=$(in_cli ping -q -c "$n" -i 0.01 -W 1 "$@" $SL_SE_FE_IP 2>&1)
	$PY -c '
import re, sys
t = sys.argv[1]
rx = re.search(r"(\d+) received", t)
dup = re.search(r"\+(\d+) duplicates", t)
rtt = re.search(r"= [\d.]+/([\d.]+)/", t)
print(rx.group(1) if rx else 0, dup.group(1) if dup else 0, rtt.group(1) if rtt else 0)' "$out"
}

run() { # name startup-line check-function
	local name=$1 line=$2 fn=$3
	if ! SL_STARTUP_EXTRA="$line" engine_start; then
		not_ok "$name: engine starts with '$line'"
		return
	fi
	$fn "$name"
	engine_stop
}

drop_case() {
	local rx dup rtt d0 d1
	d0=$(tel drop_impair_drop)
	read -r rx dup rtt <<<"$(ping_stats 400)"
	d1=$(tel drop_impair_drop)
	local lost=$((400 - rx)) counted=$((d1 - d0))
	# p = 0.2 on the engine's RX: about 80 of 400 echo requests lost
	if [ "$lost" -ge 40 ] && [ "$lost" -le 130 ] && [ "$counted" -ge "$lost" ]; then
		ok "$1: 20% RX drop loses $lost/400 pings, $counted drops counted"
	else
		not_ok "$1: 20% RX drop loses 40..130 of 400 pings, each counted" "lost $lost, counted $counted"
	fi
}

dup_case() {
	local rx dup rtt c0 c1
	c0=$(tel impair_dup)
	read -r rx dup rtt <<<"$(ping_stats 400)"
	c1=$(tel impair_dup)
	if [ "$rx" -eq 400 ] && [ "$dup" -ge 40 ] && [ "$dup" -le 130 ] && [ $((c1 - c0)) -ge "$dup" ]; then
		ok "$1: 20% TX duplication: $dup duplicate echo replies, $((c1 - c0)) counted"
	else
		not_ok "$1: 20% TX duplication gives 40..130 duplicate replies, none lost" \
			"received $rx, duplicates $dup, counted $((c1 - c0))"
	fi
}

delay_case() {
	local rx dup rtt
	read -r rx dup rtt <<<"$(ping_stats 50 -i 0.05)"
	if [ "$rx" -eq 50 ] && $PY -c "import sys; sys.exit(0 if float('$rtt') >= 20.0 else 1)"; then
		ok "$1: every packet delayed 20 ms: average RTT $rtt ms, nothing lost"
	else
		not_ok "$1: every packet delayed 20 ms: average RTT >= 20 ms, nothing lost" "received $rx, avg rtt $rtt"
	fi
}

reorder_case() {
	local out
	out=$(in_cli $PY - $SL_SE_FE_IP <<'EOP'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
s.connect((sys.argv[1], 7))
got = []
for burst in range(20):
    for i in range(20):
        s.send(b"%d" % (burst * 20 + i))
    try:
        for i in range(20):
            got.append(int(s.recv(64)))
    except socket.timeout:
        pass
inv = sum(1 for a, b in zip(got, got[1:]) if b < a)
print(len(got), inv)
EOP
)
	local n inv c
	read -r n inv <<<"$out"
	c=$(tel impair_reorder)
	if [ "${n:-0}" -ge 395 ] && [ "${inv:-0}" -ge 10 ] && [ "$c" -ge "$inv" ]; then
		ok "$1: 20% reordering: $inv of $n echoes out of order, $c counted"
	else
		not_ok "$1: 20% reordering: >= 10 of 400 UDP echoes out of order, all delivered" "$out; counted $c"
	fi
}

run "drop" "impair fe0 rx seed 11 drop 0.2" drop_case
run "dup" "impair fe0 tx seed 12 dup 0.2" dup_case
run "delay" "impair fe0 tx seed 13 delay 1.0 delay-us 20000" delay_case
run "reorder" "$(printf 'test udp-echo 7\nimpair fe0 rx seed 14 reorder 0.2')" reorder_case
it_done
