#!/usr/bin/env bash
# The README's second command: build everything and run the whole test suite:
# unit, property, store, protocol, agent and end-to-end tests that spawn the real boardd, a short
# crash soak, a power-loss test, then
# (as root) the system-service tests that install the Debian package under a real systemd.
# BOARD_SKIP_SYSTEMD_TESTS=1 skips the latter.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build --build-tests
# The fuzz target (fuzz/build.sh) is built by hand for its campaigns; type-check it here so that a
# protocol change cannot leave it broken until the next campaign.
swiftc -typecheck -parse-as-library -enable-upcoming-feature ExistentialAny \
    -I "$(swift build --show-bin-path)/Modules" fuzz/FuzzProtocol.swift
swift test --skip-build "$@"
# A short crash soak: SIGKILL boardd under load a few times, then audit the database.
python3 scripts/soak.py --cycles 5 --bin "$(swift build --show-bin-path)"
# Power cuts: unsynced writes reverted after a SIGKILL; what boardd acknowledged must survive
# (and a control run with synchronous=normal must lose some, or the test proves nothing).
python3 tests/powerloss/run.py --bin "$(swift build --show-bin-path)"
if [ "$(id -u)" -ne 0 ]; then
    echo "skipping the system-service tests (tests/systemd): they need root"
elif [ "${BOARD_SKIP_SYSTEMD_TESTS:-0}" = 1 ]; then
    echo "skipping the system-service tests (BOARD_SKIP_SYSTEMD_TESTS=1)"
else
    tests/systemd/run.sh
fi
