#!/usr/bin/env python3
"""Scenario 6: does a big store slow boardd down? Empty store vs 1,000,000 stored finished tasks.

Two stores, in the same run, alternating which goes first (ABBA over --repeat), each on a fresh
daemon with the same configuration (noop agents, synchronous=--sync):
  empty   a new state directory (boardd creates the database)
  1M      a copy of the generated store of --stored finished no-op tasks (bench/bigstore.py:
          boardd writes the schema and one real 64-task plan, sqlite3 clones its rows -- plans,
          tasks, events, final plans -- with fresh ids and shifted timestamps, in one
          transaction; building 1M through the daemon would take ~11 min at ~1.5k tasks/s).
          It is built once and cached under --cache (default: beside --dir, shared with
          bench/startup.py); every run copies the cached file.

Reported per store and run:
  submit tasks/s      --n no-op tasks (default 96,000: runs of 32,000, ~3 s each, gave ratios
                      from 70 to 114 % per pair on this machine) submitted as plans of --per-plan from --clients
                      connections (each keeps --window requests in flight), like
                      bench/throughput.py: tasks acknowledged by plan.create per second, from the
                      first send to the last ack (the tasks run meanwhile, as they would).
  per task            boardd's CPU (utime+stime) and bytes written (/proc/PID/io wchar: WAL
                      frames and checkpoints; write_bytes: what reached the device) from the
                      first submit until every plan is closed, divided by the tasks.
  plan.get p50/p99    once everything is closed: --gets sequential plan.get calls on one
                      connection over the plans just submitted (64 closed tasks each), round trip
                      in microseconds; on the big store also over --gets plans of the stored
                      million (random, spread over the whole file).
The target: the big store's submit rate >= 90% of the empty store's, same run (checked on the
medians, and per run on the pair measured back to back).

The big store's state directories (1.5 GB each) are deleted after each run unless --keep.

Usage: python3 bench/scale.py [--bin .build/release] [--n 96000] [--stored 1000000] [--repeat 3]
                              [--sync full] [--gets 2000] [--cache DIR] [--keep]
"""
import argparse, os, shutil, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bigstore  # noqa: E402
from boardbench import Conn, Daemon, NOOP_AGENTS, noop_config, percentile, summary, wait_idle  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=".build/release")
ap.add_argument("--dir", default="/tmp/board-bench/scale")
ap.add_argument("--cache", default=None, help="where the generated store is cached (default: DIR/../bigstore)")
ap.add_argument("--stored", type=int, default=1_000_000)
ap.add_argument("--n", type=int, default=96_000)
ap.add_argument("--per-plan", type=int, default=64)
ap.add_argument("--clients", type=int, default=4)
ap.add_argument("--window", type=int, default=8)
ap.add_argument("--concurrency", type=int, default=512)
ap.add_argument("--gets", type=int, default=2000)
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--sync", default="full")
ap.add_argument("--log-level", default="warning")
ap.add_argument("--keep", action="store_true", help="keep the state directories of the big store (1.5 GB each)")
a = ap.parse_args()
cache = a.cache or os.path.join(os.path.dirname(os.path.abspath(a.dir)), "bigstore")


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def plan_params(k):
    tasks = [{"agent": NOOP_AGENTS[i % len(NOOP_AGENTS)], "description": f"no-op {k}.{i}"} for i in range(a.per_plan)]
    return {"goal": f"benchmark plan {k}", "tasks": tasks}


def submit(sock):
    plans = a.n // a.per_plan
    params = [plan_params(k) for k in range(plans)]
    created = [[] for _ in range(a.clients)]

    def client(i):
        c = Conn(sock)
        inflight = 0
        for p in params[i::a.clients]:
            c.send("plan.create", p)
            inflight += 1
            if inflight == a.window:
                created[i].append(c.receive()["plan_id"]); inflight -= 1
        while inflight:
            created[i].append(c.receive()["plan_id"]); inflight -= 1
        c.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    for t in threads: t.start()
    for t in threads: t.join()
    elapsed = time.perf_counter() - t0
    ids = [p for mine in created for p in mine]
    assert len(ids) == plans, (len(ids), plans)
    return plans * a.per_plan / elapsed, ids


def get_latency(sock, plan_ids):
    c = Conn(sock)
    times = []
    for k in range(a.gets):
        t0 = time.perf_counter()
        p = c.call("plan.get", {"plan_id": plan_ids[k % len(plan_ids)]})
        times.append((time.perf_counter() - t0) * 1e6)
        assert p["status"] == "closed", p["status"]
    c.close()
    return percentile(times, 0.5), percentile(times, 0.99)


