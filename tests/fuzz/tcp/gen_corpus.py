#!/usr/bin/env python3
"""Write the seed corpus for fuzz_tcp (see fuzz_tcp.c for the format)."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16


def opts(mss=None, ws=None, sackok=False, ts=None, sack=()):
    o = b''
    if mss is not None:
        o += struct.pack('!BBH', 2, 4, mss)
    if sackok:
        o += b'\x04\x02'
    if ts is not None:
        o += b'\x08\x0a' + struct.pack('!II', *ts)
    if ws is not None:
        o += b'\x01\x03\x03' + bytes([ws])
    if sack:
        o += b'\x01\x01\x05' + bytes([2 + 8 * len(sack)])
        for l, r in sack:
            o += struct.pack('!II', l, r)
    while len(o) % 4:
        o += b'\x00'
    return o


def hdr(flags, seq=0, ack=0, win=65535, o=b'', sport=40000, dport=80):
    doff = (20 + len(o)) // 4
    return struct.pack('!HHIIBBHHH', sport, dport, seq, ack, doff << 4, flags, win, 0, 0) + o


def rec(ctl, h, plen=0, ms=1):
    return bytes([ctl, len(h)]) + h + struct.pack('<H', plen) + bytes([ms])


def write(name, data):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)


os.makedirs(OUT, exist_ok=True)
full = opts(mss=1460, ws=7, sackok=True, ts=(100, 0))
write('parse_syn_full', b'\x00' + hdr(SYN, 1000, 0, o=full))
write('parse_data_ts_sack', b'\x00' + hdr(ACK, 5, 6, o=opts(ts=(1, 2), sack=((10, 20), (30, 40), (50, 60)))))
write('parse_bad_optlen', b'\x00' + hdr(SYN, o=b'\x02\x09\x05\xb4\x01\x01\x01\x01'))
write('parse_short', b'\x00' + hdr(ACK)[:19])
write('parse_eol', b'\x00' + hdr(ACK, o=b'\x00\x02\x04\x05'))

syn = rec(4, hdr(SYN, 1000, 0, o=full))
est = rec(5, hdr(ACK, 1001, 0, win=1000, o=opts(ts=(110, 0))))
write('drive_handshake', b'\x01' + syn + est)
write('drive_data', b'\x01' + syn + est + rec(5, hdr(ACK | PSH, 1001, 0, win=1000), plen=1000, ms=50)
      + rec(5 | 8, hdr(ACK, 2001, 0, win=1000), ms=250) + rec(5, hdr(ACK, 2001, 0, win=1000), ms=250))
write('drive_ooo_sack', b'\x01' + syn + est + rec(5, hdr(ACK, 3001, 0, win=1000), plen=500)
      + rec(5, hdr(ACK, 1001, 0, win=1000), plen=2000))
write('drive_fin_close', b'\x01' + syn + est + rec(5, hdr(ACK | FIN, 1001, 0, win=1000))
      + rec(4 | 32, hdr(ACK, 1002, 0, win=1000)) + rec(5, hdr(ACK, 1002, 0, win=1000), ms=200))
write('drive_rst', b'\x01' + syn + est + rec(4, hdr(RST, 1500, 0, win=0)) + rec(4, hdr(RST, 1001, 0, win=0)))
write('drive_zero_window', b'\x01' + syn + est + rec(5 | 8, hdr(ACK, 1001, 0, win=0), ms=255)
      + rec(64 | 4, hdr(ACK, 1001, 0, win=0), ms=30) + rec(5, hdr(ACK, 1001, 0, win=100)))
flood = b''.join(rec(0, hdr(SYN, 7 * i, 0, o=full, sport=1000 + i), ms=0) for i in range(6))
write('drive_cookies', b'\x01' + flood + rec(1, hdr(ACK, 7 * 5 + 1, 0, o=opts(ts=(111, 0)), sport=1005)))
write('drive_active_close_tw', b'\x01' + syn + est + rec(4 | 32, hdr(ACK, 1001, 0, win=1000))
      + rec(5, hdr(ACK | FIN, 1001, 0, win=1000)) + rec(4, hdr(SYN, 900000, 0, o=full), ms=255))
