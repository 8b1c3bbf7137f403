#!/usr/bin/env bash
# Boot test: the vos package, installed on this machine's own OS booted under systemd in a
# container (systemd-nspawn), on the lab's appliance network namespace, carries a real call.
#
#   tools/lab/boot-test.sh [--deb PATH]     (root; default: build the package with tools/package.sh)
#   BOOT_TEST_KEEP_LOGS=1 keeps the logs (console, install, calls, store listings) after a pass too.
#
# The container's root is an overlay: this machine's / (read-only lower layer) under a writable
# upper layer on a tmpfs that lives for the whole test, so the host is never changed and the
# container's whole disk state (/etc, dpkg's database, /var/lib/vos, the journal) survives a
# reboot of the container, as a server's disk does. Inside it the test:
#   1. installs the .deb with apt-get (postinst: user, /var/lib/vos, sysctl, units enabled+started);
#   2. checks vos-store -> vos-mediad (ready) -> vos-controller order, the firewall table
#      inet vos_filter programmed before the controller started, `systemd-analyze verify` clean,
#      the controller's start line in its journal, both daemons running as user vos;
#   3. provisions through tools/lab/lab.sh and places a call customer -> vos -> vendor (RTP both ways);
#   4. restarts the three services, then reboots the container: every row (gateways, accounts,
#      CDRs, rates, parameters) is still there, the units come up at boot in order, another call connects;
#   5. purges the package: services gone, /var/lib/vos kept.
# Every wait is bounded; namespaces, container, mounts and temp dirs go on every exit path.
# Exit 0 on pass; otherwise the first failed check is named and the logs are kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
LAB="$REPO/tools/lab/lab.sh"
export LAB_PREFIX=${BOOT_TEST_LAB_PREFIX:-vboot}
BOOT_WAIT=${BOOT_TEST_BOOT_WAIT:-120}   # seconds for a boot to finish
STEP_WAIT=${BOOT_TEST_STEP_WAIT:-120}   # seconds for any one command inside the container
MACHINE=vos-boot-$$
STARTED=$SECONDS

PASSED=0
FAILED=0
log() { printf 'boot-test: %s\n' "$*" >&2; }
fail() { FAILED=1; log "FAIL: $*"; exit 1; }
pass() { PASSED=$((PASSED + 1)); log "ok: $*"; }

DEB=""
while [ $# -gt 0 ]; do
  case $1 in
    --deb) DEB=$(realpath "${2:?--deb PATH}"); shift 2 ;;
    *) echo "usage: tools/lab/boot-test.sh [--deb PATH]" >&2; exit 64 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || fail "needs root (network namespaces, mounts, systemd-nspawn)"

bash tools/setup.sh --test >&2
command -v systemd-nspawn >/dev/null || fail "no systemd-nspawn (package systemd-container)"
[ -x "$LAB" ] || [ -f "$LAB" ] || fail "no $LAB"

# What a boot test killed without its cleanup (SIGKILL, a lost machine) left: its mounts.
for stale in /tmp/vos-boot-test.*/owner; do
  [ -f "$stale" ] || continue
  kill -0 "$(cat "$stale")" 2>/dev/null && continue
  dir=$(dirname "$stale")
  for m in "$dir/root" "$dir/disk"; do
    if mountpoint -q "$m"; then
      log "unmounting $m (left by a boot test that was killed)"
      umount "$m" 2>/dev/null || umount -l "$m"
    fi
  done
  rm -f "$stale"
done
WORK=$(mktemp -d /tmp/vos-boot-test.XXXXXX)
echo $$ >"$WORK/owner"
LOGS="$WORK/logs"              # on the host disk: kept when the test fails
DISK="$WORK/disk"              # tmpfs: the container's upper layer and overlay work dir
ROOT="$WORK/root"              # the container's root (overlay)
mkdir -p "$LOGS" "$DISK" "$ROOT"
NSPAWN_PID=""
LEADER=""
LAB_UP=0

