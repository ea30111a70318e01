// The batch pipeline: shapes, label distributions, coverage of an epoch, and reproducibility
// (a batch is the same whether built in the background or directly, in any run).
#include <gtest/gtest.h>

#include <ATen/Functions.h>

#include <memory>
#include <random>
#include <set>

#include "data/batch_loader.h"
#include "features/log_mel_frame.h"

namespace escd {
namespace {

ClipDataset synthetic_dataset(size_t clips) {
  ClipDataset data;
  std::mt19937_64 rng(1);
  std::normal_distribution<float> d(0.0f, 0.1f);
  for (size_t i = 0; i < clips; ++i) {
    ClipInfo clip;
    clip.filename = "clip" + std::to_string(i);
    clip.fold = 1 + static_cast<int>(i % 5);
    clip.target = static_cast<int>(i % 50);
    data.index.clips.push_back(clip);
    std::vector<float> w(data.clip_samples);
    for (float& v : w) v = d(rng);
    data.waveforms.push_back(std::move(w));
  }
  data.index.class_names.assign(50, "c");
  return data;
}

std::vector<size_t> all_clips(const ClipDataset& d) {
  std::vector<size_t> v(d.waveforms.size());
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(BatchLoader, EpochCoversEveryClipOnceWithOneHotTargets) {
  const ClipDataset data = synthetic_dataset(10);
  LoaderOptions options;
  options.batch_size = 4;
  BatchLoader loader(data, all_clips(data), options);
  EXPECT_EQ(loader.batches_per_epoch(), 3u);
  loader.start_epoch(0);
  std::multiset<size_t> seen;
  std::vector<int64_t> sizes;
  while (auto batch = loader.next()) {
    sizes.push_back(batch->features.size(0));
    EXPECT_EQ(batch->features.sizes(), (at::IntArrayRef{batch->features.size(0), 155, 128}));
    EXPECT_TRUE(at::allclose(batch->targets.sum(1), at::ones({batch->features.size(0)})));
    EXPECT_TRUE(at::equal(batch->targets.argmax(1), batch->labels));
    for (size_t k = 0; k < batch->clips.size(); ++k) {
      EXPECT_EQ(batch->labels[k].item<int64_t>(), data.index.clips[batch->clips[k]].target);
      seen.insert(batch->clips[k]);
    }
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 2}));
  EXPECT_EQ(seen, std::multiset<size_t>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(BatchLoader, BackgroundBatchesEqualDirectOnesAndRepeatAcrossRuns) {
  const ClipDataset data = synthetic_dataset(12);
  LoaderOptions options;
  options.batch_size = 5;
  options.augment = true;
  options.augment_config.mix_prob = 0.5;
  options.seed = 77;
  BatchLoader a(data, all_clips(data), options), b(data, all_clips(data), options);
  LogMelFrameComputer computer;
  a.start_epoch(3);
  for (size_t i = 0; i < a.batches_per_epoch(); ++i) {
    auto got = a.next();
    ASSERT_TRUE(got);
    const Batch direct = b.make_batch(3, i, computer);
    EXPECT_TRUE(at::equal(got->features, direct.features));
    EXPECT_TRUE(at::equal(got->targets, direct.targets));
    EXPECT_EQ(got->clips, direct.clips);
  }
  EXPECT_FALSE(a.next());
}

TEST(BatchLoader, EpochsDifferAndSeedsDiffer) {
  const ClipDataset data = synthetic_dataset(20);
  LoaderOptions options;
  options.batch_size = 20;
  options.augment = true;
  BatchLoader loader(data, all_clips(data), options);
  LogMelFrameComputer computer;
  const Batch e0 = loader.make_batch(0, 0, computer), e1 = loader.make_batch(1, 0, computer);
  EXPECT_NE(e0.clips, e1.clips);
  options.seed = 1;
  BatchLoader other(data, all_clips(data), options);
  EXPECT_NE(other.make_batch(0, 0, computer).clips, e0.clips);
}

TEST(BatchLoader, MixingSpreadsTheTargetOverTwoClasses) {
  const ClipDataset data = synthetic_dataset(50);
  LoaderOptions options;
  options.batch_size = 50;
  options.augment = true;
  options.augment_config.mix_prob = 1.0;
  BatchLoader loader(data, all_clips(data), options);
  LogMelFrameComputer computer;
  const Batch batch = loader.make_batch(0, 0, computer);
  EXPECT_TRUE(at::allclose(batch.targets.sum(1), at::ones({50})));
  const int64_t mixed = batch.targets.gt(0).sum(1).eq(2).sum().item<int64_t>();
  EXPECT_GT(mixed, 40);  // the partner is the same class only by chance (1 in 50)
  EXPECT_TRUE(at::equal(batch.targets.argmax(1), batch.labels));
}

// The room-free view (for the consistency loss) is each row before its room: identical to the row
// when no room is simulated, different under room noise, and asking for it changes no row.
TEST(BatchLoader, TheRoomFreeViewIsEachRowWithoutItsRoom) {
  const ClipDataset data = synthetic_dataset(16);
  LoaderOptions options;
  options.batch_size = 16;
  options.augment = true;
  options.augment_config.mix_prob = 0.5;
  options.augment_config.time_mask_prob = options.augment_config.freq_mask_prob = 1.0;
  LogMelFrameComputer computer;
  {
    LoaderOptions no_room = options;
    no_room.room_free_view = true;
    const Batch batch = BatchLoader(data, all_clips(data), no_room).make_batch(0, 0, computer);
    ASSERT_TRUE(batch.room_free_features.defined());
    EXPECT_TRUE(at::equal(batch.room_free_features, batch.features)) << "same crop, mixing and masks";
  }
  options.augment_config.room_noise_prob = 1.0;
  options.augment_config.snr_db_min = options.augment_config.snr_db_max = 0.0;
  const Batch plain = BatchLoader(data, all_clips(data), options).make_batch(2, 0, computer);
  EXPECT_FALSE(plain.room_free_features.defined());
  options.room_free_view = true;
  const Batch viewed = BatchLoader(data, all_clips(data), options).make_batch(2, 0, computer);
  EXPECT_TRUE(at::equal(viewed.features, plain.features)) << "the view changed the rows themselves";
  EXPECT_TRUE(at::equal(viewed.targets, plain.targets));
  ASSERT_EQ(viewed.room_free_features.sizes(), viewed.features.sizes());
  for (int64_t r = 0; r < 16; ++r) {
    EXPECT_FALSE(at::equal(viewed.room_free_features[r], viewed.features[r])) << "row " << r << " has no noise";
  }
}

TEST(BatchLoader, WithoutAugmentationFeaturesAreThePlainFrontEnd) {
  const ClipDataset data = synthetic_dataset(3);
  LoaderOptions options;
  options.batch_size = 3;
  options.shuffle = false;
  BatchLoader loader(data, all_clips(data), options);
  LogMelFrameComputer computer;
  const Batch batch = loader.make_batch(0, 0, computer);
  std::vector<float> frame(128);
  computer.compute(data.waveforms[1].data() + 512 * 7, frame.data());
  EXPECT_TRUE(at::equal(batch.features[1][7], at::from_blob(frame.data(), {128}, at::kFloat)));
}

TEST(BatchLoader, AbandoningAnEpochMidwayIsSafe) {
  const ClipDataset data = synthetic_dataset(30);
  LoaderOptions options;
  options.batch_size = 2;
  BatchLoader loader(data, all_clips(data), options);
  loader.start_epoch(0);
  ASSERT_TRUE(loader.next());
  loader.start_epoch(1);  // restarts with the producer still running
  size_t n = 0;
  while (loader.next()) ++n;
  EXPECT_EQ(n, loader.batches_per_epoch());
}

}  // namespace
}  // namespace escd

namespace escd {
namespace {

TEST(BatchLoader, BackgroundRowsJoinTheEpochWithTheirOwnLabel) {
  const ClipDataset data = synthetic_dataset(20);
  LoaderOptions options;
  options.batch_size = 8;
  options.augment = true;
  options.augment_config.mix_prob = 1.0;  // clips are always mixed; background rows never
  options.n_classes = 51;
  options.background_fraction = 0.5;
  options.background_class = 50;
  BatchLoader loader(data, all_clips(data), options);
  EXPECT_EQ(loader.batches_per_epoch(), 4u);  // 20 clips + 10 background rows in batches of 8
  loader.start_epoch(0);
  size_t background = 0, clips = 0;
  while (auto batch = loader.next()) {
    for (size_t r = 0; r < batch->clips.size(); ++r) {
      const at::Tensor target = batch->targets[static_cast<int64_t>(r)];
      if (batch->clips[r] == kBackgroundRow) {
        ++background;
        EXPECT_EQ(batch->labels[static_cast<int64_t>(r)].item<int64_t>(), 50);
        EXPECT_FLOAT_EQ(target[50].item<float>(), 1.0f) << "a background row is never mixed";
      } else {
        ++clips;
        EXPECT_FLOAT_EQ(target[50].item<float>(), 0.0f);
        EXPECT_NEAR(target.sum().item<float>(), 1.0f, 1e-5);
      }
    }
  }
  EXPECT_EQ(background, 10u);
  EXPECT_EQ(clips, 20u);
  // Reproducible like every other row.
  LogMelFrameComputer computer(options.front_end);
  EXPECT_TRUE(at::equal(loader.make_batch(3, 1, computer).features, loader.make_batch(3, 1, computer).features));
}

TEST(BatchLoader, BackgroundRowsNeedABackgroundClass) {
  const ClipDataset data = synthetic_dataset(4);
  LoaderOptions options;
  options.background_fraction = 0.25;  // background_class left unset
  EXPECT_THROW(BatchLoader(data, all_clips(data), options), std::invalid_argument);
}

// Data-parallel ranks: the shards of a batch, stacked in rank order, are the batch one process
// builds (rows, augmentation, mixing and background rows alike), for any number of shards.
TEST(BatchLoader, ShardsOfABatchTogetherAreTheWholeBatch) {
  const ClipDataset data = synthetic_dataset(26);
  LoaderOptions options;
  options.batch_size = 8;
  options.drop_last = true;
  options.augment = true;
  options.augment_config.mix_prob = 0.5;
  options.background_fraction = 0.25;
  options.background_class = 49;
  options.seed = 5;
  const BatchLoader whole(data, all_clips(data), options);
  LogMelFrameComputer computer;
  for (int shards : {2, 4}) {
    SCOPED_TRACE(std::to_string(shards) + " shards");
    std::vector<std::unique_ptr<BatchLoader>> ranks;
    for (int r = 0; r < shards; ++r) {
      LoaderOptions mine = options;
      mine.shard = r;
      mine.shards = shards;
      ranks.push_back(std::make_unique<BatchLoader>(data, all_clips(data), mine));
      EXPECT_EQ(ranks.back()->batches_per_epoch(), whole.batches_per_epoch());
    }
    for (size_t i = 0; i < whole.batches_per_epoch(); ++i) {
      const Batch expected = whole.make_batch(2, i, computer);
      std::vector<at::Tensor> features, targets;
      std::vector<size_t> clips;
      for (const auto& rank : ranks) {
        const Batch part = rank->make_batch(2, i, computer);
        EXPECT_EQ(part.features.size(0), 8 / shards);
        features.push_back(part.features);
        targets.push_back(part.targets);
        clips.insert(clips.end(), part.clips.begin(), part.clips.end());
      }
      EXPECT_TRUE(at::equal(at::cat(features), expected.features)) << "batch " << i;
      EXPECT_TRUE(at::equal(at::cat(targets), expected.targets)) << "batch " << i;
      EXPECT_EQ(clips, expected.clips) << "batch " << i;
    }
  }
  // A batch the ranks cannot share evenly, or a shard that does not exist, is refused.
  LoaderOptions uneven = options;
  uneven.shards = 3;
  EXPECT_THROW(BatchLoader(data, all_clips(data), uneven), std::invalid_argument);
  LoaderOptions outside = options;
  outside.shards = 2;
  outside.shard = 2;
  EXPECT_THROW(BatchLoader(data, all_clips(data), outside), std::invalid_argument);
}

}  // namespace
}  // namespace escd
