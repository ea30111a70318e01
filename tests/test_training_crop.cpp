// Random training crops: a crop holds the clip's sound, starts are spread over the eligible grid,
// short signals are padded, and the loader's crops have the crop's frame count while unaugmented
// rows stay whole.
#include <gtest/gtest.h>

#include <ATen/Functions.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <stdexcept>

#include "data/batch_loader.h"
#include "data/training_crop.h"
#include "features/log_mel_frame.h"

namespace escd {
namespace {

TEST(TrainingCrop, ACropOfAShortSoundInSilenceAlwaysHoldsTheSound) {
  std::vector<float> clip(80000, 0.0f);
  for (size_t i = 60000; i < 61000; ++i) clip[i] = 0.5f;  // a 62.5 ms burst near the end
  std::set<size_t> starts;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Rng rng(seed);
    const size_t start = choose_crop_start(clip, 40000, 160, kCropEnergyFraction, rng);
    const auto s = static_cast<int64_t>(start);
    const int64_t overlap = std::min<int64_t>(s + 40000, 61000) - std::max<int64_t>(s, 60000);
    EXPECT_GE(overlap, 250) << "seed " << seed << ": a crop holds at least a quarter of the sound's energy";
    EXPECT_EQ(start % 160, 0u);
    starts.insert(start);
  }
  EXPECT_GT(starts.size(), 50u) << "the crops should move around the sound";
}

TEST(TrainingCrop, AnEvenSignalIsCroppedAnywhereOnTheGrid) {
  const std::vector<float> clip(80000, 0.1f);
  std::set<size_t> starts;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Rng rng(seed);
    const size_t start = choose_crop_start(clip, 40000, 160, kCropEnergyFraction, rng);
    EXPECT_LE(start, 40000u);
    starts.insert(start);
  }
  EXPECT_LT(*starts.begin(), 4000u);
  EXPECT_GT(*starts.rbegin(), 36000u);
}

TEST(TrainingCrop, AShortSignalStartsAtZeroAndIsPadded) {
  const std::vector<float> clip(1000, 0.25f);
  Rng rng(3);
  const std::vector<float> crop = take_training_crop(clip, 1600, 160, rng);
  ASSERT_EQ(crop.size(), 1600u);
  EXPECT_FLOAT_EQ(crop[999], 0.25f);
  EXPECT_FLOAT_EQ(crop[1000], 0.0f);
  EXPECT_THROW(choose_crop_start(clip, 0, 160, 0.25, rng), std::invalid_argument);
}

ClipDataset loud_middle_dataset(size_t clips) {
  ClipDataset data;
  for (size_t i = 0; i < clips; ++i) {
    ClipInfo clip;
    clip.filename = "clip" + std::to_string(i);
    clip.fold = 1;
    clip.target = static_cast<int>(i % 50);
    data.index.clips.push_back(clip);
    std::vector<float> w(data.clip_samples, 0.0f);
    for (size_t k = 30000; k < 50000; ++k) w[k] = (k % 37 < 18) ? 0.3f : -0.3f;
    data.waveforms.push_back(std::move(w));
  }
  data.index.class_names.assign(50, "c");
  return data;
}

TEST(TrainingCrop, TheLoaderCropsAugmentedRowsAndKeepsOthersWhole) {
  const ClipDataset data = loud_middle_dataset(6);
  std::vector<size_t> clips(data.waveforms.size());
  std::iota(clips.begin(), clips.end(), 0);
  LoaderOptions options;
  options.batch_size = 3;
  options.augment = true;
  options.augment_config.mix_prob = 1.0;
  options.background_fraction = 0.5;
  options.background_class = 49;
  options.crop_samples = 40000;
  const size_t crop_frames = options.front_end.frames_for(40000);
  BatchLoader cropped(data, clips, options);
  LogMelFrameComputer computer;
  const Batch batch = cropped.make_batch(0, 0, computer);
  EXPECT_EQ(batch.features.size(1), static_cast<int64_t>(crop_frames));
  EXPECT_LT(crop_frames, options.front_end.frames_for(data.clip_samples));

  options.augment_config.stretch_prob = 1.0;  // stretched rows are cut or padded to the same length
  BatchLoader stretched(data, clips, options);
  EXPECT_EQ(stretched.make_batch(0, 0, computer).features.size(1), static_cast<int64_t>(crop_frames));
  options.crop_samples = 0;
  BatchLoader stretched_whole(data, clips, options);
  EXPECT_EQ(stretched_whole.make_batch(0, 0, computer).features.size(1),
            static_cast<int64_t>(options.front_end.frames_for(data.clip_samples)));
  options.crop_samples = 40000;
  options.augment_config.stretch_prob = 0.0;

  options.augment = false;
  BatchLoader whole(data, clips, options);
  EXPECT_EQ(whole.make_batch(0, 0, computer).features.size(1),
            static_cast<int64_t>(options.front_end.frames_for(data.clip_samples)));

  options.augment = true;
  options.crop_samples = data.clip_samples + 1;
  EXPECT_THROW(BatchLoader(data, clips, options), std::invalid_argument);
  options.crop_samples = 10;  // shorter than one analysis frame
  EXPECT_THROW(BatchLoader(data, clips, options), std::invalid_argument);
}

}  // namespace
}  // namespace escd
