#!/usr/bin/env bash
# HTTP access logs, runtime counters and metrics of an HTTP VS on the bed
# (issue 12 item 5): curl in sl-cli through the VS to nginx in sl-srv. A 200
# and a 404 from nginx, a policy's local 403 and local 200, and a 503 (a rule
# switching to a pool whose only server is disabled) are each logged with
# their fields to <log-dir>/<vs>.http.jsonl while full_client_logs is on;
# with it off only the 4xx/5xx are; a throttle of 2 lines a second drops
# the rest of a burst and counts it; /api/virtualservice/<vs>/runtime and
# /metrics count exactly the requests sent; the metrics text parses and
# each histogram's +Inf bucket is its _count.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VIP=198.18.0.62
VS=it-http
LOGDIR=$SL_RUN_DIR/alog
LOG=$LOGDIR/$VS.http.jsonl
SRV=$SL_SRV_IP
SRV_PORT=8090
HOST=shop.example
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	[ ${#PIDS[@]} -gt 0 ] && kill "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# Backend: nginx on $SRV:$SRV_PORT with one file; anything else is its 404.
# Its pid, error log and temp paths go to $TMP, nothing outside it.
mkdir -p "$TMP/www" "$TMP/ngx"
printf 'sluice http logs\n' >"$TMP/www/index.html"
{
	echo "daemon off; user root; worker_processes 1; pid $TMP/ngx/nginx.pid; error_log $TMP/ngx/error.log error;"
	echo "events { worker_connections 1024; }"
	printf 'http { access_log off;'
	for t in client_body proxy fastcgi uwsgi scgi; do printf ' %s_temp_path %s;' $t "$TMP/ngx/$t"; done
	echo " server { listen $SRV:$SRV_PORT; root $TMP/www; } }"
} >"$TMP/nginx.conf"
in_srv nginx -c "$TMP/nginx.conf" >"$TMP/ngx/out.log" 2>&1 &
PIDS+=($!)
sleep 0.5

# logs ON|OFF THROTTLE: the VS with its pool, the disabled pool and the rules
config() {
	cat <<EOJ
[{"model_name":"Pool","data":{"name":"it-web","servers":[{"ip":{"addr":"$SRV","type":"V4"},"port":$SRV_PORT}]}},
 {"model_name":"Pool","data":{"name":"it-down","servers":[{"ip":{"addr":"198.18.1.3","type":"V4"},"port":$SRV_PORT,"enabled":false}]}},
 {"model_name":"HTTPPolicySet","data":{"name":"it-rules","http_request_policy":{"rules":[
   {"name":"deny","index":10,"enable":true,"match":{"path":{"match_criteria":"EQUALS","match_str":["/admin"]}},
    "switching_action":{"action":"HTTP_SWITCHING_SELECT_LOCAL","status_code":"HTTP_LOCAL_RESPONSE_STATUS_CODE_403"}},
   {"name":"ping","index":20,"enable":true,"match":{"path":{"match_criteria":"EQUALS","match_str":["/ping"]}},
    "switching_action":{"action":"HTTP_SWITCHING_SELECT_LOCAL","status_code":"HTTP_LOCAL_RESPONSE_STATUS_CODE_200"}},
   {"name":"nowhere","index":30,"enable":true,"match":{"path":{"match_criteria":"EQUALS","match_str":["/down"]}},
    "switching_action":{"action":"HTTP_SWITCHING_SELECT_POOL","pool_ref":"/api/pool?name=it-down"}}]}}},
 {"model_name":"VirtualService","data":{"name":"$VS",
   "vip":[{"vip_id":"0","ip_address":{"addr":"$VIP","type":"V4"}}],"services":[{"port":80}],
   "application_profile_ref":"/api/applicationprofile?name=System-HTTP",
   "network_profile_ref":"/api/networkprofile?name=System-TCP-Proxy",
   "pool_ref":"/api/pool?name=it-web",
   "http_policies":[{"index":1,"http_policy_set_ref":"/api/httppolicyset?name=it-rules"}],
   "analytics_policy":{"full_client_logs":{"enabled":$1,"throttle":$2}}}}]
EOJ
}
apply() { config "$1" "$2" | "$SL_CTL" apply -f /dev/stdin >/dev/null; }

# req PATH: one request on its own connection; prints "path code
# size_request size_header size_download client_port" (what the log must
# show), appended to $TMP/sent too; the body goes to $TMP/body<path>
req() {
	local out
	out=$(in_cli curl -sS -o "$TMP/body${1//\//_}" --max-time 5 -H "Host: $HOST" \
		-w '%{http_code} %{size_request} %{size_header} %{size_download} %{local_port}' "http://$VIP$1" 2>&1)
	echo "$1 $out" | tee -a "$TMP/sent"
}

lines() { [ -f "$LOG" ] && wc -l <"$LOG" || echo 0; }
# wait_lines N: the log has at least N lines (the main lcore drains every 20 ms)
wait_lines() {
	for _ in $(seq 50); do [ "$(lines)" -ge "$1" ] && return 0; sleep 0.1; done
	return 1
}
runtime() { api GET "/api/virtualservice/$VS/runtime"; }

# check_log FROM SENT_FILE MODE: the log's lines after line FROM against the
# requests in SENT_FILE; MODE all (every request) or significant (4xx/5xx)
check_log() {
	tail -n +"$(($1 + 1))" "$LOG" >"$TMP/new"
	$PY - "$TMP/new" "$2" "$3" "$VS" "$HOST" "$SL_CLI_IP" "$SRV" "$SRV_PORT" <<'EOP'
import datetime, json, sys
new_file, sent_file, mode, vs, host, cli, srv, srv_port = sys.argv[1:9]
srv_port = int(srv_port)
# what each path must give: status, error, rule, from a server, significant
want = {
    "/index.html": (200, None, None, True, False),
    "/missing": (404, None, None, True, True),
    "/admin": (403, "local_response", 10, False, True),
    "/ping": (200, "local_response", 20, False, False),
    "/down": (503, "no_server", 30, False, True),
}
sent = [l.split() for l in open(sent_file) if l.strip()]
logged = [json.loads(l) for l in open(new_file)]
errs = []
expect = [s for s in sent if mode == "all" or want[s[0]][4]]
if len(logged) != len(expect):
    errs.append(f"{len(logged)} lines, want {len(expect)} ({mode}): " +
                " ".join(r.get("uri", "?") for r in logged))
now = datetime.datetime.now(datetime.timezone.utc)
for s in expect:
    path, code, sreq, shdr, sdl, cport = s[0], int(s[1]), int(s[2]), int(s[3]), int(s[4]), int(s[5])
    st, err, rule, server, sig = want[path]
    m = [r for r in logged if r.get("uri") == path and r.get("client_port") == cport]
    if len(m) != 1:
        errs.append(f"{path} from port {cport}: {len(m)} lines")
        continue
    r = m[0]
    def bad(what):
        errs.append(f"{path}: {what}: {json.dumps(r)}")
    if code != st:
        bad(f"curl saw {code}, want {st}")
    ts = datetime.datetime.strptime(r["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    if abs((now - ts).total_seconds()) > 120 or not r["timestamp"].endswith("Z") or len(r["timestamp"]) != 27:
        bad("timestamp not ISO 8601 UTC with microseconds, or not now")
    for k, v in (("vs", vs), ("client_ip", cli), ("method", "GET"), ("host", host), ("status", st),
                 ("significant", sig)):
        if r.get(k) != v:
            bad(f"{k} {r.get(k)!r}, want {v!r}")
    if r.get("request_bytes") != sreq:
        bad(f"request_bytes {r.get('request_bytes')}, curl sent {sreq}")
    if r.get("response_bytes") != shdr + sdl:
        bad(f"response_bytes {r.get('response_bytes')}, curl got {shdr} + {sdl}")
    if r.get("error") != err:
        bad(f"error {r.get('error')!r}, want {err!r}")
    if r.get("rule") != rule:
        bad(f"rule {r.get('rule')!r}, want {rule!r}")
    for k in ("client_rtt", "total_time", "worker"):
        if not isinstance(r.get(k), int) or r[k] < 0:
            bad(f"{k} not a count")
    if server:
        if r.get("pool") != "it-web" or r.get("server_ip") != srv or r.get("server_port") != srv_port:
            bad("pool / server_ip / server_port")
        srt = r.get("server_response_time")
        if not isinstance(srt, int) or not 0 < srt <= r["total_time"]:
            bad("server_response_time not in (0, total_time]")
    else:
        for k in ("server_ip", "server_port", "server_response_time"):
            if k in r:
                bad(f"{k} present without a server")
for e in errs:
    print(e)
sys.exit(1 if errs else 0)
EOP
}

# ---- start
rm -rf "$LOGDIR"
if ! engine_start --log-dir "$LOGDIR"; then
	not_ok "engine starts"
	it_done
	exit
fi
ok "engine starts ($(engine_pmd))"
if out=$(apply true 0 2>&1); then
	ok "HTTP VS (System-HTTP), pools and policy set applied, full client logs on"
else
	not_ok "HTTP VS (System-HTTP), pools and policy set applied, full client logs on" "$out"
fi

# ---- full client logs: every request
: >"$TMP/sent"
out=""
for p in /index.html /missing /admin /ping /down; do out+="$(req $p)"$'\n'; done
if grep -q '^/index.html 200 ' <<<"$out" && grep -q '^/missing 404 ' <<<"$out" && grep -q '^/admin 403 ' <<<"$out" &&
	grep -q '^/ping 200 ' <<<"$out" && grep -q '^/down 503 ' <<<"$out" &&
	grep -qx 'sluice http logs' "$TMP/body_index.html"; then
	ok "200 and 404 from nginx, local 403 and 200, 503 without a server"
else
	not_ok "200 and 404 from nginx, local 403 and 200, 503 without a server" "$out"
fi
wait_lines 5
if r=$(check_log 0 "$TMP/sent" all 2>&1); then
	ok "full client logs: each of the 5 requests logged once with its fields (status, bytes, pool, server, times, rule, error, significant)"
else
	not_ok "full client logs: each of the 5 requests logged once with its fields" "$r" "$(cat "$LOG" 2>&1)"
fi

# ---- off: only the significant (4xx/5xx) ones
n0=$(lines)
if out=$(apply false 0 2>&1); then ok "full client logs turned off"
else not_ok "full client logs turned off" "$out"; fi
: >"$TMP/sent"
for p in /index.html /missing /admin /ping /down; do req $p >/dev/null; done
wait_lines $((n0 + 3))
sleep 0.3   # a fourth or fifth line would come in the same drain
if r=$(check_log "$n0" "$TMP/sent" significant 2>&1); then
	ok "full client logs off: only the 404, 403 and 503 logged, the two 200s not"
else
	not_ok "full client logs off: only the 404, 403 and 503 logged" "$r" "$(tail -n +"$((n0 + 1))" "$LOG" 2>&1)"
fi

# ---- counters: 10 requests so far, each on its own connection (2xx 4,
# 4xx 4, 5xx 2); nginx answered 4 of them, the engine 6; 5 + 3 lines logged
counters_ok() {
	runtime >"$TMP/rt" || return 1
	$PY - "$TMP/rt" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))["counters"]
h, a = d["http"], d["access_logs"]
want = {"requests": 10, "responses": {"1xx": 0, "2xx": 4, "3xx": 0, "4xx": 4, "5xx": 2},
        "local_responses": 6, "redirects": 0}
errs = [f"{k} {h.get(k)}, want {v}" for k, v in want.items() if h.get(k) != v]
e = h["errors"]
if e.get("no_server") != 2 or any(v for k, v in e.items() if k != "no_server"):
    errs.append(f"errors {e}")
if h["bytes_in"] <= 0 or h["bytes_out"] <= 0 or h["connections"] != 10:
    errs.append("bytes / connections")
if h["mean_total_time_us"] <= 0 or h["mean_server_time_us"] <= 0:
    errs.append("mean times")
sc = h["server_connections"]
# a retry (stale pooled connection) sends one request twice
if sc["new"] + sc["reused"] - h["retries"] != 4:
    errs.append(f"server connections {sc}, retries {h['retries']}: want 4 requests sent to nginx")
if (a["logged"], a["throttled"], a["ring_full"], a["not_written"]) != (8, 0, 0, 0):
    errs.append(f"access_logs {a}, want 8 logged")
print("; ".join(errs) or json.dumps(h))
sys.exit(1 if errs else 0)
EOP
}
if r=$(counters_ok 2>&1); then
	ok "runtime: http counters match the 10 requests (2xx 4, 4xx 4, 5xx 2, no_server 2, local 6), access_logs logged 8"
else
	not_ok "runtime: http counters match the 10 requests, access_logs logged 8" "$r" "$(runtime 2>&1)"
fi

# The whole /metrics text: every line a comment or a sample; the HTTP
# families grouped, typed once; their values those of the runtime; each
# histogram's buckets cumulative with +Inf equal to _count.
metrics_ok() {
	api GET /metrics >"$TMP/metrics" || return 1
	runtime >"$TMP/rt" || return 1
	$PY - "$TMP/metrics" "$TMP/rt" "$VS" <<'EOP'
import json, re, sys
text, rt, vs = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))["counters"]["http"], sys.argv[3]
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)$')
label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')
errs, samples, types, order = [], [], {}, []
for ln in text.splitlines():
    if ln.startswith("# HELP "):
        continue
    if ln.startswith("# TYPE "):
        _, _, name, typ = ln.split(" ", 3)
        if name in types:
            errs.append(f"second TYPE for {name}")
        types[name] = typ
        continue
    m = sample.match(ln)
    if not m:
        errs.append(f"not a sample: {ln!r}")
        continue
    try:
        v = float(m.group(4))
    except ValueError:
        errs.append(f"bad value: {ln!r}")
        continue
    samples.append((m.group(1), dict(label.findall(m.group(3) or "")), v))
