#!/usr/bin/env python3
"""Crash soak for boardd: steady load, SIGKILL at random moments, then audit the database.

The soak starts boardd on a private state directory with `command` agents that are small shell
scripts (quick and successful, flaky, slow), drives it with a mixed load from a few client
threads over the raw socket, and kills it with SIGKILL at random moments, restarting it each
time. After every restart it checks that no agent process of an earlier daemon is still running
(boardd kills the orphans of the tasks it recovers). At the end it stops boardd gracefully,
opens the database read-only and checks that no acknowledged work was lost and that every
task's and plan's audit trail is a legal path of the lifecycle (docs/PROTOCOL.md).

    swift build && scripts/soak.py --cycles 5          # CI: well under a minute
    scripts/soak.py --cycles 50 --seed 7               # the full soak

It prints a summary and a last line `N passed, N failed` (checks), and exits non-zero when a
check failed. See docs/RELIABILITY.md. Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

# --------------------------------------------------------------------------------------------
# Agents: small shell scripts. Each one reads the task from stdin, logs its run (claim and
# attempt) to $SOAK_RUNS, and answers like a `command` agent (docs/CONFIGURATION.md).

RANDOM_SH = 'r=$(od -An -N2 -tu2 /dev/urandom | tr -d " ")\n'

AGENT_SCRIPTS = {
    # Quick and always successful: 50-300 ms. One first attempt in five is only moderately sure
    # (confidence 0.6), which earns the task another pass while attempts remain: the write that
    # records it claims the same task again at once.
    "ok.sh": RANDOM_SH + """\
cat >/dev/null
echo "$BOARD_CLAIM $BOARD_ATTEMPT" >>"$SOAK_RUNS"
sleep 0.$(printf %03d $((50 + r % 250)))
confidence=0.9
if [ "$BOARD_ATTEMPT" = 1 ] && [ $((r % 5)) -eq 0 ]; then confidence=0.6; fi
printf '{"summary": "ok: %s attempt %s", "confidence": %s}\\n' "$BOARD_TASK_ID" "$BOARD_ATTEMPT" "$confidence"
""",
    # Flaky: fails (exit 1) 40 % of the time after 20-200 ms, else succeeds.
    "flaky.sh": RANDOM_SH + """\
cat >/dev/null
echo "$BOARD_CLAIM $BOARD_ATTEMPT" >>"$SOAK_RUNS"
sleep 0.$(printf %03d $((20 + r % 180)))
if [ $((r % 10)) -lt 4 ]; then
    echo "flaky: upstream returned 503 for $BOARD_TASK_ID" >&2
    exit 1
fi
printf '{"summary": "flaky but fine: %s", "confidence": 0.9}\\n' "$BOARD_TASK_ID"
""",
    # Slow: 1-3 s, so kills and cancels often find it running.
    "slow.sh": RANDOM_SH + """\
cat >/dev/null
echo "$BOARD_CLAIM $BOARD_ATTEMPT" >>"$SOAK_RUNS"
sleep $((1 + r % 2)).$(printf %03d $((r % 1000)))
printf '{"summary": "slow and steady: %s", "confidence": 0.9}\\n' "$BOARD_TASK_ID"
""",
}
AGENT_OF_SCRIPT = {"CFO": "ok.sh", "CTO": "flaky.sh", "CMO": "slow.sh"}
# COO stays `builtin` (offline, in-process): tasks that need no process at all.
ROLES = ["CFO", "CTO", "CMO", "COO"]

TASK_STATES = {"pending", "in_progress", "completed", "failed", "escalated", "cancelled"}
SETTLED = {"completed", "failed", "escalated", "cancelled"}
PLAN_STATUSES = {"planning", "open", "synthesizing", "closed", "blocked", "failed", "cancelled"}
FINAL_PLAN = {"closed", "cancelled"}

# Task events: kind -> (allowed from states, allowed to states).
TASK_MOVES = {
    "task_started": ({"pending"}, {"in_progress"}),
    "task_completed": ({"in_progress"}, {"completed"}),
    "task_retry": ({"in_progress"}, {"pending"}),
    "task_escalated": ({"in_progress"}, {"escalated"}),
    "task_failed": ({"in_progress"}, {"failed"}),
    "task_cancelled": ({"pending", "in_progress"}, {"cancelled"}),
    "task_requeued": ({"failed", "escalated", "cancelled"}, {"pending"}),
    "task_recovered": ({"in_progress"}, {"pending", "escalated"}),
    "task_interrupted": ({"in_progress"}, {"pending"}),
}
# Plan events: kind -> the status it enters.
PLAN_EVENT_TARGET = {
    "plan_planning": "planning",
    "plan_planned": "open",
    "plan_reopened": "open",
    "plan_synthesizing": "synthesizing",
    "plan_closed": "closed",
    "plan_blocked": "blocked",
    "plan_failed": "failed",
    "plan_cancelled": "cancelled",
}

MAX_LISTED = 20  # violations printed per check
SLOWEST_REPLY = 0.0  # seconds, over every reply any client read


class Checks:
    """Named checks, each passed or failed, with the violations that failed it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.names: list[str] = []
        self.violations: dict[str, list[str]] = collections.defaultdict(list)

    def declare(self, name: str) -> None:
        with self.lock:
            if name not in self.names:
                self.names.append(name)

    def fail(self, name: str, message: str) -> None:
        with self.lock:
            if name not in self.names:
                self.names.append(name)
            self.violations[name].append(message)

    def report(self) -> tuple[int, int]:
        passed = failed = 0
        for name in self.names:
            found = self.violations.get(name, [])
            if found:
                failed += 1
                print(f"FAIL  {name}: {len(found)} violation(s)")
                for message in found[:MAX_LISTED]:
                    print(f"        - {message}")
                if len(found) > MAX_LISTED:
                    print(f"        … and {len(found) - MAX_LISTED} more")
            else:
                passed += 1
                print(f"ok    {name}")
        return passed, failed

    def total(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.violations.values())


# --------------------------------------------------------------------------------------------
# The wire.