stop_container() {
  [ -n "$NSPAWN_PID" ] || return 0
  if kill -0 "$NSPAWN_PID" 2>/dev/null; then
    # systemd-nspawn turns SIGTERM into an orderly poweroff of the container (SIGRTMIN+3).
    kill -TERM "$NSPAWN_PID" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$NSPAWN_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if kill -0 "$NSPAWN_PID" 2>/dev/null; then
      log "container did not power off within 30 s; killing it"
      # Killing the container's PID 1 ends its whole PID namespace.
      [ -n "$LEADER" ] && kill -KILL "$LEADER" 2>/dev/null || true
      kill -KILL "$NSPAWN_PID" 2>/dev/null || true
    fi
  fi
  wait "$NSPAWN_PID" 2>/dev/null || true
  NSPAWN_PID=""
  LEADER=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  stop_container
  if [ "$LAB_UP" = 1 ]; then bash "$LAB" down >/dev/null 2>&1 || log "lab.sh down failed"; fi
  mountpoint -q "$ROOT" && { umount "$ROOT" || umount -l "$ROOT"; }
  mountpoint -q "$DISK" && { umount "$DISK" || umount -l "$DISK"; }
  # systemd-nspawn's per-machine directory on the host (left behind when /run is not a tmpfs).
  rmdir "/run/systemd/nspawn/propagate/$MACHINE" 2>/dev/null
  local took="$((SECONDS - STARTED)) s"
  [ -z "${BOOT_TEST_BUILD_SECONDS:-}" ] || took="$took (package build before it: $BOOT_TEST_BUILD_SECONDS s)"
  if [ $rc -eq 0 ] && [ -z "${BOOT_TEST_KEEP_LOGS:-}" ]; then
    rm -rf "$WORK"
    log "PASS in $took"
  elif [ $rc -eq 0 ]; then
    rm -rf "$DISK" "$ROOT"
    log "PASS in $took; logs kept in $LOGS (BOOT_TEST_KEEP_LOGS)"
  else
    FAILED=1
    rm -rf "$DISK" "$ROOT"
    log "FAILED after $took; logs kept in $LOGS"
  fi
  # The checks, last, in the plain form test runners close with.
  echo "boot-test: $PASSED passed, $FAILED failed"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------------------ the package
if [ -z "$DEB" ]; then
  log "building the package (tools/package.sh)"
  t=$SECONDS
  DEB=$(bash tools/package.sh 2>"$LOGS/package.log" | tail -n 1) || { tail -n 30 "$LOGS/package.log" >&2; fail "tools/package.sh failed"; }
  BOOT_TEST_BUILD_SECONDS=$((SECONDS - t))
  log "package built in $BOOT_TEST_BUILD_SECONDS s: $DEB"
fi
[ -f "$DEB" ] || fail "no package at '$DEB'"
STARTED=$SECONDS   # the boot test proper, without the build

# ------------------------------------------------------------------------------ the lab
bash "$LAB" down >/dev/null 2>&1 || true
LAB_UP=1
bash "$LAB" up 2>"$LOGS/lab-up.log" || { cat "$LOGS/lab-up.log" >&2; fail "lab.sh up"; }
eval "$(bash "$LAB" env)"
NETNS_PATH=$LAB_APPLIANCE_NETNS_PATH
[ -e "$NETNS_PATH" ] || fail "lab.sh env: no $NETNS_PATH"
pass "lab up: $LAB_NS_CUSTOMER -> $LAB_NS_APPLIANCE ($LAB_APPLIANCE_CUSTOMER_SIDE_IP | $LAB_APPLIANCE_VENDOR_SIDE_IP) -> $LAB_NS_VENDOR"

# ------------------------------------------------------------------------------ the container's disk
mount -t tmpfs -o mode=0755 vos-boot-test "$DISK"
mkdir -p "$DISK/upper" "$DISK/work"
mount -t overlay vos-boot-test -o "lowerdir=/,upperdir=$DISK/upper,workdir=$DISK/work" "$ROOT"
# A machine of its own: its own machine-id (own journal), none of this host's optional services.
systemd-id128 new >"$ROOT/etc/machine-id"
echo vos-appliance >"$ROOT/etc/hostname"
for wants in "$ROOT"/etc/systemd/system/multi-user.target.wants "$ROOT"/etc/systemd/system/timers.target.wants; do
  for unit in "$wants"/*; do
    [ -e "$unit" ] || [ -L "$unit" ] || continue
    name=$(basename "$unit")
    case $name in systemd-*|dbus*|*.target|console-getty.service|getty*) continue ;; esac
    ln -sf /dev/null "$ROOT/etc/systemd/system/$name"
  done
done
# An image built for containers may carry a policy-rc.d that forbids starting services from
# maintainer scripts (exit 101); a server has none, and the test installs as on a server.
rm -f "$ROOT/usr/sbin/policy-rc.d"
# Leftovers of a vos installed on the host itself must not leak into the appliance under test.
rm -rf "$ROOT/var/lib/vos"
mkdir -p "$ROOT/var/tmp/boot-test"
cp "$DEB" "$ROOT/var/tmp/boot-test/"
DEB_IN=/var/tmp/boot-test/$(basename "$DEB")
# The checkout is not inside the container wherever it lives (a booted container mounts its own
# /tmp, say): the appliance directory install.sh runs from is copied in.
mkdir -p "$ROOT/var/tmp/boot-test/repo"
cp -a "$REPO/appliance" "$ROOT/var/tmp/boot-test/repo/"
REPO_IN=/var/tmp/boot-test/repo

# Runs a command inside the container as root (all its namespaces, its root directory).
in_ct() {
  timeout -k 5 "$STEP_WAIT" nsenter --target "$LEADER" --all --root --wd \
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}
vosctl_ct() { in_ct runuser -u vos -- /usr/bin/vosctl --data-dir /var/lib/vos "$@"; }
# The command lab.sh provision runs (a single path: it takes VOSCTL...).
cat >"$WORK/vosctl-in-container" <<EOF
#!/bin/sh
exec timeout -k 5 $STEP_WAIT nsenter --target "\$(cat $WORK/leader)" --all --root --wd \\
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 runuser -u vos -- /usr/bin/vosctl --data-dir /var/lib/vos "\$@"
EOF
chmod +x "$WORK/vosctl-in-container"

BOOTS=0
boot() {
  BOOTS=$((BOOTS + 1))
  local console="$LOGS/console-$BOOTS.log" t=$SECONDS
  # The appliance's network namespace is the container's alone: give it CAP_NET_ADMIN (nspawn
  # keeps it only with a private network it creates itself), as root has it on a server.
  # /proc/sys/net writable, as root has it on a server: vos-mediad's ExecStartPre sets the
  # appliance's net.ipv4.ip_forward (per network namespace: the host's is untouched). nspawn keeps
  # /proc/sys read-only with --network-namespace-path; this variable (systemd's ENVIRONMENT.md)
  # opens only the network part.
  SYSTEMD_NSPAWN_API_VFS_WRITABLE=network systemd-nspawn --quiet --directory="$ROOT" --machine="$MACHINE" --boot \
    --register=no --keep-unit --link-journal=no --console=read-only \
    --network-namespace-path="$NETNS_PATH" --capability=CAP_NET_ADMIN \
    systemd.firstboot=off >"$console" 2>&1 </dev/null &
  NSPAWN_PID=$!
  local deadline=$((SECONDS + 20))
  until LEADER=$(pgrep -P "$NSPAWN_PID" -x systemd); do
    kill -0 "$NSPAWN_PID" 2>/dev/null || { tail -n 20 "$console" >&2; fail "systemd-nspawn exited during boot $BOOTS"; }
    [ $SECONDS -lt $deadline ] || fail "no systemd in the container 20 s after systemd-nspawn started"
    sleep 0.1
  done
  echo "$LEADER" >"$WORK/leader"
  # systemctl needs PID 1's private socket, which appears shortly after it starts.
  until in_ct test -S /run/systemd/private 2>/dev/null; do
    kill -0 "$NSPAWN_PID" 2>/dev/null || { tail -n 20 "$console" >&2; fail "systemd-nspawn exited during boot $BOOTS"; }
    [ $SECONDS -lt $deadline ] || fail "no /run/systemd/private in the container 20 s after systemd-nspawn started"
    sleep 0.1
  done
  local state
  state=$(STEP_WAIT=$BOOT_WAIT in_ct systemctl is-system-running --wait 2>&1) || true
  case $state in
    running) ;;
    degraded) log "boot $BOOTS: system degraded: $(in_ct systemctl list-units --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')" ;;
    *) tail -n 30 "$console" >&2; fail "boot $BOOTS did not finish within $BOOT_WAIT s (state: $state)" ;;
  esac
  pass "boot $BOOTS: systemd up in $((SECONDS - t)) s (container pid $LEADER, netns $LAB_NS_APPLIANCE)"
}

UNITS=(vos-store.service vos-mediad.service vos-controller.service)
prop() { in_ct systemctl show -p "$2" --value "$1"; }

# The three units active, in order; the firewall programmed before the controller started.
check_services() {
  local when=$1 u state
  for u in "${UNITS[@]}"; do
    state=$(prop "$u" ActiveState)
    if [ "$state" != active ]; then
      in_ct systemctl status --no-pager --lines=0 "$u" >&2 || true
      in_ct journalctl -b --no-pager -n 30 -u "$u" >&2 || true
      fail "$when: $u is $state, not active"
    fi
  done
  local store_up mediad_up ctl_exec ctl_up status
  store_up=$(prop vos-store.service ActiveEnterTimestampMonotonic)
  mediad_up=$(prop vos-mediad.service ActiveEnterTimestampMonotonic)
  ctl_exec=$(prop vos-controller.service ExecMainStartTimestampMonotonic)
  ctl_up=$(prop vos-controller.service ActiveEnterTimestampMonotonic)
  [ "$store_up" -gt 0 ] && [ "$mediad_up" -gt 0 ] && [ "$ctl_exec" -gt 0 ] || fail "$when: missing start timestamps"
  # mediad is Type=notify: active = READY=1 received. The controller's process may only start
  # after that (After=vos-mediad.service), and vos-store (oneshot) finishes before both.
  [ "$store_up" -le "$mediad_up" ] || fail "$when: vos-mediad became active before vos-store finished"
  [ "$mediad_up" -lt "$ctl_exec" ] || fail "$when: vos-controller started (${ctl_exec} us) before vos-mediad was ready (${mediad_up} us)"
  # The STATUS= that came with mediad's READY=1 says what the firewall was at that moment.
  status=$(prop vos-mediad.service StatusText)
  case $status in
    *"firewall programmed"*) ;;
    *) fail "$when: vos-mediad became ready without the firewall (status: '$status')" ;;
  esac
  in_ct nft list table inet vos_filter >/dev/null 2>&1 || fail "$when: no nftables table inet vos_filter in the appliance"
  pass "$when: vos-store done -> +$(( (mediad_up - store_up) / 1000 )) ms vos-mediad ready ('$status') -> +$(( (ctl_exec - mediad_up) / 1000 )) ms vos-controller started -> +$(( (ctl_up - ctl_exec) / 1000 )) ms active; inet vos_filter present"
  local pid user
  for u in vos-mediad.service vos-controller.service; do
    pid=$(prop "$u" MainPID)
    user=$(in_ct ps -o user= -p "$pid" | tr -d ' ')
    [ "$user" = vos ] || fail "$when: $u (pid $pid) runs as '$user', not vos"
  done
  pass "$when: vos-mediad and vos-controller run as user vos"
}

# Store rows as vosctl --json shows them, one file per listing.
snapshot() {
  local dir="$LOGS/rows-$1"
  mkdir -p "$dir"
  vosctl_ct gateway list --json >"$dir/gateways.json"
  vosctl_ct account list --json >"$dir/accounts.json"
  vosctl_ct cdr list --json >"$dir/cdrs.json"
  vosctl_ct rate list "lab-retail" --json >"$dir/rates.json"
  vosctl_ct param list --json >"$dir/params.json"
}
same_rows() { # BEFORE AFTER [LISTING...]
  local a="$LOGS/rows-$1" b="$LOGS/rows-$2" f
  local -a listings=("${@:3}")
  [ ${#listings[@]} -gt 0 ] || listings=(gateways accounts cdrs rates params)
  for f in "${listings[@]}"; do
    cmp -s "$a/$f.json" "$b/$f.json" || { diff "$a/$f.json" "$b/$f.json" | head -n 20 >&2; fail "$f changed between '$1' and '$2'"; }
  done
  pass "every row as before ($2): $(rows_summary "$b")"
}
rows_summary() {
  python3 - "$1" <<'EOF'
import json, os, sys
def count(name):
    v = json.load(open(os.path.join(sys.argv[1], name + ".json")))
    return sum(len(x) for x in v.values()) if isinstance(v, dict) else len(v)
print(", ".join(f"{name} {count(name)}" for name in ("gateways", "accounts", "cdrs", "rates")))
EOF
}

call() {
  local name=$1
  if ! bash "$LAB" call --seconds 10 --out "$LOGS/$name" >"$LOGS/$name.log" 2>&1; then
    tail -n 40 "$LOGS/$name.log" >&2
    in_ct journalctl -b --no-pager -u vos-controller -u vos-mediad -n 40 >&2 || true
    fail "$name: the call from the customer did not connect with media both ways (outputs in $LOGS/$name)"
  fi
  pass "$name: customer -> vos -> vendor: $(grep -m1 '^call (' "$LOGS/$name.log")"
  grep 'RTP in' "$LOGS/$name.log" | sed 's/^ */      /' >&2 || true
}

