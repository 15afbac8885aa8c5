#!/usr/bin/env python3
"""Scenario 8: wall time of `boardctl ping`, a fresh process each time, warm (page cache, boardd up).

The timing loop is a small C program compiled on the fly with cc (the pattern of
../shared/bench/spawn.sh): it posix_spawns the command --warmup times unmeasured, then --n
times, each time spawn + waitpid, timing each with CLOCK_MONOTONIC; stdout and stderr go to
/dev/null; any non-zero exit aborts the run. No Python (and no shell) sits between two spawns,
so the figure is the command's own start, work and exit. Measured the same way in every run,
interleaved:
  /bin/true                        the floor: what any fresh process costs here
  boardctl --socket MISSING ping   boardctl's start-up: loading, argument parsing, a refused
                                   connect, exit 69 (expected; any other status aborts)
  boardctl ping                    the figure: start, connect, one round trip, print, exit
Reported per run: median, mean and p90 per spawn (us), and the CPU time (user+system) per spawn
of the measured children (getrusage RUSAGE_CHILDREN: the command's own cost, which the load of
a shared machine skews less than wall time); then median [min..max] over the runs. hyperfine is not needed (nor used: it adds a shell unless told not to, and
is not installed everywhere).

boardd: release binary on a fresh state directory, synchronous=FULL, the embedded board.
No peer script: /bin/true is the floor measured in the same run.

Target: `boardctl ping` <= 5 ms (the median).

Usage: python3 bench/boardctl_ping.py [--bin .build/release] [--boardctl PATH] [--n 300] [--warmup 20] [--repeat 3]

The packaged boardctl links the Swift runtime statically (packaging/build-deb.sh): to time that one,
  swift build -c release --static-swift-stdlib --scratch-path /tmp/static-build --product boardctl
  python3 bench/boardctl_ping.py --boardctl /tmp/static-build/release/boardctl
"""
import argparse, hashlib, os, statistics as st, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boardbench import Daemon, percentile, summary  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default=".build/release")
ap.add_argument("--dir", default="/tmp/board-bench/boardctl_ping")
ap.add_argument("--n", type=int, default=300, help="measured spawns per command per run")
ap.add_argument("--warmup", type=int, default=20, help="unmeasured spawns before each measured loop")
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
ap.add_argument("--boardctl", help="the boardctl to time (default: BIN/boardctl); e.g. the packaged one, "
                "built with --static-swift-stdlib as packaging/build-deb.sh does")
a = ap.parse_args()

SPAWN_C = r"""
/* spawnloop N WARMUP EXIT PROG ARGS... : prints "cpu NS" (user+system CPU of the N measured
   children, from getrusage) and then one wall time per measured spawn, in ns; every spawn must
   exit with status EXIT */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
static long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
static long long children_cpu_ns(void) {
  struct rusage u; getrusage(RUSAGE_CHILDREN, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000000LL + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1000LL;
}
int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: spawnloop N WARMUP EXIT PROG [ARGS...]\n"); return 64; }
  long n = atol(argv[1]), warm = atol(argv[2]); int want = atoi(argv[3]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  long long *ns = malloc(sizeof(long long) * (n > 0 ? n : 1)), cpu0 = 0;
  for (long i = -warm; i < n; i++) {
    if (i == 0) cpu0 = children_cpu_ns();
    pid_t pid; int status;
    long long t0 = now();
    if (posix_spawn(&pid, argv[4], &fa, NULL, argv + 4, environ)) { perror("posix_spawn"); return 1; }
    if (waitpid(pid, &status, 0) < 0) { perror("waitpid"); return 1; }
    long long t1 = now();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != want) { fprintf(stderr, "%s: wait status 0x%x, expected exit %d\n", argv[4], status, want); return 1; }
    if (i >= 0) ns[i] = t1 - t0;
  }
  printf("cpu %lld\n", children_cpu_ns() - cpu0);
  for (long i = 0; i < n; i++) printf("%lld\n", ns[i]);
  return 0;
}
"""


def build():
    os.makedirs(a.dir, exist_ok=True)
    exe = os.path.join(a.dir, "spawnloop-" + hashlib.sha1(SPAWN_C.encode()).hexdigest()[:12])
    if not os.path.exists(exe):
        src = exe + ".c"
        with open(src, "w") as f:
            f.write(SPAWN_C)
        subprocess.run([a.cc, "-O2", "-o", exe, src], check=True)
    return exe


def loop(exe, argv, status):
    out = subprocess.run([exe, str(a.n), str(a.warmup), str(status)] + argv, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: {out.stderr.strip()}")
    lines = out.stdout.split("\n")
    cpu_us = int(lines[0].split()[1]) / 1e3 / a.n
    us = [int(x) / 1e3 for x in lines[1:] if x]
    assert len(us) == a.n
    return st.median(us), st.mean(us), percentile(us, 0.90), cpu_us


def load():
    return "load %.2f %.2f %.2f" % os.getloadavg()


exe = build()
boardctl = os.path.abspath(a.boardctl or os.path.join(a.bin, "boardctl"))
print(f"== scenario 8: `boardctl ping` wall time, fresh process each time, {a.n} spawns per run after {a.warmup} "
      f"warm-up, posix_spawn + waitpid from C; {load()}", flush=True)
config = {"store": {"synchronous": "full"}, "daemon": {"log_level": "warning"}}
with Daemon(a.bin, os.path.join(a.dir, "state"), config) as d:
    missing = os.path.join(a.dir, "no-such.sock")
    # (name, argv, expected exit status)
    commands = [("/bin/true (floor)", ["/bin/true"], 0),
                ("boardctl, no daemon (start-up)", [boardctl, "--socket", missing, "ping"], 69),
                ("boardctl ping", [boardctl, "--socket", d.sock, "ping"], 0)]
    # Once, outside the clock: the ping must really reach boardd.
    check = subprocess.run(commands[2][1], capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"boardctl ping failed ({check.returncode}): {check.stderr.strip()}")
    print(f"  boardctl ping prints: {check.stdout.strip()!r}", flush=True)
    results = {name: [] for name, _, _ in commands}
    cpus = {name: [] for name, _, _ in commands}
    for r in range(a.repeat):
        for name, argv, status in commands:
            med, mean, p90, cpu = loop(exe, argv, status)
            results[name].append(med)
            cpus[name].append(cpu)
            print(f"  run {r}: {name:32s} median {med:7,.0f} us  mean {mean:7,.0f} us  p90 {p90:7,.0f} us  "
                  f"CPU {cpu:6,.0f} us  ({load()})", flush=True)

m = {name: summary(f"{name}, median per spawn", v, "us") for name, v in results.items()}
for name, v in cpus.items():
    summary(f"{name}, CPU per spawn", v, "us")
floor, startup, ping = m["/bin/true (floor)"], m["boardctl, no daemon (start-up)"], m["boardctl ping"]
print(f"  boardctl ping is {ping - floor:,.0f} us above the /bin/true floor and {ping - startup:,.0f} us above "
      f"boardctl's start-up without a daemon (connect refused, exit 69)")
print(f"  boardctl ping {ping / 1000:.2f} ms  (target <= 5 ms: {'met' if ping <= 5000 else 'MISSED'})")
print(f"  {load()}", flush=True)
