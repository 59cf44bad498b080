#!/usr/bin/env bash
# L4 proxy at scale, one worker: 10,000 concurrent proxied connections, each
# echoing its own data through its own pair of connections while all are
# open; and 100 pool changes (ratios, servers added and removed, algorithm
# ROUND_ROBIN / LEAST_CONNECTIONS / CONSISTENT_HASH) pushed through the
# control socket while wrk opens a connection per request through the VS
# to nginx: no failed request, every change acknowledged.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VIP=198.18.0.61
N=${SL_L4_SCALE_N:-10000}
CHANGES=${SL_L4_SCALE_CHANGES:-100}
# Each proxied connection is two TCBs (client side, server side), and
# closed ones sit in TIME_WAIT (max_tw = max-conns): the default 8192 holds
# 4096 proxied connections, so this file starts the engine with more.
MAX_CONNS=${SL_L4_SCALE_MAX_CONNS:-32768}
SERVERS="198.18.1.2 198.18.1.3 198.18.1.4 198.18.1.5"
HOLD=$SL_ROOT/tests/bench/l4_hold.py
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	[ ${#PIDS[@]} -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((N + 1000)) ] || diag "open files limited to $(ulimit -n): client and server need $N each"
in_cli sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
in_srv sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=16384

# Backends: one epoll echo process on :9000 of every server address, nginx
# on :80 serving a small file.
# shellcheck disable=SC2086
in_srv $PY "$HOLD" server 9000 $SERVERS >"$TMP/echo.log" 2>&1 &
PIDS+=($!)
mkdir -p "$TMP/www" "$TMP/ngx"
printf 'sluice l4 scale\n' >"$TMP/www/small.html"
{ nginx_head "$TMP" 2; cat <<EOC
	server { listen 80 backlog=4096; root $TMP/www; }
}
EOC
} >"$TMP/nginx.conf"
in_srv nginx -c "$TMP/nginx.conf" >"$TMP/ngx/out.log" 2>&1 &
PIDS+=($!)
sleep 0.5

pool() { # name port algo "ip:ratio ..."
	local srv="" x
	for x in $4; do srv+="{\"ip\":{\"addr\":\"${x%:*}\",\"type\":\"V4\"},\"port\":$2,\"ratio\":${x#*:}},"; done
	echo "{\"model_name\":\"Pool\",\"data\":{\"name\":\"$1\",\"lb_algorithm\":\"LB_ALGORITHM_$3\",\"servers\":[${srv%,}]}}"
}
vs() { # name port pool
	echo "{\"model_name\":\"VirtualService\",\"data\":{\"name\":\"$1\",\"vip\":[{\"vip_id\":\"0\",\"ip_address\":{\"addr\":\"$VIP\",\"type\":\"V4\"}}],
	  \"services\":[{\"port\":$2}],\"application_profile_ref\":\"/api/applicationprofile?name=System-L4-Application\",
	  \"network_profile_ref\":\"/api/networkprofile?name=System-TCP-Proxy\",\"pool_ref\":\"/api/pool?name=$3\"}}"
}
apply() { printf '[%s]' "$(IFS=,; echo "$*")" | "$SL_CTL" apply -f /dev/stdin; }

if ! SL_STARTUP_EXTRA="tcp max-conns $MAX_CONNS" engine_start; then
	not_ok "engine starts with tcp max-conns $MAX_CONNS"
	it_done
	exit
fi
ok "engine starts with tcp max-conns $MAX_CONNS ($(engine_pmd))"
all=""
for ip in $SERVERS; do all+="$ip:1 "; done
if apply "$(pool p-hold 9000 ROUND_ROBIN "$all")" "$(vs vs-hold 90 p-hold)" \
	"$(pool p-web 80 ROUND_ROBIN "$all")" "$(vs vs-web 80 p-web)" >/dev/null; then
	ok "L4 VSs applied"
else
	not_ok "L4 VSs applied"
fi

# ---- N concurrent connections
: >"$TMP/hold.log"
in_cli $PY "$HOLD" client $VIP 90 "$N" 3 >"$TMP/hold.log" 2>&1 &
cl=$!
PIDS+=($cl)
peak=0
for _ in $(seq 600); do
	grep -q '^held' "$TMP/hold.log" && break
	sl_pid_alive $cl || break
	sleep 0.1
done
if grep -q '^held' "$TMP/hold.log"; then
	# sampled while the client holds them all open
	peak=$(tel active /sluice/tcp)
fi
wait $cl
rc=$?
sum=$(tail -n 1 "$TMP/hold.log")
if [ $rc -eq 0 ] && [ "$sum" = "opened $N echoed $N failed 0" ]; then
	ok "$N concurrent proxied connections: all open at once, each echoed its own line twice, closed ($(head -n 1 "$TMP/hold.log"))"
else
	not_ok "$N concurrent proxied connections, each echoed its own line twice" "$(cat "$TMP/hold.log")" \
		"$("$TELEMETRY" /sluice/tcp 2>&1 | tr -d '\n' | cut -c1-600)"
fi
if [ "$peak" -ge $((2 * N)) ]; then
	ok "engine held $peak connections (client and server sides) while they were open"
else
	not_ok "engine held 2 x $N connections while they were open" "active $peak"
fi
a=$(tel active /sluice/tcp)
for _ in $(seq 40); do [ "$a" -eq 0 ] && break; sleep 0.25; a=$(tel active /sluice/tcp); done
if [ "$a" -eq 0 ]; then ok "no connection left behind after the close"
else not_ok "no connection left behind after the close" "active $a"; fi

# ---- config changes under load
algo() { case $(($1 / 7 % 3)) in 0) echo ROUND_ROBIN ;; 1) echo LEAST_CONNECTIONS ;; 2) echo CONSISTENT_HASH ;; esac; }
change() { # i: 1..4 servers, ratios 1..5, one of three algorithms
	local i=$1 n=$(($1 % 4 + 1)) j=0 s="" ip
	for ip in $SERVERS; do
		j=$((j + 1))
		[ $j -le $n ] && s+="$ip:$(((i * j + j) % 5 + 1)) "
	done
	pool p-web 80 "$(algo "$i")" "$s"
}
# The load runs until the changes are done, however long they take on this
# machine: wrk's duration is only an upper bound; it is stopped with SIGINT
# (it then prints its totals) once the last change is acknowledged.
ip netns exec $SL_NS_CLI wrk -t1 -c32 -d$((CHANGES * 5 + 60))s -H "Connection: close" \
	"http://$VIP/small.html" >"$TMP/wrk.log" 2>&1 &
