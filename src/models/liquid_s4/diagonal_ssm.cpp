#include "models/liquid_s4/diagonal_ssm.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <cmath>

#include "models/liquid_s4/hippo.h"

namespace escd::liquid_s4 {

DiagonalSSMImpl::DiagonalSSMImpl(int64_t channels, int64_t d_state, double dt_min, double dt_max,
                                 Discretization discretization)
    : discretization_(discretization) {
  const int64_t modes = d_state / 2;
  const DiagonalLegS legs = hippo_legs_diagonal(d_state);
  // Every channel starts from the same LegS modes (upstream shares them, n_ssm = 1); here each
  // channel owns a copy and may drift from it during training (S4D convention, n_ssm = H): the
  // cost is 4·H·N/2 parameters per layer and no compute.
  const at::Tensor lambda = legs.lambda.to(at::kComplexFloat).expand({channels, modes});
  const at::Tensor B = at::view_as_real(legs.B.to(at::kComplexFloat)).expand({channels, modes, 2});

  log_dt_ = register_parameter(
      "ssm_log_dt", at::rand({channels}) * (std::log(dt_max) - std::log(dt_min)) + std::log(dt_min));
  log_A_real_ = register_parameter("ssm_log_A_real", at::log(-at::real(lambda)).contiguous());
  A_imag_ = register_parameter("ssm_A_imag", at::imag(lambda).contiguous());
  B_ = register_parameter("ssm_B", B.contiguous());
  // Complex standard normal: real and imaginary parts each N(0, ½).
  C_ = register_parameter("C", at::randn({channels, modes, 2}) * std::sqrt(0.5));
  D_ = register_parameter("D", at::randn({channels}));
}

at::Tensor DiagonalSSMImpl::lambda() const { return at::complex(-at::exp(log_A_real_), A_imag_); }

at::Tensor DiagonalSSMImpl::C_complex() const { return at::view_as_complex(C_); }

DiscreteSSM DiagonalSSMImpl::discretise() const {
  const at::Tensor L = lambda();
  const at::Tensor dt = at::exp(log_dt_).unsqueeze(-1);  // [H, 1]
  const at::Tensor dtL = L * dt;
  const at::Tensor B = at::view_as_complex(B_);
  if (discretization_ == Discretization::zoh) {
    // Exact for inputs held constant over a frame: Ā = e^{ΔΛ}, B̄ = (e^{ΔΛ} − 1)/Λ · B.
    const at::Tensor dA = at::exp(dtL);
    return {dA, (dA - 1.0) / L * B, dtL};
  }
  // Bilinear (Tustin), as upstream's NPLR mode: Ā = (1 + ΔΛ/2)/(1 − ΔΛ/2), B̄ = Δ/(1 − ΔΛ/2) · B.
  const at::Tensor denom = 1.0 - dtL * 0.5;
  const at::Tensor dA = (1.0 + dtL * 0.5) / denom;
  return {dA, B * dt / denom, at::log(dA)};
}

at::Tensor vandermonde_kernels(const at::Tensor& weights, const at::Tensor& log_dA, int64_t length) {
  // Ā^j = exp(j log Ā) rather than repeated products, so the error does not grow with j. Writing
  // j = S·s + r (r < S, S ≈ √L) needs only S + L/S complex exponentials per mode instead of L
  // (the exponentials dominated the cost of the naive [H, N/2, L] table, forward and backward):
  //   out[h, S·s + r] = 2 Re Σ_m coarse[h, m, s] · (W[h, m] · fine[h, m, r]),
  // a batched complex matmul over the modes.
  const int64_t S = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(length)))));
  const int64_t blocks = (length + S - 1) / S;
  const auto real_options = log_dA.options().dtype(c10::toRealValueType(log_dA.scalar_type()));
  const at::Tensor fine = at::exp(log_dA.unsqueeze(-1) * at::arange(S, real_options));                  // [H, M, S]
  const at::Tensor coarse = at::exp(log_dA.unsqueeze(-1) * (at::arange(blocks, real_options) * S));     // [H, M, blocks]
  const at::Tensor weighted = weights.unsqueeze(-1) * fine;                                             // [R, H, M, S]
  const at::Tensor sums = at::matmul(coarse.transpose(1, 2), weighted);                                 // [R, H, blocks, S]
  const int64_t R = weights.size(0), H = weights.size(1);
  return (2.0 * at::real(sums)).reshape({R, H, blocks * S}).narrow(2, 0, length).permute({0, 2, 1});  // [R, L, H]
}

at::Tensor kernel_spectrum(const at::Tensor& K) { return at::fft_rfft(K, 2 * K.size(0), 0); }

at::Tensor causal_convolution(const at::Tensor& u, const at::Tensor& K_spectrum) {
  const int64_t L = u.size(1);
  const at::Tensor U = at::fft_rfft(u, 2 * L, 1);  // [B, L+1, H]
  return at::fft_irfft(U * K_spectrum, 2 * L, 1).narrow(1, 0, L);
}

}  // namespace escd::liquid_s4
