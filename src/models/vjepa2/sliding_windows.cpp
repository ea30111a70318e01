#include "models/vjepa2/sliding_windows.h"

#include <ATen/Functions.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "models/common/window_level.h"
#include "models/vjepa2/tubelets.h"
#include "models/vjepa2/vjepa2.h"

namespace escd::vjepa2 {

Vjepa2SlidingWindows::Vjepa2SlidingWindows(Vjepa2Classifier& model) : model_(model) {
  if (!model.mel_conv) throw std::invalid_argument("Vjepa2SlidingWindows: the model has no MelConv");
  context_ = static_cast<int64_t>(model.mel_conv->layers()) * (model.mel_conv->time_kernel() - 1);
}

std::vector<float> Vjepa2SlidingWindows::key_of(const float* reference, int64_t i) const {
  std::vector<float> key(static_cast<size_t>(context_ + 1));
  for (int64_t j = 0; j <= context_; ++j) {
    const int64_t frame = i - context_ + j;
    key[j] = frame < 0 ? std::numeric_limits<float>::infinity() : reference[frame];
  }
  return key;
}

at::Tensor Vjepa2SlidingWindows::logits(const at::Tensor& frames, int64_t first_frame) {
  c10::InferenceMode inference;
  const Options& options = model_.options();
  if (frames.dim() != 3 || frames.size(0) != 1) {
    throw std::invalid_argument("Vjepa2SlidingWindows: expected one window, [1, T, n_mels]");
  }
  const int64_t T = frames.size(1), F = options.tubelet_frames;
  const int64_t tubelets = std::min(T / F, options.max_tubelets);
  if (tubelets == 0) return model_.forward(frames)[0];  // forward()'s own error for too few frames
  const at::Tensor raw = frames.to(at::kFloat).contiguous();
  // The normalised frames exactly as normalise() makes them, and the reference they were made with.
  at::Tensor reference, normalised;
  if (model_.level_norm() == LevelNorm::window_max) {
    reference = window_reference(raw);
    normalised = model_.standardise(relative_to_reference(raw, reference));
  } else {
    reference = at::zeros({1, T, 1});
    normalised = model_.standardise(raw);
  }
  reference = reference.contiguous();
  const float* references = reference.data_ptr<float>();

  // The latest `used` frames make the tokens (cut_tubelets keeps the latest whole tubelets).
  const int64_t used = tubelets * F, first_used = T - used;
  std::vector<std::vector<float>> keys(static_cast<size_t>(used));
  std::vector<const Features*> found(static_cast<size_t>(used), nullptr);
  for (int64_t i = first_used; i < T; ++i) {
    keys[i - first_used] = key_of(references, i);
    const auto hit = cache_.find(first_frame + i);
    if (hit != cache_.end() && hit->second.key == keys[i - first_used]) found[i - first_used] = &hit->second;
  }
  // Frames the cache does not hold, in runs: each run's MelConv starts its context before it.
  last_computed_ = 0;
  for (int64_t a = 0; a < used;) {
    if (found[a] != nullptr) {
      ++a;
      continue;
    }
    int64_t b = a;
    while (b < used && found[b] == nullptr) ++b;
    const int64_t start = std::max<int64_t>(0, first_used + a - context_), end = first_used + b;
    const at::Tensor computed = model_.by_band(model_.mel_conv->forward(normalised.slice(1, start, end)))[0].contiguous();
    const int64_t width = computed.size(1);
    for (int64_t i = a; i < b; ++i) {
      const float* row = computed.data_ptr<float>() + (first_used + i - start) * width;
      Features& entry = cache_[first_frame + first_used + i];
      entry.key = std::move(keys[i]);
      entry.values.assign(row, row + width);
      found[i] = &entry;
    }
    last_computed_ += b - a;
    a = b;
  }
  // Frames before this window's tokens are never needed again (windows only move forward).
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = it->first < first_frame + first_used ? cache_.erase(it) : std::next(it);
  }

  const auto width = static_cast<int64_t>(found.front()->values.size());
  at::Tensor features = at::empty({1, used, width});
  float* out = features.data_ptr<float>();
  for (int64_t i = 0; i < used; ++i) std::copy(found[i]->values.begin(), found[i]->values.end(), out + i * width);
  const at::Tensor patches = cut_tubelets(features, F, options.patch_width(), options.max_tubelets);
  return model_.classify_embedded(model_.encoder->embed(patches), tubelets)[0];
}

}  // namespace escd::vjepa2
