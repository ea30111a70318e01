#include "models/liquid_s4/ssm_step.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/common/simd_lanes.h"  // GCC vector types shared by the streaming kernels
#include "util/simd_level.h"

namespace escd::liquid_s4 {
namespace {

using mamba_detail::kLanes;
using mamba_detail::load_lanes;
using mamba_detail::store_lanes;
using mamba_detail::sum_lanes;
using F = mamba_detail::Lanes<float>;

constexpr int64_t kMaxChains = 16;  // liquid degree p is small (2-3); bounds the v[] array

ESCD_LANES_INLINE void step_all(const PlanarSSM& s, const float* u, float* y) {
  const int64_t B = s.rows, H = s.channels, M = s.modes, chains = s.chains;
  const int64_t chain_stride = B * H * M;
  float v[kMaxChains];
  for (int64_t bh = 0; bh < B * H; ++bh) {
    const int64_t h = bh % H;
    v[0] = u[bh];
    if (s.kb) {
      for (int64_t q = 1; q < chains; ++q) {
        const float* prev = s.x_re + (q - 1) * chain_stride + bh * M;
        F sum = {};
        for (int64_t m0 = 0; m0 < M; m0 += kLanes) sum += load_lanes(prev + m0, std::min(kLanes, M - m0));
        const float drive = u[bh] * 2.0f * sum_lanes<float>(sum);
        v[q] = s.contract ? std::tanh(drive) : drive;
      }
    }
    F acc = {};
    for (int64_t q = 0; q < chains; ++q) {
      float* xr = s.x_re + q * chain_stride + bh * M;
      float* xi = s.x_im + q * chain_stride + bh * M;
      const float* cr = s.c_re + (q * H + h) * M;
      const float* ci = s.c_im + (q * H + h) * M;
      const float* ar = s.a_re + h * M;
      const float* ai = s.a_im + h * M;
      const float* br = s.b_re + h * M;
      const float* bi = s.b_im + h * M;
      const float vq = v[q];
      for (int64_t m0 = 0; m0 < M; m0 += kLanes) {
        const int64_t w = std::min(kLanes, M - m0);
        const F are = load_lanes(ar + m0, w), aim = load_lanes(ai + m0, w);
        const F xre = load_lanes(xr + m0, w), xim = load_lanes(xi + m0, w);
        const F nre = are * xre - aim * xim + load_lanes(br + m0, w) * vq;
        const F nim = are * xim + aim * xre + load_lanes(bi + m0, w) * vq;
        store_lanes(xr + m0, nre, w);
        store_lanes(xi + m0, nim, w);
        acc += load_lanes(cr + m0, w) * nre - load_lanes(ci + m0, w) * nim;
      }
    }
    y[bh] = sum_lanes<float>(acc);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) void step_all_avx2(const PlanarSSM& s, const float* u, float* y) {
  step_all(s, u, y);
}
#endif

}  // namespace

void ssm_step(const PlanarSSM& s, const float* u, float* y) {
  if (s.chains > kMaxChains) throw std::invalid_argument("ssm_step: at most 16 liquid chains");
#if defined(__x86_64__) && defined(__GNUC__)
  if (simd_level() >= SimdLevel::avx2) return step_all_avx2(s, u, y);
#endif
  step_all(s, u, y);
}

}  // namespace escd::liquid_s4
