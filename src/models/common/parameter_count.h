// The number of trainable values in a model: what summaries, reports and benchmarks print as its size.
#pragma once

#include <torch/nn/module.h>

#include <cstdint>

namespace escd {

inline int64_t parameter_count(const torch::nn::Module& model) {
  int64_t count = 0;
  for (const auto& p : model.parameters()) count += p.numel();
  return count;
}

}  // namespace escd
