#include "models/common/window_level.h"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace escd {
namespace {

// The floor in the natural-log power units of the log-mel: 80 dB = 8 ln 10.
const float kFloor = static_cast<float>(kWindowLevelFloorDb / 10.0 * std::log(10.0));

// ln(sum_m exp(x_m)) of one frame, computed stably.
float frame_level(const float* x, int64_t n) {
  const float top = *std::max_element(x, x + n);
  double sum = 0.0;
  for (int64_t m = 0; m < n; ++m) sum += std::exp(static_cast<double>(x[m] - top));
  return top + static_cast<float>(std::log(sum));
}

}  // namespace

LevelNorm parse_level_norm(const std::string& text) {
  if (text == "none") return LevelNorm::none;
  if (text == "window_max") return LevelNorm::window_max;
  throw std::invalid_argument("level_norm: expected \"none\" or \"window_max\", got \"" + text + "\"");
}

const char* level_norm_name(LevelNorm norm) { return norm == LevelNorm::window_max ? "window_max" : "none"; }

at::Tensor relative_to_window_max(const at::Tensor& frames) {
  if (frames.dim() != 3) throw std::invalid_argument("relative_to_window_max: expected [B, T, n_mels] frames");
  return relative_to_reference(frames, window_reference(frames));
}

at::Tensor window_reference(const at::Tensor& frames) {
  if (frames.dim() != 3) throw std::invalid_argument("window_reference: expected [B, T, n_mels] frames");
  // The reference carries no gradient: it is a property of the input, not of the model.
  const at::Tensor level = at::logsumexp(frames.detach(), {2}, /*keepdim=*/true);  // [B, T, 1]
  return std::get<0>(at::cummax(level, 1));
}

at::Tensor relative_to_reference(const at::Tensor& frames, const at::Tensor& reference) {
  return at::clamp_min(frames - reference, -kFloor);
}

WindowLevelTracker::WindowLevelTracker(int64_t rows)
    : reference_(static_cast<size_t>(rows), -std::numeric_limits<float>::infinity()) {}

void WindowLevelTracker::apply(float* frames, int64_t rows, int64_t n_mels) {
  if (rows > static_cast<int64_t>(reference_.size())) {
    throw std::invalid_argument("WindowLevelTracker: " + std::to_string(rows) + " rows for a tracker of " +
                                std::to_string(reference_.size()));
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* x = frames + r * n_mels;
    float& reference = reference_[static_cast<size_t>(r)];
    reference = std::max(reference, frame_level(x, n_mels));
    for (int64_t m = 0; m < n_mels; ++m) x[m] = std::max(x[m] - reference, -kFloor);
  }
}

void WindowLevelTracker::clear(int64_t row) {
  const float none = -std::numeric_limits<float>::infinity();
  if (row < 0) {
    std::fill(reference_.begin(), reference_.end(), none);
  } else {
    reference_.at(static_cast<size_t>(row)) = none;
  }
}

}  // namespace escd
