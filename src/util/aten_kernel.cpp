#include "util/aten_kernel.h"

#include <ATen/Version.h>

#include <cstdlib>
#include <cstring>

#include "util/simd_level.h"

namespace escd {
namespace {

// Written by the start-up step below, from a constructor: plain zero-initialised storage, which no
// other static initialiser can overwrite whatever the order.
struct {
  AtenKernelChoice::Source source;
  char requested[32];
} g_choice;

// ATen reads ATEN_CPU_CAPABILITY once, when its first dispatched kernel runs; that is after this
// executable's constructors (no library constructor dispatches a kernel; tests/test_aten_kernel.cpp
// checks the level in force at main).
void choose_aten_kernel() {
  if (const char* preset = std::getenv("ATEN_CPU_CAPABILITY")) {
    g_choice.source = AtenKernelChoice::Source::from_environment;
    std::strncpy(g_choice.requested, preset, sizeof g_choice.requested - 1);
    return;
  }
  // ESCD_CPU_CAPABILITY's names are ATen's: "default", "avx2", "avx512".
  const char* level = simd_level_name(simd_level());
  setenv("ATEN_CPU_CAPABILITY", level, 0);
  g_choice.source = AtenKernelChoice::Source::set_by_escd;
  std::strncpy(g_choice.requested, level, sizeof g_choice.requested - 1);
}

}  // namespace

AtenKernelChoice aten_kernel_choice() { return {g_choice.source, g_choice.requested}; }

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
  const std::string running = aten_cpu_capability();
  const AtenKernelChoice choice = aten_kernel_choice();
  switch (choice.source) {
    case AtenKernelChoice::Source::set_by_escd:
      return "ATen kernels " + running + " (escd set ATEN_CPU_CAPABILITY=" + choice.requested + ")";
    case AtenKernelChoice::Source::from_environment:
      return "ATen kernels " + running + " (ATEN_CPU_CAPABILITY=" + choice.requested + " from the environment)";
    case AtenKernelChoice::Source::not_run:
      break;
  }
  return "ATen kernels " + running + " (escd's kernel choice did not run: the executable lacks its start-up constructor)";
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
