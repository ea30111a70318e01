// One model in the daemon: its checkpoint, its window scheduler (staggered recurrent sessions, or
// window recomputation for attention models), its event detector and its latency statistics.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "daemon_options.h"
#include "models/common/checkpoint.h"
#include "streaming/event_detector.h"
#include "streaming/latency_stats.h"
#include "streaming/window_scheduler.h"

namespace escd::daemon {

// Where a model's checkpoint is: --checkpoint, then [models.<name>] in the config, then the
// installed models directory, then the source tree's models/. Throws with the places tried.
std::string resolve_checkpoint(const std::string& model, const DaemonOptions& options);

class ModelRunner {
 public:
  ModelRunner(const std::string& name, const std::string& checkpoint_path, int64_t hop_frames,
              const EventConfig& events);

  // One log-mel frame; a window prediction when one closes.
  std::optional<WindowResult> push(const float* frame);
  // Forgets every frame heard: the next frame starts a new stream (frame 0, warming up again).
  // Used after a gap in the input, so that no window mixes audio from both sides of it.
  void restart();

  const std::string& name() const { return name_; }
  const Checkpoint& checkpoint() const { return checkpoint_; }
  EventDetector& events() { return events_; }
  nlohmann::json health() const;  // checkpoint, hash, latencies, windows
  const char* mode() const { return windows_->mode(); }  // how its windows are computed

 private:
  std::string name_, checkpoint_path_, checkpoint_hash_;
  Checkpoint checkpoint_;
  std::unique_ptr<WindowScheduler> windows_;
  EventDetector events_;
  LatencyStats step_us_, window_us_;
  int64_t hop_frames_;
  uint64_t windows_closed_ = 0, restarts_ = 0;
};

}  // namespace escd::daemon
