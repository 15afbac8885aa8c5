#!/usr/bin/env bash
# Builds the libFuzzer target fuzz/.build/fuzz-protocol from Sources/BoardCore and
# Sources/BoardProtocol (compiled as they are, as modules, with coverage and ASan) and
# fuzz/FuzzProtocol.swift. No SwiftPM involved: those two modules depend only on the stdlib
# and Foundation(Essentials).
#   fuzz/build.sh            ASan + libFuzzer (the default)
#   SANITIZE=fuzzer fuzz/build.sh   libFuzzer only: about 3x the executions per second; ASan adds
#                                   little for safe Swift (Foundation itself is not instrumented)
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/.build
mkdir -p "$out"
sanitize=${SANITIZE:-fuzzer,address}
flags=(-sanitize="$sanitize" -parse-as-library -O -g -wmo -enable-upcoming-feature ExistentialAny)

echo "building BoardCore" >&2
swiftc "${flags[@]}" -module-name BoardCore -emit-module -emit-module-path "$out/BoardCore.swiftmodule" \
    -c Sources/BoardCore/*.swift -o "$out/BoardCore.o"
echo "building BoardProtocol" >&2
swiftc "${flags[@]}" -I "$out" -module-name BoardProtocol -emit-module -emit-module-path "$out/BoardProtocol.swiftmodule" \
    -c Sources/BoardProtocol/*.swift -o "$out/BoardProtocol.o"
echo "building fuzz-protocol" >&2
# ld.gold warns about ~130 ASan symbols it cannot export; harmless, so they are filtered out.
swiftc "${flags[@]}" -I "$out" -module-name BoardFuzz fuzz/FuzzProtocol.swift "$out/BoardCore.o" "$out/BoardProtocol.o" \
    -o "$out/fuzz-protocol" 2> >(grep -v "Cannot export local symbol" >&2)
echo "$sanitize" > "$out/sanitize.stamp"
echo "$out/fuzz-protocol (-sanitize=$sanitize)" >&2
