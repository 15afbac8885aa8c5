#!/usr/bin/env bash
# tests/systemd/run.sh [SCENARIO...]: board as a real system service. Builds the .deb, boots a
# throw-away systemd machine (tests/systemd/harness.sh), installs the package in it and runs the
# scenarios below against the real systemd, journald and dpkg. Each scenario prints PASS or FAIL
# with a reason; the last line is "N passed, N failed"; the exit status is non-zero on any failure.
#
#   1 install     dpkg -i; `systemctl start boardd` returns after READY=1 (Type=notify), active/running
#   2 access      a member of group board runs a plan to closed; a non-member can neither write nor
#                 read, neither through the socket's permissions nor, with the socket opened, boardd's
#   3 journal     journalctl -u boardd PLAN_ID=... shows the plan's task transitions
#   4 watchdog    a wedged scheduler is killed by the watchdog and restarted; the task is recovered
#   5 reload      systemctl reload applies a changed config; a broken one is refused, service stays up
#   6 stop        systemctl stop while a task runs: exit 0, task back to pending, attempt not burned
#   7 socket      with boardd.service stopped, the first boardctl ping starts it through boardd.socket
#   8 upgrade     dpkg -i of a newer version keeps every plan; dpkg --purge removes /var/lib/board
#   9 credential  an LLM agent's API key handed over with LoadCredential= (from a root-only file the
#                 service user cannot read) reaches the model server as its Bearer token and
#                 appears in no log or event; without the credential the task fails, saying why
#
# Scenarios build on each other (2 leaves plans for 3 and 8; 4 writes the test configuration that
# 5 and 6 use); a subset (`run.sh 1 5`) works, with the package installed first in any case.
#
# Environment:
#   BOARD_DEB            use this .deb instead of building one with packaging/build-deb.sh
#   BOARD_DEB_UPGRADE    the newer .deb for scenario 8. Default: built with build-deb.sh, or, with
#                        BOARD_DEB, BOARD_DEB repacked with a higher version
#   BOARD_SYSTEMD_TEST_DIR  scratch directory (default /tmp/board-systemd-test); logs stay in
#                        $BOARD_SYSTEMD_TEST_DIR/logs
#   SKIP_LINTIAN         passed to build-deb.sh (default 1 here: lintian is the packaging's own check)
#
# Needs root, cgroup2, util-linux (unshare, nsenter), systemd on the host, jq; see README.md.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
H=$HERE/harness.sh
WORK=${BOARD_SYSTEMD_TEST_DIR:-/tmp/board-systemd-test}
LOGS=$WORK/logs
export BOARD_SDH_DIR=$WORK/machine BOARD_SDH_SHARE=$WORK/share
SHARE=$BOARD_SDH_SHARE

ALL_SCENARIOS="1 2 3 4 5 6 7 8 9"
SELECTED=${*:-$ALL_SCENARIOS}
PASSED=0 FAILED=0 REASON=""

say() { printf '%s\n' "$*"; }
die() { say "run.sh: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "must run as root (the harness mounts, unshares and creates a cgroup)"
command -v jq >/dev/null || die "needs jq"
for s in $SELECTED; do case " $ALL_SCENARIOS " in *" $s "*) ;; *) die "unknown scenario $s (have: $ALL_SCENARIOS)";; esac; done

# --- Cleanup: whatever happens (a failed scenario, ^C, set -u), the machine goes down. ----------
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if "$H" pid >/dev/null 2>&1; then
        # Keep the machine's whole journal for the post-mortem, then power off.
        "$H" sh journalctl -b --no-pager -o short-precise > "$LOGS/journal.txt" 2>&1 || true
        "$H" down >/dev/null 2>&1 || say "run.sh: harness down failed" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Helpers --------------------------------------------------------------------------------
m() { "$H" sh "$@"; }                                   # run inside the machine
ctl() { "$H" sh timeout 60 boardctl "$@"; }             # boardctl as root, inside
as_user() { local u=$1; shift; "$H" sh timeout 90 runuser -u "$u" -- boardctl "$@"; }
prop() { m systemctl show -p "$2" --value "$1"; }       # prop UNIT PROPERTY
put() { m sh -c 'mkdir -p "$(dirname "$1")" && cat > "$1"' put "$1"; }   # stdin → file inside
now_us() { m date +%s%6N; }
fail() { REASON="$*"; return 1; }
# wait_until SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
wait_until() {
    local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s%N)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}
