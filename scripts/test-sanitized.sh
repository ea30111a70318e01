#!/usr/bin/env bash
# escd under sanitizers, in build directories of their own (clang; the default build in build/ is
# untouched). docs/RELIABILITY.md ("Sanitizers", "Fuzzing") explains what and why.
#   scripts/test-sanitized.sh fuzz       build-asan (ASan+UBSan): builds the libFuzzer targets only and
#                                        runs each for ESCD_FUZZ_SECONDS (default 25) from its seeds, seed ESCD_FUZZ_SEED (default 1; 0 = random)
#   scripts/test-sanitized.sh ci         build-asan (ASan+UBSan), what CI runs: the fuzzers for a short
#                                        run, and the suite except the tests that are about timing or
#                                        the machine rather than memory (real-time subscriber load,
#                                        PulseAudio capture, trainer kills, disk faults, install, sandbox),
#                                        which the main build runs
#   scripts/test-sanitized.sh [address]  build-asan: everything, then the whole suite and the fuzzers
#   scripts/test-sanitized.sh thread     build-tsan (TSan): the tests of threaded code (audio sources,
#                                        rings, loader, streaming, daemon)
# Extra arguments go to ctest (e.g. -R Daemon).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
mode=${1:-address}
[[ $# -gt 0 ]] && shift
supp=$PWD/tests/sanitizers
# libtorch, OpenBLAS and the other Debian libraries are not instrumented; see tests/sanitizers/*.supp.
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_init_order=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp"

asan_args=(-DESCD_SANITIZE=address,undefined -DESCD_BUILD_FUZZ=ON)
case "$mode" in
  fuzz)
    dir=build-asan
    cmake_args=("${asan_args[@]}")
    targets=(fuzz_all)
    tests=(-R '^fuzz\.')
    ;;
  ci)
    dir=build-asan
    cmake_args=("${asan_args[@]}")
    targets=(fuzz_all escd esc-train escd_tests escd_audio_tests escd_mamba_tests escd_liquid_s4_tests
             escd_model_common_tests escd_training_tests escd_daemon_tests escd_network_tests esc-mqtt esc_mqtt_tests escd_report_tests
             escd_recordings_tests esc-web esc_web_tests)
    # Executables not built here appear in ctest as <name>_NOT_BUILT: excluded with the rest.
    tests=(-E '_NOT_BUILT|^SubscriberTest\.|^install\.|^escd\.sandbox\.')
    ;;
  address)
    dir=build-asan
    cmake_args=("${asan_args[@]}")
    targets=(all)
    tests=()
    ;;
  thread)
    dir=build-tsan
    cmake_args=(-DESCD_SANITIZE=thread)
    targets=(escd escd_audio_tests escd_tests escd_daemon_tests escd_model_common_tests)
    tests=(-R 'SpscRing|StreamResampler|FileSource|RawPcmSource|PortAudio|BatchLoader|Streaming|Daemon|EventDetector|SilenceWatch')
    # libtorch's OpenMP threads are uninstrumented (suppressed anyway); one keeps the runs lean.
    export OMP_NUM_THREADS=1
    ;;
  *)
    echo "usage: $0 [fuzz|ci|address|thread] [ctest arguments]" >&2
    exit 2
    ;;
esac

if [[ ! -f "$dir/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DESCD_BUILD_BENCH=OFF \
    "${cmake_args[@]}"
fi
cmake --build "$dir" --parallel "$(nproc)" --target "${targets[@]}"
ctest --test-dir "$dir" --output-on-failure --parallel "$(nproc)" --timeout 900 "${tests[@]}" "$@"
