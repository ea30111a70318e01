#include "models/liquid_s4/frame_norm.h"

#include <ATen/Functions.h>
#include <ATen/record_function.h>

#include <cmath>

namespace escd::liquid_s4 {
namespace {
constexpr double kEps = 1e-5;
}

FrameNormImpl::FrameNormImpl(int64_t channels, NormKind kind) : kind_(kind), channels_(channels) {
  const int64_t width = kind == NormKind::layernorm ? channels : 1;
  weight_ = register_parameter("weight", at::ones({width}));
  bias_ = register_parameter("bias", at::zeros({width}));
}

at::Tensor FrameNormImpl::forward(const at::Tensor& x) {
  RECORD_USER_SCOPE("norm");
  if (kind_ == NormKind::layernorm) return at::layer_norm(x, {channels_}, weight_, bias_, kEps);
  const at::Tensor mean = x.mean(-1, /*keepdim=*/true);
  const at::Tensor var = x.var(-1, /*unbiased=*/false, /*keepdim=*/true);
  return (x - mean + bias_) * at::rsqrt(var + kEps) * weight_;
}

void FrameNormImpl::forward_into(const float* x, int64_t rows, float* out) const {
  const int64_t H = channels_;
  const float* w = weight_.data_ptr<float>();
  const float* b = bias_.data_ptr<float>();
  const bool per_channel = kind_ == NormKind::layernorm;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * H;
    float* o = out + r * H;
    // Two passes (mean, then centred squares) in double, as stable as ATen's Welford reduction.
    double sum = 0.0;
    for (int64_t h = 0; h < H; ++h) sum += xr[h];
    const double mean = sum / static_cast<double>(H);
    double sq = 0.0;
    for (int64_t h = 0; h < H; ++h) sq += (xr[h] - mean) * (xr[h] - mean);
    const float inv_std = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(H) + kEps));
    const float m = static_cast<float>(mean);
    if (per_channel) {
      for (int64_t h = 0; h < H; ++h) o[h] = (xr[h] - m) * inv_std * w[h] + b[h];
    } else {
      for (int64_t h = 0; h < H; ++h) o[h] = (xr[h] - m + b[0]) * inv_std * w[0];
    }
  }
}

}  // namespace escd::liquid_s4
