#!/usr/bin/python3
"""Control-plane apply benchmark.

Measures, against build/tests/control/ctl_host (default) or a running engine (CTL_BENCH_SOCK=...;
not SLUICE_SOCK, which the bed exports for sluicectl):
  1. one /api/macro with N virtual services, each with its own pool (target: 10,000 in <= 1 s)
  2. the same number applied one by one (one macro {pool, VS} per request)
  3. p50/p99 latency of a single-VS change (PATCH) on the loaded configuration (target p99 <= 5 ms)
Every accepted change is validated, compiled into a generation, fsync'ed to the state dir and
published before the answer, so these are end-to-end figures as a client sees them.
Usage: tests/bench/control_apply.py [--vs 10000] [--one-by-one 10000] [--changes 2000] [--build build]
"""
import argparse, http.client, json, os, shutil, socket, subprocess, sys, tempfile, time

class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=120)
        self.path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)

def call(conn, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if data else {}
    t0 = time.perf_counter()
    conn.request(method, path, body=data, headers=hdrs)
    r = conn.getresponse()
    out = r.read()
    dt = time.perf_counter() - t0
    if r.status >= 300:
        sys.exit(f"{method} {path}: {r.status} {out[:300]!r}")
    return dt, out

def vip(i, base):
    n = base + i
    return f"198.19.{n // 250}.{n % 250 + 1}"

def vs_pair(prefix, i, base):
    return [{"model_name": "Pool", "data": {"name": f"{prefix}-pool-{i}", "lb_algorithm": "LB_ALGORITHM_ROUND_ROBIN",
             "servers": [{"ip": {"addr": f"198.18.{1 + i % 200}.{2 + i % 200}", "type": "V4"}, "port": 8080},
                         {"ip": {"addr": f"198.18.{1 + i % 200}.{3 + i % 200}", "type": "V4"}, "port": 8080}],
             "health_monitor_refs": ["/api/healthmonitor?name=System-TCP"]}},
            {"model_name": "VirtualService", "data": {"name": f"{prefix}-vs-{i}",
             "vip": [{"ip_address": {"addr": vip(i, base), "type": "V4"}}], "services": [{"port": 80}],
             "pool_ref": f"/api/pool?name={prefix}-pool-{i}",
             "application_profile_ref": "/api/applicationprofile?name=System-HTTP"}}]

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vs", type=int, default=10000)
    ap.add_argument("--one-by-one", type=int, default=10000)
    ap.add_argument("--changes", type=int, default=2000)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "..", "build"))
    a = ap.parse_args()
    sock = os.environ.get("CTL_BENCH_SOCK")
    tmp = tempfile.mkdtemp(prefix="sl-bench-")
    host = None
    if not sock:
        sock = os.path.join(tmp, "control.sock")
        ready = os.path.join(tmp, "ready")
        host = subprocess.Popen([os.path.join(a.build, "tests/control/ctl_host"), "-s", sock, "-d",
                                 os.path.join(tmp, "state"), "-r", ready], stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(ready):
                break
            time.sleep(0.02)
    try:
        c = UnixHTTP(sock)
        prefix = f"bench{os.getpid()}"
        macro = [x for i in range(a.vs) for x in vs_pair(prefix + "m", i, 0)]
        body = json.dumps(macro).encode()
        t0 = time.perf_counter()
        c.request("POST", "/api/macro", body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse(); out = r.read()
        t_macro = time.perf_counter() - t0
        if r.status != 200:
            sys.exit(f"macro: {r.status} {out[:300]!r}")
        print(f"macro: {a.vs} VS + {a.vs} pools ({len(body) / 1e6:.1f} MB) in one /api/macro: {t_macro:.3f} s "
              f"(target <= 1 s: {'PASS' if t_macro <= 1.0 or a.vs < 10000 else 'FAIL'})")

        lat = []
        t0 = time.perf_counter()
        for i in range(a.one_by_one):
            dt, _ = call(c, "POST", "/api/macro", vs_pair(prefix + "o", i, a.vs))
            lat.append(dt)
        t_obo = time.perf_counter() - t0
        if a.one_by_one:
            print(f"one by one: {a.one_by_one} x (VS + pool) in {t_obo:.2f} s, {a.one_by_one / t_obo:.0f} changes/s, "
                  f"p50 {pct(lat, 50) * 1e3:.2f} ms, p99 {pct(lat, 99) * 1e3:.2f} ms")

        lat = []
        for k in range(a.changes):
            i = k % a.vs
            dt, _ = call(c, "PATCH", f"/api/virtualservice/{prefix}m-vs-{i}", {"enabled": k % 2 == 1})
            lat.append(dt)
        p50, p99 = pct(lat, 50) * 1e3, pct(lat, 99) * 1e3
        _, st = call(c, "GET", "/api/status")
        st = json.loads(st)
        print(f"single-VS change on {st['objects']['virtualservice']} VS: {a.changes} PATCHes, p50 {p50:.2f} ms, "
              f"p99 {p99:.2f} ms, max {max(lat) * 1e3:.2f} ms (target p99 <= 5 ms: {'PASS' if p99 <= 5 else 'FAIL'})")
        print(f"generation {st['generation']}, server-side max apply {st['control']['apply_us_max'] / 1e3:.1f} ms")
        if not host:   # shared engine: remove what we added
            dels = [{"model_name": m["model_name"], "data": {"name": m["data"]["name"]}}
                    for m in reversed(macro + [x for i in range(a.one_by_one) for x in vs_pair(prefix + "o", i, a.vs)])]
            dels.sort(key=lambda d: d["model_name"] != "VirtualService")
            call(c, "DELETE", "/api/macro", dels)
    finally:
        if host:
            host.terminate(); host.wait()
        shutil.rmtree(tmp, ignore_errors=True)

if __name__ == "__main__":
    main()
