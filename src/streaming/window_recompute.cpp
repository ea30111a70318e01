#include "streaming/window_recompute.h"

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>

#include <stdexcept>

namespace escd {

WindowRecompute::WindowRecompute(SequenceClassifier& model, int64_t window_frames, int64_t hop_frames)
    : window_(window_frames), hop_(hop_frames), n_mels_(model.n_mels()) {
  if (window_ < 1 || hop_ < 1) throw std::invalid_argument("window and hop must be at least one frame");
  // An attention model feeds its session unless that would not be exact; then it recomputes the
  // window from its frames, as a recurrent model does.
  if (model.streams_recurrently() || !model.session_fits_sliding_windows()) {
    ring_.assign(window_ * n_mels_, 0.0f);
    windows_ = model.start_sliding_windows();
  } else {
    session_ = model.start_session(1);
  }
}

std::optional<WindowResult> WindowRecompute::push(const float* frame) {
  if (session_) {
    session_->step(at::from_blob(const_cast<float*>(frame), {1, n_mels_}));
  } else {
    std::copy(frame, frame + n_mels_, ring_.data() + (frames_ % window_) * n_mels_);
  }
  ++frames_;
  const bool full = frames_ >= window_;
  // Full windows close every hop from the first full one on; before that, warming-up predictions.
  const bool due = full ? (frames_ - window_) % hop_ == 0 : frames_ % hop_ == 0;
  if (!due) return std::nullopt;
  const int64_t n = std::min(frames_, window_);
  if (session_) return WindowResult{session_->logits()[0], frames_, n, !full};
  at::Tensor window = at::empty({1, n, n_mels_});
  float* out = window.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t frame_index = frames_ - n + i;
    std::copy_n(ring_.data() + (frame_index % window_) * n_mels_, n_mels_, out + i * n_mels_);
  }
  at::NoGradGuard no_grad;
  return WindowResult{windows_->logits(window, frames_ - n), frames_, n, !full};
}

}  // namespace escd
