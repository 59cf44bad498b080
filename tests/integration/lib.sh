# shellcheck shell=bash
# Helpers for integration test files (tests/integration/*.sh).
#
# A test file sources this, assumes the bed is up (tests/integration/run
# brings it up once), starts the engine it needs, and prints one line per
# case: "ok - name" or "not ok - name", diagnostics as "# ..." lines.
# Nothing else on stdout may start with "ok" or "not ok".

. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib.sh"

IT_DIR=$SL_ROOT/tests/integration
TESTBED=$SL_ROOT/scripts/testbed
TELEMETRY=$SL_ROOT/scripts/sl-telemetry
PY=/usr/bin/python3	# Debian's scapy/dnspython import only here
IT_FAILED=0

ok()     { echo "ok - $1"; }
not_ok() {
	echo "not ok - $1"
	IT_FAILED=$((IT_FAILED + 1))
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
diag()   { printf '%s\n' "$*" | sed 's/^/# /'; }

# check NAME CMD...: ok if CMD exits 0; otherwise not ok with its output.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		not_ok "$name" "\$ $*" "$(printf '%s\n' "$out" | tail -n 15)"
	fi
}

in_cli() { ip netns exec $SL_NS_CLI "$@"; }
in_se()  { ip netns exec $SL_NS_SE "$@"; }
in_srv() { ip netns exec $SL_NS_SRV "$@"; }

# engine_start [sluice args]: honours SL_WORKERS/SL_PMD; log tail on failure.
engine_start() { "$TESTBED" start-engine "$@" >&2; }
engine_stop()  { "$TESTBED" stop-engine >&2; }
engine_pmd()   { sed -n 's/^# written by scripts\/testbed start-engine (\(.*\))$/\1/p' "$SL_RUN_DIR/startup.conf" 2>/dev/null; }

# tel KEY [COMMAND]: one counter from DPDK telemetry (default /sluice/stats).
tel() { "$TELEMETRY" -k "$1" "${2:-/sluice/stats}"; }

have_ctl() { [ -x "$SL_CTL" ]; }
# api METHOD PATH [JSON]: the control socket via curl; prints body, fails on 4xx/5xx.
api() {
	local m=$1 p=$2
	shift 2
	curl -sS --fail-with-body --max-time 10 --unix-socket "$SL_CONTROL_SOCK" -X "$m" \
		-H 'Content-Type: application/json' ${1:+--data "$1"} "http://sluice$p"
}

# nginx_head DIR [WORKERS]: the start of an nginx.conf for a backend run
# from DIR (pid, logs and temp paths under DIR/ngx), up to "http {" and its
# access_log off; the caller writes the servers and the closing brace.
nginx_head() {
	mkdir -p "$1/ngx"
	cat <<EOC
daemon off;
user root;
worker_processes ${2:-1};
pid $1/ngx/nginx.pid;
error_log $1/ngx/error.log error;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $1/ngx/body;
	proxy_temp_path $1/ngx/proxy;
	fastcgi_temp_path $1/ngx/fcgi;
	uwsgi_temp_path $1/ngx/uwsgi;
	scgi_temp_path $1/ngx/scgi;
EOC
}

# Exit status of a test file: 0 if every case passed.
it_done() { [ "$IT_FAILED" -eq 0 ]; }
