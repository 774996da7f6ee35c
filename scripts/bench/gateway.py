#!/usr/bin/env python3
"""Measures the whole gateway, release build, on loopback: throughput and reply latency
through `spearguard serve` (analysis, auth, fsync'd spool, Maildir delivery) and resident
memory with many idle SMTP sessions. Figures, not pass/fail: the machine is shared.

    cargo build --release -p spearguard -p sg-smtp --bin spearguard --example load
    python3 scripts/bench/gateway.py [--clients 50] [--messages 200] [--size 10240] [--idle 1000]

Starts a loopback DNS (scripts/testdns.py, empty zone: every lookup answered NXDOMAIN at
once, so auth costs what its lookups cost, never a timeout) and `serve` on a temporary
data dir, runs `load` (crates/smtp/examples/load.rs) against it with auth on and then with
`[auth] enabled = false` in the same run, then opens --idle sessions (EHLO sent, then
idle) and reads serve's VmRSS before and after.
"""

import argparse
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target/release/spearguard")
LOAD = os.path.join(ROOT, "target/release/examples/load")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def start_serve(tmp, name, dns_port, extra_toml=""):
    data = os.path.join(tmp, name)
    cfg = os.path.join(tmp, name + ".toml")
    with open(cfg, "w") as f:
        f.write(f'[auth]\nresolver = "127.0.0.1:{dns_port}"\n{extra_toml}')
    p = subprocess.Popen(
        [BIN, "--config", cfg, "serve", "--data-dir", data, "--smtp-listen", "127.0.0.1:0",
         "--milter-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "RUST_LOG": "warn"})
    for line in p.stderr:
        m = re.match(r"spearguard: SMTP listening on ([0-9.:]+)", line)
        if m:
            return p, m.group(1)
    sys.exit("serve exited before listening")


def stop(p):
    p.terminate()
    p.wait(timeout=60)


def load(addr, a):
    out = subprocess.run([LOAD, str(a.clients), str(a.messages), str(a.size), addr],
                         capture_output=True, text=True, check=True).stdout
    return out.strip()


def idle(addr, pid, n):
    base = rss_kib(pid)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 256)), hard))
    host, port = addr.rsplit(":", 1)
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, int(port)))
        s.recv(512)
        s.sendall(b"EHLO idle.example\r\n")
        socks.append(s)
    for s in socks:
        s.recv(1024)
    time.sleep(1)
    held = rss_kib(pid)
    for s in socks:
        s.close()
    return base, held


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--size", type=int, default=10240)
    ap.add_argument("--idle", type=int, default=1000)
    a = ap.parse_args()
    for path in (BIN, LOAD):
        if not os.path.exists(path):
            sys.exit(f"{path} missing: cargo build --release -p spearguard -p sg-smtp --bin spearguard --example load")
    with tempfile.TemporaryDirectory() as tmp:
        zone = os.path.join(tmp, "zone.json")
        with open(zone, "w") as f:
            json.dump({}, f)
        dns = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts/testdns.py"), zone],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        dns_port = int(dns.stdout.readline())
        results = {}
        for name, extra in (("auth-on", ""), ("auth-off", "enabled = false\n")):
            p, addr = start_serve(tmp, name, dns_port, extra)
            results[name] = load(addr, a)
            stop(p)
        p, addr = start_serve(tmp, "idle", dns_port)
        base, held = idle(addr, p.pid, a.idle)
        stop(p)
        dns.stdin.close()
        dns.wait()
    for name, text in results.items():
        print(f"== {name}: {a.clients} clients x {a.messages} messages x {a.size} B\n{text}")
    print(f"== idle: serve RSS {base / 1024:.1f} MiB at rest, {held / 1024:.1f} MiB "
          f"with {a.idle} idle sessions ({(held - base) / a.idle:.1f} KiB each)")


if __name__ == "__main__":
    main()
