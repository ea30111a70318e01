#!/usr/bin/env bash
# escd under its units' seccomp rules, read from systemd/sandbox.conf (SystemCallFilter=,
# RestrictAddressFamilies=, MemoryDenyWriteExecute=; applied by tests/sandbox_exec.cpp), without
# systemd as PID 1: the rules refuse what they should, both shipped models classify a clip over
# TCP, and PortAudio enumerates devices as it does unsandboxed.
# Usage: sandbox_escd.sh SANDBOX_EXEC ESCD SOURCE_DIR WORK_DIR
set -euo pipefail
sandbox_exec=$1 escd=$2 src=$3 work=$4
conf="$src/systemd/sandbox.conf"
rm -rf "$work" && mkdir -p "$work"
"$src/tests/system_service_syscalls.sh" "$conf" >"$work/syscalls"
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$conf" | tr ' ' ',')
sandbox=("$sandbox_exec" --syscalls "$work/syscalls" --families "$families")
grep -qx 'MemoryDenyWriteExecute=yes' "$conf" && sandbox+=(--deny-write-execute)
echo "rules: $(wc -l <"$work/syscalls") system calls, families $families, ${sandbox[*]:5}"

echo "== the rules refuse what they should"
"${sandbox[@]}" --self-check

for model in mamba liquid_s4; do
  if [[ ! -f "$src/models/$model.ckpt" && ! -f "$src/models/$model.pt" ]]; then
    echo "SKIP $model: no shipped checkpoint in $src/models"
    continue
  fi
  echo "== escd --model $model on a clip, sandboxed"
  # A real subscriber is not needed: a failing allocation, mapping or socket makes escd exit non-zero.
  "${sandbox[@]}" -- "$escd" --model "$model" --input "$src/tests/fixtures/synthetic_16k.wav" \
    --fast --pub "tcp://127.0.0.1:*" --config /dev/null >"$work/$model.log" 2>&1 || {
    echo "FAIL: escd --model $model exited $? under the sandbox:"; cat "$work/$model.log"; exit 1; }
  grep -q "stopped after 5.0 s of audio" "$work/$model.log" || {
    echo "FAIL: escd --model $model did not process the clip:"; cat "$work/$model.log"; exit 1; }
  grep -E "model $model|stopped" "$work/$model.log"
done

echo "== escd --list-devices (PortAudio and ALSA initialisation), sandboxed and not: the same result"
# A machine without a sound card exits 1 ("no audio input devices found") either way; a refused
# call that PortAudio or ALSA cannot do without would show as a different code or a crash.
set +e
"$escd" --list-devices >"$work/devices-plain.log" 2>&1; plain=$?
"${sandbox[@]}" -- "$escd" --list-devices >"$work/devices.log" 2>&1; sandboxed=$?
set -e
if [[ $sandboxed != "$plain" ]] || ! diff <(grep -v '^ALSA lib\|[Jj]ack\|^Cannot' "$work/devices-plain.log") \
                                          <(grep -v '^ALSA lib\|[Jj]ack\|^Cannot' "$work/devices.log"); then
  echo "FAIL: escd --list-devices exited $sandboxed under the sandbox, $plain without:"; cat "$work/devices.log"; exit 1
fi
echo "exit $sandboxed both ways: $(tail -1 "$work/devices.log")"
echo "ok"
