#!/usr/bin/env bash
# `cmake --install` into a DESTDIR: exactly the files the README promises, units with this build's
# paths, and an edited /etc/escd/escd.toml survives a reinstall (the shipped one goes next to it).
# Usage: install_tree.sh BUILD_DIR SOURCE_DIR DESTDIR
set -euo pipefail
build=$1 src=$2 dest=$3
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
prefix=${prefix%/}
rm -rf "$dest" && mkdir -p "$dest"
DESTDIR="$dest" cmake --install "$build" >"$dest.log"

# The expected list, derived from the source tree: every checkpoint (*.ckpt, *.pt) and *.json in
# models/, by the same glob rule the install uses; not its logs or reports.
expected=$(mktemp)
{
  for f in bin/escd bin/esc-sub bin/esc-train bin/esc-mqtt bin/esc-web bin/esc-proxy share/escd/config/mamba.toml \
           share/escd/config/liquid_s4.toml share/doc/escd/README.md lib/systemd/system/escd.service \
           lib/systemd/system/escd@.service lib/systemd/system/esc-mqtt.service lib/systemd/system/esc-web.service \
           lib/systemd/system/esc-proxy.service lib/sysusers.d/escd.conf; do
    echo "${prefix#/}/$f"
  done
  (cd "$src/models" && ls -1 | grep -E '\.(ckpt|pt|json)$' | sed "s|^|${prefix#/}/share/escd/models/|")
  for f in escd.toml esc-mqtt.toml mamba.env liquid_s4.env vjepa2.env; do echo "etc/escd/$f"; done
} | sort >"$expected"
actual=$(mktemp)
(cd "$dest" && find . -type f -o -type l | sed 's|^\./||' | sort) >"$actual"
if ! diff -u "$expected" "$actual"; then
  echo "FAIL: installed files differ from the expected list (- expected, + installed)"
  exit 1
fi
echo "installed $(wc -l <"$actual") files, as expected"
grep -Eq '\.(ckpt|pt)$' "$actual" || { echo "FAIL: no checkpoint installed"; exit 1; }

for b in escd esc-sub esc-train esc-mqtt; do
  [[ -x "$dest$prefix/bin/$b" ]] || { echo "FAIL: $prefix/bin/$b is not executable"; exit 1; }
done
"$dest$prefix/bin/escd" --help >/dev/null || { echo "FAIL: the installed escd does not run"; exit 1; }
"$dest$prefix/bin/esc-mqtt" --help >/dev/null || { echo "FAIL: the installed esc-mqtt does not run"; exit 1; }
cmp "$src/config/esc-mqtt.toml" "$dest/etc/escd/esc-mqtt.toml" || { echo "FAIL: etc/escd/esc-mqtt.toml differs from config/esc-mqtt.toml"; exit 1; }
grep -q "^ExecStart=$prefix/bin/esc-mqtt --config /etc/escd/esc-mqtt.toml$" "$dest$prefix/lib/systemd/system/esc-mqtt.service" || {
  echo "FAIL: esc-mqtt.service does not start $prefix/bin/esc-mqtt with /etc/escd/esc-mqtt.toml"; exit 1; }
# esc-mqtt.toml may hold the broker's password: not world-readable (escd.toml is).
[[ $(stat -c %a "$dest/etc/escd/esc-mqtt.toml") == 640 ]] || {
  echo "FAIL: etc/escd/esc-mqtt.toml has mode $(stat -c %a "$dest/etc/escd/esc-mqtt.toml"), not 640"; exit 1; }
[[ $(stat -c %a "$dest/etc/escd/escd.toml") == 644 ]] || { echo "FAIL: etc/escd/escd.toml is not 644"; exit 1; }
cmp "$src/config/escd.toml" "$dest/etc/escd/escd.toml" || { echo "FAIL: etc/escd/escd.toml differs from config/escd.toml"; exit 1; }
grep -q "^ExecStart=$prefix/bin/escd --config /etc/escd/escd.toml$" "$dest$prefix/lib/systemd/system/escd.service" || {
  echo "FAIL: escd.service does not start $prefix/bin/escd with /etc/escd/escd.toml"; exit 1; }
if grep -n '@[A-Z_]*@' "$dest$prefix"/lib/systemd/system/*.service; then
  echo "FAIL: unsubstituted @VARIABLES@ in the units"; exit 1
fi
# Every escd@ instance's port differs from the others and from escd.service's.
ports=$( (grep -ho 'tcp://[^ "]*' "$dest/etc/escd/escd.toml" | head -1; grep -h '^ESCD_PUB=' "$dest"/etc/escd/*.env | cut -d= -f2) | sort)
[[ $(uniq -d <<<"$ports") == "" ]] || { echo "FAIL: endpoints shared between instances: $ports"; exit 1; }

# An edited config survives reinstalling; the shipped one lands next to it.
echo "# edited by the administrator" >>"$dest/etc/escd/escd.toml"
DESTDIR="$dest" cmake --install "$build" >"$dest.log"
grep -q "edited by the administrator" "$dest/etc/escd/escd.toml" || { echo "FAIL: reinstall overwrote the edited escd.toml"; exit 1; }
cmp "$src/config/escd.toml" "$dest/etc/escd/escd.toml.dist" || { echo "FAIL: no escd.toml.dist with the shipped config"; exit 1; }
grep -q "Keeping edited" "$dest.log" || { echo "FAIL: the reinstall did not say it kept the edited file"; exit 1; }
rm "$dest/etc/escd/escd.toml.dist" && cp "$src/config/escd.toml" "$dest/etc/escd/escd.toml"  # as installed, for the unit tests
echo "ok: edited escd.toml kept on reinstall, shipped version in escd.toml.dist"
