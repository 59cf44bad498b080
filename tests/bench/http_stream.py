#!/usr/bin/python3
"""Download throughput through an HTTP proxy path, for scripts/bench l4.

usage: http_stream.py HOST PORT PATH SECONDS [STREAMS]
Each stream sends one GET for PATH (a file larger than the run can move)
and reads the body until the run ends. The first second is not counted.
Prints "mbit_s R bytes B seconds S streams N".

The client should cost as little CPU as possible, since on the bed it
shares CPU 0 with the servers: one thread, epoll, and recv(MSG_TRUNC),
which makes Linux TCP drop the received bytes without copying them to
user space (tcp_recvmsg skips the copy for MSG_TRUNC).
"""
import selectors
import socket
import sys
import time

host, port, path, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
streams = int(sys.argv[5]) if len(sys.argv) > 5 else 1
CHUNK = 1 << 20
buf = bytearray(CHUNK)  # never read: MSG_TRUNC leaves it untouched

sel = selectors.EpollSelector()
socks = []
for _ in range(streams):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    # the head must be parsed, not discarded: a 200 and no early close
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(4096)
        if not d:
            sys.exit(f"{host}:{port}: closed before the response head")
        head += d
    if not head.startswith(b"HTTP/1.1 200"):
        sys.exit(f"{host}:{port}: {head.splitlines()[0].decode(errors='replace')}")
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    socks.append(s)

start = time.monotonic() + 1.0
end = start + secs
counted = 0
closed = 0
while True:
    now = time.monotonic()
    if now >= end:
        break
    for key, _ in sel.select(timeout=end - now):
        try:
            n = key.fileobj.recv_into(buf, CHUNK, socket.MSG_TRUNC)
        except BlockingIOError:
            continue
        if not n:
            sel.unregister(key.fileobj)
            closed += 1
            continue
        if now >= start:
            counted += n
for s in socks:
    s.close()
if closed:
    sys.exit(f"{closed} of {streams} streams ended early (file too small or a reset)")
print(f"mbit_s {counted * 8 / secs / 1e6:.0f} bytes {counted} seconds {secs:g} streams {streams}")
