#!/usr/bin/env bash
# Builds the SIPCore libFuzzer target with ASan and runs it for a bounded time, seeded with the
# RFC 4475 torture messages. Usage: tools/fuzz/run.sh [seconds] (default 60).
# Crashes land in $FUZZ_OUT (default /tmp/vos-sipcore-fuzz) as crash-<sha1>.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
out="${FUZZ_OUT:-/tmp/vos-sipcore-fuzz}"
mkdir -p "$out/corpus"
cp Tests/SIPCoreTests/Torture/valid/*.sip Tests/SIPCoreTests/Torture/invalid/*.sip "$out/corpus/"

swiftc -sanitize=fuzzer,address -parse-as-library -swift-version 6 -O -g \
    -module-name SIPCoreFuzz \
    Sources/SIPCore/*.swift tools/fuzz/FuzzTarget.swift \
    -o "$out/sipcore-fuzz"

"$out/sipcore-fuzz" -max_total_time="$seconds" -max_len=70000 -timeout=10 \
    -artifact_prefix="$out/" -print_final_stats=1 "$out/corpus"
