// The log-mel contract shared by training, evaluation and the daemon. Changing any of these values
// invalidates every trained checkpoint (checkpoints store them and are checked on load).
#pragma once

#include <cstddef>

namespace escd {

struct FrontEndConfig {
  int sample_rate = 16000;
  int n_fft = 1024;      // periodic Hann window of the same length
  int hop = 512;         // no centre padding: frame j covers samples [hop*j, hop*j + n_fft)
  int n_mels = 128;      // HTK mel scale, triangular filters, no area normalisation
  float f_min = 0.0f;
  float f_max = 8000.0f;
  float log_offset = 1e-8f;  // value = ln(mel power + log_offset)

  int n_bins() const { return n_fft / 2 + 1; }

  // Frames a batch computation yields for n samples: 155 for a 5 s clip of 80000 samples.
  size_t frames_for(size_t n_samples) const {
    const auto win = static_cast<size_t>(n_fft);
    return n_samples < win ? 0 : 1 + (n_samples - win) / static_cast<size_t>(hop);
  }
};

}  // namespace escd
