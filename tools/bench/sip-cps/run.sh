#!/usr/bin/env bash
# SIP calls per second on this machine, in one run, through:
#   vos mode 0          vos-controller, SDP untouched (SS_MEDIAPROXYMODE 0)
#   vos mode 3          vos-controller + vos-mediad, every call's media relayed (SS_MEDIAPROXYMODE 3)
#   kamailio t_relay    Kamailio, stateful t_relay with record-route
#   kamailio+rtpengine  the same Kamailio calling rtpengine_offer / rtpengine_answer / rtpengine_delete
#                       on every call (ng protocol over UDP on loopback, rtpengine userspace only)
# sipp UAC (127.0.0.2) -> switch (127.0.0.1) -> sipp UAS (127.0.0.3), short calls (INVITE, 200,
# ACK, BYE, no RTP), rising rates, STEP_SECONDS per step. A rate "holds" when every call completes
# and the UAC retransmitted nothing; a switch's sweep stops at its first rate that does not hold.
# vos runs with routing, limits, billing and CDRs on. Everything runs inside a network namespace
# of its own (see lib.sh; NETNS=0 keeps the host's), so only loopback traffic, and the run does
# not meet other processes' ports or nft tables on this shared host.
#
# Usage: tools/bench/sip-cps/run.sh [RATES...]
#        (default: 250 500 750 1000 1250 1500 1750 2000 2250 2500 2750 3000 3500 4000 5000 6000)
# Env:   STEP_SECONDS (default 6); CASES (default "vos0 vos3 kamailio kamailio+rtpengine");
#        VOS_BUILD (release|debug, default release), SCRATCH (swift scratch path, default .build),
#        VOS_BIN (directory of prebuilt vos binaries: no build; VOS_LABEL names them in the
#        output); KAMAILIO_CHILDREN (t_relay,
#        default one per core), KAMAILIO_MEDIA_CHILDREN (with rtpengine, default 8; see lib.sh);
#        QUIET_WAIT, BUSY_LIMIT, BUSY_RETRIES (see sweep); MAX_MINUTES (whole run, default 40);
#        KEEP_WORK=1 keeps the temp dir; NETNS=0 (see lib.sh)
# Per step: calls completed / failed, UAC retransmissions, CPU (% of one core over the step) of
# the SIP process(es) (vos-controller; every kamailio process), of the media relay (vos-mediad;
# rtpengine), of both sipp instances, and of everything else on the host (others' builds and
# tests: each step waits for a quiet host first, and one that fails while others were busy is
# shown as "busy" and repeated, see sweep). After the table: the busiest threads per step.
# Last lines:
#   max_cps_media vos: X kamailio+rtpengine: Y      (vos mode 3 and the pair)
#   max_cps vos: X kamailio: Y                      (vos mode 0 and Kamailio t_relay)
set -euo pipefail
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
export PATH="/opt/swift/usr/bin:$PATH"
# shellcheck source=lib.sh
source "$ROOT/tools/bench/sip-cps/lib.sh"
if [ -z "${VOS_BENCH_NETNS:-}" ]; then
  bash tools/setup.sh --bench >/dev/null
  prepare_binaries
fi
enter_private_netns "$@"

RATES=("${@:-250 500 750 1000 1250 1500 1750 2000 2250 2500 2750 3000 3500 4000 5000 6000}")
read -r -a RATES <<<"${RATES[*]}"
STEP_SECONDS="${STEP_SECONDS:-6}"
CASES=" ${CASES:-vos0 vos3 kamailio kamailio+rtpengine} "