wl=$!
PIDS+=($wl)
acc0=$(tel proxy_accepted /sluice/tcp)
for _ in $(seq 100); do
	[ "$(tel proxy_accepted /sluice/tcp)" -gt $((acc0 + 100)) ] && break
	sl_pid_alive $wl || break
	sleep 0.1
done
acked=0 last=0 order=ok
for i in $(seq 1 "$CHANGES"); do
	if out=$(apply "$(change "$i")" 2>&1) && g=$(sed -n 's/^applied p-web .* generation \([0-9]*\)$/\1/p' <<<"$out") &&
		[ -n "$g" ]; then
		acked=$((acked + 1))
		[ "$g" -gt "$last" ] || order="generation $g after $last"
		last=$g
	else
		diag "change $i: $out"
	fi
	sleep 0.2
done
still=0
sl_pid_alive $wl && still=1 && kill -INT $wl
wait $wl
reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$TMP/wrk.log")
errs=$(grep -E 'Non-2xx|Socket errors' "$TMP/wrk.log")
if [ "$acked" -eq "$CHANGES" ] && [ "$order" = ok ]; then
	ok "$CHANGES pool changes (ratios, 1-4 servers, RR/LC/CH) acknowledged, generations increasing"
else
	not_ok "$CHANGES pool changes acknowledged" "acknowledged $acked, $order"
fi
if [ "$still" -eq 1 ] && [ -n "$reqs" ] && [ "$reqs" -gt 1000 ] && [ -z "$errs" ]; then
	ok "wrk through the VS during the changes: $reqs requests, one connection each, 0 non-2xx, 0 socket errors"
else
	not_ok "wrk through the VS during the changes: no failed request" "wrk ended early: $((1 - still))" "$(cat "$TMP/wrk.log")"
fi
final=$(api GET "/api/pool?name=p-web" | $PY -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("results", [d])[0] if isinstance(d, dict) else d[0]
print(d["lb_algorithm"], len(d["servers"]))' 2>&1)
want="LB_ALGORITHM_$(algo "$CHANGES") $((CHANGES % 4 + 1))"
if [ "$final" = "$want" ]; then ok "the engine's pool is the last change: $final"
else not_ok "the engine's pool is the last change" "got $final" "want $want"; fi
engine_stop
it_done
