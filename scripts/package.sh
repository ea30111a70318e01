#!/usr/bin/env bash
# Builds the Debian package: escd configured for prefix /usr (its models directory is compiled in)
# in build-deb/, without tests and benchmarks, then `cpack -G DEB`. Prints the .deb's path.
# Install it with: apt-get install ./build-deb/escd_<version>_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
ESCD_BUILD_DIR=${ESCD_BUILD_DIR:-build-deb} scripts/build.sh \
  -DCMAKE_INSTALL_PREFIX=/usr -DESCD_BUILD_TESTS=OFF -DESCD_BUILD_BENCH=OFF
cd "${ESCD_BUILD_DIR:-build-deb}"
cpack -G DEB
ls -1 "$PWD"/escd_*.deb