plan_count() { ctl plan list --limit 1000 --json | jq '.plans | length'; }
task_field() { ctl task show "$1" --json | jq -r ".$2"; }
plan_events() { ctl events "$1" --limit 10000 --json | jq -r '.events[].kind'; }
is_active() { [ "$(m systemctl is-active "$1")" = active ]; }
tail_of() { printf '%s' "$1" | tail -n "${2:-3}" | tr '\n' ' ' | cut -c1-400; }
# Journal lines of boardd since a `now_us` timestamp.
journal_since() { m journalctl --no-pager -u boardd.service --since "@$(( $1 / 1000000 ))" -o cat "${@:2}"; }
journal_has() { journal_since "$1" | grep -q -- "$2"; }
restarted_since() { [ "$(prop boardd.service NRestarts)" -gt "$1" ]; }
concurrency_is() { [ "$(ctl status --json | jq .concurrency)" = "$1" ]; }
task_state_is() { [ "$(task_field "$1" state)" = "$2" ]; }

# --- The packages ------------------------------------------------------------------------------
V1=0.1.0-1 V2=0.1.1-1
build_debs() {
    mkdir -p "$SHARE/debs"
    if [ -n "${BOARD_DEB:-}" ]; then
        [ -f "$BOARD_DEB" ] || die "BOARD_DEB=$BOARD_DEB does not exist"
        cp "$BOARD_DEB" "$SHARE/debs/first.deb"
        if [ -n "${BOARD_DEB_UPGRADE:-}" ]; then
            cp "$BOARD_DEB_UPGRADE" "$SHARE/debs/second.deb"
        else
            # Same content, a higher version: enough to exercise dpkg's upgrade path and the
            # maintainer scripts (prerm upgrade, postinst configure OLD).
            local x=$WORK/repack v
            rm -rf "$x"; dpkg-deb -R "$BOARD_DEB" "$x"
            v=$(sed -n 's/^Version: //p' "$x/DEBIAN/control")
            sed -i "s/^Version: .*/Version: ${v}+systemdtest1/" "$x/DEBIAN/control"
            dpkg-deb --root-owner-group -b "$x" "$SHARE/debs/second.deb" >/dev/null || die "repacking $BOARD_DEB failed"
            rm -rf "$x"
        fi
    else
        local v
        for v in "$V1:first" "$V2:second"; do
            say "building board ${v%%:*} (packaging/build-deb.sh ${v%%-*}), log: $LOGS/build-${v##*:}.log"
            OUT_DIR=$WORK/debs SKIP_LINTIAN=${SKIP_LINTIAN:-1} "$REPO/packaging/build-deb.sh" "${v%%-*}" \
                > "$LOGS/build-${v##*:}.log" 2>&1 || { tail -20 "$LOGS/build-${v##*:}.log"; die "build-deb.sh ${v%%-*} failed"; }
            cp "$WORK/debs/board_${v%%:*}_amd64.deb" "$SHARE/debs/${v##*:}.deb" || die "build-deb.sh made no board_${v%%:*}_amd64.deb"
        done
    fi
    V1=$(dpkg-deb -f "$SHARE/debs/first.deb" Version); V2=$(dpkg-deb -f "$SHARE/debs/second.deb" Version)
    dpkg --compare-versions "$V2" gt "$V1" || die "the upgrade package ($V2) is not newer than $V1"
}

# --- Shared set-up ----------------------------------------------------------------------------
installed() { [ "$(m dpkg-query -W -f '${db:Status-Status}' board 2>/dev/null)" = installed ]; }
install_first() {
    m env DEBIAN_FRONTEND=noninteractive timeout 180 dpkg -i "$SHARE/debs/first.deb" < /dev/null
}
need_installed() {
    installed && return 0
    say "(installing the package first)"
    install_first || fail "package not installed and dpkg -i failed"
}

# A command agent for the CFO: reads its task, sleeps as long as /etc/board-test/agent-sleep says,
# answers. Scenarios 4 and 6 use it; the shutdown grace is 2 s to keep the tests short.
AGENT=/usr/local/lib/board-test/agent.sh
setup_test_config() {
    put "$AGENT" <<'EOF'
#!/bin/sh
# board systemd test agent: one task in (a JSON line on stdin), one result out.
read -r task
s=$(cat /etc/board-test/agent-sleep 2>/dev/null || echo 0)
sleep "$s"
printf '{"summary":"test agent slept %s s","findings":[],"confidence":0.9}\n' "$s"
EOF
    m chmod 0755 "$AGENT"
    echo 0 | put /etc/board-test/agent-sleep
    m sh -c '[ -f /root/board.json.packaged ] || cp /etc/board/board.json /root/board.json.packaged'
    m sh -c "jq '.agents.CFO.backend = \"command\" | .agents.CFO.command = [\"/bin/sh\", \"$AGENT\"]
               | .scheduler.shutdown_grace_s = 2' /root/board.json.packaged > /etc/board/board.json"
}
agent_sleep() { echo "$1" | put /etc/board-test/agent-sleep; }
WEDGE_DROPIN=/etc/systemd/system/boardd.service.d/50-test-wedge.conf
OPEN_SOCKET_DROPIN=/etc/systemd/system/boardd.socket.d/50-test-open.conf

