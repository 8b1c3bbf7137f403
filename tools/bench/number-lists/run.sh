#!/usr/bin/env bash
# Number lists at scale, in one run (docs/SUBSCRIBERS-AND-FRAUD.md, "Number lists ... benchmark"):
#   (a) import: `vosctl list add` of 1,000,000 numbers from a file (shuffled, one per line), a
#       black list and a white list, timed end to end (the process, parsing, sorting, one LMDB
#       transaction, fsync), then the controller's reload of both lists (its log line);
#   (b) call setup: sipp UAC (127.0.0.2) -> vos-controller (release, mode 0: routing, limits,
#       billing and CDRs on, tools/bench/sip-cps/lib.sh's start_vos) -> sipp UAS (127.0.0.3) at a
#       fixed RATE for STEP_SECONDS, alternating "no lists" with "lists": the 1M black list (caller
#       and callee) and the 1M white list (callee, holding the called number) on both the
#       mapping and the routing gateway, so each call searches them 6 times (caller: a number
#       of its own per call) on top of everything else. Controller CPU per call is compared within each pair;
#   (c) the lookups alone: lookup.swift, compiled -O with VOSModel and Softswitch's Admission,
#       RoutePlanner and NumberScreening, runs the same admission and route selection a million
#       times with and without the lists, in-process (what (b) cannot resolve on a busy VM).
# Everything runs in a private network namespace (lib.sh; NETNS=0 keeps the host's).
#
# Usage: tools/bench/number-lists/run.sh
# Env:   RATE (calls/s, default 1000), STEP_SECONDS (default 8), PAIRS (default 8: with 4 the 5-7 % a pair's second step costs did not average out), NUMBERS
#        (default 1000000), SCRATCH (swift scratch path, default .build-bench), VOS_BIN (prebuilt
#        binaries: no build), MAX_MINUTES (default 10), QUIET_WAIT (default 10), KEEP_WORK=1
# Last lines:
#   import_seconds black: X white: Y        (vosctl, end to end, 1M numbers each)
#   reload_ms: Z                            (controller snapshot load with both lists)
#   ratio cpu_per_call lists/none: R        (median of the pairs)
#   lookup_ns_per_call none: X lists: Y added: Z
set -euo pipefail
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
export PATH="/opt/swift/usr/bin:$PATH"
# shellcheck source=../sip-cps/lib.sh
source "$ROOT/tools/bench/sip-cps/lib.sh"
if [ -z "${VOS_BENCH_NETNS:-}" ]; then
  bash tools/setup.sh --test >/dev/null
  SCRATCH="${SCRATCH:-.build-bench}" prepare_binaries
fi
enter_private_netns "$@"

RATE="${RATE:-1000}"
STEP_SECONDS="${STEP_SECONDS:-8}"
PAIRS="${PAIRS:-8}"
NUMBERS="${NUMBERS:-1000000}"
CALLEE=4420123
WORK="$(mktemp -d /tmp/vos-number-lists.XXXXXX)"
PIDS=()
cleanup() {
  kill_started
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM
start_watchdog 10

now() { date +%s.%N; }
seconds_since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }'; }

wait_quiet() {  # at most QUIET_WAIT s until the host is under 20 % of a core busy (others build here)
  local deadline=$((SECONDS + ${QUIET_WAIT:-10})) idle0 busy
  while :; do
    idle0=$(host_idle_ticks)
    sleep 2
    busy=$(( 100 * $(nproc) - ($(host_idle_ticks) - idle0) * 100 / HZ / 2 ))
    ((busy < 20 || SECONDS >= deadline)) && break
  done
}

echo "number-lists: $NUMBERS numbers a list, calls at $RATE/s for ${STEP_SECONDS}s a step, $PAIRS pairs, $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "vos: $(vos_label)"

# The controller, with the gateways lib.sh's start_vos makes (mapping "customer", routing "vendor").
start_vos 0
VOSCTL=("$BIN/vosctl" --data-dir "$VOS_DATA")
LOG="$WORK/controller-0.log"

