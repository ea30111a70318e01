// Which OpenBLAS kernel the process runs, chosen for the CPU before main.
//
// Why: OpenBLAS picks its kernels once, in its library constructor, from the CPU model or from the
// OPENBLAS_CORETYPE variable. Debian 12's OpenBLAS 0.3.21 does not know recent Xeons (Sapphire and
// Emerald Rapids) and falls back to its generic SSE3 "Prescott" kernels, several times slower than
// its AVX-512 "SkylakeX" ones (bench/run_kernel_choice.sh measures both). A constructor in
// blas_kernel.cpp, linked into every executable, therefore sets OPENBLAS_CORETYPE from the CPU's
// vector units and has OpenBLAS choose again, before main and so before any BLAS call. A value the
// user has set is always left alone.
#pragma once

#include <string>

#include "util/kernel_choice.h"

namespace escd {

struct CpuVectorUnits {
  bool avx512 = false;    // AVX-512 F, CD, DQ, BW and VL: what OpenBLAS's SkylakeX kernels use
  bool avx2_fma = false;  // AVX2 and FMA: OpenBLAS's Haswell kernels
};

// What this CPU has (reads cpuid).
CpuVectorUnits detect_cpu_vector_units();

// The OpenBLAS core to ask for on such a CPU: "SkylakeX", "Haswell", or "" to leave OpenBLAS's
// own choice (older CPUs, which it recognises).
std::string openblas_core_for(const CpuVectorUnits& cpu);

// What the start-up step decided: set_by_escd, from_environment or left_to_library (not_run if it
// did not run).
KernelChoice blas_kernel_choice();

// The kernel OpenBLAS actually runs, as openblas_get_corename() names it ("SkylakeX", "Prescott",
// ...), or "" when the BLAS behind libtorch is not OpenBLAS.
std::string openblas_core_name();

// One line for logs, e.g. "OpenBLAS kernel SkylakeX (escd set OPENBLAS_CORETYPE=SkylakeX)".
std::string describe_blas_kernel();

}  // namespace escd