# --- Scenarios ----------------------------------------------------------------------------------
s1() {  # install; start returns after READY
    install_first || fail "dpkg -i $(basename "$V1") failed (see log)" || return
    is_active boardd.socket || fail "boardd.socket is $(m systemctl is-active boardd.socket) after install" || return
    is_active boardd.service || fail "boardd.service is $(m systemctl is-active boardd.service) after install (postinst should start it)" || return
    m systemctl stop boardd.service
    m timeout 60 systemctl start boardd.service || fail "systemctl start boardd failed: $(m systemctl status boardd --no-pager -n 5 2>&1 | tail -5 | tr '\n' ' ')" || return
    # Read right after `start` returned: with Type=notify it returns only once READY=1 arrived.
    local show; show=$(m systemctl show -p Type,ActiveState,SubState,NRestarts,MainPID boardd.service | tr '\n' ' ')
    say "after start: $show"
    case "$show" in *"Type=notify"*) ;; *) fail "not Type=notify: $show"; return;; esac
    case "$show" in *"ActiveState=active"*"SubState=running"*|*"SubState=running"*"ActiveState=active"*) ;;
        *) fail "not active/running right after start returned: $show"; return;; esac
    case "$show" in *"NRestarts=0"*) ;; *) fail "restarted: $show"; return;; esac
    local status; status=$(prop boardd.service StatusText)
    say "StatusText: $status"
    [ -n "$status" ] || fail "StatusText is empty (no STATUS= from boardd)" || return
    local pid user; pid=$(prop boardd.service MainPID); user=$(m ps -o user= -p "$pid")
    [ "$user" = board ] || fail "boardd runs as '$user', not board" || return
    ctl ping || fail "boardctl ping failed right after start" || return
}

s2() {  # group board may write; others may not even read
    need_installed || return
    m sh -c 'id alice >/dev/null 2>&1 || useradd -m alice; usermod -aG board alice; id bob >/dev/null 2>&1 || useradd -M bob'
    local out rc
    out=$(as_user alice plan create "Open a support desk in Berlin" --wait --timeout 60 2>&1); rc=$?
    say "$out"
    [ $rc = 0 ] || fail "alice (group board): plan create --wait exited $rc: $(tail_of "$out")" || return
    grep -q '^# Final plan' <<<"$out" || fail "alice: no '# Final plan' in the output" || return
    ALICE_PLAN=$(grep -o 'plan_[0-9a-f]\{16\}' <<<"$out" | head -1)
    [ -n "$ALICE_PLAN" ] || fail "alice: no plan id in the output" || return
    [ "$(ctl plan show "$ALICE_PLAN" --json | jq -r .status)" = closed ] || fail "alice's plan $ALICE_PLAN is not closed" || return
    # The status line follows the work to its end, although the idle daemon's polls grow apart.
    status_idle() { case "$(prop boardd.service StatusText)" in "0 running, 0 pending, 0 plans open"*) ;; *) return 1;; esac; }
    wait_until 5 status_idle || fail "StatusText did not come back to idle after the plan: $(prop boardd.service StatusText)" || return

    local before after; before=$(plan_count)
    out=$(as_user bob plan create "bob was here" 2>&1); rc=$?
    say "bob plan create → $rc: $out"
    case $rc in 69|1) ;; *) fail "bob (not in group board): plan create exited $rc, expected 69 (no access to the socket) or 1 (forbidden): $(tail_of "$out")"; return;; esac
    grep -qiE 'permission denied|forbidden' <<<"$out" || fail "bob: refusal does not say why: $(tail_of "$out")" || return
    out=$(as_user bob plan list 2>&1); rc=$?
    say "bob plan list → $rc: $out"
    case $rc in 69|1) ;; *) fail "bob: plan list exited $rc, expected a clean refusal (69 or 1): $(tail_of "$out")"; return;; esac
    [ "$(wc -l <<<"$out")" -le 2 ] && ! grep -qiE 'fatal|backtrace|crash' <<<"$out" \
        || fail "bob: plan list did not fail cleanly: $(tail_of "$out")" || return
    # The audit trail names the caller, from SO_PEERCRED on the socket systemd passed in.
    local uid actor; uid=$(m id -u alice)
    actor=$(ctl events "$ALICE_PLAN" --limit 10000 --json | jq -r '.events[] | select(.kind == "plan_created") | .payload.actor')
    [ "$actor" = "uid:$uid" ] || fail "plan_created actor is '$actor', expected uid:$uid (alice)" || return

    # Second gate: with the socket opened to everyone, boardd itself refuses bob (SO_PEERCRED).
    printf '[Socket]\nSocketMode=0666\n' | put "$OPEN_SOCKET_DROPIN"
    m systemctl stop boardd.service boardd.socket; m systemctl daemon-reload
    m timeout 60 systemctl start boardd.socket boardd.service || fail "restart with SocketMode=0666 failed" || return
    out=$(as_user bob ping 2>&1); rc=$?
    say "open socket: bob ping → $rc: $out"
    [ $rc = 0 ] || fail "open socket: bob cannot ping (exit $rc: $(tail_of "$out"))" || return
    out=$(as_user bob plan create "bob was here" 2>&1); rc=$?
    say "open socket: bob plan create → $rc: $out"
    [ $rc = 1 ] && grep -q 'forbidden' <<<"$out" \
        || fail "open socket: bob's plan create exited $rc, expected 1 [forbidden]: $(tail_of "$out")" || return
    out=$(as_user bob plan list 2>&1); rc=$?
    say "open socket: bob plan list → $rc: $out"
    [ $rc = 1 ] && grep -q 'forbidden' <<<"$out" \
        || fail "open socket: bob's plan list exited $rc, expected 1 [forbidden]: $(tail_of "$out")" || return
    m rm -f "$OPEN_SOCKET_DROPIN"
    m systemctl stop boardd.service boardd.socket; m systemctl daemon-reload
    m timeout 60 systemctl start boardd.socket boardd.service || fail "restart without the drop-in failed" || return
    [ "$(m stat -c %a /run/board/boardd.sock)" = 660 ] || fail "socket mode is not 0660 again" || return

    after=$(plan_count)
    [ "$before" = "$after" ] || fail "plan count changed from $before to $after after bob's attempts" || return
    ctl plan list --limit 1000 --json | jq -e 'any(.plans[]; .goal == "bob was here") | not' >/dev/null \
        || fail "a plan 'bob was here' exists" || return
}

