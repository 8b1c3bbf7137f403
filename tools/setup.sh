#!/usr/bin/env bash
# Installs everything vos needs to build, run and test on Debian 12.
# Idempotent: packages already present are skipped by apt; safe to run repeatedly.
set -euo pipefail

BUILD_PACKAGES=(
  pkg-config liblmdb-dev lmdb-utils libbcg729-dev libspandsp-dev
  libmnl-dev libnftnl-dev libnetfilter-conntrack-dev libnfnetlink-dev
)
# iptables: its xtables extensions let `nft list` show the firewall's scanner (xt string) rules.
RUNTIME_PACKAGES=(nftables iptables conntrack iproute2 procps)
# postgresql: cluster-mode tests start their own throwaway servers with its initdb and pg_ctl.
TEST_PACKAGES=(sip-tester tcpdump sipvicious baresip-core python3 systemd-container prometheus sngrep postgresql)
# tools/package.sh: dpkg-shlibdeps (Depends:), help2man (man pages), man-db (checks them).
PACKAGE_PACKAGES=(dpkg-dev help2man man-db)

want=("${BUILD_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}")
# --test also covers the boot test, which builds the package.
if [ "${1:-}" = "--test" ]; then want+=("${TEST_PACKAGES[@]}" "${PACKAGE_PACKAGES[@]}"); fi
if [ "${1:-}" = "--package" ]; then want+=("${PACKAGE_PACKAGES[@]}"); fi
if [ "${1:-}" = "--bench" ]; then want+=("${TEST_PACKAGES[@]}" rtpengine-daemon kamailio postgresql); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    [ -x "$d/swift" ] && export PATH="$d:$PATH"
  done
fi
command -v swift >/dev/null 2>&1 || { echo "setup: no Swift toolchain found (install Swift 6.x and put it on PATH)" >&2; exit 1; }
