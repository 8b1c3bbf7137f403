#!/usr/bin/env bash
# SIP calls per second through vos-controller and, in the same run, through Kamailio (stateful
# t_relay with record-route) on this machine: sipp UAC (127.0.0.2) -> switch (127.0.0.1) ->
# sipp UAS (127.0.0.3), short calls, rising rates. A rate "holds" when every call completes
# and the UAC retransmitted nothing. vos runs with routing, limits, billing and CDRs on, in
# media mode 0 (SDP untouched) and mode 3 (every call through vos-mediad).
#
# Usage: tools/bench/sip-cps/run.sh [RATES...]   (default: 250 500 1000 1500 2000 2500 3000)
# Env:   STEP_SECONDS (default 6), VOS_BUILD (release|debug, default release)
# Last line: max_cps vos: X kamailio: Y
set -euo pipefail
cd "$(dirname "$0")/../../.."
bash tools/setup.sh --bench >/dev/null
export PATH="/opt/swift/usr/bin:$PATH"

RATES=("${@:-250 500 1000 1500 2000 2500 3000}")
read -r -a RATES <<<"${RATES[*]}"
STEP_SECONDS="${STEP_SECONDS:-6}"
CONFIGURATION="${VOS_BUILD:-release}"
swift build -c "$CONFIGURATION" >/dev/null
BIN="$(swift build -c "$CONFIGURATION" --show-bin-path)"

WORK="$(mktemp -d /tmp/vos-sip-cps.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

SCENARIOS="$(pwd)/tools/bench/sip-cps"
SWITCH_PORT=25060
UAS_PORT=25070
UAC_PORT=25080

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
tree_ticks() {  # CPU ticks of a process and its children (kamailio forks workers)
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" 2>/dev/null); do total=$((total + $(cpu_ticks "$pid"))); done
  echo "$total"
}

