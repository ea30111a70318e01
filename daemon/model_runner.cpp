#include "model_runner.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "data/clip_dataset.h"
#include "features/front_end_config.h"
#include "util/fnv_hash.h"

namespace escd::daemon {
namespace {

// The clip length every model was trained on (5 s), in frames (155).
int64_t window_frames() {
  return static_cast<int64_t>(FrontEndConfig{}.frames_for(DatasetLoadOptions{}.clip_samples));
}

}  // namespace

std::string resolve_checkpoint(const std::string& model, const DaemonOptions& options) {
  if (!options.checkpoint.empty()) return options.checkpoint;
  for (const std::string& entry : options.checkpoints_by_model) {
    if (entry.rfind(model + "=", 0) == 0) return entry.substr(model.size() + 1);
  }
  // Installed first, so that an installed escd never picks up a stale build tree's models. Shipped
  // checkpoints are *.pt; *.ckpt (esc-train's run files) is accepted too.
  std::vector<std::string> candidates;
  for (const char* dir : {ESCD_SHARE_DIR "/models/", ESCD_SOURCE_DIR "/models/"}) {
    for (const char* extension : {".pt", ".ckpt"}) candidates.push_back(dir + model + extension);
  }
  for (const auto& c : candidates) {
    if (std::filesystem::exists(c)) return c;
  }
  std::string tried;
  for (const auto& c : candidates) tried += (tried.empty() ? "" : ", ") + c;
  throw std::runtime_error("no checkpoint for model '" + model + "': tried " + tried + " (give one with --checkpoint or [models." +
                           model + "] checkpoint in the config)");
}

ModelRunner::ModelRunner(const std::string& name, const std::string& checkpoint_path, int64_t hop_frames,
                         const EventConfig& events)
    : name_(name),
      checkpoint_path_(checkpoint_path),
      checkpoint_hash_(file_fingerprint(checkpoint_path)),  // identifies the file, not a security hash
      checkpoint_(load_checkpoint(checkpoint_path, name)),
      events_(events, checkpoint_.class_names),
      hop_frames_(hop_frames) {
  checkpoint_.model->eval();
  windows_ = make_window_scheduler(*checkpoint_.model, window_frames(), hop_frames);
}

void ModelRunner::restart() {
  windows_ = make_window_scheduler(*checkpoint_.model, window_frames(), hop_frames_);
  ++restarts_;
}

std::optional<WindowResult> ModelRunner::push(const float* frame) {
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<WindowResult> result = windows_->push(frame);
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  step_us_.add(us);
  if (result) {
    window_us_.add(us);
    ++windows_closed_;
  }
  return result;
}

nlohmann::json ModelRunner::health() const {
  return {{"checkpoint", checkpoint_path_},
          {"checkpoint_hash", checkpoint_hash_},
          {"labels", checkpoint_.class_names},
          {"mode", windows_->mode()},
          {"sessions", windows_->sessions()},
          {"windows", windows_closed_},
          {"restarts", restarts_},
          {"frame_us_p50", step_us_.percentile(0.5)},
          {"frame_us_p99", step_us_.percentile(0.99)},
          {"window_us_p50", window_us_.percentile(0.5)},
          {"window_us_p99", window_us_.percentile(0.99)}};
}

}  // namespace escd::daemon
