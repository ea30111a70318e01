// HiPPO-LegS: the state matrix that makes an SSM's state track Legendre coefficients of the input's
// whole history, and its diagonal (S4D-LegS) form used to initialise each layer (docs/MODELS.md 1.2).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace escd::liquid_s4 {

// Dense LegS matrices in float64: A [N, N] (lower triangular), B [N], and the rank-1 correction
// p [N] that makes A + p pᵀ normal (= −½ I + skew-symmetric).
struct HippoLegS {
  at::Tensor A, B, p;
};
HippoLegS hippo_legs(int64_t N);

// Eigendecomposition of the normal part A + p pᵀ = V diag(Λ) Vᴴ, keeping one eigenvalue of each
// conjugate pair: the N/2 with the most negative imaginary parts (ascending), as upstream does.
// All complex128: lambda [N/2] (real parts −½), B = Vᴴ B_legs [N/2], V [N, N/2]. (The low-rank
// term p, projected, is not kept: the diagonal S4D-LegS form drops it.)
struct DiagonalLegS {
  at::Tensor lambda, B, V;
};
// N must be even.
DiagonalLegS hippo_legs_diagonal(int64_t N);

}  // namespace escd::liquid_s4
