// The Mamba-1 mixer (docs/MODELS.md 2.1-2.3): in_proj → causal depthwise conv → SiLU → x_proj/dt_proj →
// selective scan gated by SiLU(z) → out_proj. Two forms with identical math: forward() over whole
// sequences (training; the fused scan), and step() advancing a batch of rows by one frame from
// their conv and SSM states (streaming; plain loops, no autograd, float only).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "models/common/packed_linear.h"
#include "models/mamba/mamba_config.h"

namespace escd {

class MambaMixerImpl;

// Scratch tensors for step(), sized for `rows` rows and shared by all layers of a session.
struct MixerStepBuffers {
  MixerStepBuffers(const MambaConfig& config, int64_t rows);
  at::Tensor xz;      // [rows, 2E]   in_proj output: x then z
  at::Tensor x_conv;  // [rows, E]    SiLU(conv(x))
  at::Tensor x_dbl;   // [rows, R+2N] x_proj output: δ_low, B_t, C_t
  at::Tensor delta;   // [rows, E]    dt_proj output (the step applies softplus to get Δ)
  at::Tensor y;       // [rows, E]    gated scan output
  // Views of the above, made once: the step would otherwise build four narrowed tensors per layer
  // and frame.
  at::Tensor B_t, C_t;  // x_dbl's B_t and C_t columns
  at::Tensor z;         // xz's second half
};

// A mixer's weights as step() uses them, taken once when a session starts (later changes to the
// module are not seen): the projections packed for few-row products, and A = −exp(A_log).
struct MixerStepWeights {
  explicit MixerStepWeights(const MambaMixerImpl& mixer);
  PackedLinear in_proj, x_proj, dt_proj, out_proj;
  at::Tensor A_t;        // [N, E]: A = −exp(A_log), transposed for the step kernel
  at::Tensor conv_taps;  // [d_conv, E]: the conv weight transposed, channels innermost
};

class MambaMixerImpl : public torch::nn::Module {
 public:
  MambaMixerImpl(const MambaConfig& config);

  // h: [batch, length, D] → [batch, length, D].
  at::Tensor forward(const at::Tensor& h);

  // One frame for every row. h: [rows, D] floats; conv_state [rows, d_conv, E] (oldest input first)
  // and ssm_state [rows, N, E] are updated in place; the result is written to out [rows, D]. No
  // allocation and no ATen operator (softplus is fused into selective_scan_step); the products run
  // on `weights`.
  void step(const float* h, int64_t rows, at::Tensor& conv_state, at::Tensor& ssm_state,
            const MixerStepWeights& weights, MixerStepBuffers& buffers, float* out) const;

  // Upstream initialisation of the mixer's own parameters (dt, A_log, D; out_proj rescaled for a
  // residual stream that sums `residual_branches` = n_layers · (1 or 2 with an MLP) branches).
  void reset_ssm_parameters(int64_t residual_branches);

  // The causal depthwise conv over time on x [batch, length, E] (left zero padding d_conv − 1).
  at::Tensor causal_conv(const at::Tensor& x) const;

  MambaConfig config;
  torch::nn::Linear in_proj{nullptr}, x_proj{nullptr}, dt_proj{nullptr}, out_proj{nullptr};
  at::Tensor conv_weight;  // [E, d_conv]: tap j multiplies x_{t − (d_conv − 1) + j}
  at::Tensor conv_bias;    // [E]
  at::Tensor A_log;        // [E, N]
  at::Tensor D;            // [E]
};
TORCH_MODULE(MambaMixer);

}  // namespace escd