WORK="$(mktemp -d /tmp/vos-sip-cps.XXXXXX)"
PIDS=()
cleanup() {
  kill_started
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM
start_watchdog 40

# One step: RATE calls/s for STEP_SECONDS through the switch whose SIP side is SIP_PID (and its
# children) and whose relay is MEDIA_PID (or "-"). Prints
# "verdict successful failed retrans sip% media% sipp% other%" into $WORK/step.result and appends
# its busiest threads to $WORK/threads.txt.
step() {
  local name=$1 rate=$2 sip=$3 media=$4 calls=$(( $2 * STEP_SECONDS ))
  local dir="$WORK/step-${name//[^a-z0-9]/_}-$rate-$RANDOM"
  mkdir -p "$dir"
  local watched=("$sip")
  [ "$media" != - ] && watched+=("$media")
  start_uas "$dir" $((STEP_SECONDS + 25))
  sleep 0.5
  local sip0 media0=0 uas0 host0 drops0 start end
  thread_snapshot "${watched[@]}" >"$dir/threads.before"
  sip0=$(tree_ticks "$sip"); [ "$media" != - ] && media0=$(cpu_ticks "$media")
  uas0=$(cpu_ticks "$UAS"); host0=$(host_idle_ticks); drops0=$(udp_rcvbuf_errors)
  start=$(date +%s.%N)
  # The subshell's `times` after sipp exits is sipp's own CPU time.
  (cd "$dir" && { sipp -sn uac 127.0.0.1:$SWITCH_PORT -i 127.0.0.2 -p $UAC_PORT -s 4420123 -buff_size $SIPP_BUFFER \
      -r "$rate" -m "$calls" -l $((rate * 4)) -timeout $((STEP_SECONDS + 20))s -timeout_error -nostdin \
      -trace_stat -stf uac.csv >/dev/null 2>uac.err || true; times >uac.times; }) &
  local uac=$!
  PIDS+=("$uac")
  wait "$uac" || true
  end=$(date +%s.%N)
  local sip_t media_t=0 uas_t host_t uac_s
  sip_t=$(( $(tree_ticks "$sip") - sip0 )); [ "$media" != - ] && media_t=$(( $(cpu_ticks "$media") - media0 ))
  uas_t=$(( $(cpu_ticks "$UAS") - uas0 )); host_t=$(( $(host_idle_ticks) - host0 ))
  thread_snapshot "${watched[@]}" >"$dir/threads.after"
  stop_pid "$UAS"
  # `times`, second line: the children's user and system time, as "0m1.234s 0m0.567s".
  uac_s=$(awk 'NR == 2 { for (i = 1; i <= NF; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } print s + 0 }' "$dir/uac.times")
  local elapsed
  elapsed=$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')
  pct() { awk -v t="$1" -v hz="$HZ" -v s="$elapsed" 'BEGIN { printf "%.0f%%", 100 * t / hz / s }'; }
  local successful failed retrans verdict=fail media_pct=- other
  successful=$(sipp_stat "$dir/uac.csv" 'SuccessfulCall(C)')
  failed=$(sipp_stat "$dir/uac.csv" 'FailedCall(C)')
  retrans=$(sipp_stat "$dir/uac.csv" 'Retransmissions(C)')
  [ "${successful:-0}" = "$calls" ] && [ "${failed:-1}" = 0 ] && [ "${retrans:-1}" = 0 ] && verdict=ok
  [ "$media" != - ] && media_pct=$(pct "$media_t")
  # Everything else on the host: its busy time less the switch's and sipp's.
  other=$(awk -v idle="$host_t" -v ours="$((sip_t + media_t + uas_t))" -v uac="$uac_s" -v hz="$HZ" -v s="$elapsed" -v n="$(nproc)" \
      'BEGIN { o = 100 * n - 100 * idle / hz / s - 100 * (ours / hz + uac) / s; printf "%.0f%%", o < 0 ? 0 : o }')
  echo >"$WORK/step.result" "$verdict ${successful:-0} ${failed:-?} ${retrans:-?} $(pct "$sip_t") $media_pct" \
       "$(awk -v a="$uac_s" -v t="$uas_t" -v hz="$HZ" -v s="$elapsed" 'BEGIN { printf "%.0f%%", 100 * (a + t / hz) / s }')" "$other"
  printf '%-18s %5s/s: %s(%s s, UDP receive-buffer drops %s)\n' "$name" "$rate" \
      "$(busiest_threads "$dir/threads.before" "$dir/threads.after" "$elapsed" 4)" "$(printf %.1f "$elapsed")" \
      "$(( $(udp_rcvbuf_errors) - drops0 ))" >>"$WORK/threads.txt"
}

# Waits (at most QUIET_WAIT seconds, default 60) until the host spent under 20 % of a core over
# two seconds (the switch under test is idle meanwhile): others' builds and tests share the cores.
wait_quiet() {
  local deadline=$((SECONDS + ${QUIET_WAIT:-60})) idle0 busy
  while :; do
    idle0=$(host_idle_ticks)
    sleep 2
    busy=$(( 100 * $(nproc) - ($(host_idle_ticks) - idle0) * 100 / HZ / 2 ))
    ((busy < 20 || SECONDS >= deadline)) && break
  done
}

# Runs the rising rates against one switch; prints the table rows and sets MAX. A step that
# fails while other processes took more than BUSY_LIMIT (default 15) % of a core is shown as
# "busy" and run again, at most BUSY_RETRIES (default 2) times per step.
sweep() {
  local name=$1 sip=$2 media=$3 rate verdict successful failed retrans sip_cpu media_cpu sipp_cpu other_cpu retries
  MAX=0
  for rate in "${RATES[@]}"; do
    retries=0
    while :; do
      wait_quiet
      step "$name" "$rate" "$sip" "$media"
      read -r verdict successful failed retrans sip_cpu media_cpu sipp_cpu other_cpu <"$WORK/step.result"
      if [ "$verdict" = fail ] && ((${other_cpu%\%} > ${BUSY_LIMIT:-15} && retries < ${BUSY_RETRIES:-2})); then
        verdict=busy
        retries=$((retries + 1))
      fi
      printf '| %-18s | %5s | %10s | %6s | %7s | %7s | %9s | %8s | %9s | %-4s |\n' "$name" "$rate" "$successful" \
          "$failed" "$retrans" "$sip_cpu" "$media_cpu" "$sipp_cpu" "$other_cpu" "$verdict"
      [ "$verdict" = busy ] || break
      sleep 3
    done
    if [ "$verdict" = ok ]; then MAX=$rate; else break; fi
    sleep 1
  done
  local drops
  drops=$(socket_drops)
  [ -z "$drops" ] || printf '%-18s sockets that dropped datagrams: %s\n' "$name" "$drops" >>"$WORK/threads.txt"
}

host_note() {  # load, and the processes busy over one second
  echo "host load $(cut -d' ' -f1-3 /proc/loadavg); busy now: $(top -b -n 2 -d 1 -w 200 | awk '/^top -/ { n++ }
      n == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 1 && k++ < 4 { printf "%s %s%%  ", $12, $9 }')"
}

echo "sip-cps: ${STEP_SECONDS}s per step, rates ${RATES[*]}, $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "vos: $(vos_label)"
echo "kamailio children: t_relay ${KAMAILIO_CHILDREN:-$(nproc)}, with rtpengine ${KAMAILIO_MEDIA_CHILDREN:-8}; rtpengine threads $(nproc)"
echo "kamailio $(kamailio -v 2>/dev/null | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p'), $(rtpengine --version 2>&1 | head -1 | sed 's/^Version: /rtpengine /'), $(sipp -v 2>/dev/null | grep -o 'SIPp v[^ ,-]*' | head -1)"
echo "at start: $(host_note)"
echo
echo '| switch             |  rate | successful | failed | retrans | sip cpu | media cpu | sipp cpu | other cpu | ok   |'
echo '|--------------------|-------|------------|--------|---------|---------|-----------|----------|-----------|------|'

VOS_MODE0=- VOS_MODE3=- KAMAILIO_MAX=- PAIR_MAX=- CDRS=-
if [[ $CASES == *" vos0 "* ]]; then
  start_vos 0
  sweep "vos mode 0" "$VOS" -
  VOS_MODE0=$MAX
  CDRS=$("$BIN/vosctl" --data-dir "$VOS_DATA" cdr list --json | grep -c '"callID"' || true)
  stop_vos
fi
if [[ $CASES == *" vos3 "* ]]; then
  start_vos 3
  sweep "vos mode 3" "$VOS" "$MEDIAD"
  VOS_MODE3=$MAX
  stop_vos
fi
if [[ $CASES == *" kamailio "* ]]; then
  start_kamailio
  sweep "kamailio t_relay" "$KAMAILIO" -
  KAMAILIO_MAX=$MAX
  stop_kamailio
fi
if [[ $CASES == *" kamailio+rtpengine "* ]]; then
  start_rtpengine
  start_kamailio rtpengine
  sweep "kamailio+rtpengine" "$KAMAILIO" "$RTPENGINE"
  PAIR_MAX=$MAX
  stop_kamailio
  stop_rtpengine
fi

echo
echo "at end: $(host_note)"
echo "vos wrote $CDRS CDRs in mode 0 (one per call attempt)."
echo "Busiest threads per step (% of one core it ran, + % it waited for a CPU), step length, UDP drops:"
sed 's/^/  /' "$WORK/threads.txt" 2>/dev/null || true
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/ && b > 0) printf "%.2f", a / b; else printf "-" }'; }
echo "ratio vos mode 3 / kamailio+rtpengine: $(ratio "$VOS_MODE3" "$PAIR_MAX"); vos mode 3 / vos mode 0: $(ratio "$VOS_MODE3" "$VOS_MODE0")"
echo "max_cps vos mode 0: $VOS_MODE0 mode 3: $VOS_MODE3 kamailio: $KAMAILIO_MAX kamailio+rtpengine: $PAIR_MAX"
echo "max_cps_media vos: $VOS_MODE3 kamailio+rtpengine: $PAIR_MAX"
echo "max_cps vos: $VOS_MODE0 kamailio: $KAMAILIO_MAX"
