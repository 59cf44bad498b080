"""Who-am-I TCP server for the L4 tests: on every connection to IP:PORT it
writes "IP\\n" and closes. One process, non-blocking, so a distribution check
of thousands of sequential connections is not paced by a fork per connection
(socat's fork + exec of sh served about 65 a second here).
Usage: who_server.py PORT IP [IP ...]"""
import selectors
import socket
import sys

port = int(sys.argv[1])
sel = selectors.DefaultSelector()
for ip in sys.argv[2:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port))
    s.listen(4096)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, (ip + "\n").encode())
while True:
    for key, _ in sel.select():
        while True:
            try:
                c, _ = key.fileobj.accept()
            except (BlockingIOError, InterruptedError):
                break
            try:
                c.sendall(key.data)
            except OSError:
                pass
            c.close()
