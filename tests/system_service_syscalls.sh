#!/usr/bin/env bash
# Prints, one per line, the system calls a unit's SystemCallFilter= lines allow (allow lists, then
# ~deny lists removed, as systemd combines them), groups expanded as systemd-analyze lists them.
# Usage: system_service_syscalls.sh SANDBOX_CONF
set -euo pipefail
conf=$1
expand() {
  systemd-analyze syscall-filter "$1" | while read -r entry _; do
    case "$entry" in
      "" | "#"* | "$1") ;;
      @*) expand "$entry" ;;
      *) echo "$entry" ;;
    esac
  done
}
expand_all() { for item in "$@"; do if [[ $item == @* ]]; then expand "$item"; else echo "$item"; fi; done; }
allow=() deny=()
while IFS= read -r value; do
  if [[ $value == "~"* ]]; then read -ra items <<<"${value#\~}"; deny+=("${items[@]}")
  else read -ra items <<<"$value"; allow+=("${items[@]}"); fi
done < <(sed -n 's/^SystemCallFilter=//p' "$conf")
[[ ${#allow[@]} -gt 0 ]] || { echo "$conf: no SystemCallFilter= allow list" >&2; exit 1; }
comm -23 <(expand_all "${allow[@]}" | sort -u) <(expand_all "${deny[@]}" | sort -u)
