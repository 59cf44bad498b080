#!/usr/bin/env bash
# L2/L3 of the engine with real clients: ARP and ICMP echo on both ports,
# malformed frames dropped and counted under the right reason, for one
# worker and for two workers (software RSS hand-off between them).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VIP=198.18.0.10

port_mac() { # port name -> MAC from telemetry /sluice/ports
	"$TELEMETRY" /sluice/ports | $PY -c '
import json, sys
d = json.load(sys.stdin)
# keyed by port name; a list of ports with "name" fields is accepted too
p = d.get(sys.argv[1]) if isinstance(d, dict) else None
if p is None:
    p = next((x for x in (d.values() if isinstance(d, dict) else d)
              if isinstance(x, dict) and x.get("name") == sys.argv[1]), {})
print(p.get("mac", "").lower())' "$1"
}

# arping's answer must carry the MAC the engine reports for that port.
arping_mac() { # ns iface ip expected-mac
	local out
	out=$(ip netns exec "$1" arping -c 2 -w 4 -I "$2" "$3" 2>&1) || { echo "$out"; return 1; }
	grep -qi "from $4 " <<<"$out" || { echo "$out"; echo "expected replies from $4"; return 1; }
}

ping_loss_free() { # ns ip count
	local out
	out=$(ip netns exec "$1" ping -q -c "$3" -i 0.01 -W 2 "$2" 2>&1) || { echo "$out"; return 1; }
	grep -q ' 0% packet loss' <<<"$out" || { echo "$out"; return 1; }
}

vip_case() { # tag
	local tag=$1 body
	if ! body=$(api POST /api/virtualservice \
		"{\"name\":\"it-l2l3-vip\",\"vip\":[{\"vip_id\":\"0\",\"ip_address\":{\"addr\":\"$VIP\",\"type\":\"V4\"}}],\"services\":[{\"port\":53}]}" 2>&1); then
		not_ok "$tag: VS with VIP $VIP accepted by the control API" "$body"
		return
	fi
	ok "$tag: VS with VIP $VIP accepted by the control API"
	sleep 0.5
	check "$tag: ping VIP $VIP from sl-cli" in_cli ping -c 3 -i 0.2 -W 2 $VIP
	check "$tag: arping VIP $VIP from sl-cli answered by fe0's MAC" arping_mac $SL_NS_CLI cli0 $VIP "$FE_MAC"
	local uuid out
	uuid=$($PY -c 'import json,sys; print(json.loads(sys.argv[1]).get("uuid", ""))' "$body" 2>/dev/null)
	if out=$(api DELETE "/api/virtualservice/${uuid:-it-l2l3-vip}" 2>&1); then
		ok "$tag: VS deleted through the control API"
		sleep 0.5
		if in_cli ping -c 2 -i 0.2 -W 1 $VIP >/dev/null 2>&1; then
			not_ok "$tag: VIP $VIP no longer answers once its VS is deleted"
		else
			ok "$tag: VIP $VIP no longer answers once its VS is deleted"
		fi
	else
		not_ok "$tag: VS deleted through the control API" "$out"
	fi
}

run_config() { # workers [pmd]
	local n=$1 tag="w$1${2:+-$2}"
	if ! SL_WORKERS=$n SL_PMD=${2:-${SL_PMD:-}} engine_start; then
		# scripts/testbed printed the reason (and the log tail) on stderr
		not_ok "$tag: engine starts with $n worker(s)"
		return
	fi
	ok "$tag: engine starts with $n worker(s) ($(engine_pmd))"
	local fe_mac be_mac
	fe_mac=$(port_mac fe0)
	be_mac=$(port_mac be0)
	FE_MAC=$fe_mac
	if [ -n "$fe_mac" ] && [ -n "$be_mac" ]; then
		ok "$tag: telemetry /sluice/ports reports fe0 and be0"
	else
		not_ok "$tag: telemetry /sluice/ports reports fe0 and be0" "$("$TELEMETRY" /sluice/ports 2>&1)"
		fe_mac=$(in_se cat /sys/class/net/fe0/address)
		be_mac=$(in_se cat /sys/class/net/be0/address)
	fi

	check "$tag: ping 198.18.0.1 from sl-cli" in_cli ping -c 3 -i 0.2 -W 2 $SL_SE_FE_IP
	check "$tag: arping 198.18.0.1 from sl-cli answered by fe0's MAC" arping_mac $SL_NS_CLI cli0 $SL_SE_FE_IP "$fe_mac"
	check "$tag: ping 198.18.1.1 from sl-srv" in_srv ping -c 3 -i 0.2 -W 2 $SL_SE_BE_IP
	check "$tag: arping 198.18.1.1 from sl-srv answered by be0's MAC" arping_mac $SL_NS_SRV srv0 $SL_SE_BE_IP "$be_mac"
	check "$tag: 200 pings at 10 ms intervals, none lost" ping_loss_free $SL_NS_CLI $SL_SE_FE_IP 200
	check "$tag: ping with 1400-byte payload" in_cli ping -c 2 -i 0.2 -W 2 -s 1400 $SL_SE_FE_IP
	# Not for the engine: no reply, counted as ip_not_for_us by the injector below.
	if in_cli arping -c 2 -w 2 -I cli0 198.18.0.250 >/dev/null 2>&1; then
		not_ok "$tag: no ARP answer for an address the engine does not own (198.18.0.250)"
	else
		ok "$tag: no ARP answer for an address the engine does not own (198.18.0.250)"
	fi

	local out rc
	out=$(in_cli $PY "$IT_DIR/l2l3_inject.py" --iface cli0 --dst-mac "$fe_mac" --count 5 --tag "$tag" \
		--pmd "$(engine_pmd)" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^(ok|not ok) |^#' || true
	if ! grep -qE '^(ok|not ok) ' <<<"$out"; then
		not_ok "$tag: malformed-frame injector runs" "$out"
	else
		[ $rc -eq 0 ] || IT_FAILED=$((IT_FAILED + 1))
	fi
	check "$tag: ping still answered after the malformed frames" in_cli ping -c 3 -i 0.2 -W 2 $SL_SE_FE_IP

	if have_ctl; then
		vip_case "$tag"
	fi

	check "$tag: engine stops on SIGTERM" engine_stop
}

run_config 1
run_config 2
# af_xdp reads one veth queue (software RSS spreads flows to the workers);
# also run the af_packet PMD, whose qpairs give each worker its own queue.
if [ "$(engine_pmd)" != af_packet ] && [ -z "${SL_PMD:-}" ]; then
	run_config 2 af_packet
fi
it_done
