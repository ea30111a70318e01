// The ATen kernel choice (src/util/aten_kernel.h): ATen runs the level of escd's own kernels from
// the start (the CPU's best, or the one ESCD_CPU_CAPABILITY names), and a user's own
// ATEN_CPU_CAPABILITY wins. Each case runs this executable again as a child with its environment.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "test_support.h"
#include "util/aten_kernel.h"
#include "util/simd_level.h"

namespace {

using escd::KernelChoice;

// Run by the tests below as a child: ESCD_TEST_EXPECT_ATEN_LEVEL names the kernels ATen must run, and
// ESCD_TEST_EXPECT_ATEN_SOURCE ("escd" or "environment") who chose them.
TEST(AtenKernel, TheChosenLevelRunsFromTheStart) {
  const char* expected = std::getenv("ESCD_TEST_EXPECT_ATEN_LEVEL");
  const char* source = std::getenv("ESCD_TEST_EXPECT_ATEN_SOURCE");
  if (expected == nullptr || source == nullptr) GTEST_SKIP() << "run as a child by the tests below";
  const KernelChoice choice = escd::aten_kernel_choice();
  ASSERT_NE(choice.source, KernelChoice::Source::not_run)
      << "the start-up step did not run: is escd_aten_kernel_anchor linked into this executable?";
  EXPECT_EQ(choice.source, std::string(source) == "escd" ? KernelChoice::Source::set_by_escd
                                                           : KernelChoice::Source::from_environment);
  EXPECT_EQ(escd::aten_cpu_capability(), expected);
  EXPECT_NE(escd::describe_aten_kernel().find(std::string("ATen kernels ") + expected), std::string::npos)
      << escd::describe_aten_kernel();
}

void expect_child_passes(const std::string& environment) {
  SCOPED_TRACE(environment);
  int status = 0;
  const std::string output =
      escd::test::run_self_as_child("env -u ATEN_CPU_CAPABILITY -u ESCD_CPU_CAPABILITY " + environment,
                                    "AtenKernel.TheChosenLevelRunsFromTheStart", &status);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("[  PASSED  ] 1 test"), std::string::npos) << output;
}

TEST(AtenKernel, RunsTheBestLevelTheCpuHasByDefault) {
  const std::string best = escd::simd_level_name(escd::best_simd_level());
  expect_child_passes("ESCD_TEST_EXPECT_ATEN_LEVEL=" + best + " ESCD_TEST_EXPECT_ATEN_SOURCE=escd");
}

TEST(AtenKernel, FollowsEscdCpuCapability) {
  expect_child_passes("ESCD_CPU_CAPABILITY=default ESCD_TEST_EXPECT_ATEN_LEVEL=default ESCD_TEST_EXPECT_ATEN_SOURCE=escd");
  if (escd::best_simd_level() < escd::SimdLevel::avx2) GTEST_SKIP() << "this CPU has no AVX2 kernels";
  expect_child_passes("ESCD_CPU_CAPABILITY=avx2 ESCD_TEST_EXPECT_ATEN_LEVEL=avx2 ESCD_TEST_EXPECT_ATEN_SOURCE=escd");
}

TEST(AtenKernel, AUserSettingWins) {
  // "default": a level every CPU runs and one escd never picks on a CPU with AVX2.
  expect_child_passes("ATEN_CPU_CAPABILITY=default ESCD_TEST_EXPECT_ATEN_LEVEL=default "
                      "ESCD_TEST_EXPECT_ATEN_SOURCE=environment");
}

}  // namespace
