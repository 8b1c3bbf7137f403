#!/usr/bin/env bash
# vos deployment lab: a real site in network namespaces (customer, appliance, vendor, optionally a
# NAT in front of the customer), vos started exactly as its systemd units start it, and a call with
# two-way RTP measured at both ends. See docs/LAB.md.
#
#   lab.sh up [--nat]                 namespaces, links, routes (never starts vos)
#   lab.sh provision [--nat|--no-nat] VOSCTL...
#                                     customer, rates, mapping and routing gateways through the
#                                     given vosctl command (e.g. /path/vosctl --data-dir DIR)
#   lab.sh start-vos BIN_DIR DATA_DIR the units' ExecStartPre/ExecStart lines inside the appliance
#   lab.sh stop-vos                   stops what start-vos started
#   lab.sh call [--seconds N] [--hangup customer|vendor] [--out DIR]
#                                     one call customer -> vos -> vendor, RTP both ways, summary
#   lab.sh env | status | exec ROLE CMD...
#   lab.sh down                       removes everything (also after a crashed run)
#
# Environment: LAB_PREFIX (namespace prefix, default vlab), LAB_STATE_DIR (default
# /run/vos-lab/$LAB_PREFIX), LAB_UNIT_DIR (default appliance/systemd), LAB_WAIT_SECONDS (bound of
# every readiness wait, default 20), LAB_CALL_DIR (call outputs), LAB_RATES_FILE/LAB_RATES_PATH
# (rate CSV for provision), LAB_MANAGEMENT_SUBNETS, LAB_MAX_GAP (seconds, default 1.0).
set -euo pipefail

LAB_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LAB_HOME/../.." && pwd)

PREFIX=${LAB_PREFIX:-vlab}
NS_CUST=$PREFIX-cust
NS_APP=$PREFIX-app
NS_VEND=$PREFIX-vend
NS_NAT=$PREFIX-nat
STATE=${LAB_STATE_DIR:-/run/vos-lab/$PREFIX}
UNIT_DIR=${LAB_UNIT_DIR:-$REPO/appliance/systemd}
WAIT_SECONDS=${LAB_WAIT_SECONDS:-20}

# The site (documentation ranges only).
APP_CUSTOMER_SIDE=192.0.2.1      # vos, customer-side interface cust0
APP_VENDOR_SIDE=198.51.100.1     # vos, vendor-side interface vend0
CUSTOMER_IP=192.0.2.10           # customer host (plain lab)
VENDOR_IP=198.51.100.20          # vendor host
NAT_OUTSIDE=192.0.2.30           # NAT on the customer network (--nat)
NAT_INSIDE=203.0.113.1           # NAT on the customer LAN (--nat)
NATTED_CUSTOMER_IP=203.0.113.10  # customer host behind the NAT (--nat)
SIP_PORT=5060
MEDIA_PORT=16000                 # sipp's RTP port at both ends
VENDOR_PREFIX=44
CALLEE=${LAB_CALLEE:-442079460000}
PCAP=${LAB_PCAP:-/usr/share/sip-tester/g711a.pcap}
PLAY_MS=7000                     # the pcap lasts 7.05 s; each end restarts it every 7 s

# Names in the store (provision).
ACCOUNT=lab-customer
RATE_TABLE=lab-retail
MAPPING_GATEWAY=lab-customer-gw
ROUTING_GATEWAY=lab-vendor