s3() {  # journald fields
    need_installed || return
    if [ -z "${ALICE_PLAN:-}" ]; then
        ALICE_PLAN=$(ctl plan create "Journal check" --wait --timeout 60 --json 2>/dev/null | jq -r '.plan_id // empty' 2>/dev/null)
        [ -n "$ALICE_PLAN" ] || ALICE_PLAN=$(ctl plan list --status closed --limit 1 --json | jq -r '.plans[0].plan_id // empty')
        [ -n "$ALICE_PLAN" ] || fail "no closed plan to look for" || return
    fi
    m journalctl --sync 2>/dev/null || true
    local tasks entries events
    tasks=$(ctl plan show "$ALICE_PLAN" --json | jq '.tasks | length')
    entries=$(m journalctl --no-pager -u boardd.service "PLAN_ID=$ALICE_PLAN" -o json)
    say "$(jq -r '[.SYSLOG_IDENTIFIER, .EVENT // "-", .TASK_ID // "-", .AGENT // "-", .MESSAGE] | join(" ")' <<<"$entries")"
    [ -n "$entries" ] || fail "journalctl -u boardd PLAN_ID=$ALICE_PLAN shows nothing" || return
    events=$(jq -r '.EVENT // empty' <<<"$entries")
    local started completed
    started=$(grep -c '^task_started$' <<<"$events"); completed=$(grep -c '^task_completed$' <<<"$events")
    [ "$started" -ge "$tasks" ] && [ "$completed" -ge "$tasks" ] \
        || fail "plan has $tasks tasks, journal shows EVENT=task_started ×$started, task_completed ×$completed" || return
    [ "$(jq -s '[.[] | select(.EVENT == "task_started" and (((.TASK_ID // "") | startswith("task_") | not) or (.AGENT // "") == ""))] | length' <<<"$entries")" = 0 ] \
        || fail "task_started entries without TASK_ID or AGENT" || return
    [ "$(jq -s '[.[] | select(.SYSLOG_IDENTIFIER != "boardd")] | length' <<<"$entries")" = 0 ] \
        || fail "entries with a SYSLOG_IDENTIFIER other than boardd" || return
}