class RPCError(Exception):
    def __init__(self, code: int, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.code, self.reason, self.message = code, reason, message


class Lost(Exception):
    """The connection broke or timed out: the request's outcome is unknown."""


class Client:
    def __init__(self, path: str, timeout: float):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError as error:
            self.sock.close()
            raise Lost(f"connect: {error}") from None
        self.file = self.sock.makefile("rb")
        self.ids = itertools.count(1)
        self.sent_at: dict[int, float] = {}

    def call(self, method: str, **params):
        return self.receive(self.send(method, params))

    def send(self, method: str, params: dict) -> int:
        """Writes one request line (pipelining: several may be sent before their replies are read)."""
        request_id = next(self.ids)
        request = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params:
            request["params"] = params
        self.sent_at[request_id] = time.monotonic()
        try:
            self.sock.sendall(json.dumps(request).encode() + b"\n")
        except OSError as error:
            raise Lost(f"{method}: {type(error).__name__}: {error}") from None
        return request_id

    def receive(self, request_id: int):
        """Reads the next reply, which must answer `request_id`."""
        try:
            line = self.file.readline()
        except (OSError, ValueError) as error:  # timeouts are OSErrors
            raise Lost(f"request {request_id}: {type(error).__name__}: {error}") from None
        if not line:
            raise Lost(f"request {request_id}: connection closed")
        latency = time.monotonic() - self.sent_at.pop(request_id, time.monotonic())
        global SLOWEST_REPLY
        SLOWEST_REPLY = max(SLOWEST_REPLY, latency)
        reply = json.loads(line)
        if reply.get("id") != request_id:
            raise RPCError(0, "protocol", f"reply id {reply.get('id')!r} for request {request_id}")
        if "error" in reply:
            error = reply["error"]
            raise RPCError(error.get("code", 0), (error.get("data") or {}).get("reason", "?"), error.get("message", ""))
        return reply["result"]

    def close(self) -> None:
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


# --------------------------------------------------------------------------------------------
# Processes.


def scan_claims(marker: str) -> dict[int, str]:
    """pid -> BOARD_CLAIM of every live process carrying this soak's marker in its environment."""
    found: dict[int, str] = {}
    needle = f"SOAK_MARKER={marker}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            continue
        fields = environ.split(b"\0")
        if needle not in fields:
            continue
        for field in fields:
            if field.startswith(b"BOARD_CLAIM="):
                found[int(entry)] = field[len(b"BOARD_CLAIM="):].decode(errors="replace")
                break
    return found


def describe(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


class Daemon:
    """One boardd process at a time on the soak's state directory."""

    def __init__(self, binary: str, state_dir: str, config: str, log_path: str):
        self.binary, self.state_dir, self.config, self.log_path = binary, state_dir, config, log_path
        self.socket = os.path.join(state_dir, "boardd.sock")
        self.proc: subprocess.Popen | None = None
        self.generation = 0

    def start(self, timeout: float) -> float:
        """Starts boardd and waits until it answers ping; returns the seconds it took."""
        began = time.monotonic()
        with open(self.log_path, "ab") as log:
            log.write(f"==== start {self.generation + 1} at {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [self.binary, "--state-dir", self.state_dir, "--config", self.config],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        self.generation += 1
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"boardd exited with status {self.proc.returncode} while starting (log: {self.log_path})")
            try:
                client = Client(self.socket, 2.0)
                try:
                    if client.call("ping").get("pong"):
                        return time.monotonic() - began
                finally:
                    client.close()
            except (Lost, RPCError, ValueError):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"boardd did not answer ping within {timeout:.0f} s (log: {self.log_path})")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float) -> int | None:
        """SIGTERM; returns the exit status, or None when it did not exit in time (then SIGKILL)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


# --------------------------------------------------------------------------------------------
# Load.


class Ledger:
    """What the clients asked for and what the daemon acknowledged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.creates: dict[str, dict] = {}  # idempotency key -> request and outcome
        self.acked: list[str] = []  # keys whose plan.create was acknowledged, in order
        self.unknown: set[str] = set()  # keys whose request was in flight when the daemon died
        self.in_flight: dict[str, set[str]] = collections.defaultdict(set)  # client -> keys sent, not answered
        self.tasks: dict[str, list[str]] = {}  # plan_id -> task ids
        self.live_plans: set[str] = set()  # plans last seen not final
        self.counts: collections.Counter = collections.Counter()

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n


