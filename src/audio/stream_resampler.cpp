#include "audio/stream_resampler.h"

#include <samplerate.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace escd {
namespace {

// Output is produced in chunks of this many samples, so one call never needs a large scratch buffer.
constexpr size_t kChunk = 4096;
const float kNoInput = 0.0f;

}  // namespace

StreamResampler::StreamResampler(int from_rate, int to_rate, ResampleQuality quality)
    : from_rate_(from_rate), to_rate_(to_rate), ratio_(static_cast<double>(to_rate) / from_rate) {
  if (from_rate <= 0 || to_rate <= 0) {
    throw std::invalid_argument("resampler: rates must be positive (got " + std::to_string(from_rate) + " -> " +
                                std::to_string(to_rate) + " Hz)");
  }
  if (!src_is_valid_ratio(ratio_)) {
    throw std::invalid_argument("resampler: " + std::to_string(from_rate) + " -> " + std::to_string(to_rate) +
                                " Hz is beyond libsamplerate's 1:256 range");
  }
  if (from_rate == to_rate) return;
  int err = 0;
  state_ = src_new(libsamplerate_converter(quality), 1, &err);
  if (!state_) throw std::runtime_error(std::string("resampler: libsamplerate: ") + src_strerror(err));
}

StreamResampler::~StreamResampler() {
  if (state_) src_delete(state_);
}

size_t StreamResampler::process(const float* mono, size_t n, std::vector<float>& out) {
  consumed_ += n;
  if (!state_) {
    out.insert(out.end(), mono, mono + n);
    produced_ += n;
    return n;
  }
  return run(mono, n, false, out);
}

size_t StreamResampler::flush(std::vector<float>& out) {
  const size_t before = out.size();
  if (state_) {
    run(nullptr, 0, true, out);
    // Pin the total to round(inputs * ratio), as resample_offline does: the converter's own count
    // at the end of input can be a sample off, and a stream clock built on sample counts must not be.
    const auto expected = static_cast<uint64_t>(std::llround(static_cast<double>(consumed_) * ratio_));
    if (produced_ > expected) {
      const auto extra = static_cast<size_t>(std::min<uint64_t>(produced_ - expected, out.size() - before));
      out.resize(out.size() - extra);
    } else if (produced_ < expected) {
      out.resize(out.size() + static_cast<size_t>(expected - produced_), 0.0f);
    }
    src_reset(state_);
  }
  consumed_ = 0;
  produced_ = 0;
  return out.size() - before;
}

size_t StreamResampler::run(const float* in, size_t n, bool end_of_input, std::vector<float>& out) {
  const size_t before = out.size();
  SRC_DATA data{};
  data.src_ratio = ratio_;
  data.end_of_input = end_of_input ? 1 : 0;
  for (;;) {
    const size_t at = out.size();
    out.resize(at + kChunk);
    data.data_in = in ? in : &kNoInput;  // libsamplerate rejects a null pointer even with no frames
    data.input_frames = static_cast<long>(n);
    data.data_out = out.data() + at;
    data.output_frames = static_cast<long>(kChunk);
    if (int err = src_process(state_, &data); err != 0) {
      out.resize(at);
      throw std::runtime_error(std::string("resampler: libsamplerate: ") + src_strerror(err));
    }
    out.resize(at + static_cast<size_t>(data.output_frames_gen));
    in += data.input_frames_used;
    n -= static_cast<size_t>(data.input_frames_used);
    // Done when the input is used up and the converter had room to spare (nothing more pending).
    // At the end of input, it signals a drained tail by generating nothing.
    const bool output_full = static_cast<size_t>(data.output_frames_gen) == kChunk;
    if (end_of_input ? data.output_frames_gen == 0 : (n == 0 && !output_full)) break;
  }
  produced_ += out.size() - before;
  return out.size() - before;
}

}  // namespace escd
