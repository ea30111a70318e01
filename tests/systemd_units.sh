#!/usr/bin/env bash
# The installed units (from install_tree.sh's DESTDIR): `systemd-analyze verify` has nothing to say,
# and the offline security exposure of escd.service, an escd@ instance, esc-mqtt.service,
# esc-web.service and esc-proxy.service is at most 2.0.
# systemd is not PID 1 here, and verify wants ExecStart= to exist: the units are checked as
# installed, with the prefix rebased into the DESTDIR so that their binaries are the installed ones.
# Usage: systemd_units.sh BUILD_DIR DESTDIR WORK_DIR [MAX_EXPOSURE]
set -euo pipefail
build=$1 dest=$2 work=$3 max=${4:-2.0}
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
prefix=${prefix%/}
units="$dest$prefix/lib/systemd/system"
rm -rf "$work" && mkdir -p "$work"
for unit in escd.service escd@.service esc-mqtt.service esc-web.service esc-proxy.service; do
  [[ -f "$units/$unit" ]] || { echo "FAIL: $units/$unit is not installed (run install_tree.sh first)"; exit 1; }
  sed "s|$prefix/bin/|$dest$prefix/bin/|g" "$units/$unit" >"$work/$unit"
done
cp "$work/escd@.service" "$work/escd@mamba.service"

status=0
for unit in escd.service escd@mamba.service esc-mqtt.service esc-web.service esc-proxy.service; do
  # verify exits 0 on unknown keys and bad values (it only warns): any output is a failure.
  out=$(systemd-analyze verify --man=no "$work/$unit" 2>&1) || true
  if [[ -n "$out" ]]; then
    echo "FAIL: systemd-analyze verify $unit:"; echo "$out"; status=1
  else
    echo "ok: systemd-analyze verify $unit"
  fi
  report=$(systemd-analyze security --offline=true "$work/$unit" 2>&1) || true
  exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$report")
  if [[ -z "$exposure" ]]; then
    echo "FAIL: no exposure level for $unit:"; echo "$report"; status=1
  elif awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e > m) }'; then
    echo "FAIL: $unit exposure $exposure > $max:"; grep '✗' <<<"$report"; status=1
  else
    echo "ok: $unit exposure $exposure (at most $max); not set:"; grep '✗' <<<"$report" | sed 's/  */ /g'
  fi
done
# The sysusers.d file, applied by systemd-sysusers to a copy of this machine's user database from
# where it is installed: an escd system user with no login, in the audio group.
mkdir -p "$work/root/etc" "$work/root$prefix/lib/sysusers.d"
cp /etc/passwd /etc/group "$work/root/etc/"
cp "$dest$prefix/lib/sysusers.d/escd.conf" "$work/root$prefix/lib/sysusers.d/"
systemd-sysusers --root="$work/root" >"$work/sysusers.log" 2>&1 || { echo "FAIL: systemd-sysusers:"; cat "$work/sysusers.log"; status=1; }
if grep -q '^escd:.*:/usr/sbin/nologin$' "$work/root/etc/passwd" && grep -Eq '^audio:.*[:,]escd(,|$)' "$work/root/etc/group"; then
  echo "ok: systemd-sysusers creates escd (nologin) in group audio"
else
  echo "FAIL: systemd-sysusers did not create escd in group audio:"; cat "$work/sysusers.log"; status=1
fi
exit $status
