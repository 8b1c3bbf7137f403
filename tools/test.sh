#!/usr/bin/env bash
# Runs the whole test suite: installs build and test dependencies (apt), builds everything and
# runs `swift test`. Kernel tests create and delete their own network namespaces (needs root).
# Then, without arguments and where systemd-nspawn is present, the boot test
# (tools/lab/boot-test.sh): the .deb built by tools/package.sh, installed on this OS booted in a
# container, carries a call through the lab, across a restart and a reboot.
# Arguments go to `swift test` (e.g. --filter X) and skip the boot test; VOS_SKIP_BOOT_TEST=1
# skips it too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --test
export PATH="/opt/swift/usr/bin:$PATH"
swift build --build-tests
swift test "$@"

if [ $# -gt 0 ] || [ -n "${VOS_SKIP_BOOT_TEST:-}" ]; then
  echo "boot test: skipped (swift test arguments given, or VOS_SKIP_BOOT_TEST set)"
elif ! command -v systemd-nspawn >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
  echo "boot test: skipped (needs root and systemd-nspawn from systemd-container)"
else
  start=$SECONDS
  echo "boot test: building the package (tools/package.sh, release build) ..."
  deb=$(bash tools/package.sh | tail -n 1)
  echo "boot test: package built in $((SECONDS - start)) s: $deb"
  # Its last line counts its checks; it prints how long it took, the package build included.
  BOOT_TEST_BUILD_SECONDS=$((SECONDS - start)) bash tools/lab/boot-test.sh --deb "$deb"
fi
