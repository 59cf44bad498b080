# shellcheck shell=bash
# Shared helpers for scripts/*. Source it; it defines no side effects beyond
# variables and functions.

SL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SL_BUILD=${SL_BUILD:-build}
case $SL_BUILD in /*) SL_BUILD_DIR=$SL_BUILD ;; *) SL_BUILD_DIR=$SL_ROOT/$SL_BUILD ;; esac
# SL_BED_ID: run a second, independent bed next to the default one (its own
# namespaces, run dir and DPDK file prefix; same addresses, isolated by the
# namespaces). Empty = the default bed.
SL_BED_ID=${SL_BED_ID:-}
SL_RUN_DIR=${SL_RUN_DIR:-/run/sluice$SL_BED_ID}
export SL_FILE_PREFIX=sluice$SL_BED_ID
SL_ENGINE=$SL_BUILD_DIR/control/sluice
SL_CTL=$SL_BUILD_DIR/control/sluicectl
SL_CONTROL_SOCK=$SL_RUN_DIR/control.sock
export SLUICE_SOCK=$SL_CONTROL_SOCK   # sluicectl talks to this bed
SL_TELEMETRY_SOCK=/var/run/dpdk/$SL_FILE_PREFIX/dpdk_telemetry.v2

# Test bed (docs/testbed.md). Everything lives in 198.18.0.0/15.
SL_NS_CLI=sl$SL_BED_ID-cli
SL_NS_SE=sl$SL_BED_ID-se
SL_NS_SRV=sl$SL_BED_ID-srv
SL_CLI_IP=198.18.0.2
SL_SE_FE_IP=198.18.0.1
SL_SE_BE_IP=198.18.1.1
SL_SRV_IP=198.18.1.2
SL_VIP_FIRST=198.18.0.10

sl_log()  { printf '%s\n' "$*" >&2; }
sl_info() { printf '==> %s\n' "$*" >&2; }
sl_warn() { printf 'WARNING: %s\n' "$*" >&2; }
sl_die()  { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

sl_need_root() {
	[ "$(id -u)" -eq 0 ] || sl_die "$(basename "$0") must run as root (try: sudo $0 $*)"
}

# Map short names (cli, se, srv) to namespace names.
sl_ns() {
	case $1 in
	cli|sl-cli) echo $SL_NS_CLI ;;
	se|sl-se) echo $SL_NS_SE ;;
	srv|sl-srv) echo $SL_NS_SRV ;;
	*) return 1 ;;
	esac
}

sl_ns_exists() { [ -e "/run/netns/$1" ]; }

# True if pid is alive (and not a zombie).
sl_pid_alive() {
	[ -n "$1" ] && [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}
