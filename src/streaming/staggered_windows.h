// Exact sliding windows over a recurrent model without recomputing them (Liquid-S4, Mamba).
//
// A fresh session row starts at every hop; K = ceil(window / hop) rows are alive and stepped
// together as one batch; the row that has seen exactly `window` frames gives that window's
// prediction and is retired until its turn to restart. Each window is thus the model's output on
// exactly the frames of that window from a zero state, as in training, at K row-steps per frame
// instead of a full window per hop.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "models/common/sequence_classifier.h"
#include "streaming/window_scheduler.h"

namespace escd {

class StaggeredWindows : public WindowScheduler {
 public:
  StaggeredWindows(SequenceClassifier& model, int64_t window_frames, int64_t hop_frames);

  std::optional<WindowResult> push(const float* frame) override;
  const char* mode() const override { return "exact_staggered"; }
  int64_t sessions() const override { return rows_; }

 private:
  int64_t window_, hop_, rows_;
  std::unique_ptr<StreamingSession> session_;
  at::Tensor input_;                 // [rows, n_mels], every row gets the same frame
  std::vector<int64_t> started_at_;  // frame index at which each row was reset, -1 = idle
  int64_t frames_ = 0;
};

}  // namespace escd
