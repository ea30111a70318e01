#include "ensemble_window.h"

namespace escd::daemon {

void EnsembleWindow::add(const WindowResult& window, const std::vector<float>& probabilities,
                         const std::vector<std::string>& labels) {
  if (mean_.members() == 0 && !mismatch_) {
    window_ = window;
  } else if (window.end_frame != window_.end_frame || window.frames != window_.frames) {
    mismatch_ = true;
    return;
  }
  mean_.add(probabilities, labels);
}

std::optional<std::vector<float>> EnsembleWindow::finish_frame() {
  if (mean_.members() == 0 && !mismatch_) return std::nullopt;
  if (mismatch_ || mean_.members() != members_) {
    ++mismatched_;
    return std::nullopt;
  }
  ++windows_;
  return mean_.mean();
}

}  // namespace escd::daemon
