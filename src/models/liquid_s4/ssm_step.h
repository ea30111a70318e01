// One frame of a layer's diagonal SSM and its kb liquid chains, for every row of a session, in a
// single pass over the state. A chain of ATen ops here would cost ~10 dispatches per layer and,
// with complex/real type promotion, several ms per frame at 10 rows; this loop touches each state
// entry once and takes microseconds.
#pragma once

#include <ATen/core/Tensor.h>

namespace escd::liquid_s4 {

// state    complex64 [chains, B, H, N/2], contiguous, advanced in place
// u        float [B, H]
// dA, dB   complex64 [H, N/2]   (Ā, B̄)
// readout  complex64 [chains, H, N/2]   2C times the output weight of each chain
// With kb (chains = p) the chains' inputs are v^{(1)} = u and v^{(q)} = φ(u · 1ᵀx^{(q−1)}) from the
// states BEFORE this frame (1ᵀx = 2 Re Σ_m x_m over the conjugate-extended state); otherwise
// chains = 1 and the input is u. Then x^{(q)} ← Ā x^{(q)} + B̄ v^{(q)} and the return value is
// y [B, H] = Re Σ_q Σ_m readout_q ⊙ x^{(q)} (the caller adds D⊙u and any polyb term).
at::Tensor ssm_step(at::Tensor& state, const at::Tensor& u, const at::Tensor& dA, const at::Tensor& dB,
                    const at::Tensor& readout, bool kb, bool contract);

}  // namespace escd::liquid_s4