log() { printf 'lab: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
need() { local c; for c in "$@"; do command -v "$c" >/dev/null 2>&1 || die "needs '$c' (tools/setup.sh --test installs it)"; done; }
ns_exists() { [ -e "/run/netns/$1" ]; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
lab_mode() { cat "$STATE/mode" 2>/dev/null || true; }

[[ $PREFIX =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$ ]] || die "LAB_PREFIX '$PREFIX': letters, digits, _ . - only (at most 31)"
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, nftables)"

# ---------------------------------------------------------------------------------------- up

add_ns() {
  ip netns add "$1"
  in_ns "$1" ip link set lo up
}

# link NS_A DEV_A ADDR_A NS_B DEV_B ADDR_B: a veth pair created directly inside both namespaces,
# so interface names never meet in the root namespace (parallel labs use the same names).
link() {
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
  in_ns "$1" ip addr add "$3" dev "$2"
  in_ns "$4" ip addr add "$6" dev "$5"
  in_ns "$1" ip link set "$2" up
  in_ns "$4" ip link set "$5" up
}

cmd_up() {
  local nat=0
  while [ $# -gt 0 ]; do
    case $1 in
      --nat) nat=1 ;;
      *) die "up: unknown argument '$1' (usage: lab.sh up [--nat])" ;;
    esac
    shift
  done
  need ip nft
  # Leftovers of an earlier (maybe crashed) run with this prefix go first.
  cmd_down >/dev/null 2>&1 || true
  trap 'rc=$?; if [ $rc -ne 0 ]; then log "up failed; removing what was created"; cmd_down >/dev/null 2>&1 || true; fi' EXIT
  mkdir -p "$STATE"
  add_ns "$NS_APP"
  add_ns "$NS_VEND"
  add_ns "$NS_CUST"
  # The appliance starts with forwarding off: only vos-mediad's ExecStartPre may turn it on.
  in_ns "$NS_APP" sysctl -qw net.ipv4.ip_forward=0
  in_ns "$NS_VEND" sysctl -qw net.ipv4.ip_forward=0
  in_ns "$NS_CUST" sysctl -qw net.ipv4.ip_forward=0
  link "$NS_APP" vend0 "$APP_VENDOR_SIDE/24" "$NS_VEND" eth0 "$VENDOR_IP/24"
  in_ns "$NS_VEND" ip route add default via "$APP_VENDOR_SIDE"
  if [ $nat -eq 1 ]; then
    add_ns "$NS_NAT"
    link "$NS_APP" cust0 "$APP_CUSTOMER_SIDE/24" "$NS_NAT" out0 "$NAT_OUTSIDE/24"
    link "$NS_NAT" in0 "$NAT_INSIDE/24" "$NS_CUST" eth0 "$NATTED_CUSTOMER_IP/24"
    in_ns "$NS_NAT" ip route add default via "$APP_CUSTOMER_SIDE"
    in_ns "$NS_CUST" ip route add default via "$NAT_INSIDE"
    in_ns "$NS_NAT" sysctl -qw net.ipv4.ip_forward=1
    printf '%s\n' 'table ip lab_nat {' \
      '  chain postrouting { type nat hook postrouting priority srcnat; policy accept; oifname "out0" masquerade; }' \
      '}' | in_ns "$NS_NAT" nft -f -
    echo nat >"$STATE/mode"
  else
    link "$NS_APP" cust0 "$APP_CUSTOMER_SIDE/24" "$NS_CUST" eth0 "$CUSTOMER_IP/24"
    in_ns "$NS_CUST" ip route add default via "$APP_CUSTOMER_SIDE"
    echo plain >"$STATE/mode"
  fi
  trap - EXIT
  log "up ($(lab_mode)): $NS_CUST $(customer_ip) -> $NS_APP $APP_CUSTOMER_SIDE | $APP_VENDOR_SIDE -> $NS_VEND $VENDOR_IP"
  log "vos is not running; start it with 'lab.sh start-vos BIN_DIR DATA_DIR' or in a container on /run/netns/$NS_APP"
}

customer_ip() { if [ "$(lab_mode)" = nat ]; then echo "$NATTED_CUSTOMER_IP"; else echo "$CUSTOMER_IP"; fi; }
customer_source() { if [ "$(lab_mode)" = nat ]; then echo "$NAT_OUTSIDE"; else echo "$CUSTOMER_IP"; fi; }

# ---------------------------------------------------------------------------------------- down

# Stops a process start-vos recorded, if it is still the one in the appliance namespace.
stop_pidfile() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  rm -f "$file"
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  [ "$(ip netns identify "$pid" 2>/dev/null)" = "$NS_APP" ] || { log "pid $pid is no longer ours; left alone"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "pid $pid ignored SIGTERM for 5 s; SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop_vos() {
  stop_pidfile "$STATE/vos-controller.pid"
  stop_pidfile "$STATE/vos-mediad.pid"
}

# Processes still inside one of the lab's namespaces (started by this lab or by a test using it).
kill_namespace_processes() {
  local ns=$1 pids pid i
  ns_exists "$ns" || return 0
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [ -n "$pids" ] || return 0
  log "stopping processes left in $ns: $(echo $pids)"
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 30); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    sleep 0.1
  done
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
}

