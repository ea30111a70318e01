// The daemon's ensemble: its models' class probabilities for the same window, combined as
// models/common/ensemble_mean.h says (`esc-train eval` with several checkpoints does the same). Every
// model closes its windows at the same frames (same window length and hop, whether it steps
// staggered sessions or recomputes the window), so the windows that close on one frame form one
// ensemble window.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/common/ensemble_mean.h"
#include "streaming/window_result.h"

namespace escd::daemon {

class EnsembleWindow {
 public:
  // labels: the ensemble's classes (ensemble_labels() of the members').
  EnsembleWindow(size_t members, std::vector<std::string> labels) : members_(members), mean_(std::move(labels)) {}

  // Call once per frame, before the members' windows.
  void begin_frame() { mismatch_ = false; }
  // One member's window that closed on this frame, and its probabilities over its own classes.
  void add(const WindowResult& window, const std::vector<float>& probabilities, const std::vector<std::string>& labels);
  // After every member has been offered the frame: the combined probabilities, when every member closed
  // the same window on it. A frame where only some did (which would mean the schedulers disagree)
  // gives nothing and is counted in mismatched().
  std::optional<std::vector<float>> finish_frame();
  // The window of the last complete ensemble (the members' common window).
  const WindowResult& window() const { return window_; }

  uint64_t windows() const { return windows_; }
  uint64_t mismatched() const { return mismatched_; }

 private:
  size_t members_;
  EnsembleMean mean_;
  bool mismatch_ = false;
  WindowResult window_;
  uint64_t windows_ = 0, mismatched_ = 0;
};

}  // namespace escd::daemon
