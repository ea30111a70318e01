// Signal level of a block of samples: RMS and dBFS (full scale = 1.0), floored at -120 dBFS.
#pragma once

#include <cmath>
#include <cstddef>

namespace escd {

struct Level {
  double rms = 0.0;
  double dbfs = -120.0;
  double peak = 0.0;
};

inline Level measure_level(const float* samples, size_t n) {
  Level level;
  if (n == 0) return level;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sum += static_cast<double>(samples[i]) * samples[i];
    level.peak = std::max(level.peak, static_cast<double>(std::fabs(samples[i])));
  }
  level.rms = std::sqrt(sum / n);
  level.dbfs = level.rms > 1e-6 ? 20.0 * std::log10(level.rms) : -120.0;
  return level;
}

}  // namespace escd
