#!/usr/bin/env bash
# Installs vos on this Debian 12 server from the work tree, as a package: builds
# vos_<version>_amd64.deb (tools/package.sh) and installs it with apt-get, which pulls in its
# dependencies. The package's postinst creates the vos user and /var/lib/vos, applies the sysctl
# profile, enables and starts vos-store -> vos-mediad -> vos-controller (see docs/INSTALL.md).
# Idempotent: run it again to upgrade to the work tree's version. Run as root.
#
#   appliance/install.sh [--deb PATH]     --deb: install this package instead of building one
#
# Firewall: vos-mediad programs an nftables firewall that opens management ports (SSH) only to
# SS_FIREWALL_MANAGEMENT_SUBNETS. Installing over SSH, the address you connect from is added
# before the firewall first comes up (VOS_ADMIN_IP=ADDRESS overrides the address found).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "install: run as root (sudo appliance/install.sh)" >&2; exit 1; }
DEB=""
while [ $# -gt 0 ]; do
  case $1 in
    --deb) DEB=$(realpath "${2:?--deb PATH}"); shift 2 ;;
    *) echo "usage: appliance/install.sh [--deb PATH]" >&2; exit 64 ;;
  esac
done
UNITS=(vos-store.service vos-mediad.service vos-controller.service)
systemd_running() { [ -d /run/systemd/system ]; }

# --- the address this install is run from (lock-out protection) ----------------------------
is_ip() { [[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ || $1 =~ ^[0-9a-fA-F]*:[0-9a-fA-F:]*:[0-9a-fA-F:.]*$ ]]; }
admin_ip=${VOS_ADMIN_IP:-}
if [ -z "$admin_ip" ]; then
  for candidate in "${SSH_CLIENT:-}" "${SSH_CONNECTION:-}"; do
    candidate=${candidate%% *}
    if [ -n "$candidate" ]; then admin_ip=$candidate; break; fi
  done
fi
# Under sudo SSH_CLIENT is usually gone; the terminal's login record still names the host.
if [ -z "$admin_ip" ] && [ -t 0 ]; then
  admin_ip=$(who -m 2>/dev/null | sed -n 's/.*(\([^)]*\)).*/\1/p' | head -n 1)
fi
if [ -n "$admin_ip" ] && ! is_ip "$admin_ip"; then
  echo "install: '$admin_ip' is not an IP address: management access stays as configured" >&2
  admin_ip=""
fi
if [ -n "$admin_ip" ]; then
  echo "install: management access (SSH) will be allowed from $admin_ip"
else
  echo "install: no SSH session found: management access stays as configured (default: loopback only)"
fi

# --- build the package ---------------------------------------------------------------------
if [ -z "$DEB" ]; then
  DEB=$(bash tools/package.sh | tail -n 1)
fi
[ -f "$DEB" ] || { echo "install: no package at '$DEB'" >&2; exit 1; }

# --- what the pre-package installer left behind ---------------------------------------------
# It copied the units to /etc/systemd/system (they would shadow the packaged ones in
# /lib/systemd/system and run /usr/local/bin), the binaries to /usr/local/bin and the sysctl
# profile to /etc/sysctl.d (shadowing /usr/lib/sysctl.d/90-vos.conf).
old_units=()
for u in "${UNITS[@]}"; do
  if [ -f "/etc/systemd/system/$u" ] && grep -q /usr/local/bin "/etc/systemd/system/$u"; then old_units+=("$u"); fi
done
if [ ${#old_units[@]} -gt 0 ]; then
  echo "install: replacing the old installation's units: ${old_units[*]}"
  if systemd_running; then systemctl disable --now "${old_units[@]}" || true; fi
  for u in "${old_units[@]}"; do rm -f "/etc/systemd/system/$u"; done
  if systemd_running; then systemctl daemon-reload; fi
fi
for b in vosctl vos-controller vos-mediad; do
  if [ -e "/usr/local/bin/$b" ]; then rm -f "/usr/local/bin/$b"; echo "install: removed /usr/local/bin/$b (vos now lives in /usr/bin)"; fi
done
if [ -f /etc/sysctl.d/90-vos.conf ] && head -n 1 /etc/sysctl.d/90-vos.conf | grep -q '^# vos appliance kernel profile'; then
  rm -f /etc/sysctl.d/90-vos.conf
  echo "install: removed /etc/sysctl.d/90-vos.conf (the package ships /usr/lib/sysctl.d/90-vos.conf)"
fi
if [ -f /etc/vos/mediad.env ] && grep -Eq '^[[:space:]]*VOS_MEDIA_IP=' /etc/vos/mediad.env; then
  echo "install: NOTE: /etc/vos/mediad.env sets VOS_MEDIA_IP, which the unit no longer reads;" \
    "set it in the store instead: vosctl --data-dir /var/lib/vos param set SS_MEDIA_IP ADDRESS"
fi

# --- install --------------------------------------------------------------------------------
# dpkg hands this environment to the postinst, which adds VOS_ADMIN_IP to the management subnets.
VOS_ADMIN_IP="$admin_ip" DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends --reinstall "$DEB"

# --- check ----------------------------------------------------------------------------------
if [ -n "$admin_ip" ]; then
  subnets=$(runuser -u vos -- /usr/bin/vosctl --data-dir /var/lib/vos param get SS_FIREWALL_MANAGEMENT_SUBNETS)
  case ",$subnets," in
    *",$admin_ip/"*|*",$admin_ip,"*) ;;
    *) echo "install: WARNING: $admin_ip is not in SS_FIREWALL_MANAGEMENT_SUBNETS ($subnets): SSH from it may be blocked" >&2 ;;
  esac
fi
if systemd_running; then
  failed=0
  for u in "${UNITS[@]}"; do
    state=$(systemctl is-active "$u" || true)
    echo "install: $u $state"
    [ "$state" = active ] || failed=1
  done
  if [ $failed -ne 0 ]; then
    echo "install: a service is not active; see: systemctl status ${UNITS[*]}; journalctl -u vos-mediad -u vos-controller" >&2
    exit 1
  fi
fi
echo "vos $(dpkg-query -W -f='${Version}' vos) installed; operate it with: vosctl --data-dir /var/lib/vos param list (man vosctl)"
