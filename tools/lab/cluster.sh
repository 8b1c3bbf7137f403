#!/usr/bin/env bash
# vos cluster lab (docs/CLUSTER.md): two vos nodes sharing one PostgreSQL, in network namespaces.
#
#   customer net 192.0.2.0/24:   cust .10   node1 .1   node2 .2   db .5
#   vendor net 198.51.100.0/24:  vend .20   node1 .1   node2 .2
#
# Each node runs vos-mediad and vos-controller exactly as appliance/systemd starts them, with
# VOS_CLUSTER_DSN set (as /etc/default/vos sets it on an appliance) and its own data directory.
# PostgreSQL is a throwaway server (initdb + pg_ctl in the state directory, no system service).
#
#   cluster.sh up                       namespaces, bridges, addresses
#   cluster.sh db-start | db-stop       start (first time: initdb) / stop PostgreSQL immediately
#   cluster.sh provision                cluster init and a prepaid customer, rates, gateways (via node1)
#   cluster.sh start-node N [BIN_DIR]   vos-mediad + vos-controller on node N (1 or 2)
#   cluster.sh stop-node N [--kill]     SIGTERM (or SIGKILL: a crash) both daemons of node N
#   cluster.sh vosctl N ARGS...         vosctl on node N against the cluster
#   cluster.sh vendor-start             sipp UAS answering every call at the vendor
#   cluster.sh calls N COUNT SECONDS    COUNT concurrent calls of SECONDS from the customer to node N
#                                       (foreground; prints sipp's final statistics line)
#   cluster.sh psql SQL                 one statement on the cluster database
#   cluster.sh pids N                   node N's controller and mediad pids (for CPU accounting)
#   cluster.sh metrics N                node N's controller /metrics (127.0.0.1:9464 in its namespace)
#   With CLUSTER_LAB_EMBEDDED=1, provision/start-node/vosctl use single-node mode instead (no
#   DSN, data directory e<N>): the baseline of tools/bench/cluster/run.sh.
#   cluster.sh env | down
#
# Environment: CLUSTER_LAB_PREFIX (default vcl), CLUSTER_LAB_STATE (default /run/vos-lab/PREFIX),
# VOS_BIN (default .build/debug), CLUSTER_LAB_WAIT (seconds, default 20).
set -euo pipefail

LAB_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LAB_HOME/../.." && pwd)
PREFIX=${CLUSTER_LAB_PREFIX:-vcl}
STATE=${CLUSTER_LAB_STATE:-/run/vos-lab/$PREFIX}
BIN=${VOS_BIN:-$REPO/.build/debug}
WAIT=${CLUSTER_LAB_WAIT:-20}

NS_CORE=$PREFIX-core
NS_DB=$PREFIX-db
NS_CUST=$PREFIX-cust
NS_VEND=$PREFIX-vend
node_ns() { echo "$PREFIX-n$1"; }

DB_IP=192.0.2.5
CUSTOMER_IP=192.0.2.10
VENDOR_IP=198.51.100.20
node_customer_ip() { echo "192.0.2.$1"; }
node_vendor_ip() { echo "198.51.100.$1"; }
DB_PORT=5432
DSN="postgres://vos@$DB_IP:$DB_PORT/vos"
CALLEE=442079460000
ACCOUNT=lab-prepaid