def family(n):
    for suf in ("_bucket", "_sum", "_count"):
        if n.endswith(suf) and types.get(n[: -len(suf)]) == "histogram":
            return n[: -len(suf)]
    return n
seen, last = set(), None
for n, _, _ in samples:
    f = family(n)
    if not f.startswith("sluice_http_"):
        last = f
        continue
    if f != last and f in seen:
        errs.append(f"family {f} split by another")
    seen.add(f)
    last = f
    if f not in types:
        errs.append(f"{f} without TYPE")
def get(n, **lab):
    r = [v for sn, sl, v in samples if sn == n and sl.get("vs") == vs and all(sl.get(k) == x for k, x in lab.items())]
    if len(r) != 1:
        errs.append(f"{n}{lab}: {len(r)} samples")
        return -1
    return r[0]
if get("sluice_http_requests_total") != rt["requests"]:
    errs.append("requests_total != runtime requests")
for c in ("1xx", "2xx", "3xx", "4xx", "5xx"):
    if get("sluice_http_responses_total", **{"class": c}) != rt["responses"][c]:
        errs.append(f"responses_total {c} != runtime")
if get("sluice_http_bytes_total", dir="in") != rt["bytes_in"] or get("sluice_http_bytes_total", dir="out") != rt["bytes_out"]:
    errs.append("bytes_total != runtime")
