#!/usr/bin/python3
"""Raw DNS checks against the engine's DNS VS that dig cannot express.

usage: dns_probe.py VIP ZONE CASE...
Cases print "ok - ..." / "not ok - ..." lines (TAP-like, see lib.sh).
  malformed DIR HDR   send every mal-* message of the fuzz corpus; expected
                      outcome per message comes from HDR (dns_malformed.h);
                      a legit query must be answered after each one
  opcode              NOTIFY/STATUS opcodes get NOTIMP, question echoed
  qr                  a response (QR=1) is never answered
  case                mixed-case qname matched, echoed as sent
  compression         answer owner names are compressed pointers
"""
import os
import re
import socket
import struct
import sys

import dns.message
import dns.flags
import dns.opcode
import dns.rcode
import dns.rdatatype

VIP, ZONE = sys.argv[1], sys.argv[2]
FAILED = 0


def ok(name):
    print(f"ok - {name}")


def not_ok(name, why=""):
    global FAILED
    FAILED += 1
    print(f"not ok - {name}")
    for line in str(why).splitlines():
        print(f"#   {line}")


def send(raw, timeout=0.5):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(raw, (VIP, 53))
        return s.recv(65535)
    except socket.timeout:
        return None
    finally:
        s.close()


def legit_answered():
    q = dns.message.make_query(f"www.{ZONE}", "A")
    r = send(q.to_wire(), 1.0)
    return r is not None and dns.message.from_wire(r).rcode() == dns.rcode.NOERROR


def case_malformed(corpus, hdr):
    table = re.findall(r'M\("([^"]+)",.*?,\s*(MAL_[A-Z]+),\s*\w+\)', open(hdr).read())
    expect = {f"mal-{n}": o for n, o in table}
    files = sorted(f for f in os.listdir(corpus) if f.startswith("mal-"))
    if len(files) < 30:
        not_ok("malformed corpus has >= 30 messages", f"only {len(files)}")
        return
    rcode_of = {"MAL_FORMERR": 1, "MAL_NOTIMP": 4, "MAL_BADVERS": 16}
    bad = []
    for f in files:
        raw = open(os.path.join(corpus, f), "rb").read()
        out = expect.get(f)
        if out is None:
            bad.append(f"{f}: no expectation in {hdr}")
            continue
        r = send(raw)
        if out == "MAL_DROP":
            if r is not None:
                bad.append(f"{f}: expected no answer, got {len(r)} bytes")
        elif r is None:
            bad.append(f"{f}: expected {out}, got no answer")
        else:
            flags = struct.unpack("!H", r[2:4])[0]
            rc = flags & 0xF
            if out == "MAL_BADVERS":
                # extended rcode lives in the OPT record's TTL high byte
                try:
                    m = dns.message.from_wire(r)
                    rc = m.rcode()
                except Exception as e:  # noqa: BLE001
                    bad.append(f"{f}: BADVERS answer unparsable: {e}")
                    continue
            if not flags & 0x8000 or rc != rcode_of[out]:
                bad.append(f"{f}: expected rcode {rcode_of[out]}, got {rc} (flags {flags:#06x})")
        if not legit_answered():
            bad.append(f"{f}: legit query not answered right after it")
    if bad:
        not_ok(f"{len(files)} malformed messages: FORMERR/NOTIMP/BADVERS or drop as expected, "
               "legit queries answered throughout", "\n".join(bad[:20]))
    else:
        ok(f"{len(files)} malformed messages: FORMERR/NOTIMP/BADVERS or drop as expected, "
           "legit queries answered throughout")


def case_opcode():
    for op in (dns.opcode.NOTIFY, dns.opcode.STATUS):
        q = dns.message.make_query(f"www.{ZONE}", "A")
        q.set_opcode(op)
        r = send(q.to_wire(), 1.0)
        name = f"opcode {dns.opcode.to_text(op)} answered NOTIMP"
        if r is None:
            not_ok(name, "no answer")
            continue
        m = dns.message.from_wire(r)
        if m.rcode() == dns.rcode.NOTIMP and m.id == q.id:
            ok(name)
        else:
            not_ok(name, f"rcode {dns.rcode.to_text(m.rcode())}")


def case_qr():
    q = dns.message.make_query(f"www.{ZONE}", "A")
    q.flags |= dns.flags.QR
    r = send(q.to_wire(), 1.0)
    if r is None:
        ok("a message with QR=1 is never answered")
    else:
        not_ok("a message with QR=1 is never answered", f"got {len(r)} bytes")


def case_case():
    qname = "WwW." + ZONE.upper()
    q = dns.message.make_query(qname, "A")
    r = send(q.to_wire(), 1.0)
    if r is None:
        not_ok("mixed-case qname answered", "no answer")
        return
    m = dns.message.from_wire(r)
    echoed = m.question[0].name.to_text(omit_final_dot=True)
    if m.rcode() == dns.rcode.NOERROR and m.answer and echoed == qname:
        ok("mixed-case qname answered and echoed as sent")
    else:
        not_ok("mixed-case qname answered and echoed as sent", f"{dns.rcode.to_text(m.rcode())} {echoed}")


def case_compression():
    q = dns.message.make_query(f"www.{ZONE}", "A")
    r = send(q.to_wire(), 1.0)
    # question at 12; the answer owner name must be a pointer (0xC0 0x0C)
    qlen = len(q.to_wire()) - 12
    if r is not None and r[12 + qlen:12 + qlen + 2] == b"\xc0\x0c":
        ok("answer owner name compressed to the question")
    else:
        not_ok("answer owner name compressed to the question", repr(r))


cases = sys.argv[3:]
i = 0
while i < len(cases):
    c = cases[i]
    if c == "malformed":
        case_malformed(cases[i + 1], cases[i + 2])
        i += 3
        continue
    {"opcode": case_opcode, "qr": case_qr, "case": case_case, "compression": case_compression}[c]()
    i += 1
sys.exit(1 if FAILED else 0)