# One step: RATE calls/s for STEP_SECONDS; prints "ok|fail successful failed retransmissions cpu%".
step() {
  local rate=$1 switch_pid=$2 dir="$WORK/step-$3-$rate" calls=$(( $1 * STEP_SECONDS ))
  mkdir -p "$dir"
  (cd "$dir" && exec sipp -sf "$SCENARIOS/uas_answer.xml" -i 127.0.0.3 -p $UAS_PORT -timeout $((STEP_SECONDS + 25))s -nostdin \
      -trace_stat -stf uas.csv >/dev/null 2>&1) &
  local uas=$!
  PIDS+=("$uas")
  sleep 0.5
  local before ticks_per_second=$(getconf CLK_TCK) start end
  before=$(tree_ticks "$switch_pid")
  start=$(date +%s.%N)
  (cd "$dir" && exec sipp -sn uac 127.0.0.1:$SWITCH_PORT -i 127.0.0.2 -p $UAC_PORT -s 4420123 \
      -r "$rate" -m "$calls" -l $((rate * 4)) -timeout $((STEP_SECONDS + 20))s -timeout_error -nostdin \
      -trace_stat -stf uac.csv >/dev/null 2>&1) || true
  end=$(date +%s.%N)
  local used=$(( $(tree_ticks "$switch_pid") - before ))
  kill "$uas" 2>/dev/null || true
  wait "$uas" 2>/dev/null || true
  local last header successful failed retrans cpu
  header=$(head -1 "$dir/uac.csv" 2>/dev/null || true)
  last=$(tail -1 "$dir/uac.csv" 2>/dev/null || true)
  column() { echo "$header" | tr ';' '\n' | grep -n -x "$1" | cut -d: -f1; }
  successful=$(echo "$last" | cut -d';' -f"$(column 'SuccessfulCall(C)')")
  failed=$(echo "$last" | cut -d';' -f"$(column 'FailedCall(C)')")
  retrans=$(echo "$last" | cut -d';' -f"$(column 'Retransmissions(C)')")
  cpu=$(awk -v t="$used" -v hz="$ticks_per_second" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", 100 * t / hz / (e - s) }')
  local verdict=fail
  [ "${successful:-0}" = "$calls" ] && [ "${failed:-1}" = 0 ] && [ "${retrans:-1}" = 0 ] && verdict=ok
  echo "$verdict ${successful:-0} ${failed:-?} ${retrans:-?} $cpu"
}

# Runs the rising rates against one switch; prints the table rows and sets MAX.
sweep() {
  local name=$1 pid=$2
  MAX=0
  for rate in "${RATES[@]}"; do
    read -r verdict successful failed retrans cpu < <(step "$rate" "$pid" "$name")
    printf '| %-16s | %6s | %10s | %6s | %7s | %8s%% | %-4s |\n' "$name" "$rate" "$successful" "$failed" "$retrans" "$cpu" "$verdict"
    if [ "$verdict" = ok ]; then MAX=$rate; else break; fi
    sleep 1
  done
}

start_vos() {
  local mode=$1 data="$WORK/vos-$1"
  "$BIN/vosctl" --data-dir "$data" init >/dev/null
  printf 'prefix,price,first,next\n44,0.0100,6,6\n' >"$WORK/rates.csv"
  "$BIN/vosctl" --data-dir "$data" rate import retail "$WORK/rates.csv" >/dev/null
  "$BIN/vosctl" --data-dir "$data" account add bench --type postpaid --limit-money 100000000 --rate-table retail >/dev/null
  "$BIN/vosctl" --data-dir "$data" gateway add mapping customer --ip 127.0.0.2 --account bench --cps 100000 >/dev/null
  "$BIN/vosctl" --data-dir "$data" gateway add routing vendor --address 127.0.0.3:$UAS_PORT --prefix 44 \
      --options-check off --line-limit 1000000 --cps 100000 >/dev/null
  "$BIN/vosctl" --data-dir "$data" param set SS_MAX_CPS 100000 >/dev/null
  "$BIN/vosctl" --data-dir "$data" param set SS_FIREWALL_ENABLE 0 >/dev/null  # host namespace: leave its firewall alone
  "$BIN/vosctl" --data-dir "$data" param set SS_MEDIAPROXYMODE "$mode" >/dev/null
  if [ "$mode" != 0 ]; then
    "$BIN/vos-mediad" --data-dir "$data" --media-ip 127.0.0.1 2>"$WORK/mediad-$mode.log" &
    MEDIAD=$!
    PIDS+=("$MEDIAD")
    sleep 1
  fi
  "$BIN/vos-controller" --data-dir "$data" --sip-listen 127.0.0.1:$SWITCH_PORT 2>"$WORK/controller-$mode.log" &
  VOS=$!
  PIDS+=("$VOS")
  sleep 1
  require_running vos-controller "$VOS" "$WORK/controller-$mode.log"
}

require_running() {  # name pid log
  kill -0 "$2" 2>/dev/null && return 0
  echo "sip-cps: $1 did not start; its log:" >&2
  tail -20 "$3" >&2
  exit 1
}

stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

echo "sip-cps: ${STEP_SECONDS}s per step, rates ${RATES[*]}, $(nproc) cores, vos $CONFIGURATION build"
echo
echo '| switch           |   rate | successful | failed | retrans | cpu      | ok   |'
echo '|------------------|--------|------------|--------|---------|----------|------|'

start_vos 0
sweep "vos mode 0" "$VOS"
VOS_MODE0=$MAX
CDRS=$("$BIN/vosctl" --data-dir "$WORK/vos-0" cdr list --json | grep -c '"callID"' || true)
stop_pid "$VOS"

start_vos 3
sweep "vos mode 3" "$VOS"
VOS_MODE3=$MAX
stop_pid "$VOS"
stop_pid "$MEDIAD"

sed -e "s/@PORT@/$SWITCH_PORT/g" -e "s/@UAS_PORT@/$UAS_PORT/g" -e "s/@CHILDREN@/$(nproc)/g" \
    tools/bench/sip-cps/kamailio.cfg.in >"$WORK/kamailio.cfg"
kamailio -f "$WORK/kamailio.cfg" -DD -E -m 256 -M 32 -P "$WORK/kamailio.pid" 2>"$WORK/kamailio.log" &
KAMAILIO=$!
PIDS+=("$KAMAILIO")
sleep 1.5
require_running kamailio "$KAMAILIO" "$WORK/kamailio.log"
sweep "kamailio t_relay" "$KAMAILIO"
KAMAILIO_MAX=$MAX
stop_pid "$KAMAILIO"

echo
echo "vos wrote $CDRS CDRs in mode 0 (one per call attempt)."
echo "max_cps vos mode 0: $VOS_MODE0 mode 3: $VOS_MODE3 kamailio: $KAMAILIO_MAX"
echo "max_cps vos: $VOS_MODE0 kamailio: $KAMAILIO_MAX"