class Load:
    """Client threads driving a mixed load; they pause while the daemon is down."""

    WEIGHTS = [
        ("create", 10), ("burst", 4), ("get", 22), ("events", 10), ("retry", 14), ("task_cancel", 5), ("plan_cancel", 3),
        ("replay", 8), ("status", 8), ("list", 4),
    ]

    def __init__(self, args, daemon: Daemon, checks: Checks, ledger: Ledger):
        self.args, self.daemon, self.checks, self.ledger = args, daemon, checks, ledger
        self.up = threading.Event()
        self.stopping = threading.Event()
        self.killed_generations: set[int] = set()
        self.up_generation = 0  # the daemon that answered ping last; set before `up`
        self.backlog = 0
        self.key_counter = itertools.count(1)
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for index in range(self.args.clients):
            thread = threading.Thread(target=self.run, args=(index,), name=f"client-{index}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self, timeout: float) -> None:
        self.stopping.set()
        end = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, end - time.monotonic()))
            if thread.is_alive():
                self.checks.fail("client replies", f"{thread.name} did not stop within {timeout:.0f} s")

    # One client.
    def run(self, index: int) -> None:
        rng = random.Random(f"{self.args.seed}-client-{index}")
        client: Client | None = None
        generation = 0
        while not self.stopping.is_set():
            if not self.up.wait(0.1):
                continue
            if client is None or generation != self.up_generation:
                if client:
                    client.close()
                generation = self.up_generation
                try:
                    client = Client(self.daemon.socket, self.args.request_timeout)
                except Lost as lost:
                    client = None
                    self.lost(generation, f"client-{index}", str(lost))
                    continue
                self.resolve_unknown(client, generation)
            op = rng.choices([w[0] for w in self.WEIGHTS], [w[1] for w in self.WEIGHTS])[0]
            try:
                getattr(self, "op_" + op)(client, rng, generation)
            except Lost as lost:
                client.close()
                client = None
                with self.ledger.lock:  # their outcome is unknown: replay them on the next connection
                    self.ledger.unknown |= self.ledger.in_flight.pop(threading.current_thread().name, set())
                self.lost(generation, f"client-{index}", str(lost))
                continue
            except Exception as error:  # a malformed reply, say: report it and go on
                self.checks.fail("client replies", f"client-{index} {op}: {type(error).__name__}: {error}")
                client.close()
                client = None
                with self.ledger.lock:
                    self.ledger.unknown |= self.ledger.in_flight.pop(threading.current_thread().name, set())
                continue
            self.ledger.count("operations")
            time.sleep(rng.uniform(0.002, 0.03))
        if client:
            client.close()

    def lost(self, generation: int, who: str, what: str) -> None:
        """A connection broke. Expected when that daemon was killed; a violation otherwise."""
        self.ledger.count("connections lost to a kill")
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            if generation in self.killed_generations or self.stopping.is_set():
                return
            time.sleep(0.05)
        self.checks.fail("client replies", f"{who}: {what} while daemon #{generation} was running (not killed)")
        time.sleep(0.2)

    def unexpected(self, what: str, error: RPCError) -> None:
        self.checks.fail("client replies", f"{what}: unexpected error {error.code} {error}")

    # plan.create and its replays.
    def send_create(self, client: Client, key: str):
        return client.call("plan.create", **self.create_params(key))

    def acknowledge(self, key: str, result: dict, replay: bool) -> None:
        ledger = self.ledger
        with ledger.lock:
            record = ledger.creates[key]
            plan_id = result["plan_id"]
            if record.get("plan_id") and record["plan_id"] != plan_id:
                self.checks.fail("idempotent replays", f"key {key}: first acknowledged as {record['plan_id']}, now {plan_id}")
                return
            if replay and record.get("plan_id") and result.get("created") is not False:
                self.checks.fail("idempotent replays", f"key {key}: replay of an acknowledged create returned created={result.get('created')}")
            if not record.get("plan_id"):
                record["plan_id"] = plan_id
                record["task_ids"] = [t["task_id"] for t in result["tasks"]]
                record["task_agents"] = [t["agent"] for t in result["tasks"]]
                record["created_flag"] = result.get("created")
                ledger.acked.append(key)
                ledger.tasks[plan_id] = record["task_ids"]
                if result["status"] not in FINAL_PLAN:
                    ledger.live_plans.add(plan_id)
                expected = list(dict.fromkeys(record["agents"]))
                if record["task_agents"] != expected:
                    self.checks.fail("client replies", f"plan {plan_id}: tasks for {record['task_agents']}, asked for {expected}")
            ledger.unknown.discard(key)
            ledger.in_flight[threading.current_thread().name].discard(key)

    def new_create(self, rng: random.Random, agents: list[str] | None = None) -> str:
        """Draws a plan.create request and records it as in flight until its reply arrives."""
        number = next(self.key_counter)
        key = f"soak-{self.args.seed}-{number}"
        record = {
            "goal": f"soak plan {number}: " + rng.choice(["open an office", "cut cloud spend", "launch a SaaS", "hire a team"]),
            # Not "": boardd stores an empty context as null (docs/RELIABILITY.md, bugs found).
            "context": rng.choice([None, None, f"context {number}"]),
            "agents": agents or rng.sample(ROLES, rng.randint(1, len(ROLES))),
            "max_attempts": rng.choice([None, None, 1, 2, 3]),
        }
        with self.ledger.lock:
            self.ledger.creates[key] = record
            self.ledger.in_flight[threading.current_thread().name].add(key)
        return key

    def create_params(self, key: str) -> dict:
        record = self.ledger.creates[key]
        params = {"goal": record["goal"], "agents": record["agents"], "idempotency_key": key}
        if record["context"] is not None:
            params["context"] = record["context"]
        if record["max_attempts"] is not None:
            params["max_attempts"] = record["max_attempts"]
        return params

    def refused(self, key: str, error: RPCError) -> None:
        with self.ledger.lock:
            self.ledger.in_flight[threading.current_thread().name].discard(key)
            self.ledger.creates[key]["refused"] = str(error)
        self.unexpected(f"plan.create {key}", error)

    def op_create(self, client: Client, rng: random.Random, generation: int) -> None:
        if self.backlog > self.args.max_backlog:
            return self.op_status(client, rng, generation)
        key = self.new_create(rng)
        try:
            result = client.call("plan.create", **self.create_params(key))
        except RPCError as error:
            return self.refused(key, error)
        self.ledger.count("plan.create acknowledged")
        self.acknowledge(key, result, replay=False)

    def op_burst(self, client: Client, rng: random.Random, generation: int) -> None:
        """Several creates pipelined on one connection, so that kills often find some in flight.
        While the backlog is high they assign only the builtin COO, whose tasks take milliseconds."""
        agents = ["COO"] if self.backlog > self.args.max_backlog else None
        keys = [self.new_create(rng, agents) for _ in range(rng.randint(2, 6))]
        ids = [client.send("plan.create", self.create_params(key)) for key in keys]
        for key, request_id in zip(keys, ids):
            try:
                result = client.receive(request_id)
            except RPCError as error:
                self.refused(key, error)
                continue
            self.ledger.count("plan.create acknowledged")
            self.acknowledge(key, result, replay=False)

    def resolve_unknown(self, client: Client, generation: int) -> None:
        """Sends again, with the same idempotency key, every create whose reply was lost."""
        with self.ledger.lock:
            keys = sorted(k for k in self.ledger.unknown if not self.ledger.creates[k].get("resolving"))
            for key in keys:
                self.ledger.creates[key]["resolving"] = True
        try:
            for key in keys:
                record = self.ledger.creates[key]
                try:
                    result = self.send_create(client, key)
                except RPCError as error:
                    self.unexpected(f"plan.create replay {key}", error)
                    with self.ledger.lock:
                        self.ledger.unknown.discard(key)
                    continue
                self.ledger.count("unknown creates: existed" if result.get("created") is False else "unknown creates: new")
                self.acknowledge(key, result, replay=False)
        except Lost:
            pass  # still unknown; the next connection tries again
        finally:
            with self.ledger.lock:
                for key in keys:
                    self.ledger.creates[key]["resolving"] = False

    def op_replay(self, client: Client, rng: random.Random, generation: int) -> None:
        with self.ledger.lock:
            if not self.ledger.acked:
                return
            key = rng.choice(self.ledger.acked)
            record = self.ledger.creates[key]
        try:
            result = self.send_create(client, key)
        except RPCError as error:
            return self.unexpected(f"plan.create replay {key}", error)
        self.ledger.count("replays")
        self.acknowledge(key, result, replay=True)

    # Reads.
    def pick_plan(self, rng: random.Random, live: bool) -> str | None:
        with self.ledger.lock:
            if live and self.ledger.live_plans and rng.random() < 0.8:
                return rng.choice(sorted(self.ledger.live_plans)[-200:])
            if not self.ledger.acked:
                return None
            key = rng.choice(self.ledger.acked[-300:]) if rng.random() < 0.7 else rng.choice(self.ledger.acked)
            return self.ledger.creates[key]["plan_id"]

    def get_plan(self, client: Client, plan_id: str) -> dict | None:
        try:
            plan = client.call("plan.get", plan_id=plan_id)
        except RPCError as error:
            self.unexpected(f"plan.get {plan_id} (acknowledged)", error)
            return None
        self.check_detail(plan)
        with self.ledger.lock:
            if plan["status"] in FINAL_PLAN:
                self.ledger.live_plans.discard(plan_id)
        return plan

    def check_detail(self, plan: dict) -> None:
        plan_id = plan["plan_id"]
        with self.ledger.lock:
            expected = self.ledger.tasks.get(plan_id)
        ids = [t["task_id"] for t in plan["tasks"]]
        if expected is not None and ids != expected:
            self.checks.fail("client replies", f"plan.get {plan_id}: tasks {ids}, acknowledged {expected}")
        if plan["status"] not in PLAN_STATUSES:
            self.checks.fail("client replies", f"plan.get {plan_id}: status {plan['status']!r}")
        counts = collections.Counter(t["state"] for t in plan["tasks"])
        for state in TASK_STATES:
            if plan["task_counts"].get(state) != counts.get(state, 0):
                self.checks.fail("client replies", f"plan.get {plan_id}: task_counts {plan['task_counts']} but tasks {dict(counts)}")
                break
        for task in plan["tasks"]:
            if task["state"] not in TASK_STATES or task["attempts"] > task["max_attempts"]:
                self.checks.fail("client replies", f"plan.get {plan_id}: task {task['task_id']} {task['state']} "
                                                   f"{task['attempts']}/{task['max_attempts']}")

    def op_get(self, client: Client, rng: random.Random, generation: int) -> None:
        plan_id = self.pick_plan(rng, live=False)
        if plan_id:
            self.get_plan(client, plan_id)

    def op_events(self, client: Client, rng: random.Random, generation: int) -> None:
        plan_id = self.pick_plan(rng, live=True)
        if not plan_id:
            return
        try:
            events = client.call("events.list", plan_id=plan_id, limit=10000)["events"]
        except RPCError as error:
            return self.unexpected(f"events.list {plan_id}", error)
        if not events or events[-1]["kind"] != "plan_created":
            self.checks.fail("client replies", f"events.list {plan_id}: oldest event is "
                                               f"{events[-1]['kind'] if events else 'missing'}, not plan_created")

    def op_status(self, client: Client, rng: random.Random, generation: int) -> None:
        try:
            status = client.call("daemon.status")
        except RPCError as error:
            return self.unexpected("daemon.status", error)
        self.backlog = status["tasks"]["pending"] + status["tasks"]["in_progress"]
        if status["pid"] != self.daemon.pid:
            self.checks.fail("client replies", f"daemon.status: pid {status['pid']}, expected {self.daemon.pid}")

    def op_list(self, client: Client, rng: random.Random, generation: int) -> None:
        status = rng.choice([None, "open", "blocked", "closed", "cancelled", "synthesizing"])
        params = {"limit": 50}
        if status:
            params["status"] = status
        try:
            plans = client.call("plan.list", **params)["plans"]
        except RPCError as error:
            return self.unexpected("plan.list", error)
        for plan in plans:
            if status and plan["status"] != status:
                self.checks.fail("client replies", f"plan.list status={status} returned a {plan['status']} plan")

    # Changes.
    def op_retry(self, client: Client, rng: random.Random, generation: int) -> None:
        plan_id = self.pick_plan(rng, live=True)
        if not plan_id:
            return
        plan = self.get_plan(client, plan_id)
        if not plan or plan["status"] in FINAL_PLAN:
            return
        for task in plan["tasks"]:
            if task["state"] in ("failed", "escalated", "cancelled") and rng.random() < 0.7:
                try:
                    result = client.call("task.retry", task_id=task["task_id"])
                except RPCError as error:
                    if error.reason == "invalid_state":  # the plan or the task moved meanwhile
                        self.ledger.count("task.retry refused (invalid_state)")
                        continue
                    self.unexpected(f"task.retry {task['task_id']}", error)
                    continue
                self.ledger.count("task.retry")
                if result["state"] != "pending" or result["max_attempts"] < result["attempts"] + 1:
                    self.checks.fail("client replies", f"task.retry {task['task_id']}: {result['state']} "
                                                       f"{result['attempts']}/{result['max_attempts']}")

    def op_task_cancel(self, client: Client, rng: random.Random, generation: int) -> None:
        plan_id = self.pick_plan(rng, live=True)
        if not plan_id:
            return
        with self.ledger.lock:
            task_ids = self.ledger.tasks.get(plan_id) or []
        if not task_ids:
            return
        task_id = rng.choice(task_ids)
        try:
            result = client.call("task.cancel", task_id=task_id)
        except RPCError as error:
            if error.reason == "invalid_state":
                self.ledger.count("task.cancel refused (invalid_state)")
                return
            return self.unexpected(f"task.cancel {task_id}", error)
        self.ledger.count("task.cancel")
        if result["state"] != "cancelled":
            self.checks.fail("client replies", f"task.cancel {task_id}: state {result['state']}")

    def op_plan_cancel(self, client: Client, rng: random.Random, generation: int) -> None:
        plan_id = self.pick_plan(rng, live=True)
        if not plan_id:
            return
        try:
            result = client.call("plan.cancel", plan_id=plan_id)
        except RPCError as error:
            if error.reason == "invalid_state":
                self.ledger.count("plan.cancel refused (invalid_state)")
                return
            return self.unexpected(f"plan.cancel {plan_id}", error)
        self.ledger.count("plan.cancel")
        with self.ledger.lock:
            self.ledger.live_plans.discard(plan_id)
        if result["status"] != "cancelled" or any(t["state"] in ("pending", "in_progress") for t in result["tasks"]):
            self.checks.fail("client replies", f"plan.cancel {plan_id}: status {result['status']}, "
                                               f"tasks {[t['state'] for t in result['tasks']]}")


