#!/usr/bin/env bash
# SIP flood benchmark for the vos firewall. In namespaces this script creates and deletes:
#   gw  198.51.100.2 (trusted: mapping + routing gateway, sipp UAC and UAS)
#   sw  198.51.100.1 / 203.0.113.1 (vos-mediad programs the firewall, vos-controller on :5060)
#   atk 203.0.113.66 (untrusted: OPTIONS/REGISTER flood at a rising rate, sendmmsg generator)
# For each mode (firewall applied, firewall disabled) and each rate in RATES, the trusted sipp
# places calls for STEP seconds while the flood runs; controller CPU % is (utime+stime) delta
# from /proc/PID/stat over the step. Last line:
#   flood_pps: X controller_cpu_pct: Y trusted_success_pct: Z   (highest rate, firewall applied)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
SCRATCH="${SCRATCH:-$ROOT/.build}"
BIN="$SCRATCH/debug"
[[ -x "$SCRATCH/release/vos-controller" ]] && BIN="$SCRATCH/release"
RATES="${RATES:-1000 10000 50000 100000}"
STEP="${STEP:-8}"
CPS="${CPS:-10}"
TAG="$$"
SW="vosbench-sw-$TAG" GW="vosbench-gw-$TAG" ATK="vosbench-atk-$TAG"
WORK="$(mktemp -d /tmp/vos-sip-flood.XXXXXX)"
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    for ns in "$SW" "$GW" "$ATK"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in sipp gcc ip; do command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }; done
[[ -x "$BIN/vos-controller" && -x "$BIN/vos-mediad" && -x "$BIN/vosctl" ]] || { echo "build first: swift build --scratch-path $SCRATCH" >&2; exit 1; }
gcc -O2 -o "$WORK/flood" "$HERE/flood.c"

for ns in "$SW" "$GW" "$ATK"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add "vbg$TAG" netns "$SW" type veth peer name "vbs$TAG" netns "$GW"
ip link add "vba$TAG" netns "$SW" type veth peer name "vbt$TAG" netns "$ATK"
ip -n "$SW" addr add 198.51.100.1/24 dev "vbg$TAG"; ip -n "$GW" addr add 198.51.100.2/24 dev "vbs$TAG"
ip -n "$SW" addr add 203.0.113.1/24 dev "vba$TAG"; ip -n "$ATK" addr add 203.0.113.66/24 dev "vbt$TAG"
for pair in "$SW vbg$TAG" "$GW vbs$TAG" "$SW vba$TAG" "$ATK vbt$TAG"; do set -- $pair; ip -n "$1" link set "$2" up; done

DATA="$WORK/var"
vosctl() { ip netns exec "$SW" "$BIN/vosctl" --data-dir "$DATA" "$@"; }
vosctl init >/dev/null
vosctl param set SS_MEDIAPROXYMODE 0 >/dev/null
vosctl param set SS_MAX_CPS 1000 >/dev/null
vosctl account add acme --type postpaid --limit-money 1000000 >/dev/null
vosctl gateway add mapping cust --ip 198.51.100.2 --account acme >/dev/null
vosctl gateway add routing carrier --address 198.51.100.2:5070 --prefix 44 --options-check off >/dev/null

ip netns exec "$SW" "$BIN/vos-mediad" --data-dir "$DATA" --media-ip 198.51.100.1 --io-threads 1 >"$WORK/mediad.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q "vos-mediad started" "$WORK/mediad.log" && break; sleep 0.1; done
ip netns exec "$SW" "$BIN/vos-controller" --data-dir "$DATA" --sip-listen 0.0.0.0:5060 --sip-advertise 198.51.100.1 >"$WORK/controller.log" 2>&1 &
CONTROLLER=$!
PIDS+=($CONTROLLER)
for _ in $(seq 50); do grep -q "vos-controller started" "$WORK/controller.log" && break; sleep 0.1; done
ip netns exec "$GW" sipp -sn uas -i 198.51.100.2 -p 5070 -mp 5072 -nostdin -timeout 900s >"$WORK/uas.log" 2>&1 &
PIDS+=($!)
sleep 0.5

