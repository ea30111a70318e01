#include "audio_history.h"

#include <algorithm>

namespace escd::daemon {

AudioHistory::AudioHistory(size_t capacity) : ring_(std::max<size_t>(capacity, 1)) {}

void AudioHistory::push(const float* samples, size_t n) {
  const size_t size = ring_.size();
  // Only the last `size` samples of a long block can be kept.
  if (n > size) {
    pushed_ += n - size;
    samples += n - size;
    n = size;
  }
  for (size_t i = 0; i < n; ++i) ring_[(pushed_ + i) % size] = samples[i];
  pushed_ += n;
}

uint64_t AudioHistory::copy(uint64_t from, uint64_t to, std::vector<float>& out) const {
  from = std::max(from, begin());
  to = std::min(to, end());
  for (uint64_t i = from; i < to; ++i) out.push_back(ring_[i % ring_.size()]);
  return from;
}

}  // namespace escd::daemon