log() { printf 'cluster-lab: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
ns_exists() { [ -e "/run/netns/$1" ]; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"

pg_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  die "no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)"
}

# ---------------------------------------------------------------------------------------- up

add_ns() { ip netns add "$1"; in_ns "$1" ip link set lo up; }

# attach NS DEV ADDR BRIDGE: a veth from NS into the core namespace's bridge.
attach() {
  local core_dev="${4}-$(echo "$1" | sed "s/^$PREFIX-//")"
  ip link add "$2" netns "$1" type veth peer name "$core_dev" netns "$NS_CORE"
  in_ns "$1" ip addr add "$3" dev "$2"
  in_ns "$1" ip link set "$2" up
  in_ns "$NS_CORE" ip link set "$core_dev" master "$4" up
}

cmd_up() {
  cmd_down >/dev/null 2>&1 || true
  trap 'rc=$?; if [ $rc -ne 0 ]; then log "up failed; removing what was created"; cmd_down >/dev/null 2>&1 || true; fi' EXIT
  mkdir -p "$STATE"
  add_ns "$NS_CORE"
  in_ns "$NS_CORE" ip link add bc type bridge
  in_ns "$NS_CORE" ip link add bv type bridge
  in_ns "$NS_CORE" ip link set bc up
  in_ns "$NS_CORE" ip link set bv up
  local ns
  for ns in "$NS_DB" "$NS_CUST" "$NS_VEND" "$(node_ns 1)" "$(node_ns 2)"; do add_ns "$ns"; done
  attach "$NS_DB" eth0 "$DB_IP/24" bc
  attach "$NS_CUST" eth0 "$CUSTOMER_IP/24" bc
  attach "$NS_VEND" eth0 "$VENDOR_IP/24" bv
  local n
  for n in 1 2; do
    attach "$(node_ns $n)" cust0 "$(node_customer_ip $n)/24" bc
    attach "$(node_ns $n)" vend0 "$(node_vendor_ip $n)/24" bv
  done
  trap - EXIT
  log "up: customer $CUSTOMER_IP, vendor $VENDOR_IP, db $DB_IP, nodes $(node_customer_ip 1)/$(node_vendor_ip 1) and $(node_customer_ip 2)/$(node_vendor_ip 2)"
}

# ---------------------------------------------------------------------------------------- down

stop_pidfile() {
  local file=$1 signal=${2:-TERM} pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -"$signal" "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

cmd_down() {
  local n ns pid
  for n in 1 2; do cmd_stop_node "$n" --kill >/dev/null 2>&1 || true; done
  stop_pidfile "$STATE/vendor.pid" KILL
  [ -d "$STATE/pg/data" ] && runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$STATE/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  for ns in "$NS_CUST" "$NS_VEND" "$NS_DB" "$(node_ns 1)" "$(node_ns 2)" "$NS_CORE"; do
    if ns_exists "$ns"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
  rm -rf "$STATE"
  log "down"
}

# ---------------------------------------------------------------------------------------- db

cmd_db_start() {
  local bin dir=$STATE/pg
  bin=$(pg_bin)
  if [ ! -d "$dir/data" ]; then
    mkdir -p "$dir"
    chown postgres:postgres "$dir"
    runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U vos -E UTF8 --no-sync --no-instructions >"$dir/initdb.log" 2>&1 \
      || die "initdb failed: $(cat "$dir/initdb.log")"
    echo "host all all 192.0.2.0/24 trust" >>"$dir/data/pg_hba.conf"
  fi
  in_ns "$NS_DB" runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$WAIT" \
    -o "-k $dir -p $DB_PORT -c listen_addresses=$DB_IP -c fsync=off -c max_connections=200" start >/dev/null \
    || die "PostgreSQL did not start: $(tail -5 "$dir/server.log")"
  if [ ! -f "$dir/created" ]; then
    in_ns "$NS_DB" runuser -u postgres -- "$bin/psql" -h "$DB_IP" -p "$DB_PORT" -U vos -d postgres -qc "CREATE DATABASE vos" >/dev/null
    touch "$dir/created"
  fi
  log "PostgreSQL on $DB_IP:$DB_PORT ($DSN)"
}

cmd_db_stop() {
  runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$STATE/pg/data" -m immediate -w stop >/dev/null
  log "PostgreSQL stopped (immediate)"
}

cmd_psql() {
  in_ns "$NS_DB" runuser -u postgres -- "$(pg_bin)/psql" -h "$DB_IP" -p "$DB_PORT" -U vos -d vos -qAtX -v ON_ERROR_STOP=1 -c "$1"
}

# ---------------------------------------------------------------------------------------- nodes

EMBEDDED=${CLUSTER_LAB_EMBEDDED:-0}
node_data() { if [ "$EMBEDDED" = 1 ]; then echo "$STATE/e$1"; else echo "$STATE/n$1"; fi; }
node_dsn() { if [ "$EMBEDDED" = 1 ]; then echo ""; else echo "$DSN"; fi; }

cmd_vosctl() {
  local n=$1; shift
  in_ns "$(node_ns "$n")" env VOS_CLUSTER_DSN="$(node_dsn)" "$BIN/vosctl" --data-dir "$(node_data "$n")" "$@"
}

cmd_provision() {
  local rates=$STATE/rates.csv
  printf 'prefix,price_per_minute,first_interval,next_interval,connection_fee,description\n44,0.6000,6,6,0,lab vendor\n' >"$rates"
  v() { log "+ vosctl (node1) $*"; cmd_vosctl 1 "$@"; }
  if [ "$EMBEDDED" = 1 ]; then
    mkdir -p "$(node_data 1)"
    v init >/dev/null
  else
    v cluster init
    v param set SS_CLUSTER_LEASE_SLICE "${CLUSTER_LAB_SLICE:-0.5000}"
  fi
  v rate import lab-retail "$rates"
  v account add "$ACCOUNT" --type prepaid --balance "${CLUSTER_LAB_BALANCE:-2.0000}" --limit-money "${CLUSTER_LAB_LIMIT:-1.0000}" \
    --rate-table lab-retail --balance-metric
  v gateway add mapping lab-customer-gw --ip "$CUSTOMER_IP" --account "$ACCOUNT"
  v gateway add routing lab-vendor --address "$VENDOR_IP:5060" --prefix 44 --options-check off
}

# The unit's ExecStart line with its binary taken from BIN and the data directory of node N.
unit_command() {
  local unit=$REPO/appliance/systemd/$1.service n=$2 line
  line=$(awk -F= '/^ExecStart=/{sub(/^ExecStart=/, ""); print; exit}' "$unit")
  line=${line//\/usr\/bin\//$BIN/}
  echo "${line//\/var\/lib\/vos/$(node_data "$n")}"
}

cmd_start_node() {
  local n=$1
  [ -n "${2:-}" ] && BIN=$2
  local ns data
  ns=$(node_ns "$n")
  data=$(node_data "$n")
  mkdir -p "$data"
  [ -f "$data/data.mdb" ] || "$BIN/vosctl" --data-dir "$data" init >/dev/null
  local mediad controller
  mediad=$(unit_command vos-mediad "$n")
  controller="$(unit_command vos-controller "$n")"
  [ "$EMBEDDED" = 1 ] || controller="$controller --node-id n$n"
  # ip netns exec and env exec, so $! is the daemon itself (a kill -9 must reach it, not a shell).
  # shellcheck disable=SC2086
  ip netns exec "$ns" env VOS_CLUSTER_DSN="$(node_dsn)" $mediad >"$data/mediad.log" 2>&1 &
  echo $! >"$STATE/n$n-mediad.pid"
  local i
  for i in $(seq 1 $((WAIT * 10))); do [ -S "$data/mediad.sock" ] && break; sleep 0.1; done
  # shellcheck disable=SC2086
  ip netns exec "$ns" env VOS_CLUSTER_DSN="$(node_dsn)" $controller >"$data/controller.log" 2>&1 &
  echo $! >"$STATE/n$n-controller.pid"
  for i in $(seq 1 $((WAIT * 10))); do
    grep -q "vos-controller started" "$data/controller.log" && { wait_for_trusted_customer "$n"; log "node $n up"; return 0; }
    kill -0 "$(cat "$STATE/n$n-controller.pid")" 2>/dev/null || break
    sleep 0.1
  done
  die "node $n controller did not start: $(tail -5 "$data/controller.log")"
}

# A new node's vos-mediad programs the firewall from its store before the controller has copied
# the configuration in, and reprograms it when the copy lands (about a second later). Until then
# the customer is not a trusted peer, and a burst of calls would trip the INVITE flood ban.
wait_for_trusted_customer() {
  local n=$1 i
  [ "$EMBEDDED" = 1 ] && return 0
  for i in $(seq 1 $((WAIT * 10))); do
    in_ns "$(node_ns "$n")" nft list set inet vos_filter trusted_v4 2>/dev/null | grep -q "$CUSTOMER_IP" && return 0
    sleep 0.1
  done
  log "node $n: the firewall does not trust the customer $CUSTOMER_IP yet (SS_FIREWALL_ENABLE 0?)"
}

cmd_stop_node() {
  local n=$1 signal=TERM
  [ "${2:-}" = "--kill" ] && signal=KILL
  stop_pidfile "$STATE/n$n-controller.pid" "$signal"
  stop_pidfile "$STATE/n$n-mediad.pid" "$signal"
}

# ---------------------------------------------------------------------------------------- calls

cmd_vendor_start() {
  ip netns exec "$NS_VEND" sipp -sn uas -i "$VENDOR_IP" -p 5060 -nostdin -trace_err -error_file "$STATE/vendor-errors.log" \
    >"$STATE/vendor.log" 2>&1 &
  echo $! >"$STATE/vendor.pid"
}

cmd_calls() {
  local n=$1 count=$2 seconds=$3 out=$STATE/calls-n$1-$$
  mkdir -p "$out"
  (cd "$out" && in_ns "$NS_CUST" sipp "$(node_customer_ip "$n"):5060" -sn uac -s "$CALLEE" -i "$CUSTOMER_IP" -p $((5070 + n)) \
    -m "$count" -l "$count" -r "$count" -d $((seconds * 1000)) -nostdin -timeout $((seconds + 60))s \
    -trace_stat -stf stat.csv -fd 1 >sipp.log 2>&1) || true
  # Successful and failed calls, from sipp's last statistics row.
  tail -1 "$out/stat.csv" | awk -F';' '{print "successful=" $16 " failed=" $18}' 2>/dev/null || true
}

cmd_metrics() { in_ns "$(node_ns "$1")" curl -sS --max-time 5 http://127.0.0.1:9464/metrics; }

cmd_pids() { cat "$STATE/n$1-controller.pid" "$STATE/n$1-mediad.pid" 2>/dev/null; }

cmd_env() { printf 'STATE=%s\nDSN=%s\nBIN=%s\n' "$STATE" "$DSN" "$BIN"; }

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  db-start) cmd_db_start ;;
  db-stop) cmd_db_stop ;;
  psql) shift; cmd_psql "$@" ;;
  provision) cmd_provision ;;
  start-node) shift; cmd_start_node "$@" ;;
  stop-node) shift; cmd_stop_node "$@" ;;
  vosctl) shift; cmd_vosctl "$@" ;;
  vendor-start) cmd_vendor_start ;;
  calls) shift; cmd_calls "$@" ;;
  env) cmd_env ;;
  pids) shift; cmd_pids "$@" ;;
  metrics) shift; cmd_metrics "$@" ;;
  *) sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 64 ;;
esac
