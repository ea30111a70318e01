#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>

#include "data/augment.h"
#include "data/room_acoustics.h"

namespace escd {
namespace {

std::vector<float> ramp(size_t n) {
  std::vector<float> x(n);
  std::iota(x.begin(), x.end(), 1.0f);
  return x;
}

AugmentConfig only(double AugmentConfig::*prob) {
  AugmentConfig c;
  c.shift_prob = c.noise_prob = c.gain_prob = c.time_mask_prob = c.freq_mask_prob = 0.0;
  c.*prob = 1.0;
  return c;
}

TEST(Augment, SameSeedSameResultOtherSeedOtherResult) {
  AugmentConfig all;
  all.shift_prob = all.noise_prob = all.gain_prob = 1.0;
  std::vector<float> a = ramp(1000), b = ramp(1000), c = ramp(1000);
  Rng r1(5), r2(5), r3(6);
  augment_waveform(a, all, r1);
  augment_waveform(b, all, r2);
  augment_waveform(c, all, r3);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Augment, ShiftIsACircularRotation) {
  std::vector<float> x = ramp(5000);
  Rng rng(1);
  augment_waveform(x, only(&AugmentConfig::shift_prob), rng);
  EXPECT_NE(x, ramp(5000));
  // Still each value exactly once, and consecutive except at one wrap point.
  std::vector<float> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, ramp(5000));
  int breaks = 0;
  for (size_t i = 1; i < x.size(); ++i) breaks += (x[i] != x[i - 1] + 1.0f);
  EXPECT_EQ(breaks, 1);
  const size_t offset = static_cast<size_t>(std::find(x.begin(), x.end(), 1.0f) - x.begin());
  EXPECT_TRUE(offset <= 800 || offset >= 5000 - 800) << offset;
}

TEST(Augment, GainStaysInRange) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::vector<float> x(10, 1.0f);
    Rng rng(seed);
    augment_waveform(x, only(&AugmentConfig::gain_prob), rng);
    EXPECT_GE(x[0], 0.9f);
    EXPECT_LT(x[0], 1.1f);
    EXPECT_EQ(x[0], x[9]);
  }
}

TEST(Augment, NoiseHasTheConfiguredLevel) {
  std::vector<float> x(100000, 0.0f);
  Rng rng(3);
  augment_waveform(x, only(&AugmentConfig::noise_prob), rng);
  double ss = 0;
  for (float v : x) ss += v * v;
  EXPECT_NEAR(std::sqrt(ss / x.size()), 0.005, 0.0002);
}

TEST(Augment, MasksAreBoundedRunsOfTheMaskValue) {
  const int frames = 155, mels = 128;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    std::vector<float> time(frames * mels, 1.0f), freq(frames * mels, 1.0f);
    Rng r1(seed), r2(seed);
    AugmentConfig tc = only(&AugmentConfig::time_mask_prob);
    tc.mask_value = -5.0f;
    augment_log_mel(time.data(), frames, mels, tc, r1);
    augment_log_mel(freq.data(), frames, mels, only(&AugmentConfig::freq_mask_prob), r2);
    int masked_frames = 0, masked_bands = 0;
    for (int t = 0; t < frames; ++t) masked_frames += time[t * mels] == -5.0f;
    for (int m = 0; m < mels; ++m) masked_bands += freq[m] == 0.0f;
    EXPECT_LT(masked_frames, 10);
    EXPECT_LT(masked_bands, 8);
    // Whole rows / columns: a masked frame is masked in every band.
    for (int t = 0; t < frames; ++t) {
      if (time[t * mels] == -5.0f) {
        EXPECT_EQ(time[t * mels + mels - 1], -5.0f);
      }
    }
  }
}

