// Copying weights between modules of the same layout: fit --init (a checkpoint's model into the
// one being trained) and JEPA pretraining (context encoder into target encoder and back out).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <functional>
#include <stdexcept>
#include <string>

namespace escd::train {

// Every parameter of `to` takes the value of the same-named parameter of `from`, except those `keep`
// names (they keep their values). A name `from` lacks, or a shape that differs, is an error naming
// the parameter (different hyperparameters).
inline void copy_parameters(const torch::nn::Module& from, torch::nn::Module& to,
                            const std::function<bool(const std::string&)>& keep = nullptr) {
  at::NoGradGuard no_grad;
  const auto source = from.named_parameters();
  for (auto& p : to.named_parameters()) {
    if (keep && keep(p.key())) continue;
    const at::Tensor* s = source.find(p.key());
    if (s == nullptr) throw std::invalid_argument("parameter '" + p.key() + "' is missing from the source model");
    if (s->sizes() != p.value().sizes()) {
      throw std::invalid_argument("parameter '" + p.key() + "' has shape " + c10::str(s->sizes()) + " in the source, " +
                                  c10::str(p.value().sizes()) + " here");
    }
    p.value().copy_(*s);
  }
}

}  // namespace escd::train
