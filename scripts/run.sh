#!/usr/bin/env bash
# Installs what is needed (idempotent), builds, and runs escd with the shipped Mamba checkpoint on
# the default microphone. Extra arguments go to escd (e.g. --list-devices, --device USB, --input f.wav).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec build/bin/escd --model mamba "$@"