cmd_down() {
  cmd_stop_vos || true
  local ns
  for ns in "$NS_CUST" "$NS_NAT" "$NS_VEND" "$NS_APP"; do
    kill_namespace_processes "$ns" || true
    if ns_exists "$ns"; then ip netns del "$ns" || log "cannot delete namespace $ns"; fi
  done
  if [ -d "$STATE" ]; then
    rm -f "$STATE/mode" "$STATE"/*.pid "$STATE"/vos-*.log "$STATE/lab-rates.csv"
    rmdir "$STATE" 2>/dev/null || true
  fi
  log "down: no namespace with prefix $PREFIX left"
}

# ----------------------------------------------------------------------------------- provision

cmd_provision() {
  local nat=""
  case ${1:-} in
    --nat) nat=1; shift ;;
    --no-nat) nat=0; shift ;;
  esac
  [ $# -ge 1 ] || die "usage: lab.sh provision [--nat|--no-nat] VOSCTL... (e.g. /usr/bin/vosctl --data-dir /var/lib/vos)"
  local -a vosctl=("$@")
  if [ -z "$nat" ]; then if [ "$(lab_mode)" = nat ]; then nat=1; else nat=0; fi; fi
  local sources=$CUSTOMER_IP
  [ "$nat" -eq 1 ] && sources="$CUSTOMER_IP,$NAT_OUTSIDE"
  v() { log "+ vosctl $*"; "${vosctl[@]}" "$@"; }
  exists() { "${vosctl[@]}" "$@" >/dev/null 2>&1; }

  # vosctl reads the rate CSV from a file; LAB_RATES_PATH is that file as the vosctl command
  # sees it (e.g. inside a container), LAB_RATES_FILE where this script writes it.
  local rates_file=${LAB_RATES_FILE:-$STATE/lab-rates.csv}
  mkdir -p "$(dirname "$rates_file")"
  printf 'prefix,price_per_minute,first_interval,next_interval,connection_fee,description\n%s,0.0100,1,1,0,lab vendor\n' \
    "$VENDOR_PREFIX" >"$rates_file"
  chmod 0644 "$rates_file"

  v init
  if [ -n "${LAB_MANAGEMENT_SUBNETS:-}" ]; then v param set SS_FIREWALL_MANAGEMENT_SUBNETS "$LAB_MANAGEMENT_SUBNETS"; fi
  v rate import "$RATE_TABLE" "${LAB_RATES_PATH:-$rates_file}"
  if exists account show "$ACCOUNT"; then
    log "account $ACCOUNT exists"
  else
    v account add "$ACCOUNT" --type postpaid --limit-money 100000 --rate-table "$RATE_TABLE"
  fi
  if exists gateway show "$MAPPING_GATEWAY"; then
    v gateway set "$MAPPING_GATEWAY" --ip "$sources" --account "$ACCOUNT"
  else
    v gateway add mapping "$MAPPING_GATEWAY" --ip "$sources" --account "$ACCOUNT"
  fi
  if exists gateway show "$ROUTING_GATEWAY"; then
    v gateway set "$ROUTING_GATEWAY" --address "$VENDOR_IP:$SIP_PORT" --prefix "$VENDOR_PREFIX" --options-check off
  else
    v gateway add routing "$ROUTING_GATEWAY" --address "$VENDOR_IP:$SIP_PORT" --prefix "$VENDOR_PREFIX" --options-check off
  fi
  log "provisioned: customer $sources -> $MAPPING_GATEWAY ($ACCOUNT), prefix $VENDOR_PREFIX -> $ROUTING_GATEWAY $VENDOR_IP:$SIP_PORT"
}

# ----------------------------------------------------------------------------------- start-vos

# Values of KEY= in a unit's [Service] section, one per line, continuation lines joined.
unit_values() {
  awk -v key="$2" '
    {
      line = $0
      while (line ~ /\\$/ && (getline next_line) > 0) { sub(/\\$/, "", line); line = line " " next_line }
      if (line ~ /^[ \t]*[#;]/ || line ~ /^[ \t]*$/) next
      if (line ~ /^[ \t]*\[/) { section = line; gsub(/[ \t]/, "", section); next }
      if (section != "[Service]") next
      n = index(line, "=")
      if (n == 0) next
      k = substr(line, 1, n - 1); gsub(/[ \t]/, "", k)
      if (k == key) { v = substr(line, n + 1); sub(/^[ \t]+/, "", v); print (v == "" ? "<reset>" : v) }
    }' "$1"
}

# The unit's command line as this lab runs it: /usr/bin/X -> BIN_DIR/X, /var/lib/vos -> DATA_DIR,
# nothing else. Sets COMMAND (array) and IGNORE_FAILURE (the '-' prefix).
translate_command() {
  local line=$1
  IGNORE_FAILURE=0
  while [[ $line =~ ^[-+!@:] ]]; do
    case ${line:0:1} in
      -) IGNORE_FAILURE=1 ;;
      @) die "unit command '$1': the @ prefix is not reproduced by lab.sh" ;;
      # + ! !!: privileges (the lab runs everything as root); ':' no expansion (none is done here)
    esac
    line=${line:1}
  done
  case $line in
    *[\"\'\$%\\]*) die "unit command '$1': quoting, \$ expansion or % specifiers are not reproduced by lab.sh" ;;
  esac
  read -r -a COMMAND <<<"$line"
  [[ ${COMMAND[0]} == /usr/bin/* ]] || die "unit command '$1': program not in /usr/bin"
  COMMAND[0]=$BIN_DIR/${COMMAND[0]#/usr/bin/}
  [ -x "${COMMAND[0]}" ] || die "unit command '$1': ${COMMAND[0]} is not an executable"
  local i
  for i in "${!COMMAND[@]}"; do COMMAND[i]=${COMMAND[i]//\/var\/lib\/vos/$DATA_DIR}; done
}

# The environment systemd gives the unit: a clean one (no NOTIFY_SOCKET: the daemons' sd_notify
# then does nothing) plus the unit's Environment= assignments.
unit_environment() {
  local unit=$1 value word
  UNIT_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)
  while IFS= read -r value; do
    [ "$value" = "<reset>" ] && continue
    case $value in *[\"\'\$%\\]*) die "$unit: Environment=$value: quoting or expansion not reproduced by lab.sh" ;; esac
    for word in $value; do UNIT_ENV+=("$word"); done
  done < <(unit_values "$unit" Environment)
  while IFS= read -r value; do
    [ "$value" = "<reset>" ] && continue
    if [[ $value == -* ]]; then [ -e "${value#-}" ] || continue; value=${value#-}; fi
    die "$unit: EnvironmentFile=$value is not reproduced by lab.sh"
  done < <(unit_values "$unit" EnvironmentFile)
}

# Runs a unit's one-shot lines (ExecStartPre, or vos-store's ExecStart) in the appliance.
run_unit_oneshots() {
  local unit=$1 key=$2 name=$3 value rc
  unit_environment "$unit"
  while IFS= read -r value; do
    [ "$value" = "<reset>" ] && continue
    translate_command "$value"
    log "$name $key: ${COMMAND[*]}"
    rc=0
    timeout -s KILL "$WAIT_SECONDS" ip netns exec "$NS_APP" env -i "${UNIT_ENV[@]}" "${COMMAND[@]}" \
      >>"$STATE/$name-pre.log" 2>&1 </dev/null || rc=$?
    if [ $rc -ne 0 ]; then
      sed 's/^/  | /' "$STATE/$name-pre.log" >&2
      if [ "$IGNORE_FAILURE" -eq 1 ]; then
        log "$name $key exited $rc (ignored: '-' prefix)"
      elif [ "${LAB_PRE_FAILURE:-fail}" = warn ]; then
        log "$name $key exited $rc: systemd would NOT start $name (continuing: LAB_PRE_FAILURE=warn)"
      else
        die "$name $key exited $rc: systemd would not start $name"
      fi
    fi
  done < <(unit_values "$unit" "$key")
}

close_inherited_descriptors() {
  local entry fd
  for entry in /proc/$BASHPID/fd/*; do
    fd=${entry##*/}
    if [[ $fd =~ ^[0-9]+$ ]] && [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

start_daemon() {
  local name=$1 ready=$2 unit="$UNIT_DIR/$1.service" pid value count=0 logfile="$STATE/$1.log"
  unit_environment "$unit"
  while IFS= read -r value; do
    if [ "$value" = "<reset>" ]; then count=0; continue; fi
    count=$((count + 1))
    translate_command "$value"
  done < <(unit_values "$unit" ExecStart)
  [ $count -eq 1 ] || die "$unit: expected one ExecStart line, found $count"
  : >"$logfile"
  log "$name: ${COMMAND[*]} (in $NS_APP, log $logfile)"
  # setsid: its own session, so it outlives this script; every exec keeps the pid. Like systemd,
  # only 0-2 are open in the daemon: a descriptor inherited from whoever ran lab.sh (a test
  # runner's child-monitoring socket, a pipe) would otherwise stay open for the daemon's life.
  (
    close_inherited_descriptors
    exec setsid ip netns exec "$NS_APP" env -i "${UNIT_ENV[@]}" "${COMMAND[@]}"
  ) >>"$logfile" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$STATE/$name.pid"
  local deadline=$((SECONDS + WAIT_SECONDS))
  while [ $SECONDS -lt $deadline ]; do
    if grep -qF "$ready" "$logfile"; then log "$name ready (pid $pid)"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      sed 's/^/  | /' "$logfile" >&2
      rm -f "$STATE/$name.pid"
      die "$name exited before it was ready"
    fi
    sleep 0.1
  done
  sed 's/^/  | /' "$logfile" >&2
  die "$name not ready within $WAIT_SECONDS s (no '$ready' in its log)"
}

cmd_start_vos() {
  [ $# -eq 2 ] || die "usage: lab.sh start-vos BIN_DIR DATA_DIR"
  BIN_DIR=$(realpath "$1")
  DATA_DIR=$(realpath -m "$2")
  ns_exists "$NS_APP" || die "no lab with prefix $PREFIX: run 'lab.sh up' first"
  local unit
  for unit in vos-store vos-mediad vos-controller; do
    [ -f "$UNIT_DIR/$unit.service" ] || die "missing $UNIT_DIR/$unit.service"
  done
  local name
  for name in vos-mediad vos-controller; do
    if [ -f "$STATE/$name.pid" ] && kill -0 "$(cat "$STATE/$name.pid")" 2>/dev/null; then
      die "$name is already running (pid $(cat "$STATE/$name.pid")); 'lab.sh stop-vos' first"
    fi
  done
  mkdir -p "$STATE"
  rm -f "$STATE"/vos-*-pre.log
  trap 'rc=$?; if [ $rc -ne 0 ]; then cmd_stop_vos; fi' EXIT
  # Boot order of the units: vos-store (oneshot), vos-mediad (Type=notify), vos-controller.
  run_unit_oneshots "$UNIT_DIR/vos-store.service" ExecStart vos-store
  run_unit_oneshots "$UNIT_DIR/vos-mediad.service" ExecStartPre vos-mediad
  start_daemon vos-mediad "vos-mediad started"
  start_daemon vos-controller "vos-controller started"
  trap - EXIT
  log "vos runs in $NS_APP (data $DATA_DIR); net.ipv4.ip_forward there is $(in_ns "$NS_APP" sysctl -n net.ipv4.ip_forward)"
}

# ---------------------------------------------------------------------------------------- call

CALL_PIDS=()

stop_call_processes() {
  local pid i
  for pid in "${CALL_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 20); do
    local alive=0
    for pid in "${CALL_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${CALL_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  CALL_PIDS=()
}

# Waits for a background job, at most SECONDS; kills it after that. Its exit status in WAIT_RC.
wait_bounded() {
  local pid=$1 seconds=$2 rc=0
  local deadline=$((SECONDS + seconds))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still running after $seconds s; stopped"
    kill -TERM "$pid" 2>/dev/null || true
    sleep 1
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  WAIT_RC=$rc
}

start_capture() {
  local ns=$1 name=$2 out=$3
  ip netns exec "$ns" tcpdump -i eth0 -n -s 0 -U --immediate-mode -w "$out/$name.pcap" 'udp or icmp' \
    >"$out/$name-tcpdump.log" 2>&1 </dev/null &
  CALL_PIDS+=($!)
  local deadline=$((SECONDS + 5))
  until grep -qs "listening on" "$out/$name-tcpdump.log"; do
    [ $SECONDS -lt $deadline ] || die "tcpdump in $ns did not start: $(cat "$out/$name-tcpdump.log")"
    sleep 0.1
  done
}

scenario() {
  local template=$1 target=$2 loops=$3 rest=$4
  sed -e "s#__PCAP__#$PCAP#g" -e "s/__PLAY_MS__/$PLAY_MS/g" -e "s/__LOOPS__/$loops/g" -e "s/__REST_MS__/$rest/g" \
    "$LAB_HOME/$template" >"$target"
}

cmd_call() {
  local seconds=15 hangup=customer out=${LAB_CALL_DIR:-}
  while [ $# -gt 0 ]; do
    case $1 in
      --seconds) seconds=${2:?--seconds N}; shift ;;
      --hangup) hangup=${2:?--hangup customer|vendor}; shift ;;
      --out) out=${2:?--out DIR}; shift ;;
      *) die "call: unknown argument '$1' (usage: lab.sh call [--seconds N] [--hangup customer|vendor] [--out DIR])" ;;
    esac
    shift
  done
  [[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 10 ] && [ "$seconds" -le 600 ] || die "--seconds: 10 to 600"
  case $hangup in customer|vendor) ;; *) die "--hangup: customer or vendor" ;; esac
  need sipp tcpdump python3
  [ -r "$PCAP" ] || die "no $PCAP (package sip-tester)"
  local mode
  mode=$(lab_mode)
  [ -n "$mode" ] && ns_exists "$NS_APP" && ns_exists "$NS_CUST" && ns_exists "$NS_VEND" || die "no lab with prefix $PREFIX: run 'lab.sh up' first"
  [ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/$PREFIX-call.XXXXXX")
  mkdir -p "$out"
  out=$(realpath "$out")
  local cust_ip
  cust_ip=$(customer_ip)

  local loops=$((seconds * 1000 / PLAY_MS)) rest
  rest=$((seconds * 1000 - loops * PLAY_MS))
  if [ "$hangup" = customer ]; then
    scenario lab-uac.xml "$out/customer.xml" "$loops" "$rest"
    scenario lab-uas.xml "$out/vendor.xml" "$loops" "$rest"
  else
    scenario lab-uac-wait.xml "$out/customer.xml" "$loops" "$rest"
    scenario lab-uas-bye.xml "$out/vendor.xml" "$loops" "$rest"
  fi

  trap 'stop_call_processes' EXIT
  trap 'exit 130' INT TERM
  start_capture "$NS_CUST" customer "$out"
  start_capture "$NS_VEND" vendor "$out"

  local limit=$((seconds + 20)) started
  local -a common=(-m 1 -timeout "${limit}s" -nostdin -trace_stat -trace_err -trace_msg -trace_logs)
  started=$(date +%s.%N)
  ip netns exec "$NS_VEND" sipp -sf "$out/vendor.xml" -i "$VENDOR_IP" -p "$SIP_PORT" -mp "$MEDIA_PORT" "${common[@]}" \
    -stf "$out/vendor-stat.csv" -error_file "$out/vendor-errors.log" -message_file "$out/vendor-messages.log" \
    -log_file "$out/vendor-actions.log" >"$out/vendor-sipp.log" 2>&1 </dev/null &
  local uas=$!
  CALL_PIDS+=($uas)
  local deadline=$((SECONDS + 5))
  until in_ns "$NS_VEND" ss -Hlun "sport = :$SIP_PORT" 2>/dev/null | grep -q .; do
    kill -0 "$uas" 2>/dev/null || die "vendor sipp exited: $(cat "$out/vendor-sipp.log")"
    [ $SECONDS -lt $deadline ] || die "vendor sipp not listening on $VENDOR_IP:$SIP_PORT after 5 s"
    sleep 0.1
  done
  log "calling $CALLEE from $cust_ip ($NS_CUST) through $APP_CUSTOMER_SIDE:$SIP_PORT, $seconds s, $hangup hangs up"
  ip netns exec "$NS_CUST" sipp -sf "$out/customer.xml" "$APP_CUSTOMER_SIDE:$SIP_PORT" -i "$cust_ip" -p "$SIP_PORT" \
    -mp "$MEDIA_PORT" -s "$CALLEE" "${common[@]}" -timeout_error \
    -stf "$out/customer-stat.csv" -error_file "$out/customer-errors.log" -message_file "$out/customer-messages.log" \
    -log_file "$out/customer-actions.log" >"$out/customer-sipp.log" 2>&1 </dev/null &
  local uac=$!
  CALL_PIDS+=($uac)

  local uac_rc uas_rc
  wait_bounded "$uac" $((limit + 5))
  uac_rc=$WAIT_RC
  wait_bounded "$uas" 5
  uas_rc=$WAIT_RC
  sleep 0.5 # the last packets into the captures
  stop_call_processes
  trap - EXIT INT TERM

  local rc=0
  python3 "$LAB_HOME/lab-analyze.py" --out "$out" --mode "$mode" --seconds "$seconds" --hangup "$hangup" \
    --started "$started" --customer-ip "$cust_ip" --vendor-ip "$VENDOR_IP" \
    --vos-customer-side "$APP_CUSTOMER_SIDE" --vos-vendor-side "$APP_VENDOR_SIDE" --sip-port "$SIP_PORT" \
    --media-port "$MEDIA_PORT" --customer-exit "$uac_rc" --vendor-exit "$uas_rc" \
    --max-gap "${LAB_MAX_GAP:-1.0}" || rc=$?
  log "call outputs (captures, sipp messages and logs, summary.json) in $out"
  return $rc
}

