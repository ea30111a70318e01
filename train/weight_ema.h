// Exponential moving average of a model's parameters: evaluated and shipped instead of the raw
// weights, which on a 1200-clip training set are noticeably noisier from step to step.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <vector>

namespace escd::train {

class WeightEma {
 public:
  // Averages the parameters that are trained (requires_grad); frozen ones stay exactly as they are.
  WeightEma(torch::nn::Module& model, double decay);
  // shadow <- d * shadow + (1 - d) * param, with d ramped up over the first steps
  // (min(decay, (1 + n) / (10 + n))) so that early averages are not dominated by the init.
  void update();
  // Exchanges the model's parameters with the averages (call twice to restore).
  void swap();
  std::vector<at::Tensor>& shadow() { return shadow_; }
  int64_t updates() const { return updates_; }
  void set_updates(int64_t n) { updates_ = n; }
  bool enabled() const { return decay_ > 0; }

 private:
  std::vector<at::Tensor> params_;
  std::vector<at::Tensor> shadow_;
  double decay_;
  int64_t updates_ = 0;
};

}  // namespace escd::train
