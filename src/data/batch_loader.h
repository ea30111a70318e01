// Training batches (log-mel features and soft labels) prepared on a background thread while the
// model trains on the previous one. Every random choice derives from (seed, epoch, position), so a
// batch is the same whichever thread builds it and whenever: a resumed run sees the same data.
#pragma once

#include <ATen/core/Tensor.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/clip_dataset.h"
#include "features/front_end_config.h"

namespace escd {

class LogMelFrameComputer;

struct LoaderOptions {
  int batch_size = 32;
  bool shuffle = true;
  bool augment = false;
  AugmentConfig augment_config;
  uint64_t seed = 0;
  bool drop_last = false;
  int prefetch = 2;  // batches prepared ahead of the consumer
  int n_classes = 50;
  // "Nothing here" rows (make_background_example), labelled background_class: this many per
  // training clip, shuffled in with the clips. 0: none (background_class is then unused).
  double background_fraction = 0.0;
  int background_class = -1;
  // Data-parallel training: this process takes rows [shard * b, (shard + 1) * b) of every batch of
  // batch_size rows, b = batch_size / shards, so that the shards together see exactly the batches of
  // one process (needs drop_last and batch_size divisible by shards).
  int shard = 0;
  int shards = 1;
  // Augmented rows are random crops of this many samples (data/training_crop.h), mixing partners
  // and background rows alike; 0: whole clips.
  size_t crop_samples = 0;
  // With augmentation: also each row as it was before the room (Batch::room_free_features), for a
  // consistency loss. The rows themselves and every random draw stay as without it.
  bool room_free_view = false;
  FrontEndConfig front_end;
};

struct Batch {
  at::Tensor features;        // [B, T, n_mels] float32 log-mel
  at::Tensor targets;         // [B, n_classes] float32 label distribution (one-hot unless mixed)
  at::Tensor labels;          // [B] int64: the dominant clip's class
  std::vector<size_t> clips;  // dataset clip index of each row (the dominant clip when mixed; kBackgroundRow)
  // With LoaderOptions::room_free_view: [B, T, n_mels], each row without its room (augment_room) but
  // with the same crop, speed, mixing and log-mel masks; undefined otherwise.
  at::Tensor room_free_features;
};

// The `clips` entry of a background row, which comes from no clip.
constexpr size_t kBackgroundRow = static_cast<size_t>(-1);

class BatchLoader {
 public:
  BatchLoader(const ClipDataset& dataset, std::vector<size_t> clips, LoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // Starts preparing the batches of `epoch` in the background (abandoning any epoch in progress).
  void start_epoch(int epoch);
  // The next batch of the current epoch, waiting for it if needed; nullopt after the last one.
  std::optional<Batch> next();

  // Builds one batch synchronously (what the background thread runs), for tests and evaluation.
  Batch make_batch(int epoch, size_t batch_index, LogMelFrameComputer& computer) const;

  size_t batches_per_epoch() const;
  // Seconds the consumer spent blocked in next(): near 0 means the model never waited for data.
  double wait_seconds() const { return wait_seconds_; }
  double produce_seconds() const { return produce_seconds_; }

 private:
  std::vector<size_t> epoch_order(int epoch) const;
  // Clip `clip`'s waveform as a row takes it: whole or a random training crop, its speed augmented
  // (then cropped or padded to the row's length).
  std::vector<float> row_waveform(size_t clip, Rng& rng) const;
  // The clip mixed into a row of class `target` (another class for between-class mixing).
  size_t mixing_partner(int target, Rng& rng) const;
  void stop_producer();
  void produce(int epoch);

  const ClipDataset& dataset_;
  std::vector<size_t> clips_;
  LoaderOptions options_;
  size_t background_rows_ = 0;  // per epoch
  size_t row_samples_ = 0;      // waveform samples per row: the crop or the whole clip

  std::thread producer_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> ready_;
  bool producer_done_ = true;
  bool stop_ = false;
  double wait_seconds_ = 0.0;
  double produce_seconds_ = 0.0;
};

}  // namespace escd
