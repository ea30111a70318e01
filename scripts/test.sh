#!/usr/bin/env bash
# Installs what is needed (idempotent), builds, and runs the whole test suite with CTest.
# Tests that need ESC-50 read $ESC50_DIR (default ../shared/esc50) and skip when it is absent.
# Then every fuzzer for a short run in build-asan (clang, ASan+UBSan; scripts/test-sanitized.sh fuzz,
# docs/RELIABILITY.md); ESCD_FUZZ=0 skips it. ESCD_SANITIZED=1 also runs the whole suite under
# ASan+UBSan there (scripts/test-sanitized.sh address).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir "${ESCD_BUILD_DIR:-build}" --output-on-failure --parallel "$(nproc)" --timeout 600
if [[ "${ESCD_SANITIZED:-0}" == 1 ]]; then
  scripts/test-sanitized.sh address
elif [[ "${ESCD_FUZZ:-1}" != 0 ]]; then
  scripts/test-sanitized.sh fuzz
fi
