// The per-frame layers around the Mamba mixer: RMSNorm and the gated MLP (models.md 2.4). Each has
// the parallel forward used in training and an allocation-free `*_into` form for streaming, which
// writes into caller-owned float buffers of shape [rows, width].
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
  // x, out: contiguous float [rows, width].
  void forward_into(const at::Tensor& x, at::Tensor& out) const;

  at::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

// out = fc2(a ⊙ SiLU(g)) with [a; g] = fc1(x); no biases.
class GatedMLPImpl : public torch::nn::Module {
 public:
  GatedMLPImpl(int64_t width, int64_t hidden);
  at::Tensor forward(const at::Tensor& x);
  // x, out: float [rows, width]; `gate` is scratch [rows, 2·hidden].
  void forward_into(const at::Tensor& x, at::Tensor& gate, at::Tensor& out) const;

  int64_t hidden;
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(GatedMLP);

}  // namespace escd
