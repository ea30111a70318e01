#!/usr/bin/env bash
# Installs what is needed (idempotent), builds, and runs the whole test suite with CTest.
# Tests that need ESC-50 read $ESC50_DIR (default ../shared/esc50) and skip when it is absent.
# Then the same suite under ASan+UBSan in build-asan, with a short run of every fuzzer
# (scripts/test-sanitized.sh; docs/RELIABILITY.md). ESCD_SANITIZED=0 skips that second part.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir "${ESCD_BUILD_DIR:-build}" --output-on-failure --parallel "$(nproc)" --timeout 600
if [[ "${ESCD_SANITIZED:-1}" != 0 ]]; then
  scripts/test-sanitized.sh
fi
