#include "streaming/staggered_windows.h"

#include <ATen/Functions.h>

#include <stdexcept>

namespace escd {

StaggeredWindows::StaggeredWindows(SequenceClassifier& model, int64_t window_frames, int64_t hop_frames)
    : window_(window_frames), hop_(hop_frames) {
  if (window_ < 1 || hop_ < 1) throw std::invalid_argument("window and hop must be at least one frame");
  rows_ = (window_ + hop_ - 1) / hop_;
  session_ = model.start_session(rows_);
  input_ = at::zeros({rows_, model.n_mels()});
  started_at_.assign(rows_, -1);
}

std::optional<WindowResult> StaggeredWindows::push(const float* frame) {
  const int64_t f = frames_;
  if (f % hop_ == 0) {
    // A new window starts with this frame, in the row whose previous window closed longest ago.
    const int64_t row = (f / hop_) % rows_;
    session_->reset_row(row);
    started_at_[row] = f;
  }
  const int64_t n_mels = input_.size(1);
  float* in = input_.data_ptr<float>();
  for (int64_t r = 0; r < rows_; ++r) std::copy(frame, frame + n_mels, in + r * n_mels);
  session_->step(input_);
  ++frames_;

  for (int64_t r = 0; r < rows_; ++r) {
    if (started_at_[r] >= 0 && frames_ - started_at_[r] == window_) {
      started_at_[r] = -1;  // retired until its next turn
      return WindowResult{session_->logits()[r].clone(), frames_, window_, false};
    }
  }
  // Before the first full window, report the oldest row (it started at frame 0) at each hop.
  if (frames_ < window_ && frames_ % hop_ == 0) {
    return WindowResult{session_->logits()[0].clone(), frames_, frames_, true};
  }
  return std::nullopt;
}

}  // namespace escd
