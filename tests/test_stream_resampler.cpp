// The streaming resampler: any device rate becomes 16 kHz block by block, with the same samples
// whatever the block sizes, the right length at the end, and the tone where it belongs.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <vector>

#include "audio/resample.h"
#include "audio/stream_resampler.h"

namespace escd {
namespace {

constexpr double kPi = 3.14159265358979323846;

std::vector<float> tone(double hz, double amplitude, double seconds, int rate) {
  std::vector<float> x(static_cast<size_t>(std::lround(seconds * rate)));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(amplitude * std::sin(2 * kPi * hz * i / rate));
  return x;
}

// Streams x through a fresh resampler in blocks drawn from `next_block`, then flushes.
template <typename NextBlock>
std::vector<float> stream(const std::vector<float>& x, int rate, NextBlock next_block,
                          ResampleQuality quality = ResampleQuality::Medium) {
  StreamResampler resampler(rate, 16000, quality);
  std::vector<float> out;
  for (size_t at = 0; at < x.size();) {
    const size_t n = std::min(next_block(), x.size() - at);
    resampler.process(x.data() + at, n, out);
    at += n;
  }
  resampler.flush(out);
  return out;
}

std::vector<float> stream_random_blocks(const std::vector<float>& x, int rate, unsigned seed) {
  std::mt19937 rng(seed);
  return stream(x, rate, [&] { return size_t{1} + rng() % 3000; });
}

// A 1 kHz tone at 44.1, 48 and 8 kHz, streamed in random blocks, comes out as the same tone sampled
// at 16 kHz: exactly round(n * 16000 / rate) samples, and sample by sample the analytic 16 kHz tone
// (right frequency, amplitude and timing; the converter compensates its own delay).
TEST(StreamResampler, AToneAtAnyRateBecomesTheSameToneAtSixteenKilohertz) {
  const std::vector<float> reference = tone(1000.0, 0.5, 2.0, 16000);
  for (int rate : {44100, 48000, 8000}) {
    SCOPED_TRACE(rate);
    const std::vector<float> x = tone(1000.0, 0.5, 2.0, rate);
    const std::vector<float> y = stream_random_blocks(x, rate, static_cast<unsigned>(rate));
    ASSERT_EQ(y.size(), static_cast<size_t>(std::llround(x.size() * 16000.0 / rate)));
    // Away from the ends (where the input starts and stops abruptly), the tone is intact.
    double worst = 0.0, sum_xy = 0.0, sum_rr = 0.0;
    for (size_t i = 1600; i + 1600 < y.size(); ++i) {
      worst = std::max(worst, std::fabs(double(y[i]) - reference[i]));
      sum_xy += double(y[i]) * reference[i];
      sum_rr += double(reference[i]) * reference[i];
    }
    EXPECT_LT(worst, 2e-3);
    EXPECT_NEAR(sum_xy / sum_rr, 1.0, 1e-3);  // amplitude (gain) within 0.1%
  }
}

TEST(StreamResampler, OutputDoesNotDependOnTheBlockSizes) {
  const std::vector<float> x = tone(1000.0, 0.5, 1.0, 44100);
  const std::vector<float> whole = stream(x, 44100, [&] { return x.size(); });
  const std::vector<float> random = stream_random_blocks(x, 44100, 7);
  const std::vector<float> tiny = stream(x, 44100, [] { return size_t{1}; });
  ASSERT_EQ(random.size(), whole.size());
  ASSERT_EQ(tiny.size(), whole.size());
  double worst = 0.0;
  for (size_t i = 0; i < whole.size(); ++i) {
    worst = std::max({worst, std::fabs(double(random[i]) - whole[i]), std::fabs(double(tiny[i]) - whole[i])});
  }
  EXPECT_LE(worst, 1e-6);
}

TEST(StreamResampler, SixteenKilohertzPassesThroughUntouched) {
  const std::vector<float> x = tone(440.0, 0.3, 0.5, 16000);
  StreamResampler resampler(16000);
  EXPECT_TRUE(resampler.passthrough());
  std::vector<float> out;
  EXPECT_EQ(resampler.process(x.data(), 1000, out), 1000u);
  resampler.process(x.data() + 1000, x.size() - 1000, out);
  EXPECT_EQ(resampler.flush(out), 0u);
  EXPECT_EQ(out, x);
}

// With Best quality the stream reproduces the offline decoder's resampling, so a file run through
// the daemon can be compared with the same file decoded for training.
TEST(StreamResampler, BestQualityMatchesTheOfflineResampler) {
  const std::vector<float> x = tone(1000.0, 0.5, 1.0, 44100);
  const std::vector<float> offline = resample_offline(x, 44100, 16000);
  std::mt19937 rng(3);
  const std::vector<float> streamed =
      stream(x, 44100, [&] { return size_t{1} + rng() % 2000; }, ResampleQuality::Best);
  ASSERT_EQ(streamed.size(), offline.size());
  double worst = 0.0;
  for (size_t i = 0; i < offline.size(); ++i) worst = std::max(worst, std::fabs(double(streamed[i]) - offline[i]));
  EXPECT_LE(worst, 1e-6);
}

TEST(StreamResampler, FlushEndsOneStreamAndTheNextStartsAfresh) {
  const std::vector<float> x = tone(1000.0, 0.5, 0.5, 48000);
  StreamResampler resampler(48000);
  std::vector<float> first, second;
  resampler.process(x.data(), x.size(), first);
  resampler.flush(first);
  resampler.process(x.data(), x.size(), second);
  resampler.flush(second);
  EXPECT_EQ(first.size(), 8000u);
  EXPECT_EQ(first, second);
}

TEST(StreamResampler, RejectsImpossibleRates) {
  EXPECT_THROW(StreamResampler(0), std::invalid_argument);
  EXPECT_THROW(StreamResampler(-44100), std::invalid_argument);
  EXPECT_THROW(StreamResampler(16000 * 300), std::invalid_argument);  // beyond 1:256
}

// Not a pass/fail check: records what the Medium/Best choice costs, for the comment in the header.
TEST(StreamResampler, MediumQualityCostsAFractionOfBest) {
  const std::vector<float> x = tone(1000.0, 0.5, 10.0, 48000);
  auto seconds_for = [&](ResampleQuality quality) {
    const auto start = std::chrono::steady_clock::now();
    stream(x, 48000, [] { return size_t{1024}; }, quality);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const double medium = seconds_for(ResampleQuality::Medium);
  const double best = seconds_for(ResampleQuality::Best);
  std::printf("48 kHz -> 16 kHz, 10 s of audio: medium %.1f ms, best %.1f ms (%.1fx)\n", 1e3 * medium, 1e3 * best,
              best / medium);
  RecordProperty("medium_ms", std::to_string(1e3 * medium));
  RecordProperty("best_ms", std::to_string(1e3 * best));
}

}  // namespace
}  // namespace escd