s4() {  # watchdog
    need_installed || return
    setup_test_config
    # Control: a healthy boardd keeps a 2 s watchdog happy, also while a task runs.
    agent_sleep 3
    printf '[Service]\nWatchdogSec=2\n' | put "$WEDGE_DROPIN"
    m systemctl daemon-reload
    m timeout 60 systemctl restart boardd.service || fail "restart with WatchdogSec=2 failed" || return
    local r_ok; r_ok=$(prop boardd.service NRestarts)
    ctl plan create "Watchdog control" --agent CFO --json >/dev/null || fail "plan create failed" || return
    sleep 5
    [ "$(prop boardd.service NRestarts)" = "$r_ok" ] && is_active boardd.service \
        || fail "a healthy boardd was killed by a 2 s watchdog (no WATCHDOG=1 pings?): NRestarts $r_ok → $(prop boardd.service NRestarts)" || return
    say "control: healthy boardd survived 5 s with WatchdogSec=2"

    agent_sleep 20       # the task must still be running when the watchdog fires
    put "$WEDGE_DROPIN" <<'EOF'
# tests/systemd scenario 4: the scheduler hangs after its first claim; a 2 s watchdog catches it.
[Service]
Environment=BOARD_TEST_WEDGE_SCHEDULER=after-claim
WatchdogSec=2
# A wedged daemon may not finish a graceful stop; do not wait 45 s for it in the test.
TimeoutStopSec=3s
EOF
    m systemctl daemon-reload
    m timeout 60 systemctl restart boardd.service || fail "restart with the wedge drop-in failed" || return
    local r0 t0 plan
    r0=$(prop boardd.service NRestarts); t0=$(now_us)
    plan=$(ctl plan create "Watchdog drill" --agent CFO --max-attempts 10 --json | jq -r .plan_id)
    [ -n "$plan" ] && [ "$plan" != null ] || fail "plan create failed" || return
    WATCHDOG_PLAN=$plan
    if ! wait_until 40 restarted_since "$r0"; then
        fail "no restart within 40 s of the wedge (NRestarts $(prop boardd.service NRestarts)); $(journal_since "$t0" | tail -3 | tr '\n' ' ')"
        return
    fi
    local j; j=$(m journalctl --no-pager -u boardd.service --since "@$(( t0 / 1000000 ))" -o cat)
    say "$j"
    grep -q 'Watchdog timeout' <<<"$j" || fail "restarted, but the journal has no 'Watchdog timeout' (not the watchdog?)" || return
    agent_sleep 0
    # Remove the wedge; the running (wedged) instance is stopped under the drop-in's short timeout.
    m rm -f "$WEDGE_DROPIN"
    m timeout 60 systemctl stop boardd.service
    m systemctl daemon-reload
    m systemctl reset-failed boardd.service 2>/dev/null
    m timeout 60 systemctl start boardd.service || fail "start without the wedge failed" || return
    local out rc
    out=$(ctl plan wait "$plan" --timeout 60 2>&1); rc=$?
    [ $rc = 0 ] || fail "plan $plan did not close after the watchdog restart (plan wait exited $rc: $(tail_of "$out"))" || return
    plan_events "$plan" | grep -qx task_recovered || fail "no task_recovered event in plan $plan: $(plan_events "$plan" | tr '\n' ' ')" || return
}

s5() {  # reload
    need_installed || return
    m test -f /root/board.json.packaged || setup_test_config
    m rm -f "$WEDGE_DROPIN"; m systemctl daemon-reload
    is_active boardd.service || m timeout 60 systemctl start boardd.service
    local pid0 r0 c0 c1 t0 rc out
    pid0=$(prop boardd.service MainPID); r0=$(prop boardd.service NRestarts)
    c0=$(ctl status --json | jq .concurrency)
    c1=$(( c0 == 7 ? 5 : 7 ))
    m cp /etc/board/board.json /root/board.json.good
    m sh -c "jq '.scheduler.concurrency = $c1' /root/board.json.good > /etc/board/board.json"
    m timeout 30 systemctl reload boardd.service || fail "systemctl reload failed with a valid config" || return
    wait_until 10 concurrency_is "$c1" \
        || fail "concurrency still $(ctl status --json | jq .concurrency) after reload, expected $c1" || return
    say "reload applied: concurrency $c0 → $c1"

    local broken
    for broken in json key; do
        t0=$(now_us)
        if [ $broken = json ]; then
            echo '{ "scheduler": { "concurrency": 3, ' | put /etc/board/board.json
        else
            m sh -c "jq '.scheduler.concurency = 3' /root/board.json.good > /etc/board/board.json"
        fi
        m timeout 30 systemctl reload boardd.service; rc=$?
        # systemd 252 cannot see the outcome of ExecReload=kill -HUP; the journal can.
        wait_until 10 journal_has "$t0" 'reload refused' \
            || [ $rc != 0 ] || fail "broken config ($broken): reload neither failed nor was refused in the journal" || return
        say "broken config ($broken): systemctl reload → $rc; $(journal_since "$t0" | grep 'reload refused' | tail -1)"
        [ $broken = key ] && { journal_since "$t0" | grep 'reload refused' | grep -q concurency || fail "refusal does not name the unknown key 'scheduler.concurency'" || return; }
        out=$(ctl reload 2>&1); rc=$?
        say "boardctl reload → $rc: $out"
        [ $rc = 1 ] || fail "boardctl reload with a broken config ($broken) exited $rc, expected 1: $(tail_of "$out")" || return
        is_active boardd.service || fail "service not active after the broken reload ($broken)" || return
        [ "$(prop boardd.service MainPID)" = "$pid0" ] && [ "$(prop boardd.service NRestarts)" = "$r0" ] \
            || fail "boardd was restarted by the broken reload ($broken)" || return
        [ "$(ctl status --json | jq .concurrency)" = $c1 ] || fail "concurrency changed by the broken reload ($broken)" || return
    done
    m cp /root/board.json.good /etc/board/board.json
    m timeout 30 systemctl reload boardd.service || fail "reload of the restored config failed" || return
    wait_until 10 concurrency_is "$c0" \
        || fail "restored config not applied" || return
}

