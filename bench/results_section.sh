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
# A begin marker without its end would make the deletion below run to the end of the file.
if [[ -f "$RESULTS" ]] && grep -qxF "$BEGIN" "$RESULTS" && ! grep -qxF "$END" "$RESULTS"; then
  echo "results_section.sh: $RESULTS has \"$BEGIN\" but not \"$END\"; fix the file by hand" >&2
  exit 1
fi
escape() { sed 's/[\/.*]/\\&/g' <<<"$1"; }
{
  if [[ -f "$RESULTS" ]]; then sed "/^$(escape "$BEGIN")\$/,/^$(escape "$END")\$/d" "$RESULTS"; fi
  echo "$BEGIN"
  echo "$SECTION"
  echo "$END"
} > "$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