# ------------------------------------------------------------------------------ env, status, exec

cmd_env() {
  local mode
  mode=$(lab_mode)
  cat <<EOF
LAB_PREFIX=$PREFIX
LAB_MODE=${mode:-down}
LAB_NS_CUSTOMER=$NS_CUST
LAB_NS_APPLIANCE=$NS_APP
LAB_NS_VENDOR=$NS_VEND
LAB_NS_NAT=$([ "$mode" = nat ] && echo "$NS_NAT")
LAB_APPLIANCE_NETNS_PATH=/run/netns/$NS_APP
LAB_APPLIANCE_CUSTOMER_SIDE_IP=$APP_CUSTOMER_SIDE
LAB_APPLIANCE_VENDOR_SIDE_IP=$APP_VENDOR_SIDE
LAB_CUSTOMER_IP=$(customer_ip)
LAB_CUSTOMER_SOURCE_IP=$(customer_source)
LAB_VENDOR_IP=$VENDOR_IP
LAB_STATE_DIR=$STATE
EOF
}

cmd_status() {
  local ns name
  log "mode: $(lab_mode || true)"
  for ns in "$NS_CUST" "$NS_NAT" "$NS_APP" "$NS_VEND"; do
    ns_exists "$ns" || continue
    echo "== $ns"
    in_ns "$ns" ip -4 -brief addr show | grep -v '^lo' || true
    echo "   forwarding: $(in_ns "$ns" sysctl -n net.ipv4.ip_forward), processes: $(ip netns pids "$ns" | wc -l)"
  done
  for name in vos-mediad vos-controller; do
    if [ -f "$STATE/$name.pid" ] && kill -0 "$(cat "$STATE/$name.pid")" 2>/dev/null; then
      echo "$name: running (pid $(cat "$STATE/$name.pid"), log $STATE/$name.log)"
    else
      echo "$name: not started by lab.sh"
    fi
  done
}

cmd_exec() {
  [ $# -ge 2 ] || die "usage: lab.sh exec cust|app|vend|nat COMMAND..."
  local role=$1
  shift
  case $role in cust|app|vend|nat) ;; *) die "exec: role cust, app, vend or nat" ;; esac
  exec ip netns exec "$PREFIX-$role" "$@"
}

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 64; }

[ $# -ge 1 ] || usage
command=$1
shift
case $command in
  up) cmd_up "$@" ;;
  down) cmd_down ;;
  provision) cmd_provision "$@" ;;
  start-vos) cmd_start_vos "$@" ;;
  stop-vos) cmd_stop_vos ;;
  call) cmd_call "$@" ;;
  env) cmd_env ;;
  status) cmd_status ;;
  exec) cmd_exec "$@" ;;
  -h|--help|help) usage ;;
  *) log "unknown command '$command'"; usage ;;
esac
