// PackedLinear (the few-row products of the streaming sessions) against ATen's linear, over the
// shapes the kernels treat differently: row counts around their 4-row (AVX2) and 12-row (AVX-512)
// blocks, output widths that are not multiples of their 16-wide blocks, strided inputs and outputs,
// with and without a bias; at every SIMD level the CPU has.
#include <ATen/Functions.h>
#include <gtest/gtest.h>

#include <vector>

#include "models/common/packed_linear.h"
#include "simd_levels.h"

namespace {

TEST(PackedLinear, EqualsAtenLinearForEveryRowCountWidthAndStride) {
  escd::test::at_every_simd_level([] {
    at::manual_seed(3);
    for (const int64_t in : {1, 8, 37, 128}) {
      for (const int64_t out : {1, 15, 16, 40, 256}) {
        for (const bool with_bias : {false, true}) {
          const at::Tensor weight = at::randn({out, in});
          const at::Tensor bias = with_bias ? at::randn({out}) : at::Tensor();
          const escd::PackedLinear packed(weight, bias);
          for (const int64_t rows : {1, 2, 3, 4, 5, 9, 10, 12, 13, 25}) {
            SCOPED_TRACE("in " + std::to_string(in) + " out " + std::to_string(out) + " rows " + std::to_string(rows) +
                         (with_bias ? " bias" : ""));
            // Inputs are a column slice of a wider buffer; outputs go to rows 3 floats wider than out.
            const at::Tensor wide = at::randn({rows, in + 5});
            const at::Tensor x = wide.narrow(1, 2, in);
            const int64_t y_stride = out + 3;
            std::vector<float> y(rows * y_stride, -7.0f);
            packed.apply(wide.data_ptr<float>() + 2, rows, in + 5, y.data(), y_stride);
            const at::Tensor expected = at::linear(x, weight, bias);
            const at::Tensor got = at::from_blob(y.data(), {rows, y_stride}).narrow(1, 0, out);
            EXPECT_TRUE(at::allclose(got, expected, 1e-5, 1e-5)) << (got - expected).abs().max().item<float>();
            // The padding between rows is not written.
            for (int64_t r = 0; r < rows; ++r) {
              for (int64_t j = out; j < y_stride; ++j) EXPECT_EQ(y[r * y_stride + j], -7.0f);
            }
          }
        }
      }
    }
  });
}

TEST(PackedLinear, RejectsWhatItCannotPack) {
  EXPECT_THROW(escd::PackedLinear(at::randn({4}), at::Tensor()), std::invalid_argument);
  EXPECT_THROW(escd::PackedLinear(at::randn({4, 3}, at::kDouble), at::Tensor()), std::invalid_argument);
  EXPECT_THROW(escd::PackedLinear(at::randn({4, 3}), at::randn({5})), std::invalid_argument);
}

}  // namespace
