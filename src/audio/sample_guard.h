// The one rule for float samples from outside (float WAV/AIFF/FLAC files, f32le PCM on stdin):
// NaN/Inf become 0, and finite magnitudes beyond kMaxSampleMagnitude are clamped to it. A single
// NaN would poison every feature frame it touches; values near FLT_MAX are finite but overflow to
// Inf as soon as channels are summed or the resampler weighs them. Both are counted, never silent.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace escd {

// +60 dBFS: far above anything a microphone or a mastered file produces, far below overflow.
constexpr float kMaxSampleMagnitude = 1000.0f;

struct SampleGuardCounts {
  uint64_t non_finite = 0;  // NaN/Inf replaced by 0
  uint64_t clamped = 0;     // finite but beyond +-kMaxSampleMagnitude
};

inline void guard_samples(float* samples, size_t n, SampleGuardCounts& counts) {
  for (size_t i = 0; i < n; ++i) {
    float& v = samples[i];
    if (!std::isfinite(v)) {
      v = 0.0f;
      ++counts.non_finite;
    } else if (std::fabs(v) > kMaxSampleMagnitude) {
      v = std::copysign(kMaxSampleMagnitude, v);
      ++counts.clamped;
    }
  }
}

}  // namespace escd
