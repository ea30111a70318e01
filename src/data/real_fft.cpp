#include "data/real_fft.h"

#include <algorithm>
#include <climits>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "util/fftw_planner.h"

namespace escd {

RealFft::RealFft(size_t n) : n_(n) {
  if (n == 0 || n > static_cast<size_t>(INT_MAX)) throw std::invalid_argument("FFT size out of range: " + std::to_string(n));
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  time_ = fftwf_alloc_real(n);
  freq_ = fftwf_alloc_complex(bins());
  if (time_ && freq_) {
    forward_ = fftwf_plan_dft_r2c_1d(static_cast<int>(n), time_, freq_, FFTW_ESTIMATE);
    inverse_ = fftwf_plan_dft_c2r_1d(static_cast<int>(n), freq_, time_, FFTW_ESTIMATE);
  }
  if (!forward_ || !inverse_) {
    release();
    throw std::runtime_error("FFTW could not plan a real FFT of size " + std::to_string(n));
  }
}

RealFft::~RealFft() {
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  release();
}

void RealFft::forward() { fftwf_execute(forward_); }

void RealFft::inverse() {
  fftwf_execute(inverse_);
  const float scale = 1.0f / static_cast<float>(n_);
  for (size_t i = 0; i < n_; ++i) time_[i] *= scale;
}

void RealFft::load(const float* x, size_t count) {
  const size_t m = std::min(count, n_);
  std::copy(x, x + m, time_);
  std::fill(time_ + m, time_ + n_, 0.0f);
}

std::vector<std::complex<float>> RealFft::spectrum() const {
  std::vector<std::complex<float>> s(bins());
  for (size_t k = 0; k < s.size(); ++k) s[k] = {freq_[k][0], freq_[k][1]};
  return s;
}

void RealFft::release() {
  if (forward_) fftwf_destroy_plan(forward_);
  if (inverse_) fftwf_destroy_plan(inverse_);
  if (time_) fftwf_free(time_);
  if (freq_) fftwf_free(freq_);
  forward_ = inverse_ = nullptr;
  time_ = nullptr;
  freq_ = nullptr;
}

RealFft& cached_real_fft(size_t n) {
  thread_local std::map<size_t, std::unique_ptr<RealFft>> transforms;
  std::unique_ptr<RealFft>& fft = transforms[n];
  if (!fft) fft = std::make_unique<RealFft>(n);
  return *fft;
}

size_t next_power_of_two(size_t n) {
  size_t m = 1;
  while (m < n) m <<= 1;
  return m;
}

size_t fft_size_at_least(size_t n) {
  for (size_t m = std::max<size_t>(n, 1);; ++m) {
    size_t r = m;
    for (size_t p : {2, 3, 5, 7}) {
      while (r % p == 0) r /= p;
    }
    if (r == 1) return m;
  }
}

}  // namespace escd
