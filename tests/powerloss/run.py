#!/usr/bin/env python3
"""Power-loss test for boardd: what it acknowledged survives a power cut, not only a crash.

A SIGKILL leaves the kernel's page cache intact, so the crash soak (scripts/soak.py) cannot tell
a commit that reached the disk from one that did not. This test simulates the power cut itself.
boardd runs with tests/powerloss/undo_shim.c preloaded, which keeps an undo log of every write
to the database and its WAL since that file's last fsync/fdatasync. Each cycle drives plan.create
(noop agents, so tasks run and commit too) from two clients, SIGKILLs boardd at a random moment,
then applies the undo logs backwards: the files are left as a power cut at that moment could
leave them in the worst case, nothing unsynced on the disk. (The WAL index, `-shm`, is deleted
as a reboot would leave it stale.) boardd is started again without the shim and every plan it
acknowledged must be there, with its tasks; at the end the database must pass integrity_check.

The same harness must also be able to fail: a control run with store.synchronous = normal (which
does not fsync at commit) must lose acknowledged plans, or the test says it proves nothing. This
is what would have caught the bug where GRDB's pool silently set `synchronous = NORMAL` on the
writer while boardd was configured `full` (docs/PERFORMANCE.md, third round).

    tests/powerloss/run.py --bin .build/debug                 # 4 cycles full + the control
    tests/powerloss/run.py --bin .build/release --cycles 30   # longer

Needs a C compiler (cc, or the Swift toolchain's clang) for the shim. Linux only. Exits non-zero
when a check failed. Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RECORD_MAGIC = 0x6F646E7544524F42
HEADER = struct.Struct("<QQQQ")  # magic, offset, length, old size


class Lost(Exception):
    pass


class Client:
    def __init__(self, path: str, timeout: float = 10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError as error:
            self.sock.close()
            raise Lost(str(error)) from None
        self.file = self.sock.makefile("rb")
        self.next_id = 1

    def call(self, method: str, params: dict | None = None):
        request = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        self.next_id += 1
        if params is not None:
            request["params"] = params
        try:
            self.sock.sendall(json.dumps(request).encode() + b"\n")
            line = self.file.readline()
        except (OSError, ValueError) as error:
            raise Lost(str(error)) from None
        if not line:
            raise Lost("connection closed")
        reply = json.loads(line)
        if "error" in reply:
            return None, reply["error"]
        return reply["result"], None

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


def build_shim(work: str) -> str:
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("clang")
    if not compiler:
        raise SystemExit("powerloss: no C compiler (cc or clang) to build the shim")
    shim = os.path.join(work, "undo_shim.so")
    subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", shim, os.path.join(HERE, "undo_shim.c"), "-ldl"], check=True)
    return shim


def start(binary: str, state: str, config: str, log, env: dict | None) -> subprocess.Popen:
    proc = subprocess.Popen([binary, "--state-dir", state, "--config", config], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, env=env, start_new_session=True)
    sock = os.path.join(state, "boardd.sock")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"powerloss: boardd exited with {proc.returncode} while starting (log: {log.name})")
        try:
            client = Client(sock, 2.0)
            try:
                result, _ = client.call("ping")
                if result and result.get("pong"):
                    return proc
            finally:
                client.close()
        except (Lost, ValueError):
            pass
        time.sleep(0.02)
    raise SystemExit(f"powerloss: boardd did not answer ping (log: {log.name})")


def load(sock: str, tag: str, stop: threading.Event, acknowledged: list, lock: threading.Lock):
    """plan.create in a loop; records every plan whose creation was acknowledged."""
    try:
        client = Client(sock)
    except Lost:
        return
    number = 0
    try:
        while not stop.is_set():
            number += 1
            key = f"{tag}-{number}"
            params = {"goal": f"power loss {key}", "idempotency_key": key,
                      "tasks": [{"agent": "CFO", "description": "count"}, {"agent": "CTO", "description": "build", "after": [0]}]}
            try:
                result, error = client.call("plan.create", params)
            except (Lost, ValueError):
                return  # killed mid-request: its outcome is unknown, so it is not counted
            if result:
                with lock:
                    acknowledged.append((result["plan_id"], key, len(result["tasks"])))
    finally:
        client.close()


def power_cut(state: str) -> tuple[int, int, int]:
    """Applies every undo log backwards; returns (undo logs found, records applied, bytes restored).
    The shim creates a file's log at its first write, so a log is there even when every write
    was synced by the time of the cut (the usual case with synchronous=full)."""
    logs = records = bytes_restored = 0
    for name in sorted(os.listdir(state)):
        if not name.endswith(".undo"):
            continue
        logs += 1
        undo_path = os.path.join(state, name)
        target = undo_path[: -len(".undo")]
        with open(undo_path, "rb") as handle:
            data = handle.read()
        entries, position = [], 0
        while position + HEADER.size <= len(data):
            magic, offset, length, old_size = HEADER.unpack_from(data, position)
            if magic != RECORD_MAGIC:
                raise SystemExit(f"powerloss: {undo_path} is damaged at byte {position}")
            if position + HEADER.size + length > len(data):
                break  # cut short by the kill: its write never happened
            entries.append((offset, data[position + HEADER.size: position + HEADER.size + length], old_size))
            position += HEADER.size + length
        if entries and os.path.exists(target):
            fd = os.open(target, os.O_RDWR)
            try:
                for offset, old, old_size in reversed(entries):
                    if old:
                        os.pwrite(fd, old, offset)
                    os.ftruncate(fd, old_size)
                    records += 1
                    bytes_restored += len(old)
            finally:
                os.close(fd)
        os.remove(undo_path)
    shm = os.path.join(state, "board.db-shm")
    if os.path.exists(shm):
        os.remove(shm)
    return logs, records, bytes_restored


def run(mode: str, cycles: int, binary: str, shim: str, work: str, rng: random.Random, until_loss: bool = False) -> dict:
    """`cycles` power cuts; with `until_loss`, stops after the first cut that lost a plan."""
    state = os.path.join(work, f"state-{mode}")
    os.makedirs(state)
    config = os.path.join(work, f"config-{mode}.json")
    with open(config, "w") as handle:
        json.dump({"store": {"synchronous": mode}, "daemon": {"log_level": "warning"},
                   "agents": {role: {"backend": "noop"} for role in ("CFO", "CTO", "CEO")}}, handle)
    log = open(os.path.join(work, f"boardd-{mode}.log"), "ab")
    shimmed = dict(os.environ, LD_PRELOAD=shim, BOARD_POWERLOSS_DIR=state)
    sock = os.path.join(state, "boardd.sock")
    summary = {"acknowledged": 0, "lost": 0, "cycles_with_loss": 0, "logs": 0, "records": 0, "bytes": 0, "problems": [], "cycles": 0}
    for cycle in range(cycles):
        proc = start(binary, state, config, log, shimmed)
        stop, lock, acknowledged = threading.Event(), threading.Lock(), []
        clients = [threading.Thread(target=load, args=(sock, f"{mode}{cycle}c{n}", stop, acknowledged, lock)) for n in range(2)]
        for thread in clients:
            thread.start()
        time.sleep(rng.uniform(0.4, 1.5))
        proc.send_signal(signal.SIGKILL)  # the power goes out
        proc.wait(timeout=10)
        stop.set()
        for thread in clients:
            thread.join(timeout=15)
        logs, records, restored = power_cut(state)
        summary["logs"] += logs
        summary["records"] += records
        summary["bytes"] += restored
        proc = start(binary, state, config, log, None)
        client = Client(sock)
        lost = []
        for plan_id, key, task_count in acknowledged:
            result, error = client.call("plan.get", {"plan_id": plan_id})
            if result is None:
                lost.append(plan_id)
            elif len(result["tasks"]) != task_count or result["idempotency_key"] != key:
                summary["problems"].append(f"{plan_id}: came back with {len(result['tasks'])} tasks, key {result['idempotency_key']!r}")
        client.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        summary["acknowledged"] += len(acknowledged)
        summary["lost"] += len(lost)
        summary["cycles_with_loss"] += bool(lost)
        print(f"  {mode} cycle {cycle + 1}: {len(acknowledged)} plans acknowledged, {len(lost)} lost; "
              f"power cut reverted {records} unsynced writes ({restored:,} bytes)", flush=True)
        summary["cycles"] = cycle + 1
        if until_loss and lost:
            break
    with sqlite3.connect(f"file:{os.path.join(state, 'board.db')}?mode=ro", uri=True) as db:
        summary["integrity"] = db.execute("PRAGMA integrity_check").fetchone()[0]
    log.close()
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=".build/debug", help="directory holding boardd")
    parser.add_argument("--cycles", type=int, default=4, help="power cuts with synchronous=full (default 4)")
    parser.add_argument("--control-cycles", type=int, default=10,
                        help="at most this many power cuts with synchronous=normal, until one loses a plan (default 10; "
                             "a cut that lands during a checkpoint finds everything synced, about one in three here)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    binary = os.path.abspath(os.path.join(args.bin, "boardd"))
    work = tempfile.mkdtemp(prefix="board-powerloss-")
    print(f"power-loss test: {args.cycles} cycles with synchronous=full, up to {args.control_cycles} with normal (the control); "
          f"seed {seed}; work {work}", flush=True)
    shim = build_shim(work)
    full = run("full", args.cycles, binary, shim, work, rng)
    control = run("normal", args.control_cycles, binary, shim, work, rng, until_loss=True) if args.control_cycles else None
    checks = [
        ("full: every acknowledged plan survived the power cuts", full["lost"] == 0 and full["acknowledged"] > 0,
         f"{full['lost']} of {full['acknowledged']} lost"),
        ("full: acknowledged plans came back whole", not full["problems"], "; ".join(full["problems"][:5])),
        ("full: integrity_check", full["integrity"] == "ok", full["integrity"]),
        ("full: the shim saw the database's writes", full["logs"] > 0, "no undo log appeared: the shim is not in effect"),
    ]
    if control:
        checks += [
            ("control (normal): power cuts lost acknowledged plans, so the harness can fail",
             control["lost"] > 0, f"{control['acknowledged']} acknowledged, none lost in {control['cycles']} cycles"),
            ("control (normal): integrity_check", control["integrity"] == "ok", control["integrity"]),
        ]
    failed = 0
    for name, ok, detail in checks:
        print(f"{'ok  ' if ok else 'FAIL'}  {name}" + ("" if ok else f": {detail}"))
        failed += not ok
    print(f"{len(checks) - failed} passed, {failed} failed; full: {full['acknowledged']} acknowledged, {full['lost']} lost"
          + (f"; normal: {control['acknowledged']} acknowledged, {control['lost']} lost in {control['cycles_with_loss']} of "
             f"{control['cycles']} cycles" if control else ""))
    if failed == 0 and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"work directory kept: {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
