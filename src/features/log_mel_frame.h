// One log-mel frame from n_fft contiguous samples: the single computation that both the batch and
// the streaming front end call, so that their outputs are bit-identical by construction.
#pragma once

#include <memory>
#include <vector>

#include "features/front_end_config.h"
#include "features/mel_filterbank.h"

namespace escd {

class LogMelFrameComputer {
 public:
  explicit LogMelFrameComputer(const FrontEndConfig& config = {});
  ~LogMelFrameComputer();
  LogMelFrameComputer(const LogMelFrameComputer&) = delete;
  LogMelFrameComputer& operator=(const LogMelFrameComputer&) = delete;

  // samples: config.n_fft values; out: config.n_mels values. No allocation: safe on a hot path.
  void compute(const float* samples, float* out);

  const FrontEndConfig& config() const { return config_; }

 private:
  struct Fftw;  // FFTW plan and aligned buffers, kept out of this header
  FrontEndConfig config_;
  MelFilterbank filterbank_;
  std::vector<float> window_;
  std::vector<float> power_;
  std::unique_ptr<Fftw> fft_;
};

}  // namespace escd
