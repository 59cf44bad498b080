#!/bin/bash
# Interop check of dataplane/tcp against the Linux kernel TCP, through a TUN
# device inside a private network namespace (198.18.0.0/15 only).
#   sudo tests/dataplane/tcp/tun_interop.sh BUILD_DIR [drop-probability]
# Kernel side: 198.18.200.2, sluice stack: 198.18.200.1 (echo 7, discard 9,
# source 19), and the stack connects out to a kernel sink on port 5001.
set -euo pipefail
BUILD=${1:-build}
DROP=${2:-0}
NS=sl-tcp-interop
TOOL=$BUILD/tests/dataplane/tcp/tcp_tun_interop
PY=/usr/bin/python3
[ -x "$TOOL" ] || { echo "build $TOOL first" >&2; exit 2; }
cleanup() {
	[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
	ip netns del $NS 2>/dev/null || true
}
trap cleanup EXIT
ip netns del $NS 2>/dev/null || true
ip netns add $NS
ip netns exec $NS ip link set lo up
OUT=$(mktemp)
ip netns exec $NS "$TOOL" sltun0 198.18.200.1 "$DROP" connect 198.18.200.2 5001 3000000 >"$OUT" 2>&1 &
PID=$!
for _ in $(seq 50); do ip netns exec $NS ip link show sltun0 >/dev/null 2>&1 && break; sleep 0.1; done
ip netns exec $NS ip addr add 198.18.200.2/24 dev sltun0
ip netns exec $NS ip link set sltun0 up
ip netns exec $NS $PY - <<'PYEOF'
import hashlib, os, socket, subprocess, threading, time

def echo(n):
    data = os.urandom(n)
    s = socket.create_connection(("198.18.200.1", 7), timeout=20)
    got = bytearray()
    def rd():
        while True:
            b = s.recv(65536)
            if not b:
                break
            got.extend(b)
    t = threading.Thread(target=rd)
    t.start()
    s.sendall(data)
    info = subprocess.run(["ss", "-tin", "dst", "198.18.200.1"], capture_output=True, text=True).stdout
    s.shutdown(socket.SHUT_WR)
    t.join(30)
    s.close()
    assert bytes(got) == data, f"echo mismatch: sent {len(data)} got {len(got)}"
    return info

def source():
    s = socket.create_connection(("198.18.200.1", 19), timeout=20)
    n = 0
    h = hashlib.sha256()
    while True:
        b = s.recv(65536)
        if not b:
            break
        h.update(b); n += len(b)
    s.close()
    want = hashlib.sha256((bytes(range(97, 123)) * (65536 // 26 + 1))[:65536] * 128).hexdigest()
    assert n == 8 << 20, f"source gave {n} bytes"
    assert h.hexdigest() == want, "source pattern mismatch"

def sink():
    ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("198.18.200.2", 5001)); ls.listen(1); ls.settimeout(20)
    c, _ = ls.accept()
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            break
        n += len(b)
    c.close(); ls.close()
    assert n == 3000000, f"sink got {n}"
    return n

res = {}
st = threading.Thread(target=lambda: res.__setitem__("sink", sink()))
st.start()
info = echo(1 << 20)
print("echo 1 MiB ok; kernel's view:", " ".join(l.strip() for l in info.splitlines()[1:3]))
for i in range(20):
    echo(1000 + i * 37)
print("20 short echoes ok")
source()
print("source 8 MiB ok")
st.join(30)
assert res.get("sink") == 3000000, "stack -> kernel transfer failed"
print("stack -> kernel 3 MB ok")
conns = [socket.create_connection(("198.18.200.1", 9), timeout=5) for _ in range(50)]
for c in conns:
    c.sendall(b"x" * 100); c.close()
print("50 discard connections ok")
PYEOF
sleep 1
kill -INT "$PID"; wait "$PID" || true; PID=
echo "--- stack counters"; cat "$OUT"
