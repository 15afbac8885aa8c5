#!/usr/bin/env bash
# tests/systemd/harness.sh: a throw-away "machine" that runs the host's real systemd as PID 1,
# so that board's system-service behaviour (Type=notify, WatchdogSec=, Restart=, ExecReload=,
# .socket activation, journald fields, dpkg maintainer scripts) is tested against the real thing.
#
#   harness.sh up            boot it (about a second); prints "machine up: <state> (pid N)"
#   harness.sh sh CMD ARGS   run CMD inside (root, clean environment); stdin/stdout/exit status pass through
#   harness.sh pid           print the host PID of the machine's PID 1
#   harness.sh down          power it off and clean up everything (also fine when nothing is up)
#
# Environment:
#   BOARD_SDH_DIR    scratch directory, default /tmp/board-sdh. One machine per directory; `up`
#                    first takes down a machine left behind in the same directory.
#   BOARD_SDH_SHARE  a host directory bind-mounted read-write at the same path inside (hand files
#                    such as the .deb in through it). Default: $BOARD_SDH_DIR/share.
#   BOARD_SDH_BOOT_TIMEOUT  seconds to wait for the boot (default 30).
#   BOARD_SDH_DEBUG  non-empty: trace the inner set-up and let systemd log at debug level to the
#                    console log ($BOARD_SDH_DIR/console.log; the set-up trace is in unshare.log).
#
# How it works. `up` starts `unshare` with new PID, mount, cgroup, UTS, IPC and network namespaces;
# its forked child runs this script's `inner` step as PID 1 of the new PID namespace. `inner` builds
# a root filesystem (an overlay whose lower layer is the host's `/` and whose upper layer is a tmpfs),
# pivots into it and execs systemd, which then believes it boots a container (`container=` is set).
#
# What the host sees and keeps:
#   * Every mount is made in the private mount namespace (propagation private), so the host's mount
#     table never changes; the kernel discards all of them when the last process of the machine exits.
#     Inside, once the new root is in place, its mounts are made shared among themselves (as
#     systemd-nspawn does), which systemd's per-unit mount namespaces need (LoadCredential=).
#   * Every write inside lands in the tmpfs upper layer (RAM): the host filesystem is never written,
#     except the scratch directory (pid files, console log) and the share.
#   * The one other thing created outside the scratch directory is a cgroup directory
#     (/sys/fs/cgroup[/unified]/board-sdh-<hash of the scratch dir>): systemd must own a cgroup
#     subtree, and a cgroup namespace rooted there gives it one without touching the host's tree.
#     `down` removes it.
#   * Only the host's root filesystem is visible inside; other host mounts (e.g. a CI workspace bind
#     mount) are not. Put what the machine needs into the share.
#
# Finding PID 1 from the host: the PID of `unshare` is kept in $BOARD_SDH_DIR/unshare.pid; the
# machine's PID 1 is its only child (/proc/U/task/U/children), and we check that the child's
# NSpid ends in 1 (it is PID 1 in its namespace) before using it. Nothing is ever found or killed by
# name, only by these recorded, checked PIDs.
#
# Cleanup: `down` asks systemd to power off (SIGRTMIN+4) and waits up to 5 s; then it SIGKILLs PID 1,
# and when a PID namespace's init dies the kernel kills every other process in it (including ones
# entered with `sh`). `unshare` runs with --kill-child, so even a killed `unshare` takes the machine
# down with it. The cgroup directory is then removed (cgroup.kill first, for anything left).
#
# Requirements: root, cgroup2 (pure or hybrid layout), util-linux unshare/nsenter, overlayfs, and
# systemd installed on the host (tested with 252).
set -euo pipefail

SELF=$(readlink -f "$0")
DIR=${BOARD_SDH_DIR:-/tmp/board-sdh}
SHARE=${BOARD_SDH_SHARE:-$DIR/share}
ROOT=$DIR/root          # mount point of the machine's root (the overlay)
RW=$DIR/rw              # mount point of the tmpfs holding the overlay's upper and work dirs
HOSTNAME_INSIDE=board-systemd-test

