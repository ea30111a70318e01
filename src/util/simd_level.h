// Which vector instruction set escd's own kernels run (the streaming steps' products and scans, the
// Mamba scan used in training): the best this CPU has, unless ESCD_CPU_CAPABILITY names a lower one
// ("default", "avx2" or "avx512", as ATen's ATEN_CPU_CAPABILITY does for ATen's kernels), to compare
// the kernels on one machine or to rule one out. Tests pin each level the CPU supports in turn, so
// every build of a kernel is checked on any machine that can run it, not only the best one.
#pragma once

namespace escd {

enum class SimdLevel { portable = 0, avx2 = 1, avx512 = 2 };  // avx2 includes FMA

// The level in force (read from ESCD_CPU_CAPABILITY on first use).
SimdLevel simd_level();
// The best level this CPU supports.
SimdLevel best_simd_level();
// Puts `level` in force, capped at best_simd_level(); returns the level now in force.
SimdLevel set_simd_level(SimdLevel level);
// "default", "avx2" or "avx512", the names ESCD_CPU_CAPABILITY takes.
const char* simd_level_name(SimdLevel level);

}  // namespace escd
