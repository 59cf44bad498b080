#!/usr/bin/python3
"""Write the seed corpus of fuzz_net: small Ethernet frames, good and bad.

Run with Debian's python (scapy is a Debian package):
    /usr/bin/python3 tests/fuzz/net/make_corpus.py
Output: tests/fuzz/net/corpus/<name>.bin (committed). Deterministic: the same
frames every run. Addresses are from 198.18.0.0/15 only.
"""
import os
import struct
import sys
from socket import inet_aton

from scapy.all import (ARP, DNS, DNSQR, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q,
                       Ether, IPOption_NOP, IPOption_RR, IPOption_Router_Alert,
                       Raw, raw)
from scapy.utils import checksum

CLI_MAC = "02:00:00:00:00:02"
SE_MAC = "02:00:00:00:00:01"
BCAST = "ff:ff:ff:ff:ff:ff"
CLI = "198.18.0.2"
SE = "198.18.0.1"
VIP = "198.18.0.10"
SRV = "198.18.1.2"


def eth(vlan=None, dst=SE_MAC):
    e = Ether(src=CLI_MAC, dst=dst)
    return e / Dot1Q(vlan=vlan) if vlan is not None else e


def ip(**kw):
    kw.setdefault("src", CLI)
    kw.setdefault("dst", SE)
    return IP(**kw)


def patch(frame, off, data):
    b = bytearray(frame)
    b[off:off + len(data)] = data
    return bytes(b)


def udp_len_short():
    """UDP length 10 inside a longer IP payload: the checksum covers only the
    10 bytes the length field claims (RFC 768; scapy would sum them all)."""
    pkt = eth() / ip() / UDP(sport=5000, dport=7, len=10, chksum=0) / Raw(b"abcdefgh")
    b = bytearray(raw(pkt))
    ulen = 10
    pseudo = inet_aton(CLI) + inet_aton(SE) + struct.pack("!BBH", 0, 17, ulen)
    c = checksum(pseudo + bytes(b[34:34 + ulen])) or 0xffff
    b[40:42] = struct.pack("!H", c)
    return bytes(b)


