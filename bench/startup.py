#!/usr/bin/env python3
"""Scenario 7: start-up time, idle memory and idle CPU, empty store vs 1,000,000 stored tasks.

Stores (same run, same configuration: noop agents, synchronous=--sync):
  new     no database file: boardd creates it (schema and migrations) at start
  empty   a database boardd created and closed (schema only)
  1M      a copy of the generated store of --stored finished no-op tasks (bench/bigstore.py,
          shared with bench/scale.py: boardd writes the schema and one real plan, sqlite3 clones
          its rows; cached under --cache, copied per run). The copy has just been written, so
          the file is in the page cache: these are warm-cache starts.

(a) exec -> READY. boardd tells systemd it is ready with sd_notify("READY=1") once the store is
    open, interrupted tasks are recovered and the control socket is bound (Daemon.swift).
    SystemdNotifier is enabled by $NOTIFY_SOCKET and libsystemd's sd_notify sends a datagram to
    it (a path or an abstract "@name" socket), so the script binds an AF_UNIX SOCK_DGRAM socket
    at a path, starts boardd with NOTIFY_SOCKET=that path, and measures from just before
    Popen to the arrival of the datagram holding READY=1 (fork+exec of the binary included).
    The earlier EXTEND_TIMEOUT_USEC datagram, sent just before the store is opened, splits
    it: exec -> opening the store (process start, configuration, socket check) and opening
    the store -> READY (open + migrate check, recovery, bind, first statistics). --starts
    starts per store and run, each followed by a clean SIGTERM stop. Target <= 100 ms.
(b) idle RSS: VmRSS from /proc/PID/status of a started daemon 1 s after READY, and again after
    a load (--load-n no-op tasks as plans of 64 from 4 clients, run to closed) settled for
    --settle s (VmHWM, the peak, is shown too), split into RssAnon and RssFile (mapped code and
    data of the binary and libraries), with the largest mappings (/proc/PID/smaps). Target <= 20 MB.
(c) idle CPU: utime+stime from /proc/PID/stat before and after --idle-seconds of idleness
    right after start (CPU-ms and % of one core; clock ticks of 10 ms), cross-checked with the
    sum of the threads' /proc/PID/task/*/schedstat run time (ns), plus context switches per
    second. The same over the --settle s after the load. Target ~ 0.

The 1M store's state directories (1.5 GB each) are deleted after each run unless --keep.

Usage: python3 bench/startup.py [--bin .build/release] [--stored 1000000] [--repeat 3]
                                [--starts 10] [--idle-seconds 60] [--load-n 32000] [--settle 5]
                                [--stores new,empty,1M] [--cache DIR] [--keep]
"""
import argparse, os, select, shutil, socket, statistics, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bigstore  # noqa: E402
from boardbench import Conn, Daemon, NOOP_AGENTS, noop_config, summary, wait_idle  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=".build/release")
ap.add_argument("--dir", default="/tmp/board-bench/startup")
ap.add_argument("--cache", default=None, help="where the generated store is cached (default: DIR/../bigstore)")
ap.add_argument("--stored", type=int, default=1_000_000)
ap.add_argument("--stores", default="new,empty,1M")
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--starts", type=int, default=10)
ap.add_argument("--idle-seconds", type=float, default=60)
ap.add_argument("--load-n", type=int, default=32_000)
ap.add_argument("--settle", type=float, default=5)
ap.add_argument("--sync", default="full")
ap.add_argument("--concurrency", type=int, default=512)
ap.add_argument("--log-level", default="warning")
ap.add_argument("--keep", action="store_true", help="keep the state directories of the 1M store (1.5 GB each)")
a = ap.parse_args()
cache = a.cache or os.path.join(os.path.dirname(os.path.abspath(a.dir)), "bigstore")
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def status(pid):
    out = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def kb(value):
    return int(value.split()[0])


