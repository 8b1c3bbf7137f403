#!/usr/bin/env bash
# Cluster mode's cost per call (issue 17), in one run on this machine, with tools/lab/cluster.sh:
#   embedded   one vos node, single-node mode (LMDB only)
#   cluster    two vos nodes sharing one PostgreSQL (leases, configuration follower, shipper)
# A sipp customer sends short calls (INVITE, 200, ACK, 1 s, BYE) at RATE calls/s for SECONDS to
# each node; a sipp vendor answers. Per mode: calls completed, calls/s, the controllers' CPU per
# call (utime+stime from /proc), and in cluster mode PostgreSQL's CPU per call (all its processes).
# The issue's target: cluster mode adds at most 20 % controller CPU per call.
#
# Usage: tools/bench/cluster/run.sh            Env: RATE (default 100), SECONDS_PER_RUN (default 20),
#        VOS_BIN (default: release build in .build-release), KEEP=1 keeps the lab for a look.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
export PATH="/opt/swift/usr/bin:$PATH"
RATE=${RATE:-100}
RUN_SECONDS=${SECONDS_PER_RUN:-20}
if [ -z "${VOS_BIN:-}" ]; then
  swift build -c release --scratch-path .build-release >/dev/null
  VOS_BIN=$ROOT/.build-release/x86_64-unknown-linux-gnu/release
fi
export VOS_BIN
export CLUSTER_LAB_PREFIX=vbc CLUSTER_LAB_STATE=/run/vos-lab/vbc
# Money never limits the benchmark: a prepaid account with plenty, leased in large slices.
export CLUSTER_LAB_BALANCE=1000000 CLUSTER_LAB_LIMIT=0 CLUSTER_LAB_SLICE=500
LAB="bash tools/lab/cluster.sh"
TICKS=$(getconf CLK_TCK)
cleanup() { [ "${KEEP:-0}" = 1 ] || $LAB down >/dev/null 2>&1 || true; }
trap cleanup EXIT

cpu_ticks() { # utime+stime of the given pids, in clock ticks
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
postgres_pids() { # the postmaster and its children (backends of the nodes' connections live as long as they do)
  local master
  master=$(head -1 "$CLUSTER_LAB_STATE/pg/data/postmaster.pid" 2>/dev/null) || return 0
  echo "$master $(pgrep -P "$master" | tr '\n' ' ')"
}

# run_load NODES...: RATE calls/s to each node for RUN_SECONDS; prints "completed failed".
run_load() {
  local n out pids=()
  for n in "$@"; do
    out=$CLUSTER_LAB_STATE/load-$n
    mkdir -p "$out"
    (cd "$out" && ip netns exec "$CLUSTER_LAB_PREFIX-cust" sipp "192.0.2.$n:5060" -sn uac -s 442079460000 -i 192.0.2.10 \
      -p $((5080 + n)) -r "$RATE" -m $((RATE * RUN_SECONDS)) -l $((RATE * 4)) -d 1000 -nostdin \
      -timeout $((RUN_SECONDS + 60))s -trace_stat -stf stat.csv -fd 1 >sipp.log 2>&1) &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  local ok=0 bad=0 row
  for n in "$@"; do
    row=$(tail -1 "$CLUSTER_LAB_STATE/load-$n/stat.csv")
    ok=$((ok + $(echo "$row" | awk -F';' '{print $16}')))
    bad=$((bad + $(echo "$row" | awk -F';' '{print $18}')))
  done
  echo "$ok $bad"
}

measure() { # MODE NODES...: one line of the table
  local mode=$1; shift
  local n controllers=() before after pg_before pg_after start end
  for n in "$@"; do controllers+=("$(head -1 <($LAB pids "$n"))"); done
  before=$(cpu_ticks "${controllers[@]}")
  pg_before=$(cpu_ticks $(postgres_pids))
  start=$(date +%s.%N)
  read -r ok bad < <(run_load "$@")
  end=$(date +%s.%N)
  after=$(cpu_ticks "${controllers[@]}")
  pg_after=$(cpu_ticks $(postgres_pids))
  local calls=$((ok > 0 ? ok : 1))
  awk -v mode="$mode" -v nodes="$#" -v ok="$ok" -v bad="$bad" -v s="$start" -v e="$end" -v c=$((after - before)) \
      -v p=$((pg_after - pg_before)) -v calls="$calls" -v hz="$TICKS" -v showpg="$([ "$mode" = cluster ] && echo 1 || echo 0)" \
      'BEGIN { printf "| %-8s | %d | %d | %d | %.0f | %.3f | %s |\n", mode, nodes, ok, bad, ok / (e - s - 1), c * 1000 / hz / calls,
               showpg ? sprintf("%.3f", p * 1000 / hz / calls) : "-" }'
  echo "$(( (after - before) * 1000000 / TICKS / calls ))" >"$CLUSTER_LAB_STATE/cpu-$mode"
}

$LAB up >/dev/null
$LAB db-start >/dev/null
$LAB provision >/dev/null 2>&1
$LAB vendor-start
$LAB start-node 1 >/dev/null
$LAB start-node 2 >/dev/null
echo "cluster bench $(date -u +%Y-%m-%d), $RATE calls/s per node for ${RUN_SECONDS} s, vos $("$VOS_BIN/vosctl" --version)"
echo
echo "| mode | nodes | calls completed | failed | calls/s | controller CPU ms/call | PostgreSQL CPU ms/call |"
echo "|---|---|---|---|---|---|---|"
measure cluster 1 2
$LAB stop-node 1
$LAB stop-node 2
export CLUSTER_LAB_EMBEDDED=1
$LAB provision >/dev/null 2>&1
$LAB start-node 1 >/dev/null
measure embedded 1
$LAB stop-node 1
embedded=$(cat "$CLUSTER_LAB_STATE/cpu-embedded")
cluster=$(cat "$CLUSTER_LAB_STATE/cpu-cluster")
echo
awk -v c="$cluster" -v e="$embedded" 'BEGIN { printf "controller CPU per call, cluster / embedded: %.2f (target at most 1.20)\n", (e > 0 ? c / e : 0) }'
