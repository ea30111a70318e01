// The per-frame layers around the Mamba mixer: RMSNorm and the gated MLP (docs/MODELS.md 2.4). Each has
// the parallel forward used in training; RMSNorm also has an allocation-free `forward_into` for
// streaming, which writes into caller-owned float buffers of shape [rows, width] (the streaming
// session runs the gated MLP on packed weights itself).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace escd {

// y = x / sqrt(mean(x²) + eps) ⊙ weight over the last dimension; weight starts at 1.
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t width, double eps);
  at::Tensor forward(const at::Tensor& x);
  // x, out: contiguous floats [rows, width].
  void forward_into(const float* x, int64_t rows, float* out) const;

  at::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

// out = fc2(a ⊙ SiLU(g)) with [a; g] = fc1(x); no biases.
class GatedMLPImpl : public torch::nn::Module {
 public:
  GatedMLPImpl(int64_t width, int64_t hidden);
  at::Tensor forward(const at::Tensor& x);

  int64_t hidden;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(GatedMLP);

}  // namespace escd
