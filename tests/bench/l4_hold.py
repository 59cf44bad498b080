#!/usr/bin/python3
"""Many concurrent TCP connections through a proxy, each checked end to end.

usage: l4_hold.py server PORT IP...
         epoll echo server on IP:PORT for every IP; runs until killed
       l4_hold.py client HOST PORT N [HOLD_S] [IN_FLIGHT] [PATH]
         opens N connections to HOST:PORT (at most IN_FLIGHT connects
         pending, default 512), sends each its own line as soon as it is
         connected and checks the echo; when all N are open and echoed it
         prints "held N" and keeps them open HOLD_S seconds (default 2),
         then sends a second line on each, checks that echo too, and closes
         all. Last line: "opened A echoed B failed C" (exit 1 if C > 0).
         With PATH, HTTP keep-alive instead of lines: each round is a GET
         for PATH, checked as a whole 200 response with a Content-Length
         body and nothing after it (scripts/bench http's idle clients).

The echo proves each connection reached a server and came back over its
own pair of proxied connections: the line names the connection and carries
a random token, so a mix-up between connections fails too.
"""
import errno
import os
import re
import selectors
import socket
import sys
import time


def server(port, ips):
    sel = selectors.EpollSelector()
    for ip in ips:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((ip, port))
        ls.listen(4096)
        ls.setblocking(False)
        sel.register(ls, selectors.EVENT_READ, None)
    pending = {}
    while True:
        for key, ev in sel.select():
            s = key.fileobj
            if key.data is None:
                while True:
                    try:
                        c, _ = s.accept()
                    except BlockingIOError:
                        break
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ, "c")
                continue
            if ev & selectors.EVENT_READ:
                try:
                    d = s.recv(65536)
                except ConnectionError:
                    d = b""
                except BlockingIOError:
                    continue
                if not d:
                    sel.unregister(s)
                    pending.pop(s, None)
                    s.close()
                    continue
                pending[s] = pending.get(s, b"") + d
            out = pending.get(s)
            if out:
                try:
                    n = s.send(out)
                except BlockingIOError:
                    n = 0
                except ConnectionError:
                    sel.unregister(s)
                    pending.pop(s, None)
                    s.close()
                    continue
                out = out[n:]
                pending[s] = out
                sel.modify(s, selectors.EVENT_READ | (selectors.EVENT_WRITE if out else 0), "c")


class Conn:
    __slots__ = ("i", "s", "want", "got", "state", "round")


def answered(want, got, http):
    """None: more to come; "": the whole answer, right; else what is wrong"""
    if not http:
        if len(got) < len(want):
            return None
        return "" if got == want else "echo differs"
    head, sep, body = got.partition(b"\r\n\r\n")
    if not sep:
        return None
    if not head.startswith(b"HTTP/1.1 200 "):
        return "not a 200"
    m = re.search(rb"(?im)^content-length: *(\d+)\r?$", head)
    if not m:
        return "no content-length"
    if len(body) < int(m.group(1)):
        return None
    return "" if len(body) == int(m.group(1)) else "bytes after the response"


def client(host, port, n, hold, in_flight, path=None):
    token = os.urandom(6).hex()
    sel = selectors.EpollSelector()
    conns, todo = [], list(range(n))
    todo.reverse()
    connecting = opened = failed = 0
    errors = {}

    def fail(c, why):
        nonlocal failed
        failed += 1
        errors[why] = errors.get(why, 0) + 1
        c.state = "failed"
        try:
            sel.unregister(c.s)
        except (KeyError, ValueError):
            pass
        c.s.close()

    def send_line(c):
        c.want = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n" if path else
                  f"conn {c.i} round {c.round} {token}\n").encode()
        c.got = b""
        try:
            c.s.send(c.want)  # a few dozen bytes: fits any empty send buffer
        except OSError as e:
            fail(c, f"send: {errno.errorcode.get(e.errno, e)}")
            return
        c.state = "echo"
        sel.modify(c.s, selectors.EVENT_READ, c)

    def run_until(pred, deadline):
        nonlocal connecting, opened
        while not pred():
            if time.monotonic() > deadline:
                return False
            while todo and connecting < in_flight:
                c = Conn()
                c.i, c.round, c.state = todo.pop(), 0, "connect"
                c.s = socket.socket()
                c.s.setblocking(False)
                rc = c.s.connect_ex((host, port))
                if rc not in (0, errno.EINPROGRESS):
                    conns.append(c)
                    fail(c, f"connect: {errno.errorcode.get(rc, rc)}")
                    continue
                sel.register(c.s, selectors.EVENT_WRITE, c)
                conns.append(c)
                connecting += 1
            for key, _ in sel.select(timeout=0.5):
                c = key.data
                if c.state == "connect":
                    connecting -= 1
                    rc = c.s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if rc:
                        fail(c, f"connect: {errno.errorcode.get(rc, rc)}")
                        continue
                    opened += 1
                    send_line(c)
                elif c.state == "echo":
                    try:
                        d = c.s.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError as e:
                        fail(c, f"recv: {errno.errorcode.get(e.errno, e)}")
                        continue
                    if not d:
                        fail(c, "closed before the echo")
                        continue
                    c.got += d
                    why = answered(c.want, c.got, path)
                    if why is not None:
                        if why:
                            fail(c, why)
                            continue
                        c.state = "idle"
                        sel.modify(c.s, selectors.EVENT_READ, c)
                elif c.state == "idle":
                    # nothing may arrive on an idle connection, not even EOF
                    fail(c, "data or close while idle")
        return True

    t0 = time.monotonic()
    ok = run_until(lambda: not todo and connecting == 0 and
                   all(c.state in ("idle", "failed") for c in conns), t0 + 60)
    live = [c for c in conns if c.state == "idle"]
    print(f"held {len(live)} after {time.monotonic() - t0:.1f}s", flush=True)
    if ok:
        # keep watching while held: a reset or a stray byte counts as a failure
        t1 = time.monotonic() + hold
        run_until(lambda: time.monotonic() > t1, t1 + 1)
        for c in conns:
            if c.state == "idle":
                c.round = 1
                send_line(c)
        run_until(lambda: all(c.state in ("idle", "failed") for c in conns), time.monotonic() + 30)
    echoed = sum(1 for c in conns if c.state == "idle" and c.round == 1)
    for c in conns:
        if c.state != "failed":
            if c.state != "idle" or c.round != 1:
                fail(c, f"no echo (state {c.state})")
            else:
                sel.unregister(c.s)
                c.s.close()
    for why, k in sorted(errors.items()):
        print(f"  {k} x {why}")
    print(f"opened {opened} echoed {echoed} failed {failed + len(todo)}")
    return 1 if failed or todo or opened != n else 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "server":
        server(int(sys.argv[2]), sys.argv[3:])
    elif len(sys.argv) >= 5 and sys.argv[1] == "client":
        sys.exit(client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                        float(sys.argv[5]) if len(sys.argv) > 5 else 2.0,
                        int(sys.argv[6]) if len(sys.argv) > 6 else 512,
                        sys.argv[7] if len(sys.argv) > 7 else None))
    else:
        sys.exit(__doc__)
