// SilenceWatch: digital silence is reported after its limit, a quiet room never is, sound clears it.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "silence_watch.h"

namespace escd::daemon {
namespace {

TEST(SilenceWatch, ReportsExactZerosAfterTheLimitAndClearsOnSound) {
  SilenceWatch watch(5.0, 16000);
  const std::vector<float> zeros(16000 / 10, 0.0f);  // 0.1 s blocks
  for (int i = 0; i < 49; ++i) EXPECT_EQ(watch.feed(zeros.data(), zeros.size()), SilenceWatch::Change::kNone) << i;
  EXPECT_FALSE(watch.silent());
  EXPECT_EQ(watch.feed(zeros.data(), zeros.size()), SilenceWatch::Change::kStarted);
  EXPECT_TRUE(watch.silent());
  EXPECT_NEAR(watch.silent_seconds(), 5.0, 1e-9);
  EXPECT_EQ(watch.silences(), 1u);
  std::vector<float> click = zeros;
  click[800] = 1e-3f;
  EXPECT_EQ(watch.feed(click.data(), click.size()), SilenceWatch::Change::kEnded);
  EXPECT_FALSE(watch.silent());
  EXPECT_EQ(watch.silences(), 1u);
}

TEST(SilenceWatch, AQuietRoomIsNotSilence) {
  SilenceWatch watch(5.0, 16000);
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 3e-5f);  // -90 dBFS: one 16-bit step
  std::vector<float> block(1600);
  for (int i = 0; i < 100; ++i) {
    for (float& x : block) x = noise(rng);
    watch.feed(block.data(), block.size());
  }
  EXPECT_FALSE(watch.silent());
  EXPECT_EQ(watch.silences(), 0u);
}

}  // namespace
}  // namespace escd::daemon
