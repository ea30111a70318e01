#!/usr/bin/env bash
# `cpack -G DEB`: the package holds what `cmake --install` installs, marks /etc/escd as conffiles,
# has maintainer scripts, and depends on the runtime libraries dpkg-shlibdeps found (and OpenBLAS).
# When run as root with apt available, apt-get resolves it (--simulate: nothing is installed).
# Usage: deb_package.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
prefix=${prefix%/}
rm -rf "$work" && mkdir -p "$work"
start=$(date +%s.%N)
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1) || {
  echo "FAIL: cpack:"; cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/*.deb)
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1)) in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./||' | grep -v '/$' | sort >"$work/files"
missing=0
for f in bin/escd bin/esc-sub bin/esc-train bin/esc-mqtt bin/esc-web bin/esc-proxy lib/systemd/system/escd.service \
         lib/systemd/system/escd@.service lib/systemd/system/esc-mqtt.service lib/systemd/system/esc-web.service \
         lib/systemd/system/esc-proxy.service lib/sysusers.d/escd.conf; do
  grep -qx "${prefix#/}/$f" "$work/files" || { echo "FAIL: ${prefix#/}/$f is not in the package"; missing=1; }
done
for f in $(cd "$src/models" && ls -1 | grep -E '\.(ckpt|pt|json)$'); do
  grep -qx "${prefix#/}/share/escd/models/$f" "$work/files" || { echo "FAIL: model file $f is not in the package"; missing=1; }
done
for f in escd.toml esc-mqtt.toml mamba.env liquid_s4.env vjepa2.env; do
  grep -qx "etc/escd/$f" "$work/files" || { echo "FAIL: etc/escd/$f is not in the package"; missing=1; }
done
[[ $missing == 0 ]] || { echo "package contents:"; cat "$work/files"; exit 1; }
# esc-mqtt.toml may hold the broker's password: 0640 (postinst gives it group escd).
mode=$(dpkg-deb -c "$deb" | awk '$6 == "./etc/escd/esc-mqtt.toml" { print $1 }')
[[ $mode == -rw-r----- ]] || { echo "FAIL: etc/escd/esc-mqtt.toml is packaged as $mode, not -rw-r-----"; exit 1; }
grep -q 'chgrp escd /etc/escd/esc-mqtt.toml' <(dpkg-deb -I "$deb" postinst) || {
  echo "FAIL: postinst does not give /etc/escd/esc-mqtt.toml to group escd"; exit 1; }
echo "ok: $(wc -l <"$work/files") files, including binaries, units, sysusers.d, models and /etc/escd"

# escd looks for checkpoints where the package puts them (the directory is compiled in).
dpkg-deb -x "$deb" "$work/root"
grep -aq "$prefix/share/escd/models/" "$work/root$prefix/bin/escd" || {
  echo "FAIL: the packaged escd does not look in $prefix/share/escd/models/"; exit 1; }
echo "ok: the packaged escd looks for checkpoints in $prefix/share/escd/models/"

dpkg-deb -e "$deb" "$work/control"
for script in postinst prerm postrm; do
  [[ -x "$work/control/$script" ]] || { echo "FAIL: no executable $script in the package"; exit 1; }
done
for f in escd.toml esc-mqtt.toml mamba.env liquid_s4.env vjepa2.env; do
  grep -qx "/etc/escd/$f" "$work/control/conffiles" || { echo "FAIL: /etc/escd/$f is not a conffile"; exit 1; }
done
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libtorch libportaudio2 libzmq5 libsndfile1 libsamplerate0 libfftw3-single3 libsystemd0 libopenblas0-pthread \
           libmosquitto1; do
  grep -q "$lib" <<<"$depends" || { echo "FAIL: Depends lacks $lib"; exit 1; }
done
echo "ok: maintainer scripts, conffiles, dependencies"

if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  if apt-get install --simulate -q "$deb" >"$work/apt.log" 2>&1; then
    echo "ok: apt-get install --simulate resolves every dependency"
  else
    echo "FAIL: apt-get cannot resolve the package's dependencies:"; cat "$work/apt.log"; exit 1
  fi
else
  echo "(not root: apt-get resolution not checked)"
fi
