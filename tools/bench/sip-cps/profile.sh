#!/usr/bin/env bash
# Where vos spends its CPU per call: runs vos in one media mode at one rate (the sip-cps topology,
# in a private network namespace) and records vos-controller and vos-mediad with `perf record -g`
# for the middle of the run, then prints each one's hottest symbols (self and children) and the
# CPU each took per call. It measures, it does not judge: run.sh says whether a rate holds.
#
# Usage: tools/bench/sip-cps/profile.sh [MODE [RATE [SECONDS]]]   (default: 3 600 12)
# Env:   VOS_BIN, VOS_BUILD, SCRATCH as in run.sh; KEEP_WORK=1 keeps perf.data and the logs;
#        TOP (symbols shown per process, default 25)
set -euo pipefail
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
export PATH="/opt/swift/usr/bin:$PATH"
# shellcheck source=lib.sh
source "$ROOT/tools/bench/sip-cps/lib.sh"
if [ -z "${VOS_BENCH_NETNS:-}" ]; then
  bash tools/setup.sh --bench >/dev/null
  command -v perf >/dev/null || apt-get install -y -qq linux-perf >/dev/null
  prepare_binaries
fi
enter_private_netns "$@"

MODE=${1:-3} RATE=${2:-600} SECONDS_RUN=${3:-12} TOP=${TOP:-25}
WORK="$(mktemp -d /tmp/vos-sip-profile.XXXXXX)"
PIDS=()
cleanup() {
  kill_started
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM
start_watchdog 10

start_vos "$MODE"
start_uas "$WORK" $((SECONDS_RUN + 25))
sleep 0.5
calls=$((RATE * SECONDS_RUN))
(cd "$WORK" && sipp -sn uac 127.0.0.1:$SWITCH_PORT -i 127.0.0.2 -p $UAC_PORT -s 4420123 -buff_size $SIPP_BUFFER \
    -r "$RATE" -m "$calls" -l $((RATE * 4)) -timeout $((SECONDS_RUN + 20))s -nostdin \
    -trace_stat -stf uac.csv >/dev/null 2>uac.err || true) &
UAC=$!
PIDS+=("$UAC")
# Skip the first second (the ramp) and stop a second before the end.
sleep 1
window=$((SECONDS_RUN - 2))
profiled=("$VOS:controller")
[ -n "$MEDIAD" ] && profiled+=("$MEDIAD:mediad")
recorders=()
declare -A ticks0
for entry in "${profiled[@]}"; do
  pid=${entry%%:*} name=${entry#*:}
  ticks0[$name]=$(cpu_ticks "$pid")
  perf record -q -g -F 499 -p "$pid" -o "$WORK/$name.perf" -- sleep "$window" 2>/dev/null &
  recorders+=("$!")
done
wait "${recorders[@]}" || true
for entry in "${profiled[@]}"; do
  pid=${entry%%:*} name=${entry#*:}
  echo "$name: $(awk -v t="$(( $(cpu_ticks "$pid") - ticks0[$name] ))" -v hz="$HZ" -v s="$window" -v r="$RATE" \
      'BEGIN { printf "%.0f%% of a core, %.3f ms CPU per call", 100 * t / hz / s, 1000 * t / hz / s / r }')"
done
wait "$UAC" || true
echo "sipp: successful $(sipp_stat "$WORK/uac.csv" 'SuccessfulCall(C)') failed $(sipp_stat "$WORK/uac.csv" 'FailedCall(C)')" \
     "retransmissions $(sipp_stat "$WORK/uac.csv" 'Retransmissions(C)') of $calls at $RATE/s, vos mode $MODE ($(vos_label))"
for entry in "${profiled[@]}"; do
  name=${entry#*:}
  echo
  echo "== $name: self"
  perf report -i "$WORK/$name.perf" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -"$TOP" || true
  echo "== $name: with children"
  perf report -i "$WORK/$name.perf" --children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -"$TOP" || true
done
