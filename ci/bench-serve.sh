#!/usr/bin/env bash
# Speed and scale of `agw serve`, on loopback, with wrk as the load generator:
#   (a) the 401 path (no token)                       -- throughput
#   (b) the protected resource metadata endpoint      -- throughput
#   (c) an authenticated `tools/call echo` through a stdio target (server-everything)
#   (c') the same call on a route without authentication (the relay alone)
#   (d) the same call straight to server-everything's own Streamable HTTP mode (the floor)
# and the memory of idle sessions. Every process is started here on 127.0.0.1 and stopped by pid.
#
# Knobs (environment): DURATION (default 10s), CONNS_FAST (64), CONNS_CALL (4), SESSIONS (20).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
DURATION="${DURATION:-10s}"
CONNS_FAST="${CONNS_FAST:-64}"
CONNS_CALL="${CONNS_CALL:-4}"
SESSIONS="${SESSIONS:-20}"

say() { printf 'bench-serve: %s\n' "$*" >&2; }

# --- tools -----------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk (Debian package)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
bash ci/install-test-deps.sh >&2
target="${CARGO_TARGET_DIR:-$root/target}"
say "building agw (release)"
cargo build --release --quiet
agw="$target/release/agw"
js="$root/tests/js"
everything="$js/node_modules/.bin/mcp-server-everything"

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # file text seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  say "timed out waiting for '$2' in $1"; cat "$1" >&2; return 1
}

# --- partners --------------------------------------------------------------------------------
as_port="$(free_port)"
(cd "$js" && PORT="$as_port" exec node partners/oidc-as.mjs) >"$work/as.log" 2>&1 &
pids+=($!)
wait_for "$work/as.log" "issuer" 30
issuer="http://127.0.0.1:$as_port/oauth2/default"

se_port="$(free_port)"
(cd "$js" && PORT="$se_port" exec "$everything" streamableHttp) >"$work/se.log" 2>&1 &
pids+=($!)
wait_for "$work/se.log" "listening on port" 30

gw_port="$(free_port)"
audience="http://127.0.0.1:$gw_port/mcp"
cat >"$work/config.yaml" <<EOF
binds:
- port: $gw_port
  listeners:
  - routes:
    - name: mcp
      matches:
      - path: {exact: /mcp}
      - path: {exact: /.well-known/oauth-protected-resource/mcp}
      policies:
        mcpAuthentication:
          issuer: $issuer
          audiences: ["$audience"]
          jwks:
            url: $issuer/v1/keys
          resourceMetadata:
            scopesSupported: [mcp:tools]
      backends:
      - mcp:
          targets:
          - name: everything
            stdio: {cmd: $everything, args: [stdio]}
    - name: open
      matches:
      - path: {exact: /open}
      backends:
      - mcp:
          targets:
          - name: everything
            stdio: {cmd: $everything, args: [stdio]}
EOF
"$agw" serve "$work/config.yaml" --no-reload --max-sessions 1000 --max-children 1000 >"$work/agw.log" 2>&1 &
agw_pid=$!
pids+=("$agw_pid")
wait_for "$work/agw.log" "listening" 20

token="$(curl -sf -u agw-rs:agw-secret -d grant_type=client_credentials -d scope=mcp:tools \
  --data-urlencode "resource=$audience" "$issuer/v1/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}'
initialized='{"jsonrpc":"2.0","method":"notifications/initialized"}'
call='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}'
H=(-H 'content-type: application/json' -H 'accept: application/json, text/event-stream')

open_session() { # url [auth header]
  local url="$1"; shift
  local sid
  sid="$(curl -sf -D - -o /dev/null "${H[@]}" "$@" -d "$init" "$url" | tr -d '\r' | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')"
  [ -n "$sid" ] || { say "no session from $url"; tail -20 "$work/agw.log" >&2; exit 1; }
  curl -sf -o /dev/null "${H[@]}" "$@" -H "mcp-session-id: $sid" -d "$initialized" "$url"
  printf '%s' "$sid"
}

sid_open="$(open_session "http://127.0.0.1:$gw_port/open")"
sid_auth="$(open_session "http://127.0.0.1:$gw_port/mcp" -H "authorization: Bearer $token")"
sid_direct="$(open_session "http://127.0.0.1:$se_port/mcp")"