def cpu(pid):
    """(utime+stime in ms from /proc/PID/stat, sum of threads' schedstat run time in ms, context switches)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])          # utime, stime (fields 14 and 15)
    run_ns, switches = 0, 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            run_ns += int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
            s = status(f"{pid}/task/{tid}")
            switches += int(s["voluntary_ctxt_switches"]) + int(s["nonvoluntary_ctxt_switches"])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return ticks * TICK_MS, run_ns / 1e6, switches


def smaps(pid):
    """Resident kB per mapped file ('[anon]' for anonymous memory, heap and stacks)."""
    rss, name = {}, None
    for line in open(f"/proc/{pid}/smaps"):
        parts = line.split()
        if "-" in parts[0] and not parts[0].endswith(":"):
            name = parts[5] if len(parts) > 5 and not parts[5].startswith("[") else "[anon]"
        elif parts[0] == "Rss:":
            rss[name] = rss.get(name, 0) + int(parts[1])
    return sorted(rss.items(), key=lambda kv: -kv[1])


class NotifiedDaemon(Daemon):
    """A Daemon started with NOTIFY_SOCKET pointing at a datagram socket this script reads."""

    def start_notified(self, timeout=120):
        path = os.path.join(self.state, "notify.sock")
        if os.path.exists(path):
            os.unlink(path)
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(path)
        env = dict(self.env, NOTIFY_SOCKET=path)
        env.pop("WATCHDOG_USEC", None); env.pop("WATCHDOG_PID", None)
        log = open(os.path.join(self.state, "boardd.log"), "a")
        t_extend = None
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, env=env, stderr=log)
        deadline = t0 + timeout
        try:
            while True:
                left = deadline - time.perf_counter()
                if left <= 0 or self.proc.poll() is not None:
                    raise SystemExit(f"boardd did not report READY=1 (exit {self.proc.poll()}); see {self.state}/boardd.log")
                if not select.select([ns], [], [], min(left, 0.05))[0]:
                    continue
                msg = ns.recv(4096).decode(errors="replace")
                now = time.perf_counter()
                if "EXTEND_TIMEOUT_USEC=" in msg and t_extend is None:
                    t_extend = now
                if "READY=1" in msg.split("\n"):
                    t_ready = now
                    break
        finally:
            ns.close()
            os.unlink(path)
        c = Conn(self.sock)        # READY means the socket answers: check it
        c.call("ping")
        c.close()
        return (t_ready - t0) * 1e3, ((t_extend or t_ready) - t0) * 1e3


def prepare(kind, r, cached):
    state = os.path.join(a.dir, f"{kind}-{r}")
    config = noop_config(sync=a.sync, concurrency=a.concurrency, log_level=a.log_level)
    if kind == "1M":
        bigstore.install(cached, state)
    elif kind == "empty":
        d = Daemon(a.bin, state, config)
        d.start(); d.stop()
        assert d.proc.returncode == 0
    else:
        shutil.rmtree(state, ignore_errors=True)
    return state, config


def submit_load(sock):
    plans = a.load_n // 64
    params = [{"goal": f"load {k}", "tasks": [{"agent": NOOP_AGENTS[i % 4], "description": f"no-op {k}.{i}"} for i in range(64)]}
              for k in range(plans)]

    def client(i):
        c = Conn(sock)
        inflight = 0
        for p in params[i::4]:
            c.send("plan.create", p)
            inflight += 1
            if inflight == 8:
                c.receive(); inflight -= 1
        while inflight:
            c.receive(); inflight -= 1
        c.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    wait_idle(sock)


def one_run(kind, r, cached):
    state, config = prepare(kind, r, cached)
    starts = []
    for s in range(a.starts):
        if kind == "new" and s > 0:
            state, config = prepare(kind, r, cached)
        d = NotifiedDaemon(a.bin, state, config, keep=True)
        try:
            starts.append(d.start_notified())
        finally:
            d.stop()
        assert d.proc.returncode == 0, d.proc.returncode
    res = {"ready": [x[0] for x in starts], "to_store": [x[1] for x in starts]}
    # The long-lived daemon: RSS after start, idle CPU, load, RSS after load.
    d = NotifiedDaemon(a.bin, state, config, keep=True)
    try:
        d.start_notified()
        pid = d.proc.pid
        time.sleep(1)
        st = status(pid)
        res["rss_start"] = kb(st["VmRSS"]) / 1024
        res["anon_start"], res["file_start"] = kb(st["RssAnon"]) / 1024, kb(st["RssFile"]) / 1024
        res["threads"] = int(status(pid)["Threads"])
        c0, t0 = cpu(pid), time.perf_counter()
        time.sleep(a.idle_seconds)
        c1, t1 = cpu(pid), time.perf_counter()
        secs = t1 - t0
        res["idle_cpu_ms"] = c1[0] - c0[0]
        res["idle_sched_ms"] = c1[1] - c0[1]
        res["idle_pct"] = 100 * (c1[0] - c0[0]) / (secs * 1000)
        res["idle_switches"] = (c1[2] - c0[2]) / secs
        submit_load(d.sock)
        c2, t2 = cpu(pid), time.perf_counter()
        time.sleep(a.settle)
        c3, t3 = cpu(pid), time.perf_counter()
        st = status(pid)
        res["rss_load"] = kb(st["VmRSS"]) / 1024
        res["anon_load"], res["file_load"] = kb(st["RssAnon"]) / 1024, kb(st["RssFile"]) / 1024
        res["hwm"] = kb(st["VmHWM"]) / 1024
        # utime+stime, not the threads' schedstat sum: the pool's worker threads exit once idle
        # after the load, and an exited thread's run time leaves that sum (it went negative).
        res["settle_sched_ms_per_s"] = (c3[0] - c2[0]) / (t3 - t2)
        res["smaps"] = smaps(pid)
    finally:
        d.stop()
    if kind == "1M" and not a.keep:
        shutil.rmtree(state, ignore_errors=True)
    return res


print(f"== scenario 7: start-up, idle RSS and idle CPU; stores {a.stores} ({a.stored:,} stored tasks for 1M), "
      f"synchronous={a.sync}; {a.starts} starts per store and run; idle {a.idle_seconds:g} s; load {a.load_n:,} tasks; "
      f"load avg {load()}", flush=True)
kinds = a.stores.split(",")
cached = bigstore.build(a.bin, cache, a.stored) if "1M" in kinds else None
runs = {k: [] for k in kinds}
for r in range(a.repeat):
    order = kinds if r % 2 == 0 else kinds[::-1]
    for kind in order:
        x = one_run(kind, r, cached)
        runs[kind].append(x)
        rd = x["ready"]
        print(f"  run {r} {kind:>5}: exec->READY median {statistics.median(rd):.1f} [{min(rd):.1f}..{max(rd):.1f}] ms "
              f"(exec->store open median {statistics.median(x['to_store']):.1f} ms); RSS {x['rss_start']:.1f} MB after start "
              f"(anon {x['anon_start']:.1f} + file {x['file_start']:.1f}), {x['rss_load']:.1f} MB after load "
              f"(anon {x['anon_load']:.1f} + file {x['file_load']:.1f}; peak {x['hwm']:.1f}); {x['threads']} threads; idle {a.idle_seconds:g} s: "
              f"{x['idle_cpu_ms']:.0f} CPU-ms ({x['idle_pct']:.3f}%), schedstat {x['idle_sched_ms']:.1f} ms, "
              f"{x['idle_switches']:.1f} switches/s; after load {x['settle_sched_ms_per_s']:.2f} CPU-ms/s  (load {load()})", flush=True)

for kind in kinds:
    print(f"  -- {kind}")
    ready = summary(f"{kind}: exec -> READY (median of {a.starts} starts)",
                    [statistics.median(x["ready"]) for x in runs[kind]], "ms")
    summary(f"{kind}: exec -> READY (worst start)", [max(x["ready"]) for x in runs[kind]], "ms")
    summary(f"{kind}: exec -> opening the store (median)", [statistics.median(x["to_store"]) for x in runs[kind]], "ms")
    rss0 = summary(f"{kind}: VmRSS after start", [x["rss_start"] for x in runs[kind]], "MB")
    rss1 = summary(f"{kind}: VmRSS after load settled", [x["rss_load"] for x in runs[kind]], "MB")
    summary(f"{kind}:   of which RssAnon after start", [x["anon_start"] for x in runs[kind]], "MB")
    summary(f"{kind}:   of which RssFile after start", [x["file_start"] for x in runs[kind]], "MB")
    summary(f"{kind}:   of which RssAnon after load", [x["anon_load"] for x in runs[kind]], "MB")
    summary(f"{kind}:   of which RssFile after load", [x["file_load"] for x in runs[kind]], "MB")
    summary(f"{kind}: VmHWM (peak)", [x["hwm"] for x in runs[kind]], "MB")
    cpu_ms = summary(f"{kind}: idle CPU over {a.idle_seconds:g} s (utime+stime)", [x["idle_cpu_ms"] for x in runs[kind]], "CPU-ms")
    summary(f"{kind}: idle CPU (schedstat)", [x["idle_sched_ms"] for x in runs[kind]], "CPU-ms")
    pct = summary(f"{kind}: idle CPU", [x["idle_pct"] for x in runs[kind]], "%")
    summary(f"{kind}: idle context switches", [x["idle_switches"] for x in runs[kind]], "/s")
    summary(f"{kind}: CPU in the {a.settle:g} s after the load", [x["settle_sched_ms_per_s"] for x in runs[kind]], "ms/s")
    print(f"  {kind}: target exec -> READY <= 100 ms: {'met' if ready <= 100 else 'MISSED'}; "
          f"RSS <= 20 MB: after start {'met' if rss0 <= 20 else 'MISSED'}, after load {'met' if rss1 <= 20 else 'MISSED'}; "
          f"idle CPU ~ 0: {cpu_ms:.0f} CPU-ms in {a.idle_seconds:g} s = {pct:.3f}% of a core", flush=True)
    top = runs[kind][-1]["smaps"]
    print(f"  {kind}: where VmRSS is after the load (last run): " + ", ".join(
        f"{os.path.basename(name)} {kb_ / 1024:.1f}" for name, kb_ in top[:8]) + f", {len(top) - 8} others "
        f"{sum(v for _, v in top[8:]) / 1024:.1f} MB", flush=True)
print(f"  load avg {load()}")
