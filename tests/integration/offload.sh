#!/usr/bin/env bash
# Checksum offload on a port that offers it. AF_XDP and AF_PACKET offer
# none, so this file runs the engine on DPDK's tap PMD, which offers IPv4
# and TCP checksum offload in both directions, in a namespace of its own
# (sl<ID>-tap): the engine's port and a Linux client on the tap's kernel
# side. Checks that the engine hands checksums to the device when it can
# (and computes them itself with "csum-offload off"), that Linux accepts
# what it sends either way (sha256 of bulk echoes), and that a segment the
# device finds bad is still counted and dropped.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

NS=sl${SL_BED_ID}-tap
RUN=$SL_RUN_DIR/tap
PREFIX=${SL_FILE_PREFIX}tap
IP_SE=198.18.4.1
IP_CLI=198.18.4.2
TEL() { "$TELEMETRY" -f "$PREFIX" "$@"; }
ENGINE_PID=

stop() {
	[ -n "$ENGINE_PID" ] || return 0
	kill "$ENGINE_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$ENGINE_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$ENGINE_PID" 2>/dev/null
	wait "$ENGINE_PID" 2>/dev/null
	ENGINE_PID=
}
cleanup() { stop; ip netns del "$NS" 2>/dev/null; rm -rf "$RUN"; }
trap cleanup EXIT

start() { # on|off
	mkdir -p "$RUN"
	rm -f "$RUN/ready"
	printf 'port t0 dev net_tap0 role both ip %s/24 csum-offload %s\nidle backoff on\ntest tcp-echo 7\n' \
		"$IP_SE" "$1" >"$RUN/startup.conf"
	setsid ip netns exec "$NS" "$SL_ENGINE" -l 0,1 --no-pci --file-prefix "$PREFIX" --huge-unlink \
		--vdev net_tap0,iface=sltap0 -- -c "$RUN/startup.conf" -s "$RUN/control.sock" -d "$RUN/state" \
		--ready-file "$RUN/ready" </dev/null >>"$RUN/sluice.log" 2>&1 &
	ENGINE_PID=$!
	for _ in $(seq 300); do
		[ -e "$RUN/ready" ] && break
		kill -0 "$ENGINE_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	[ -e "$RUN/ready" ] || return 1
	ip -n "$NS" addr add "$IP_CLI/24" dev sltap0 &&
		ip -n "$NS" link set sltap0 up
}

ip netns del "$NS" 2>/dev/null
ip netns add "$NS" && ip -n "$NS" link set lo up

# A SYN to the echo port with its checksum off by one; the device (or the
# engine) must find it and the drop counter must move by exactly one.
bad_syn() {
	ip netns exec "$NS" $PY - "$IP_SE" <<'EOP' >/dev/null 2>&1
import sys
from scapy.all import IP, TCP, raw, send, conf
conf.verb = 0
p = IP(dst=sys.argv[1], src="198.18.4.2") / TCP(sport=40001, dport=7, flags="S", seq=1)
p = IP(raw(p))
p[TCP].chksum ^= 0x0101
send(p)
EOP
}

for mode in on off; do
	if ! start $mode; then
		not_ok "engine starts on the tap PMD (csum-offload $mode)" "$(tail -n 15 "$RUN/sluice.log")"
		stop
		continue
	fi
	want=$([ $mode = on ] && echo 1 || echo 0)
	rxo=$(TEL /sluice/ports | $PY -c 'import json,sys; print(json.load(sys.stdin)["t0"]["rx_csum_offload"])')
	txo=$(TEL /sluice/ports | $PY -c 'import json,sys; print(json.load(sys.stdin)["t0"]["tx_csum_offload"])')
	if [ "$txo" = "$want" ] && [ "$rxo" = "$want" ]; then
		ok "tap port: checksum offload tx=$txo rx=$rxo with csum-offload $mode"
	else
		not_ok "tap port: checksum offload tx and rx = $want with csum-offload $mode" "tx=$txo rx=$rxo"
	fi
	check "20 MB echoed over 4 connections with csum-offload $mode, sha256 equal" \
		ip netns exec "$NS" env SL_BULK_PORT=7 $PY "$IT_DIR/tcp_bulk.py" $IP_SE echo 4 5000000 60
	t=$(TEL -k tx_csum_offloaded /sluice/stats)
	r=$(TEL -k rx_csum_offloaded /sluice/stats)
	segs=$(TEL -k tcp_segs_in /sluice/stats)
	if [ $mode = on ]; then
		# every data segment sent and received went through the device
		if [ "$t" -gt 10000 ] && [ "$r" -ge $((segs * 9 / 10)) ]; then
			ok "offload on: $t segments checksummed by the device on TX, $r of $segs verified by it on RX"
		else
			not_ok "offload on: the device checksums TX and verifies RX" "tx $t, rx $r of $segs segments"
		fi
	else
		if [ "$t" -eq 0 ] && [ "$r" -eq 0 ] && [ "$segs" -gt 10000 ]; then
			ok "offload off: all $segs received and every sent checksum done in software"
		else
			not_ok "offload off: no checksum handed to the device" "tx $t, rx $r, segments $segs"
		fi
	fi
	d0=$(TEL -k drop_tcp_bad_csum /sluice/stats)
	bad_syn
	sleep 0.3
	d1=$(TEL -k drop_tcp_bad_csum /sluice/stats)
	if [ $((d1 - d0)) -eq 1 ]; then
		ok "a TCP segment with a bad checksum is dropped and counted (csum-offload $mode)"
	else
		not_ok "a TCP segment with a bad checksum is dropped and counted (csum-offload $mode)" "drop_tcp_bad_csum $d0 -> $d1"
	fi
	stop
done
it_done
