#!/usr/bin/env python3
"""Scenario 4: control-plane round trips (`ping`, `plan.get`) from 1 and from 8 clients, against a
Python asyncio echo server, in the same run.

One driver measures every server, so the figures differ only by the server: each client is its
own process (multiprocessing, so the GIL of one client does not throttle the others) with its own
connection; it sends --warmup requests, waits for the common start signal, then sends --n
requests one at a time (write one line, read one reply line), timing each with perf_counter.
This is the client loop of ../shared/bench/uds_echo.py (unbuffered write, readline), so the
figures match what `uds_echo.py --connect SOCK --request LINE` reports. Per run and server:
  req/s      all requests / (last client's end - first client's start)
  p50, p99   per-request round trip over all clients' requests (us)
  server CPU the server process's user+system CPU per request (us; /proc/PID/stat, 10 ms
             ticks): the cost per request, less skewed by machine load than wall time
The servers are measured interleaved (boardd ping, boardd plan.get, echo; 1 client then 8) in
every run, so a change of machine load hits all of them alike.

boardd: release binary on a fresh state directory, synchronous=FULL, the embedded board
(builtin agents). `plan.get` reads a closed plan of 4 builtin tasks with their results (the
reply size is printed), i.e. what `boardctl plan show` asks for.

Peer in the same run: the asyncio echo server of uds_echo.py (its `serve` function, one
process, answers {"id":N,"cmd":"ping"} with {"id":N,"ok":true}), started from
../shared/bench or $BOARD_BENCH_PEERS; skipped with a message when that directory is absent.

Targets: ping req/s >= 2x the echo server's (checked for 1 and for 8 clients); boardd p99 <=
300 us (checked for every boardd row; with 8 client processes on a 2-core machine the p99
mostly measures run-queue waits, see the load printed next to the figures).

Usage: python3 bench/control.py [--bin .build/release] [--n 5000] [--clients 8] [--repeat 3]
                                [--warmup 200] [--no-peers]
"""
import argparse, json, multiprocessing as mp, os, socket, statistics as st, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boardbench import Conn, Daemon, PEERS, percentile, summary  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=".build/release")
ap.add_argument("--dir", default="/tmp/board-bench/control")
ap.add_argument("--n", type=int, default=5000, help="requests per client per run")
ap.add_argument("--clients", type=int, default=8)
ap.add_argument("--warmup", type=int, default=200, help="requests per client before the clock starts")
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--sync", default="full")
ap.add_argument("--no-peers", action="store_true")
a = ap.parse_args()


def client(path, line, n, warmup, ready, go, q):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    w = s.makefile("wb", buffering=0)
    r = s.makefile("rb")
    for _ in range(warmup):
        w.write(line)
        if not r.readline():
            raise SystemExit("server closed the connection")
    ready.release()
    go.wait()
    pc = time.perf_counter
    lat = []
    t0 = pc()
    for _ in range(n):
        a0 = pc()
        w.write(line)
        if not r.readline():
            raise SystemExit("server closed the connection")
        lat.append(pc() - a0)
    t1 = pc()
    s.close()
    q.put((t0, t1, lat))


