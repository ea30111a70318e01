#include "util/simd_level.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "util/blas_kernel.h"

namespace escd {
namespace {

std::atomic<int> g_level{-1};  // -1: not read from the environment yet

SimdLevel level_from_environment() {
  const SimdLevel best = best_simd_level();
  const char* value = std::getenv("ESCD_CPU_CAPABILITY");
  if (value == nullptr || *value == '\0') return best;
  for (const SimdLevel level : {SimdLevel::portable, SimdLevel::avx2, SimdLevel::avx512}) {
    if (std::string(value) == simd_level_name(level)) return std::min(level, best);
  }
  // A typo must not pass unnoticed, nor stop a daemon: say so once and run the best kernels.
  std::fprintf(stderr, "escd: ESCD_CPU_CAPABILITY=\"%s\" is not one of default, avx2, avx512; using %s\n", value,
               simd_level_name(best));
  return best;
}

}  // namespace

SimdLevel best_simd_level() {
  static const SimdLevel best = [] {
    const CpuVectorUnits cpu = detect_cpu_vector_units();
    return cpu.avx512 ? SimdLevel::avx512 : cpu.avx2_fma ? SimdLevel::avx2 : SimdLevel::portable;
  }();
  return best;
}

SimdLevel simd_level() {
  int level = g_level.load(std::memory_order_relaxed);
  if (level < 0) {
    level = static_cast<int>(level_from_environment());
    g_level.store(level, std::memory_order_relaxed);
  }
  return static_cast<SimdLevel>(level);
}

SimdLevel set_simd_level(SimdLevel level) {
  const SimdLevel capped = std::min(level, best_simd_level());
  g_level.store(static_cast<int>(capped), std::memory_order_relaxed);
  return capped;
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::avx512: return "avx512";
    case SimdLevel::avx2: return "avx2";
    case SimdLevel::portable: break;
  }
  return "default";
}

}  // namespace escd
