#include "ensemble_window.h"

#include <algorithm>

namespace escd::daemon {

void EnsembleWindow::add(const WindowResult& window, const std::vector<float>& probabilities) {
  if (added_ == 0) {
    window_ = window;
    sum_.assign(probabilities.begin(), probabilities.end());
  } else if (window.end_frame != window_.end_frame || window.frames != window_.frames ||
             probabilities.size() != sum_.size()) {
    mismatch_ = true;
  } else {
    for (size_t c = 0; c < sum_.size(); ++c) sum_[c] += probabilities[c];
  }
  ++added_;
}

std::optional<std::vector<float>> EnsembleWindow::finish_frame() {
  if (added_ == 0) return std::nullopt;
  if (mismatch_ || added_ != members_) {
    ++mismatched_;
    return std::nullopt;
  }
  ++windows_;
  std::vector<float> mean(sum_.size());
  std::transform(sum_.begin(), sum_.end(), mean.begin(), [this](float s) { return s / static_cast<float>(members_); });
  return mean;
}

}  // namespace escd::daemon
