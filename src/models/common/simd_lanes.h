// Fixed-width blocks of 8 values as GCC/Clang vector types. The scan kernels keep 8 channels in
// one such value; arithmetic on it compiles to SIMD instructions of whatever ISA the enclosing
// function targets (SSE2 by default, AVX2+FMA in the dispatched entry points). Plain loops with a
// branch-free exp() were not auto-vectorised by GCC, hence explicit vector types.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

// Everything here must inline into the kernels' AVX2 entry points to be compiled for AVX2
// (ESCD_LANES_INLINE, defined with exp_reduce in exp_approx.h). GCC warns that passing 64-byte
// vectors by value has an ABI that depends on the ISA; these functions never exist as calls, so the
// warning does not apply. Silenced before exp_approx.h, whose exp_reduce is instantiated on lanes
// here, and only for the files that use lanes.
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#include "models/common/exp_approx.h"

namespace escd::mamba_detail {

// 8 floats = one AVX2 register. (16-lane vectors were split by GCC into poorly scheduled halves.)
constexpr int64_t kLanes = 8;

// Each vector type is aligned to its own size (32 bytes for floats, 64 for doubles), never more:
// an alignment above the size made every odd element of an array misaligned for its type
// (UBSan's finding), since array strides follow the size.
template <typename T>
struct LanesOf;
template <>
struct LanesOf<float> {
  typedef float type __attribute__((vector_size(sizeof(float) * kLanes), aligned(sizeof(float) * kLanes)));
  typedef int32_t int_type __attribute__((vector_size(sizeof(int32_t) * kLanes)));
};
template <>
struct LanesOf<double> {
  typedef double type __attribute__((vector_size(sizeof(double) * kLanes), aligned(sizeof(double) * kLanes)));
};
template <typename T>
using Lanes = typename LanesOf<T>::type;
// The natural alignment of a vector type depends on the ISA the code is compiled for (16 bytes for
// baseline x86-64), while AVX2 code assumes 32: memory for lanes is always aligned to 64 bytes.
constexpr size_t kLaneAlignment = 64;

// A zero-filled heap array of lane vectors at their full alignment. (std::vector<Lanes<T>> is
// not an option: GCC drops the vector type's alignment attribute in template arguments.)
template <typename T>
class LaneArray {
 public:
  explicit LaneArray(int64_t n)
      : size_(n), data_(static_cast<Lanes<T>*>(std::aligned_alloc(kLaneAlignment, bytes(n)))) {
    if (data_ == nullptr) throw std::bad_alloc();
    std::memset(static_cast<void*>(data_), 0, bytes(n));
  }
  ~LaneArray() { std::free(data_); }
  LaneArray(const LaneArray&) = delete;
  LaneArray& operator=(const LaneArray&) = delete;
  Lanes<T>* data() { return data_; }
  const Lanes<T>* data() const { return data_; }
  Lanes<T>& operator[](int64_t i) { return data_[i]; }
  const Lanes<T>& operator[](int64_t i) const { return data_[i]; }
  void zero() { std::memset(static_cast<void*>(data_), 0, bytes(size_)); }

