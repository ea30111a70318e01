#!/usr/bin/env bash
# Replaces (or appends) one benchmark's section of bench/RESULTS.md: the lines between
# "<!-- bench/NAME.sh -->" and "<!-- end bench/NAME.sh -->", which bench/run.sh keeps when it
# regenerates the rest of the file. The new section is read from stdin; the file is replaced
# atomically.
# Usage: bench/results_section.sh NAME RESULTS_FILE < section.md
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: results_section.sh NAME RESULTS_FILE < section.md" >&2; exit 2; }
NAME="$1"
RESULTS="$2"
BEGIN="<!-- bench/$NAME.sh -->"
END="<!-- end bench/$NAME.sh -->"
SECTION="$(cat)"
escape() { sed 's/[\/.*]/\\&/g' <<<"$1"; }
{
  if [[ -f "$RESULTS" ]]; then sed "/^$(escape "$BEGIN")\$/,/^$(escape "$END")\$/d" "$RESULTS"; fi
  echo "$BEGIN"
  echo "$SECTION"
  echo "$END"
} > "$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