# (a) Import. The black list holds numbers nobody calls; the white list holds the called number
# among a million others. Both files shuffled: the import sorts.
seq 447800000000 $((447800000000 + NUMBERS - 1)) | shuf >"$WORK/black.txt"
{ echo "# white list: the bench's callee and a million others"; echo "$CALLEE"; seq 442000000000 $((442000000000 + NUMBERS - 2)) | shuf; } >"$WORK/white.txt"
echo "files: black $(du -h "$WORK/black.txt" | cut -f1), white $(du -h "$WORK/white.txt" | cut -f1)"
# "WALL CPU" seconds of one vosctl command (CPU: user + system), its output on stdout.
timed() {
  local TIMEFORMAT='%R %U %S' result
  result=$( { time "${VOSCTL[@]}" "$@" >"$WORK/timed.out"; } 2>&1 )
  cat "$WORK/timed.out" >&2
  awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' <<<"$result"
}
wait_quiet
read -r BLACK_SECONDS BLACK_CPU < <(timed list add bench-black --kind black --file "$WORK/black.txt")
wait_quiet
read -r WHITE_SECONDS WHITE_CPU < <(timed list add bench-white --kind white --target callee --file "$WORK/white.txt")
read -r ONE_SECONDS ONE_CPU < <(timed list add bench-black --kind black --numbers 447999999999)
echo "import: black ${BLACK_SECONDS}s (${BLACK_CPU}s CPU), white ${WHITE_SECONDS}s (${WHITE_CPU}s CPU); one more number into the 1M list ${ONE_SECONDS}s (${ONE_CPU}s CPU)"
echo "store: $(du -h "$VOS_DATA/data.mdb" | cut -f1) data.mdb"

# Lists on or off for both gateways; waits for the controller to load the change.
assign() {  # "lists" | "none"
  local groups="" before
  [ "$1" = lists ] && groups="bench-black,bench-white"
  before=$(grep -c "configuration changed" "$LOG" || true)
  "${VOSCTL[@]}" gateway set customer --list-groups "$groups" >/dev/null
  "${VOSCTL[@]}" gateway set vendor --list-groups "$groups" >/dev/null
  local deadline=$((SECONDS + 15))
  until (( $(grep -c "configuration changed" "$LOG" || true) >= before + 2 )) || ((SECONDS >= deadline)); do sleep 0.2; done
  sleep 1.5  # a second poll may still be coming for the second change
}

assign lists
RELOAD_MS=$(grep -o "loaded in [0-9]* ms, [0-9]* ms CPU" "$LOG" | tail -1 | sed 's/loaded in //' || echo "?")
echo "controller reload with both lists: ${RELOAD_MS} (log: $(grep "configuration changed" "$LOG" | tail -1 | sed 's/.*configuration changed/configuration changed/'))"
echo "controller memory with both lists: $(rss_kb "$VOS") kB RSS"

# sipp's own UAC scenario with a number as the caller (4479 and the call's number, a different
# one each call, in no list), so the black list is searched for the caller too.
# (sipp -sd exits 99 after printing the scenario.)
{ sipp -sd uac || true; } | sed 's/sip:sipp@/sip:4479[call_number]@/g' >"$WORK/uac_numbered.xml"
grep -q '4479\[call_number\]' "$WORK/uac_numbered.xml" || { echo "bench: cannot make the numbered UAC scenario" >&2; exit 1; }

