// The Liquid-S4 classifier: normalise -> [MelConv ->] Linear(-> H) -> n_layers prenorm residual S4 blocks
// (x <- x + S4Layer(Norm(x))) -> final Norm -> mean over time -> Linear(H -> classes).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/linear.h>

#include <memory>
#include <string>
#include <vector>

#include "models/common/mel_conv.h"
#include "models/common/sequence_classifier.h"
#include "models/liquid_s4/frame_norm.h"
#include "models/liquid_s4/liquid_s4_options.h"
#include "models/liquid_s4/s4_layer.h"

namespace escd::liquid_s4 {

// Registered names: "mel_conv" (with mel_conv_channels > 0), "encoder", "layer<i>" and "norm<i>" for i < n_layers, "final_norm", "head"
// (plus the base's "input_mean"/"input_inv_std" buffers).
class LiquidS4Classifier : public SequenceClassifier {
 public:
  LiquidS4Classifier(const nlohmann::json& hyperparameters, int64_t n_mels, int64_t n_classes);

  at::Tensor forward(const at::Tensor& frames) override;
  std::unique_ptr<StreamingSession> start_session(int64_t batch) override;

  // Per-frame features after the final norm, [B, T, H]: what forward() mean-pools.
  at::Tensor frame_features(const at::Tensor& frames);
  // A, B and Δ of every layer (liquid_s4_is_ssm_parameter): the trainer gives them their own
  // learning rate and no weight decay, as upstream does (lr 1e-3, wd 0).
  bool is_state_space_parameter(const std::string& name) const override;
  std::vector<at::Tensor> ssm_parameters();

  const Options& options() const { return options_; }
  int64_t n_layers() const { return static_cast<int64_t>(layers_.size()); }
  S4Layer& layer(int64_t i) { return layers_.at(i); }
  FrameNorm& norm(int64_t i) { return norms_.at(i); }
  FrameNorm& final_norm() { return final_norm_; }
  torch::nn::Linear& encoder() { return encoder_; }
  MelConv& mel_conv() { return mel_conv_; }  // null without a MelConv front end
  torch::nn::Linear& head() { return head_; }

 private:
  Options options_;
  MelConv mel_conv_{nullptr};
  torch::nn::Linear encoder_{nullptr}, head_{nullptr};
  std::vector<S4Layer> layers_;
  std::vector<FrameNorm> norms_;
  FrameNorm final_norm_{nullptr};
};

}  // namespace escd::liquid_s4
