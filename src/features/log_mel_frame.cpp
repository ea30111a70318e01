#include "features/log_mel_frame.h"

#include <fftw3.h>

#include <cmath>
#include <mutex>
#include <stdexcept>

#include "features/vector_log.h"
#include "util/fftw_planner.h"

namespace escd {

struct LogMelFrameComputer::Fftw {
  float* in = nullptr;
  fftwf_complex* out = nullptr;
  fftwf_plan plan = nullptr;

  explicit Fftw(int n) {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    in = fftwf_alloc_real(n);
    out = fftwf_alloc_complex(n / 2 + 1);
    // FFTW_ESTIMATE: deterministic plan choice, so every instance computes bit-identical spectra.
    plan = fftwf_plan_dft_r2c_1d(n, in, out, FFTW_ESTIMATE);
    if (!plan) throw std::runtime_error("FFTW could not plan a real FFT of size " + std::to_string(n));
  }
  ~Fftw() {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fftwf_destroy_plan(plan);
    fftwf_free(in);
    fftwf_free(out);
  }
};

LogMelFrameComputer::LogMelFrameComputer(const FrontEndConfig& config)
    : config_(config),
      filterbank_(config),
      window_(config.n_fft),
      power_(filterbank_.input_size(), 0.0f),  // the bins past n_bins stay 0
      fft_(std::make_unique<Fftw>(config.n_fft)) {
  // Periodic Hann (torch.hann_window(periodic=True)): the DFT-even window an STFT wants.
  const double pi = 3.14159265358979323846;
  for (int n = 0; n < config.n_fft; ++n) {
    window_[n] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * pi * n / config.n_fft));
  }
}

LogMelFrameComputer::~LogMelFrameComputer() = default;

void LogMelFrameComputer::compute(const float* samples, float* out) {
  const int n = config_.n_fft;
  for (int i = 0; i < n; ++i) fft_->in[i] = samples[i] * window_[i];
  fftwf_execute(fft_->plan);
  for (int k = 0; k < config_.n_bins(); ++k) {
    const float re = fft_->out[k][0], im = fft_->out[k][1];
    power_[k] = re * re + im * im;
  }
  filterbank_.apply(power_.data(), out);
  log_with_offset(out, config_.log_offset, out, config_.n_mels);
}

}  // namespace escd
