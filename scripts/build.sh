#!/usr/bin/env bash
# Installs what the build needs (idempotent), then configures and builds escd into build/
# (executables in build/bin). Usage (as root on a fresh machine): scripts/build.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build_dir=${ESCD_BUILD_DIR:-build}
# Configure only once (or when the cache is missing): re-running cmake on a configured tree is slow
# with libtorch's config scripts and buys nothing; the build re-runs it when CMakeLists change.
if [[ ! -f "$build_dir/build.ninja" || $# -gt 0 ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build "$build_dir" --parallel "$(nproc)"
