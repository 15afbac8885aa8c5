#!/usr/bin/env bash
# The README's first command: build board, start boardd on a private state directory with the
# embedded defaults (SQLite, offline agents), submit a goal with boardctl, show the final plan,
# and stop the daemon. Usage: scripts/demo.sh ["your goal"]
set -euo pipefail
cd "$(dirname "$0")/.."
goal=${1:-"launch an SMB accounting SaaS in Q2"}

scripts/deps.sh
echo "==> building (debug)"
swift build --product boardd
swift build --product boardctl
bin=$(swift build --show-bin-path)

state=$(mktemp -d "${TMPDIR:-/tmp}/board-demo.XXXXXX")
export BOARD_SOCKET="$state/boardd.sock"
"$bin/boardd" --state-dir "$state" 2>"$state/boardd.log" &
daemon=$!
cleanup() {
    kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
    echo "==> boardd stopped; its state and log are in $state"
}
trap cleanup EXIT

for _ in $(seq 100); do "$bin/boardctl" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "==> boardd is up"; "$bin/boardctl" ping; echo

echo "==> boardctl plan create \"$goal\" --wait"
"$bin/boardctl" plan create "$goal" --wait
plan=$("$bin/boardctl" plan list --limit 1 --json | sed -n 's/.*"plan_id":"\(plan_[a-z0-9]*\)".*/\1/p')
echo; echo "==> boardctl plan show $plan"; "$bin/boardctl" plan show "$plan"
echo; echo "==> boardctl events $plan --limit 8"; "$bin/boardctl" events "$plan" --limit 8
