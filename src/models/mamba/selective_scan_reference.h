// TEST AND BENCHMARK ONLY: the selective scan written the obvious way, one time step at a time
// with ATen ops, so that autograd differentiates it. It is the yardstick for the fused kernel
// (values and gradients in float64, speed in bench_mamba); models never call it.
#pragma once

#include <ATen/Functions.h>

#include <vector>

namespace escd {

// Same contract and layout as selective_scan() (selective_scan.h); z may be undefined.
inline at::Tensor reference_selective_scan(const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A,
                                           const at::Tensor& B, const at::Tensor& C, const at::Tensor& D,
                                           const at::Tensor& z = {}) {
  const int64_t length = u.size(1);
  at::Tensor h = at::zeros({u.size(0), u.size(2), A.size(1)}, u.options());  // [batch, E, N]
  std::vector<at::Tensor> ys;
  for (int64_t t = 0; t < length; ++t) {
    const at::Tensor dt = delta.select(1, t).unsqueeze(-1);  // [batch, E, 1]
    const at::Tensor ut = u.select(1, t);                    // [batch, E]
    h = at::exp(dt * A) * h + dt * B.select(1, t).unsqueeze(1) * ut.unsqueeze(-1);
    ys.push_back((h * C.select(1, t).unsqueeze(1)).sum(-1) + D * ut);
  }
  const at::Tensor y = at::stack(ys, 1);
  return z.defined() ? y * at::silu(z) : y;
}

}  // namespace escd
