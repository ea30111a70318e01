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
  if (mean_.members() == 0 && !mismatch_) return std::nullopt;  // most frames: no window closed
  std::optional<std::vector<float>> out;
  if (mismatch_ || mean_.members() != members_) {
    ++mismatched_;
  } else {
    ++windows_;
    out = mean_.mean();
  }
  mean_.clear();  // only after a frame that closed windows: the others left it empty
  return out;
}

}  // namespace escd::daemon
