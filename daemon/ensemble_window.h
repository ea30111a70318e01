// The daemon's ensemble: the mean of its models' class probabilities for the same window. Every
// model closes its windows at the same frames (same window length and hop, whether it steps
// staggered sessions or recomputes the window), so the windows that close on one frame form one
// ensemble window. Averaging probabilities, not logits, keeps a model with larger logits from
// outvoting the others by scale alone (`esc-train eval` with several checkpoints does the same).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "streaming/window_result.h"

namespace escd::daemon {

class EnsembleWindow {
 public:
  explicit EnsembleWindow(size_t members) : members_(members) {}

  // Call once per frame, before the members' windows.
  void begin_frame() { added_ = 0; mismatch_ = false; }
  // One member's window that closed on this frame, and its probabilities.
  void add(const WindowResult& window, const std::vector<float>& probabilities);
  // After every member has been offered the frame: the mean probabilities, when every member closed
  // the same window on it. A frame where only some did (which would mean the schedulers disagree)
  // gives nothing and is counted in mismatched().
  std::optional<std::vector<float>> finish_frame();
  // The window of the last complete ensemble (the members' common window).
  const WindowResult& window() const { return window_; }

  uint64_t windows() const { return windows_; }
  uint64_t mismatched() const { return mismatched_; }

 private:
  size_t members_, added_ = 0;
  bool mismatch_ = false;
  WindowResult window_;
  std::vector<float> sum_;
  uint64_t windows_ = 0, mismatched_ = 0;
};

}  // namespace escd::daemon
