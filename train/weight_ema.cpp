#include "weight_ema.h"

#include <ATen/Functions.h>

#include <algorithm>

namespace escd::train {

WeightEma::WeightEma(torch::nn::Module& model, double decay) : decay_(decay) {
  for (auto& p : model.parameters()) {
    if (!p.requires_grad()) continue;
    params_.push_back(p);
    shadow_.push_back(p.detach().clone());
  }
}

void WeightEma::update() {
  if (!enabled()) return;
  at::NoGradGuard no_grad;
  const double d = std::min(decay_, (1.0 + updates_) / (10.0 + updates_));
  for (size_t i = 0; i < params_.size(); ++i) shadow_[i].mul_(d).add_(params_[i].detach(), 1.0 - d);
  ++updates_;
}

void WeightEma::swap() {
  if (!enabled()) return;
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor tmp = params_[i].detach().clone();
    params_[i].detach().copy_(shadow_[i]);
    shadow_[i].copy_(tmp);
  }
}

}  // namespace escd::train
