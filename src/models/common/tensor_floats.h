// A tensor's values as a plain float vector: what the streaming sessions snapshot from a module
// (weights, norms, statistics) when they start, so that their per-frame loops read no tensors.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace escd {

// Every value of t (any shape, any floating type, gradient ignored), converted to float, in
// row-major order.
inline std::vector<float> tensor_floats(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace escd
