// The SIMD level of escd's own kernels (src/util/simd_level.h): set_simd_level never goes above
// what the CPU has, and ESCD_CPU_CAPABILITY, read when a process first asks, lowers the level or,
// misspelt, is named on stderr and ignored.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "test_support.h"
#include "util/simd_level.h"

namespace {

using escd::SimdLevel;

TEST(SimdLevel, SettingALevelIsCappedAtWhatTheCpuHas) {
  const SimdLevel saved = escd::simd_level();
  for (const SimdLevel level : {SimdLevel::portable, SimdLevel::avx2, SimdLevel::avx512}) {
    EXPECT_EQ(escd::set_simd_level(level), std::min(level, escd::best_simd_level()));
    EXPECT_EQ(escd::simd_level(), std::min(level, escd::best_simd_level()));
  }
  escd::set_simd_level(saved);
  EXPECT_STREQ(escd::simd_level_name(SimdLevel::portable), "default");
  EXPECT_STREQ(escd::simd_level_name(SimdLevel::avx2), "avx2");
  EXPECT_STREQ(escd::simd_level_name(SimdLevel::avx512), "avx512");
}

// Also run as a child (the next test): ESCD_TEST_EXPECT_SIMD_LEVEL names the level that
// ESCD_CPU_CAPABILITY must have put in force.
TEST(SimdLevel, TheLevelFromTheEnvironmentIsInForce) {
  const char* expected = std::getenv("ESCD_TEST_EXPECT_SIMD_LEVEL");
  if (expected == nullptr) GTEST_SKIP() << "run by SimdLevel.EnvironmentLowersTheLevelAndTyposAreReported";
  EXPECT_STREQ(escd::simd_level_name(escd::simd_level()), expected);
}

std::string run_child(const std::string& capability, const std::string& expected, int* status) {
  return escd::test::run_self_as_child("ESCD_CPU_CAPABILITY=" + capability + " ESCD_TEST_EXPECT_SIMD_LEVEL=" + expected,
                                       "SimdLevel.TheLevelFromTheEnvironmentIsInForce", status);
}

TEST(SimdLevel, EnvironmentLowersTheLevelAndTyposAreReported) {
  int status = 0;
  std::string output = run_child("default", "default", &status);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("[  PASSED  ] 1 test"), std::string::npos) << output;

  // A level above the CPU's is capped; a misspelt one leaves the best level, and says so.
  const std::string best = escd::simd_level_name(escd::best_simd_level());
  output = run_child("avx512", best, &status);
  EXPECT_EQ(status, 0) << output;
  output = run_child("avx3", best, &status);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("ESCD_CPU_CAPABILITY=\"avx3\" is not one of default, avx2, avx512"), std::string::npos)
      << output;
}

}  // namespace