# ------------------------------------------------------------------------------ 1. install
boot
t=$SECONDS
# VOS_ADMIN_IP stands in for an SSH session's address: postinst must open management to it
# before vos-mediad programs the firewall.
if ! in_ct env DEBIAN_FRONTEND=noninteractive VOS_ADMIN_IP=203.0.113.77 \
    apt-get install -y --no-install-recommends "$DEB_IN" >"$LOGS/install.log" 2>&1; then
  cat "$LOGS/install.log" >&2
  fail "apt-get install $DEB_IN inside the container"
fi
pass "installed $(basename "$DEB") with apt-get in $((SECONDS - t)) s"
grep -q 'management access allowed from 203.0.113.77' "$LOGS/install.log" || fail "postinst did not report the management address"
vosctl_ct param get SS_FIREWALL_MANAGEMENT_SUBNETS | grep -q '203\.0\.113\.77' || fail "SS_FIREWALL_MANAGEMENT_SUBNETS lacks the installer's address"
pass "postinst opened management access to the installer's address before the firewall came up"
[ "$(in_ct stat -c '%U:%G %a' /var/lib/vos)" = "vos:vos 750" ] || fail "/var/lib/vos is $(in_ct stat -c '%U:%G %a' /var/lib/vos), not vos:vos 750"
for u in "${UNITS[@]}"; do
  [ "$(in_ct systemctl is-enabled "$u")" = enabled ] || fail "$u is not enabled"
