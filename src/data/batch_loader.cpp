#include "data/batch_loader.h"

#include <ATen/Functions.h>

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "data/between_class_mix.h"
#include "data/training_crop.h"
#include "features/log_mel.h"

namespace escd {
namespace {

// splitmix64: decorrelates the generator seeds of neighbouring (seed, epoch, position) triples.
uint64_t mix_seed(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t derive_seed(uint64_t seed, uint64_t epoch, uint64_t position) {
  return mix_seed(mix_seed(mix_seed(seed) ^ epoch) ^ position);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

BatchLoader::BatchLoader(const ClipDataset& dataset, std::vector<size_t> clips, LoaderOptions options)
    : dataset_(dataset), clips_(std::move(clips)), options_(std::move(options)) {
  if (options_.shards < 1 || options_.shard < 0 || options_.shard >= options_.shards) {
    throw std::invalid_argument("BatchLoader: shard " + std::to_string(options_.shard) + " of " +
                                std::to_string(options_.shards) + " does not exist");
  }
  if (options_.shards > 1 && (options_.batch_size % options_.shards != 0 || !options_.drop_last)) {
    throw std::invalid_argument("BatchLoader: a batch of " + std::to_string(options_.batch_size) +
                                " cannot be split evenly over " + std::to_string(options_.shards) +
                                " ranks: batch_size must be a multiple of the number of ranks");
  }
  if (options_.background_fraction > 0.0) {
    if (options_.background_class < 0 || options_.background_class >= options_.n_classes) {
      throw std::invalid_argument("BatchLoader: background rows need a background class among the " +
                                  std::to_string(options_.n_classes) + " classes");
    }
    background_rows_ = static_cast<size_t>(std::llround(options_.background_fraction * clips_.size()));
  }
  if (options_.crop_samples > dataset_.clip_samples) {
    throw std::invalid_argument("BatchLoader: training crops of " + std::to_string(options_.crop_samples) +
                                " samples are longer than the clips (" + std::to_string(dataset_.clip_samples) + ")");
  }
  const bool crop = options_.augment && options_.crop_samples > 0;
  row_samples_ = crop ? options_.crop_samples : dataset_.clip_samples;
  if (options_.front_end.frames_for(row_samples_) == 0) {
    throw std::invalid_argument("BatchLoader: rows of " + std::to_string(row_samples_) +
                                " samples are shorter than one analysis frame");
  }
}

std::vector<float> BatchLoader::row_waveform(size_t clip, Rng& rng) const {
  const std::vector<float>& whole = dataset_.waveforms[clip];
  const auto hop = static_cast<size_t>(options_.front_end.hop);
  const double speed = options_.augment ? draw_speed_factor(options_.augment_config, rng) : 1.0;
  // Only the audio that will fill the row is resampled: a row of n samples at a length factor f
  // comes from n / f samples of the clip.
  const auto source = static_cast<size_t>(std::lround(static_cast<double>(row_samples_) / speed));
  std::vector<float> wave = source < whole.size() ? take_training_crop(whole, source, hop, rng) : whole;
  if (speed != 1.0) wave = change_speed(wave, speed);
  if (wave.size() != row_samples_) wave = take_training_crop(wave, row_samples_, hop, rng);
  return wave;
}

size_t BatchLoader::mixing_partner(int target, Rng& rng) const {
  std::uniform_int_distribution<size_t> any(0, clips_.size() - 1);
  size_t partner = clips_[any(rng)];
  // Between-class mixing needs another class; a few draws find one unless nearly every clip shares
  // the class, and then a same-class partner is a harmless mixup.
  for (int tries = 0; options_.augment_config.mix_between_classes && tries < 64 &&
                      dataset_.index.clips[partner].target == target;
       ++tries) {
    partner = clips_[any(rng)];
  }
  return partner;
}

BatchLoader::~BatchLoader() { stop_producer(); }

size_t BatchLoader::batches_per_epoch() const {
  const auto b = static_cast<size_t>(options_.batch_size);
  const size_t rows = clips_.size() + background_rows_;
  return options_.drop_last ? rows / b : (rows + b - 1) / b;
}

std::vector<size_t> BatchLoader::epoch_order(int epoch) const {
  std::vector<size_t> order = clips_;
  order.insert(order.end(), background_rows_, kBackgroundRow);
  if (options_.shuffle) {
    Rng rng(derive_seed(options_.seed, static_cast<uint64_t>(epoch), ~0ULL));
    std::shuffle(order.begin(), order.end(), rng);
  }
  return order;
}

Batch BatchLoader::make_batch(int epoch, size_t batch_index, LogMelFrameComputer& computer) const {
  const std::vector<size_t> order = epoch_order(epoch);
  const size_t shard_rows = static_cast<size_t>(options_.batch_size / options_.shards);
  const size_t begin = batch_index * options_.batch_size + static_cast<size_t>(options_.shard) * shard_rows;
  const size_t end = std::min(order.size(), begin + shard_rows);
  const auto rows = static_cast<int64_t>(end - begin);
  const FrontEndConfig& fe = options_.front_end;
  const auto n_frames = static_cast<int64_t>(fe.frames_for(row_samples_));

  const bool room_free_view = options_.augment && options_.room_free_view;
  Batch batch;
  batch.features = at::empty({rows, n_frames, fe.n_mels}, at::kFloat);
  if (room_free_view) batch.room_free_features = at::empty({rows, n_frames, fe.n_mels}, at::kFloat);
  batch.targets = at::zeros({rows, options_.n_classes}, at::kFloat);
  batch.labels = at::empty({rows}, at::kLong);
  float* features = batch.features.data_ptr<float>();
  float* targets = batch.targets.data_ptr<float>();
  int64_t* labels = batch.labels.data_ptr<int64_t>();

  std::vector<float> wave, before_room;
  for (int64_t r = 0; r < rows; ++r) {
    const size_t position = begin + static_cast<size_t>(r);
    const size_t clip = order[position];
    Rng rng(derive_seed(options_.seed, static_cast<uint64_t>(epoch), position));
    const bool background = clip == kBackgroundRow;
    wave = background ? make_background_example(row_samples_, options_.augment_config, rng) : row_waveform(clip, rng);
    const int target = background ? options_.background_class : dataset_.index.clips[clip].target;
    double weight = 1.0;
    if (options_.augment) {
      augment_waveform(wave, options_.augment_config, rng);
      const AugmentConfig& aug = options_.augment_config;
      // Only sound events are mixed: a background row stays "nothing here".
      if (!background && aug.mix_prob > 0.0 && std::uniform_real_distribution<double>(0, 1)(rng) < aug.mix_prob) {
        const size_t partner = mixing_partner(target, rng);
        const int partner_target = dataset_.index.clips[partner].target;
        std::vector<float> other = row_waveform(partner, rng);
        augment_waveform(other, aug, rng);
        if (aug.mix_between_classes) {
          weight = uniform(0.5, 1.0, rng);  // the row's own clip stays dominant, as in mixup
          mix_between_classes(wave, other, weight);
        } else {
          weight = draw_mix_weight(aug.mix_alpha, rng);
          for (size_t i = 0; i < wave.size(); ++i) {
            wave[i] = static_cast<float>(weight * wave[i] + (1.0 - weight) * other[i]);
          }
        }
        targets[r * options_.n_classes + partner_target] += static_cast<float>(1.0 - weight);
      }
      if (room_free_view) before_room = wave;
      augment_room(wave, aug, rng);
    }
    targets[r * options_.n_classes + target] += static_cast<float>(weight);
    labels[r] = target;
    batch.clips.push_back(clip);

    if (room_free_view) {
      // The same masks as the row's: drawn by a copy of the generator, which the row then advances.
      float* view = batch.room_free_features.data_ptr<float>() + r * n_frames * fe.n_mels;
      for (int64_t j = 0; j < n_frames; ++j) computer.compute(before_room.data() + j * fe.hop, view + j * fe.n_mels);
      Rng same_masks = rng;
      augment_log_mel(view, static_cast<int>(n_frames), fe.n_mels, options_.augment_config, same_masks);
    }
    float* out = features + r * n_frames * fe.n_mels;
    for (int64_t j = 0; j < n_frames; ++j) computer.compute(wave.data() + j * fe.hop, out + j * fe.n_mels);
    if (options_.augment) augment_log_mel(out, static_cast<int>(n_frames), fe.n_mels, options_.augment_config, rng);
  }
  return batch;
}

void BatchLoader::produce(int epoch) {
  LogMelFrameComputer computer(options_.front_end);
  const size_t n = batches_per_epoch();
  for (size_t b = 0; b < n; ++b) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || ready_.size() < static_cast<size_t>(std::max(1, options_.prefetch)); });
      if (stop_) break;
    }
    const auto t0 = std::chrono::steady_clock::now();
    Batch batch = make_batch(epoch, b, computer);
    const double took = seconds_since(t0);
    std::lock_guard<std::mutex> lock(mutex_);
    produce_seconds_ += took;
    ready_.push_back(std::move(batch));
    changed_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  producer_done_ = true;
  changed_.notify_all();
}

void BatchLoader::stop_producer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    changed_.notify_all();
  }
  if (producer_.joinable()) producer_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  stop_ = false;
  ready_.clear();
}

void BatchLoader::start_epoch(int epoch) {
  stop_producer();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    producer_done_ = false;
  }
  producer_ = std::thread([this, epoch] { produce(epoch); });
}

std::optional<Batch> BatchLoader::next() {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || producer_done_; });
  wait_seconds_ += seconds_since(t0);
  if (ready_.empty()) return std::nullopt;
  Batch batch = std::move(ready_.front());
  ready_.pop_front();
  changed_.notify_all();
  return batch;
}

}  // namespace escd
