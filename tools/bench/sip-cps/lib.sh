# shellcheck shell=bash disable=SC2034
# Shared by run.sh (calls per second) and memory.sh (memory per 1000 concurrent calls); sourced,
# not run. The caller sets SELF (its own absolute path) and ROOT (the repository), installs
# (tools/setup.sh --bench), calls prepare_binaries and enter_private_netns "$@", and only then
# makes WORK (a temp dir its EXIT trap removes, after kill_started) and PIDS (what it started).
#
# Topology, all on loopback: sipp UAC 127.0.0.2 -> switch 127.0.0.1:$SWITCH_PORT -> sipp UAS
# 127.0.0.3:$UAS_PORT. The media relay is vos-mediad (vos, control over a Unix socket) or
# rtpengine (Kamailio, ng protocol over UDP 127.0.0.1:$NG_PORT), userspace only.

SCENARIOS="$ROOT/tools/bench/sip-cps"
SWITCH_PORT=25060
UAS_PORT=25070
UAC_PORT=25080
# Both sipp instances' socket buffers: what vos-controller and Kamailio (maxbuffer) get, so a
# burst lost by sipp is not counted against the switch.
SIPP_BUFFER=4194304
NG_PORT=22222
HZ=$(getconf CLK_TCK)

# vos binaries: VOS_BIN (a directory holding vos-controller, vos-mediad, vosctl) as given, else a
# build with VOS_BUILD (release|debug, default release) into SCRATCH (default .build; use another
# path such as .build-bench when someone else holds the shared .build's lock).
prepare_binaries() {
  [ -n "${VOS_BENCH_NETNS:-}" ] && return 0  # inside the namespace: BIN came from outside
  if [ -n "${VOS_BIN:-}" ]; then BIN="$VOS_BIN"; return 0; fi
  local configuration="${VOS_BUILD:-release}" scratch="${SCRATCH:-.build}"
  (cd "$ROOT" && swift build -c "$configuration" --scratch-path "$scratch" >/dev/null)
  BIN="$(cd "$ROOT" && swift build -c "$configuration" --scratch-path "$scratch" --show-bin-path)"
}

# What vos is measured: VOS_LABEL if given (say, the commit a VOS_BIN was built from), else the
# binaries' directory and, when built here, the checkout's commit.
vos_label() {
  local where="$BIN"
  [ -n "${VOS_BIN:-}" ] || where="$BIN, built from $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')"
  echo "${VOS_LABEL:-$where}"
}

# Runs the calling script again inside a network namespace of its own (its own loopback, so no
# other process's SIP/ng ports, nft tables or conntrack state on this shared host are touched or
# felt), then kills whatever is left in it and deletes it. NETNS=0, or not being root, keeps the
# host's namespace. Installing and building happen before, outside (they may need the network).
leave_netns() {  # every process still in the namespace (all started by this run), then the namespace
  local pid
  for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
}

enter_private_netns() {
  if [ -n "${VOS_BENCH_NETNS:-}" ]; then ip link set lo up; return 0; fi
  [ "${NETNS:-1}" = 1 ] && [ "$(id -u)" = 0 ] || return 0
  NS="vosbench-sip-$$"
  ip netns add "$NS" || { echo "bench: cannot create a network namespace; using the host's" >&2; return 0; }
  trap leave_netns EXIT
  VOS_BENCH_NETNS="$NS" BIN="$BIN" ip netns exec "$NS" bash "$SELF" "$@" &
  INNER=$!
  trap 'kill -TERM "$INNER" 2>/dev/null; wait "$INNER" 2>/dev/null; exit 143' INT TERM
  local rc=0
  wait "$INNER" || rc=$?
  exit "$rc"
}

kill_started() {  # TERM every process this script started and their children, then KILL what is left
  local pid started
  started=$(tree_pids "${PIDS[@]:-}")
  for pid in $started; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in $started; do kill -9 "$pid" 2>/dev/null || true; done
}

# Ends this run (TERM: its EXIT trap cleans up) after MAX_MINUTES (default $1) minutes.
start_watchdog() {
  local me=$$
  (sleep $((${MAX_MINUTES:-$1} * 60)); echo "bench: stopped after ${MAX_MINUTES:-$1} minutes (MAX_MINUTES)" >&2; kill -TERM "$me") &
  PIDS+=("$!")
}

require_running() {  # name pid log
  kill -0 "$2" 2>/dev/null && return 0
  echo "bench: $1 did not start; its log:" >&2
  tail -20 "$3" >&2
  exit 1
}

