#!/usr/bin/env bash
# The README's second command: build everything and run the whole test suite
# (unit, property, store, protocol and end-to-end tests that spawn the real boardd).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build --build-tests
swift test --skip-build "$@"