s6() {  # graceful stop during a running task
    need_installed || return
    m test -f /root/board.json.packaged || setup_test_config
    setup_test_config
    m rm -f "$WEDGE_DROPIN"; m systemctl daemon-reload
    m timeout 60 systemctl restart boardd.service || fail "restart failed" || return
    agent_sleep 30
    local plan task max0 t0 dt show out rc
    out=$(ctl plan create "Stop drill" --agent CFO --json) || fail "plan create failed: $(tail_of "$out")" || return
    plan=$(jq -r .plan_id <<<"$out"); task=$(jq -r '.tasks[0].task_id' <<<"$out"); max0=$(jq '.tasks[0].max_attempts' <<<"$out")
    wait_until 15 task_state_is "$task" in_progress \
        || fail "task $task never started" || return
    wait_until 10 m pgrep -f "$AGENT" || fail "the agent process never started" || return
    t0=$(now_us)
    m timeout 60 systemctl stop boardd.service || fail "systemctl stop failed" || return
    dt=$(( ($(now_us) - t0) / 1000 ))
    show=$(m systemctl show -p ExecMainStatus,ExecMainCode,Result,ActiveState boardd.service | tr '\n' ' ')
    say "stopped in ${dt} ms: $show"
    say "$(journal_since "$t0")"
    case "$show" in *"ExecMainStatus=0"*) ;; *) fail "exit status not 0: $show"; return;; esac
    case "$show" in *"Result=success"*) ;; *) fail "Result is not success: $show"; return;; esac
    [ "$dt" -lt 15000 ] || fail "stop took ${dt} ms (grace is 2 s)" || return
    m journalctl --no-pager -u boardd.service SYSLOG_IDENTIFIER=boardd --since "@$(( t0 / 1000000 ))" -o cat | grep -qi stopping \
        || fail "boardd logged no 'stopping' (graceful drain) after SIGTERM" || return
    ! m pgrep -f "$AGENT" >/dev/null || fail "the agent is still running after the stop" || return
    agent_sleep 0
    m timeout 60 systemctl start boardd.service || fail "start after stop failed" || return
    local events; events=$(ctl events "$plan" --task "$task" --json)
    jq -e 'any(.events[]; .kind == "task_interrupted" and .payload.to == "pending")' <<<"$events" >/dev/null \
        || fail "no task_interrupted (→ pending) event for $task: $(jq -r '[.events[].kind] | join(",")' <<<"$events")" || return
    out=$(ctl plan wait "$plan" --timeout 60 2>&1); rc=$?
    [ $rc = 0 ] || fail "plan did not close after the restart (plan wait $rc: $(tail_of "$out"))" || return
    local max1; max1=$(task_field "$task" max_attempts)
    [ "$max1" = $(( max0 + 1 )) ] || fail "max_attempts $max0 → $max1; the interrupted attempt should add one" || return
}

s7() {  # socket activation
    need_installed || return
    m rm -f "$WEDGE_DROPIN"; m systemctl daemon-reload
    is_active boardd.socket || m systemctl start boardd.socket
    m timeout 60 systemctl stop boardd.service
    local st ino0 ino1 out rc
    st=$(m systemctl is-active boardd.service)
    [ "$st" = inactive ] || fail "boardd.service is $st after stop, expected inactive" || return
    is_active boardd.socket || fail "boardd.socket is not listening with the service stopped" || return
    ino0=$(m stat -c %i /run/board/boardd.sock) || fail "no /run/board/boardd.sock" || return
    out=$(ctl ping 2>&1); rc=$?
    say "ping → $rc: $out"
    [ $rc = 0 ] || fail "the first ping did not start boardd (exit $rc: $(tail_of "$out"))" || return
    st=$(m systemctl is-active boardd.service)
    [ "$st" = active ] || fail "boardd.service is $st after the ping" || return
    ino1=$(m stat -c %i /run/board/boardd.sock)
    [ "$ino0" = "$ino1" ] || fail "the socket file was replaced (inode $ino0 → $ino1): boardd bound its own socket" || return
    as_user alice ping >/dev/null 2>&1 || [ -z "$(m id -u alice 2>/dev/null)" ] || fail "a member of group board cannot ping through the activated socket" || return
}