stop_pid() {  # TERM, wait at most 10 s, then KILL
  local pid=$1 deadline=$((SECONDS + 10))
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Starts vos in SS_MEDIAPROXYMODE $1 (0: SDP untouched; 3: every call through vos-mediad) with
# routing, limits, billing and CDRs on; further NAME VALUE pairs are set as parameters. Sets VOS
# (vos-controller), MEDIAD (vos-mediad, or empty) and VOS_DATA.
start_vos() {
  local mode=$1 data="$WORK/vos-$1-$RANDOM"
  shift
  VOS_DATA=$data
  "$BIN/vosctl" --data-dir "$data" init >/dev/null
  printf 'prefix,price,first,next\n44,0.0100,6,6\n' >"$WORK/rates.csv"
  "$BIN/vosctl" --data-dir "$data" rate import retail "$WORK/rates.csv" >/dev/null
  "$BIN/vosctl" --data-dir "$data" account add bench --type postpaid --limit-money 100000000 --rate-table retail >/dev/null
  "$BIN/vosctl" --data-dir "$data" gateway add mapping customer --ip 127.0.0.2 --account bench --cps 100000 >/dev/null
  "$BIN/vosctl" --data-dir "$data" gateway add routing vendor --address 127.0.0.3:$UAS_PORT --prefix 44 \
      --options-check off --line-limit 1000000 --cps 100000 >/dev/null
  "$BIN/vosctl" --data-dir "$data" param set SS_MAX_CPS 100000 >/dev/null
  "$BIN/vosctl" --data-dir "$data" param set SS_FIREWALL_ENABLE 0 >/dev/null  # no SIP firewall on either switch
  # Userspace relay, as rtpengine runs here (no kernel module); there is no RTP in these tests anyway.
  "$BIN/vosctl" --data-dir "$data" param set SS_MEDIA_KERNEL_OFFLOAD 0 >/dev/null
  "$BIN/vosctl" --data-dir "$data" param set SS_MEDIAPROXYMODE "$mode" >/dev/null
  while (($# >= 2)); do "$BIN/vosctl" --data-dir "$data" param set "$1" "$2" >/dev/null; shift 2; done
  MEDIAD=""
  if [ "$mode" != 0 ]; then
    "$BIN/vos-mediad" --data-dir "$data" --media-ip 127.0.0.1 2>"$WORK/mediad-$mode.log" &
    MEDIAD=$!
    PIDS+=("$MEDIAD")
    wait_for test -S "$data/mediad.sock" || { echo "bench: vos-mediad did not start; its log:" >&2; tail -20 "$WORK/mediad-$mode.log" >&2; exit 1; }
  fi
  "$BIN/vos-controller" --data-dir "$data" --sip-listen 127.0.0.1:$SWITCH_PORT 2>"$WORK/controller-$mode.log" &
  VOS=$!
  PIDS+=("$VOS")
  sleep 1
  require_running vos-controller "$VOS" "$WORK/controller-$mode.log"
}

stop_vos() { stop_pid "$VOS"; stop_pid "$MEDIAD"; VOS=""; MEDIAD=""; }

# rtpengine 10.5 userspace (--table=-1: no kernel forwarding), ng on 127.0.0.1:$NG_PORT, one
# thread per core. --delete-delay=0 frees a call's ports at its delete (the default keeps them
# 30 s, which at 1000 calls/s holds 120k ports); --timeout=600: no call is ended for lack of RTP
# during a run (these calls carry none). Sets RTPENGINE.
start_rtpengine() {
  rtpengine --config-file=none --foreground --log-stderr --log-level="${RTPENGINE_LOG_LEVEL:-3}" --table=-1 --num-threads="$(nproc)" \
      --interface=127.0.0.1 --listen-ng=127.0.0.1:$NG_PORT --port-min=30000 --port-max=59999 \
      --delete-delay=0 --timeout=600 >"$WORK/rtpengine.log" 2>&1 &
  RTPENGINE=$!
  PIDS+=("$RTPENGINE")
  wait_for python3 "$SCENARIOS/sessions.py" rtpengine "$NG_PORT" || { echo "bench: rtpengine did not answer on ng; its log:" >&2; tail -20 "$WORK/rtpengine.log" >&2; exit 1; }
}

# Kamailio 5.6, stateful t_relay with record-route. UDP children: KAMAILIO_CHILDREN (default one
# per core: a t_relay worker never waits). With "rtpengine" as $1: rtpengine_offer on the INVITE,
# rtpengine_answer on the answer, rtpengine_delete on BYE, CANCEL and failure, and
# KAMAILIO_MEDIA_CHILDREN children (default 8, Kamailio's sample configuration): each rtpengine_*
# call blocks its worker until rtpengine replies, and with one worker per core the pair fell
# behind at 1000 calls/s with both cores partly idle, where 4 or 8 workers held 1000. Sets KAMAILIO.
start_kamailio() {
  local defines=() name=kamailio children=${KAMAILIO_CHILDREN:-$(nproc)}
  if [ "${1:-}" = rtpengine ]; then defines=(-A WITH_RTPENGINE); name=kamailio-rtpengine; children=${KAMAILIO_MEDIA_CHILDREN:-8}; fi
  sed -e "s/@PORT@/$SWITCH_PORT/g" -e "s/@UAS_PORT@/$UAS_PORT/g" -e "s/@NG_PORT@/$NG_PORT/g" \
      -e "s/@CHILDREN@/$children/g" "$SCENARIOS/kamailio.cfg.in" >"$WORK/$name.cfg"
  # 1 GB of shared memory: tm keeps every transaction ~5 s after it ends (8 KB each), which at
  # 2000 calls/s exhausted 256 MB ("could not allocate shared memory") before the CPU ran out.
  kamailio -f "$WORK/$name.cfg" "${defines[@]}" -DD -E -m 1024 -M 32 -P "$WORK/$name.pid" >"$WORK/$name.log" 2>&1 &
  KAMAILIO=$!
  PIDS+=("$KAMAILIO")
  sleep 1.5
  require_running kamailio "$KAMAILIO" "$WORK/$name.log"
}

stop_kamailio() { stop_pid "$KAMAILIO"; KAMAILIO=""; }
stop_rtpengine() { stop_pid "$RTPENGINE"; RTPENGINE=""; }

# Waits (at most 10 s) until a command succeeds.
wait_for() {
  local deadline=$((SECONDS + 10))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

tree_pids() {  # a process and its children (kamailio forks its workers from the main process)
  local pid
  for pid in "$@"; do [ -n "$pid" ] && echo "$pid" && pgrep -P "$pid" 2>/dev/null; done
  return 0
}

cpu_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0; }
tree_ticks() {  # CPU ticks (utime+stime) of these processes and their children
  local total=0 pid
  for pid in $(tree_pids "$@"); do total=$((total + $(cpu_ticks "$pid"))); done
  echo "$total"
}

# "pid tid oncpu-ns runqueue-ns name" for every thread of these processes and their children
# (/proc/.../schedstat: time running, and time runnable but waiting for a CPU).
thread_snapshot() {
  local pid task name
  for pid in $(tree_pids "$@"); do
    for task in /proc/"$pid"/task/*; do
      [ -r "$task/schedstat" ] || continue
      name=$(tr ' ' '_' <"$task/comm" 2>/dev/null || echo '?')
      # A threaded process's first thread; kamailio's processes are single-threaded.
      [ "${task##*/}" = "$pid" ] && [ "$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)" != 1 ] && name="$name:main"
      printf '%s %s %s %s\n' "$pid" "${task##*/}" "$(cut -d' ' -f1-2 "$task/schedstat" 2>/dev/null || echo '0 0')" "$name"
    done
  done
}

# The busiest threads between two snapshots, at most $4 of them: "name(tid) N% +W% wait", N the
# share of one core it ran, W the share it was runnable but waited for a CPU.
busiest_threads() {  # before-file after-file seconds count
  awk '
    NR == FNR { run[$2] = $3; wait[$2] = $4; next }
    { d = $3 - run[$2]; w = $4 - wait[$2]; if (d > 0) printf "%.0f %.0f %s(%s)\n", d, w, $5, $2 }' "$1" "$2" \
    | sort -rn | head -n "$4" | awk -v s="$3" '{ printf "%s %.0f%% +%.0f%% wait  ", $3, $1 / 1e7 / s, $2 / 1e7 / s }'
}

udp_rcvbuf_errors() { awk '/^Udp: [0-9]/ { print $6; exit }' /proc/net/snmp; }  # this namespace's UDP drops: full receive buffers

# UDP sockets of this namespace that dropped datagrams (full receive buffer) since they opened:
# "process@address:port drops (buffer bytes)".
socket_drops() {
  ss -Huanmp 2>/dev/null | awk '
    /users:/ { addr = $4; match($0, /\(\("[^"]*"/); proc = substr($0, RSTART + 3, RLENGTH - 4); next }
    /skmem:/ { if (match($0, /,d[0-9]+/)) { d = substr($0, RSTART + 2, RLENGTH - 2); if (d > 0) {
                 match($0, /rb[0-9]+/); printf "%s@%s %d (rb %s)  ", proc, addr, d, substr($0, RSTART + 2, RLENGTH - 2) } } }'
}

host_idle_ticks() { awk '/^cpu / { print $5 + $6; exit }' /proc/stat; }  # idle + iowait, all cores

rss_kb() { local total=0 pid v; for pid in $(tree_pids "$@"); do v=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null); total=$((total + ${v:-0})); done; echo "$total"; }
pss_kb() { local total=0 pid v; for pid in $(tree_pids "$@"); do v=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null); total=$((total + ${v:-0})); done; echo "$total"; }

# sipp: the vendor (answers at once, waits for BYE) in the background; sets UAS.
start_uas() {  # dir timeout-seconds
  (cd "$1" && exec sipp -sf "$SCENARIOS/uas_answer.xml" -i 127.0.0.3 -p $UAS_PORT -buff_size $SIPP_BUFFER -timeout "$2"s -nostdin \
      -trace_stat -stf uas.csv >/dev/null 2>"$1/uas.err") &
  UAS=$!
  PIDS+=("$UAS")
}

# A column of the last line of a sipp statistics file.
sipp_stat() {  # file column
  local header last index
  header=$(head -1 "$1" 2>/dev/null) || return 0
  last=$(tail -1 "$1" 2>/dev/null)
  index=$(echo "$header" | tr ';' '\n' | grep -n -x "$2" | cut -d: -f1)
  [ -n "$index" ] && echo "$last" | cut -d';' -f"$index"
}
