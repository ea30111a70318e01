// Runs a test body once at every SIMD level this CPU supports (util/simd_level.h), so that the
// portable, AVX2 and AVX-512 builds of escd's kernels are each checked, not only the best one.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "util/simd_level.h"

namespace escd::test {

template <typename Body>
void at_every_simd_level(Body body) {
  const SimdLevel saved = simd_level();
  for (const SimdLevel level : {SimdLevel::portable, SimdLevel::avx2, SimdLevel::avx512}) {
    if (level > best_simd_level()) break;
    ASSERT_EQ(set_simd_level(level), level);
    SCOPED_TRACE(std::string("SIMD level ") + simd_level_name(level));
    body();
  }
  set_simd_level(saved);
}

}  // namespace escd::test
