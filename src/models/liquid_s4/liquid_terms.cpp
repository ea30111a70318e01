#include "models/liquid_s4/liquid_terms.h"

#include <ATen/Functions.h>

#include "models/liquid_s4/diagonal_ssm.h"

namespace escd::liquid_s4 {
namespace {

at::Tensor phi(const at::Tensor& x, bool contract) { return contract ? at::tanh(x) : x; }

}  // namespace

at::Tensor shift_right(const at::Tensor& x) {
  return at::constant_pad_nd(x.narrow(1, 0, x.size(1) - 1), {0, 0, 1, 0});
}

at::Tensor kb_drive(const at::Tensor& u, const at::Tensor& G_spectrum, const at::Tensor& scale, bool contract) {
  at::Tensor drive = u;
  at::Tensor v = u;  // v^{(1)}
  for (int64_t q = 2; q <= scale.size(0) + 1; ++q) {
    const at::Tensor readout = causal_convolution(v, G_spectrum);  // 1ᵀ x^{(q−1)}_k
    v = phi(u * shift_right(readout), contract);                   // v^{(q)}
    drive = drive + scale[q - 2] * v;
  }
  return drive;
}

at::Tensor polyb_term(const at::Tensor& u, const at::Tensor& coef, bool contract) {
  at::Tensor s = u;
  at::Tensor out = at::zeros_like(u);
  for (int64_t q = 2; q <= coef.size(0) + 1; ++q) {
    s = s * shift_right(s);
    out = out + coef[q - 2] * phi(s, contract);
  }
  return out;
}

}  // namespace escd::liquid_s4
