#!/usr/bin/env bash
# Re-rating 100,000 answered CDRs (docs/BILLING.md "Re-rating benchmark"): how long the release
# `vosctl cdr rerate` takes after a price change, and whether the money adds up.
#
#   1. generate.swift (compiled -O with VOSModel's and VOSStore's sources) makes a fresh store:
#      2 customer rate tables and 4 vendor rate tables of 1,020 prefixes, 200 customer accounts,
#      20 routing gateways with their clearing accounts, 10 mapping gateways, then ANSWERED
#      answered and UNANSWERED unanswered CDRs of November 2026 through `appendCDR`, charged by
#      `CallCharging` as settlement charges them;
#   2. the rate change, through vosctl: `rate import retail-a` (every customer price of half the
#      accounts +10 %) and `rate import wholesale-1` (every price of 5 vendors +0.0010/min);
#   3. timed, each the whole vosctl process: `cdr rerate --dry-run`, `cdr rerate` (the one that
#      writes), `cdr rerate` again (must change nothing), over the whole month;
#   4. the money: the run's customer and vendor deltas must equal the sums of the adjustments
#      written, minus the change of the customer and clearing accounts' balances (`account list`
#      before and after), minus the sums of the `rerate` history entries, and the expected totals
#      (every answered CDR recomputed by `generate --check` with the rate arithmetic directly)
#      less the original totals; `vosctl report`'s revenue and cost must equal the recomputed
#      totals. Any difference fails the run.
#
# Usage: tools/bench/rerate/run.sh
# Env:   ANSWERED (default 100000), UNANSWERED (default 100000), SCRATCH (swift scratch path for
#        the release vosctl, default .build-bench), VOS_BIN (directory with a prebuilt release
#        vosctl: no build), KEEP_WORK=1 (keep the store)
# Output: a Markdown table of seconds, then the money check.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
export PATH="/opt/swift/usr/bin:$PATH"
ANSWERED="${ANSWERED:-100000}"
UNANSWERED="${UNANSWERED:-100000}"

if [ -n "${VOS_BIN:-}" ]; then
  BIN="$VOS_BIN"
else
  swift build -c release --product vosctl --scratch-path "${SCRATCH:-.build-bench}" >/dev/null
  BIN="$(swift build -c release --scratch-path "${SCRATCH:-.build-bench}" --show-bin-path)"
fi
VOSCTL="$BIN/vosctl"

