#include "models/liquid_s4/liquid_s4_model.h"

#include <ATen/Functions.h>

#include <string>

#include "models/liquid_s4/liquid_s4.h"

namespace escd::liquid_s4 {
namespace {

// Streams every layer one frame at a time; PooledSession keeps the running mean and applies head().
class LiquidS4Session : public PooledSession {
 public:
  LiquidS4Session(LiquidS4Classifier& model, int64_t batch)
      : PooledSession(batch, model.options().d_model, model.n_classes()), model_(model) {
    for (int64_t i = 0; i < model.n_layers(); ++i) streams_.emplace_back(*model.layer(i), batch);
  }

 protected:
  at::Tensor advance(const at::Tensor& frames) override {
    at::Tensor x = model_.encoder()->forward(model_.normalise(frames));
    for (int64_t i = 0; i < model_.n_layers(); ++i) x = x + streams_[i].step(model_.norm(i)->forward(x));
    return model_.final_norm()->forward(x);
  }
  void clear(int64_t row) override {
    for (auto& s : streams_) s.clear(row);
  }
  at::Tensor head(const at::Tensor& pooled) override { return model_.head()->forward(pooled); }

 private:
  LiquidS4Classifier& model_;
  std::vector<S4LayerStream> streams_;
};

}  // namespace

LiquidS4Classifier::LiquidS4Classifier(const nlohmann::json& hyperparameters, int64_t n_mels, int64_t n_classes)
    : SequenceClassifier("liquid_s4", hyperparameters, n_mels, n_classes),
      options_(options_from_json(hyperparameters)) {
  const int64_t H = options_.d_model;
  encoder_ = register_module("encoder", torch::nn::Linear(n_mels, H));
  for (int64_t i = 0; i < options_.n_layers; ++i) {
    norms_.push_back(register_module("norm" + std::to_string(i), FrameNorm(H, options_.norm)));
    layers_.push_back(register_module("layer" + std::to_string(i), S4Layer(options_)));
  }
  final_norm_ = register_module("final_norm", FrameNorm(H, options_.norm));
  head_ = register_module("head", torch::nn::Linear(H, n_classes));
}

at::Tensor LiquidS4Classifier::frame_features(const at::Tensor& frames) {
  at::Tensor x = encoder_->forward(normalise(frames));
  for (size_t i = 0; i < layers_.size(); ++i) x = x + layers_[i]->forward(norms_[i]->forward(x));
  return final_norm_->forward(x);
}

at::Tensor LiquidS4Classifier::forward(const at::Tensor& frames) {
  return head_->forward(frame_features(frames).mean(1));
}

std::unique_ptr<StreamingSession> LiquidS4Classifier::start_session(int64_t batch) {
  return std::make_unique<LiquidS4Session>(*this, batch);
}

bool LiquidS4Classifier::is_state_space_parameter(const std::string& name) const {
  return liquid_s4_is_ssm_parameter(name);
}

std::vector<at::Tensor> LiquidS4Classifier::ssm_parameters() {
  std::vector<at::Tensor> out;
  for (const auto& p : named_parameters()) {
    if (liquid_s4_is_ssm_parameter(p.key())) out.push_back(p.value());
  }
  return out;
}

}  // namespace escd::liquid_s4
