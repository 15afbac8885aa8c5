#!/usr/bin/env python3
"""bench/quick.py -- first end-to-end figures for boardd (the full suite is a later issue).

Starts a release boardd on a fresh state directory and measures, REPEAT times each:
  plans   : P plan.create calls from C concurrent connections (4 builtin tasks each), until
            every plan is closed (tasks run, CEO synthesis done): plans/s and tasks/s end to end
  ping    : N sequential pings on one connection: p50/p99 round trip (us)
  boardctl: wall time of `boardctl ping` (a fresh process each time): median (ms)
Prints per-run figures and median [min..max]. Timing lives here, never in the tests.

Usage: python3 bench/quick.py [--bin .build/release] [--dir /tmp/board-bench] [--plans 400]
                              [--clients 8] [--pings 5000] [--repeat 3] [--sync full|normal]
"""
import argparse, json, os, shutil, statistics as st, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boardbench import Conn  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=".build/release")
ap.add_argument("--dir", default="/tmp/board-bench")
ap.add_argument("--plans", type=int, default=400)
ap.add_argument("--clients", type=int, default=8)
ap.add_argument("--pings", type=int, default=5000)
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--sync", default="full")
a = ap.parse_args()


def start(state):
    shutil.rmtree(state, ignore_errors=True)
    os.makedirs(state)
    cfg = os.path.join(state, "config.json")
    with open(cfg, "w") as f:
        json.dump({"store": {"synchronous": a.sync}, "daemon": {"log_level": "warning"}}, f)
    proc = subprocess.Popen([os.path.join(a.bin, "boardd"), "--config", cfg, "--state-dir", state],
                            stderr=open(os.path.join(state, "boardd.log"), "w"))
    sock = os.path.join(state, "boardd.sock")
    for _ in range(500):
        try:
            Conn(sock).call("ping")
            return proc, sock
        except OSError:
            time.sleep(0.01)
    raise SystemExit("boardd did not start")


def plans_run(sock):
    per = a.plans // a.clients
    def submit(k):
        c = Conn(sock)
        for i in range(per):
            c.call("plan.create", {"goal": f"launch product {k}-{i} for SMB customers in Q2"})
    t0 = time.perf_counter()
    threads = [threading.Thread(target=submit, args=(k,)) for k in range(a.clients)]
    for t in threads: t.start()
    for t in threads: t.join()
    c = Conn(sock)
    while True:
        s = c.call("daemon.status")
        if s["plans"]["open"] == 0 and s["plans"]["synthesizing"] == 0:
            break
        time.sleep(0.005)
    dt = time.perf_counter() - t0
    return per * a.clients / dt, per * a.clients * 4 / dt


def ping_run(sock):
    c = Conn(sock)
    lat = []
    for _ in range(a.pings):
        t = time.perf_counter(); c.call("ping"); lat.append((time.perf_counter() - t) * 1e6)
    lat.sort()
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99)]


def boardctl_run(sock):
    env = dict(os.environ, BOARD_SOCKET=sock)
    times = []
    for _ in range(50):
        t = time.perf_counter()
        subprocess.run([os.path.join(a.bin, "boardctl"), "ping"], env=env, stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t) * 1e3)
    return st.median(times)


def summary(name, values, unit):
    print(f"{name:28s} median {st.median(values):10.1f} {unit}  [{min(values):.1f}..{max(values):.1f}]")


results = {"plans/s": [], "tasks/s": [], "ping p50 us": [], "ping p99 us": [], "boardctl ping ms": []}
for r in range(a.repeat):
    proc, sock = start(os.path.join(a.dir, f"run{r}"))
    try:
        p, t = plans_run(sock)
        p50, p99 = ping_run(sock)
        b = boardctl_run(sock)
    finally:
        proc.terminate(); proc.wait()
    print(f"run {r}: {p:.0f} plans/s, {t:.0f} tasks/s, ping p50 {p50:.0f} us p99 {p99:.0f} us, boardctl ping {b:.1f} ms")
    for k, v in zip(results, (p, t, p50, p99, b)):
        results[k].append(v)
print(f"-- synchronous={a.sync}, {a.plans} plans x 4 builtin tasks from {a.clients} clients, {a.repeat} runs")
for k, v in results.items():
    summary(k, v, "")
