#!/usr/bin/env python3
"""Benchmark of `agw lsp`: how long after didOpen and didChange an editor gets the diagnostics of
the Okta example and of the generated 5,000-route file of ci/bench-check.py, beside the time of
`agw check` on the same file, so that the protocol's cost shows; and how long a completion takes
on the large file. Prints figures; asserts nothing (machines are noisy).

    python3 ci/bench-lsp.py [--runs N] [--bin target/release/agw]

A change is checked once typing pauses (150 ms), so "change" includes that wait.
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import queue
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("bench_check", os.path.join(HERE, "bench-check.py"))
bench_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_check)

DEBOUNCE_MS = 150


class Server:
    def __init__(self, binary):
        self.proc = subprocess.Popen([binary, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.incoming = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.startswith(b"Content-Length:"):
                    length = int(line.split(b":")[1])
            self.incoming.put(json.loads(out.read(length)))

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        want = self.next_id
        return self.wait(lambda m: m.get("id") == want)

    def wait(self, pred, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            m = self.incoming.get(timeout=max(0.01, deadline - time.monotonic()))
            if pred(m):
                return m

    def diagnostics(self, uri):
        m = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                      and m["params"]["uri"] == uri)
        return m["params"]["diagnostics"]

    def close(self):
        self.request("shutdown", None)
        self.notify("exit", None)
        self.proc.wait(timeout=10)


def check_ms(binary, path, runs):
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([binary, "check", "--format", "json", "--no-process-env", path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append((time.perf_counter() - start) * 1000)
    return statistics.median(walls)


def lsp_ms(binary, path, runs):
    with open(path) as f:
        text = f.read()
    uri = "file://" + os.path.abspath(path)
    srv = Server(binary)
    srv.request("initialize", {"processId": None, "rootUri": None, "capabilities": {},
                               "initializationOptions": {"processEnv": False}})
    srv.notify("initialized", {})
    opens, changes, completions = [], [], []
    count = 0
    for run in range(runs):
        start = time.perf_counter()
        srv.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": 1, "text": text}})
        count = len(srv.diagnostics(uri))
        opens.append((time.perf_counter() - start) * 1000)
        edited = text + f"# edit {run}\n"
        start = time.perf_counter()
        srv.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                              "contentChanges": [{"text": edited}]})
        srv.diagnostics(uri)
        changes.append((time.perf_counter() - start) * 1000)
        # a key at the end of the last route's policies
        line = edited.count("\n") - 1
        start = time.perf_counter()
        srv.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                "position": {"line": line, "character": 0}})
        completions.append((time.perf_counter() - start) * 1000)
        srv.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        srv.diagnostics(uri)
    srv.close()
    return statistics.median(opens), statistics.median(changes), statistics.median(completions), count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--bin", default="target/release/agw")
    args = ap.parse_args()
    os.chdir(os.path.dirname(HERE))
    if args.bin == "target/release/agw":
        subprocess.run(["cargo", "build", "--release", "--quiet"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "routes-5000.yaml")
        bench_check.generate(big, 5000)
        cases = [("Okta example", "fixtures/okta/config.yaml", args.runs),
                 ("5,000 MCP routes", big, max(3, args.runs // 3))]
        print(f"agw lsp, {os.cpu_count()} cores, median of N runs; `check` is the whole"
              " `agw check` process on the same file")
        print(f"{'input':<18} {'check ms':>9} {'open ms':>8} {'change ms':>10} {'overhead ms':>12}"
              f" {'completion ms':>14} {'findings':>9}")
        for name, path, runs in cases:
            check = check_ms(args.bin, path, runs)
            opened, changed, completed, count = lsp_ms(args.bin, path, runs)
            overhead = changed - DEBOUNCE_MS - check
            print(f"{name:<18} {check:>9.1f} {opened:>8.1f} {changed:>10.1f} {overhead:>12.1f}"
                  f" {completed:>14.1f} {count:>9}")
        print(f"change = didChange to diagnostics, with the {DEBOUNCE_MS} ms pause;"
              " overhead = change - pause - check")


if __name__ == "__main__":
    sys.exit(main())
