#!/usr/bin/python3
"""HTTP/2 frame-level cases against the engine's h2c port (RFC 9113), with
Debian's python3-h2 stack (hyperframe for frames, hpack for header blocks).

usage: h2_cases.py VIP CASE   (CASE: one of CASES below, or "list")
Prints one line: "ok <detail>" when the engine answered as the RFC (or the
engine's documented limit) says, else "FAIL <detail>". Each case opens its
own connection; what the engine sent back is read until it closes the
connection or a quiet period passes (2 s, longer only makes a pass slower,
never a failure into a pass)."""
import socket
import sys

from hpack import Encoder
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame,
                              PriorityFrame, RstStreamFrame, SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, FRAME_SIZE_ERROR = 1, 2, 3, 5, 6
REFUSED_STREAM, ENHANCE_YOUR_CALM = 7, 11


class Conn:
    def __init__(self, vip, preface=PREFACE, settings=None):
        self.s = socket.create_connection((vip, 80), timeout=5)
        self.enc = Encoder()
        self.buf = b""
        self.closed = False
        self.frames = []
        if preface:
            sf = SettingsFrame(0)
            for k, v in (settings or {}).items():
                sf.settings[k] = v
            self.s.sendall(preface + sf.serialize())

    def send(self, *frames):
        try:
            self.s.sendall(b"".join(f.serialize() for f in frames))
        except OSError:
            self.closed = True

    def raw(self, b):
        try:
            self.s.sendall(b)
        except OSError:
            self.closed = True

    def block(self, path="/who", method="GET", extra=(), authority="h2.test"):
        hdrs = [(":method", method), (":scheme", "http"), (":path", path), (":authority", authority)]
        return self.enc.encode(hdrs + list(extra))

    def headers(self, sid, end_stream=True, **kw):
        f = HeadersFrame(sid)
        f.data = self.block(**kw)
        f.flags.add("END_HEADERS")
        if end_stream:
            f.flags.add("END_STREAM")
        return f

    def read(self, quiet=2.0, until=None):
        """Frames until the peer closes, until(frame) is true, or quiet s pass."""
        self.s.settimeout(quiet)
        while not self.closed:
            while len(self.buf) >= 9:
                f, n = Frame.parse_frame_header(memoryview(self.buf[:9]))
                if len(self.buf) < 9 + n:
                    break
                f.parse_body(memoryview(self.buf[9:9 + n]))
                self.buf = self.buf[9 + n:]
                self.frames.append(f)
                if isinstance(f, SettingsFrame) and "ACK" not in f.flags:
                    self.send(SettingsFrame(0, flags=["ACK"]))
                if until and until(f):
                    return self.frames
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                return self.frames
            except OSError:
                d = b""
            if not d:
                self.closed = True
            self.buf += d
        return self.frames

    def goaway(self):
        g = [f for f in self.frames if isinstance(f, GoAwayFrame)]
        return g[0].error_code if g else None

    def rst(self, sid):
        r = [f for f in self.frames if isinstance(f, RstStreamFrame) and f.stream_id == sid]
        return r[0].error_code if r else None

    def status(self, sid):
        from hpack import Decoder
        if not hasattr(self, "dec"):
            self.dec = Decoder()
        for f in self.frames:
            if isinstance(f, HeadersFrame) and f.stream_id == sid:
                return dict(self.dec.decode(f.data)).get(":status")
        return None


def expect_goaway(c, code, what):
    c.read(until=lambda f: isinstance(f, GoAwayFrame))
    got = c.goaway()
    if got == code:
        return "ok %s: GOAWAY %d" % (what, code)
    return "FAIL %s: want GOAWAY %d, got %r (frames %s, closed %s)" % (
        what, code, got, [type(f).__name__ for f in c.frames][:12], c.closed)