die() { echo "harness: $*" >&2; exit 1; }

# The host's cgroup2 mount: /sys/fs/cgroup on a pure cgroup2 host, /sys/fs/cgroup/unified on a
# hybrid (v1 controllers + v2) host like a Debian VM booted with systemd.legacy_systemd_cgroup_controller.
cgroup2_root() {
    local d
    for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
        [ "$(stat -fc %T "$d" 2>/dev/null)" = cgroup2fs ] && { echo "$d"; return 0; }
    done
    return 1
}
cgroup_dir() {
    local r; r=$(cgroup2_root) || return 1
    echo "$r/board-sdh-$(printf '%s' "$DIR" | md5sum | cut -c1-10)"
}

# The recorded unshare PID, if that process is still our unshare for this scratch directory.
unshare_pid() {
    local u
    u=$(cat "$DIR/unshare.pid" 2>/dev/null) || return 1
    [ -n "$u" ] && [ -r "/proc/$u/cmdline" ] || return 1
    tr '\0' ' ' < "/proc/$u/cmdline" | grep -qF -- "$SELF inner $DIR" || return 1
    echo "$u"
}

# The host PID of the machine's PID 1: unshare's only child, checked to be PID 1 in its namespace.
pid1() {
    local u p
    u=$(unshare_pid) || return 1
    p=$(cat "/proc/$u/task/$u/children" 2>/dev/null | awk '{print $1}')
    [ -n "$p" ] || return 1
    awk '/^NSpid:/ { exit ($NF == 1 ? 0 : 1) }' "/proc/$p/status" 2>/dev/null || return 1
    echo "$p"
}