# sanity: every path answers what it should before it is measured
check() { # expected-status url args...
  local want="$1" url="$2"; shift 2
  local got
  got="$(curl -s -o "$work/out" -w '%{http_code}' "$@" "$url")"
  [ "$got" = "$want" ] || { say "$url answered $got, expected $want: $(head -c 300 "$work/out")"; tail -20 "$work/agw.log" >&2; exit 1; }
}
check 401 "http://127.0.0.1:$gw_port/mcp" "${H[@]}" -d "$call"
check 200 "http://127.0.0.1:$gw_port/.well-known/oauth-protected-resource/mcp"
check 200 "http://127.0.0.1:$gw_port/mcp" "${H[@]}" -H "authorization: Bearer $token" -H "mcp-session-id: $sid_auth" -d "$call"
grep -q 'Echo: hi' "$work/out" || { say "echo through agw failed: $(cat "$work/out")"; exit 1; }
check 200 "http://127.0.0.1:$se_port/mcp" "${H[@]}" -H "mcp-session-id: $sid_direct" -d "$call"
grep -q 'Echo: hi' "$work/out" || { say "echo direct failed: $(cat "$work/out")"; exit 1; }

# --- wrk scripts -------------------------------------------------------------------------------
report='
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local errs = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %d %.3f %.3f %d %d\n", math.floor(summary.requests / secs + 0.5),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errs, summary.errors.status))
end
'
lua_post() { # file body header...
  local f="$1" body="$2"; shift 2
  {
    printf 'wrk.method = "POST"\n'
    printf 'wrk.body = [==[%s]==]\n' "$body"
    printf 'wrk.headers["content-type"] = "application/json"\n'
    printf 'wrk.headers["accept"] = "application/json, text/event-stream"\n'
    for h in "$@"; do printf 'wrk.headers["%s"] = "%s"\n' "${h%%: *}" "${h#*: }"; done
    printf '%s\n' "$report"
  } >"$f"
}
lua_post "$work/401.lua" "$call"
printf '%s\n' "$report" >"$work/get.lua"
lua_post "$work/auth.lua" "$call" "authorization: Bearer $token" "mcp-session-id: $sid_auth"
lua_post "$work/open.lua" "$call" "mcp-session-id: $sid_open"
lua_post "$work/direct.lua" "$call" "mcp-session-id: $sid_direct"

run() { # label script conns url
  local out
  out="$(wrk -t 2 -c "$3" -d "$DURATION" -s "$2" "$4" 2>&1 | grep '^RESULT')" || { say "wrk failed for $1"; exit 1; }
  read -r _ rps p50 p99 errs non2xx <<<"$out"
  printf '%-44s %10s req/s   p50 %8s ms   p99 %8s ms   (conns %s, socket errors %s, non-2xx %s)\n' \
    "$1" "$rps" "$p50" "$p99" "$3" "$errs" "$non2xx"
  eval "${5:-_}=\$p50"
}

echo "agw serve benchmark on $(nproc) cores, $DURATION per run (wrk, loopback)"
run "(a) 401 challenge (no token)" "$work/401.lua" "$CONNS_FAST" "http://127.0.0.1:$gw_port/mcp"
run "(b) protected resource metadata" "$work/get.lua" "$CONNS_FAST" "http://127.0.0.1:$gw_port/.well-known/oauth-protected-resource/mcp"
run "(c) tools/call echo, token + stdio target" "$work/auth.lua" "$CONNS_CALL" "http://127.0.0.1:$gw_port/mcp" p50_c
run "(c') tools/call echo, stdio, no auth" "$work/open.lua" "$CONNS_CALL" "http://127.0.0.1:$gw_port/open"
run "(d) tools/call echo, server-everything HTTP" "$work/direct.lua" "$CONNS_CALL" "http://127.0.0.1:$se_port/mcp" p50_d
python3 -c "import sys; c, d = float(sys.argv[1]), float(sys.argv[2]); print(f'agw over the floor at p50: {c - d:+.3f} ms (c {c:.3f} ms, d {d:.3f} ms)')" "$p50_c" "$p50_d"

# --- memory per idle session ---------------------------------------------------------------------
rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
before="$(rss_kib "$agw_pid")"
for ((i = 0; i < SESSIONS; i++)); do
  open_session "http://127.0.0.1:$gw_port/mcp" -H "authorization: Bearer $token" >/dev/null
done
sleep 1
after="$(rss_kib "$agw_pid")"
children="$(pgrep -P "$agw_pid" || true)"
child_total=0; n=0
for c in $children; do child_total=$((child_total + $(rss_kib "$c"))); n=$((n + 1)); done
python3 - "$before" "$after" "$SESSIONS" "$child_total" "$n" <<'EOF'
import sys
before, after, n, child_total, children = map(int, sys.argv[1:])
print(f"memory: agw {before} KiB -> {after} KiB after {n} idle sessions: {(after - before) / n:.1f} KiB per session in agw;"
      f" {children} child processes, {child_total / max(children, 1) / 1024:.1f} MiB each")
EOF
