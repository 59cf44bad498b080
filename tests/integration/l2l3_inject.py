#!/usr/bin/python3
"""Send malformed frames from the client namespace and check that the engine
counts each kind under its drop reason, exactly once per frame.

Run inside sl-cli (ip netns exec sl-cli l2l3_inject.py ...). The engine's
telemetry socket is a path, so it is reachable from any namespace.
Prints "ok - ..." / "not ok - ..." lines; exit status 1 if any failed.
"""
import argparse
import importlib.machinery
import importlib.util
import os
import struct
import sys
import time

from scapy.all import Ether, conf, get_if_hwaddr, sendp  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_telemetry():
    path = os.path.join(ROOT, "scripts", "sl-telemetry")
    loader = importlib.machinery.SourceFileLoader("sl_telemetry", path)
    spec = importlib.util.spec_from_loader("sl_telemetry", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ipv4(src, dst, payload, proto=1, ttl=64, ver=4, ihl=None, tot=None, frag=0,
         options=b"", bad_csum=False, ident=0x5151):
    ihl = ihl if ihl is not None else 5 + len(options) // 4
    tot = tot if tot is not None else 20 + len(options) + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", (ver << 4) | ihl, 0, tot, ident, frag, ttl, proto, 0,
                    ip4(src), ip4(dst)) + options
    c = csum(h)
    if bad_csum:
        c ^= 0x5A5A
    h = h[:10] + struct.pack("!H", c) + h[12:]
    return h + payload


def icmp_echo(seq=1, data=b"sluice-l2l3", bad_csum=False):
    m = struct.pack("!BBHHH", 8, 0, 0, 0x51, seq) + data
    c = csum(m)
    if bad_csum:
        c ^= 0x00FF
    return m[:2] + struct.pack("!H", c) + m[4:]


def udp(src, dst, sport, dport, data, bad_csum=False, ulen=None):
    ulen = ulen if ulen is not None else 8 + len(data)
    u = struct.pack("!HHHH", sport, dport, ulen, 0) + data
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, len(u))
    c = csum(pseudo + u) or 0xFFFF
    if bad_csum:
        c ^= 0x1111
    return u[:6] + struct.pack("!H", c) + u[8:]


