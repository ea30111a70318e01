#!/usr/bin/env bash
# Installs the Debian 12 packages escd needs to build, run and test.
# Idempotent: when every package is already installed it does nothing (no apt-get update either).
# Usage (as root): scripts/install-deps.sh [--dev]
#   --dev  also installs the Python reference stack (python3-torch, torchaudio) used to regenerate
#          test fixtures and run the reference benchmarks; the test suite itself does not need it.
set -euo pipefail

packages=(
  # toolchain and build speed
  build-essential cmake ninja-build ccache pkg-config git
  # core libraries
  libtorch-dev libopenblas0-pthread  # OpenBLAS: Debian's libtorch otherwise runs the reference BLAS
  libgloo-dev  # esc-train fit across processes and machines: c10d's Gloo process group
  libsndfile1-dev libsamplerate0-dev libfftw3-dev libcsv-dev
  portaudio19-dev libzmq3-dev cppzmq-dev
  libasound2-dev libjack-jackd2-dev  # ALSA and JACK: escd sends their messages to its log
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libsystemd-dev
  libmosquitto-dev  # esc-mqtt: escd on an MQTT broker (Home Assistant)
  libcpp-httplib-dev  # esc-web: the live view and /metrics
  # tests
  libgtest-dev libgmock-dev libbenchmark-dev
  python3  # tests/crops_rule_tools.py: the experiment rule tools
  # sanitizer builds and libFuzzer targets (scripts/test-sanitized.sh, fuzz/)
  clang libclang-rt-14-dev
  # real-capture tests: a private PulseAudio server with a virtual microphone (docs/CAPTURE_TESTS.md)
  pulseaudio pulseaudio-utils libasound2-plugins sox
  # esc-mqtt's tests: a private Mosquitto broker on a free loopback port (and mosquitto_passwd),
  # openssl for a test CA and broker certificate
  mosquitto openssl
  # esc-train compare's page and esc-web's live view in a real browser (headless), with a font to
  # render them; Prometheus's own parser checks esc-web's /metrics
  chromium fonts-dejavu-core python3-prometheus-client
  # bench/soak.sh: CPU time and peak memory of escd, and its ZeroMQ subscriber
  time python3-zmq
  # service tests: systemd-analyze (units), dpkg-dev (dpkg-shlibdeps for cpack's Depends),
  # libseccomp (tests/sandbox_exec runs escd under the units' seccomp rules)
  systemd dpkg-dev libseccomp-dev
)
if [[ "${1:-}" == "--dev" ]]; then
  packages+=(python3-torch python3-torchaudio python3-numpy python3-zmq)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo $0 $*)" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
