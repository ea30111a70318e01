// The daemon's ensemble of models: the members' probabilities combined (models/common/ensemble_mean.h)
// for the window they all closed on a frame, and nothing (counted) when they did not close the same
// window. How the combination treats a background output is tested in test_ensemble_mean.cpp.
#include <gtest/gtest.h>

#include <cmath>

#include <ATen/Functions.h>

#include "ensemble_window.h"

namespace escd::daemon {
namespace {

WindowResult window(int64_t end_frame, int64_t frames) { return WindowResult{at::Tensor(), end_frame, frames, frames < 155}; }

const std::vector<std::string> kThree{"a", "b", "c"}, kTwo{"a", "b"};

TEST(EnsembleWindow, CombinedWhenAllMembersCloseTheSameWindow) {
  EnsembleWindow ensemble(3, kThree);
  ensemble.begin_frame();
  ensemble.add(window(171, 155), {0.5f, 0.25f, 0.25f}, kThree);
  ensemble.add(window(171, 155), {0.25f, 0.5f, 0.25f}, kThree);
  ensemble.add(window(171, 155), {0.5f, 0.25f, 0.25f}, kThree);
  const auto mean = ensemble.finish_frame();
  ASSERT_TRUE(mean.has_value());
  ASSERT_EQ(mean->size(), 3u);
  // The geometric means: a cbrt(1/16), b cbrt(1/32), c 1/4.
  const float a = std::cbrt(1.0f / 16), b = std::cbrt(1.0f / 32), z = a + b + 0.25f;
  EXPECT_NEAR((*mean)[0], a / z, 1e-6);
  EXPECT_NEAR((*mean)[1], b / z, 1e-6);
  EXPECT_NEAR((*mean)[2], 0.25f / z, 1e-6);
  EXPECT_EQ(ensemble.window().end_frame, 171);
  EXPECT_EQ(ensemble.window().frames, 155);
  EXPECT_EQ(ensemble.windows(), 1u);
  EXPECT_EQ(ensemble.mismatched(), 0u);
}

TEST(EnsembleWindow, FramesWithoutWindowsGiveNothingAndCountNothing) {
  EnsembleWindow ensemble(2, kTwo);
  ensemble.begin_frame();
  EXPECT_FALSE(ensemble.finish_frame().has_value());
  EXPECT_EQ(ensemble.windows(), 0u);
  EXPECT_EQ(ensemble.mismatched(), 0u);
}

TEST(EnsembleWindow, MissingOrDifferentWindowsAreCountedNotAveraged) {
  EnsembleWindow ensemble(2, kTwo);
  ensemble.begin_frame();  // one member closed a window, the other did not
  ensemble.add(window(16, 16), {1.0f, 0.0f}, kTwo);
  EXPECT_FALSE(ensemble.finish_frame().has_value());
  ensemble.begin_frame();  // both closed one, but not the same
  ensemble.add(window(32, 32), {1.0f, 0.0f}, kTwo);
  ensemble.add(window(32, 16), {0.0f, 1.0f}, kTwo);
  EXPECT_FALSE(ensemble.finish_frame().has_value());
  ensemble.begin_frame();  // the next frame is fine again: the sum was not carried over
  ensemble.add(window(48, 48), {0.8f, 0.2f}, kTwo);
  ensemble.add(window(48, 48), {0.5f, 0.5f}, kTwo);
  const auto mean = ensemble.finish_frame();
  ASSERT_TRUE(mean.has_value());
  EXPECT_NEAR((*mean)[0], 2.0f / 3.0f, 1e-6);  // sqrt(0.4) : sqrt(0.1) = 2 : 1
  EXPECT_EQ(ensemble.mismatched(), 2u);
  EXPECT_EQ(ensemble.windows(), 1u);
}

}  // namespace
}  // namespace escd::daemon