# --------------------------------------------------------------------------------------------
# The audit of the database.


def audit(db_path: str, ledger: Ledger, runs_path: str, checks: Checks, stats: dict) -> None:
    for name in ["integrity check", "acknowledged plans exist with their tasks", "idempotency keys",
                 "task states legal", "no task completed twice", "task event paths legal",
                 "attempts within max_attempts", "task rows match their last event", "plan event paths legal",
                 "plan statuses consistent with tasks", "agent runs recorded, none twice"]:
        checks.declare(name)

    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    result = [row[0] for row in db.execute("PRAGMA integrity_check")]
    stats["integrity_check"] = " ".join(result)
    if result != ["ok"]:
        checks.fail("integrity check", "PRAGMA integrity_check: " + "; ".join(result[:10]))

    plans = {row["plan_id"]: dict(row) for row in db.execute("SELECT * FROM plans")}
    tasks = {row["task_id"]: dict(row) for row in db.execute("SELECT * FROM tasks ORDER BY seq")}
    finals = {row["plan_id"] for row in db.execute("SELECT plan_id FROM final_plans")}
    events = [dict(row) for row in db.execute("SELECT * FROM events ORDER BY seq")]
    tasks_of: dict[str, list[dict]] = collections.defaultdict(list)
    for task in tasks.values():
        tasks_of[task["plan_id"]].append(task)
    stats.update(plans=len(plans), tasks=len(tasks), events=len(events), final_plans=len(finals))

    # Acknowledged creates.
    by_key = {p["idempotency_key"]: p for p in plans.values() if p["idempotency_key"] is not None}
    for key in ledger.acked:
        record = ledger.creates[key]
        plan_id = record["plan_id"]
        plan = plans.get(plan_id)
        if plan is None:
            checks.fail("acknowledged plans exist with their tasks", f"{plan_id} (key {key}) is not in the database")
            continue
        stored = [t["task_id"] for t in sorted(tasks_of[plan_id], key=lambda t: t["position"])]
        if stored != record["task_ids"]:
            checks.fail("acknowledged plans exist with their tasks", f"{plan_id}: tasks {stored}, acknowledged {record['task_ids']}")
        if plan["goal"] != record["goal"] or plan["context"] != record["context"]:
            checks.fail("acknowledged plans exist with their tasks", f"{plan_id}: goal/context differ from the request")
        if by_key.get(key, {}).get("plan_id") != plan_id:
            checks.fail("idempotency keys", f"key {key}: acknowledged {plan_id}, database has {by_key.get(key, {}).get('plan_id')}")
    for key, plan in by_key.items():
        record = ledger.creates.get(key)
        if record is None:
            checks.fail("idempotency keys", f"plan {plan['plan_id']} has key {key} that no client sent")
        elif not record.get("plan_id"):
            checks.fail("idempotency keys", f"plan {plan['plan_id']} for key {key} exists, but its create was never resolved")
    unresolved = sorted(ledger.unknown | set().union(*ledger.in_flight.values()))
    if unresolved:
        checks.fail("idempotency keys", f"{len(unresolved)} create(s) still unknown at the end: {unresolved[:5]}")
    for plan_id in plans:
        if plans[plan_id]["idempotency_key"] is None:
            checks.fail("idempotency keys", f"plan {plan_id} has no idempotency key (every soak create has one)")

    # Task states.
    for task in tasks.values():
        if task["state"] not in TASK_STATES:
            checks.fail("task states legal", f"{task['task_id']}: state {task['state']!r}")
        elif task["state"] == "in_progress":
            checks.fail("task states legal", f"{task['task_id']}: in_progress after a graceful stop "
                                             f"(claim {task['claim_owner']})")
        if task["state"] != "in_progress" and (task["claim_owner"] or task["lease_expires_at"]):
            checks.fail("task states legal", f"{task['task_id']}: {task['state']} with a claim {task['claim_owner']}")
        if task["state"] == "pending" and task["attempts"] >= task["max_attempts"]:
            checks.fail("task states legal", f"{task['task_id']}: pending with no attempt left "
                                             f"({task['attempts']}/{task['max_attempts']})")
        if task["attempts"] > task["max_attempts"]:
            checks.fail("attempts within max_attempts", f"{task['task_id']}: {task['attempts']}/{task['max_attempts']}")
        if task["plan_id"] not in plans:
            checks.fail("task states legal", f"{task['task_id']}: plan {task['plan_id']} does not exist")

    # Event paths.
    task_events: dict[str, list[dict]] = collections.defaultdict(list)
    plan_events: dict[str, list[dict]] = collections.defaultdict(list)
    kinds = collections.Counter()
    for event in events:
        kinds[event["kind"]] += 1
        event["payload"] = json.loads(event["payload"])
        if event["task_id"] is not None:
            task_events[event["task_id"]].append(event)
            if event["task_id"] in tasks and tasks[event["task_id"]]["plan_id"] != event["plan_id"]:
                checks.fail("task event paths legal", f"{event['event_id']}: task {event['task_id']} of another plan")
        else:
            plan_events[event["plan_id"]].append(event)
    stats["kinds"] = kinds

    for task_id, task in tasks.items():
        path = task_events.get(task_id, [])
        if not path or path[0]["kind"] != "task_created":
            checks.fail("task event paths legal", f"{task_id}: first event is {path[0]['kind'] if path else 'missing'}")
            continue
        state, attempts, maximum = "pending", 0, path[0]["payload"].get("max_attempts")
        if not isinstance(maximum, int):
            checks.fail("task event paths legal", f"{task_id}: task_created without max_attempts")
            continue
        completions = 0
        for event in path[1:]:
            kind, payload = event["kind"], event["payload"]
            where = f"{task_id} event {event['seq']} {kind}"
            if kind not in TASK_MOVES:
                checks.fail("task event paths legal", f"{where}: not a task transition")
                continue
            sources, targets = TASK_MOVES[kind]
            source, target = payload.get("from"), payload.get("to")
            new_attempts, new_max = payload.get("attempts"), payload.get("max_attempts")
            if source != state:
                checks.fail("task event paths legal", f"{where}: from {source}, but the task was {state}")
            if source not in sources or target not in targets:
                checks.fail("task event paths legal", f"{where}: {source} → {target} is not a legal {kind}")
            if not isinstance(new_attempts, int) or not isinstance(new_max, int):
                checks.fail("task event paths legal", f"{where}: payload without attempts/max_attempts")
                state = target
                continue
            if new_attempts < attempts:
                checks.fail("attempts within max_attempts", f"{where}: attempts went down {attempts} → {new_attempts}")
            if new_max < maximum:
                checks.fail("attempts within max_attempts", f"{where}: max_attempts went down {maximum} → {new_max}")
            if new_attempts > new_max:
                checks.fail("attempts within max_attempts", f"{where}: attempts {new_attempts} > max_attempts {new_max}")
            expected_attempts = attempts + 1 if kind == "task_started" else attempts
            if new_attempts != expected_attempts:
                checks.fail("task event paths legal", f"{where}: attempts {attempts} → {new_attempts}, expected {expected_attempts}")
            if kind == "task_requeued":
                expected_max = max(maximum, attempts + 1)
            elif kind == "task_interrupted":
                expected_max = maximum + 1
            else:
                expected_max = maximum
            if new_max != expected_max:
                checks.fail("task event paths legal", f"{where}: max_attempts {maximum} → {new_max}, expected {expected_max}")
            if kind == "task_recovered":
                wanted = "pending" if new_attempts < new_max else "escalated"
                if target != wanted:
                    checks.fail("task event paths legal", f"{where}: recovered to {target} with {new_attempts}/{new_max}")
            if target == "pending" and new_attempts >= new_max:
                checks.fail("task event paths legal", f"{where}: pending with no attempt left ({new_attempts}/{new_max})")
            if kind == "task_completed":
                completions += 1
            state, attempts, maximum = target, new_attempts, new_max
        if completions > 1:
            checks.fail("no task completed twice", f"{task_id}: {completions} task_completed events")
        if (state, attempts, maximum) != (task["state"], task["attempts"], task["max_attempts"]):
            checks.fail("task rows match their last event", f"{task_id}: row {task['state']} {task['attempts']}/{task['max_attempts']}, "
                                                          f"events end at {state} {attempts}/{maximum}")
        if (task["state"] == "completed") != (task["result"] is not None):
            checks.fail("task rows match their last event", f"{task_id}: {task['state']} with result "
                                                          f"{'set' if task['result'] is not None else 'missing'}")
    for task_id in set(task_events) - set(tasks):
        checks.fail("task event paths legal", f"events for a task that does not exist: {task_id}")
    for plan_id in set(plan_events) - set(plans):
        checks.fail("plan event paths legal", f"events for a plan that does not exist: {plan_id}")

    # Plans.
    for plan_id, plan in plans.items():
        path = plan_events.get(plan_id, [])
        if not path or path[0]["kind"] != "plan_created":
            checks.fail("plan event paths legal", f"{plan_id}: first event is {path[0]['kind'] if path else 'missing'}")
            continue
        own = tasks_of[plan_id]
        if path[0]["payload"].get("tasks") != len(own):
            checks.fail("plan event paths legal", f"{plan_id}: plan_created says {path[0]['payload'].get('tasks')} tasks, has {len(own)}")
        status = "open"
        for event in path[1:]:
            kind, payload = event["kind"], event["payload"]
            where = f"{plan_id} event {event['seq']} {kind}"
            target = PLAN_EVENT_TARGET.get(kind)
            if target is None:
                checks.fail("plan event paths legal", f"{where}: not a plan transition")
                continue
            if payload.get("from") != status:
                checks.fail("plan event paths legal", f"{where}: from {payload.get('from')}, but the plan was {status}")
            if payload.get("to") != target:
                checks.fail("plan event paths legal", f"{where}: to {payload.get('to')}, expected {target}")
            if status in FINAL_PLAN:
                checks.fail("plan event paths legal", f"{where}: the plan was already {status}")
            if kind == "plan_closed" and status != "synthesizing":
                checks.fail("plan event paths legal", f"{where}: closed from {status}")
            status = target
        if status != plan["status"]:
            checks.fail("plan event paths legal", f"{plan_id}: row says {plan['status']}, events end at {status}")

        # Status against tasks (docs/PROTOCOL.md, Plan states).
        states = collections.Counter(t["state"] for t in own)
        waiting = sum(1 for t in own if t["state"] == "pending" and t["unmet_dependencies"] > 0)
        runnable = states["pending"] - waiting
        current = plan["status"]
        if current in FINAL_PLAN:
            derived = current
        elif runnable + states["in_progress"] > 0:
            derived = "open"
        elif states["failed"] + states["escalated"] + waiting > 0:
            derived = "blocked"
        elif states["completed"] > 0:
            derived = "failed" if current == "failed" else "synthesizing"
        else:
            derived = "cancelled"
        where = f"{plan_id} ({current}, tasks {dict(states)})"
        if current not in PLAN_STATUSES:
            checks.fail("plan statuses consistent with tasks", f"{where}: unknown status")
        elif current != derived:
            checks.fail("plan statuses consistent with tasks", f"{where}: derived status is {derived}")
        if current == "closed":
            if plan_id not in finals:
                checks.fail("plan statuses consistent with tasks", f"{where}: closed without a final_plans row")
            if states["completed"] == 0 or any(t["state"] not in SETTLED for t in own):
                checks.fail("plan statuses consistent with tasks", f"{where}: closed with unsettled or no completed tasks")
        elif plan_id in finals:
            checks.fail("plan statuses consistent with tasks", f"{where}: has a final_plans row but is not closed")
        if current == "cancelled" and any(t["state"] not in SETTLED for t in own):
            checks.fail("plan statuses consistent with tasks", f"{where}: cancelled with unsettled tasks")
        if (current in FINAL_PLAN) != (plan["closed_at"] is not None):
            checks.fail("plan statuses consistent with tasks", f"{where}: closed_at {plan['closed_at']}")
    # The whole log replayed in write order: plan changes agree with the task states of their
    # moment, tasks start only in open plans with their dependencies completed, and each
    # attempt's outcome is recorded by the worker that claimed it.
    deps: dict[str, list[str]] = collections.defaultdict(list)
    for row in db.execute("SELECT depends_on, task_id FROM task_dependencies"):
        deps[row["task_id"]].append(row["depends_on"])
    for task_id, task in tasks.items():
        unmet = sum(1 for d in deps[task_id] if tasks.get(d, {}).get("state") != "completed")
        if task["unmet_dependencies"] != unmet:
            checks.fail("task states legal", f"{task_id}: unmet_dependencies {task['unmet_dependencies']}, but {unmet} "
                                             f"of its dependencies are not completed")
    state_now: dict[str, str] = {}
    claimer: dict[str, str] = {}
    status_now: dict[str, str] = {}
    members: dict[str, list[str]] = collections.defaultdict(list)

    def derive(plan_id: str) -> str:
        states = [state_now[t] for t in members[plan_id]]
        waiting = sum(1 for t in members[plan_id] if state_now[t] == "pending"
                      and any(state_now.get(d) != "completed" for d in deps[t]))
        if states.count("pending") - waiting + states.count("in_progress") > 0:
            return "open"
        if states.count("failed") + states.count("escalated") + waiting > 0:
            return "blocked"
        return "synthesizing" if "completed" in states else "cancelled"

    for event in events:
        kind, payload, plan_id, task_id = event["kind"], event["payload"], event["plan_id"], event["task_id"]
        where = f"event {event['seq']} {kind} of {task_id or plan_id}"
        if kind == "plan_created":
            status_now[plan_id] = "open"
        elif kind == "task_created":
            state_now[task_id] = "pending"
            members[plan_id].append(task_id)
        elif task_id is not None and kind in TASK_MOVES:
            if kind == "task_started":
                if status_now.get(plan_id) != "open":
                    checks.fail("plan event paths legal", f"{where}: started while the plan was {status_now.get(plan_id)}")
                unmet = [d for d in deps[task_id] if state_now.get(d) != "completed"]
                if unmet:
                    checks.fail("task event paths legal", f"{where}: started before its dependencies {unmet} completed")
                claimer[task_id] = payload.get("actor")
            elif kind in ("task_completed", "task_retry", "task_escalated", "task_failed", "task_interrupted"):
                if payload.get("actor") != claimer.get(task_id):
                    checks.fail("task event paths legal", f"{where}: recorded by {payload.get('actor')}, "
                                                          f"but claimed by {claimer.get(task_id)}")
            state_now[task_id] = payload.get("to")
        elif kind in PLAN_EVENT_TARGET:
            target = PLAN_EVENT_TARGET[kind]
            derived_now = derive(plan_id)
            if kind in ("plan_blocked", "plan_reopened") or (kind == "plan_synthesizing" and payload.get("from") != "failed"):
                if derived_now != target:
                    checks.fail("plan statuses consistent with tasks", f"{where}: entered {target} while its tasks "
                                f"{[state_now[t] for t in members[plan_id]]} make it {derived_now}")
            if kind == "plan_closed" and derived_now != "synthesizing":
                checks.fail("plan statuses consistent with tasks", f"{where}: closed while its tasks "
                                                                   f"{[state_now[t] for t in members[plan_id]]} make it {derived_now}")
            status_now[plan_id] = target

    stats["plan_statuses"] = collections.Counter(p["status"] for p in plans.values())
    stats["task_states"] = collections.Counter(t["state"] for t in tasks.values())

    # Agent runs: every process an agent ran was for a durable claim, and no attempt ran twice.
    started = {(e["payload"].get("actor"), e["task_id"], e["payload"].get("attempts"))
               for e in events if e["kind"] == "task_started"}
    runs = collections.Counter()
    try:
        with open(runs_path) as handle:
            for line in handle:
                parts = line.split()
                if len(parts) != 3:
                    checks.fail("agent runs recorded, none twice", f"malformed run line {line!r}")
                    continue
                runs[(parts[0], parts[1], int(parts[2]))] += 1
    except FileNotFoundError:
        pass
    stats["agent_runs"] = sum(runs.values())
    for run, count in runs.items():
        if count > 1:
            checks.fail("agent runs recorded, none twice", f"claim {run[0]} {run[1]} attempt {run[2]} ran {count} times")
        if run not in started:
            checks.fail("agent runs recorded, none twice", f"claim {run[0]} {run[1]} attempt {run[2]} ran without a task_started event")
    db.close()


