// The vector math the streaming kernels compute in place of ATen calls (models/common/simd_lanes.h):
// softplus_vector against log1p(exp(x)) in double, over the range a Mamba step's Δ pre-activation
// can take, and ATen's threshold above which softplus returns its input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "models/common/simd_lanes.h"

namespace {

using escd::mamba_detail::kLanes;
using escd::mamba_detail::Lanes;
using escd::mamba_detail::WideLanes;

template <typename V>
void expect_softplus_accurate() {
  constexpr auto width = static_cast<int64_t>(sizeof(V) / sizeof(float));
  double worst = 0;
  float worst_at = 0;
  for (int64_t i = -1'000'000; i < 1'000'000; i += width) {
    V x;
    for (int64_t w = 0; w < width; ++w) x[w] = static_cast<float>(i + w) * 1e-4f;  // -100 .. 100
    const V y = escd::mamba_detail::softplus_vector(x);
    for (int64_t w = 0; w < width; ++w) {
      const double xd = x[w];
      if (xd > 20) {  // ATen's threshold: the input itself
        ASSERT_EQ(y[w], x[w]) << "x = " << x[w];
        continue;
      }
      const double expected = xd > 0 ? xd + std::log1p(std::exp(-xd)) : std::log1p(std::exp(xd));
      // Below e^-87 exp() flushes (exp_approx clamps there); Δ that small steps nothing anyway.
      const double error = std::abs(y[w] - expected) / std::max(expected, 1e-37);
      if (xd > -87 && error > worst) {
        worst = error;
        worst_at = x[w];
      }
      ASSERT_TRUE(std::isfinite(y[w])) << "x = " << x[w];
      ASSERT_GE(y[w], 0.0f) << "x = " << x[w];
    }
  }
  // A few float ulps: the same accuracy as ATen's (Sleef's) softplus in float.
  EXPECT_LT(worst, 1e-6) << "worst at x = " << worst_at;
}

TEST(SimdMath, SoftplusMatchesLog1pExpToAFewUlps) {
  expect_softplus_accurate<Lanes<float>>();
  expect_softplus_accurate<WideLanes>();
}

}  // namespace
