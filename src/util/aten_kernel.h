// Which of ATen's kernel builds the process runs, chosen with escd's own kernels before main.
//
// Why: ATen 1.13 carries its element-wise kernels (erf, exp, tanh, softmax, ...) built for AVX2 and
// for AVX-512, but dispatches to the AVX-512 ones only when ATEN_CPU_CAPABILITY=avx512 asks for them
// (upstream made them opt-in because some older Xeons slow their clocks under AVX-512). GELU's erf
// alone is the largest single function in escd's streaming steps, and with the AVX-512 builds escd
// uses less CPU (docs/STREAMING.md, "Where escd's CPU goes", has the measurements). A constructor in
// aten_kernel.cpp, linked into every executable, therefore sets ATEN_CPU_CAPABILITY to the level
// escd's own kernels run (simd_level(): the CPU's best unless ESCD_CPU_CAPABILITY lowers it), so one
// variable moves both, before ATen reads it at its first dispatch. A value the user has set is always
// left alone.
#pragma once

#include <string>

#include "util/kernel_choice.h"

namespace escd {

// What the start-up step decided: set_by_escd or from_environment (not_run if it did not run).
KernelChoice aten_kernel_choice();

// The kernels ATen dispatches to: "default", "avx2" or "avx512" ("unknown" if ATen does not say);
// asking fixes ATen's choice.
std::string aten_cpu_capability();

// One line for logs, e.g. "ATen kernels avx512 (escd set ATEN_CPU_CAPABILITY=avx512)".
std::string describe_aten_kernel();

}  // namespace escd
