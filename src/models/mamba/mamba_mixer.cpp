#include "models/mamba/mamba_mixer.h"

#include <ATen/Functions.h>
#include <ATen/record_function.h>
#include <torch/nn/init.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "models/mamba/selective_scan.h"
#include "models/common/simd_lanes.h"
#include "util/simd_level.h"

namespace escd {
namespace {

// x'[e] = SiLU(bias[e] + Σ_j taps[j, e] · window[j, e]) for one row; channels innermost, kLanes
// channels per vector (a plain loop around exp_approx stayed scalar: GCC does not vectorise it).
ESCD_LANES_INLINE void conv_silu_body(const float* window, const float* taps, const float* bias, int64_t K,
                                      int64_t E, float* out) {
  using mamba_detail::kLanes;
  using V = mamba_detail::Lanes<float>;
  for (int64_t e = 0; e < E; e += kLanes) {
    const int64_t width = std::min(kLanes, E - e);
    V acc = mamba_detail::load_lanes(bias + e, width);
    for (int64_t j = 0; j < K; ++j) {
      acc += mamba_detail::load_lanes(taps + j * E + e, width) * mamba_detail::load_lanes(window + j * E + e, width);
    }
    mamba_detail::store_lanes(out + e, acc / (1.0f + mamba_detail::exp_lanes(-acc)), width);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) void conv_silu_avx2(const float* window, const float* taps, const float* bias,
                                                         int64_t K, int64_t E, float* out) {
  conv_silu_body(window, taps, bias, K, E, out);
}
#endif

void conv_silu(const float* window, const float* taps, const float* bias, int64_t K, int64_t E, float* out) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (simd_level() >= SimdLevel::avx2) return conv_silu_avx2(window, taps, bias, K, E, out);
#endif
  conv_silu_body(window, taps, bias, K, E, out);
}

}  // namespace

MixerStepBuffers::MixerStepBuffers(const MambaConfig& c, int64_t rows)
    : xz(at::zeros({rows, 2 * c.d_inner()})),
      x_conv(at::zeros({rows, c.d_inner()})),
      x_dbl(at::zeros({rows, c.dt_rank + 2 * c.d_state})),
      delta(at::zeros({rows, c.d_inner()})),
      y(at::zeros({rows, c.d_inner()})),
      B_t(x_dbl.narrow(1, c.dt_rank, c.d_state)),
      C_t(x_dbl.narrow(1, c.dt_rank + c.d_state, c.d_state)),
      z(xz.narrow(1, c.d_inner(), c.d_inner())) {}

MixerStepWeights::MixerStepWeights(const MambaMixerImpl& m)
    : in_proj(m.in_proj->weight, {}),
      x_proj(m.x_proj->weight, {}),
      dt_proj(m.dt_proj->weight, m.dt_proj->bias),
      out_proj(m.out_proj->weight, {}),
      A_t((-at::exp(m.A_log.detach())).t().contiguous()),
      conv_taps(m.conv_weight.detach().t().contiguous()) {}

MambaMixerImpl::MambaMixerImpl(const MambaConfig& c) : config(c) {
  using torch::nn::Linear;
  using torch::nn::LinearOptions;
  const int64_t D_ = c.d_model, E = c.d_inner(), N = c.d_state, R = c.dt_rank;
  in_proj = register_module("in_proj", Linear(LinearOptions(D_, 2 * E).bias(false)));
  // PyTorch's Conv1d default init (kaiming-uniform a=√5 ⇒ U(±1/√fan_in), fan_in = d_conv for a
  // depthwise conv), which upstream keeps.
  const double conv_bound = 1.0 / std::sqrt(static_cast<double>(c.d_conv));
  conv_weight = register_parameter("conv_weight", at::empty({E, c.d_conv}).uniform_(-conv_bound, conv_bound));
  conv_bias = register_parameter("conv_bias", at::empty({E}).uniform_(-conv_bound, conv_bound));
  x_proj = register_module("x_proj", Linear(LinearOptions(E, R + 2 * N).bias(false)));
  dt_proj = register_module("dt_proj", Linear(LinearOptions(R, E).bias(true)));
  A_log = register_parameter("A_log", at::empty({E, N}));
  D = register_parameter("D", at::empty({E}));
  out_proj = register_module("out_proj", Linear(LinearOptions(E, D_).bias(false)));
  reset_ssm_parameters(c.n_layers * (c.has_mlp() ? 2 : 1));
}

void MambaMixerImpl::reset_ssm_parameters(int64_t residual_branches) {
  at::NoGradGuard no_grad;
  const int64_t E = config.d_inner(), N = config.d_state, R = config.dt_rank;
  // dt_proj maps a rank-R code to E step sizes: weight U(±R^−½); the bias is softplus⁻¹ of a step
  // drawn log-uniformly in [dt_min, dt_max], so that softplus(bias) starts inside that range.
  const double w_bound = 1.0 / std::sqrt(static_cast<double>(R));
  dt_proj->weight.uniform_(-w_bound, w_bound);
  at::Tensor dt = at::empty({E}, at::kDouble)
                      .uniform_(std::log(config.dt_min), std::log(config.dt_max))
                      .exp()
                      .clamp_min(config.dt_init_floor);
  dt_proj->bias.copy_(dt + at::log(-at::expm1(-dt)));
  // S4D-Real: A = −[1, 2, …, N] for every channel.
  A_log.copy_(at::log(at::arange(1, N + 1, at::kDouble)).expand({E, N}));
  D.fill_(1.0);
  // Residual branches add up over depth; scaling each branch's output layer by 1/√(branches)
  // keeps the residual stream's variance independent of n_layers at init.
  torch::nn::init::kaiming_uniform_(out_proj->weight, std::sqrt(5.0));
  out_proj->weight.div_(std::sqrt(static_cast<double>(residual_branches)));
}

at::Tensor MambaMixerImpl::causal_conv(const at::Tensor& x) const {
  RECORD_USER_SCOPE("causal_conv");
  const int64_t K = config.d_conv, L = x.size(1);
  // Pad K−1 zero frames in front; output t then sums taps over padded frames t..t+K−1.
  const at::Tensor padded = at::constant_pad_nd(x, {0, 0, K - 1, 0});
  at::Tensor out = conv_bias + padded.narrow(1, 0, L) * conv_weight.select(1, 0);
  for (int64_t j = 1; j < K; ++j) out = out + padded.narrow(1, j, L) * conv_weight.select(1, j);
  return out;
}

at::Tensor MambaMixerImpl::forward(const at::Tensor& h) {
  RECORD_USER_SCOPE("mixer_projections");  // what the inner scopes leave: in, x, dt and out projections
  const int64_t E = config.d_inner(), N = config.d_state, R = config.dt_rank;
  const at::Tensor xz = in_proj->forward(h);
  const at::Tensor x = at::silu(causal_conv(xz.narrow(-1, 0, E)));
  const at::Tensor x_dbl = x_proj->forward(x);
  const at::Tensor delta = at::softplus(dt_proj->forward(x_dbl.narrow(-1, 0, R)));
  const at::Tensor y = selective_scan(x, delta, -at::exp(A_log), x_dbl.narrow(-1, R, N), x_dbl.narrow(-1, R + N, N),
                                      D, xz.narrow(-1, E, E));
  return out_proj->forward(y);
}

void MambaMixerImpl::step(const float* h, int64_t rows, at::Tensor& conv_state, at::Tensor& ssm_state,
                          const MixerStepWeights& weights, MixerStepBuffers& buf, float* out) const {
  const int64_t E = config.d_inner(), N = config.d_state, R = config.dt_rank, K = config.d_conv;
  float* xz = buf.xz.data_ptr<float>();
  weights.in_proj.apply(h, rows, config.d_model, xz, 2 * E);

  // Conv: shift each row's window one frame to the left, append x, dot with the taps, SiLU.
  float* conv = conv_state.data_ptr<float>();
  const float* taps = weights.conv_taps.data_ptr<float>();
  const float* bias = conv_bias.data_ptr<float>();
  float* xc = buf.x_conv.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    float* window = conv + r * K * E;
    std::memmove(window, window + E, sizeof(float) * static_cast<size_t>((K - 1) * E));
    std::memcpy(window + (K - 1) * E, xz + r * 2 * E, sizeof(float) * static_cast<size_t>(E));
    conv_silu(window, taps, bias, K, E, xc + r * E);
  }

  float* x_dbl = buf.x_dbl.data_ptr<float>();
  weights.x_proj.apply(xc, rows, E, x_dbl, R + 2 * N);
  weights.dt_proj.apply(x_dbl, rows, R + 2 * N, buf.delta.data_ptr<float>(), E);
  // Δ = softplus of that, applied inside the scan kernel (delta_softplus).
  selective_scan_step(buf.x_conv, buf.delta, weights.A_t, buf.B_t, buf.C_t, D, buf.z, ssm_state, buf.y, true);
  weights.out_proj.apply(buf.y.data_ptr<float>(), rows, E, out, config.d_model);
}

}  // namespace escd
