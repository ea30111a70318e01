// One S4 layer (docs/MODELS.md 1.5): y = SSM(u) + D⊙u [+ liquid term] -> GELU -> dropout ->
// Linear H->2H -> GLU, in parallel form (training) and as a per-frame stream (S4LayerStream, 1.6).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "models/common/packed_linear.h"
#include "models/liquid_s4/diagonal_ssm.h"
#include "models/liquid_s4/liquid_s4_options.h"

namespace escd::liquid_s4 {

// Registered children and parameters: "ssm" (DiagonalSSM), "out" (Linear H->2H), and for the
// liquid kernels one [p−1, H] parameter: "liquid_scale" (kb: s_q, the per-degree, per-channel weight
// of chain q in the output) or "liquid_coef" (polyb: c_q). Both are trained and saved.
class S4LayerImpl : public torch::nn::Module {
 public:
  explicit S4LayerImpl(const Options& options);

  // u [B, T, H] (already normalised) -> [B, T, H].
  at::Tensor forward(const at::Tensor& u);
  // The temporal part alone, before the activation: K * drive + D⊙u [+ polyb], [B, T, H].
  at::Tensor mix(const at::Tensor& u);
  // The per-frame part after it: GELU -> dropout -> Linear -> GLU. Works on [..., H].
  at::Tensor output(const at::Tensor& y);

  const Options& options() const { return options_; }
  const DiagonalSSM& ssm() const { return ssm_; }
  // [p−1, H] liquid parameter (undefined for liquid_kernel "none").
  const at::Tensor& liquid() const { return liquid_; }
  // The per-frame Linear H -> 2H before the GLU.
  const torch::nn::Linear& out() const { return out_; }

 private:
  Options options_;
  DiagonalSSM ssm_{nullptr};
  torch::nn::Linear out_{nullptr};
  at::Tensor liquid_;
};
TORCH_MODULE(S4Layer);

// Streaming form of one S4 layer for `batch` independent rows. Snapshots every parameter when
// constructed (the SSM discretised once, the output Linear packed): start a new session after
// changing the weights. Each step costs the same whatever the number of frames seen, runs plain
// loops (no ATen call, no allocation) and needs a float32 model.
// State per row: complex [chains, H, N/2] (planar) with chains = p for kb (one per degree) and 1
// otherwise, plus for polyb the last u and s^{(2..p−1)} ([p−1, H]).
class S4LayerStream {
 public:
  S4LayerStream(S4LayerImpl& layer, int64_t batch);
  // u [B, H] floats (already normalised) -> out [B, H], equal to forward()'s output at this frame.
  void step(const float* u, float* out);
  // Zeroes one row's state, or every row's when row < 0.
  void clear(int64_t row);

 private:
  Options options_;
  int64_t batch_;
  int64_t chains_;
  std::vector<float> a_re_, a_im_, b_re_, b_im_;  // Ā, B̄ [H, N/2]
  std::vector<float> c_re_, c_im_;                // [chains, H, N/2]: 2C times each chain's output weight (1, s_2, ..)
  std::vector<float> D_;                          // [H]
  std::vector<float> liquid_;                     // [p−1, H] (polyb coefficients)
  std::vector<float> x_re_, x_im_;                // [chains, B, H, N/2]
  std::vector<float> history_;                    // [p−1, B, H] (polyb)
  PackedLinear out_;                              // H -> 2H
  std::vector<float> y_, hidden_;                 // scratch [B, H], [B, 2H]
};

}  // namespace escd::liquid_s4
