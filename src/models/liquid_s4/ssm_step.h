// One frame of a layer's diagonal SSM and its kb liquid chains, for every row of a session, in a
// single pass over the state. The complex values are kept planar (real parts and imaginary parts
// in separate float arrays), so the loop over modes is 8 modes per SIMD instruction with no
// complex-type shuffles; there is no ATen call and no allocation.
#pragma once

#include <cstdint>

namespace escd::liquid_s4 {

// Shapes: rows B, channels H, modes M (= N/2), chains (p for kb, 1 otherwise).
//   a_re/a_im, b_re/b_im   [H, M]          Ā, B̄
//   c_re/c_im              [chains, H, M]  2C times the output weight of each chain
//   x_re/x_im              [chains, B, H, M] the state, advanced in place
struct PlanarSSM {
  int64_t chains = 1, rows = 0, channels = 0, modes = 0;
  const float *a_re = nullptr, *a_im = nullptr, *b_re = nullptr, *b_im = nullptr, *c_re = nullptr, *c_im = nullptr;
  float *x_re = nullptr, *x_im = nullptr;
  bool kb = false, contract = false;
};

// u [B, H] -> y [B, H]. With kb the chains' inputs are v^{(1)} = u and v^{(q)} = φ(u · 1ᵀx^{(q−1)})
// from the states BEFORE this frame (1ᵀx = 2 Re Σ_m x_m over the conjugate-extended state);
// otherwise chains = 1 and the input is u. Then x^{(q)} ← Ā x^{(q)} + B̄ v^{(q)} and
// y = Re Σ_q Σ_m c_q ⊙ x^{(q)} (the caller adds D⊙u and any polyb term).
void ssm_step(const PlanarSSM& s, const float* u, float* y);

}  // namespace escd::liquid_s4