TEST(Augment, FrequencyShiftMovesEveryFrameByTheSameBoundedAmountAndRepeatsTheEdge) {
  const int frames = 7, mels = 40, max_shift = 5;
  std::vector<int> seen_shifts;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    std::vector<float> x(frames * mels);
    for (int t = 0; t < frames; ++t) {
      for (int m = 0; m < mels; ++m) x[t * mels + m] = float(100 * t + m);
    }
    AugmentConfig c = only(&AugmentConfig::freq_shift_prob);
    c.freq_shift_max = max_shift;
    Rng rng(seed);
    augment_log_mel(x.data(), frames, mels, c, rng);
    // The middle band tells the shift; every band of every frame must agree with it.
    const int shift = mels / 2 - int(x[mels / 2]);
    ASSERT_LE(std::abs(shift), max_shift) << "seed " << seed;
    seen_shifts.push_back(shift);
    for (int t = 0; t < frames; ++t) {
      for (int m = 0; m < mels; ++m) {
        const int source = std::clamp(m - shift, 0, mels - 1);
        ASSERT_EQ(x[t * mels + m], float(100 * t + source)) << "seed " << seed << " frame " << t << " band " << m;
      }
    }
  }
  std::sort(seen_shifts.begin(), seen_shifts.end());
  EXPECT_LT(seen_shifts.front(), 0);  // both directions are drawn
  EXPECT_GT(seen_shifts.back(), 0);
}

TEST(Augment, AZeroShiftProbabilityDrawsNothing) {
  // Recipes written before the shift existed must replay the same random stream.
  std::vector<float> a(155 * 128, 1.0f), b(155 * 128, 1.0f);
  AugmentConfig with = only(&AugmentConfig::time_mask_prob), without = with;
  with.freq_shift_max = 8;  // probability still 0
  Rng r1(9), r2(9);
  augment_log_mel(a.data(), 155, 128, with, r1);
  augment_log_mel(b.data(), 155, 128, without, r2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(r1(), r2());
}

TEST(Augment, ARecipeOutsideItsRangesIsNamedBeforeAnythingIsDrawn) {
  EXPECT_EQ(augment_config_problem(AugmentConfig{}), "");
  AugmentConfig room;
  room.room_noise_prob = 0.5;
  room.snr_db_min = -5.0;
  room.snr_db_max = 20.0;
  EXPECT_EQ(augment_config_problem(room), "") << "noise louder than the signal is a valid recipe";
  const auto problem_with = [](auto change) {
    AugmentConfig c;
    change(c);
    return augment_config_problem(c);
  };
  EXPECT_EQ(problem_with([](AugmentConfig& c) { c.room_noise_prob = 1.5; }),
            "room_noise_prob must be in [0, 1] (got 1.5)");
  EXPECT_EQ(problem_with([](AugmentConfig& c) { c.mix_prob = -0.1; }), "mix_prob must be in [0, 1] (got -0.1)");
  EXPECT_EQ(problem_with([](AugmentConfig& c) { c.room_noise_colours.clear(); }),
            "room_noise_colours must name at least one colour (white, pink or brown)");
  EXPECT_EQ(problem_with([](AugmentConfig& c) {
              c.snr_db_min = 30.0;
              c.snr_db_max = 20.0;
            }),
            "snr_db_min and snr_db_max must satisfy -20 <= snr_db_min <= snr_db_max <= 80 (got 30 and 20)");
  EXPECT_EQ(problem_with([](AugmentConfig& c) { c.rt60_min = 0.0; }),
            "rt60_min and rt60_max must satisfy 0 < rt60_min <= rt60_max <= 3 (got 0 and 1)");
  EXPECT_EQ(problem_with([](AugmentConfig& c) { c.gain_db_min = -100.0; }),
            "gain_db_min and gain_db_max must satisfy -80 <= gain_db_min <= gain_db_max <= 80 (got -100 and 10)");
  EXPECT_EQ(problem_with([](AugmentConfig& c) { c.clip_level_max = 1.2; }),
            "clip_level_min and clip_level_max must satisfy 0 < clip_level_min <= clip_level_max <= 1 "
            "(got 0.1 and 1.2)");
  EXPECT_EQ(problem_with([](AugmentConfig& c) { c.time_mask_max = -1; }), "time_mask_max must be >= 0 (got -1)");
  EXPECT_EQ(problem_with([](AugmentConfig& c) { c.mix_alpha = 0.0; }), "mix_alpha must be > 0 (got 0)");
  EXPECT_EQ(problem_with([](AugmentConfig& c) { c.highpass_max_hz = 10.0; }),
            "highpass_max_hz must be >= 20 and <= 8000 (got 10)");
  EXPECT_EQ(problem_with([](AugmentConfig& c) { c.background_dbfs_max = 3.0; }),
            "background_dbfs_min and background_dbfs_max must satisfy -200 <= background_dbfs_min <= "
            "background_dbfs_max <= 0 (got -90 and 3)");
  EXPECT_NE(problem_with([](AugmentConfig& c) { c.reverb_prob = NAN; }), "") << "NaN is never in range";
}

TEST(Augment, MixWeightKeepsTheFirstClipDominant) {
  Rng rng(11);
  double lo = 1.0;
  for (int i = 0; i < 1000; ++i) {
    const double w = draw_mix_weight(0.4, rng);
    ASSERT_GE(w, 0.5);
    ASSERT_LE(w, 1.0);
    lo = std::min(lo, w);
  }
  EXPECT_LT(lo, 0.6);  // the whole range is used
}

}  // namespace
}  // namespace escd

