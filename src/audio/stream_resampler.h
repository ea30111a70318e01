// Streaming sample-rate conversion of mono audio (any rate -> 16 kHz by default) with libsamplerate,
// block by block as audio arrives, so that a live source and a file go through the same path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "audio/resample_quality.h"

typedef struct SRC_STATE_tag SRC_STATE;

namespace escd {

class StreamResampler {
 public:
  // Throws std::invalid_argument for a non-positive rate, std::runtime_error if libsamplerate fails.
  explicit StreamResampler(int from_rate, int to_rate = 16000, ResampleQuality quality = ResampleQuality::Medium);
  ~StreamResampler();
  StreamResampler(const StreamResampler&) = delete;
  StreamResampler& operator=(const StreamResampler&) = delete;

  int from_rate() const { return from_rate_; }
  int to_rate() const { return to_rate_; }
  bool passthrough() const { return state_ == nullptr; }

  // Appends the output for n more input samples to out (the converter holds back a few ms of
  // filter delay, released by flush()). Returns the number of samples appended.
  size_t process(const float* mono, size_t n, std::vector<float>& out);

  // End of input: appends the held-back tail, so that the whole stream yields exactly
  // round(inputs * to / from) samples, as resample_offline does. Later process() calls start afresh.
  size_t flush(std::vector<float>& out);

 private:
  size_t run(const float* in, size_t n, bool end_of_input, std::vector<float>& out);

  int from_rate_;
  int to_rate_;
  double ratio_;
  SRC_STATE* state_ = nullptr;  // null when from_rate == to_rate
  uint64_t consumed_ = 0;       // input samples since construction or the last flush
  uint64_t produced_ = 0;       // output samples over the same span
};

}  // namespace escd
