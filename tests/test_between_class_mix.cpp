// Between-class mixing: the weights follow the levels as the paper's formula says, equal levels mix
// by the label ratio, the mixture keeps its power, and the loader pairs clips of different classes.
#include <gtest/gtest.h>

#include <ATen/Functions.h>

#include <cmath>
#include <numeric>
#include <stdexcept>

#include "data/batch_loader.h"
#include "data/between_class_mix.h"
#include "features/log_mel_frame.h"

namespace escd {
namespace {

std::vector<float> tone(size_t n, float amplitude, double hz) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = amplitude * static_cast<float>(std::sin(2 * M_PI * hz * i / 16000.0));
  return x;
}

TEST(BetweenClassMix, PeakLevelIsThePowerOfTheLoudestFrame) {
  std::vector<float> x(16000, 0.0f);
  const std::vector<float> burst = tone(2048, 0.5f, 1000.0);
  std::copy(burst.begin(), burst.end(), x.begin() + 8000);
  EXPECT_NEAR(peak_frame_level_db(x), 10 * std::log10(0.125), 0.1);  // a sine of amplitude a: power a^2/2
  EXPECT_DOUBLE_EQ(peak_frame_level_db(std::vector<float>(4000, 0.0f)), -100.0);
}

TEST(BetweenClassMix, WeightsFollowTheLevelsAsTheFormulaSays) {
  EXPECT_NEAR(between_class_weight(0.7, -20.0, -20.0), 0.7, 1e-12);
  // a 20 dB louder first clip gets a tenth of the odds: p / (1 - p) = 1 / 10 at r = 0.5
  const double p = between_class_weight(0.5, -10.0, -30.0);
  EXPECT_NEAR(p / (1 - p), 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(between_class_weight(1.0, 0.0, -50.0), 1.0);
  EXPECT_DOUBLE_EQ(between_class_weight(0.0, 0.0, -50.0), 0.0);
}

TEST(BetweenClassMix, EqualLevelsMixByTheRatioAndKeepThePower) {
  std::vector<float> a = tone(16000, 0.3f, 440.0);
  const std::vector<float> b = tone(16000, 0.3f, 1330.0);
  const std::vector<float> a0 = a;
  mix_between_classes(a, b, 0.75);
  // equal amplitudes: peak frame levels within a few hundredths of a dB, so p is nearly r
  const double p = between_class_weight(0.75, peak_frame_level_db(a0), peak_frame_level_db(b));
  EXPECT_NEAR(p, 0.75, 0.005);
  const double scale = 1.0 / std::sqrt(p * p + (1 - p) * (1 - p));
  for (size_t i = 0; i < a.size(); i += 997) EXPECT_NEAR(a[i], (p * a0[i] + (1 - p) * b[i]) * scale, 1e-5);
  // two uncorrelated tones of equal power: the mixture has the same power
  double power_before = 0, power_after = 0;
  for (size_t i = 0; i < a.size(); ++i) power_before += a0[i] * a0[i], power_after += a[i] * a[i];
  EXPECT_NEAR(power_after / power_before, 1.0, 0.01);
  EXPECT_THROW(mix_between_classes(a, b, 1.5), std::invalid_argument);
}

TEST(BetweenClassMix, TheLoaderMixesOnlyDifferentClassesWithRatiosOverOneHalf) {
  ClipDataset data;
  for (size_t i = 0; i < 8; ++i) {
    ClipInfo clip;
    clip.filename = "clip" + std::to_string(i);
    clip.fold = 1;
    clip.target = static_cast<int>(i % 2);  // two classes: a same-class partner would be common
    data.index.clips.push_back(clip);
    data.waveforms.push_back(tone(data.clip_samples, 0.1f + 0.05f * i, 300.0 + 200.0 * i));
  }
  data.index.class_names = {"a", "b"};
  std::vector<size_t> clips(8);
  std::iota(clips.begin(), clips.end(), 0);
  LoaderOptions options;
  options.batch_size = 8;
  options.n_classes = 2;
  options.augment = true;
  options.augment_config.mix_prob = 1.0;
  options.augment_config.mix_between_classes = true;
  options.augment_config.time_mask_prob = options.augment_config.freq_mask_prob = 0.0;
  BatchLoader loader(data, clips, options);
  LogMelFrameComputer computer;
  for (int epoch = 0; epoch < 4; ++epoch) {
    const Batch batch = loader.make_batch(epoch, 0, computer);
    for (int64_t r = 0; r < batch.targets.size(0); ++r) {
      const float own = batch.targets[r][batch.labels[r].item<int64_t>()].item<float>();
      EXPECT_GE(own, 0.5f);
      EXPECT_LT(own, 1.0f) << "every row is mixed with the other class";
    }
  }
}

}  // namespace
}  // namespace escd
