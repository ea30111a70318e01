// The filterbank's blocked apply() against the plain matrix product of its own weights, and the
// vectorised log against the scalar one. The torchaudio comparisons of whole log-mel frames are in
// test_front_end.cpp; these pin the two kernels down on their own, with shapes that stress padding.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "features/mel_filterbank.h"
#include "features/vector_log.h"

namespace escd {
namespace {

// Random non-negative power spectrum of input_size() values, zeros after the n_bins() real ones.
std::vector<float> random_power(const MelFilterbank& filterbank, int n_bins, uint32_t seed) {
  std::mt19937 rng(seed);
  std::exponential_distribution<float> d(1.0f);
  std::vector<float> power(filterbank.input_size(), 0.0f);
  for (int k = 0; k < n_bins; ++k) power[k] = d(rng);
  return power;
}

void expect_apply_equals_dense_product(const FrontEndConfig& config) {
  const MelFilterbank filterbank(config);
  const int n_bins = config.n_bins(), n_mels = config.n_mels;
  ASSERT_GE(filterbank.input_size(), n_bins);
  const std::vector<float> dense = filterbank.dense();  // [n_bins, n_mels]
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    const std::vector<float> power = random_power(filterbank, n_bins, seed);
    std::vector<float> mel(n_mels, std::numeric_limits<float>::quiet_NaN());
    filterbank.apply(power.data(), mel.data());
    for (int m = 0; m < n_mels; ++m) {
      double expected = 0.0;
      for (int k = 0; k < n_bins; ++k) expected += double(dense[k * n_mels + m]) * power[k];
      EXPECT_NEAR(mel[m], expected, 1e-5 * (1.0 + std::fabs(expected))) << "mel band " << m << ", seed " << seed;
    }
  }
}

TEST(MelFilterbank, BlockedApplyEqualsTheDenseProductAtTheDefaultSize) {
  expect_apply_equals_dense_product(FrontEndConfig{});
}

TEST(MelFilterbank, BlockedApplyEqualsTheDenseProductWhenFiltersReachTheLastBin) {
  // A small FFT: the top filters are wider than the bins left after them, so padding runs past
  // n_bins, and a whole block is wider than the spectrum.
  FrontEndConfig config;
  config.n_fft = 8;
  config.n_mels = 3;
  expect_apply_equals_dense_product(config);
  config.n_fft = 64;
  config.n_mels = 10;
  expect_apply_equals_dense_product(config);
}

TEST(MelFilterbank, EveryBandSeesOnlyItsOwnBins) {
  // A spectrum with one non-zero bin lights up exactly the bands whose dense column has a weight there.
  const FrontEndConfig config;
  const MelFilterbank filterbank(config);
  const std::vector<float> dense = filterbank.dense();
  std::vector<float> power(filterbank.input_size(), 0.0f), mel(config.n_mels);
  for (int k = 0; k < config.n_bins(); k += 7) {
    power.assign(power.size(), 0.0f);
    power[k] = 1.0f;
    filterbank.apply(power.data(), mel.data());
    for (int m = 0; m < config.n_mels; ++m) EXPECT_FLOAT_EQ(mel[m], dense[k * config.n_mels + m]) << "bin " << k;
  }
}

TEST(VectorLog, MatchesScalarLogWithinAFewUlp) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> exponent(-20.0f, 20.0f);
  std::vector<float> x(1000);  // not a multiple of any vector width
  for (float& v : x) v = std::exp(exponent(rng));
  x[0] = 0.0f;  // the offset alone: the log floor of silent bands
  const float offset = 1e-8f;
  std::vector<float> y(x.size());
  log_with_offset(x.data(), offset, y.data(), static_cast<int>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const float expected = std::log(x[i] + offset);
    EXPECT_NEAR(y[i], expected, 4 * std::numeric_limits<float>::epsilon() * std::fabs(expected) + 1e-7f) << "x = " << x[i];
  }
  // In place, as the front end calls it.
  log_with_offset(x.data(), offset, x.data(), static_cast<int>(x.size()));
  EXPECT_EQ(x, y);
}

}  // namespace
}  // namespace escd
