// escd's opt-in spectrogram topic: columns average frames and pairs of mel bands, map dB linearly to
// 0..255 over the stream's range, and go out in groups; a gap drops a partial column.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "spectrogram_stream.h"

namespace escd::daemon {
namespace {

// A 4-band frame whose bands are these dB values (the front end's values are ln power).
std::vector<float> frame_db(std::vector<double> db) {
  std::vector<float> out;
  for (const double d : db) out.push_back(static_cast<float>(d / 4.342944819032518));
  return out;
}

TEST(SpectrogramStream, ColumnsAverageFramesAndBandPairsAndMapDbToBytes) {
  SpectrogramStream s(4, 0.032, 2, 2);  // 2 bands, 2 frames per column, 2 columns per message
  const double lo = SpectrogramStream::kMinDb, hi = SpectrogramStream::kMaxDb;
  EXPECT_FALSE(s.push(frame_db({lo, lo, hi, hi}).data(), 0.1));
  EXPECT_FALSE(s.push(frame_db({lo, lo, hi, hi}).data(), 0.2));  // column 1: band 0 silent, band 1 full
  EXPECT_FALSE(s.push(frame_db({lo - 50, lo - 50, 0, 0}).data(), 0.3));
  const auto message = s.push(frame_db({lo, lo, hi + 50, hi}).data(), 0.4);  // column 2
  ASSERT_TRUE(message);
  EXPECT_EQ((*message)["bands"], 2);
  EXPECT_DOUBLE_EQ((*message)["column_s"].get<double>(), 0.064);
  EXPECT_DOUBLE_EQ((*message)["t"].get<double>(), 0.4);
  ASSERT_EQ((*message)["columns"].size(), 2u);
  EXPECT_EQ((*message)["columns"][0], (std::vector<int>{0, 255}));
  // Column 2, band 0: below the range, clamped to 0. Band 1: mean of 0 dB, 0 dB, +90 dB, +40 dB = 32.5 dB.
  const int expected = static_cast<int>(std::lround(255.0 * (32.5 - lo) / (hi - lo)));
  EXPECT_EQ((*message)["columns"][1], (std::vector<int>{0, expected}));
}

TEST(SpectrogramStream, AResetDropsThePartialColumnAndGroup) {
  SpectrogramStream s(2, 0.032, 2, 1);
  const std::vector<float> loud = frame_db({40, 40}), quiet = frame_db({-80, -80});
  EXPECT_FALSE(s.push(loud.data(), 0.1));
  s.reset();
  EXPECT_FALSE(s.push(quiet.data(), 0.2));
  const auto message = s.push(quiet.data(), 0.3);
  ASSERT_TRUE(message);
  EXPECT_EQ((*message)["columns"][0], (std::vector<int>{0})) << "the loud frame before the reset was dropped";
}

}  // namespace
}  // namespace escd::daemon
