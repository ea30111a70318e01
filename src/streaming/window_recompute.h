// Sliding windows by recomputation: every hop, the model's output on the last `window` frames.
// What attention models (V-JEPA2) need, and the baseline that staggered recurrent stepping is
// measured against. Recurrent models re-run the parallel forward on a ring of the last `window`
// frames; so do attention models whose frame features depend on where the window starts (levels
// relative to the window, a MelConv time kernel), through the model's SlidingWindowForward, which
// may re-use what consecutive windows share (V-JEPA2: vjepa2/sliding_windows.h). Other attention models feed one streaming
// session, which re-runs the encoder on its latest window with the patch embeddings it already has
// (the session caps its own window at the model's maximum, so `window` must not exceed it).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "models/common/sequence_classifier.h"
#include "streaming/window_scheduler.h"

namespace escd {

class WindowRecompute : public WindowScheduler {
 public:
  WindowRecompute(SequenceClassifier& model, int64_t window_frames, int64_t hop_frames);
  std::optional<WindowResult> push(const float* frame) override;
  const char* mode() const override { return "window_recompute"; }
  int64_t sessions() const override { return 1; }

 private:
  int64_t window_, hop_, n_mels_;
  std::vector<float> ring_;  // window_ frames, frame i at slot i % window_ (models without a session here)
  std::unique_ptr<SlidingWindowForward> windows_;  // with the ring: the model on each window
  std::unique_ptr<StreamingSession> session_;  // attention models whose frame features fit every window
  int64_t frames_ = 0;
};

}  // namespace escd