# --------------------------------------------------------------------------------------------
# Main.


RUNNING_DAEMON: list = []  # the Daemon, for hard_stop


def hard_stop() -> None:
    print(f"soak: still running a minute after --deadline; killing boardd and giving up", flush=True)
    for daemon in RUNNING_DAEMON:
        if daemon.proc and daemon.proc.poll() is None:
            daemon.proc.kill()
    print("0 passed, 1 failed", flush=True)
    os._exit(1)


def task_summary(daemon: Daemon, claim: str) -> str:
    """The state of a claim's task, for a violation message."""
    try:
        client = Client(daemon.socket, 5)
        try:
            task = client.call("task.get", task_id=claim.split()[-1])
        finally:
            client.close()
        return f"the task is {task['state']} (attempt {task['attempts']}/{task['max_attempts']}, claim {task['claim_owner']})"
    except (Lost, RPCError, ValueError) as error:
        return f"task.get failed: {error}"


def write_setup(work: str, marker: str, args) -> tuple[str, str, str]:
    agents_dir = os.path.join(work, "agents")
    os.makedirs(agents_dir, exist_ok=True)
    for name, body in AGENT_SCRIPTS.items():
        path = os.path.join(agents_dir, name)
        with open(path, "w") as handle:
            # --stubborn: the slow agent ignores SIGTERM (its sleep inherits that), so a cancel
            # stops it only with the SIGKILL that boardd sends 2 s later.
            handle.write("#!/bin/sh\n" + ("trap '' TERM\n" if args.stubborn and name == "slow.sh" else "") + body)
        os.chmod(path, 0o755)
    runs = os.path.join(work, "agent-runs.log")
    environment = {"SOAK_MARKER": marker, "SOAK_RUNS": runs}
    config = {
        "daemon": {"log_level": "info"},
        "scheduler": {
            "concurrency": args.concurrency, "poll_interval_ms": 50, "retry_base_delay_ms": 20, "retry_max_delay_ms": 200,
            "shutdown_grace_s": 0, "max_attempts": 3,
        },
        "agents": {
            role: {"backend": "command", "command": ["/bin/sh", os.path.join(agents_dir, script)], "environment": environment}
            for role, script in AGENT_OF_SCRIPT.items()
        },
    }
    config_path = os.path.join(work, "board.json")
    with open(config_path, "w") as handle:
        json.dump(config, handle, indent=2)
    return config_path, runs, os.path.join(work, "state")


