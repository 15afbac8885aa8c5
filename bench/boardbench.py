"""Shared helpers of the benchmark suite (bench/*.py): start a release boardd on a fresh state
directory with a given configuration, talk JSON lines to it, and print median [min..max].

Timing lives in bench/, never in the tests. Every scenario runs its peer in the same run
(this machine's fsync is bimodal: absolute figures across runs mean little).
"""
import json, os, shutil, socket, statistics as st, subprocess, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.environ.get("BOARD_BENCH_PEERS", os.path.join(ROOT, "..", "shared", "bench"))

# The agents a benchmark plan uses: in-process no-op agents (backend "noop"), so a figure is the
# daemon's own cost per task (socket, store, scheduler, worker), not an agent's.
NOOP_AGENTS = ["CFO", "CTO", "CMO", "COO"]


class Conn:
    """One JSON-lines connection to boardd; `call` raises on an error reply."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")
        self.n = 0

    def send(self, method, params=None):
        self.n += 1
        req = {"jsonrpc": "2.0", "id": self.n, "method": method}
        if params is not None:
            req["params"] = params
        self.f.write(json.dumps(req, separators=(",", ":")).encode() + b"\n")

    def receive(self):
        self.f.flush()
        reply = json.loads(self.f.readline())
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["result"]

    def call(self, method, params=None):
        self.send(method, params)
        return self.receive()

    def close(self):
        self.f.close()
        self.s.close()


def noop_config(sync="full", concurrency=256, log_level="warning", extra=None):
    config = {
        "store": {"synchronous": sync},
        "daemon": {"log_level": log_level},
        "scheduler": {"concurrency": concurrency},
        # The CEO too: its synthesis of each plan is then a no-op as well (the offline analyst's
        # would cost more CPU than the plan's 64 tasks).
        "agents": {role: {"backend": "noop"} for role in NOOP_AGENTS + ["CEO"]},
    }
    for section, values in (extra or {}).items():
        config.setdefault(section, {}).update(values)
    return config


class Daemon:
    """A boardd on `state` (wiped first unless keep=True), started with `config`."""

    def __init__(self, bin_dir, state, config, keep=False, env=None):
        if not keep:
            shutil.rmtree(state, ignore_errors=True)
        os.makedirs(state, exist_ok=True)
        self.state = state
        self.sock = os.path.join(state, "boardd.sock")
        self.config = os.path.join(state, "config.json")
        with open(self.config, "w") as f:
            json.dump(config, f)
        self.argv = [os.path.join(bin_dir, "boardd"), "--config", self.config, "--state-dir", state]
        self.env = dict(os.environ, **(env or {}))
        self.proc = None

    def start(self, timeout=60):
        self.proc = subprocess.Popen(self.argv, env=self.env, stderr=open(os.path.join(self.state, "boardd.log"), "a"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"boardd exited with {self.proc.returncode}; see {self.state}/boardd.log")
            try:
                c = Conn(self.sock)
                c.call("ping")
                c.close()
                return self
            except OSError:
                time.sleep(0.005)
        raise SystemExit("boardd did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def wait_idle(sock, poll=0.01):
    """Waits until no task is pending or running and no plan is open or being synthesized."""
    c = Conn(sock)
    try:
        while True:
            s = c.call("daemon.status")
            if (s["tasks"].get("pending", 0) == 0 and s["tasks"].get("in_progress", 0) == 0
                    and s["plans"].get("open", 0) == 0 and s["plans"].get("synthesizing", 0) == 0):
                return s
            time.sleep(poll)
    finally:
        c.close()


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def summary(name, values, unit=""):
    """One result line: median [min..max] over the runs."""
    print(f"  {name:44s} {st.median(values):12,.1f} {unit:8s} [{min(values):,.1f} .. {max(values):,.1f}]", flush=True)
    return st.median(values)


def run_peer(argv, timeout=1800):
    """Runs a peer script from ../shared/bench; returns its stdout (also echoed, indented)."""
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    for line in out.stdout.splitlines():
        print("    | " + line)
    if out.returncode != 0:
        print("    | (exit %d) %s" % (out.returncode, out.stderr.strip()[-400:]))
    return out.stdout
