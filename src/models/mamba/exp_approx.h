// exp() that the compiler can vectorise. The selective scan evaluates exp(Δ·A) once per (time,
// channel, state) — tens of millions of times per training batch — and a libm call per element
// would dominate the whole model. The float version is branch-free (range reduction to
// r in [-ln2/2, ln2/2], a degree-7 Taylor polynomial, exponent built from integer bits), so a
// loop over it becomes SIMD code; its relative error is about 1 ulp. The double version is the
// library exp: double is for tests, where accuracy matters and speed does not.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace escd::mamba_detail {

inline float exp_approx(float x) {
  // Beyond these bounds exp() under- or overflows float anyway; clamping keeps 2^k a normal float.
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;  // ln 2 split in two so that k·kLn2Hi is exact
  constexpr float kLn2Lo = -2.12194440e-4f;
  // Round to nearest without a libm call: adding 1.5·2^23 pushes the fraction bits out.
  constexpr float kRound = 12582912.0f;
  const float k = (x * kLog2e + kRound) - kRound;
  const float r = (x - k * kLn2Hi) - k * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline double exp_approx(double x) { return std::exp(x); }

}  // namespace escd::mamba_detail
