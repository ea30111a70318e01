// The log-mel front end's two entry points: a whole signal at once, and a stream of sample blocks
// of any size that emits each frame as soon as its last sample has arrived. Both call the same
// LogMelFrameComputer on the same samples, so their frames are identical.
#pragma once

#include <cstddef>
#include <vector>

#include "features/log_mel_frame.h"

namespace escd {

// Row-major [frames_for(n), n_mels] log-mel of a whole mono signal at config.sample_rate.
std::vector<float> compute_log_mel(const float* samples, size_t n, const FrontEndConfig& config = {});
inline std::vector<float> compute_log_mel(const std::vector<float>& samples, const FrontEndConfig& config = {}) {
  return compute_log_mel(samples.data(), samples.size(), config);
}

class StreamingLogMel {
 public:
  explicit StreamingLogMel(const FrontEndConfig& config = {});

  // Feeds n samples; appends each completed frame (n_mels floats) to `frames`; returns how many
  // frames were appended. Blocks may be of any size, including 0 and 1.
  size_t push(const float* samples, size_t n, std::vector<float>& frames);

  // Forgets buffered samples: the next frame starts with the next sample pushed.
  void reset();

  size_t frames_emitted() const { return frames_emitted_; }
  const FrontEndConfig& config() const { return computer_.config(); }

 private:
  LogMelFrameComputer computer_;
  std::vector<float> window_;  // the samples of the frame being filled, n_fft capacity
  size_t filled_ = 0;
  size_t frames_emitted_ = 0;
};

}  // namespace escd
