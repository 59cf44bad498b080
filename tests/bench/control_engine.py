#!/usr/bin/python3
"""Control-plane benchmark on the running engine, with traffic (called by tests/bench/control_engine.sh).

Phases, each inside its own dnsperf window at a fixed rate against a DNS VS the caller applied:
  macro       N virtual services + N pools in one /api/macro
  one-by-one  M more {pool, VS} macros, one request each
  changes     K single-VS PATCHes (enabled on/off) on the loaded configuration: p50/p99
For each phase: the figure, dnsperf sent/completed/lost and max latency, and the engine's loss counters
(drop_* and dns_dropped from /api/stats, imissed/ierrors of every port) before/after; any loss fails.
Clients run where the caller put us (taskset CPU 0, with the engine's control lcore; the worker has CPU 1).
"""
import argparse, json, os, re, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from control_apply import UnixHTTP, call, pct, vs_pair  # noqa: E402


def losses(c):
    _, body = call(c, "GET", "/api/stats")
    st = json.loads(body)
    out = {k: v for k, v in st["totals"].items() if k.startswith("drop_") or k == "dns_dropped"}
    for name, p in st.get("ports", {}).items():
        for k in ("imissed", "ierrors"):
            out[f"{name}.{k}"] = p.get(k, 0)
    out["dns_answered"] = st["totals"].get("dns_answered", 0)
    out["garp_sent"] = st["totals"].get("garp_sent", 0)
    return out


