#!/usr/bin/env bash
# bench/suite.sh -- runs every scenario script of the benchmark suite in order (bench/README.md),
# with the same --bin and --repeat, and tees everything into a results file.
#
# A scenario script that does not exist yet is skipped with a message; one that fails is
# reported and the suite goes on (the exit status is 1 if any failed). Each script runs its
# peers itself (../shared/bench or $BOARD_BENCH_PEERS) and says so when they are absent.
#
# Usage: bench/suite.sh [--bin .build/release] [--repeat 3] [--out FILE] [--only LIST]
#   --out   results file (default: /tmp/board-bench/results-YYYYmmdd-HHMMSS.txt)
#   --only  comma-separated script names to run, e.g. commands,control (default: all)
# Runs for a while with the scripts' defaults (the 1M-task store is built once and cached).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release; REPEAT=3; OUT=; ONLY=
while [ $# -gt 0 ]; do
  case $1 in
    --bin) BIN=$2; shift 2;;
    --repeat) REPEAT=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --only) ONLY=$2; shift 2;;
    -h|--help) sed -n '2,11p' "$0"; exit 0;;
    *) echo "suite.sh: unknown argument $1 (see --help)" >&2; exit 64;;
  esac
done
OUT=${OUT:-/tmp/board-bench/results-$(date -u +%Y%m%d-%H%M%S).txt}
mkdir -p "$(dirname "$OUT")"
for b in boardd boardctl; do
  [ -x "$BIN/$b" ] || { echo "suite.sh: $BIN/$b not found; build with 'swift build -c release' or pass --bin" >&2; exit 69; }
done

# scenario numbers -> script, in the order they run
SCRIPTS=(
  "1,2 throughput.py"
  "3 commands.py"
  "4 control.py"
  "5 latency.py"
  "6 scale.py"
  "7 startup.py"
  "8 boardctl_ping.py"
)

{
  echo "# board benchmark suite, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (working tree modified)'), bin $BIN"
  for b in boardd boardctl; do echo "#   $b: $(stat -c '%y' "$BIN/$b" | cut -d. -f1), sha256 $(sha256sum "$BIN/$b" | cut -c1-16)"; done
  echo "# $(uname -srm), $(nproc) cores, $(python3 --version), repeat $REPEAT"
  echo "# peers: ${BOARD_BENCH_PEERS:-$(pwd)/../shared/bench}"
  echo "# $(uptime)"
} | tee "$OUT"

failed=()
for entry in "${SCRIPTS[@]}"; do
  scen=${entry%% *}; script=${entry#* }
  name=${script%.py}
  if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]]; then continue; fi
  if [ ! -f "bench/$script" ]; then
    echo "== scenario $scen: bench/$script does not exist yet; skipped" | tee -a "$OUT"
    continue
  fi
  echo | tee -a "$OUT"
  echo "### bench/$script --bin $BIN --repeat $REPEAT   ($(date -u +%H:%M:%S); $(uptime | sed 's/.*load/load/'))" | tee -a "$OUT"
  start=$(date +%s)
  python3 "bench/$script" --bin "$BIN" --repeat "$REPEAT" 2>&1 | tee -a "$OUT"
  rc=${PIPESTATUS[0]}
  echo "### bench/$script: exit $rc after $(( $(date +%s) - start )) s" | tee -a "$OUT"
  [ "$rc" -eq 0 ] || failed+=("$script")
done

echo | tee -a "$OUT"
if [ ${#failed[@]} -gt 0 ]; then
  echo "# FAILED: ${failed[*]}" | tee -a "$OUT"
fi
echo "# results: $OUT" | tee -a "$OUT"
[ ${#failed[@]} -eq 0 ]