def cases(a):
    """(kind, counter, frame bytes after the Ethernet addresses)."""
    S, D = a.src_ip, a.dst_ip
    ip = lambda body, **kw: b"\x08\x00" + ipv4(S, D, body, **kw)  # noqa: E731
    echo = icmp_echo()
    return [
        # Shorter than a VLAN header: the smallest runt a packet socket sends.
        ("runt", "eth_runt", b"\x81\x00\x00"),
        ("unknown_ethertype", "eth_unknown_type", b"\x88\xb5" + b"\0" * 46),
        ("bad_vlan_qinq", "eth_bad_vlan", b"\x88\xa8\x00\x05\x08\x00" + ipv4(S, D, echo)[:40]),
        ("arp_bad_hlen", "arp_malformed", b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 8, 4, 1) + b"\0" * 20),
        ("ip_truncated_header", "ip_truncated", b"\x08\x00" + ipv4(S, D, b"")[:12]),
        ("ip_bad_version", "ip_bad_version", ip(echo, ver=6)),
        ("ip_bad_ihl", "ip_bad_ihl", ip(echo, ihl=4)),
        ("ip_total_len_too_big", "ip_bad_total_len", ip(echo, tot=20 + len(echo) + 40)),
        ("ip_total_len_below_header", "ip_bad_total_len", ip(echo, tot=12)),
        ("ip_bad_checksum", "ip_bad_csum", ip(echo, bad_csum=True)),
        ("ip_ttl_0", "ip_ttl_expired", ip(echo, ttl=0)),
        ("ip_fragment_mf", "ip_frag", ip(echo, frag=0x2000)),
        ("ip_fragment_offset", "ip_frag", ip(echo, frag=0x0010)),
        # Record-route option claiming 10 bytes in a 4-byte option area.
        ("ip_option_overrun", "ip_bad_options", ip(echo, options=b"\x07\x0a\x04\x00")),
        ("ip_option_lsrr", "ip_bad_options", ip(echo, options=b"\x83\x07\x04" + ip4(S) + b"\x00")),
        ("ip_src_loopback", "ip_bad_src", b"\x08\x00" + ipv4("127.0.0.1", D, echo)),
        ("ip_not_for_us", "ip_not_for_us", b"\x08\x00" + ipv4(S, a.other_ip, echo)),
        ("icmp_bad_checksum", "icmp_bad_csum", ip(icmp_echo(bad_csum=True))),
        ("icmp_truncated", "icmp_truncated", ip(echo[:6])),
        ("udp_bad_checksum", "udp_bad_csum", ip(udp(S, D, 40000, 9, b"x" * 16, bad_csum=True), proto=17)),
        ("udp_length_too_big", "udp_truncated", ip(udp(S, D, 40000, 9, b"x" * 16, ulen=200), proto=17)),
        ("l4_unknown_protocol", "l4_unhandled", ip(b"\0" * 16, proto=253)),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", default="cli0")
    ap.add_argument("--dst-mac", required=True, help="engine port MAC")
    ap.add_argument("--src-ip", default="198.18.0.2")
    ap.add_argument("--dst-ip", default="198.18.0.1")
    ap.add_argument("--other-ip", default="198.18.0.250", help="an address nobody owns")
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--tag", default="")
    ap.add_argument("--only", help="comma-separated kinds")
    ap.add_argument("--telemetry-socket", default="/var/run/dpdk/%s/dpdk_telemetry.v2" % os.environ.get("SL_FILE_PREFIX", "sluice"))
    ap.add_argument("--pmd", default="", help="engine PMD; af_packet cannot see some kinds")
    a = ap.parse_args()

    tel = load_telemetry()
    conf.verb = 0
    src_mac = get_if_hwaddr(a.iface)
    hdr = bytes.fromhex(a.dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", ""))
    only = set(a.only.split(",")) if a.only else None
    prefix = (a.tag + ": ") if a.tag else ""

    def stats():
        return tel.query(a.telemetry_socket, ["/sluice/stats"])[0]

    # The kernel handles these before a packet socket sees them: it drops a
    # VLAN frame too short to untag, and DPDK's af_packet joins a fanout
    # group with PACKET_FANOUT_FLAG_DEFRAG, so fragments wait for
    # reassembly. AF_XDP gets them all; with af_packet they are left out.
    unseen = {"runt", "ip_fragment_mf", "ip_fragment_offset"} if a.pmd == "af_packet" else set()
    if unseen:
        print("# %snot sent with af_packet (the kernel consumes them first): %s"
              % (prefix, ", ".join(sorted(unseen))))
    failed = 0
    for kind, counter, body in cases(a):
        if (only and kind not in only) or kind in unseen:
            continue
        name = "%smalformed %s counted as drop_%s" % (prefix, kind, counter)
        key = "drop_" + counter
        try:
            before = stats()
        except OSError as e:
            print("not ok - %s\n#   telemetry: %s" % (name, e))
            failed += 1
            continue
        if key not in before:
            print("not ok - %s\n#   no counter %s in /sluice/stats" % (name, key))
            failed += 1
            continue
        frame = Ether(hdr + body)
        sendp([frame] * a.count, iface=a.iface)
        want = before[key] + a.count
        deadline = time.time() + 3
        after = stats()
        while after[key] < want and time.time() < deadline:
            time.sleep(0.05)
            after = stats()
        time.sleep(0.15)  # late duplicates would show up as over-counting
        after = stats()
        got = after[key] - before[key]
        # Other counters must not move for these frames (only rx totals may).
        moved = sorted(k for k in after if k.startswith("drop_") and k != key
                       and after[k] != before.get(k))
        if got == a.count and not moved:
            print("ok - %s" % name)
        else:
            failed += 1
            print("not ok - %s" % name)
            print("#   sent %d frames of %d bytes, %s rose by %d" % (a.count, len(hdr) + len(body), key, got))
            for k in moved:
                print("#   also %s: %d -> %d" % (k, before.get(k, 0), after[k]))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