def main() -> int:
    parser = argparse.ArgumentParser(description="Crash soak for boardd (see docs/RELIABILITY.md).")
    parser.add_argument("--cycles", type=int, default=50, help="SIGKILL/restart cycles (default 50)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the load and the kill times (default: random, printed)")
    parser.add_argument("--dir", help="work directory (default: a new temporary one, removed when every check passed)")
    parser.add_argument("--bin", default=".build/debug", help="directory holding boardd (default .build/debug)")
    parser.add_argument("--min-gap", type=float, default=0.2, help="shortest time between a restart and the next kill, s")
    parser.add_argument("--max-gap", type=float, default=2.0, help="longest time between a restart and the next kill, s")
    parser.add_argument("--deadline", type=float, default=600, help="bound on the whole run, s (default 600)")
    parser.add_argument("--clients", type=int, default=3, help="client threads (default 3)")
    parser.add_argument("--concurrency", type=int, default=4, help="boardd scheduler.concurrency (default 4)")
    parser.add_argument("--max-backlog", type=int, default=40, help="pause creates while this many tasks are pending or running")
    parser.add_argument("--request-timeout", type=float, default=15, help="a reply slower than this is a violation, s")
    parser.add_argument("--stubborn", action="store_true",
                        help="the slow agent ignores SIGTERM (reproduces the stale-agent bug in docs/RELIABILITY.md)")
    parser.add_argument("--start-timeout", type=float, default=30, help="bound on one start of boardd, s")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)
    if not (0 < args.min_gap <= args.max_gap):
        parser.error("need 0 < --min-gap <= --max-gap")

    began = time.monotonic()
    hard_end = began + args.deadline
    # The last resort: whatever hangs, the run ends within a minute of its deadline.
    watchdog = threading.Timer(args.deadline + 60, hard_stop)
    watchdog.daemon = True
    watchdog.start()
    binary = os.path.abspath(os.path.join(args.bin, "boardd"))
    if not os.access(binary, os.X_OK):
        print(f"soak: no boardd at {binary}; run `swift build` (or pass --bin)", file=sys.stderr)
        return 2
    work = os.path.abspath(args.dir) if args.dir else tempfile.mkdtemp(prefix="board-soak-")
    os.makedirs(work, exist_ok=True)
    marker = f"{os.getpid()}-{args.seed}-{int(time.time())}"
    config_path, runs_path, state_dir = write_setup(work, marker, args)
    if os.path.exists(state_dir):
        print(f"soak: {state_dir} exists; pass an empty --dir", file=sys.stderr)
        return 2
    log_path = os.path.join(work, "boardd.log")
    print(f"soak: seed {args.seed}, {args.cycles} cycles, kills {args.min_gap}-{args.max_gap} s apart, "
          f"deadline {args.deadline:.0f} s, work dir {work}", flush=True)

    rng = random.Random(f"{args.seed}-kills")
    checks = Checks()
    ledger = Ledger()
    for name in ["daemon starts", "no stale agents after restart", "client replies", "idempotent replays",
                 "cycles within the deadline", "graceful stop", "soak ran to the end"]:
        checks.declare(name)
    daemon = Daemon(binary, state_dir, config_path, log_path)
    RUNNING_DAEMON.append(daemon)
    load = Load(args, daemon, checks, ledger)
    start_times: list[float] = []
    orphans_left = 0  # agents (claims) the kills left running; the restart must stop them
    stale_reported: set[int] = set()
    final_reserve = min(45.0, args.deadline / 4)  # for the wind-down, the graceful stop and the audit
    cycles_done = 0

    def start_daemon() -> bool:
        try:
            start_times.append(daemon.start(min(args.start_timeout, max(1.0, hard_end - time.monotonic()))))
        except RuntimeError as error:
            checks.fail("daemon starts", str(error))
            return False
        load.up_generation = daemon.generation
        load.up.set()
        return True

    try:
        if not start_daemon():
            raise SystemExit
        load.start()
        for cycle in range(1, args.cycles + 1):
            gap = rng.uniform(args.min_gap, args.max_gap)
            if time.monotonic() + gap + final_reserve > hard_end:
                checks.fail("cycles within the deadline", f"stopped after {cycles_done} of {args.cycles} cycles: "
                                                          f"--deadline {args.deadline:.0f} s reached")
                break
            time.sleep(gap)
            old_pid, old_generation = daemon.pid, daemon.generation
            load.up.clear()
            load.killed_generations.add(old_generation)
            daemon.kill()
            left = scan_claims(marker)
            stale_before = {claim for claim in left.values() if claim.startswith(f"boardd-{old_pid}-")}
            orphans_left += len(stale_before)
            if not start_daemon():
                break
            # boardd stops the orphans before it answers; allow a moment for SIGKILL to land.
            new_prefix = f"boardd-{daemon.pid}-"
            stale: dict[int, str] = {}
            end = time.monotonic() + 1.0
            while True:
                stale = {pid: claim for pid, claim in scan_claims(marker).items()
                         if not claim.startswith(new_prefix) and pid not in stale_reported}
                if not stale or time.monotonic() > end:
                    break
                time.sleep(0.05)
            for pid, claim in sorted(stale.items()):
                stale_reported.add(pid)
                checks.fail("no stale agents after restart", f"cycle {cycle}: pid {pid} ({describe(pid)}) still runs "
                                                             f"with BOARD_CLAIM={claim} after boardd {daemon.pid} started; "
                                                             f"{task_summary(daemon, claim)}")
            cycles_done = cycle
            print(f"cycle {cycle:3}/{args.cycles}: killed boardd {old_pid} after {gap:.2f} s; {len(stale_before)} agent(s) "
                  f"left running; restarted in {start_times[-1]:.2f} s; stale after restart: {len(stale)}; "
                  f"acknowledged plans {len(ledger.acked)}", flush=True)

        # Wind down: stop the load, settle every create whose reply was lost, replay every
        # acknowledged key once, then stop boardd gracefully.
        if daemon.proc and daemon.proc.poll() is None:
            time.sleep(min(1.0, max(0.0, hard_end - time.monotonic() - final_reserve)))
        load.stop(timeout=args.request_timeout + 5)
        if daemon.proc and daemon.proc.poll() is None:
            client = Client(daemon.socket, args.request_timeout)
            try:
                load.resolve_unknown(client, daemon.generation)
                for key in list(ledger.acked):
                    load.acknowledge(key, load.send_create(client, key), replay=True)
                ledger.count("replays", len(ledger.acked))
            except (Lost, RPCError) as error:
                checks.fail("idempotent replays", f"final replay: {error}")
            finally:
                client.close()
            stop_began = time.monotonic()
            status = daemon.stop(timeout=30)
            stats_stop = time.monotonic() - stop_began
            if status != 0:
                checks.fail("graceful stop", f"boardd exited with {status} after SIGTERM" if status is not None
                            else "boardd did not exit within 30 s of SIGTERM")
            end = time.monotonic() + 3.0
            while (left := scan_claims(marker)) and time.monotonic() < end:
                time.sleep(0.05)
            for pid, claim in sorted(left.items()):
                if pid not in stale_reported:
                    checks.fail("graceful stop", f"agent pid {pid} ({describe(pid)}) still runs after the stop, claim {claim}")
        else:
            stats_stop = 0.0
    except SystemExit:
        stats_stop = 0.0
    except Exception as error:  # a wedged kill or stop, say: report it, then audit what is there
        checks.fail("soak ran to the end", f"{type(error).__name__}: {error}")
        stats_stop = 0.0
    finally:
        load.stopping.set()
        if daemon.proc and daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()

    stats: dict = {}
    db_path = os.path.join(state_dir, "board.db")
    if os.path.exists(db_path):
        audit(db_path, ledger, runs_path, checks, stats)
    else:
        checks.fail("integrity check", f"no database at {db_path}")
    duration = time.monotonic() - began
    watchdog.cancel()

    kinds = stats.get("kinds", collections.Counter())
    transitions = sum(n for kind, n in kinds.items() if kind.startswith("task_") and kind != "task_created")
    plan_transitions = sum(n for kind, n in kinds.items() if kind.startswith("plan_") and kind != "plan_created")
    counts = ledger.counts
    print()
    print("summary")
    print(f"  seed {args.seed}; duration {duration:.1f} s; cycles {cycles_done}/{args.cycles} (SIGKILLs {cycles_done}); "
          f"boardd starts {len(start_times)}, slowest {max(start_times, default=0):.2f} s; graceful stop {stats_stop:.2f} s")
    print(f"  plan.create sent {len(ledger.creates)}, acknowledged {len(ledger.acked)} "
          f"(first reply lost to a kill, resolved by a replay: {counts['unknown creates: existed']} had been created, "
          f"{counts['unknown creates: new']} had not); replays {counts['replays']}")
    print(f"  client operations {counts['operations']}, slowest reply {SLOWEST_REPLY * 1000:.0f} ms, connections lost to "
          f"kills {counts['connections lost to a kill']}; "
          f"task.retry {counts['task.retry']}, task.cancel {counts['task.cancel']}, plan.cancel {counts['plan.cancel']}")
    print(f"  database: plans {stats.get('plans', 0)}, tasks {stats.get('tasks', 0)}, events {stats.get('events', 0)}, "
          f"final plans {stats.get('final_plans', 0)}; task transitions {transitions}, plan transitions {plan_transitions}")
    print(f"  recoveries (task_recovered) {kinds['task_recovered']}, interrupted at the graceful stop "
          f"{kinds['task_interrupted']}, agent runs {stats.get('agent_runs', 0)}, agents left running by kills "
          f"{orphans_left}")
    print(f"  events by kind: {dict(sorted(kinds.items()))}")
    print(f"  plans by status: {dict(sorted(stats.get('plan_statuses', {}).items()))}; "
          f"tasks by state: {dict(sorted(stats.get('task_states', {}).items()))}")
    print(f"  integrity_check: {stats.get('integrity_check', 'not run')}; violations {checks.total()}")
    print()
    passed, failed = checks.report()
    if failed or args.dir:
        print(f"work directory kept: {work} (boardd.log, agent-runs.log, state/board.db)")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
