// The causal liquid terms of an S4 layer (docs/MODELS.md 1.4) in their parallel (whole sequence,
// training) form; the step (one frame, streaming) forms (1.6) are in S4LayerStream (polyb) and
// ssm_step.h (kb's chains). φ is tanh when `contract` is set, the identity otherwise.
//
// kb: the exact degree-p truncation of the liquid recurrence x_k = (Ā + B̄ u_k 1ᵀ) x_{k−1} + B̄ u_k,
//   as p chains x^{(q)}_k = Ā x^{(q)}_{k−1} + B̄ v^{(q)}_k with v^{(1)} = u and
//   v^{(q)}_k = φ(u_k · 1ᵀ x^{(q−1)}_{k−1}); output C (x^{(1)} + Σ_{q≥2} s_q ⊙ x^{(q)}) with a trained
//   per-degree, per-channel scale s_q. In parallel form 1ᵀ x^{(q−1)} = G * v^{(q−1)} with
//   G_j = 1ᵀ Ā^j B̄, and since K* is linear the chains' outputs share ONE convolution with K:
//   y = K * (u + Σ_q s_q ⊙ v^{(q)}). Causal: v^{(q)}_k uses the chain state before frame k.
//
// polyb: pointwise products of neighbouring inputs, s^{(2)}_k = u_k u_{k−1},
//   s^{(q)}_k = s^{(q−1)}_k s^{(q−1)}_{k−1} (upstream's allcombs=False recursion without its time
//   reversal), added as y_k += Σ_q c_q ⊙ φ(s^{(q)}_k) with trained coefficients c_q per channel.
#pragma once

#include <ATen/core/Tensor.h>

namespace escd::liquid_s4 {

// ---- kb ----
// u [B, T, H]; G_spectrum = kernel_spectrum(G); scale [p−1, H]. Returns u + Σ_q s_q ⊙ v^{(q)}, the
// sequence the layer's output kernel K convolves.
at::Tensor kb_drive(const at::Tensor& u, const at::Tensor& G_spectrum, const at::Tensor& scale, bool contract);
// kb's step form (the chains x^{(q)} themselves) is fused with the SSM update in ssm_step.h.

// ---- polyb ----
// u [B, T, H], coef [p−1, H] -> Σ_q c_q ⊙ φ(s^{(q)}), [B, T, H].
at::Tensor polyb_term(const at::Tensor& u, const at::Tensor& coef, bool contract);

// x delayed by one step along time (dim 1), with a zero first frame: the causal "previous frame".
at::Tensor shift_right(const at::Tensor& x);

}  // namespace escd::liquid_s4