namespace escd {
namespace {

std::vector<float> tone(size_t n, float amplitude) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = amplitude * std::sin(0.05f * static_cast<float>(i));
  return x;
}

double rms_db(const std::vector<float>& x) {
  double sum = 0.0;
  for (float v : x) sum += static_cast<double>(v) * v;
  return 10.0 * std::log10(sum / static_cast<double>(x.size()));
}

TEST(AugmentRoom, OffByDefaultAndDrawsNothing) {
  const AugmentConfig defaults;
  std::vector<float> x = tone(4000, 0.5f);
  const std::vector<float> before = x;
  Rng used(3), untouched(3);
  augment_room(x, defaults, used);
  EXPECT_EQ(x, before);
  EXPECT_EQ(used(), untouched()) << "a recipe without rooms must replay exactly as before they existed";
}

// The mean squared first difference over the mean square: 2 for white noise, far less for pink
// (about 0.3 over a second at 16 kHz) and brown, whose power sits in the lowest bands.
double difference_ratio(const std::vector<float>& x) {
  double diff = 0.0, power = 0.0;
  for (size_t i = 1; i < x.size(); ++i) {
    diff += std::pow(double(x[i]) - x[i - 1], 2.0);
    power += double(x[i]) * x[i];
  }
  return diff / power;
}

TEST(AugmentRoom, NoiseColoursAreDrawnFromTheRecipesListAsOftenAsNamed) {
  AugmentConfig c;
  c.room_noise_prob = 1.0;
  c.snr_db_min = c.snr_db_max = 0.0;
  c.room_noise_colours = {NoiseColour::white, NoiseColour::white, NoiseColour::white, NoiseColour::brown};
  int white = 0, other = 0;
  const int rows = 200;
  for (int seed = 0; seed < rows; ++seed) {
    const std::vector<float> clean = tone(16000, 0.1f);
    std::vector<float> x = clean;
    Rng rng(static_cast<uint64_t>(seed));
    augment_room(x, c, rng);
    for (size_t i = 0; i < x.size(); ++i) x[i] -= clean[i];  // the noise alone
    const double ratio = difference_ratio(x);
    ASSERT_TRUE(ratio > 1.5 || ratio < 0.1) << "seed " << seed << ": neither white nor brown (" << ratio << ")";
    (ratio > 1.5 ? white : other) += 1;
  }
  EXPECT_NEAR(white, rows * 3 / 4, 25) << "white is named three times in four";
  EXPECT_GT(other, 0);
}

TEST(AugmentRoom, TheDefaultColoursReplayTheDrawsMadeBeforeTheRecipeHadAList) {
  AugmentConfig c;
  c.room_noise_prob = 1.0;
  for (uint64_t seed = 0; seed < 6; ++seed) {
    std::vector<float> now = tone(4000, 0.3f), before = now;
    Rng r1(seed), r2(seed);
    augment_room(now, c, r1);
    // the noise step's draws when the colour was one of the three, uniformly: the chance, the
    // colour, the SNR, the noise (the order GCC gave the last two as one call's arguments)
    std::uniform_real_distribution<double>(0.0, 1.0)(r2);
    const auto colour = static_cast<NoiseColour>(std::uniform_int_distribution<int>(0, 2)(r2));
    const double snr_db = uniform(c.snr_db_min, c.snr_db_max, r2);
    add_noise_at_snr(before, coloured_noise(before.size(), colour, r2), snr_db);
    EXPECT_EQ(now, before) << "seed " << seed;
  }
}

TEST(AugmentRoom, MicrophoneGainStaysInItsRangeAndNeverPassesFullScale) {
  AugmentConfig c;
  c.gain_db_prob = 1.0;
  c.gain_db_min = -40.0;
  c.gain_db_max = 10.0;
  double lowest = 0.0, highest = -100.0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    std::vector<float> x = tone(4000, 0.1f);
    const double before = rms_db(x);
    Rng rng(seed);
    augment_room(x, c, rng);
    const double change = rms_db(x) - before;
    lowest = std::min(lowest, change);
    highest = std::max(highest, change);
    EXPECT_LE(*std::max_element(x.begin(), x.end()), 1.0f);
  }
  EXPECT_GE(lowest, -40.0 - 1e-3);
  EXPECT_LT(lowest, -25.0) << "40 draws should reach well into the quiet end";
  EXPECT_LE(highest, 10.0 + 1e-3);
}

