#!/usr/bin/python3
"""Bulk TCP rate for scripts/bench tcp.

usage: tcp_stream.py send|recv HOST PORT SECONDS [STREAMS]
  send: write to HOST:PORT (a sink) as fast as possible
  recv: read from HOST:PORT (a source) as fast as possible
Prints "mbit_s R bytes B seconds S" summed over the streams. The first
second is not counted (slow start and connection set-up).
"""
import socket
import sys
import threading
import time

mode, host, port, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
streams = int(sys.argv[5]) if len(sys.argv) > 5 else 1
start = time.time() + 1.0
end = start + secs
counted = [0] * streams


def run(i):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF if mode == "send" else socket.SO_RCVBUF, 4 << 20)
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    while True:
        now = time.time()
        if now >= end:
            break
        n = s.send(view) if mode == "send" else s.recv_into(view)
        if not n:
            break
        if now >= start:
            counted[i] += n
    s.close()


ts = [threading.Thread(target=run, args=(i,)) for i in range(streams)]
for t in ts:
    t.start()
for t in ts:
    t.join()
total = sum(counted)
print(f"mbit_s {total * 8 / secs / 1e6:.0f} bytes {total} seconds {secs}")
