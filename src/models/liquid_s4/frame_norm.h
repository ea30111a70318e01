// Per-frame normalisation over channels (the last dimension), usable on [B, T, H] and on the
// [B, H] frames of the streaming session alike.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "models/liquid_s4/liquid_s4_options.h"

namespace escd::liquid_s4 {

// layernorm:     y = (x − μ)/σ ⊙ weight + bias            (weight, bias [H]; the default)
// scalar_affine: y = s · (x − μ + m)/σ                     (upstream TransposedLN; s, m scalars)
// μ, σ: mean and population standard deviation over channels, σ = √(var + 1e-5). Upstream's TLN
// has no ε; a small one keeps a constant frame (e.g. digital silence) finite.
class FrameNormImpl : public torch::nn::Module {
 public:
  FrameNormImpl(int64_t channels, NormKind kind);
  at::Tensor forward(const at::Tensor& x);
  // The same on `rows` contiguous frames of floats, for streaming (no ATen call, no allocation).
  void forward_into(const float* x, int64_t rows, float* out) const;

 private:
  NormKind kind_;
  int64_t channels_;
  at::Tensor weight_, bias_;
};
TORCH_MODULE(FrameNorm);

}  // namespace escd::liquid_s4
