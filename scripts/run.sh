#!/usr/bin/env bash
# Installs what is needed (idempotent), builds, and runs escd.
# Until the daemon lands, this shows esc-train's commands.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
if [[ -x build/bin/escd ]]; then
  exec build/bin/escd "$@"
fi
exec build/bin/esc-train --help
