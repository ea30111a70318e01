// A real FFTW transform of one size with its own buffers, for whole-signal spectral work
// (noise shaping, band splitting, convolution, EQ in room_acoustics.h). FFTW single precision;
// plans are made with FFTW_ESTIMATE, so the same input gives bit-identical output in every run.
#pragma once

#include <fftw3.h>

#include <complex>
#include <cstddef>
#include <vector>

namespace escd {

// forward() maps time() to freq(); inverse() maps freq() back to time() scaled by 1/n (a round
// trip is the identity) and overwrites freq().
class RealFft {
 public:
  explicit RealFft(size_t n);
  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  size_t size() const { return n_; }
  size_t bins() const { return n_ / 2 + 1; }
  float* time() { return time_; }
  fftwf_complex* freq() { return freq_; }

  void forward();
  void inverse();
  // Copies x into time() and zero-pads the rest.
  void load(const float* x, size_t count);
  std::vector<std::complex<float>> spectrum() const;

 private:
  void release();

  size_t n_;
  float* time_ = nullptr;
  fftwf_complex* freq_ = nullptr;
  fftwf_plan forward_ = nullptr;
  fftwf_plan inverse_ = nullptr;
};

// This thread's transform of size n, planned once: augmentation transforms every clip, and
// planning and allocating each time cost as much as the transforms. Callers round variable sizes up
// (next_power_of_two) so that a thread keeps a few sizes, not one per impulse-response length.
RealFft& cached_real_fft(size_t n);

size_t next_power_of_two(size_t n);
// The smallest size >= n whose only prime factors are 2, 3, 5 and 7: sizes FFTW transforms fastest.
size_t fft_size_at_least(size_t n);

}  // namespace escd