ticks() { awk '{ print $14 + $15 }' "/proc/$CONTROLLER/stat"; }
HZ=$(getconf CLK_TCK)

# One step: flood at RATE for STEP seconds while the trusted side places calls.
step() {
    local mode=$1 rate=$2 calls=$((CPS * (STEP - 2)))
    local stat="$WORK/uac-$mode-$rate.csv"
    local before; before=$(ticks); local t0; t0=$(date +%s.%N)
    ip netns exec "$ATK" "$WORK/flood" 203.0.113.1 5060 "$rate" "$STEP" >"$WORK/flood-$mode-$rate.log" 2>&1 &
    local flood=$!
    ip netns exec "$GW" timeout -s KILL $((STEP + 20)) sipp -sn uac 198.51.100.1:5060 -i 198.51.100.2 -p 5090 -mp 5092 \
        -s 4420123 -m "$calls" -r "$CPS" -d 200 -timeout "$((STEP + 15))s" -timeout_error -nostdin \
        -trace_stat -stf "$stat" >/dev/null 2>&1 || true
    wait "$flood" || true
    local after; after=$(ticks); local t1; t1=$(date +%s.%N)
    local cpu; cpu=$(awk -v a="$before" -v b="$after" -v s="$t0" -v e="$t1" -v hz="$HZ" 'BEGIN { printf "%.1f", (b - a) / hz / (e - s) * 100 }')
    local ok failed
    ok=$(awk -F';' 'NR==1 { for (i = 1; i <= NF; i++) if ($i == "SuccessfulCall(C)") c = i } END { print $c + 0 }' "$stat" 2>/dev/null || echo 0)
    failed=$(awk -F';' 'NR==1 { for (i = 1; i <= NF; i++) if ($i == "FailedCall(C)") c = i } END { print $c + 0 }' "$stat" 2>/dev/null || echo 0)
    local pct; pct=$(awk -v o="$ok" -v n="$calls" 'BEGIN { printf "%.1f", n ? o * 100 / n : 0 }')
    local achieved; achieved=$(awk '{ print $(NF-1) }' "$WORK/flood-$mode-$rate.log")
    printf "%-9s %10s %12s %9s %9s %8s %8s\n" "$mode" "$rate" "$achieved" "$cpu" "$ok/$calls" "$failed" "$pct"
    LAST_RATE=$achieved LAST_CPU=$cpu LAST_PCT=$pct
}

printf "%-9s %10s %12s %9s %9s %8s %8s\n" MODE TARGET_PPS ACHIEVED_PPS CPU_PCT CALLS_OK FAILED OK_PCT
for mode in off on; do
    if [[ $mode == on ]]; then vosctl param set SS_FIREWALL_ENABLE 1 >/dev/null; else vosctl param set SS_FIREWALL_ENABLE 0 >/dev/null; fi
    sleep 2.5   # vos-mediad follows the generation within a second
    for rate in $RATES; do
        vosctl firewall unban 203.0.113.66 >/dev/null 2>&1 || true   # each step starts unbanned
        step "$mode" "$rate"
        if [[ $mode == on ]]; then ON_RATE=$LAST_RATE ON_CPU=$LAST_CPU ON_PCT=$LAST_PCT; fi
    done
done
if [[ -n "$(ip netns exec "$SW" nft list table inet vos_filter 2>/dev/null)" ]]; then
    echo "audit (firewall on, last step):"
    vosctl firewall audit | grep -E "banned ipv4|flood over|untrusted SIP within" | awk '{ print "  " $3 " packets: " substr($0, index($0, $5)) }' | cut -c1-120
fi
echo "flood_pps: $ON_RATE controller_cpu_pct: $ON_CPU trusted_success_pct: $ON_PCT"
