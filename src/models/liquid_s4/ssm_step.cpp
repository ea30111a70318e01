#include "models/liquid_s4/ssm_step.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <c10/util/complex.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace escd::liquid_s4 {

at::Tensor ssm_step(at::Tensor& state, const at::Tensor& u, const at::Tensor& dA, const at::Tensor& dB,
                    const at::Tensor& readout, bool kb, bool contract) {
  using cfloat = c10::complex<float>;
  const int64_t chains = state.size(0), B = state.size(1), H = state.size(2), M = state.size(3);
  if (!state.is_contiguous() || state.scalar_type() != at::kComplexFloat) {
    throw std::invalid_argument("ssm_step: state must be contiguous complex64");
  }
  const at::Tensor uc = u.to(at::kFloat).contiguous();
  const at::Tensor a = dA.contiguous(), b = dB.contiguous(), c = readout.contiguous();
  at::Tensor y = at::empty({B, H}, uc.options());

  cfloat* x = state.data_ptr<cfloat>();
  const float* up = uc.data_ptr<float>();
  const cfloat* ap = a.data_ptr<cfloat>();
  const cfloat* bp = b.data_ptr<cfloat>();
  const cfloat* cp = c.data_ptr<cfloat>();
  float* yp = y.data_ptr<float>();
  const int64_t chain_stride = B * H * M;

  // Rows x channels are independent; split them across threads only when there is enough work
  // (a grain of 256 (row, channel) pairs keeps one row on one thread).
  at::parallel_for(0, B * H, 256, [&](int64_t begin, int64_t end) {
    std::vector<float> v(chains);
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t h = bh % H;
      cfloat* xs = x + bh * M;  // chain 0 of this (row, channel); chain q at + q·chain_stride
      const cfloat* ah = ap + h * M;
      const cfloat* bh_ = bp + h * M;
      v[0] = up[bh];
      if (kb) {
        for (int64_t q = 1; q < chains; ++q) {
          const cfloat* prev = xs + (q - 1) * chain_stride;
          float readout_sum = 0.0f;
          for (int64_t m = 0; m < M; ++m) readout_sum += prev[m].real();
          const float drive = up[bh] * 2.0f * readout_sum;
          v[q] = contract ? std::tanh(drive) : drive;
        }
      }
      float acc = 0.0f;
      for (int64_t q = 0; q < chains; ++q) {
        cfloat* xq = xs + q * chain_stride;
        const cfloat* cq = cp + (q * H + h) * M;
        for (int64_t m = 0; m < M; ++m) {
          const cfloat next = ah[m] * xq[m] + bh_[m] * v[q];
          xq[m] = next;
          acc += cq[m].real() * next.real() - cq[m].imag() * next.imag();
        }
      }
      yp[bh] = acc;
    }
  });
  return y;
}

}  // namespace escd::liquid_s4
