// V-JEPA2 audio classifier (docs/MODELS.md section 3): ViT encoder over log-mel tubelets, attentive
// pooler (one learned query cross-attending to the tokens), MLP, Linear head.
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>
#include <torch/nn/modules/linear.h>

#include <memory>

#include "models/common/mel_conv.h"
#include "models/common/sequence_classifier.h"
#include "models/vjepa2/encoder.h"
#include "models/vjepa2/transformer.h"
#include "models/vjepa2/vjepa2_options.h"

namespace escd {

nlohmann::json vjepa2_defaults();
std::shared_ptr<SequenceClassifier> make_vjepa2(const nlohmann::json& hyperparameters, int64_t n_mels,
                                                int64_t n_classes);

namespace vjepa2 {

// Registered names: "mel_conv" (with mel_conv_channels > 0), "encoder" (patch_embed, blocks, norm),
// "pool_query", "pooler", "head".
class Vjepa2Classifier : public SequenceClassifier {
 public:
  Vjepa2Classifier(const nlohmann::json& hyperparameters, int64_t n_mels, int64_t n_classes);

  // Uses the latest min(T / tubelet_frames, max_tubelets) whole tubelets of the frames.
  at::Tensor forward(const at::Tensor& frames) override;
  // Sessions re-run the encoder on their latest window when asked for logits, re-using the patch
  // embeddings of tubelets they have already embedded.
  std::unique_ptr<StreamingSession> start_session(int64_t batch) override;
  bool streams_recurrently() const override { return false; }
  // The attentive probe: the pooling query and block as well as the final layer (V-JEPA's frozen-
  // encoder protocol).
  bool is_head_parameter(const std::string& name) const override {
    return SequenceClassifier::is_head_parameter(name) || name == "pool_query" || name.rfind("pooler.", 0) == 0;
  }
  // Not with a MelConv time kernel: a window's first frames would see the audio before the window,
  // where the forward on the window alone sees zeros (mel_conv.h).
  bool session_fits_sliding_windows() const override {
    return SequenceClassifier::session_fits_sliding_windows() &&
           (options_.mel_conv_channels == 0 || options_.mel_conv_time_kernel <= 1);
  }
  // With a MelConv, windows re-use the features of the frames they share (sliding_windows.h).
  std::unique_ptr<SlidingWindowForward> start_sliding_windows() override;

  // Raw log-mel [..., T, n_mels] -> what tokens are cut from, [..., T, n_mels / patch_mels *
  // patch_width()]: the normalised frames, or their MelConv features laid out band by band (all
  // channels of a band together), so that cutting along the last axis in patch_width() steps gives
  // every token the same mel range as without the MelConv. The frames are a sequence from its start
  // (a MelConv with a time kernel sees each frame's predecessors).
  at::Tensor frame_features(const at::Tensor& frames);
  // MelConv features [..., out_features] ([channels][bands]) -> the band-by-band layout above.
  at::Tensor by_band(const at::Tensor& mel_conv_features) const;
  // Embedded tokens [B, N, D] of `tubelets` tubelets -> logits [B, n_classes].
  at::Tensor classify_embedded(const at::Tensor& embedded, int64_t tubelets);
  // The position-table tubelet where classify_embedded() places a window of `tubelets` tubelets.
  // Evaluation, escd and whole training windows start at the first. A shorter training window (a
  // random training crop, train key crop_seconds) starts at a random tubelet, one draw per batch
  // from libtorch's generator, so that training reaches every position a whole window uses.
  int64_t window_start(int64_t tubelets) const;

  const Options& options() const { return options_; }

  MelConv mel_conv{nullptr};  // null: tokens are cut from the normalised log-mel
  Encoder encoder{nullptr};
  at::Tensor pool_query;
  CrossAttentionBlock pooler{nullptr};
  torch::nn::Linear head{nullptr};

 private:
  Options options_;
};

}  // namespace vjepa2
}  // namespace escd