cmd_inner() {
    [ -n "${BOARD_SDH_DEBUG:-}" ] && set -x
    # Runs as PID 1 of the new namespaces, still on the host's root. Nothing here may leak out:
    # first make every mount private, so that nothing we mount propagates to the host (and nothing
    # the host mounts later appears here).
    mount --make-rprivate /

    # The writable layer: a tmpfs, visible only in this mount namespace. The overlay shows the host's
    # root filesystem read-only underneath and keeps every change (dpkg -i, useradd, units, the
    # database) in this tmpfs, in RAM. It vanishes with the namespace.
    mount -t tmpfs -o mode=0700 board-sdh-rw "$RW"
    mkdir "$RW/upper" "$RW/work"
    mount -t overlay board-sdh-root -o "lowerdir=/,upperdir=$RW/upper,workdir=$RW/work" "$ROOT"

    # API filesystems. They are not part of the overlay (it shows the host's root filesystem only),
    # so each is mounted fresh:
    # /proc: a new instance for the new PID namespace (shows the machine's processes only).
    mount -t proc proc "$ROOT/proc"
    # /proc/sys read-only: sysctls are mostly global to the kernel, and systemd would set some at boot.
    mount --bind "$ROOT/proc/sys" "$ROOT/proc/sys"
    mount -o remount,bind,ro "$ROOT/proc/sys"
    # /sys read-only: systemd needs to read it; nothing inside may change the host's devices.
    # (systemd also skips udev and other hardware units when /sys is read-only.)
    mount -t sysfs -o ro sysfs "$ROOT/sys"
    # cgroup2: in the new cgroup namespace its root is our board-sdh-* cgroup, so systemd manages
    # that subtree only (services, Delegate, the cgroup-based journal attribution -u boardd).
    mount -t cgroup2 cgroup2 "$ROOT/sys/fs/cgroup"
    # /run and /tmp: empty tmpfs, as on a freshly booted machine (sockets, runtime dirs, /run/board).
    mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$ROOT/run"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$ROOT/tmp"
    # /var/log/journal: a private tmpfs, so that journalctl inside never reads the host's journal
    # files and the machine's persistent journal also lives in RAM.
    mkdir -p "$ROOT/var/log/journal"
    mount -t tmpfs -o mode=2755 tmpfs "$ROOT/var/log/journal"
    # /dev: a tmpfs with only the harmless device nodes bind-mounted from the host (no disks, no
    # /dev/kmsg), a private devpts instance for ptys, /dev/shm, and /dev/console bound to a log file
    # in the scratch directory (systemd prints its boot and shutdown status there).
    mount -t tmpfs -o mode=0755,nosuid tmpfs "$ROOT/dev"
    local n
    for n in null zero full random urandom tty; do
        touch "$ROOT/dev/$n"; mount --bind "/dev/$n" "$ROOT/dev/$n"
    done
    mkdir "$ROOT/dev/pts" "$ROOT/dev/shm"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$ROOT/dev/pts"
    ln -s pts/ptmx "$ROOT/dev/ptmx"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$ROOT/dev/shm"
    ln -s /proc/self/fd "$ROOT/dev/fd"
    ln -s /proc/self/fd/0 "$ROOT/dev/stdin"
    ln -s /proc/self/fd/1 "$ROOT/dev/stdout"
    ln -s /proc/self/fd/2 "$ROOT/dev/stderr"
    touch "$ROOT/dev/console"; mount --bind "$DIR/console.log" "$ROOT/dev/console"
    # The share, read-write, at the same path as on the host.
    mkdir -p "$ROOT$SHARE"; mount --bind "$SHARE" "$ROOT$SHARE"

    # Its own identity: a fresh machine id (its journal is its own) and a hostname (UTS namespace).
    systemd-id128 new > "$ROOT/etc/machine-id"
    echo "$HOSTNAME_INSIDE" > "$ROOT/etc/hostname"
    hostname "$HOSTNAME_INSIDE"

    # Boot to a minimal target: sysinit + sockets (journald, the socket units), nothing of the
    # host's multi-user.target (its databases, gettys...). Units started by tests pull in what they need.
    local sd=$ROOT/etc/systemd/system
    mkdir -p "$sd"
    printf '[Unit]\nDescription=board systemd test machine\nRequires=sysinit.target sockets.target\nAfter=sysinit.target sockets.target\n' \
        > "$sd/board-sdh.target"
    # Masked: units that would act on the host's kernel (modules, audit) or create device nodes,
    # kernel filesystems nobody here reads, and the host's timers (apt-daily, fstrim, ...), which
    # must not fire in the middle of a test.
    for n in systemd-modules-load.service systemd-tmpfiles-setup-dev.service \
             systemd-journald-audit.socket systemd-pstore.service \
             sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
             sys-fs-fuse-connections.mount dev-hugepages.mount timers.target; do
        ln -sf /dev/null "$sd/$n"
    done

    # Switch to the new root and detach the host's root from this namespace entirely.
    cd "$ROOT"
    mkdir -p .host-root
    pivot_root . .host-root
    cd /
    umount -l /.host-root
    rmdir /.host-root
    # Shared propagation inside the machine, as on a real one. systemd makes / shared at boot
    # only when it detects no container ($container is set here), leaving it to the container
    # manager (systemd-nspawn does it). Without it, what systemd mounts in a helper's mount namespace never appears in its
    # own: a unit's LoadCredential= then finds $CREDENTIALS_DIRECTORY empty. The host is not
    # affected: everything here was made private to this namespace first.
    mount --make-rshared /

    # systemd as PID 1, with the environment a container manager gives it.
    exec env -i container=board-sdh ${BOARD_SDH_DEBUG:+SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console} PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /lib/systemd/systemd --system --unit=board-sdh.target
}

