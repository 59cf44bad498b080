#!/usr/bin/env bash
# An engine restarted while its servers still hold its connections in
# TIME_WAIT: the TCP secret kept in the state dir and the boot-time clock
# make the new run's ISNs and timestamps continue the old run's, so Linux
# accepts SYNs on the same 4-tuples at once (RFC 6191) instead of answering
# with the old connection's ACK and costing a 1 s SYN retransmission.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VIP=198.18.0.61
N=30
TMP=$(mktemp -d)
SRV=
cleanup() {
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null
	pkill -f "dumpcap.*$TMP" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# The server writes a line and closes first, so it is the side in TIME_WAIT.
ip netns exec $SL_NS_SRV socat TCP-LISTEN:8084,bind=$SL_SRV_IP,reuseaddr,fork SYSTEM:"echo hi" >/dev/null 2>&1 &
SRV=$!
sleep 0.3

# round FILE: N sequential connections through the VS; one line per
# connection: milliseconds it took, "ok" if the line came back.
round() {
	local i t0 t1 got
	for i in $(seq $N); do
		t0=$(date +%s%N)
		got=$(in_cli timeout 5 socat -u TCP:$VIP:84 - 2>/dev/null)
		t1=$(date +%s%N)
		echo "$(((t1 - t0) / 1000000)) $([ "$got" = hi ] && echo ok || echo fail)"
	done >"$1"
}
tw_ports() { # engine source ports the server holds in TIME_WAIT
	in_srv ss -Htan state time-wait "( sport = :8084 )" | awk '{print $4}' | sed 's/.*://' | sort -u
}

if ! engine_start; then
	not_ok "engine starts"
	it_done
	exit
fi
printf '[{"model_name":"Pool","data":{"name":"p-rs","servers":[{"ip":{"addr":"%s","type":"V4"},"port":8084}]}},
{"model_name":"VirtualService","data":{"name":"vs-rs","vip":[{"vip_id":"0","ip_address":{"addr":"%s","type":"V4"}}],
"services":[{"port":84}],"application_profile_ref":"/api/applicationprofile?name=System-L4-Application",
"network_profile_ref":"/api/networkprofile?name=System-TCP-Proxy","pool_ref":"/api/pool?name=p-rs"}}]' \
	$SL_SRV_IP $VIP | "$SL_CTL" apply -f /dev/stdin >/dev/null
# Later in this run's life than the connections after the restart will be:
# a clock that restarted from zero would give them smaller ISNs and
# timestamps than these, which TIME_WAIT refuses.
sleep 3
round "$TMP/r1"
tw_ports >"$TMP/tw1"
secret=$(in_se stat -c '%a %s' "$SL_RUN_DIR/state/tcp-secret" 2>/dev/null || stat -c '%a %s' "$SL_RUN_DIR/state/tcp-secret" 2>/dev/null)
if [ "$(grep -c ' ok$' "$TMP/r1")" = $N ] && [ "$(wc -l <"$TMP/tw1")" -ge $N ]; then
	ok "first run: $N connections through the VS, the server holds $(wc -l <"$TMP/tw1") of them in TIME_WAIT"
else
	not_ok "first run: $N connections, server in TIME_WAIT" "$(sort "$TMP/r1" | uniq -c | head)" "TIME_WAIT: $(wc -l <"$TMP/tw1")"
fi
if [ "$secret" = "600 32" ]; then
	ok "TCP secret kept in the state dir (mode 600, 32 bytes)"
else
	not_ok "TCP secret kept in the state dir" "stat: '$secret'"
fi

engine_stop
if ! engine_start; then
	not_ok "engine restarts with the same state dir"
	it_done
	exit
fi
ok "engine restarts with the same state dir (the VS comes back from it)"
in_srv dumpcap -q -i srv0 -f "tcp[tcpflags] & tcp-syn != 0 and dst port 8084" -w "$TMP/syn.pcapng" >/dev/null 2>&1 &
sleep 0.5
round "$TMP/r2"
sleep 0.5
pkill -f "dumpcap.*$TMP" 2>/dev/null
sleep 0.3
tshark -r "$TMP/syn.pcapng" -T fields -e tcp.srcport 2>/dev/null | sort -u >"$TMP/syn2"
reused=$(comm -12 "$TMP/tw1" "$TMP/syn2" | wc -l)
slow=$(awk '$1 >= 500' "$TMP/r2" | wc -l)
good=$(grep -c ' ok$' "$TMP/r2")
syns=$(tshark -r "$TMP/syn.pcapng" 2>/dev/null | wc -l)
max=$(sort -n "$TMP/r2" | tail -1 | cut -d' ' -f1)
if [ "$reused" -ge 1 ] && [ "$good" = $N ] && [ "$slow" = 0 ] && [ "$syns" = $N ]; then
	ok "after the restart: $reused of $N connections reused a 4-tuple in the server's TIME_WAIT, all answered at once (slowest ${max} ms, $syns SYNs, none retransmitted)"
else
	not_ok "after the restart: 4-tuples in TIME_WAIT reused without delay" \
		"reused $reused, answered $good of $N, >= 500 ms: $slow, SYNs seen $syns (want $N), slowest ${max} ms"
fi
it_done
