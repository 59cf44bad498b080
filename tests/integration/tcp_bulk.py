#!/usr/bin/python3
"""Bulk TCP through the engine's test endpoints, from a Linux client.

usage: tcp_bulk.py HOST echo|source|sink CONNS BYTES_PER_CONN [TIMEOUT_S]
  echo    each connection sends BYTES and reads them back; sha256 of what
          was sent and what came back must be equal (both directions)
  source  each connection reads BYTES of the engine's pattern (offset & 0xff)
  sink    each connection writes BYTES, then closes
Prints one JSON line: {"ok": bool, "conns": n, "bytes": total, "seconds": t,
"mbit_s": rate, "errors": [...]}; exit 0 iff ok.
"""
import hashlib
import json
import os
import socket
import sys
import threading
import time

HOST, MODE, CONNS, BYTES = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
TIMEOUT = float(sys.argv[5]) if len(sys.argv) > 5 else 120.0
PORT = int(os.environ.get("SL_BULK_PORT", "0")) or {"echo": 7, "sink": 9, "source": 19}[MODE]
errors = []
lock = threading.Lock()


def err(msg):
    with lock:
        errors.append(msg)


def echo(i):
    data = os.urandom(BYTES)
    want = hashlib.sha256(data).hexdigest()
    s = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    got = hashlib.sha256()
    n = 0

    def writer():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err(f"conn {i}: send: {e}")

    t = threading.Thread(target=writer)
    t.start()
    try:
        while n < BYTES:
            b = s.recv(262144)
            if not b:
                break
            got.update(b)
            n += len(b)
        tail = s.recv(1)  # the engine's FIN after our data
        if tail:
            err(f"conn {i}: extra bytes after the echo")
    except OSError as e:
        err(f"conn {i}: recv after {n} bytes: {e}")
    t.join()
    s.close()
    if n != BYTES or got.hexdigest() != want:
        err(f"conn {i}: echoed {n}/{BYTES} bytes, sha256 {'equal' if got.hexdigest() == want else 'differs'}")


def source(i):
    s = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    n = 0
    pattern = bytes(range(256)) * 2048
    try:
        while n < BYTES:
            b = s.recv(min(262144, BYTES - n))
            if not b:
                break
            off = n % 256  # recv returns at most 256 KiB, the pattern is 512 KiB
            if b != pattern[off:off + len(b)]:
                err(f"conn {i}: pattern mismatch at offset {n}")
                break
            n += len(b)
    except OSError as e:
        err(f"conn {i}: recv after {n} bytes: {e}")
    s.close()
    if n < BYTES:
        err(f"conn {i}: got {n}/{BYTES} bytes")


def sink(i):
    s = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    chunk = os.urandom(65536)
    left = BYTES
    try:
        while left:
            n = s.send(chunk[:min(left, len(chunk))])
            left -= n
        s.shutdown(socket.SHUT_WR)
        if s.recv(1):
            err(f"conn {i}: sink sent data")
    except OSError as e:
        err(f"conn {i}: after {BYTES - left} bytes: {e}")
    s.close()


fn = {"echo": echo, "source": source, "sink": sink}[MODE]
t0 = time.time()


def guarded(i):
    try:
        fn(i)
    except Exception as e:  # noqa: BLE001
        err(f"conn {i}: {e}")


threads = [threading.Thread(target=guarded, args=(i,)) for i in range(CONNS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
dt = time.time() - t0
total = CONNS * BYTES
print(json.dumps({"ok": not errors, "conns": CONNS, "bytes": total, "seconds": round(dt, 3),
                  "mbit_s": round(total * 8 / dt / 1e6, 1), "errors": errors[:10]}))
sys.exit(0 if not errors else 1)
