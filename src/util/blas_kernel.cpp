#include "util/blas_kernel.h"

#include <dlfcn.h>

#include <cstdlib>

namespace escd {
namespace {

KernelChoiceRecord g_choice;  // written by the start-up step below, before main

// OpenBLAS 0.3.21 picks these itself on the CPUs it knows, so asking for them never does worse; on
// the CPUs it does not know, it would fall back to Prescott.
const char* core_for(const CpuVectorUnits& cpu) {
  if (cpu.avx512) return "SkylakeX";
  if (cpu.avx2_fma) return "Haswell";
  return "";
}

// OpenBLAS chose its kernel in its own constructor, which ran before this executable's: setting
// OPENBLAS_CORETYPE now and asking its dynamic-architecture loader to choose again (its exported
// gotoblas_dynamic_quit / _init, which read the variable) switches the kernel table before any BLAS
// call. The variable is set, too, so that child processes start with the same kernel. A pre-main
// hook cannot set it earlier: glibc's .preinit_array runs before libc installs the environment.
void choose_blas_kernel() {
  if (const char* preset = std::getenv("OPENBLAS_CORETYPE")) {
    g_choice.record(KernelChoice::Source::from_environment, preset);
    return;
  }
  const char* core = core_for(detect_cpu_vector_units());
  using Hook = void (*)();
  auto quit = reinterpret_cast<Hook>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit"));
  auto init = reinterpret_cast<Hook>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init"));
  if (*core == '\0' || !quit || !init) {  // nothing better to ask for, or not a dynamic OpenBLAS
    g_choice.record(KernelChoice::Source::left_to_library, "");
    return;
  }
  setenv("OPENBLAS_CORETYPE", core, 0);
  quit();
  init();
  g_choice.record(KernelChoice::Source::set_by_escd, core);
}

}  // namespace

CpuVectorUnits detect_cpu_vector_units() {
  // Needed when called this early: the CPU model data is otherwise filled by a constructor.
  __builtin_cpu_init();
  CpuVectorUnits cpu;
  cpu.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl");
  cpu.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return cpu;
}

std::string openblas_core_for(const CpuVectorUnits& cpu) { return core_for(cpu); }

KernelChoice blas_kernel_choice() { return g_choice.choice(); }

std::string openblas_core_name() {
  // Looked up at run time: the BLAS behind libtorch is whichever the system's alternatives select.
  using CoreName = char* (*)();
  auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = core_name ? core_name() : nullptr;
  return name ? name : "";
}

std::string describe_blas_kernel() {
  const std::string core = openblas_core_name();
  if (core.empty()) return "BLAS: not OpenBLAS (kernel choice left to the library)";
  return "OpenBLAS kernel " + core + " (" +
         describe_kernel_choice(blas_kernel_choice(), "OPENBLAS_CORETYPE", "OpenBLAS") + ")";
}

}  // namespace escd

// Every executable that links escd_core keeps this object (CMake passes
// --undefined=escd_blas_kernel_anchor), and the executable's constructors run after those of the
// shared libraries it loads, OpenBLAS's among them, and before main.
extern "C" {
__attribute__((used)) int escd_blas_kernel_anchor = 0;
}
namespace {
__attribute__((constructor)) void choose_blas_kernel_at_start() { escd::choose_blas_kernel(); }
}  // namespace