class Traffic:
    """dnsperf at a fixed rate from the client namespace for the length of a `with` block."""

    def __init__(self, a, qfile, c):
        self.a, self.qfile, self.c = a, qfile, c

    def __enter__(self):
        self.out = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(["ip", "netns", "exec", self.a.ns_cli, "taskset", "-c", self.a.traffic_cpu, "dnsperf",
                                   "-s", self.a.vip, "-d", self.qfile, "-l", "3600", "-Q", str(self.a.qps),
                                   "-c", "1", "-T", "1", "-t", "1"], stdout=self.out, stderr=subprocess.STDOUT,
                                  preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        time.sleep(1.0)     # steady state before the phase
        return self

    def __exit__(self, *exc):
        # and after it, longer than dnsperf's 1 s timeout: a query dropped during the phase has been
        # counted lost by now; the few unanswered at the stop were sent after the phase
        time.sleep(2.5)
        # engine counters before the stop: answers that arrive after dnsperf closed its socket draw ICMP
        # port unreachables from the client, which the engine counts as drop_icmp_unhandled
        self.after = losses(self.c)
        self.p.send_signal(signal.SIGINT)
        self.p.wait(timeout=30)
        self.out.seek(0)
        txt = self.out.read()
        def num(label):
            m = re.search(rf"{label}:\s+([0-9.]+)", txt)
            return float(m.group(1)) if m else None
        m = re.search(r"Average Latency \(s\):\s+([0-9.]+) \(min [0-9.]+, max ([0-9.]+)\)", txt)
        self.sent, self.done, self.lost = num("Queries sent"), num("Queries completed"), num("Queries lost")
        self.avg_ms, self.max_ms = (float(m.group(1)) * 1e3, float(m.group(2)) * 1e3) if m else (None, None)
        if self.sent is None:
            print(txt, file=sys.stderr)
        return False


def phase(c, a, qfile, name, fn):
    before = losses(c)
    with Traffic(a, qfile, c) as t:
        figure = fn()
    after = t.after
    info = ("dns_answered", "garp_sent")
    d = {k: after[k] - before.get(k, 0) for k in after if k not in info and after[k] != before.get(k, 0)}
    inflight = (t.sent - t.done - t.lost) if t.sent is not None else -1
    bad = bool(d) or t.lost != 0 or t.sent is None or not 0 <= inflight <= max(5, a.qps // 100)
    print(f"{name}: {figure}")
    print(f"  traffic: dnsperf {a.qps} qps, {int(t.sent or 0)} sent, {int(t.done or 0)} answered, "
          f"{int(t.lost if t.lost is not None else -1)} lost ({int(inflight)} in flight at the stop), "
          f"latency avg {t.avg_ms:.3f} ms max {t.max_ms:.2f} ms; "
          f"engine loss counters: {d if d else 'all unchanged'} -> {'FAIL' if bad else 'PASS'}; "
          f"gratuitous ARPs sent: {after['garp_sent'] - before['garp_sent']}")
    sys.stdout.flush()
    return not bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sock", required=True)
    ap.add_argument("--ns-cli", required=True)
    ap.add_argument("--vip", required=True)
    ap.add_argument("--qname", required=True)
    ap.add_argument("--qps", type=int, default=5000)
    ap.add_argument("--traffic-cpu", default="0", help="CPU list for dnsperf (taskset -c)")
    ap.add_argument("--vs", type=int, default=10000)
    ap.add_argument("--one-by-one", type=int, default=2000)
    ap.add_argument("--changes", type=int, default=1000)
    a = ap.parse_args()
    qfile = tempfile.NamedTemporaryFile("w", suffix=".q", delete=False)
    qfile.write(f"{a.qname} A\n")
    qfile.close()
    c = UnixHTTP(a.sock)
    prefix = f"ebench{os.getpid()}"
    ok = True
    try:
        def macro():
            body = json.dumps([x for i in range(a.vs) for x in vs_pair(prefix + "m", i, 0)]).encode()
            t0 = time.perf_counter()
            c.request("POST", "/api/macro", body=body, headers={"Content-Type": "application/json"})
            r = c.getresponse()
            out = r.read()
            dt = time.perf_counter() - t0
            if r.status != 200:
                sys.exit(f"macro: {r.status} {out[:300]!r}")
            return (f"{a.vs} VS + {a.vs} pools ({len(body) / 1e6:.1f} MB) in one /api/macro: {dt:.3f} s "
                    f"(target <= 1 s: {'PASS' if dt <= 1.0 or a.vs < 10000 else 'FAIL'})")
        ok &= phase(c, a, qfile.name, "macro", macro)

        def one_by_one():
            lat = []
            t0 = time.perf_counter()
            for i in range(a.one_by_one):
                dt, _ = call(c, "POST", "/api/macro", vs_pair(prefix + "o", i, a.vs))
                lat.append(dt)
            t = time.perf_counter() - t0
            return (f"{a.one_by_one} x (VS + pool) on top of {a.vs} in {t:.2f} s, {a.one_by_one / t:.0f} changes/s, "
                    f"p50 {pct(lat, 50) * 1e3:.2f} ms, p99 {pct(lat, 99) * 1e3:.2f} ms")
        if a.one_by_one:
            ok &= phase(c, a, qfile.name, "one by one", one_by_one)

        def changes():
            lat = []
            for k in range(a.changes):
                dt, _ = call(c, "PATCH", f"/api/virtualservice/{prefix}m-vs-{k % a.vs}", {"enabled": k % 2 == 1})
                lat.append(dt)
            _, st = call(c, "GET", "/api/status")
            st = json.loads(st)
            p99 = pct(lat, 99) * 1e3
            return (f"{a.changes} PATCHes of one VS on {st['objects']['virtualservice']} VS: p50 "
                    f"{pct(lat, 50) * 1e3:.2f} ms, p99 {p99:.2f} ms, max {max(lat) * 1e3:.2f} ms "
                    f"(target p99 <= 5 ms: {'PASS' if p99 <= 5 else 'FAIL'}); generation {st['generation']}, "
                    f"server-side max apply {st['control']['apply_us_max'] / 1e3:.1f} ms")
        ok &= phase(c, a, qfile.name, "single-VS change", changes)
    finally:
        os.unlink(qfile.name)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
