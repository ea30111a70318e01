#include "models/liquid_s4/liquid_s4_model.h"

#include <ATen/Functions.h>

#include <stdexcept>
#include <string>

#include "models/liquid_s4/liquid_s4.h"

namespace escd::liquid_s4 {
namespace {

// Streams every layer one frame at a time in plain loops over snapshots of the weights (see
// S4LayerStream); PooledSession keeps the running mean and applies head().
class LiquidS4Session : public PooledSession {
 public:
  LiquidS4Session(LiquidS4Classifier& model, int64_t batch)
      : PooledSession(batch, model.options().d_model, model.n_classes()),
        model_(model),
        encoder_(model.encoder()->weight, model.encoder()->bias) {
    if (model.encoder()->weight.scalar_type() != at::kFloat) {
      throw std::invalid_argument("liquid_s4 session: the model must be float32");
    }
    const int64_t H = model.options().d_model, M = model.n_mels();
    for (int64_t i = 0; i < model.n_layers(); ++i) streams_.emplace_back(*model.layer(i), batch);
    const at::Tensor mean = model.input_mean().contiguous(), inv_std = model.input_inv_std().contiguous();
    input_mean_.assign(mean.data_ptr<float>(), mean.data_ptr<float>() + M);
    input_inv_std_.assign(inv_std.data_ptr<float>(), inv_std.data_ptr<float>() + M);
    input_.assign(batch * M, 0.0f);
    x_.assign(batch * H, 0.0f);
    normed_.assign(batch * H, 0.0f);
    branch_.assign(batch * H, 0.0f);
    features_ = at::zeros({batch, H});
  }

 protected:
  at::Tensor advance(const at::Tensor& frames) override {
    const int64_t rows = frames.size(0), M = model_.n_mels(), H = model_.options().d_model;
    const at::Tensor f = frames.to(at::kFloat).contiguous();
    const float* in = f.data_ptr<float>();
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t m = 0; m < M; ++m) input_[r * M + m] = (in[r * M + m] - input_mean_[m]) * input_inv_std_[m];
    }
    float* x = x_.data();
    encoder_.apply(input_.data(), rows, M, x, H);
    for (int64_t i = 0; i < model_.n_layers(); ++i) {
      model_.norm(i)->forward_into(x, rows, normed_.data());
      streams_[i].step(normed_.data(), branch_.data());
      for (int64_t j = 0; j < rows * H; ++j) x[j] += branch_[j];
    }
    model_.final_norm()->forward_into(x, rows, features_.data_ptr<float>());
    return features_;
  }
  void clear(int64_t row) override {
    for (auto& s : streams_) s.clear(row);
  }
  at::Tensor head(const at::Tensor& pooled) override { return model_.head()->forward(pooled); }

 private:
  LiquidS4Classifier& model_;
  PackedLinear encoder_;
  std::vector<S4LayerStream> streams_;
  std::vector<float> input_mean_, input_inv_std_, input_, x_, normed_, branch_;
  at::Tensor features_;
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
