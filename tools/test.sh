#!/usr/bin/env bash
# Runs the whole test suite: installs build and test dependencies (apt), builds everything and
# runs `swift test`. Kernel tests create and delete their own network namespaces (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --test
export PATH="/opt/swift/usr/bin:$PATH"
swift build --build-tests
swift test "$@"
