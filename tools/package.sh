#!/usr/bin/env bash
# Builds the vos Debian package vos_<version>_amd64.deb from this work tree:
#   release build (its own scratch path, .build-release) with the Swift runtime linked statically,
#   so the package needs no Swift toolchain; binaries, systemd units, sysctl and modules-load
#   profiles, nft files, docs and man pages (help2man, from each binary's --help); Depends: from
#   dpkg-shlibdeps plus the tools the appliance runs (nftables, conntrack, sysctl, useradd).
#
# Version: 0.<commits on HEAD>.0+g<short commit>, with ".dirty" appended when the sources that go
# into the package differ from HEAD (a valid Debian version; it grows with every commit).
#
# Usage: tools/package.sh [--out DIR] [--no-build]
#   --out DIR    where the .deb goes (default: .build-release/deb, git-ignored)
#   --no-build   package the binaries of the last release build as they are
# Progress goes to stderr; the last line of output (stdout) is the path of the .deb.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SCRATCH="$ROOT/.build-release"
OUT="$SCRATCH/deb"
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$(realpath -m "$2"); shift 2;;
    --no-build) BUILD=0; shift;;
    *) echo "package: unknown argument $1 (usage: tools/package.sh [--out DIR] [--no-build])" >&2; exit 64;;
  esac
done
say() { echo "package: $*" >&2; }

bash tools/setup.sh --package >&2
export PATH="/opt/swift/usr/bin:$PATH"

# --- version -------------------------------------------------------------------------------
PACKAGED_PATHS=(Package.swift Package.resolved Sources appliance nft docs README.md)
if git rev-parse --git-dir >/dev/null 2>&1; then
  VERSION="0.$(git rev-list --count HEAD).0+g$(git rev-parse --short=7 HEAD)"
  if [ -n "$(git status --porcelain --untracked-files=normal -- "${PACKAGED_PATHS[@]}")" ]; then
    VERSION="$VERSION.dirty"
  fi
else
  VERSION="${VOS_VERSION:-0.0.0}"
fi
say "version $VERSION"
# Dates in the man pages and file times in the .deb from the commit, not the clock.
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
  export SOURCE_DATE_EPOCH
fi

# --- release build -------------------------------------------------------------------------
SWIFT_FLAGS=(-c release --scratch-path "$SCRATCH" --static-swift-stdlib --disable-local-rpath)
if [ "$BUILD" = 1 ]; then
  say "swift build ${SWIFT_FLAGS[*]} (several minutes on 2 cores the first time)"
  start=$SECONDS
  swift build "${SWIFT_FLAGS[@]}" >&2
  say "release build done in $((SECONDS - start)) s"
fi
BIN=$(swift build "${SWIFT_FLAGS[@]}" --show-bin-path)
BINARIES=(vosctl vos-controller vos-mediad)
for b in "${BINARIES[@]}"; do
  [ -x "$BIN/$b" ] || { say "missing $BIN/$b (run without --no-build)"; exit 1; }
done

# --- staged tree -----------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vos-package.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PKG="$WORK/vos"
install -d "$PKG/DEBIAN" "$PKG/usr/bin" "$PKG/lib/systemd/system" "$PKG/usr/lib/sysctl.d" \
  "$PKG/usr/lib/modules-load.d" "$PKG/usr/share/vos/nft" "$PKG/usr/share/doc/vos/docs" \
  "$PKG/usr/share/vos/prometheus" "$PKG/usr/share/vos/grafana" \
  "$PKG/usr/share/man/man8"
for b in "${BINARIES[@]}"; do
  install -m 0755 "$BIN/$b" "$PKG/usr/bin/$b"
  # DWARF out (-14 MB each), symbol table kept so that crash backtraces still name functions.
  strip --strip-debug --remove-section=.comment "$PKG/usr/bin/$b"