done
pass "/var/lib/vos vos:vos 0750; the three units enabled"
check_services "after install"

out=$(in_ct systemd-analyze verify "${UNITS[@]/#//lib/systemd/system/}" 2>&1) || fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify is not clean: $out"
pass "systemd-analyze verify: clean on the three units"
in_ct journalctl -b --no-pager -u vos-controller -o cat | grep -q 'vos-controller started' \
  || fail "journalctl -u vos-controller has no 'vos-controller started' line"
pass "journal: $(in_ct journalctl -b --no-pager -u vos-controller -o cat | grep -m1 'vos-controller started')"

# ------------------------------------------------------------------------------ 2. a call
export LAB_RATES_FILE="$ROOT/var/tmp/boot-test/lab-rates.csv" LAB_RATES_PATH=/var/tmp/boot-test/lab-rates.csv
bash "$LAB" provision "$WORK/vosctl-in-container" >"$LOGS/provision.log" 2>&1 || { cat "$LOGS/provision.log" >&2; fail "lab.sh provision"; }
pass "provisioned through lab.sh (vosctl inside the container, as user vos)"
sleep 1.5   # the daemons pick up a store change within a second
call call-1
# The NOC's view of the installed appliance: both daemons' /metrics on their loopback defaults.
scrape() { in_ct python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"; }
answered=$(scrape http://127.0.0.1:9464/metrics | awk '/^vos_calls_answered_total[{ ]/ { n += $NF } END { print n + 0 }') \
  || fail "cannot scrape vos-controller's metrics at 127.0.0.1:9464"
[ "$answered" -ge 1 ] || fail "vos-controller's metrics show $answered answered calls after a connected call"
scrape http://127.0.0.1:9465/metrics | grep -q '^vos_media_sessions' || fail "vos-mediad's metrics at 127.0.0.1:9465 lack vos_media_sessions"
pass "metrics: vos-controller (127.0.0.1:9464) counts $answered answered call(s); vos-mediad (127.0.0.1:9465) serves vos_media_sessions"
version=$(in_ct /usr/bin/vos-controller --version)
[ "$(in_ct /usr/bin/vos-mediad --version)" = "$version" ] && vosctl_ct version | grep -q "^vos $version\$" \
  && vosctl_ct version | grep -q "^package 0\." || fail "the binaries' versions disagree or vosctl version lacks the package"
pass "versions: $(vosctl_ct version | tr '\n' ' ')"
snapshot before
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$LOGS/rows-before/cdrs.json")" -ge 1 ] \
  || fail "no CDR after the call"

# ------------------------------------------------------------------------------ 3. restart, reboot
in_ct systemctl restart "${UNITS[@]}" || fail "systemctl restart ${UNITS[*]}"
check_services "after systemctl restart"
# The restart was a graceful stop: the signal named, the drain done, journald priorities parsed
# (the drain's line is a notice, which `-p notice` only shows if its <5> prefix was read).
in_ct journalctl -b --no-pager -u vos-controller -o cat | grep -q 'vos-controller stopping on SIGTERM' \
  || fail "the controller's journal does not name the SIGTERM of the restart"
in_ct journalctl -b --no-pager -u vos-controller -p notice -o cat | grep -q 'drained: no calls left' \
  || fail "the controller's drain line is not in the journal at notice priority"
pass "restart: vos-controller stopped on SIGTERM after draining (journald priority notice)"
snapshot restarted
same_rows before restarted

log "rebooting the container"
stop_container
boot
check_services "after reboot"
in_ct journalctl -b -1 --no-pager -u vos-controller -o cat | grep -q 'vos-controller stopping' \
  || fail "the controller did not stop cleanly at shutdown (no 'vos-controller stopping' in the previous boot)"
pass "previous boot: the controller stopped cleanly"
snapshot rebooted
same_rows before rebooted
call call-2

# ------------------------------------------------------------------------------ 4. purge
snapshot before-purge
in_ct env DEBIAN_FRONTEND=noninteractive apt-get purge -y vos >"$LOGS/purge.log" 2>&1 || { cat "$LOGS/purge.log" >&2; fail "apt-get purge vos"; }
in_ct test -f /var/lib/vos/data.mdb || fail "purge removed the store /var/lib/vos/data.mdb"
grep -q 'removed. /var/lib/vos .* kept' "$LOGS/purge.log" && grep -q 'purged. /var/lib/vos .* kept' "$LOGS/purge.log" \
  || fail "removal and purge did not say that /var/lib/vos is kept"
for u in "${UNITS[@]}"; do
  state=$(prop "$u" ActiveState)
  [ "$state" = inactive ] || fail "after purge $u is $state"
done
in_ct test ! -e /usr/bin/vos-controller || fail "purge left /usr/bin/vos-controller"
in_ct nft list table inet vos_filter >/dev/null 2>&1 && fail "purge left the firewall table inet vos_filter"
pass "purge: services stopped, files and firewall tables gone, /var/lib/vos kept ($(in_ct du -sh /var/lib/vos | cut -f1))"

# ------------------------------------------------------------------------------ 5. appliance/install.sh
# Over what the pre-package installer left (binaries in /usr/local/bin, unit and sysctl copies in
# /etc) and the kept store, from an "SSH session": the leftovers go, the services run the
# packaged binaries, management access includes the session's address, every row is back.
in_ct sh -c 'cp /bin/true /usr/local/bin/vos-controller
  printf "[Unit]\nDescription=old vos\n[Service]\nExecStart=/usr/local/bin/vos-controller\n" >/etc/systemd/system/vos-controller.service
  cp "$1/appliance/sysctl/90-vos.conf" /etc/sysctl.d/90-vos.conf' sh "$REPO_IN" || fail "cannot fake an old installation"
if ! in_ct env SSH_CLIENT="203.0.113.99 52000 22" bash "$REPO_IN/appliance/install.sh" --deb "$DEB_IN" >"$LOGS/install-sh.log" 2>&1; then
  cat "$LOGS/install-sh.log" >&2
  fail "appliance/install.sh --deb $DEB_IN"
fi
for f in /usr/local/bin/vos-controller /etc/systemd/system/vos-controller.service /etc/sysctl.d/90-vos.conf; do
  in_ct test ! -e "$f" || fail "appliance/install.sh left the old $f"
done
vosctl_ct param get SS_FIREWALL_MANAGEMENT_SUBNETS | grep -q '203\.0\.113\.99' \
  || fail "appliance/install.sh did not open management access to the SSH client 203.0.113.99"
[ "$(prop vos-controller.service ExecMainStartTimestampMonotonic)" -gt 0 ] || fail "controller not started by install.sh"
check_services "after appliance/install.sh"
snapshot reinstalled
same_rows before-purge reinstalled gateways accounts cdrs rates
pass "appliance/install.sh: old /usr/local/bin and /etc copies removed, management open to the SSH client, store kept through purge"

# Run again (an upgrade or reinstall): postinst restarts the running services.
old_pid=$(prop vos-controller.service MainPID)
in_ct bash "$REPO_IN/appliance/install.sh" --deb "$DEB_IN" >"$LOGS/install-sh-again.log" 2>&1 || { cat "$LOGS/install-sh-again.log" >&2; fail "appliance/install.sh, second run"; }
[ "$(prop vos-controller.service MainPID)" != "$old_pid" ] || fail "reinstall did not restart vos-controller"
check_services "after reinstalling"
