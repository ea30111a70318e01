#include "features/log_mel.h"

#include <algorithm>
#include <cstring>

namespace escd {

std::vector<float> compute_log_mel(const float* samples, size_t n, const FrontEndConfig& config) {
  LogMelFrameComputer computer(config);
  const size_t frames = config.frames_for(n);
  std::vector<float> out(frames * config.n_mels);
  for (size_t j = 0; j < frames; ++j) {
    computer.compute(samples + j * config.hop, out.data() + j * config.n_mels);
  }
  return out;
}

StreamingLogMel::StreamingLogMel(const FrontEndConfig& config)
    : computer_(config), window_(config.n_fft, 0.0f) {}

size_t StreamingLogMel::push(const float* samples, size_t n, std::vector<float>& frames) {
  const FrontEndConfig& cfg = computer_.config();
  const auto n_fft = static_cast<size_t>(cfg.n_fft);
  const auto hop = static_cast<size_t>(cfg.hop);
  size_t emitted = 0;
  while (n > 0) {
    const size_t take = std::min(n, n_fft - filled_);
    std::memcpy(window_.data() + filled_, samples, take * sizeof(float));
    filled_ += take;
    samples += take;
    n -= take;
    if (filled_ < n_fft) break;
    const size_t at = frames.size();
    frames.resize(at + cfg.n_mels);
    computer_.compute(window_.data(), frames.data() + at);
    ++emitted;
    // Keep the overlap (n_fft - hop samples) as the start of the next frame.
    std::memmove(window_.data(), window_.data() + hop, (n_fft - hop) * sizeof(float));
    filled_ = n_fft - hop;
  }
  frames_emitted_ += emitted;
  return emitted;
}

void StreamingLogMel::reset() {
  filled_ = 0;
  frames_emitted_ = 0;
}

}  // namespace escd