s8() {  # upgrade keeps data; purge removes it
    need_installed || return
    m rm -f "$WEDGE_DROPIN"; m systemctl daemon-reload
    is_active boardd.service || m timeout 60 systemctl start boardd.service
    [ "$(plan_count)" -gt 0 ] || ctl plan create "Upgrade drill" --wait --timeout 60 >/dev/null
    local before after conf0 conf1 v pid0 out rc
    before=$(plan_count); conf0=$(m md5sum /etc/board/board.json); pid0=$(prop boardd.service MainPID)
    out=$(m env DEBIAN_FRONTEND=noninteractive timeout 180 dpkg -i "$SHARE/debs/second.deb" < /dev/null 2>&1); rc=$?
    say "$out"
    [ $rc = 0 ] || fail "dpkg -i of $V2 over $V1 failed ($rc): $(tail_of "$out")" || return
    v=$(m dpkg-query -W -f '${Version}' board)
    [ "$v" = "$V2" ] || fail "installed version is $v, expected $V2" || return
    is_active boardd.service || fail "boardd.service is $(m systemctl is-active boardd.service) after the upgrade" || return
    is_active boardd.socket || fail "boardd.socket is $(m systemctl is-active boardd.socket) after the upgrade" || return
    say "MainPID $pid0 → $(prop boardd.service MainPID)"
    after=$(plan_count)
    [ "$before" = "$after" ] || fail "plans before the upgrade: $before, after: $after" || return
    conf1=$(m md5sum /etc/board/board.json)
    [ "$conf0" = "$conf1" ] || fail "the administrator's /etc/board/board.json was replaced by the upgrade" || return
    out=$(m env DEBIAN_FRONTEND=noninteractive timeout 180 dpkg --purge board < /dev/null 2>&1); rc=$?
    say "$out"
    [ $rc = 0 ] || fail "dpkg --purge board failed ($rc): $(tail_of "$out")" || return
    ! m test -e /var/lib/board || fail "/var/lib/board still exists after purge" || return
    ! is_active boardd.service && ! is_active boardd.socket \
        || fail "units still active after purge: $(m systemctl is-active boardd.service boardd.socket | tr '\n' ' ')" || return
    ! m test -e /run/board/boardd.sock || fail "/run/board/boardd.sock still exists after purge" || return
}

