#include "models/liquid_s4/liquid_s4_model.h"

#include <ATen/Functions.h>

#include <stdexcept>
#include <string>

#include "models/common/frame_embedder.h"
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
        embedder_(model, model.mel_conv(), model.encoder(), batch) {
    const int64_t H = model.options().d_model;
    for (int64_t i = 0; i < model.n_layers(); ++i) streams_.emplace_back(*model.layer(i), batch);
    x_.assign(batch * H, 0.0f);
    normed_.assign(batch * H, 0.0f);
    branch_.assign(batch * H, 0.0f);
    features_ = at::zeros({batch, H});
  }

 protected:
  at::Tensor advance(const at::Tensor& frames) override {
    const int64_t rows = frames.size(0), H = model_.options().d_model;
    float* x = x_.data();
    embedder_.apply(frames, x);
    for (int64_t i = 0; i < model_.n_layers(); ++i) {
      model_.norm(i)->forward_into(x, rows, normed_.data());
      streams_[i].step(normed_.data(), branch_.data());
      for (int64_t j = 0; j < rows * H; ++j) x[j] += branch_[j];
    }
    model_.final_norm()->forward_into(x, rows, features_.data_ptr<float>());
    return features_;
  }
  void clear(int64_t row) override {
    embedder_.clear(row);
    for (auto& s : streams_) s.clear(row);
  }
  at::Tensor head(const at::Tensor& pooled) override { return model_.head()->forward(pooled); }

 private:
  LiquidS4Classifier& model_;
  FrameEmbedder embedder_;
  std::vector<S4LayerStream> streams_;
  std::vector<float> x_, normed_, branch_;
  at::Tensor features_;
};

}  // namespace

LiquidS4Classifier::LiquidS4Classifier(const nlohmann::json& hyperparameters, int64_t n_mels, int64_t n_classes)
    : SequenceClassifier("liquid_s4", hyperparameters, n_mels, n_classes),
      options_(Options::from_json(hyperparameters)) {
  const int64_t H = options_.d_model;
  int64_t embedded = n_mels;
  if (options_.mel_conv_channels > 0) {
    mel_conv_ = register_module("mel_conv", MelConv(n_mels, options_.mel_conv_channels, options_.mel_conv_time_kernel));
    embedded = mel_conv_->out_features();
  }
  encoder_ = register_module("encoder", torch::nn::Linear(embedded, H));
  for (int64_t i = 0; i < options_.n_layers; ++i) {
    norms_.push_back(register_module("norm" + std::to_string(i), FrameNorm(H, options_.norm)));
    layers_.push_back(register_module("layer" + std::to_string(i), S4Layer(options_)));
  }
  final_norm_ = register_module("final_norm", FrameNorm(H, options_.norm));
  head_ = register_module("head", torch::nn::Linear(H, n_classes));
}

at::Tensor LiquidS4Classifier::frame_features(const at::Tensor& frames) {
  const at::Tensor normalised = normalise(frames);
  at::Tensor x = encoder_->forward(mel_conv_ ? mel_conv_->forward(normalised) : normalised);
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