def expect_rst(c, sid, codes, what):
    c.read(until=lambda f: isinstance(f, (RstStreamFrame, GoAwayFrame)) and f.stream_id in (sid, 0))
    got = c.rst(sid)
    if got in codes:
        return "ok %s: RST_STREAM %d" % (what, got)
    return "FAIL %s: want RST_STREAM in %s, got %r (GOAWAY %r, frames %s)" % (
        what, codes, got, c.goaway(), [type(f).__name__ for f in c.frames][:12])


def case_good(vip):
    c = Conn(vip)
    c.send(c.headers(1))
    c.read(until=lambda f: isinstance(f, DataFrame) and "END_STREAM" in f.flags)
    st = c.status(1)
    return "ok a plain GET: :status %s" % st if st == "200" else "FAIL a plain GET: :status %r" % st


def case_bad_preface(vip):
    c = Conn(vip, preface=b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
    c.read(quiet=5)
    hdrs = [f for f in c.frames if isinstance(f, HeadersFrame)]
    if c.closed and not hdrs:
        return "ok a bad preface: the connection is closed (GOAWAY %r)" % c.goaway()
    return "FAIL a bad preface: closed %s, frames %s" % (c.closed, [type(f).__name__ for f in c.frames])


def case_even_stream(vip):
    c = Conn(vip)
    c.send(c.headers(2))
    return expect_goaway(c, PROTOCOL_ERROR, "HEADERS on an even (server) stream id")


def case_data_closed_stream(vip):
    c = Conn(vip)
    c.send(c.headers(1))
    c.read(until=lambda f: "END_STREAM" in getattr(f, "flags", ()) and f.stream_id == 1)
    d = DataFrame(1, data=b"late")
    c.send(d)
    c.read(until=lambda f: isinstance(f, (RstStreamFrame, GoAwayFrame)))
    code = c.goaway() if c.goaway() is not None else c.rst(1)
    if code == STREAM_CLOSED:
        return "ok DATA on a closed stream: STREAM_CLOSED"
    return "FAIL DATA on a closed stream: want STREAM_CLOSED, got %r" % code


def malformed(vip, fields, what):
    """One request whose header block is fields as given: RST_STREAM PROTOCOL_ERROR."""
    c = Conn(vip)
    f = HeadersFrame(1)
    f.data = c.enc.encode(fields)
    f.flags.add("END_HEADERS")
    f.flags.add("END_STREAM")
    c.send(f)
    return expect_rst(c, 1, (PROTOCOL_ERROR,), what)


BASE = [(":method", "GET"), (":scheme", "http"), (":path", "/who"), (":authority", "h2.test")]


def case_missing_path(vip):
    return malformed(vip, [h for h in BASE if h[0] != ":path"], "a request without :path")


def case_uppercase_name(vip):
    return malformed(vip, BASE + [("X-Upper", "1")], "an upper-case field name")


def case_connection_header(vip):
    return malformed(vip, BASE + [("connection", "keep-alive")], "a connection-specific field (Connection)")


def case_pseudo_after_regular(vip):
    return malformed(vip, BASE[:2] + [("x-a", "1")] + BASE[2:], "a pseudo-header after a regular field")


def case_oversized_frame(vip):
    c = Conn(vip)
    c.send(c.headers(1, end_stream=False, method="POST", path="/up"))
    # 16385 bytes: one over SETTINGS_MAX_FRAME_SIZE's default
    c.raw(b"\x00\x40\x01\x00\x00\x00\x00\x00\x01" + b"x" * 16385)
    return expect_goaway(c, FRAME_SIZE_ERROR, "a DATA frame over the maximum frame size")


def case_flow_control(vip):
    c = Conn(vip)
    # /hole's server never answers ARP: the proxy consumes nothing while it
    # connects, so the stream's 65535-byte window cannot have opened
    c.send(c.headers(1, end_stream=False, method="POST", path="/hole"))
    for _ in range(5):
        c.send(DataFrame(1, data=b"x" * 16384))
    c.read(until=lambda f: isinstance(f, (RstStreamFrame, GoAwayFrame)))
    code = c.rst(1) if c.rst(1) is not None else c.goaway()
    if code == FLOW_CONTROL_ERROR:
        return "ok DATA beyond the stream's window: FLOW_CONTROL_ERROR"
    return "FAIL DATA beyond the stream's window: want FLOW_CONTROL_ERROR, got %r" % code


def case_window_update_zero(vip):
    c = Conn(vip)
    c.send(WindowUpdateFrame(0, window_increment=0))
    return expect_goaway(c, PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection")


def case_content_length_mismatch(vip):
    c = Conn(vip)
    c.send(c.headers(1, end_stream=False, method="POST", path="/up", extra=[("content-length", "10")]))
    c.send(DataFrame(1, data=b"12345", flags=["END_STREAM"]))
    return expect_rst(c, 1, (PROTOCOL_ERROR,), "a body shorter than its content-length")


# ---- attacks: each must end the offender's connection (or stream), bounded
def case_rapid_reset(vip):
    c = Conn(vip)
    out = []
    for i in range(2000):
        sid = 1 + 2 * i
        out.append(c.headers(sid))
        out.append(RstStreamFrame(sid, error_code=8))
    c.send(*out)
    return expect_goaway(c, ENHANCE_YOUR_CALM, "rapid reset (2000 HEADERS + RST_STREAM)")


def case_continuation_flood(vip):
    c = Conn(vip)
    f = HeadersFrame(1)
    f.data = c.block()
    out = [f]
    for _ in range(2000):
        cf = ContinuationFrame(1)
        cf.data = c.enc.encode([("x-flood", "y" * 32)])
        out.append(cf)
    c.send(*out)
    c.read(quiet=5, until=lambda f: isinstance(f, GoAwayFrame))
    hdrs = [f for f in c.frames if isinstance(f, HeadersFrame)]
    if (c.goaway() is not None or c.closed) and not hdrs:
        return "ok CONTINUATION flood: connection ended (GOAWAY %r)" % c.goaway()
    return "FAIL CONTINUATION flood: GOAWAY %r closed %s" % (c.goaway(), c.closed)


def case_hpack_bomb(vip):
    c = Conn(vip)
    f = HeadersFrame(1)
    # one 4000-byte field in the dynamic table, then 200 one-byte references to it: 800 KB decoded
    f.data = c.block(extra=[("x-bomb", "a" * 4000)] * 200)
    f.flags.add("END_HEADERS")
    f.flags.add("END_STREAM")
    c.send(f)
    c.read(until=lambda f: isinstance(f, (RstStreamFrame, GoAwayFrame)))
    if c.rst(1) is not None or c.goaway() is not None:
        return "ok HPACK bomb (800 KB decoded from 5 KB): RST_STREAM %r GOAWAY %r" % (c.rst(1), c.goaway())
    return "FAIL HPACK bomb: :status %r" % c.status(1)


def flood(vip, mk, what):
    c = Conn(vip)
    c.send(*[mk(i) for i in range(5000)])
    return expect_goaway(c, ENHANCE_YOUR_CALM, what)


def case_ping_flood(vip):
    return flood(vip, lambda i: PingFrame(0, opaque_data=i.to_bytes(8, "big")), "PING flood (5000)")


def case_settings_flood(vip):
    return flood(vip, lambda i: SettingsFrame(0), "SETTINGS flood (5000)")


def case_priority_flood(vip):
    return flood(vip, lambda i: PriorityFrame(1 + 2 * (i % 50), depends_on=0, stream_weight=16),
                 "PRIORITY flood (5000)")


def case_window_update_flood(vip):
    return flood(vip, lambda i: WindowUpdateFrame(0, window_increment=1), "WINDOW_UPDATE flood (5000)")


def case_empty_data_flood(vip):
    c = Conn(vip)
    c.send(c.headers(1, end_stream=False, method="POST", path="/up"))
    c.send(*[DataFrame(1, data=b"") for _ in range(5000)])
    return expect_goaway(c, ENHANCE_YOUR_CALM, "empty DATA flood (5000)")


def case_zero_window(vip):
    # a client that opens no window holds one stream of a large response:
    # the engine keeps at most its stream budget of it and serves others
    c = Conn(vip, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0})
    c.send(c.headers(1, path="/big.bin"))
    c.read(quiet=2)
    got = sum(len(f.data) for f in c.frames if isinstance(f, DataFrame))
    c2 = Conn(vip)
    c2.send(c2.headers(1))
    c2.read(until=lambda f: isinstance(f, DataFrame) and "END_STREAM" in f.flags)
    if got == 0 and c2.status(1) == "200":
        return "ok zero-window client: no DATA sent to it, another client served"
    return "FAIL zero-window client: %d DATA bytes sent, other client :status %r" % (got, c2.status(1))


def drain(vip, tmp):
    """A stream held at the server while the VS is removed (h2.sh drives it)."""
    import os
    c = Conn(vip)
    c.send(c.headers(1, path="/up-hold"))
    c.read(quiet=30, until=lambda f: isinstance(f, GoAwayFrame))
    g = [f for f in c.frames if isinstance(f, GoAwayFrame)]
    open(os.path.join(tmp, "goaway"), "w").close()
    if not g:
        return "FAIL no GOAWAY after the VS was removed (closed %s)" % c.closed
    c.read(quiet=30, until=lambda f: isinstance(f, DataFrame) and "END_STREAM" in f.flags)
    c.read(quiet=10)
    st = c.status(1)
    if g[0].error_code == 0 and g[0].last_stream_id == 1 and st == "200" and c.closed:
        return "ok GOAWAY NO_ERROR last stream 1, the in-flight stream finished with 200, then the connection closed"
    return "FAIL GOAWAY code %d last %d, stream :status %r, closed %s" % (
        g[0].error_code, g[0].last_stream_id, st, c.closed)


def case_max_requests(vip):
    # the VS's http2_profile: 600 requests per connection, 100 concurrent streams
    c = Conn(vip)
    sid = 1
    for _ in range(7):
        batch = []
        for _ in range(100):
            batch.append(c.headers(sid))
            sid += 2
        c.send(*batch)
        want = (sid - 1) // 2   # every stream so far, answered
        c.read(quiet=10, until=lambda f: isinstance(f, GoAwayFrame) or sum(
            1 for x in c.frames if isinstance(x, DataFrame) and "END_STREAM" in x.flags) >= want)
        if c.goaway() is not None:
            break
    # the streams up to the GOAWAY's last one are still answered
    c.read(quiet=10, until=lambda f: sum(
        1 for x in c.frames if isinstance(x, DataFrame) and "END_STREAM" in x.flags) >= 600)
    g = [f for f in c.frames if isinstance(f, GoAwayFrame)]
    done = sum(1 for f in c.frames if isinstance(f, DataFrame) and "END_STREAM" in f.flags)
    if g and g[0].error_code == 0 and g[0].last_stream_id == 1199 and done >= 600:
        return "ok requests per connection (600): GOAWAY NO_ERROR last stream 1199, %d streams answered" % done
    return "FAIL requests per connection: GOAWAY %r, %d answered" % (
        (g[0].error_code, g[0].last_stream_id) if g else None, done)


CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}

if __name__ == "__main__":
    if sys.argv[2] == "list":
        print(" ".join(CASES))
    elif sys.argv[2] == "drain":
        print(drain(sys.argv[1], sys.argv[3]))
    else:
        try:
            print(CASES[sys.argv[2]](sys.argv[1]))
        except Exception as e:   # a crash of the client is a failure of the case, with its reason
            print("FAIL %s: client error %r" % (sys.argv[2], e))