TEST(AugmentRoom, ClippingCutsThePeaks) {
  AugmentConfig c;
  c.clip_prob = 1.0;
  c.clip_level_min = 0.3;
  c.clip_level_max = 0.5;
  std::vector<float> x = tone(4000, 0.8f);
  Rng rng(1);
  augment_room(x, c, rng);
  const float peak = *std::max_element(x.begin(), x.end());
  EXPECT_LE(peak, 0.8f * 0.5f + 1e-6f);
  EXPECT_GE(peak, 0.8f * 0.3f - 1e-3f);
}

TEST(AugmentRoom, BackgroundExamplesAreEmptyRoomsAtTheConfiguredLevels) {
  AugmentConfig c;
  c.background_dbfs_min = -70.0;
  c.background_dbfs_max = -30.0;
  int silent = 0;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    Rng rng(seed);
    const std::vector<float> x = make_background_example(8000, c, rng);
    ASSERT_EQ(x.size(), 8000u);
    if (std::all_of(x.begin(), x.end(), [](float v) { return v == 0.0f; })) {
      ++silent;
      continue;
    }
    EXPECT_GE(rms_db(x), -70.0 - 0.2);
    EXPECT_LE(rms_db(x), -30.0 + 0.2);
  }
  EXPECT_GT(silent, 0) << "digital silence is one of the empty rooms";
  EXPECT_LT(silent, 30);
}

}  // namespace
}  // namespace escd

namespace escd {
namespace {

int rising_zero_crossings(const std::vector<float>& x) {
  int n = 0;
  for (size_t i = 1; i < x.size(); ++i) n += (x[i - 1] < 0.0f && x[i] >= 0.0f);
  return n;
}

TEST(Augment, SpeedChangesTheLengthAndKeepsTheCycles) {
  std::vector<float> x(16000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(2 * M_PI * 500.0 * i / 16000.0 + 0.1));
  AugmentConfig c;
  c.stretch_prob = 1.0;
  std::vector<double> factors;
  for (uint64_t seed = 0; seed < 6; ++seed) {
    Rng rng(seed);
    const double factor = draw_speed_factor(c, rng);
    EXPECT_GE(factor, 0.8);
    EXPECT_LE(factor, 1.25);
    const std::vector<float> y = change_speed(x, factor);
    EXPECT_EQ(y.size(), static_cast<size_t>(std::lround(16000 * factor)));
    // played slower or faster like a tape: the same 500 cycles in another length
    EXPECT_NEAR(rising_zero_crossings(y), rising_zero_crossings(x), 2);
    factors.push_back(factor);
  }
  EXPECT_NE(*std::min_element(factors.begin(), factors.end()), *std::max_element(factors.begin(), factors.end()));

  c.stretch_prob = 0.0;  // off: factor 1 and nothing drawn
  Rng used(9), fresh(9);
  EXPECT_EQ(draw_speed_factor(c, used), 1.0);
  EXPECT_EQ(used(), fresh());
}

}  // namespace
}  // namespace escd
