// exp() that the compiler can vectorise. The selective scan evaluates exp(Δ·A) once per (time,
// channel, state) — tens of millions of times per training batch — and a libm call per element
// would dominate the whole model. The float version is branch-free (range reduction to
// r in [-ln2/2, ln2/2], a degree-7 Taylor polynomial whose truncation error, ~5e-9, is below float
// rounding, and 2^k built from exponent bits), so a loop over it becomes SIMD code; its relative
// error is about 1 ulp. The double version is the library exp: double is for tests, where accuracy
// matters and speed does not.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

// Functions on GCC vector types must inline into the kernels' AVX2 entry points to be compiled for
// AVX2 (simd_lanes.h); exp_reduce below is one of them, when called on lanes.
#if defined(__GNUC__)
#define ESCD_LANES_INLINE inline __attribute__((always_inline))
#else
#define ESCD_LANES_INLINE inline
#endif

namespace escd::mamba_detail {

// The arithmetic of exp(x) for a float or a GCC vector of floats (exp_lanes in simd_lanes.h):
// returns p = exp(r) and sets k, with exp(x) = p · 2^k. Only building 2^k from k's bits differs
// between a scalar and a vector, so each caller does that part itself.
template <typename F>
ESCD_LANES_INLINE F exp_reduce(F x, F& k) {
  // Beyond these bounds exp() under- or overflows float anyway; clamping keeps 2^k a normal float.
  const F lo = F{} - 87.0f, hi = F{} + 88.0f;
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;  // ln 2 split in two so that k·kLn2Hi is exact
  constexpr float kLn2Lo = -2.12194440e-4f;
  // Round to nearest without a libm call: adding 1.5·2^23 pushes the fraction bits out.
  constexpr float kRound = 12582912.0f;
  k = (x * kLog2e + kRound) - kRound;
  const F r = (x - k * kLn2Hi) - k * kLn2Lo;
  F p = F{} + 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return p;
}

inline float exp_approx(float x) {
  float k;
  const float p = exp_reduce(x, k);
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline double exp_approx(double x) { return std::exp(x); }

}  // namespace escd::mamba_detail
