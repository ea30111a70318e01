#include "models/liquid_s4/hippo.h"

#include <ATen/Functions.h>

#include <cmath>
#include <stdexcept>

namespace escd::liquid_s4 {

HippoLegS hippo_legs(int64_t N) {
  at::Tensor A = at::zeros({N, N}, at::kDouble);
  at::Tensor B = at::empty({N}, at::kDouble);
  at::Tensor p = at::empty({N}, at::kDouble);
  auto a = A.accessor<double, 2>();
  auto b = B.accessor<double, 1>();
  auto q = p.accessor<double, 1>();
  for (int64_t n = 0; n < N; ++n) {
    b[n] = std::sqrt(2.0 * n + 1.0);
    q[n] = std::sqrt(n + 0.5);
    for (int64_t k = 0; k < n; ++k) a[n][k] = -std::sqrt(2.0 * n + 1.0) * std::sqrt(2.0 * k + 1.0);
    a[n][n] = -(n + 1.0);
  }
  return {A, B, p};
}

DiagonalLegS hippo_legs_diagonal(int64_t N) {
  if (N < 2 || N % 2 != 0) throw std::invalid_argument("hippo_legs_diagonal: N must be even and >= 2");
  const HippoLegS legs = hippo_legs(N);
  // A + p pᵀ = −½ I + S with S skew-symmetric. −iS is Hermitian, so a Hermitian eigensolve gives
  // exactly real eigenvalues μ and orthonormal eigenvectors; then A + p pᵀ has eigenvalues −½ + iμ.
  // (A general non-symmetric eigensolve would give real parts only approximately −½.)
  const at::Tensor normal = legs.A + at::outer(legs.p, legs.p);
  const at::Tensor S = normal + 0.5 * at::eye(N, at::kDouble);
  const at::Tensor hermitian = at::mul(S.to(at::kComplexDouble), c10::complex<double>(0.0, -1.0));
  auto [mu, V] = at::linalg_eigh(hermitian);  // μ ascending; V unitary, columns are eigenvectors

  // μ come in ± pairs (S is real); the first N/2 are the negative ones, one per conjugate pair.
  const int64_t half = N / 2;
  const at::Tensor mu_half = mu.narrow(0, 0, half);
  const at::Tensor V_half = V.narrow(1, 0, half);
  const at::Tensor lambda = at::complex(at::full({half}, -0.5, at::kDouble), mu_half);
  const at::Tensor Vh = V_half.conj().transpose(0, 1);
  const at::Tensor B = at::matmul(Vh, legs.B.to(at::kComplexDouble));
  return {lambda, B, V_half.contiguous()};
}

}  // namespace escd::liquid_s4
