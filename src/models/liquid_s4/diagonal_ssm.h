// The linear SSM of one S4 layer in diagonal (S4D-LegS) form: H channels, each with N/2 complex
// modes standing for an N-dimensional real state (conjugate pairs implied).
//
// Why diagonal rather than upstream's DPLR (diag + rank-1): with the rank-1 term dropped, Ā is
// diagonal, so (1) the kernel is a plain Vandermonde sum, differentiable with a few ATen ops and no
// Cauchy/Woodbury machinery or C̃ = C(I − Ā^L) rewriting tied to one sequence length; (2) the step
// mode is exact and costs O(N/2) per channel (no dense N×N mat-vec, no eigendecomposition of Ā);
// (3) the liquid chains of kb reuse the same modes. S4D-LegS (LegS eigenvalues and B = Vᴴ B_legs,
// P dropped) is known to approximate the full LegS kernel closely and trains as well in practice.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "models/liquid_s4/liquid_s4_options.h"

namespace escd::liquid_s4 {

// One layer's SSM discretised with its current step sizes. All complex64 [H, N/2].
struct DiscreteSSM {
  at::Tensor dA;      // Ā per mode
  at::Tensor dB;      // B̄ per mode
  at::Tensor log_dA;  // log Ā (for ZOH exactly ΔΛ): Ā^j = exp(j log Ā) gives the Vandermonde powers
};

// Parameters, by their registered names. The "ssm_" prefix marks the state-space parameters (A as
// ssm_log_A_real/ssm_A_imag, B as ssm_B, step size ssm_log_dt) that upstream trains with their own
// learning rate (1e-3) and no weight decay; see liquid_s4_is_ssm_parameter().
//   ssm_log_dt     [H]         log Δ, uniform in [log dt_min, log dt_max]
//   ssm_log_A_real [H, N/2]    log(−Re Λ): the exp parameterisation keeps Re Λ < 0 (stable)
//   ssm_A_imag     [H, N/2]    Im Λ
//   ssm_B          [H, N/2, 2] B as (re, im)
//   C              [H, N/2, 2] C as (re, im), complex normal
//   D              [H]         skip term, normal
// Complex values are stored as real pairs so optimisers, gradient clipping and checkpoints only
// ever see real tensors; view_as_complex turns them back, differentiably.
class DiagonalSSMImpl : public torch::nn::Module {
 public:
  DiagonalSSMImpl(int64_t channels, int64_t d_state, double dt_min, double dt_max, Discretization discretization);

  DiscreteSSM discretise() const;
  at::Tensor lambda() const;     // complex [H, N/2], Re < 0
  at::Tensor C_complex() const;  // complex [H, N/2]
  const at::Tensor& D() const { return D_; }

 private:
  Discretization discretization_;
  at::Tensor log_dt_, log_A_real_, A_imag_, B_, C_, D_;
};
TORCH_MODULE(DiagonalSSM);

// Real kernels from power sums over the conjugate-extended state:
//   out[r, j, h] = 2 Re Σ_m weights[r, h, m] · Ā[h, m]^j,  j = 0..length−1.
// weights: complex [R, H, N/2]; returns real [R, length, H] (time-major, like the activations).
// With weights C⊙B̄ this is the S4 kernel K_j = C Ā^j B̄; with B̄ it is G_j = 1ᵀ Ā^j B̄ (kb).
at::Tensor vandermonde_kernels(const at::Tensor& weights, const at::Tensor& log_dA, int64_t length);

// Spectrum of a causal kernel K [L, H] for LINEAR convolution of length-L signals: zero-padded to
// 2L so that the circular FFT product has no wrap-around. Returns complex [L+1, H].
// (A lower-triangular Toeplitz GEMM, the alternative, measured slower than this route forward and
// backward at escd's sizes.)
at::Tensor kernel_spectrum(const at::Tensor& K);
// y[b, k, h] = Σ_{j≤k} K[j, h] u[b, k−j, h] for u [B, L, H], given kernel_spectrum(K).
at::Tensor causal_convolution(const at::Tensor& u, const at::Tensor& K_spectrum);

}  // namespace escd::liquid_s4
