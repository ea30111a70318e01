// What the daemon asks of a model's windows: frames in, a prediction each time a window closes. Two
// schedulers give the same windows (staggered_windows.h for recurrent models, window_recompute.h
// otherwise); make_window_scheduler() picks the one the model can run exactly.
#pragma once

#include <memory>
#include <optional>

#include "models/common/sequence_classifier.h"
#include "streaming/window_result.h"

namespace escd {

class WindowScheduler {
 public:
  virtual ~WindowScheduler() = default;
  // Consumes one log-mel frame (n_mels floats). Returns a prediction when a window closes: every
  // hop once the first full window has been heard, and every hop before that as a warming-up
  // prediction over the frames heard so far.
  virtual std::optional<WindowResult> push(const float* frame) = 0;
  // For esc.health: how the windows are computed, and how many sessions are stepped per frame.
  virtual const char* mode() const = 0;
  virtual int64_t sessions() const = 0;
};

// Staggered sessions for a model that streams recurrently, recomputation otherwise.
std::unique_ptr<WindowScheduler> make_window_scheduler(SequenceClassifier& model, int64_t window_frames,
                                                       int64_t hop_frames);

}  // namespace escd
