// Sliding windows by recomputation: keeps the last `window` frames and runs the parallel forward on
// them every hop. What attention models (V-JEPA2) need, and the baseline that staggered recurrent
// stepping is measured against.
#pragma once

#include <optional>
#include <vector>

#include "models/common/sequence_classifier.h"
#include "streaming/window_result.h"

namespace escd {

class WindowRecompute {
 public:
  WindowRecompute(SequenceClassifier& model, int64_t window_frames, int64_t hop_frames);
  std::optional<WindowResult> push(const float* frame);
  int64_t frames_consumed() const { return frames_; }

 private:
  SequenceClassifier& model_;
  int64_t window_, hop_, n_mels_;
  std::vector<float> ring_;  // window_ frames, oldest at ring_start_
  int64_t frames_ = 0;
};

}  // namespace escd