if get("sluice_http_errors_total", kind="no_server") != rt["errors"]["no_server"]:
    errs.append("errors_total no_server != runtime")
done = sum(rt["responses"].values())
for h, want_count in (("sluice_http_request_duration_seconds", done), ("sluice_http_server_duration_seconds", 4)):
    if types.get(h) != "histogram":
        errs.append(f"{h} not typed histogram")
    b = [(sl["le"], v) for sn, sl, v in samples if sn == h + "_bucket" and sl.get("vs") == vs]
    les = [float(le) for le, _ in b]
    if not b or b[-1][0] != "+Inf" or les != sorted(les) or len(set(les)) != len(les):
        errs.append(f"{h}: buckets {b}")
    if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
        errs.append(f"{h}: buckets not cumulative {b}")
    cnt = get(h + "_count")
    if b and b[-1][1] != cnt:
        errs.append(f"{h}: +Inf {b[-1][1]} != _count {cnt}")
    if cnt != want_count:
        errs.append(f"{h}: _count {cnt}, want {want_count}")
    if not get(h + "_sum") > 0:
        errs.append(f"{h}: _sum not > 0")
print("; ".join(errs[:10]) or f"{len(samples)} samples parsed")
sys.exit(1 if errs else 0)
EOP
}
if r=$(metrics_ok 2>&1); then
	ok "/metrics parses; HTTP counters equal the runtime's; both histograms cumulative, +Inf = _count ($r)"