# (b) One step: RATE calls/s for STEP_SECONDS; prints "successful failed retrans cpu_us_per_call cpu%".
step() {
  local name=$1 calls=$((RATE * STEP_SECONDS)) dir="$WORK/step-$1-$RANDOM" sip0 start elapsed ticks successful failed retrans
  mkdir -p "$dir"
  start_uas "$dir" $((STEP_SECONDS + 25))
  sleep 0.5
  sip0=$(tree_ticks "$VOS")
  start=$(now)
  (cd "$dir" && sipp -sf "$WORK/uac_numbered.xml" 127.0.0.1:$SWITCH_PORT -i 127.0.0.2 -p $UAC_PORT -s $CALLEE -buff_size $SIPP_BUFFER \
      -r "$RATE" -m "$calls" -l $((RATE * 4)) -timeout $((STEP_SECONDS + 20))s -timeout_error -nostdin \
      -trace_stat -stf uac.csv >/dev/null 2>uac.err || true) &
  local uac=$!
  PIDS+=("$uac")
  wait "$uac" || true
  elapsed=$(seconds_since "$start")
  ticks=$(( $(tree_ticks "$VOS") - sip0 ))
  stop_pid "$UAS"
  successful=$(sipp_stat "$dir/uac.csv" 'SuccessfulCall(C)')
  failed=$(sipp_stat "$dir/uac.csv" 'FailedCall(C)')
  retrans=$(sipp_stat "$dir/uac.csv" 'Retransmissions(C)')
  awk -v t="$ticks" -v hz="$HZ" -v n="${successful:-0}" -v s="$elapsed" -v ok="${successful:-0}" -v f="${failed:-?}" -v r="${retrans:-?}" \
      'BEGIN { printf "%s %s %s %.1f %.0f%%\n", ok, f, r, (n > 0 ? 1e6 * t / hz / n : 0), 100 * t / hz / s }'
}

echo
echo '| pair | lists | successful | failed | retrans | controller µs/call | controller cpu |'
echo '|------|-------|------------|--------|---------|--------------------|----------------|'
RATIOS=()
for pair in $(seq 1 "$PAIRS"); do
  declare -A US=()
  # Odd pairs run without lists first, even pairs with: drift over the run does not favour either.
  order="none lists"; (( pair % 2 == 0 )) && order="lists none"
  for setting in $order; do
    assign "$setting"
    wait_quiet
    step "$setting" >"$WORK/step.result"
    read -r ok failed retrans us cpu <"$WORK/step.result"
    US[$setting]=$us
    printf '| %4s | %-5s | %10s | %6s | %7s | %18s | %14s |\n' "$pair" "$setting" "$ok" "$failed" "$retrans" "$us" "$cpu"
  done
  RATIOS+=("$(awk -v a="${US[lists]}" -v b="${US[none]}" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')")
  unset US
done
stop_vos

# (c) The lookups alone.
echo
LOOKUP="$WORK/lookup"
mkdir -p "$LOOKUP"
for file in Admission RoutePlanner RouteIndex RateIndex GatewayQuality NumberScreening; do sed '/^import VOSModel$/d' "Sources/Softswitch/$file.swift" >"$LOOKUP/$file.swift"; done
cp tools/bench/number-lists/lookup.swift "$LOOKUP/main.swift"
LOOKUP_LINE="lookup_ns_per_call: - (lookup.swift did not build)"
if swiftc -O -wmo -module-name LookupBench Sources/VOSModel/*.swift "$LOOKUP"/*.swift -o "$LOOKUP/lookup" >"$LOOKUP/build.log" 2>&1; then
  wait_quiet
  "$LOOKUP/lookup" "$NUMBERS" | tee "$LOOKUP/out.txt"
  LOOKUP_LINE=$(tail -1 "$LOOKUP/out.txt")
else
  tail -5 "$LOOKUP/build.log"
fi

MEDIAN=$(printf '%s\n' "${RATIOS[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
echo
echo "import_seconds black: $BLACK_SECONDS white: $WHITE_SECONDS (CPU $BLACK_CPU, $WHITE_CPU)"
echo "reload_ms: $RELOAD_MS (wall, CPU)"
echo "ratio cpu_per_call lists/none: $MEDIAN (pairs ${RATIOS[*]})"
echo "$LOOKUP_LINE"
