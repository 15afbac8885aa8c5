#!/usr/bin/env bash
# Runs the protocol fuzzer.
#   fuzz/run.sh            60 seconds
#   fuzz/run.sh 3600       an hour
#   fuzz/run.sh -runs=N    N executions
# Extra libFuzzer flags can be given in FUZZ_FLAGS, e.g. FUZZ_FLAGS=-fork=2 for two processes
# (fork mode: the summary's count is then the total of both). SANITIZE=fuzzer: see build.sh.
# The working corpus is fuzz/.build/corpus: kept between runs, and given fuzz/seeds/ and the
# inputs of fuzz/findings/ on each run. Crash, timeout and out-of-memory inputs land in
# fuzz/.build/artifacts/; minimize a real finding and commit it to fuzz/findings/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/.build
binary=$out/fuzz-protocol

limit=(-max_total_time=60)
case "${1:-}" in
    "") ;;
    -runs=*) limit=("$1") ;;
    *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS|-runs=N]" >&2; exit 2 ;;
    *) limit=(-max_total_time="$1") ;;
esac

# Rebuilt when a source changed or another SANITIZE (fuzzer,address by default) is asked for.
export SANITIZE=${SANITIZE:-fuzzer,address}
if [[ ! -x $binary || $(cat "$out/sanitize.stamp" 2>/dev/null) != "$SANITIZE" \
    || -n $(find fuzz/FuzzProtocol.swift Sources/BoardCore Sources/BoardProtocol -newer "$binary" -name '*.swift' | head -1) ]]; then
    fuzz/build.sh
fi

mkdir -p "$out/corpus" "$out/artifacts"
cp -n fuzz/seeds/* fuzz/findings/*.yaml "$out/corpus/" 2>/dev/null || true
log=$out/last-run.log

# Swift's own backtracer would race libFuzzer's crash handler and slow every crash down.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
set +e
"$binary" "$out/corpus" -dict=fuzz/protocol.dict -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$out/artifacts/" -print_final_stats=1 "${limit[@]}" ${FUZZ_FLAGS:-} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

echo
echo "== summary (full log: $log)"
# The last status line: "#N  DONE cov: … ft: … exec/s: …" (one process) or "#N: cov: … time: Ns" (-fork).
last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
seconds=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$log" | tail -1)
[[ -n $seconds ]] || seconds=$(sed -nE 's/.* time: ([0-9]+)s.*/\1/p' <<<"$last")
echo "executions:  ${runs:-?} in ${seconds:-?} s ($(( ${runs:-0} / (${seconds:-0} > 0 ? ${seconds:-1} : 1) )) exec/s on average)"
echo "coverage:    $(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9/a-zA-Z]+' <<<"$last" || echo '?')"
grep -E '^stat::peak_rss_mb' "$log" || true
if grep -qE 'Test unit written to|==ERROR|deadly signal|SUMMARY: |crash: [1-9]|timeout/crash: ([0-9]+/){0,2}[1-9]' "$log"; then
    echo "!! FINDING (minimize with: $binary -minimize_crash=1 -runs=100000 FILE):"
    grep -E 'FUZZ INVARIANT BROKEN|SUMMARY: |Test unit written to|Fatal error' "$log" | sort -u || true
    ls -1 "$out/artifacts/"
else
    echo "findings:    none"
fi
exit "$status"
