#!/bin/bash
# systemd/check.sh: static checks of boardd's units.
#
#   1. `systemd-analyze verify` of boardd.service and boardd.socket prints nothing (it exits 0
#      even with warnings, so any output is a failure), also with remote-llm.conf.example
#      installed as a drop-in;
#   2. `systemd-analyze security --offline=true` rates boardd.service at an exposure of at most
#      $MAX_EXPOSURE (default 1.5), with and without the drop-in. The exposure is printed.
#
# verify checks that ExecStart= names an executable and that every Documentation= man page
# exists, so it runs against a throwaway root (--root=) holding a copy of the host's system
# units, the units under test, /usr/sbin/boardd and the man pages (MANPATH points there):
# nothing is installed on the host. The binary is $BOARDD if set (e.g. .build/release/boardd),
# else a stub script; the man pages come from packaging/man/.
#
# Usage: systemd/check.sh            exit 0 when everything passes, 1 otherwise
# Needs: systemd-analyze (systemd >= 252) and man (man-db).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
max=${MAX_EXPOSURE:-1.5}
fail=0

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd" "$root/usr/sbin" "$root/usr/bin" "$root/etc" \
         "$root/usr/share/man/man1" "$root/usr/share/man/man8"
ln -s usr/lib "$root/lib"; ln -s usr/bin "$root/bin"; ln -s usr/sbin "$root/sbin"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp /bin/kill "$root/usr/bin/kill"
if [ -n "${BOARDD:-}" ]; then
    install -m 0755 "$BOARDD" "$root/usr/sbin/boardd"
else
    printf '#!/bin/sh\nexit 0\n' > "$root/usr/sbin/boardd"; chmod 0755 "$root/usr/sbin/boardd"
fi
install -m 0644 "$repo/packaging/man/boardd.8" "$root/usr/share/man/man8/boardd.8"
install -m 0644 "$repo/packaging/man/boardctl.1" "$root/usr/share/man/man1/boardctl.1"
units=$root/usr/lib/systemd/system
install -m 0644 "$here/boardd.service" "$here/boardd.socket" "$units/"

verify() {  # $1: label
    local out
    out=$(MANPATH="$root/usr/share/man" systemd-analyze verify --root="$root" boardd.service boardd.socket 2>&1) \
        || { [ -n "$out" ] || out="systemd-analyze verify failed with no output"; }
    if [ -n "$out" ]; then
        echo "FAIL verify ($1):"; printf '%s\n' "$out" | sed 's/^/  /'; fail=1
    else
        echo "ok   verify ($1): no output"
    fi
}

security() {  # $1: label
    local out level
    out=$(systemd-analyze security --offline=true --root="$root" boardd.service 2>&1) || true
    level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for boardd\.service: \([0-9.]*\).*/\1/p')
    if [ -z "$level" ]; then
        echo "FAIL security ($1): no exposure level in the output:"; printf '%s\n' "$out" | sed 's/^/  /'; fail=1
    elif awk -v l="$level" -v m="$max" 'BEGIN { exit !(l <= m) }'; then
        echo "ok   security ($1): exposure $level (at most $max)"
    else
        echo "FAIL security ($1): exposure $level, more than $max:"
        printf '%s\n' "$out" | grep '✗' | sed 's/^/  /'; fail=1
    fi
}

verify "boardd.service boardd.socket"
security "boardd.service"

mkdir -p "$units/boardd.service.d"
install -m 0644 "$here/remote-llm.conf.example" "$units/boardd.service.d/remote-llm.conf"
verify "with remote-llm.conf drop-in"
security "with remote-llm.conf drop-in"

[ "$fail" = 0 ] && echo "systemd/check.sh: all checks passed" || echo "systemd/check.sh: FAILED"
exit "$fail"
