#!/usr/bin/python3
"""Control-API load for tests/integration/control_engine.sh (one keep-alive connection).

  control_engine.py stream SOCK POOL OUT
      PUT /api/pool/POOL again and again, each with servers[0].description "n=<i>" (i = 1, 2, ...).
      Appends "sent <i>" to OUT before each request and "ack <i> <generation>" after each 200;
      stops (exit 0) when the engine goes away (the test kills it with SIGKILL).
  control_engine.py changes SOCK PREFIX N
      N accepted changes to objects of its own (PREFIX-*), mixing the generation builder's paths:
      create {pool, VS} (full rebuild), PATCH a pool (in-place patch), delete {VS, pool}.
      Prints "changes N first_gen last_gen"; exit 1 on any refused change.
  control_engine.py cleanup SOCK PREFIX
      Deletes what `changes` left.
"""
import http.client, json, socket, sys


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def call(c, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    c.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
    r = c.getresponse()
    out = r.read()
    return r.status, r.getheader("X-Sluice-Generation"), out


def pool(name, i):
    return {"name": name, "servers": [{"ip": {"addr": "198.18.1.2", "type": "V4"}, "port": 8080,
                                       "ratio": i % 20 + 1, "description": f"n={i}"}]}


def stream(sock, name, out):
    c = UnixHTTP(sock)
    with open(out, "a", buffering=1) as f:
        i = 0
        while True:
            i += 1
            f.write(f"sent {i}\n")
            try:
                st, gen, body = call(c, "PUT", f"/api/pool/{name}", pool(name, i))
            except (OSError, http.client.HTTPException):
                return 0
            if st != 200:
                print(f"PUT {i}: {st} {body[:200]!r}", file=sys.stderr)
                return 1
            f.write(f"ack {i} {gen}\n")


def vs(prefix, k):
    # VIPs 198.19.200.x: outside the bed's client routes, never used by traffic
    return {"name": f"{prefix}-vs-{k}", "vip": [{"ip_address": {"addr": f"198.19.200.{k % 250 + 1}", "type": "V4"}}],
            "services": [{"port": 80}], "pool_ref": f"/api/pool?name={prefix}-p-{k}",
            "application_profile_ref": "/api/applicationprofile?name=System-L4-Application"}


def changes(sock, prefix, n):
    c = UnixHTTP(sock)
    gens = []
    live = []
    en = {}
    ratio = {}
    k = 0
    while len(gens) < n:
        step = len(gens) % 4
        if step == 0:       # create: new slots, full generation build
            k += 1
            st, g, body = call(c, "POST", "/api/macro", [{"model_name": "Pool", "data": pool(f"{prefix}-p-{k}", k)},
                                                         {"model_name": "VirtualService", "data": vs(prefix, k)}])
            live.append(k)
        elif step in (1, 2):  # in-place change of a pool: a ratio it does not have now (a PATCH
            # that changes nothing, or only an ignored field, makes no generation)
            ratio[live[-1]] = ratio.get(live[-1], live[-1] % 20 + 1) % 20 + 1
            srv = pool("", len(gens))["servers"]
            srv[0]["ratio"] = ratio[live[-1]]
            st, g, body = call(c, "PATCH", f"/api/pool/{prefix}-p-{live[-1]}", {"servers": srv})
        else:               # delete the oldest pair when more than a few exist, else patch the VS
            if len(live) > 3:
                d = live.pop(0)
                st, g, body = call(c, "DELETE", "/api/macro",
                                   [{"model_name": "VirtualService", "data": {"name": f"{prefix}-vs-{d}"}},
                                    {"model_name": "Pool", "data": {"name": f"{prefix}-p-{d}"}}])
            else:
                # flip it: a PATCH that changes nothing makes no generation
                en[live[-1]] = not en.get(live[-1], True)
                st, g, body = call(c, "PATCH", f"/api/virtualservice/{prefix}-vs-{live[-1]}",
                                   {"enabled": en[live[-1]]})
        if st >= 300:
            print(f"change {len(gens) + 1}: {st} {body[:300]!r}", file=sys.stderr)
            return 1
        gens.append(int(g))
    print(f"changes {n} {gens[0]} {gens[-1]}")
    return 0 if gens == list(range(gens[0], gens[0] + n)) else 1


def cleanup(sock, prefix):
    c = UnixHTTP(sock)
    for t in ("virtualservice", "pool"):
        st, _, body = call(c, "GET", f"/api/{t}")
        for o in json.loads(body)["results"]:
            if o["name"].startswith(prefix + "-"):
                call(c, "DELETE", f"/api/{t}/{o['name']}")
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "stream":
        sys.exit(stream(sys.argv[2], sys.argv[3], sys.argv[4]))
    if cmd == "changes":
        sys.exit(changes(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    if cmd == "cleanup":
        sys.exit(cleanup(sys.argv[2], sys.argv[3]))
    sys.exit(__doc__)