def frames():
    dnsq = DNS(id=0x1234, rd=1, qd=DNSQR(qname="www.example.test", qtype="A"))
    f = {}
    # --- good frames
    f["udp_dns_query"] = eth() / ip(dst=VIP) / UDP(sport=40000, dport=53) / dnsq
    f["udp_dns_query_vlan"] = eth(100) / ip(dst=VIP) / UDP(sport=40001, dport=53) / dnsq
    f["udp_echo_small"] = eth() / ip() / UDP(sport=5000, dport=7) / Raw(b"hello")
    f["udp_empty"] = eth() / ip() / UDP(sport=5000, dport=7)
    f["udp_zero_csum"] = eth() / ip() / UDP(sport=5000, dport=7, chksum=0) / Raw(b"nocsum")
    f["udp_padded"] = eth() / ip() / UDP(sport=5000, dport=7) / Raw(b"x") / Raw(b"\x00" * 20)
    f["udp_len_short"] = udp_len_short()
    f["icmp_echo"] = eth() / ip() / ICMP(type=8, id=1, seq=1) / Raw(bytes(range(56)))
    f["icmp_echo_vlan_prio"] = eth(0) / ip() / ICMP(type=8, id=2, seq=7) / Raw(b"abc")
    f["icmp_echo_opts"] = (eth() / ip(options=[IPOption_NOP(), IPOption_RR(routers=["0.0.0.0"])])
                           / ICMP(type=8) / Raw(b"rr"))
    f["udp_router_alert"] = (eth() / ip(options=[IPOption_Router_Alert()])
                             / UDP(sport=1, dport=53) / dnsq)
    f["icmp_echo_padded"] = eth() / ip() / ICMP(type=8) / Raw(b"\xab" * 18)
    f["arp_request"] = eth(dst=BCAST) / ARP(op=1, hwsrc=CLI_MAC, psrc=CLI, pdst=SE)
    f["arp_request_vip_vlan"] = eth(7, dst=BCAST) / ARP(op=1, hwsrc=CLI_MAC, psrc=CLI, pdst=VIP)
    f["arp_reply"] = eth() / ARP(op=2, hwsrc=CLI_MAC, psrc=CLI, hwdst=SE_MAC, pdst=SE)
    f["arp_gratuitous"] = eth(dst=BCAST) / ARP(op=1, hwsrc=CLI_MAC, psrc=CLI, pdst=CLI)
    f["arp_probe"] = eth(dst=BCAST) / ARP(op=1, hwsrc=CLI_MAC, psrc="0.0.0.0", pdst=SE)
    f["tcp_syn"] = eth() / ip(dst=VIP) / TCP(sport=40000, dport=80, flags="S")
    f["udp_backend"] = eth() / ip(src=SRV, dst="198.18.1.1") / UDP(sport=53, dport=33000) / dnsq
    # --- Ethernet
    f["runt_13"] = raw(eth())[:13]
    f["runt_vlan_16"] = raw(eth(5) / ip())[:16]
    f["qinq"] = Ether(src=CLI_MAC, dst=SE_MAC) / Dot1AD(vlan=10) / Dot1Q(vlan=20) / ip() / ICMP()
    f["qinq_8100_8100"] = eth(10) / Dot1Q(vlan=20) / ip() / ICMP()
    f["vlan_4095"] = eth(4095) / ip() / ICMP()
    f["ipv6_type"] = patch(raw(eth() / ip() / UDP()), 12, b"\x86\xdd")
    f["llc_length"] = patch(raw(eth() / ip() / ICMP()), 12, b"\x00\x40")
    # --- ARP
    f["arp_htype6"] = eth(dst=BCAST) / ARP(hwtype=6, op=1, psrc=CLI, pdst=SE)
    f["arp_op3"] = eth(dst=BCAST) / ARP(op=3, psrc=CLI, pdst=SE)
    f["arp_truncated"] = raw(eth(dst=BCAST) / ARP(op=1, psrc=CLI, pdst=SE))[:40]
    f["arp_sha_bcast"] = eth(dst=BCAST) / ARP(op=1, hwsrc=BCAST, psrc=CLI, pdst=SE)
    # --- IPv4
    good = raw(eth() / ip() / UDP(sport=5000, dport=7) / Raw(b"payload!"))
    f["ip_truncated"] = good[:14 + 12]
    f["ip_version6"] = patch(good, 14, b"\x65")
    f["ip_ihl4"] = patch(good, 14, b"\x44")
    f["ip_ihl15"] = patch(good, 14, b"\x4f")
    f["ip_total_big"] = raw(eth() / ip(len=1500) / UDP() / Raw(b"x"))
    f["ip_total_small"] = raw(eth() / ip(len=12) / UDP())
    f["ip_bad_csum"] = eth() / ip(chksum=0x1234) / UDP(sport=1, dport=2)
    f["ip_ttl0"] = eth() / ip(ttl=0) / ICMP()
    f["ip_opt_badlen"] = eth() / ip(options=[Raw(b"\x07\x00\x00\x00")]) / ICMP()
    f["ip_opt_lsrr"] = eth() / ip(options=[Raw(b"\x83\x07\x04\x00\x00\x00\x00\x00")]) / ICMP()
    f["ip_src_zero"] = eth() / ip(src="0.0.0.0") / UDP()
    f["ip_src_bcast"] = eth() / ip(src="255.255.255.255") / UDP()
    f["ip_src_mcast"] = eth() / ip(src="224.0.0.5") / UDP()
    f["ip_src_loop"] = eth() / ip(src="127.0.0.1") / UDP()
    f["ip_src_classe"] = eth() / ip(src="240.0.0.1") / UDP()
    f["ip_dst_loop_echo"] = eth() / ip(dst="127.0.0.1") / ICMP(type=8)
    f["ip_frag_mf"] = eth() / ip(flags="MF", id=9) / UDP() / Raw(b"a" * 16)
    f["ip_frag_off"] = eth() / ip(frag=3, id=9) / Raw(b"b" * 16)
    f["ip_gre"] = eth() / ip(proto=47) / Raw(b"\x00" * 8)
    # --- ICMP / UDP
    f["icmp_truncated"] = eth() / ip(len=24, proto=1) / Raw(b"\x08\x00\xf7\xff")
    f["icmp_bad_csum"] = eth() / ip() / ICMP(type=8, chksum=0xdead) / Raw(b"xx")
    f["icmp_unreach"] = eth() / ip() / ICMP(type=3, code=3) / Raw(b"\x00" * 28)
    f["icmp_echo_reply"] = eth() / ip() / ICMP(type=0)
    f["udp_truncated"] = eth() / ip(len=26, proto=17) / Raw(b"\x13\x88\x00\x07\x00\x06")
    f["udp_len_7"] = eth() / ip() / UDP(sport=1, dport=2, len=7) / Raw(b"zz")
    f["udp_len_big"] = eth() / ip() / UDP(sport=1, dport=2, len=200) / Raw(b"zz")
    f["udp_bad_csum"] = eth() / ip() / UDP(sport=1, dport=2, chksum=0xbeef) / Raw(b"zz")
    return {k: raw(v) if not isinstance(v, bytes) else v for k, v in f.items()}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    # The directory is ours: drop old seeds and units libFuzzer added when it
    # was run with corpus/ as its output directory.
    for name in os.listdir(out):
        if name != ".gitignore":
            os.unlink(os.path.join(out, name))
    fs = frames()
    for name, data in sorted(fs.items()):
        with open(os.path.join(out, name + ".bin"), "wb") as fh:
            fh.write(data)
    print(f"wrote {len(fs)} frames to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