else
	not_ok "/metrics parses; HTTP counters equal the runtime's; histograms cumulative, +Inf = _count" "$r" \
		"$(grep sluice_http_ "$TMP/metrics" 2>&1 | head -40)"
fi

# ---- throttle: 2 lines a second for the VS, split over the workers
# (rounded up: 1 each with 2 workers), over a burst of 30 requests: each
# one is logged or counted as throttled, and no more are logged than the
# budget of the seconds the burst touched
a0=$(runtime | $PY -c 'import json,sys; a=json.load(sys.stdin)["counters"]["access_logs"]; print(a["logged"], a["throttled"])')
n0=$(lines)
if out=$(apply true 2 2>&1); then ok "full client logs on with throttle 2"
else not_ok "full client logs on with throttle 2" "$out"; fi
workers=$(api GET /api/status | $PY -c 'import json,sys; print(json.load(sys.stdin)["workers"])')
in_cli "$PY" - $VIP $HOST <<'EOP' >"$TMP/burst" 2>&1
import socket, sys, time
t0 = time.monotonic()
ok = 0
for i in range(30):
    s = socket.create_connection((sys.argv[1], 80), timeout=5)
    s.sendall(b"GET /index.html HTTP/1.1\r\nHost: " + sys.argv[2].encode() + b"\r\nConnection: close\r\n\r\n")
    d = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        d += c
    ok += d.startswith(b"HTTP/1.1 200 ")
    s.close()
