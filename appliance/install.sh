#!/usr/bin/env bash
# Installs vos as a systemd appliance on Debian 12: release build, binaries in /usr/local/bin,
# units, sysctl profile, a `vos` system user owning /var/lib/vos. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release
BIN="$(swift build -c release --show-bin-path)"
install -m 0755 "$BIN/vosctl" "$BIN/vos-controller" "$BIN/vos-mediad" /usr/local/bin/
id vos >/dev/null 2>&1 || useradd --system --home-dir /var/lib/vos --shell /usr/sbin/nologin vos
install -d -o vos -g vos -m 0750 /var/lib/vos
install -m 0644 appliance/systemd/*.service /etc/systemd/system/
install -m 0644 appliance/sysctl/90-vos.conf /etc/sysctl.d/90-vos.conf
install -d -m 0755 /etc/vos
# Kept across reinstalls: the operator's choice of media address (see vos-mediad.service).
[ -e /etc/vos/mediad.env ] || printf '# VOS_MEDIA_IP=<this relay'"'"'s address in SDP>  (legs bind to it instead of every address)\n' >/etc/vos/mediad.env
modprobe nft_tproxy 2>/dev/null || true
modprobe nf_conntrack 2>/dev/null || true
sysctl --system >/dev/null
# The firewall opens management ports (SSH) only to SS_FIREWALL_MANAGEMENT_SUBNETS. Before it is
# first programmed, add the address this install runs from, so the installer is not locked out.
sudo -u vos /usr/local/bin/vosctl --data-dir /var/lib/vos init >/dev/null
if [ -n "${SSH_CLIENT:-}" ]; then
  admin_ip="${SSH_CLIENT%% *}"
  current=$(sudo -u vos /usr/local/bin/vosctl --data-dir /var/lib/vos param get SS_FIREWALL_MANAGEMENT_SUBNETS)
  case ",$current," in *",$admin_ip/"*) ;; *)
    sudo -u vos /usr/local/bin/vosctl --data-dir /var/lib/vos param set SS_FIREWALL_MANAGEMENT_SUBNETS "$current,$admin_ip" >/dev/null
    echo "firewall: management access allowed from $admin_ip (SS_FIREWALL_MANAGEMENT_SUBNETS)";;
  esac
fi
systemctl daemon-reload
systemctl enable --now vos-store.service vos-mediad.service vos-controller.service
echo "vos installed; operate it with: sudo -u vos vosctl --data-dir /var/lib/vos param list"