cmd_up() {
    [ "$(id -u)" = 0 ] || die "must run as root"
    command -v unshare >/dev/null && command -v nsenter >/dev/null || die "needs util-linux unshare and nsenter"
    [ -x /lib/systemd/systemd ] || die "needs systemd installed (/lib/systemd/systemd)"
    local cg; cg=$(cgroup_dir) || die "needs cgroup2 (mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified)"

    # A machine left behind in this directory (a killed run) is taken down first.
    cmd_down >/dev/null 2>&1 || true

    mkdir -p "$DIR" "$ROOT" "$RW" "$SHARE"
    : > "$DIR/console.log"
    mkdir -p "$cg"

    # The launcher moves itself into the new cgroup (writing 0 to cgroup.procs moves the writer), then
    # becomes unshare; the cgroup namespace unshare creates is therefore rooted at $cg. setsid keeps
    # the machine out of the caller's session and process group (a ^C goes to the test, whose trap
    # runs `down`). --kill-child ties the machine's life to unshare's.
    (
        echo 0 > "$cg/cgroup.procs"
        exec setsid unshare --pid --fork --kill-child=SIGKILL --mount --propagation private \
            --cgroup --uts --ipc --net "$SELF" inner "$DIR"
    ) > "$DIR/unshare.log" 2>&1 < /dev/null &
    local launcher=$!
    echo "$launcher" > "$DIR/unshare.pid"

    local i p st="" timeout=${BOARD_SDH_BOOT_TIMEOUT:-30}
    for i in $(seq $((timeout * 10))); do
        if p=$(pid1); then
            st=$(nsenter -t "$p" -a -r -w systemctl is-system-running 2>/dev/null || true)
            case "$st" in
                running|degraded) echo "machine up: $st (pid $p)"; return 0 ;;
            esac
        elif ! kill -0 "$launcher" 2>/dev/null; then
            break           # unshare exited: the inner step failed (before it execs, the launcher
                            # is still bash, so only its death counts as failure)
        fi
        sleep 0.1
    done
    echo "harness: boot failed (state: ${st:-none})" >&2
    cat "$DIR/unshare.log" "$DIR/console.log" >&2 2>/dev/null || true
    cmd_down >/dev/null 2>&1 || true
    return 1
}

cmd_sh() {
    local p; p=$(pid1) || die "no machine is up in $DIR"
    # -a: all of PID 1's namespaces; -r/-w: its root and working directory (the overlay's /).
    # A clean environment, so that nothing of the caller's shell leaks into the tests.
    exec nsenter -t "$p" -a -r -w env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root USER=root \
        LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

cmd_down() {
    local u p i cg
    u=$(unshare_pid || true)
    p=$(pid1 || true)
    if [ -n "$p" ]; then
        kill -RTMIN+4 "$p" 2>/dev/null || true          # systemd: SIGRTMIN+4 = poweroff
        for i in $(seq 50); do [ -d "/proc/$p" ] || break; sleep 0.1; done
        # Still there: SIGKILL PID 1; the kernel then kills every process in its PID namespace.
        [ -d "/proc/$p" ] && kill -KILL "$p" 2>/dev/null || true
    fi
    if [ -n "$u" ]; then
        for i in $(seq 50); do [ -d "/proc/$u" ] || break; sleep 0.1; done
        [ -d "/proc/$u" ] && kill -KILL "$u" 2>/dev/null || true   # (--kill-child takes PID 1 along)
        for i in $(seq 50); do [ -d "/proc/$u" ] || break; sleep 0.1; done
    fi
    rm -f "$DIR/unshare.pid"
    # The cgroup subtree: kill anything still in it (nothing, normally), then remove the directories
    # bottom-up; a cgroup becomes removable shortly after its last process is reaped, hence the retries.
    if cg=$(cgroup_dir) && [ -d "$cg" ]; then
        [ -e "$cg/cgroup.kill" ] && echo 1 > "$cg/cgroup.kill" 2>/dev/null || true
        for i in $(seq 50); do
            find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
            [ -d "$cg" ] || break
            sleep 0.1
        done
        [ -d "$cg" ] && { echo "harness: could not remove $cg" >&2; return 1; }
    fi
    # Mounts need no cleanup: they existed only in the machine's mount namespace, gone with it.
    echo "machine down"
}

case "${1:-}" in
    up) cmd_up ;;
    sh) shift; [ $# -gt 0 ] || die "usage: harness.sh sh CMD [ARGS...]"; cmd_sh "$@" ;;
    pid) pid1 || die "no machine is up in $DIR" ;;
    down) cmd_down ;;
    inner) [ "${2:-}" = "$DIR" ] || die "inner: scratch directory mismatch"; cmd_inner ;;
    *) echo "usage: $0 up | sh CMD [ARGS...] | pid | down" >&2; exit 64 ;;
esac