 private:
  // aligned_alloc requires a size that is a multiple of the alignment (C11 7.22.3.1; ASan's
  // check found one lane of 32 bytes being requested at 64).
  static size_t bytes(int64_t n) {
    const size_t raw = sizeof(Lanes<T>) * static_cast<size_t>(n > 0 ? n : 1);
    return (raw + kLaneAlignment - 1) / kLaneAlignment * kLaneAlignment;
  }
  int64_t size_;
  Lanes<T>* data_;
};

// 16 floats = one AVX-512 register, for the per-frame streaming kernels' AVX-512 entry points
// (compiled for AVX-512, GCC keeps such a vector in one register). The helpers below that take a
// vector type V work for both widths.
constexpr int64_t kWideLanes = 16;
typedef float WideLanes __attribute__((vector_size(sizeof(float) * kWideLanes), aligned(sizeof(float) * kWideLanes)));
typedef int32_t WideInts __attribute__((vector_size(sizeof(int32_t) * kWideLanes)));

// Reads `width` values (at most V's lane count) into a vector V of T; lanes past width are 0.
template <typename V, typename T>
ESCD_LANES_INLINE V load_vector(const T* src, int64_t width) {
  V v = {};
  if (static_cast<size_t>(width) * sizeof(T) == sizeof v) {
    std::memcpy(&v, src, sizeof v);  // the common case: one unaligned vector load
  } else {
    std::memcpy(&v, src, sizeof(T) * static_cast<size_t>(width));
  }
  return v;
}

template <typename V, typename T>
ESCD_LANES_INLINE void store_vector(T* dst, const V& v, int64_t width) {
  if (static_cast<size_t>(width) * sizeof(T) == sizeof v) {
    std::memcpy(dst, &v, sizeof v);
  } else {
    std::memcpy(dst, &v, sizeof(T) * static_cast<size_t>(width));
  }
}

// Reads `width` <= kLanes values; lanes past width are 0.
template <typename T>
ESCD_LANES_INLINE Lanes<T> load_lanes(const T* src, int64_t width) {
  return load_vector<Lanes<T>>(src, width);
}

template <typename T>
ESCD_LANES_INLINE void store_lanes(T* dst, const Lanes<T>& v, int64_t width) {
  store_vector(dst, v, width);
}

template <typename T>
ESCD_LANES_INLINE T sum_lanes(const Lanes<T>& v) {
  T s = T(0);
  for (int64_t w = 0; w < kLanes; ++w) s += v[w];
  return s;
}

// exp() on every lane of a float vector V (I: the int32 vector of the same lane count):
// exp_approx's arithmetic (exp_approx.h), 2^k built from the lanes' bits.
template <typename V, typename I>
ESCD_LANES_INLINE V exp_vector(V x) {
  V k;
  const V p = exp_reduce(x, k);
  const I bits = (__builtin_convertvector(k, I) + 127) << 23;
  return p * (V)bits;  // a vector cast reinterprets the bits
}

ESCD_LANES_INLINE Lanes<float> exp_lanes(Lanes<float> x) { return exp_vector<Lanes<float>, LanesOf<float>::int_type>(x); }
ESCD_LANES_INLINE WideLanes exp_lanes(WideLanes x) { return exp_vector<WideLanes, WideInts>(x); }

// double is for tests, where accuracy matters and speed does not: the library exp per lane.
ESCD_LANES_INLINE Lanes<double> exp_lanes(const Lanes<double>& x) {
  Lanes<double> e;
  for (int64_t w = 0; w < kLanes; ++w) e[w] = std::exp(x[w]);
  return e;
}

// softplus(x) = log(1 + e^x) on every lane of a float vector, as ATen's softplus (beta 1, inputs
// above 20 returned as they are): max(x, 0) + log1p(e^−|x|), with log1p(e) = 2 atanh(e / (2 + e))
// summed as its odd series, whose terms shrink by (1/3)² at least (e ≤ 1) and whose truncation after
// s¹³/13 is below float rounding. Written here so that the Mamba step can apply it inside its scan
// kernel instead of in a separate ATen pass (a tenth of the step's time, in libm-accurate log1p).
template <typename V>
ESCD_LANES_INLINE V softplus_vector(const V& x) {
  const V magnitude = x < 0 ? -x : x;
  const V e = exp_lanes(-magnitude);
  const V s = e / (2.0f + e), s2 = s * s;
  V p = V{} + 1.0f / 13.0f;
  p = p * s2 + 1.0f / 11.0f;
  p = p * s2 + 1.0f / 9.0f;
  p = p * s2 + 1.0f / 7.0f;
  p = p * s2 + 1.0f / 5.0f;
  p = p * s2 + 1.0f / 3.0f;
  p = p * s2 + 1.0f;
  const V y = (x > 0 ? x : V{}) + 2.0f * s * p;
  return x > 20 ? x : y;
}

// σ(x) on every lane of any of the vector types above.
template <typename V>
ESCD_LANES_INLINE V sigmoid_vector(const V& x) {
  return 1 / (1 + exp_lanes(-x));
}

template <typename T>
ESCD_LANES_INLINE Lanes<T> sigmoid_lanes(const Lanes<T>& x) {
  return sigmoid_vector(x);
}

}  // namespace escd::mamba_detail
