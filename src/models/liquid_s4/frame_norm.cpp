#include "models/liquid_s4/frame_norm.h"

#include <ATen/Functions.h>

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
  if (kind_ == NormKind::layernorm) return at::layer_norm(x, {channels_}, weight_, bias_, kEps);
  const at::Tensor mean = x.mean(-1, /*keepdim=*/true);
  const at::Tensor var = x.var(-1, /*unbiased=*/false, /*keepdim=*/true);
  return (x - mean + bias_) * at::rsqrt(var + kEps) * weight_;
}

}  // namespace escd::liquid_s4