WORK="$(mktemp -d /tmp/vos-rerate.XXXXXX)"
cleanup() { if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.3f", e - s }'; }

echo "== building the generator" >&2
mkdir "$WORK/gen"
for file in Sources/VOSStore/*.swift; do
  grep -q '^import Crypto' "$file" && continue
  sed '/^import VOSModel$/d' "$file" >"$WORK/gen/Store-$(basename "$file")"
done
cp tools/bench/rerate/generate.swift "$WORK/gen/main.swift"
cp Tests/VOSTestSupport/SeededGenerator.swift "$WORK/gen/SeededGenerator.swift"
swiftc -O -wmo -module-name RerateBench -I Sources/CLMDB Sources/VOSModel/*.swift "$WORK/gen"/*.swift -o "$WORK/generate" 2>"$WORK/gen/build.log" \
  || { cat "$WORK/gen/build.log" >&2; exit 1; }

echo "== generating $ANSWERED answered and $UNANSWERED unanswered CDRs" >&2
"$WORK/generate" "$WORK/vos" "$WORK" "$ANSWERED" "$UNANSWERED" >&2

vos() { "$VOSCTL" --data-dir "$WORK/vos" "$@"; }
WINDOW=(--since 2026-11-01 --until 2026-12-01)
vos account list --json >"$WORK/balances-before.json"
vos rate import retail-a "$WORK/retail-a.csv" >/dev/null
vos rate import wholesale-1 "$WORK/wholesale-1.csv" >/dev/null

echo "== re-rating" >&2
start=$(now); vos cdr rerate "${WINDOW[@]}" --dry-run --json >"$WORK/dry.json"; DRY_SECONDS=$(elapsed "$start")
start=$(now); vos cdr rerate "${WINDOW[@]}" --by bench --json >"$WORK/run.json"; RUN_SECONDS=$(elapsed "$start")
start=$(now); vos cdr rerate "${WINDOW[@]}" --by bench --json >"$WORK/again.json"; AGAIN_SECONDS=$(elapsed "$start")
vos account list --json >"$WORK/balances-after.json"
vos report --json >"$WORK/report.json"
"$WORK/generate" --check "$WORK/vos" >"$WORK/check.json"
start=$(now); vos report --by account >/dev/null; REPORT_SECONDS=$(elapsed "$start")

echo
echo "Re-rating benchmark, $ANSWERED answered + $UNANSWERED unanswered CDRs, $(date -u +%Y-%m-%d), $(nproc) cores, vosctl: $BIN ($(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'))"
echo
echo "| vosctl (whole process) | seconds |"
echo "|---|---|"
echo "| cdr rerate --dry-run | $DRY_SECONDS |"
echo "| cdr rerate (writes the adjustments) | $RUN_SECONDS |"
echo "| cdr rerate again (nothing to change) | $AGAIN_SECONDS |"
echo "| report --by account afterwards | $REPORT_SECONDS |"
echo
python3 - "$WORK" <<'PY'
import json, sys
from decimal import Decimal as D
work = sys.argv[1]
load = lambda name: json.load(open(f"{work}/{name}"))
dry, run, again, check, report = (load(n) for n in ("dry.json", "run.json", "again.json", "check.json", "report.json"))
before = {a["name"]: D(a["balance"]) for a in load("balances-before.json")}
after = {a["name"]: D(a["balance"]) for a in load("balances-after.json")}
s = run["summary"]
customer_balance = sum(after[n] - before[n] for n in before if n.startswith("acct"))
vendor_balance = sum(after[n] - before[n] for n in before if n.startswith("vacct"))
rows = [
    ("customer delta (run summary)", D(s["customerDelta"])),
    ("  sum of customer adjustments", D(check["adjustmentsCustomer"])),
    ("  minus customer balance change", -customer_balance),
    ("  minus rerate history (customers)", -D(check["historyCustomer"])),
    ("  recomputed revenue - original", D(check["expectedRevenue"]) - D(check["originalRevenue"])),
    ("vendor delta (run summary)", D(s["vendorDelta"])),
    ("  sum of vendor adjustments", D(check["adjustmentsVendor"])),
    ("  minus clearing balance change", -vendor_balance),
    ("  minus rerate history (vendors)", -D(check["historyVendor"])),
    ("  recomputed cost - original", D(check["expectedCost"]) - D(check["originalCost"])),
]
print(f"examined {s['examined']}, unanswered {s['unanswered']}, changed {s['changed']}, "
      f"customer adjustments {s['customerAdjustments']}, vendor adjustments {s['vendorAdjustments']}, "
      f"skipped {sum(s['skipped'].values())}; second run changed {again['summary']['changed']}")
print()
print("| money | amount |")
print("|---|---|")
for name, value in rows:
    print(f"| {name} | {value} |")
print(f"| report revenue / recomputed | {report['total']['revenue']} / {check['expectedRevenue']} |")
print(f"| report cost / recomputed | {report['total']['cost']} / {check['expectedCost']} |")
problems = []
if len({v for n, v in rows[:5]}) != 1: problems.append("customer side does not add up")
if len({v for n, v in rows[5:]}) != 1: problems.append("vendor side does not add up")
if D(report["total"]["revenue"]) != D(check["expectedRevenue"]): problems.append("report revenue != recomputed")
if D(report["total"]["cost"]) != D(check["expectedCost"]): problems.append("report cost != recomputed")
if D(check["effectiveRevenue"]) != D(check["expectedRevenue"]): problems.append("CDRs as charged now != recomputed")
if again["summary"]["changed"] != 0: problems.append("the second run changed CDRs")
if check["unrated"] != 0 or s["skipped"]: problems.append("CDRs left unrated")
if dry["summary"]["changed"] != s["changed"] or dry["summary"]["customerDelta"] != s["customerDelta"]:
    problems.append("the dry run counted something else")
if check["answered"] != s["examined"] - s["unanswered"]: problems.append("answered CDRs miscounted")
print()
if problems:
    sys.exit("bench: the money does not add up: " + "; ".join(problems))
print("the money adds up")
PY