def cpu_seconds(pid):
    """user+system CPU seconds of a process so far, from /proc/PID/stat (10 ms ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(path, request, clients, pid):
    """clients processes x a.n requests; returns (req/s, p50 us, p99 us, server CPU us per request)."""
    line = request.encode() + b"\n"
    ctx = mp.get_context("fork")
    q, ready, go = ctx.Queue(), ctx.Semaphore(0), ctx.Event()
    ps = [ctx.Process(target=client, args=(path, line, a.n, a.warmup, ready, go, q)) for _ in range(clients)]
    for p in ps:
        p.start()
    for _ in ps:
        ready.acquire()
    cpu0 = cpu_seconds(pid)
    go.set()
    res = [q.get() for _ in ps]
    cpu = cpu_seconds(pid) - cpu0
    for p in ps:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a client failed (exit {p.exitcode})")
    t0, t1 = min(r[0] for r in res), max(r[1] for r in res)
    lat = [x for r in res for x in r[2]]
    assert len(lat) == clients * a.n
    return len(lat) / (t1 - t0), percentile(lat, 0.50) * 1e6, percentile(lat, 0.99) * 1e6, cpu / len(lat) * 1e6


def start_echo(path):
    if a.no_peers or not os.path.isfile(os.path.join(PEERS, "uds_echo.py")):
        print(f"  (peers skipped: {'--no-peers' if a.no_peers else os.path.join(PEERS, 'uds_echo.py') + ' not found'}; "
              f"boardd figures stand alone)", flush=True)
        return None
    if os.path.exists(path):
        os.unlink(path)
    # uds_echo.py parses its argv at import; with none it takes its defaults and serves nothing
    # until serve() is called (its __main__ block, which would run its own clients, is skipped).
    code = f"import sys; sys.argv = ['uds_echo.py']; sys.path.insert(0, {PEERS!r}); import uds_echo; uds_echo.serve({path!r})"
    proc = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(500):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.sendall(b'{"id":1,"cmd":"ping"}\n')
            assert json.loads(s.makefile("rb").readline()) == {"id": 1, "ok": True}
            s.close()
            return proc
        except OSError:
            time.sleep(0.01)
    proc.kill()
    raise SystemExit("the echo server did not start")


def load():
    return "load %.2f %.2f %.2f" % os.getloadavg()


os.makedirs(a.dir, exist_ok=True)
config = {"store": {"synchronous": a.sync}, "daemon": {"log_level": "warning"}}
print(f"== scenario 4: control round trips, {a.n:,} requests per client per run, 1 and {a.clients} client processes, "
      f"synchronous={a.sync}; {load()}", flush=True)
with Daemon(a.bin, os.path.join(a.dir, "state"), config) as d:
    c = Conn(d.sock)
    plan = c.call("plan.create", {"goal": "Launch an SMB accounting SaaS in Q2", "context": "two founders, EUR 200k",
                                  "agents": ["CFO", "CTO", "CMO", "COO"]})
    pid = plan["plan_id"]
    deadline = time.monotonic() + 60
    while c.call("plan.get", {"plan_id": pid})["status"] != "closed":
        if time.monotonic() > deadline:
            raise SystemExit("the plan for plan.get did not close")
        time.sleep(0.05)
    c.close()
    ping_line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}, separators=(",", ":"))
    get_line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "plan.get", "params": {"plan_id": pid}}, separators=(",", ":"))
    s = socket.socket(socket.AF_UNIX)
    s.connect(d.sock)
    s.sendall(get_line.encode() + b"\n")
    reply = s.makefile("rb").readline()
    s.close()
    assert json.loads(reply)["result"]["plan_id"] == pid
    print(f"  plan.get reads {pid}: closed, 4 tasks, reply {len(reply):,} bytes", flush=True)

    echo_path = os.path.join(a.dir, "echo.sock")
    echo = start_echo(echo_path)
    targets = [("boardd ping", d.sock, ping_line, d.proc.pid), ("boardd plan.get", d.sock, get_line, d.proc.pid)]
    if echo:
        targets.append(("echo (asyncio)", echo_path, '{"id":1,"cmd":"ping"}', echo.pid))
    results = {}
    try:
        for r in range(a.repeat):
            for clients in (1, a.clients):
                for name, path, line, pid in targets:
                    rps, p50, p99, cpu = measure(path, line, clients, pid)
                    results.setdefault((name, clients), []).append((rps, p50, p99, cpu))
                    print(f"  run {r}: {name:16s} x{clients}: {rps:9,.0f} req/s  p50 {p50:6.0f} us  p99 {p99:6.0f} us  "
                          f"server CPU {cpu:5.0f} us/req  ({load()})", flush=True)
    finally:
        if echo:
            echo.terminate()
            echo.wait()
            if os.path.exists(echo_path):
                os.unlink(echo_path)

med = {}
for (name, clients), rs in results.items():
    med[(name, clients, "rps")] = summary(f"{name} x{clients} req/s", [x[0] for x in rs], "req/s")
    med[(name, clients, "p50")] = summary(f"{name} x{clients} p50", [x[1] for x in rs], "us")
    med[(name, clients, "p99")] = summary(f"{name} x{clients} p99", [x[2] for x in rs], "us")
    summary(f"{name} x{clients} server CPU per request", [x[3] for x in rs], "us")
for clients in (1, a.clients):
    if ("echo (asyncio)", clients, "rps") in med:
        ratio = med[("boardd ping", clients, "rps")] / med[("echo (asyncio)", clients, "rps")]
        print(f"  ping x{clients} vs echo server x{clients}: {ratio:.2f}x  (target >= 2x: {'met' if ratio >= 2 else 'MISSED'})")
for name in ("boardd ping", "boardd plan.get"):
    for clients in (1, a.clients):
        p99 = med[(name, clients, "p99")]
        print(f"  {name} x{clients} p99 {p99:,.0f} us  (target <= 300 us: {'met' if p99 <= 300 else 'MISSED'})")
print(f"  {load()}", flush=True)
