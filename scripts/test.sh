#!/usr/bin/env bash
# Installs what is needed (idempotent), builds, and runs the whole test suite with CTest.
# Tests that need ESC-50 read $ESC50_DIR (default ../shared/esc50) and skip when it is absent.
# Then, in build-asan (clang, ASan+UBSan; docs/RELIABILITY.md "Sanitizers"), the suite's memory-
# relevant tests and every fuzzer for a short run (scripts/test-sanitized.sh ci). ESCD_SANITIZED=0
# skips that; ESCD_SANITIZED=all runs the whole suite there instead (scripts/test-sanitized.sh address).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir "${ESCD_BUILD_DIR:-build}" --output-on-failure --parallel "$(nproc)" --timeout 600
case "${ESCD_SANITIZED:-ci}" in
  0) ;;
  all) scripts/test-sanitized.sh address ;;
  *) scripts/test-sanitized.sh ci ;;
esac