print(ok, int(time.monotonic() - t0) + 1)
EOP
sleep 0.5
a1=$(runtime | $PY -c 'import json,sys; a=json.load(sys.stdin)["counters"]["access_logs"]; print(a["logged"], a["throttled"])')
read -r l0 t0 <<<"$a0"
read -r l1 t1 <<<"$a1"
read -r served secs <"$TMP/burst"
dl=$((l1 - l0)) dt=$((t1 - t0)) dn=$(($(lines) - n0))
# each worker logs at most ceil(2 / workers) in each second it saw (secs + 1 at most)
max=$((workers * ((2 + workers - 1) / workers) * (${secs:-0} + 1)))
if [ "${served:-0}" = 30 ] && [ $((dl + dt)) -eq 30 ] && [ "$dt" -gt 0 ] && [ "$dn" -eq "$dl" ] &&
	[ "$dl" -ge 1 ] && [ "$dl" -le "$max" ]; then
	ok "throttle 2/s: of a burst of 30 over ${secs}s, $dl logged (at most $max; as many lines written), $dt throttled"
else
	not_ok "throttle 2/s: a burst of 30 requests is logged + throttled = 30, logged <= budget, lines = logged" \
		"burst: $(cat "$TMP/burst") (workers $workers)" "logged +$dl (max $max), throttled +$dt, lines +$dn"
fi

it_done
