#include "models/liquid_s4/s4_layer.h"

#include <ATen/Functions.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>

#include "models/common/tensor_floats.h"
#include "models/liquid_s4/liquid_terms.h"
#include "models/liquid_s4/ssm_step.h"

namespace escd::liquid_s4 {
namespace {

// kb: initial weight of each liquid chain in the output (see the constructor).
constexpr double kKbScaleInit = 0.1;

}  // namespace

S4LayerImpl::S4LayerImpl(const Options& options) : options_(options) {
  const int64_t H = options.d_model;
  ssm_ = register_module("ssm", DiagonalSSM(H, options.d_state, options.dt_min, options.dt_max, options.discretization));
  out_ = register_module("out", torch::nn::Linear(H, 2 * H));
  const int64_t terms = options.liquid_terms();
  if (options.liquid_kernel == LiquidKernel::kb) {
    // s_q = 1 would be the exact truncated liquid recurrence. But 1ᵀx sums all modes, so G's gain
    // does not shrink with Δ: at init the liquid terms K*v^{(q)} are of the same order as the linear
    // K*u, and larger for large Δ and higher degrees. Starting at 0.1 keeps the linear path dominant
    // while the liquid part is clearly present, and lets training turn each degree up or down per
    // channel.
    liquid_ = register_parameter("liquid_scale", at::full({terms, H}, kKbScaleInit));
  } else if (options.liquid_kernel == LiquidKernel::polyb) {
    // Upstream's PolyB coefficient, computed from this layer's own initial SSM (but then trained):
    // c_q = C B̄^{(q)} with B̄^{(q)} = B̄ (1ᵀB̄)^{2^{q−1}−1}, i.e. c_q = K_0 · G_0^{2^{q−1}−1}, sums
    // over the conjugate-extended state. For q = 2 this is exactly the recurrence's coefficient of
    // u_k u_{k−1}. It is small (∝ Δ²), so polyb starts close to plain S4.
    at::NoGradGuard no_grad;
    const DiscreteSSM d = ssm_->discretise();
    const at::Tensor K0 = 2.0 * at::real((ssm_->C_complex() * d.dB).sum(-1));
    const at::Tensor G0 = 2.0 * at::real(d.dB.sum(-1));
    std::vector<at::Tensor> coef;
    for (int64_t q = 2; q <= options.liquid_degree; ++q) coef.push_back(K0 * at::pow(G0, (1 << (q - 1)) - 1));
    liquid_ = register_parameter("liquid_coef", at::stack(coef).contiguous());
  }
}

at::Tensor S4LayerImpl::mix(const at::Tensor& u) {
  const int64_t T = u.size(1);
  const bool kb = options_.liquid_kernel == LiquidKernel::kb;
  at::Tensor K_spectrum, G_spectrum;
  {
    RECORD_USER_SCOPE("ssm_kernel");
    const DiscreteSSM d = ssm_->discretise();
    const at::Tensor CB = ssm_->C_complex() * d.dB;
    // One Vandermonde pass gives K (weights C⊙B̄) and, for kb, G (weights B̄).
    const at::Tensor kernels = vandermonde_kernels(kb ? at::stack({CB, d.dB}) : CB.unsqueeze(0), d.log_dA, T);
    K_spectrum = kernel_spectrum(kernels[0]);
    if (kb) G_spectrum = kernel_spectrum(kernels[1]);
  }
  at::Tensor drive = u;
  if (kb) {
    RECORD_USER_SCOPE("liquid_terms");
    drive = kb_drive(u, G_spectrum, liquid_, options_.liquid_tanh);
  }
  RECORD_USER_SCOPE("ssm_convolution");
  at::Tensor y = causal_convolution(drive, K_spectrum) + ssm_->D() * u;
  if (options_.liquid_kernel == LiquidKernel::polyb) y = y + polyb_term(u, liquid_, options_.liquid_tanh);
  return y;
}

at::Tensor S4LayerImpl::output(const at::Tensor& y) {
  RECORD_USER_SCOPE("s4_output");  // GELU, dropout, the output projection and its GLU
  at::Tensor h = at::gelu(y);  // exact (erf) GELU, as upstream
  if (options_.dropout > 0.0) h = at::dropout(h, options_.dropout, is_training());
  return at::glu(out_->forward(h), -1);
}

at::Tensor S4LayerImpl::forward(const at::Tensor& u) { return output(mix(u)); }

S4LayerStream::S4LayerStream(S4LayerImpl& layer, int64_t batch)
    : options_(layer.options()), batch_(batch), out_(layer.out()->weight, layer.out()->bias) {
  at::NoGradGuard no_grad;
  const Options& o = options_;
  const int64_t H = o.d_model, M = o.modes();
  const DiscreteSSM d = layer.ssm()->discretise();
  a_re_ = tensor_floats(at::real(d.dA));
  a_im_ = tensor_floats(at::imag(d.dA));
  b_re_ = tensor_floats(at::real(d.dB));
  b_im_ = tensor_floats(at::imag(d.dB));
  D_ = tensor_floats(layer.ssm()->D());
  const at::Tensor C2 = 2.0 * layer.ssm()->C_complex().detach();
  const bool kb = o.liquid_kernel == LiquidKernel::kb;
  chains_ = kb ? o.liquid_degree : 1;
  at::Tensor readout = C2.unsqueeze(0);
  if (kb) {
    const at::Tensor weights = at::cat({at::ones({1, H}), layer.liquid().detach()}, 0);  // [p, H]
    readout = C2.unsqueeze(0) * weights.unsqueeze(-1);
  }
  c_re_ = tensor_floats(at::real(readout));
  c_im_ = tensor_floats(at::imag(readout));
  x_re_.assign(chains_ * batch * H * M, 0.0f);
  x_im_.assign(chains_ * batch * H * M, 0.0f);
  if (o.liquid_kernel == LiquidKernel::polyb) {
    liquid_ = tensor_floats(layer.liquid());
    history_.assign((o.liquid_degree - 1) * batch * H, 0.0f);
  }
  y_.assign(batch * H, 0.0f);
  hidden_.assign(batch * 2 * H, 0.0f);
}

void S4LayerStream::step(const float* u, float* out) {
  const Options& o = options_;
  const int64_t B = batch_, H = o.d_model;
  PlanarSSM s;
  s.chains = chains_;
  s.rows = B;
  s.channels = H;
  s.modes = o.modes();
  s.a_re = a_re_.data();
  s.a_im = a_im_.data();
  s.b_re = b_re_.data();
  s.b_im = b_im_.data();
  s.c_re = c_re_.data();
  s.c_im = c_im_.data();
  s.x_re = x_re_.data();
  s.x_im = x_im_.data();
  s.kb = o.liquid_kernel == LiquidKernel::kb;
  s.contract = o.liquid_tanh;
  float* y = y_.data();
  ssm_step(s, u, y);

  const bool polyb = o.liquid_kernel == LiquidKernel::polyb;
  for (int64_t bh = 0; bh < B * H; ++bh) {
    const int64_t h = bh % H;
    float v = y[bh] + D_[h] * u[bh];
    if (polyb) {
      // s^{(q)}_k = s^{(q−1)}_k · s^{(q−1)}_{k−1}; history holds the previous frame's s^{(q−1)}.
      float sq = u[bh];
      for (int64_t q = 2; q <= o.liquid_degree; ++q) {
        float& previous = history_[((q - 2) * B) * H + bh];
        const float next = sq * previous;
        previous = sq;
        sq = next;
        v += liquid_[(q - 2) * H + h] * (o.liquid_tanh ? std::tanh(sq) : sq);
      }
    }
    y[bh] = v;
  }
  // Exact (erf) GELU and the GLU over channels (first half ⊙ σ(second half)): ATen's vectorised
  // functions on the step's buffers, the ones the parallel form applies (a scalar erf and exp per
  // value were a tenth of the staggered-windows step under perf).
  at::Tensor y_view = at::from_blob(y, {B, H}, at::kFloat);
  at::gelu_out(y_view, y_view);
  out_.apply(y, B, H, hidden_.data(), 2 * H);
  at::Tensor out_view = at::from_blob(out, {B, H}, at::kFloat);
  at::glu_out(out_view, at::from_blob(hidden_.data(), {B, 2 * H}, at::kFloat), -1);
}

void S4LayerStream::clear(int64_t row) {
  const int64_t B = batch_, H = options_.d_model, M = options_.modes();
  if (row < 0) {
    std::fill(x_re_.begin(), x_re_.end(), 0.0f);
    std::fill(x_im_.begin(), x_im_.end(), 0.0f);
    std::fill(history_.begin(), history_.end(), 0.0f);
    return;
  }
  for (int64_t q = 0; q < chains_; ++q) {
    const int64_t offset = (q * B + row) * H * M;
    std::fill_n(x_re_.begin() + offset, H * M, 0.0f);
    std::fill_n(x_im_.begin() + offset, H * M, 0.0f);
  }
  for (int64_t q = 0; q + 1 < options_.liquid_degree && !history_.empty(); ++q) {
    std::fill_n(history_.begin() + (q * B + row) * H, H, 0.0f);
  }
}

}  // namespace escd::liquid_s4