def proc_counters(pid):
    """The daemon's CPU ms (utime+stime) and I/O bytes (/proc/PID/io) so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    io = dict(line.split(": ") for line in open(f"/proc/{pid}/io").read().splitlines())
    return {"cpu_ms": (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK"),
            "wchar": int(io["wchar"]), "write_bytes": int(io["write_bytes"]), "read_bytes": int(io["read_bytes"])}


def one_run(kind, r, stored_ids, cached):
    state = os.path.join(a.dir, f"{kind}-{r}")
    if kind == "big":
        bigstore.install(cached, state)
    config = noop_config(sync=a.sync, concurrency=a.concurrency, log_level=a.log_level)
    with Daemon(a.bin, state, config, keep=(kind == "big")) as d:
        before = proc_counters(d.proc.pid)
        rate, ids = submit(d.sock)
        wait_idle(d.sock)
        after = proc_counters(d.proc.pid)
        tasks = len(ids) * a.per_plan
        res = {"rate": rate, "new": get_latency(d.sock, ids),
               "per_task": {k: (after[k] - before[k]) / tasks for k in after}}
        if kind == "big":
            res["stored"] = get_latency(d.sock, stored_ids)
    if kind == "big" and not a.keep:
        shutil.rmtree(state, ignore_errors=True)
    return res


print(f"== scenario 6: empty store vs {a.stored:,} stored finished tasks; submit {a.n:,} no-op tasks (plans of {a.per_plan}, "
      f"{a.clients} clients x {a.window} in flight), synchronous={a.sync}; then {a.gets:,} plan.get; load {load()}", flush=True)
cached = bigstore.build(a.bin, cache, a.stored, a.per_plan)
stored_ids = bigstore.stored_plan_ids(cached, a.gets)
runs = {"empty": [], "big": []}
for r in range(a.repeat):
    order = ("empty", "big") if r % 2 == 0 else ("big", "empty")
    for kind in order:
        x = one_run(kind, r, stored_ids, cached)
        runs[kind].append(x)
        extra = f"; stored plans p50 {x['stored'][0]:,.0f} p99 {x['stored'][1]:,.0f} us" if "stored" in x else ""
        print(f"  run {r} {'empty' if kind == 'empty' else f'{a.stored:,}':>9}: submitted {x['rate']:,.0f} tasks/s; "
              f"plan.get new plans p50 {x['new'][0]:,.0f} p99 {x['new'][1]:,.0f} us{extra}  (load {load()})", flush=True)
        pt = x["per_task"]
        print(f"      per task, submit to closed: boardd CPU {pt['cpu_ms'] * 1000:,.0f} us, wrote {pt['wchar'] / 1024:,.1f} KiB "
              f"(write syscalls; to the device {pt['write_bytes'] / 1024:,.1f} KiB), read from the device "
              f"{pt['read_bytes'] / 1024:,.2f} KiB", flush=True)
    print(f"  run {r} ratio 1M/empty submit rate: {runs['big'][-1]['rate'] / runs['empty'][-1]['rate']:.1%}", flush=True)

e = summary("empty: submitted tasks/s", [x["rate"] for x in runs["empty"]], "tasks/s")
b = summary(f"{a.stored:,}: submitted tasks/s", [x["rate"] for x in runs["big"]], "tasks/s")
summary("empty: plan.get p50 (new plans)", [x["new"][0] for x in runs["empty"]], "us")
summary("empty: plan.get p99 (new plans)", [x["new"][1] for x in runs["empty"]], "us")
summary(f"{a.stored:,}: plan.get p50 (new plans)", [x["new"][0] for x in runs["big"]], "us")
summary(f"{a.stored:,}: plan.get p99 (new plans)", [x["new"][1] for x in runs["big"]], "us")
summary(f"{a.stored:,}: plan.get p50 (stored plans)", [x["stored"][0] for x in runs["big"]], "us")
summary(f"{a.stored:,}: plan.get p99 (stored plans)", [x["stored"][1] for x in runs["big"]], "us")
for kind, label in (("empty", "empty"), ("big", f"{a.stored:,}")):
    summary(f"{label}: boardd CPU per task", [x["per_task"]["cpu_ms"] * 1000 for x in runs[kind]], "us")
    summary(f"{label}: bytes written per task", [x["per_task"]["wchar"] / 1024 for x in runs[kind]], "KiB")
ratios = [bb["rate"] / ee["rate"] for bb, ee in zip(runs["big"], runs["empty"])]
summary("ratio 1M/empty submit rate, per run (%)", [100 * x for x in ratios], "%")
print(f"  target 1M-store submit rate >= 90% of empty (medians: {b / e:.1%}): {'met' if b / e >= 0.9 else 'MISSED'}; "
      f"load {load()}", flush=True)
