#!/usr/bin/env bash
# Control-plane benchmark: the same apply workload against ctl_host (the
# control library alone, no DPDK) and against the real engine on the test bed
# while it answers a DNS VS at a fixed rate; the engine run also counts every
# packet lost during the applies (dnsperf, engine drop counters, port misses).
#
#   tests/bench/control_engine.sh            # defaults below
#   SL_BED_ID=2 tests/bench/control_engine.sh
# Env: CE_VS (10000), CE_ONE_BY_ONE (2000), CE_CHANGES (1000), CE_QPS (5000),
#      CE_TRAFFIC_CPU (0: dnsperf's CPUs), CE_SKIP_HOST=1 (engine only), plus scripts/testbed's (SL_BUILD, SL_PMD, SL_BED_ID).
# CPU plan (2 CPUs): engine worker on CPU 1; its control lcore, the API client,
# ctl_host and dnsperf on CPU 0.
# Exit status 1 if any packet was lost during an apply phase.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
sl_need_root

DIR=$SL_ROOT/tests/bench
PY=/usr/bin/python3
VS=${CE_VS:-10000}
OBO=${CE_ONE_BY_ONE:-2000}
CHANGES=${CE_CHANGES:-1000}
QPS=${CE_QPS:-5000}
VIP=198.18.0.54
ZONE=bench.example
TESTBED=$SL_ROOT/scripts/testbed
TMP=$(mktemp -d /tmp/sl-ce-bench.XXXXXX)
export SL_STATE_DIR=$TMP/state	# a fresh, private state dir on the same disk as ctl_host's
bed_was_up=1
cleanup() {
	"$TESTBED" stop-engine >/dev/null 2>&1 || true
	[ $bed_was_up = 1 ] || "$TESTBED" down >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "# machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), state dir on $(df --output=source,fstype /tmp | tail -1 | tr -s ' ')"
echo "# commit: $(git -C "$SL_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"

if [ "${CE_SKIP_HOST:-}" != 1 ]; then
	echo "== ctl_host (control library alone, CPU 0): tests/bench/control_apply.py --vs $VS --one-by-one $OBO --changes $CHANGES"
	taskset -c 0 $PY "$DIR/control_apply.py" --build "$SL_BUILD_DIR" --vs "$VS" --one-by-one "$OBO" --changes "$CHANGES"
fi

if ! "$TESTBED" status >/dev/null 2>&1; then
	bed_was_up=0
	"$TESTBED" up
fi
"$TESTBED" start-engine
curl -sS --fail-with-body --unix-socket "$SL_CONTROL_SOCK" -X POST -H 'Content-Type: application/json' \
	http://localhost/api/macro --data-binary @- >/dev/null <<EOJ
[{"model_name":"ApplicationProfile","data":{"name":"bench-dns","type":"APPLICATION_PROFILE_TYPE_DNS",
  "dns_service_profile":{"dns_zones":[{"domain_name":"$ZONE","name_server":"ns1.$ZONE","admin_email":"hostmaster.$ZONE"}]}}},
 {"model_name":"VirtualService","data":{"name":"bench-dns","vip":[{"ip_address":{"addr":"$VIP","type":"V4"}}],
  "services":[{"port":53}],"application_profile_ref":"/api/applicationprofile?name=bench-dns",
  "network_profile_ref":"/api/networkprofile?name=System-UDP-Fast-Path",
  "static_dns_records":[{"fqdn":["www.$ZONE"],"type":"DNS_RECORD_A","ip_address":[{"ip_address":{"addr":"198.18.2.7","type":"V4"}}],"ttl":300}]}}]
EOJ
a=$(ip netns exec "$SL_NS_CLI" dig +short +time=1 +tries=3 "@$VIP" "www.$ZONE" A)
[ "$a" = 198.18.2.7 ] || sl_die "DNS VS does not answer (got '$a')"

echo "== engine ($(sed -n 's/^# written by scripts\/testbed start-engine (\(.*\))$/\1/p' "$SL_RUN_DIR/startup.conf"), 1 worker on CPU 1, control lcore on CPU 0), DNS VS under dnsperf -Q $QPS from $SL_NS_CLI on CPU ${CE_TRAFFIC_CPU:-0}"
taskset -c 0 $PY "$DIR/control_engine.py" --sock "$SL_CONTROL_SOCK" --ns-cli "$SL_NS_CLI" --vip $VIP \
	--qname www.$ZONE --qps "$QPS" --traffic-cpu "${CE_TRAFFIC_CPU:-0}" --vs "$VS" --one-by-one "$OBO" --changes "$CHANGES"