CREDENTIAL_DROPIN=/etc/systemd/system/boardd.service.d/50-test-credential.conf
s9() {  # an LLM API key through LoadCredential=; whatever happens, the machine is left as found
    s9_body; local rc=$?
    m rm -f "$CREDENTIAL_DROPIN"; m systemctl daemon-reload
    m sh -c '[ ! -f /root/board.json.credential-test ] || cp /root/board.json.credential-test /etc/board/board.json'
    m systemctl stop board-test-llm.service 2>/dev/null
    installed && m timeout 60 systemctl restart boardd.service
    return $rc
}
s9_body() {
    need_installed || return
    local port=18089 key dropin=$CREDENTIAL_DROPIN
    local seen=/run/board-test-llm/requests t0 out rc plan task result journal events
    key="sk-test-$(m sh -c 'head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n"')"
    printf '%s\n' "$key" | put /etc/board-test/llm.key
    m chmod 0600 /etc/board-test/llm.key
    # An OpenAI-compatible server that answers every chat completion with a valid analysis and
    # appends each request's path and Authorization header to $seen.
    put /usr/local/lib/board-test/mock-openai.py <<'PY'
import http.server, json, os, sys
port, seen = int(sys.argv[1]), sys.argv[2]
os.makedirs(os.path.dirname(seen), exist_ok=True)
analysis = {"summary": "mock model analysis", "findings": ["f"], "risks": ["r"], "recommendations": ["a"],
            "confidence": 0.7, "citations": []}
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(seen, "a") as f:
            f.write(f"{self.path} {self.headers.get('Authorization', '(none)')}\n")
        body = json.dumps({"model": "mock", "choices": [{"message": {"role": "assistant", "content": json.dumps(analysis)}}],
                           "usage": {"prompt_tokens": 11, "completion_tokens": 7}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
PY
    m systemctl stop board-test-llm.service 2>/dev/null; m rm -f "$seen"
    m systemd-run --quiet --collect --unit board-test-llm python3 /usr/local/lib/board-test/mock-openai.py "$port" "$seen" \
        || fail "could not start the mock model server" || return
    m sh -c '[ -f /root/board.json.credential-test ] || cp /etc/board/board.json /root/board.json.credential-test'
    m sh -c "jq '.agents.CTO.backend = \"openai\" | .backends.openai.base_url = \"http://127.0.0.1:$port/v1\"
               | .backends.openai.api_key_credential = \"llm-key\" | del(.backends.openai.api_key_file)' \
               /root/board.json.credential-test > /etc/board/board.json"
    ! m runuser -u board -- cat /etc/board-test/llm.key >/dev/null 2>&1 \
        || fail "the service user can read the key file itself: the test would not show that the credential is used" || return

    # Without the credential: the task fails at once and says what is missing.
    m rm -f "$dropin"; m systemctl daemon-reload
    m timeout 60 systemctl restart boardd.service || fail "restart without the credential failed" || return
    out=$(ctl plan create "Credential drill, no key" --agent CTO --json) || fail "plan create failed: $(tail_of "$out")" || return
    task=$(printf '%s' "$out" | jq -r '.tasks[0].task_id')
    wait_until 30 task_state_is "$task" failed || fail "task $task is $(task_field "$task" state), expected failed" || return
    task_field "$task" last_error | grep -q 'credential llm-key is not available' \
        || fail "last_error does not say the credential is missing: $(task_field "$task" last_error)" || return
    say "without the credential: $(task_field "$task" last_error)"

    # With it: the key reaches the server as the Bearer token, and goes nowhere else.
    printf '[Service]\nLoadCredential=llm-key:/etc/board-test/llm.key\n' | put "$dropin"
    m systemctl daemon-reload
    t0=$(now_us)
    m timeout 60 systemctl restart boardd.service || fail "restart with the credential failed" || return
    out=$(ctl plan create "Credential drill" --agent CTO --json) || fail "plan create failed: $(tail_of "$out")" || return
    plan=$(printf '%s' "$out" | jq -r .plan_id); task=$(printf '%s' "$out" | jq -r '.tasks[0].task_id')
    out=$(ctl plan wait "$plan" --timeout 60 2>&1); rc=$?
    [ $rc = 0 ] || fail "plan $plan did not close (plan wait exited $rc: $(tail_of "$out"))" || return
    result=$(ctl task show "$task" --json)
    [ "$(printf '%s' "$result" | jq -r .result.summary)" = "mock model analysis" ] \
        || fail "the task's result is not the model's: $(printf '%s' "$result" | jq -c .result | cut -c1-300)" || return
    m grep -qxF "/v1/chat/completions Bearer $key" "$seen" \
        || fail "the server never saw the key as a Bearer token; it saw: $(m cat "$seen" | sed "s/$key/<the key>/g" | tail -3 | tr '\n' ' ')" || return
    say "the model server saw: $(m tail -1 "$seen" | sed "s/$key/<the key>/")"
    # Read first, then search: an empty read must not pass for "the key is not there".
    journal=$(journal_since "$t0"); events=$(ctl events "$plan" --all --json)
    printf '%s' "$journal" | grep -q 'task_completed' || fail "the journal since the restart shows no task_completed" || return
    printf '%s' "$events" | grep -q 'task_completed' || fail "the plan's events show no task_completed" || return
    ! printf '%s' "$journal" | grep -qF "$key" || fail "the key appears in the journal" || return
    ! printf '%s' "$events" | grep -qF "$key" || fail "the key appears in the plan's events" || return
    ! printf '%s' "$result" | grep -qF "$key" || fail "the key appears in the task" || return
}

NAMES=([1]="install: start returns after READY" [2]="access: group board writes, others refused"
       [3]="journal: PLAN_ID/EVENT fields" [4]="watchdog: wedged scheduler killed and restarted, task recovered"
       [5]="reload: valid config applied, broken config refused" [6]="stop: graceful, task back to pending"
       [7]="socket activation: first ping starts boardd" [8]="upgrade keeps plans; purge removes /var/lib/board"
       [9]="credential: LoadCredential= hands an LLM API key to the agent, never logged")

# --- Main ---------------------------------------------------------------------------------------
mkdir -p "$WORK" "$LOGS" "$SHARE"
rm -f "$LOGS"/*.log "$LOGS/journal.txt"
"$H" down >/dev/null 2>&1 || true          # a machine left behind by a killed run
if [ -n "${BOARD_DEB:-}" ]; then build_debs; else
    b0=$(date +%s); build_debs; say "packages built in $(( $(date +%s) - b0 )) s"
fi
say "packages: $V1 (first), $V2 (upgrade)"

t_start=$(date +%s%N)
"$H" up > "$LOGS/harness.log" 2>&1 || { cat "$LOGS/harness.log"; die "the systemd machine did not boot"; }
say "$(cat "$LOGS/harness.log")"
# The host may be a container image whose /usr/sbin/policy-rc.d forbids starting services (exit
# 101; Debian's docker images ship one). A real machine has none; remove it in the machine's
# overlay only, so that the maintainer scripts' deb-systemd-invoke really starts and stops units.
"$H" sh rm -f /usr/sbin/policy-rc.d
for n in $SELECTED; do
    REASON=""
    t0=$(date +%s%N)
    if "s$n" >> "$LOGS/s$n.log" 2>&1; then
        PASSED=$((PASSED + 1))
        say "PASS $n ${NAMES[$n]} ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
    else
        FAILED=$((FAILED + 1))
        say "FAIL $n ${NAMES[$n]}: ${REASON:-a command failed} (log: $LOGS/s$n.log)"
    fi
done
say "scenarios took $(( ($(date +%s%N) - t_start) / 1000000000 )) s; journal: $LOGS/journal.txt"
say "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
