// The OpenBLAS kernel choice (src/util/blas_kernel.h): which kernel a CPU gets, that the choice is
// in force when main starts (OpenBLAS first chose in its own constructor), and that a user's own
// OPENBLAS_CORETYPE wins.
#include <gtest/gtest.h>
#include <strings.h>

#include <cstdlib>
#include <string>

#include "test_support.h"
#include "util/blas_kernel.h"

namespace {

using escd::KernelChoice;

TEST(BlasKernel, AsksForTheWidestKernelTheCpuHas) {
  EXPECT_EQ(escd::openblas_core_for({/*avx512=*/true, /*avx2_fma=*/true}), "SkylakeX");
  EXPECT_EQ(escd::openblas_core_for({/*avx512=*/false, /*avx2_fma=*/true}), "Haswell");
  EXPECT_EQ(escd::openblas_core_for({/*avx512=*/false, /*avx2_fma=*/false}), "");
}

// Also run as a child with a preset OPENBLAS_CORETYPE (the next test): ESCD_TEST_EXPECT_BLAS_CORE
// then names the kernel OpenBLAS must be running.
TEST(BlasKernel, TheChosenKernelRunsFromTheStart) {
  const std::string running = escd::openblas_core_name();
  if (running.empty()) GTEST_SKIP() << "the BLAS behind libtorch is not OpenBLAS: no kernel to choose";
  const KernelChoice choice = escd::blas_kernel_choice();
  ASSERT_NE(choice.source, KernelChoice::Source::not_run)
      << "the start-up step did not run: is escd_blas_kernel_anchor linked into this executable?";
  if (const char* expected = std::getenv("ESCD_TEST_EXPECT_BLAS_CORE")) {
    EXPECT_EQ(choice.source, KernelChoice::Source::from_environment);
    EXPECT_EQ(strcasecmp(running.c_str(), expected), 0) << "OpenBLAS runs " << running << ", expected " << expected;
    return;
  }
  switch (choice.source) {
    case KernelChoice::Source::set_by_escd:
      // OpenBLAS runs what was asked for: it chose again after the variable was set.
      EXPECT_EQ(strcasecmp(running.c_str(), choice.requested.c_str()), 0)
          << "asked OpenBLAS for " << choice.requested << ", it runs " << running;
      EXPECT_EQ(choice.requested, escd::openblas_core_for(escd::detect_cpu_vector_units()));
      break;
    case KernelChoice::Source::left_to_library:
      EXPECT_EQ(escd::openblas_core_for(escd::detect_cpu_vector_units()), "");
      break;
    case KernelChoice::Source::from_environment:
      GTEST_SKIP() << "OPENBLAS_CORETYPE=" << choice.requested << " was set before this test started";
    case KernelChoice::Source::not_run:
      break;
  }
  EXPECT_NE(escd::describe_blas_kernel().find(running), std::string::npos) << escd::describe_blas_kernel();
}

TEST(BlasKernel, AUserSettingWins) {
  if (escd::openblas_core_name().empty()) GTEST_SKIP() << "the BLAS behind libtorch is not OpenBLAS";
  if (!escd::detect_cpu_vector_units().avx2_fma) GTEST_SKIP() << "this CPU cannot run the Haswell kernel";
  // Haswell: what escd would not pick on an AVX-512 CPU, and a kernel every AVX2 CPU can run.
  int status = 0;
  const std::string output = escd::test::run_self_as_child(
      "OPENBLAS_CORETYPE=Haswell ESCD_TEST_EXPECT_BLAS_CORE=Haswell", "BlasKernel.TheChosenKernelRunsFromTheStart",
      &status);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("[  PASSED  ] 1 test"), std::string::npos) << output;
}

}  // namespace