done
install -m 0644 appliance/systemd/*.service "$PKG/lib/systemd/system/"
install -m 0644 appliance/sysctl/90-vos.conf "$PKG/usr/lib/sysctl.d/90-vos.conf"
install -m 0644 appliance/modules-load/vos.conf "$PKG/usr/lib/modules-load.d/vos.conf"
install -m 0644 nft/*.nft "$PKG/usr/share/vos/nft/"
# For the NOC's Prometheus and Grafana (docs/OBSERVABILITY.md): scrape config, rules, dashboard.
install -m 0644 appliance/prometheus/* "$PKG/usr/share/vos/prometheus/"
install -m 0644 appliance/grafana/*.json "$PKG/usr/share/vos/grafana/"
# README links to docs/*.md relatively: keep that layout so the links work where installed.
install -m 0644 README.md "$PKG/usr/share/doc/vos/README.md"
install -m 0644 docs/*.md "$PKG/usr/share/doc/vos/docs/"
# A native package's changelog: one entry naming the commit it was built from.
{
  echo "vos ($VERSION) unstable; urgency=medium"
  echo
  if git rev-parse --git-dir >/dev/null 2>&1; then
    echo "  * Built from commit $(git rev-parse --short=12 HEAD)$([ "${VERSION%.dirty}" != "$VERSION" ] && echo ' with local changes'):"
    echo "    $(git log -1 --format=%s | cut -c1-66)"
  else
    echo "  * Built from a source tree without git history."
  fi
  echo
  echo " -- $(sed -n 's/^Maintainer: //p' appliance/debian/control.in)  $(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")"
} | gzip -9n >"$PKG/usr/share/doc/vos/changelog.gz"
chmod 0644 "$PKG/usr/share/doc/vos/changelog.gz"

# The Swift runtime must be inside the binaries, and nothing may come from the build tree.
for b in "${BINARIES[@]}"; do
  needed=$(ldd "$PKG/usr/bin/$b")
  if grep -Eq 'libswift|libFoundation|libdispatch|libBlocksRuntime|not found' <<<"$needed"; then
    say "$b still needs the Swift runtime or a missing library:"; echo "$needed" >&2; exit 1
  fi
  if readelf -d "$PKG/usr/bin/$b" | grep -Eq 'RPATH|RUNPATH'; then
    say "$b carries an RPATH/RUNPATH"; exit 1
  fi
done
say "ldd: no libswift*.so, no RPATH"

# --- man pages (help2man over each binary's --help) -----------------------------------------
# ArgumentParser prints OVERVIEW:/USAGE:/OPTIONS: headings; help2man understands Usage:/Options:.
# A wrapper with the binary's own name rewrites them, so the NAME and SYNOPSIS come out right.
WRAP="$WORK/wrap"; mkdir -p "$WRAP"
for b in "${BINARIES[@]}"; do
  cat >"$WRAP/$b" <<EOF
#!/bin/sh
"$PKG/usr/bin/$b" --help | sed -e 's/^OVERVIEW: //' -e 's/^USAGE: /Usage: /' \\
  -e 's/^OPTIONS:\$/Options:/' -e 's/^SUBCOMMANDS:\$/Subcommands:/' -e 's/^ARGUMENTS:\$/Arguments:/' \\
  -e "/^  See '.* help <subcommand>' for detailed help.\$/d"
EOF
  chmod +x "$WRAP/$b"
done

roff_block() { # preformatted text, made safe for roff
  echo '.nf'
  sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/'
  echo '.fi'
}
# Every vosctl command, depth first, with its full help: one place to read all of them.
vosctl_commands() {
  local path=("$@") help subs
  help=$("$PKG/usr/bin/vosctl" "${path[@]}" --help)
  if [ ${#path[@]} -gt 0 ]; then
    echo ".SS \"vosctl ${path[*]}\""
    sed -e "/^  See '.* help .*' for detailed help.\$/d" <<<"$help" | roff_block
  fi
  subs=$(awk '/^SUBCOMMANDS:$/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}' <<<"$help")
  for s in $subs; do vosctl_commands "${path[@]}" "$s"; done
}

declare -A SUMMARY=(
  [vosctl]="operate a vos softswitch: gateways, accounts, rates, parameters, CDRs, firewall"
  [vos-controller]="vos SIP B2BUA: routing, limits, billing, CDRs"
  [vos-mediad]="vos media relay and nftables firewall programmer"
)
declare -A UNIT=([vosctl]=vos-store.service [vos-controller]=vos-controller.service [vos-mediad]=vos-mediad.service)
for b in "${BINARIES[@]}"; do
  inc="$WORK/$b.h2m"
  {
    echo "[FILES]"
    echo ".TP"; echo ".I /var/lib/vos"
    echo "The store (LMDB data.mdb, lock.mdb) shared by vosctl, vos-controller and vos-mediad, and their"
    echo "control sockets. Owned by the vos user; kept when the package is removed or purged."
    echo ".TP"; echo ".I /lib/systemd/system/${UNIT[$b]}"
    echo "The systemd unit that runs it on the appliance (vos-store, then vos-mediad, then vos-controller)."
    echo ".TP"; echo ".I /usr/share/doc/vos/"
    echo "README.md, docs/INSTALL.md, docs/ARCHITECTURE.md and the other documents."
    echo "[ENVIRONMENT]"
    echo ".TP"; echo ".B VOS_DATA_DIR"
    echo "Data directory when --data-dir is not given (else ./var; the appliance passes /var/lib/vos)."
    if [ "$b" = vosctl ]; then
      echo "[COMMANDS]"
      echo "Every command with its options, as printed by"
      echo '.BR "vosctl COMMAND --help" .'
      vosctl_commands
    fi
    echo "[SEE ALSO]"
    others=()
    for o in "${BINARIES[@]}"; do [ "$o" = "$b" ] || others+=(".BR $o (8),"); done
    printf '%s\n' "${others[@]}"
    echo ".BR systemctl (1),"
    echo ".BR nft (8),"
    echo ".I /usr/share/doc/vos/README.md"
  } >"$inc"
  help2man --no-info --no-discard-stderr --section=8 --manual="vos" \
    --source="vos $VERSION" --version-string="$VERSION" \
    --name="${SUMMARY[$b]}" --include="$inc" --output="$WORK/$b.8" "$WRAP/$b" >&2
  # help2man names the page after the wrapper's path only through its basename: same name.
  sed -i "s#$WRAP/##g" "$WORK/$b.8"
  if ! out=$(LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$WORK/$b.8" 2>&1 >/dev/null) || [ -n "$out" ]; then
    say "man -l $b.8 warns:"; echo "$out" >&2; exit 1
  fi
  gzip -9n <"$WORK/$b.8" >"$PKG/usr/share/man/man8/$b.8.gz"
  chmod 0644 "$PKG/usr/share/man/man8/$b.8.gz"
done
say "man pages: ${BINARIES[*]/%/(8)} (man -l: no warnings)"

# --- control files ---------------------------------------------------------------------------
# Shared libraries: what the binaries need, as dpkg-shlibdeps resolves them to packages and
# minimum versions (run from a directory with a debian/control, as it expects).
mkdir -p "$WORK/shlibs/debian"
printf 'Source: vos\n\nPackage: vos\nArchitecture: amd64\n' >"$WORK/shlibs/debian/control"
shlibs=$(cd "$WORK/shlibs" && dpkg-shlibdeps -O -xvos "${BINARIES[@]/#/$PKG/usr/bin/}" 2>"$WORK/shlibdeps.err") || {
  cat "$WORK/shlibdeps.err" >&2; exit 1; }
shlibs=${shlibs#shlibs:Depends=}
for lib in liblmdb0 libmnl0 libnftnl11 libnetfilter-conntrack3; do
  grep -q "$lib" <<<"$shlibs" || { say "dpkg-shlibdeps found no $lib in: $shlibs"; exit 1; }
done
# Programs the maintainer scripts and the units call: nft/conntrack (firewall audit, operators),
# sysctl (procps), useradd (passwd), deb-systemd-helper (init-system-helpers).
DEPENDS="$shlibs, nftables, iptables, conntrack, procps, passwd, init-system-helpers (>= 1.54~)"
installed_kb=$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@DEPENDS@|$DEPENDS|" -e "s|@INSTALLED_SIZE@|$installed_kb|" \
  appliance/debian/control.in >"$PKG/DEBIAN/control"
for s in postinst prerm postrm; do install -m 0755 "appliance/debian/$s" "$PKG/DEBIAN/$s"; done
(cd "$PKG" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
  >"$PKG/DEBIAN/md5sums"
chmod 0644 "$PKG/DEBIAN/control" "$PKG/DEBIAN/md5sums"
say "Depends: $DEPENDS"

# --- build the .deb --------------------------------------------------------------------------
mkdir -p "$OUT"
DEB="$OUT/vos_${VERSION}_amd64.deb"
rm -f "$OUT"/vos_*_amd64.deb
# xz (every dpkg reads it) at level 2: 14 s and 61 MB here, against 60 s and 54 MB at level 6.
dpkg-deb --root-owner-group -Zxz -z2 --build "$PKG" "$DEB" >&2
say "$(du -h "$DEB" | cut -f1) $(dpkg-deb -f "$DEB" Package Version | tr '\n' ' ')"
echo "$DEB"
