#!/usr/bin/env bash
# Starts vos locally with embedded defaults: data in ./var, SIP on 127.0.0.1:5060.
# Installs what it needs (apt packages), builds, initialises the store, runs the daemons in the
# foreground until Ctrl-C, then stops them cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"

CONFIGURATION="${VOS_BUILD:-debug}"
DATA_DIR="${VOS_DATA_DIR:-./var}"
SIP_LISTEN="${VOS_SIP_LISTEN:-127.0.0.1:5060}"
swift build -c "$CONFIGURATION"
BIN="$(swift build -c "$CONFIGURATION" --show-bin-path)"

"$BIN/vosctl" --data-dir "$DATA_DIR" init
# A development machine is not an appliance: programming its nftables (management ports open
# only to SS_FIREWALL_MANAGEMENT_SUBNETS) could cut your own SSH. VOS_FIREWALL=1 turns it on.
"$BIN/vosctl" --data-dir "$DATA_DIR" param set SS_FIREWALL_ENABLE "${VOS_FIREWALL:-0}" >/dev/null
# Same for port capture (table ip vos_capture); VOS_RECEIVE=capture turns it on.
"$BIN/vos-mediad" --data-dir "$DATA_DIR" --receive "${VOS_RECEIVE:-sockets}" &
MEDIAD=$!
"$BIN/vos-controller" --data-dir "$DATA_DIR" --sip-listen "$SIP_LISTEN" &
CONTROLLER=$!

stop() {
  kill -TERM "$CONTROLLER" "$MEDIAD" 2>/dev/null || true
  wait "$CONTROLLER" "$MEDIAD" 2>/dev/null || true
}
trap stop INT TERM EXIT
echo "vos running (data $DATA_DIR, SIP $SIP_LISTEN). Try: $BIN/vosctl --data-dir $DATA_DIR param list. Ctrl-C stops." >&2
wait -n "$CONTROLLER" "$MEDIAD" || true
