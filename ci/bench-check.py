#!/usr/bin/env python3
"""Benchmark of `agw check`: wall time and peak memory on the Okta example and on a generated
file with 5,000 MCP routes (about 4 MB). Prints figures; asserts nothing (machines are noisy).

    python3 ci/bench-check.py [--runs N] [--bin target/release/agw]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROUTE = """    - name: route-{i}
      matches:
      - path:
          exact: /t{i}/mcp
      - path:
          exact: /.well-known/oauth-protected-resource/t{i}/mcp
      policies:
        mcpAuthentication:
          mode: strict
          issuer: https://tenant-{i}.okta.com/oauth2/default
          audiences: [api://tenant-{i}]
          jwks:
            url: https://tenant-{i}.okta.com/oauth2/default/v1/keys
          resourceMetadata:
            resource: https://gateway.acme.io/t{i}/mcp
            scopesSupported: [agentgateway, "mcp:tools"]
        mcpAuthorization:
          rules:
          - 'mcp.tool.name == "echo"'
          - '"agentgateway" in jwt.scp && jwt.sub == "svc-{i}"'
      backends:
      - mcp:
          statefulMode: stateful
          targets:
          - name: everything-{i}
            stdio:
              cmd: mcp-server-everything
              args: [stdio]
"""


def generate(path, routes):
    with open(path, "w") as f:
        f.write("binds:\n- port: 3000\n  listeners:\n  - routes:\n")
        for i in range(routes):
            f.write(ROUTE.format(i=i))


def generate_hostile(tmp):
    """The hostile inputs of tests/fixtures.rs, whose cost is measured here rather than asserted."""
    cases = []
    def write(name, text):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        cases.append((name, path))
    write("100k-keys.yaml", "config:\n" + "".join(f"  k{i}: {i}\n" for i in range(100_000)))
    write("100k-unknown-keys.yaml", "".join(f"k{i}: {i}\n" for i in range(100_000)))
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        bomb += f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]\n"
    write("alias-bomb.yaml", bomb)
    write("deep-flow.yaml", "binds: " + "[" * 10_000 + "]" * 10_000 + "\n")
    return cases


def measure(binary, path, runs):
    walls = []
    peak_kib = 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", binary, "check", "--format", "json", path],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        walls.append((time.perf_counter() - start) * 1000)
        if proc.returncode not in (0, 1):
            sys.exit(f"agw check failed on {path}: exit {proc.returncode}\n{proc.stderr}")
        peak_kib = max(peak_kib, int(proc.stderr.strip().splitlines()[-1]))
    return statistics.median(walls), min(walls), peak_kib / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--bin", default="target/release/agw")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    if args.bin == "target/release/agw":
        subprocess.run(["cargo", "build", "--release", "--quiet"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "routes-5000.yaml")
        generate(big, 5000)
        size_mb = os.path.getsize(big) / 1e6
        cases = [("Okta example", "fixtures/okta/config.yaml", args.runs),
                 (f"5,000 MCP routes ({size_mb:.1f} MB)", big, max(3, args.runs // 3))]
        print(f"agw check, {os.cpu_count()} cores, median of N runs (process start to exit)")
        print(f"{'input':<28} {'median ms':>10} {'best ms':>9} {'peak MiB':>9}")
        cases += [(f"hostile: {n}", p, max(3, args.runs // 3)) for n, p in generate_hostile(tmp)]
        for name, path, runs in cases:
            med, best, peak = measure(args.bin, path, runs)
            print(f"{name:<28} {med:>10.1f} {best:>9.1f} {peak:>9.1f}")


if __name__ == "__main__":
    main()
