#!/usr/bin/env bash
# Route selection at wholesale scale (issue 16, docs/ROUTING.md "Benchmark"): µs of CPU per call
# for each sort mode over 100k prefixes with 50 gateways each, and the planner before the index.
#
#   1. VOSModel (all its sources) and Softswitch's routing files (RoutePlanner, FailoverPlan,
#      RouteIndex, RateIndex, GatewayQuality, RouteExplanation, NumberScreening) are compiled
#      with swiftc -O -wmo as two modules, as the package builds them in release (no product is
#      added to Package.swift; nothing here needs the package build);
#   2. bench.swift (with the tests' SeededGenerator) links against them and measures, in one
#      thread: plan + FailoverPlan + first next per call, each mode CALLS times, median of 5
#      rounds, thread CPU time; once with flat prefixes (none a prefix of another: a call
#      matches exactly PER_PREFIX gateways) and once nested (drawn freely: at 100k most calls
#      match the gateways of two or three nested prefixes, about twice as many).
#
# Usage: tools/bench/routing/run.sh
# Env:   PREFIXES (default 100000), PER_PREFIX (gateways per prefix, default 50), VENDORS (default
#        500), CALLS (per mode, default 20000), LEGACY_CALLS (old linear planner, default 20),
#        SEED (default 16), SHAPES (default "0 1": flat then nested), KEEP_WORK=1 (keep the
#        build directory). About 3 minutes and 1.5 GiB at the defaults.
# Output: per shape, a Markdown table: µs per call, ratio to priority, candidates per call.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
export PATH="/opt/swift/usr/bin:$PATH"

WORK="$(mktemp -d /tmp/vos-routing-bench.XXXXXX)"
cleanup() { if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

echo "== building (swiftc -O -wmo: VOSModel, Softswitch routing, bench)" >&2
swiftc -O -wmo -parse-as-library -module-name VOSModel -emit-module -emit-module-path "$WORK/VOSModel.swiftmodule" \
  -c Sources/VOSModel/*.swift -o "$WORK/VOSModel.o" 2>"$WORK/build.log" || { cat "$WORK/build.log" >&2; exit 1; }
ROUTING=()
for file in RoutePlanner FailoverPlan RouteIndex RateIndex GatewayQuality RouteExplanation NumberScreening; do
  ROUTING+=("Sources/Softswitch/$file.swift")
done
swiftc -O -wmo -parse-as-library -module-name Softswitch -I "$WORK" -emit-module -emit-module-path "$WORK/Softswitch.swiftmodule" \
  -c "${ROUTING[@]}" -o "$WORK/Softswitch.o" 2>"$WORK/build.log" || { cat "$WORK/build.log" >&2; exit 1; }
cp tools/bench/routing/bench.swift "$WORK/main.swift"
swiftc -O -wmo -module-name RoutingBench -I "$WORK" "$WORK/main.swift" Tests/VOSTestSupport/SeededGenerator.swift \
  "$WORK/VOSModel.o" "$WORK/Softswitch.o" -o "$WORK/bench" 2>"$WORK/build.log" || { cat "$WORK/build.log" >&2; exit 1; }

for nested in ${SHAPES:-0 1}; do
  echo "== running ($([ "$nested" = 1 ] && echo nested || echo flat) prefixes)" >&2
  "$WORK/bench" "${PREFIXES:-100000}" "${PER_PREFIX:-50}" "${VENDORS:-500}" "${CALLS:-20000}" "${LEGACY_CALLS:-20}" "${SEED:-16}" "$nested"
  echo
done
