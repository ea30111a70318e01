// The Mamba-1 selective scan (docs/MODELS.md 2.2) as one fused CPU kernel with a hand-written backward.
//
//   h_t[e,n] = exp(Δ_t[e]·A[e,n])·h_{t−1}[e,n] + Δ_t[e]·B_t[n]·u_t[e],   h_{−1} = 0
//   y_t[e]   = Σ_n C_t[n]·h_t[e,n] + D[e]·u_t[e]
//   out_t[e] = y_t[e]·SiLU(z_t[e])        (only when z is given)
//
// Layout (time-major, channels last — what the surrounding Linear layers produce, so no transposes):
//   u, delta, z, out: [batch, length, channels E]   B, C: [batch, length, state N]
//   A: [E, N]   D: [E]
// The kernel keeps a block of 8 channels in SIMD lanes (one AVX2 register): for each time step and
// state index the 8 channels are updated by one vector operation. Forward parallelises over
// (batch, channel block); backward over batch (dB_t and dC_t reduce over channels, so a batch row
// owns its rows of dB and dC), with per-chunk partial sums for dA and dD. Backward keeps no state
// from the forward pass: it recomputes one channel block's states (length × N × 8 values) into a
// per-thread buffer and runs the reverse-time recurrence. float and double are supported; delta
// must be positive and A negative for the usual decaying scan, but any values are computed.
#pragma once

#include <ATen/core/Tensor.h>

namespace escd {

// Differentiable in every tensor argument (u, delta, A, B, C, D, z). z may be undefined (no gate).
at::Tensor selective_scan(const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
                          const at::Tensor& C, const at::Tensor& D, const at::Tensor& z = {});

// One time step for `rows` independent streams (the streaming session; float32, no autograd):
//   state ← exp(Δ⊗A) ⊙ state + (Δ·x)⊗B;  y = (state·C + D⊙x) ⊙ SiLU(z)
// x, delta, z, y: [rows, E]; A_t: [N, E] (A transposed); B, C: [rows, N]; D: [E];
// state: [rows, N, E] (contiguous; channels innermost, so that 8 or 16 channels step per SIMD op).
// Row-strided views are accepted (the last dimension must be contiguous), so B, C and z can be
// slices of the projections that produce them. Same arithmetic as the sequence kernel.
// delta_softplus (as upstream's selective_scan_fn): delta holds the pre-activation and the kernel
// uses Δ = softplus(delta) (softplus_vector in simd_lanes.h, within float rounding of ATen's).
void selective_scan_step(const at::Tensor& x, const at::Tensor& delta, const at::Tensor& A_t, const at::Tensor& B,
                         const at::Tensor& C, const at::Tensor& D, const at::Tensor& z, at::Tensor& state,
                         at::Tensor& y, bool delta_softplus = false);

}  // namespace escd
