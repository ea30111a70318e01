// The last `capacity` samples of one audio stream, addressed by their index in the stream (how many
// samples were pushed before them): what a recording's pre-roll is copied from. One thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace escd::daemon {

class AudioHistory {
 public:
  explicit AudioHistory(size_t capacity);
  void push(const float* samples, size_t n);
  // Index one past the newest sample, and of the oldest sample still held.
  uint64_t end() const { return pushed_; }
  uint64_t begin() const { return pushed_ > ring_.size() ? pushed_ - ring_.size() : 0; }
  // Appends the samples with index in [from, to) that are still held to `out` (the range is
  // clamped to [begin(), end())); returns the index of the first sample appended.
  uint64_t copy(uint64_t from, uint64_t to, std::vector<float>& out) const;

 private:
  std::vector<float> ring_;
  uint64_t pushed_ = 0;
};

}  // namespace escd::daemon
