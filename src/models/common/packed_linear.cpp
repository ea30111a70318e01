#include "models/common/packed_linear.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "models/common/simd_lanes.h"  // GCC vector types shared by the streaming kernels
#include "util/simd_level.h"

namespace escd {
namespace {

using mamba_detail::kLanes;
// 8 floats, as mamba_detail::Lanes<float> but with its natural alignment so that arrays of it (the
// accumulators below) are allowed; the packed weights are 64-byte aligned anyway.
typedef float F __attribute__((vector_size(sizeof(float) * kLanes)));
constexpr int64_t kOutBlock = 2 * kLanes;  // 16 outputs: two AVX2 registers per row
constexpr int64_t kRowBlock = 6;           // 6 rows x 2 registers = 12 accumulators, of 16 registers

float* aligned_floats(int64_t n) {
  const size_t bytes = (sizeof(float) * static_cast<size_t>(std::max<int64_t>(n, 1)) + 63) / 64 * 64;
  auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return p;
}

struct Args {
  const float *x, *w, *b;
  int64_t rows, in, out, x_stride;
  float* y;
  int64_t y_stride;
};

// Rows r0..r0+R-1 times outputs o..o+15. R is a template constant so the accumulators stay in registers.
template <int R>
ESCD_LANES_INLINE void block(const Args& a, int64_t r0, int64_t o) {
  F acc0[R], acc1[R];
  const F b0 = *reinterpret_cast<const F*>(a.b + o), b1 = *reinterpret_cast<const F*>(a.b + o + kLanes);
  for (int r = 0; r < R; ++r) {
    acc0[r] = b0;
    acc1[r] = b1;
  }
  const float* x = a.x + r0 * a.x_stride;
  const float* w = a.w + o * a.in;  // block o's panel: [in][16], read front to back
  for (int64_t i = 0; i < a.in; ++i, w += kOutBlock) {
    const F w0 = *reinterpret_cast<const F*>(w), w1 = *reinterpret_cast<const F*>(w + kLanes);
    for (int r = 0; r < R; ++r) {
      const float xi = x[r * a.x_stride + i];
      acc0[r] += xi * w0;
      acc1[r] += xi * w1;
    }
  }
  const int64_t width = std::min(kOutBlock, a.out - o);
  for (int r = 0; r < R; ++r) {
    float* y = a.y + (r0 + r) * a.y_stride + o;
    if (width == kOutBlock) {
      std::memcpy(y, &acc0[r], sizeof(F));
      std::memcpy(y + kLanes, &acc1[r], sizeof(F));
    } else {
      float tmp[kOutBlock];
      std::memcpy(tmp, &acc0[r], sizeof(F));
      std::memcpy(tmp + kLanes, &acc1[r], sizeof(F));
      std::memcpy(y, tmp, sizeof(float) * static_cast<size_t>(width));
    }
  }
}

ESCD_LANES_INLINE void linear(const Args& a) {
  for (int64_t o = 0; o < a.out; o += kOutBlock) {
    int64_t r = 0;
    for (; r + kRowBlock <= a.rows; r += kRowBlock) block<kRowBlock>(a, r, o);
    switch (a.rows - r) {
      case 5: block<5>(a, r, o); break;
      case 4: block<4>(a, r, o); break;
      case 3: block<3>(a, r, o); break;
      case 2: block<2>(a, r, o); break;
      case 1: block<1>(a, r, o); break;
      default: break;
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) void linear_avx2(const Args& a) { linear(a); }

// AVX-512: one 16-float register holds a row's 16 outputs, and 32 registers leave room for up to
// 12 rows at once, so the 10 rows of escd's staggered windows read each weight once per frame
// instead of twice (the AVX2 kernel's 6-row blocks). At these sizes the weights (about 2 MB
// for a Mamba model) come from L2/L3, and that traffic, not the arithmetic, bounds the step.
typedef float F16 __attribute__((vector_size(sizeof(float) * 16)));
constexpr int64_t kRowBlock512 = 12;

template <int R>
__attribute__((target("avx512f"), always_inline)) inline void block512(const Args& a, int64_t r0, int64_t o) {
  F16 acc[R];
  const F16 b = *reinterpret_cast<const F16*>(a.b + o);
  for (int r = 0; r < R; ++r) acc[r] = b;
  const float* x = a.x + r0 * a.x_stride;
  const float* w = a.w + o * a.in;  // block o's panel: [in][16], read front to back
  for (int64_t i = 0; i < a.in; ++i, w += 16) {
    const F16 wi = *reinterpret_cast<const F16*>(w);
    for (int r = 0; r < R; ++r) acc[r] += x[r * a.x_stride + i] * wi;
  }
  const int64_t width = std::min<int64_t>(16, a.out - o);
  for (int r = 0; r < R; ++r) std::memcpy(a.y + (r0 + r) * a.y_stride + o, &acc[r], sizeof(float) * width);
}

template <int R>
__attribute__((target("avx512f"))) void rows512(const Args& a, int64_t r0, int64_t o) {
  block512<R>(a, r0, o);
}

__attribute__((target("avx512f"))) void linear_avx512(const Args& a) {
  // The remainder rows (fewer than 12) as one block of their own size: a table of instantiations.
  using Block = void (*)(const Args&, int64_t, int64_t);
  static constexpr Block kTail[kRowBlock512] = {nullptr,    rows512<1>, rows512<2>, rows512<3>,
                                                rows512<4>, rows512<5>, rows512<6>, rows512<7>,
                                                rows512<8>, rows512<9>, rows512<10>, rows512<11>};
  for (int64_t o = 0; o < a.out; o += 16) {
    int64_t r = 0;
    for (; r + kRowBlock512 <= a.rows; r += kRowBlock512) block512<kRowBlock512>(a, r, o);
    if (r < a.rows) kTail[a.rows - r](a, r, o);
  }
}
#endif

}  // namespace

void PackedLinear::FreeDeleter::operator()(float* p) const { std::free(p); }

PackedLinear::PackedLinear(const at::Tensor& weight, const at::Tensor& bias) {
  if (weight.dim() != 2 || weight.scalar_type() != at::kFloat) {
    throw std::invalid_argument("PackedLinear: weight must be a 2-D float tensor");
  }
  out_ = weight.size(0);
  in_ = weight.size(1);
  padded_ = (out_ + kOutBlock - 1) / kOutBlock * kOutBlock;
  weight_t_.reset(aligned_floats(in_ * padded_));
  bias_.reset(aligned_floats(padded_));
  const at::Tensor w = weight.detach().contiguous();
  const float* src = w.data_ptr<float>();
  for (int64_t o = 0; o < out_; ++o) {
    const int64_t block = o / kOutBlock, lane = o % kOutBlock;
    for (int64_t i = 0; i < in_; ++i) weight_t_[(block * in_ + i) * kOutBlock + lane] = src[o * in_ + i];
  }
  if (bias.defined()) {
    if (bias.numel() != out_ || bias.scalar_type() != at::kFloat) {
      throw std::invalid_argument("PackedLinear: bias must be a float tensor of " + std::to_string(out_) + " values");
    }
    const at::Tensor b = bias.detach().contiguous();
    std::memcpy(bias_.get(), b.data_ptr<float>(), sizeof(float) * static_cast<size_t>(out_));
  }
}

void PackedLinear::apply(const float* x, int64_t rows, int64_t x_stride, float* y, int64_t y_stride) const {
  const Args a{x, weight_t_.get(), bias_.get(), rows, in_, out_, x_stride, y, y_stride};
#if defined(__x86_64__) && defined(__GNUC__)
  if (simd_level() == SimdLevel::avx512) return linear_avx512(a);
  if (simd_level() == SimdLevel::avx2) return linear_avx2(a);
#endif
  linear(a);
}

}  // namespace escd
