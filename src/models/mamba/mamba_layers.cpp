#include "models/mamba/mamba_layers.h"

#include <ATen/Functions.h>
#include <ATen/record_function.h>

#include <cmath>


namespace escd {

RMSNormImpl::RMSNormImpl(int64_t width, double eps_) : eps(eps_) {
  weight = register_parameter("weight", at::ones({width}));
}

at::Tensor RMSNormImpl::forward(const at::Tensor& x) {
  RECORD_USER_SCOPE("norm");
  return x * at::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * weight;
}

void RMSNormImpl::forward_into(const float* in, int64_t rows, float* o) const {
  const int64_t width = weight.size(0);
  const float* w = weight.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = in + r * width;
    float sum_sq = 0.0f;
    for (int64_t i = 0; i < width; ++i) sum_sq += xr[i] * xr[i];
    const float scale = 1.0f / std::sqrt(sum_sq / static_cast<float>(width) + static_cast<float>(eps));
    for (int64_t i = 0; i < width; ++i) o[r * width + i] = xr[i] * scale * w[i];
  }
}

GatedMLPImpl::GatedMLPImpl(int64_t width, int64_t hidden_) : hidden(hidden_) {
  fc1 = register_module("fc1", torch::nn::Linear(torch::nn::LinearOptions(width, 2 * hidden).bias(false)));
  fc2 = register_module("fc2", torch::nn::Linear(torch::nn::LinearOptions(hidden, width).bias(false)));
}

at::Tensor GatedMLPImpl::forward(const at::Tensor& x) {
  const at::Tensor ag = fc1->forward(x);
  return fc2->forward(ag.narrow(-1, 0, hidden) * at::silu(ag.narrow(-1, hidden, hidden)));
}

}  // namespace escd
