// y = x Wᵀ + b for a handful of rows, as streaming sessions need once per frame: the weights are
// packed once (transposed into panels of 16 outputs, output width padded to 16) so that a step is
// one tight SIMD loop with no ATen dispatch, no allocation and no BLAS threading. At 1-10 rows a BLAS
// or ATen call costs more in call overhead and packing than in arithmetic. The AVX-512 kernel keeps up
// to 12 rows x 16 outputs in registers and so reads each weight once for escd's 10 staggered rows;
// the AVX2 one keeps 6 rows x 16 outputs (12 of its 16 registers), two passes for 10 rows
// (util/simd_level.h picks).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>

namespace escd {

class PackedLinear {
 public:
  PackedLinear() = default;
  // weight [out, in] float (a torch Linear's weight), bias [out] or undefined. Copies the values:
  // later changes to the module are not seen (sessions snapshot their weights).
  PackedLinear(const at::Tensor& weight, const at::Tensor& bias);

  // y[r, o] = Σ_i x[r, i] W[o, i] + b[o] for r < rows; rows are `x_stride` / `y_stride` floats apart
  // (so x may be a column slice of a wider buffer). x and y must not overlap.
  void apply(const float* x, int64_t rows, int64_t x_stride, float* y, int64_t y_stride) const;

  int64_t in() const { return in_; }
  int64_t out() const { return out_; }

 private:
  struct FreeDeleter {
    void operator()(float* p) const;
  };
  int64_t in_ = 0, out_ = 0, padded_ = 0;  // padded_: out rounded up to a multiple of 16
  // [padded_ / 16][in][16], 64-byte aligned: each block of 16 outputs has its weights in one
  // contiguous panel, so a kernel streams it front to back (rows of [in, padded_] put 2 KB between
  // consecutive reads of a 512-wide layer, which the hardware prefetchers did not follow).
  std::unique_ptr<float[], FreeDeleter> weight_t_;
  std::unique_ptr<float[], FreeDeleter> bias_;      // [padded_], zeros without a bias
};

}  // namespace escd
