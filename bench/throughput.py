#!/usr/bin/env python3
"""Scenarios 1 and 2: durable throughput of no-op tasks, against the peers, in the same run.

N no-op tasks (backend "noop", in process) are submitted through the socket as plans of
--per-plan explicit tasks from --clients connections (each keeps --window requests in flight),
and run to `completed`. Reported per run:
  submitted/s  tasks acknowledged by plan.create per second (every create is durable)
  completed/s  tasks from the first submit until the last task is completed (the figure)
  closed/s     the same until every plan is closed too (the CEO's offline synthesis included)
Every transition still writes its event row; nothing is skipped for the benchmark.

Peers in the same run (from ../shared/bench, or $BOARD_BENCH_PEERS), per synchronous mode:
  seed_loop.py        the prototype-style Python loop (one commit per transition)
  sqlite_limit.sh     raw one-row INSERT commits/s from C (the physical limit of one committer)

Usage: python3 bench/throughput.py [--bin .build/release] [--n 100000] [--repeat 3]
                                   [--sync full,normal] [--no-peers] [--log-level warning]
"""
import argparse, os, re, statistics as st, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boardbench import Conn, Daemon, NOOP_AGENTS, PEERS, noop_config, run_peer, summary  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=".build/release")
ap.add_argument("--dir", default="/tmp/board-bench/throughput")
ap.add_argument("--n", type=int, default=100_000)
ap.add_argument("--per-plan", type=int, default=64)
ap.add_argument("--clients", type=int, default=4)
ap.add_argument("--window", type=int, default=8)
ap.add_argument("--concurrency", type=int, default=512)
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--sync", default="full,normal")
ap.add_argument("--log-level", default="warning")
ap.add_argument("--no-peers", action="store_true")
ap.add_argument("--peer-n", type=int, default=2000)
a = ap.parse_args()


def plan_params(k):
    tasks = [{"agent": NOOP_AGENTS[i % len(NOOP_AGENTS)], "description": f"no-op {k}.{i}"} for i in range(a.per_plan)]
    return {"goal": f"benchmark plan {k}", "tasks": tasks}


def one_run(sync, r):
    plans = a.n // a.per_plan
    tasks = plans * a.per_plan
    config = noop_config(sync=sync, concurrency=a.concurrency, log_level=a.log_level)
    with Daemon(a.bin, os.path.join(a.dir, f"{sync}-{r}"), config) as d:
        params = [plan_params(k) for k in range(plans)]
        acked = [0] * a.clients

        def submit(c_index):
            c = Conn(d.sock)
            mine = params[c_index::a.clients]
            inflight = 0
            for p in mine:
                c.send("plan.create", p)
                inflight += 1
                if inflight == a.window:
                    c.receive(); inflight -= 1; acked[c_index] += 1
            while inflight:
                c.receive(); inflight -= 1; acked[c_index] += 1
            c.close()

        t0 = time.perf_counter()
        threads = [threading.Thread(target=submit, args=(i,)) for i in range(a.clients)]
        for t in threads: t.start()
        for t in threads: t.join()
        t_submitted = time.perf_counter()
        c = Conn(d.sock)
        t_completed = None
        while True:
            s = c.call("daemon.status")
            if t_completed is None and s["tasks"]["pending"] == 0 and s["tasks"]["in_progress"] == 0:
                t_completed = time.perf_counter()
            if t_completed is not None and s["plans"]["open"] == 0 and s["plans"]["synthesizing"] == 0:
                t_closed = time.perf_counter()
                break
            time.sleep(0.002)
        # Trust, but verify: every task completed, every plan closed.
        metrics = c.call("metrics.get")
        c.close()
    assert sum(acked) == plans, (sum(acked), plans)
    text = metrics if isinstance(metrics, str) else metrics.get("text", "")
    done = sum(float(v) for v in re.findall(r'^board_tasks_completed_total(?:\{[^}]*\})? ([0-9.e+]+)$', text, re.M))
    if text and done != tasks:
        print(f"    ! metrics say {done:.0f} tasks completed, expected {tasks}")
    return tasks / (t_submitted - t0), tasks / (t_completed - t0), tasks / (t_closed - t0)


def peers(sync):
    if a.no_peers or not os.path.isdir(PEERS):
        print(f"  (peers skipped: {'--no-peers' if a.no_peers else PEERS + ' not found'})")
        return {}
    out = {}
    text = run_peer([sys.executable, os.path.join(PEERS, "seed_loop.py"), "--n", str(a.peer_n), "--repeat", str(a.repeat),
                     "--sync", sync.upper(), "--db", os.path.join(a.dir, "seed", "seed.db")])
    m = re.search(r"end-to-end tasks/s median\s+(\d+)", text)
    if m: out["seed"] = float(m.group(1))
    n_commits = "5000" if sync == "full" else "50000"
    env_argv = ["env", "IMPL=c", "MODES=insert", f"SYNCS={sync.upper()}", "BATCHES=1",
                os.path.join(PEERS, "sqlite_limit.sh"), os.path.join(a.dir, "sq"), n_commits, n_commits, str(a.repeat)]
    text = run_peer(env_argv)
    m = re.search(r"^c\s+insert\s+\w+\s+1\s+(\d+)", text, re.M)
    if m: out["raw"] = float(m.group(1))
    return out


for sync in a.sync.split(","):
    print(f"== scenario {'1' if sync == 'full' else '2'}: {a.n:,} no-op tasks (plans of {a.per_plan}), synchronous={sync}, "
          f"{a.clients} clients x {a.window} in flight, concurrency {a.concurrency}, log level {a.log_level}", flush=True)
    runs = []
    for r in range(a.repeat):
        res = one_run(sync, r)
        print(f"  run {r}: submitted {res[0]:,.0f}/s, completed {res[1]:,.0f} tasks/s, closed {res[2]:,.0f} tasks/s", flush=True)
        runs.append(res)
    sub = summary("boardd submitted tasks/s", [x[0] for x in runs])
    comp = summary("boardd completed tasks/s (the figure)", [x[1] for x in runs])
    summary("boardd completed + plans closed tasks/s", [x[2] for x in runs])
    p = peers(sync)
    if "seed" in p:
        print(f"  vs seed-style Python loop ({p['seed']:,.0f} tasks/s): {comp / p['seed']:.1f}x  (target >= 20x)")
    if "raw" in p:
        print(f"  vs raw one-row commits ({p['raw']:,.0f} commits/s): {comp / p['raw']:.1f}x  (target >= 5x)")
    print(f"  target >= 40,000 tasks/s: {'met' if comp >= 40_000 else 'MISSED'}", flush=True)
