#include "util/aten_kernel.h"

#include <ATen/Version.h>

#include <cstdlib>

#include "util/simd_level.h"

namespace escd {
namespace {

KernelChoiceRecord g_choice;  // written by the start-up step below, before main

// ATen reads ATEN_CPU_CAPABILITY once, when its first dispatched kernel runs; that is after this
// executable's constructors (no library constructor dispatches a kernel; tests/test_aten_kernel.cpp
// checks the level in force at main).
void choose_aten_kernel() {
  if (const char* preset = std::getenv("ATEN_CPU_CAPABILITY")) {
    g_choice.record(KernelChoice::Source::from_environment, preset);
    return;
  }
  // ESCD_CPU_CAPABILITY's names are ATen's: "default", "avx2", "avx512".
  const char* level = simd_level_name(simd_level());
  setenv("ATEN_CPU_CAPABILITY", level, 0);
  g_choice.record(KernelChoice::Source::set_by_escd, level);
}

}  // namespace

KernelChoice aten_kernel_choice() { return g_choice.choice(); }

std::string aten_cpu_capability() {
  // ATen keeps its get_cpu_capability() internal to the library; its build summary names the level
  // on a line "CPU capability usage: AVX512" (or AVX2, or NO AVX for the portable kernels).
  const std::string config = at::show_config();
  const std::string label = "CPU capability usage: ";
  const size_t start = config.find(label);
  if (start == std::string::npos) return "unknown";
  const size_t from = start + label.size();
  const std::string level = config.substr(from, config.find('\n', from) - from);  // to the line's end
  if (level == "AVX512") return "avx512";
  if (level == "AVX2") return "avx2";
  if (level == "NO AVX") return "default";
  return "unknown (" + level + ")";
}

std::string describe_aten_kernel() {
  return "ATen kernels " + aten_cpu_capability() + " (" +
         describe_kernel_choice(aten_kernel_choice(), "ATEN_CPU_CAPABILITY", "ATen") + ")";
}

}  // namespace escd

// Every executable that links escd_core keeps this object (CMake passes
// --undefined=escd_aten_kernel_anchor); its constructor runs before main.
extern "C" {
__attribute__((used)) int escd_aten_kernel_anchor = 0;
}
namespace {
__attribute__((constructor)) void choose_aten_kernel_at_start() { escd::choose_aten_kernel(); }
}  // namespace
