#!/usr/bin/env bash
# Soak of `agw serve` on loopback, bounded by counts: concurrent bad tokens, idle and slow
# connections, a reload storm with torn writes, and MCP session churn. It prints figures and
# asserts nothing (a benchmark, not a test), except that it says so loudly when one of the two
# figures that must be 0 is not: lost updates, and unauthenticated answers on the protected
# route.
#
#   bash ci/soak-serve.sh [--bin target/release/agw] [--requests N] [--versions N]
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=""
REQUESTS=4000
VERSIONS=40
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --requests) REQUESTS="$2"; shift 2 ;;
    --versions) VERSIONS="$2"; shift 2 ;;
    *) echo "usage: $0 [--bin PATH] [--requests N] [--versions N]" >&2; exit 2 ;;
  esac
done
if [ -z "$BIN" ]; then
  cargo build --release --quiet
  BIN=target/release/agw
fi
command -v python3 >/dev/null || { echo "soak-serve: python3 is needed" >&2; exit 2; }

WORK=$(mktemp -d)
AGW_PID=""
cleanup() {
  if [ -n "$AGW_PID" ]; then kill "$AGW_PID" 2>/dev/null || true; wait "$AGW_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# A stdio MCP server that answers initialize and then reads until its stdin closes.
cat > "$WORK/stub.sh" <<'EOF'
read -r line
printf '%s\n' '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"stub","version":"0"}}}'
exec cat >/dev/null
EOF

export SOAK_PORT=$PORT SOAK_WORK=$WORK SOAK_REQUESTS=$REQUESTS SOAK_VERSIONS=$VERSIONS
cat > "$WORK/soak.py" <<'EOF'
import http.client, json, os, socket, statistics, sys, threading, time

PORT = int(os.environ["SOAK_PORT"])
WORK = os.environ["SOAK_WORK"]
REQUESTS = int(os.environ["SOAK_REQUESTS"])
VERSIONS = int(os.environ["SOAK_VERSIONS"])
CONFIG = os.path.join(WORK, "config.yaml")
JWKS = '{"keys":[{"kty":"EC","x":"DEzohKdtlpaPfjVbVOp9LDc79im6C3QAe74tt26DlSA","y":"R1WmI5NX_aV7Oh10Fe1db0yRmsCX4krOGbYdL4jPPAE","crv":"P-256","kid":"fuzz-1","alg":"ES256","use":"sig"}]}'

def head(version):
    return f"""binds:
- port: {PORT}
  listeners:
  - routes:
    - name: protected
      matches: [{{path: {{pathPrefix: /p}}}}]
      policies:
        directResponse: {{body: protected, status: 200}}
"""

AUTH = f"""        jwtAuth:
          mode: strict
          issuer: https://issuer.fuzz.example
          audiences: ["https://gateway.fuzz.example/mcp"]
          jwks: '{JWKS}'
"""

def tail(version):
    return f"""    - name: version
      matches: [{{path: {{exact: /version}}}}]
      policies:
        directResponse: {{body: v{version}, status: 200}}
    - name: mcp
      matches: [{{path: {{exact: /mcp}}}}]
      backends:
      - mcp:
          targets:
          - name: stub
            stdio: {{cmd: sh, args: [{WORK}/stub.sh]}}
"""

def version_text(v):
    return head(v) + AUTH + tail(v)

def write_renamed(v):
    tmp = CONFIG + ".new"
    with open(tmp, "w") as f:
        f.write(version_text(v))
    os.rename(tmp, CONFIG)

def write_torn(v):
    # the first chunk alone is a valid file whose protected route has no authentication
    with open(CONFIG, "w") as f:
        f.write(head(v))
        f.flush()
        time.sleep(0.02)
        f.write(AUTH + tail(v))

def request(method, path, headers=None, body=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else 0.0

def rss_fds(pid):
    rss = 0
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) // 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))

def main(pid):
    figures = {}
    # 1. concurrent bad tokens on the protected route
    lat, statuses, lock = [], {}, threading.Lock()
    def bad(n):
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        for i in range(n):
            t0 = time.perf_counter()
            c.request("GET", "/p", headers={"authorization": f"Bearer eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.bad{i}"})
            r = c.getresponse(); r.read()
            with lock:
                lat.append(time.perf_counter() - t0)
                statuses[r.status] = statuses.get(r.status, 0) + 1
        c.close()
    threads = [threading.Thread(target=bad, args=(REQUESTS // 16,)) for _ in range(16)]
    t0 = time.perf_counter()
    [t.start() for t in threads]; [t.join() for t in threads]
    wall = time.perf_counter() - t0
    figures["bad tokens"] = f"{len(lat)} requests, {len(lat) / wall:,.0f} rps, p50 {pct(lat, .5) * 1e3:.2f} ms, p99 {pct(lat, .99) * 1e3:.2f} ms, statuses {statuses}"
    unauthenticated = statuses.get(200, 0)

    # 2. idle and slow connections: how many the server has closed (bounded wait)
    idle = [socket.create_connection(("127.0.0.1", PORT)) for _ in range(50)]
    slow = []
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", PORT)); s.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n"); slow.append(s)
    rss, fds = rss_fds(pid)
    figures["with 100 idle or slow connections"] = f"RSS {rss} MiB, {fds} open fds"
    closed = 0
    deadline = time.time() + 15
    for s in idle + slow:
        s.settimeout(max(0.1, deadline - time.time()))
        try:
            while s.recv(4096):
                pass
            closed += 1
        except (socket.timeout, OSError):
            pass
        s.close()
    figures["idle and slow connections closed by the server"] = f"{closed} of 100 (header read timeout 2s)"

    # 3. reload storm: renamed and torn writes, while the protected route is polled without a token
    stop = threading.Event()
    open_answers = [0, 0]
    def poll():
        while not stop.is_set():
            try:
                st, _, _ = request("GET", "/p", timeout=5)
                open_answers[1] += 1
                if st == 200:
                    open_answers[0] += 1
            except OSError:
                pass
    pollers = [threading.Thread(target=poll) for _ in range(4)]
    [t.start() for t in pollers]
    t0 = time.perf_counter()
    for v in range(1, VERSIONS + 1):
        (write_torn if v % 2 else write_renamed)(v)
        time.sleep(0.05)
    last = VERSIONS
    live = False
    for _ in range(300):
        try:
            if request("GET", "/version", timeout=5)[2] == f"v{last}".encode():
                live = True
                break
        except OSError:
            pass
        time.sleep(0.1)
    took = time.perf_counter() - t0
    stop.set(); [t.join() for t in pollers]
    lost = 0 if live else 1
    unauthenticated += open_answers[0]
    figures["reload storm"] = f"{VERSIONS} versions (half torn writes) in {took:.1f}s; last version live: {live}; {open_answers[1]} polls of the protected route"

    # 4. session churn: open, call, end
    ok, busy, other, lat = 0, 0, 0, []
    init = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "soak", "version": "0"}}})
    hdr = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    def churn(n):
        nonlocal ok, busy, other
        for _ in range(n):
            t0 = time.perf_counter()
            st, h, _ = request("POST", "/mcp", hdr, init)
            if st == 200:
                sid = h.get("mcp-session-id") or h.get("Mcp-Session-Id")
                request("POST", "/mcp", dict(hdr, **{"mcp-session-id": sid}), '{"jsonrpc":"2.0","id":2,"method":"ping"}')
                request("DELETE", "/mcp", {"mcp-session-id": sid})
            with lock:
                lat.append(time.perf_counter() - t0)
                if st == 200: ok += 1
                elif st == 503: busy += 1
                else: other += 1
    threads = [threading.Thread(target=churn, args=(25,)) for _ in range(8)]
    t0 = time.perf_counter()
    [t.start() for t in threads]; [t.join() for t in threads]
    wall = time.perf_counter() - t0
    figures["session churn"] = f"{ok + busy + other} sessions in {wall:.1f}s ({(ok + busy + other) / wall:,.0f}/s), p99 {pct(lat, .99) * 1e3:.1f} ms; 200: {ok}, 503: {busy}, other: {other}"
    time.sleep(1)
    rss, fds = rss_fds(pid)
    figures["at the end"] = f"RSS {rss} MiB, {fds} open fds"
    figures["lost updates (must be 0)"] = str(lost)
    figures["unauthenticated 200s on the protected route (must be 0)"] = str(unauthenticated)
    width = max(len(k) for k in figures)
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")
    return lost == 0 and unauthenticated == 0

if __name__ == "__main__":
    if sys.argv[1] == "config":
        write_renamed(0)
        sys.exit(0)
    sys.exit(0 if main(int(sys.argv[1])) else 1)
EOF

python3 "$WORK/soak.py" config
"$BIN" serve "$WORK/config.yaml" --reload-interval 50ms --reload-settle 200ms \
  --header-read-timeout 2s --idle-timeout 5s --max-sessions 64 \
  2>"$WORK/agw.log" &
AGW_PID=$!
for _ in $(seq 1 100); do
  if python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT)).close()" 2>/dev/null; then break; fi
  sleep 0.1
done
echo "agw serve on 127.0.0.1:$PORT ($("$BIN" --version))"
if python3 "$WORK/soak.py" "$AGW_PID"; then
  echo "soak-serve: both figures that must be 0 are 0"
else
  echo "soak-serve: A FIGURE THAT MUST BE 0 IS NOT (log: $WORK/agw.log kept below)" >&2
  tail -50 "$WORK/agw.log" >&2
fi
