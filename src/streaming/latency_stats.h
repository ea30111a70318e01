// Percentiles over the most recent N samples (step and window latencies for health reports).
#pragma once

#include <algorithm>
#include <vector>

namespace escd {

class LatencyStats {
 public:
  explicit LatencyStats(size_t capacity = 512) : capacity_(capacity) { samples_.reserve(capacity); }
  void add(double value) {
    if (samples_.size() < capacity_) {
      samples_.push_back(value);
    } else {
      samples_[next_] = value;
    }
    next_ = (next_ + 1) % capacity_;
  }
  // q in [0, 1]; 0 when empty.
  double percentile(double q) const {
    if (samples_.empty()) return 0.0;
    std::vector<double> sorted = samples_;
    const auto k = static_cast<size_t>(q * (sorted.size() - 1) + 0.5);
    std::nth_element(sorted.begin(), sorted.begin() + k, sorted.end());
    return sorted[k];
  }
  size_t count() const { return samples_.size(); }

 private:
  size_t capacity_;
  size_t next_ = 0;
  std::vector<double> samples_;
};

}  // namespace escd
