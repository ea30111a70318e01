#include "models/vjepa2/vjepa2.h"

#include <ATen/Functions.h>
#include <c10/core/InferenceMode.h>

#include <map>
#include <optional>
#include <vector>

#include "models/common/mel_conv_stream.h"
#include "models/vjepa2/sliding_windows.h"
#include "models/vjepa2/tubelets.h"

namespace escd {

nlohmann::json vjepa2_defaults() { return vjepa2::vjepa2_defaults(); }

std::shared_ptr<SequenceClassifier> make_vjepa2(const nlohmann::json& hyperparameters, int64_t n_mels,
                                                int64_t n_classes) {
  return std::make_shared<vjepa2::Vjepa2Classifier>(hyperparameters, n_mels, n_classes);
}

namespace vjepa2 {
namespace {

// Per row: the latest frames' features (frame_features: normalised, through the MelConv if any) in a ring, and the patch embeddings of the tubelets it
// has embedded, keyed by the frame count at which each tubelet ends. Tubelets are aligned to the
// row's newest frame (as the parallel forward aligns them to the clip's end), so a cached tubelet
// is re-used exactly when the frames seen since it advanced by a multiple of tubelet_frames; the
// daemon's default hop (16 frames) is one, so a hop embeds only its two new tubelets.
class Vjepa2Session : public StreamingSession {
 public:
  Vjepa2Session(Vjepa2Classifier& model, int64_t batch)
      : model_(model),
        options_(model.options()),
        ring_frames_(options_.window_frames() + options_.tubelet_frames),
        ring_(at::zeros({batch, ring_frames_, model.n_mels() / options_.patch_mels * options_.patch_width()})),
        seen_(batch, 0),
        cache_(batch) {
    if (model.mel_conv) mel_conv_.emplace(model.mel_conv, batch);
    if (model.level_norm() == LevelNorm::window_max) window_level_.emplace(batch);
  }

  int64_t batch_size() const override { return static_cast<int64_t>(seen_.size()); }
  void reset() override {
    for (int64_t r = 0; r < batch_size(); ++r) reset_row(r);
  }
  void reset_row(int64_t row) override {
    seen_.at(row) = 0;
    cache_.at(row).clear();
    if (mel_conv_) mel_conv_->clear(row);
    if (window_level_) window_level_->clear(row);
  }
  int64_t frames_seen(int64_t row) const override { return seen_.at(row); }

  void step(const at::Tensor& frames) override {
    c10::InferenceMode inference;
    // Each frame's features are computed once, as it arrives (with a time kernel, from the row's
    // time context since its reset, as the parallel forward sees the window from its start).
    at::Tensor raw = frames.to(at::kFloat).contiguous();
    if (window_level_) {
      raw = raw.clone();
      window_level_->apply(raw.data_ptr<float>(), raw.size(0), raw.size(1));
    }
    const at::Tensor x = model_.standardise(raw);
    const at::Tensor features = mel_conv_ ? model_.by_band(mel_conv_->step(x, batch_size())) : x;
    for (int64_t r = 0; r < batch_size(); ++r) ring_[r][seen_[r] % ring_frames_].copy_(features[r]);
    for (auto& n : seen_) ++n;
  }

  at::Tensor logits() override {
    c10::InferenceMode inference;
    at::Tensor out = at::zeros({batch_size(), model_.n_classes()});
    for (int64_t r = 0; r < batch_size(); ++r) {
      const int64_t tubelets = std::min(seen_[r] / options_.tubelet_frames, options_.max_tubelets);
      if (tubelets == 0) continue;
      std::vector<at::Tensor> embedded;
      std::map<int64_t, at::Tensor> kept;
      for (int64_t j = tubelets - 1; j >= 0; --j) {
        const int64_t end = seen_[r] - j * options_.tubelet_frames;
        auto hit = cache_[r].find(end);
        at::Tensor e = hit != cache_[r].end() ? hit->second : embed_tubelet(r, end);
        kept.emplace(end, e);
        embedded.push_back(e);
      }
      cache_[r] = std::move(kept);  // only tubelets still in the window can be needed again
      out[r].copy_(model_.classify_embedded(at::cat(embedded, 0).unsqueeze(0), tubelets)[0]);
    }
    return out;
  }

 private:
  // [mel_patches, D] patch embeddings of the tubelet of row r whose last frame is frame end - 1.
  at::Tensor embed_tubelet(int64_t r, int64_t end) {
    const int64_t F = options_.tubelet_frames;
    at::Tensor tubelet = at::empty({1, F, ring_.size(2)});
    for (int64_t f = 0; f < F; ++f) tubelet[0][f].copy_(ring_[r][(end - F + f) % ring_frames_]);
    return model_.encoder->embed(tubelet_patches(tubelet, options_.patch_width()))[0];
  }

  Vjepa2Classifier& model_;
  const Options options_;
  const int64_t ring_frames_;
  at::Tensor ring_;  // [B, ring_frames_, feature width]
  std::vector<int64_t> seen_;
  std::vector<std::map<int64_t, at::Tensor>> cache_;
  std::optional<MelConvStream> mel_conv_;
  std::optional<WindowLevelTracker> window_level_;  // none: the model reads absolute levels
};

}  // namespace

Vjepa2Classifier::Vjepa2Classifier(const nlohmann::json& hyperparameters, int64_t n_mels, int64_t n_classes)
    : SequenceClassifier("vjepa2", hyperparameters, n_mels, n_classes),
      options_(Options::from_json(hyperparameters, n_mels)) {
  const int64_t D = options_.embed_dim;
  if (options_.mel_conv_channels > 0) mel_conv = register_module("mel_conv", MelConv(n_mels, options_.mel_conv_channels, options_.mel_conv_time_kernel));
  encoder = register_module("encoder", Encoder(options_, n_mels));
  pool_query = register_parameter("pool_query", at::randn({1, 1, D}) * 0.02);
  pooler = register_module("pooler", CrossAttentionBlock(D, options_.pool_heads, options_.mlp_ratio));
  head = register_module("head", torch::nn::Linear(D, n_classes));
  init_vit_weights(*head);
}

int64_t Vjepa2Classifier::window_start(int64_t tubelets) const {
  if (!is_training() || tubelets >= options_.max_tubelets) return 0;  // no draw: whole windows replay as before
  return at::randint(options_.max_tubelets - tubelets + 1, {1}, at::kLong).item<int64_t>();
}

at::Tensor Vjepa2Classifier::classify_embedded(const at::Tensor& embedded, int64_t tubelets) {
  const at::Tensor tokens = encoder->encode(embedded, tubelets, at::Tensor(), window_start(tubelets));
  const at::Tensor query = pool_query.expand({tokens.size(0), 1, tokens.size(2)});
  return head->forward(pooler->forward(query, tokens).squeeze(1));
}

at::Tensor Vjepa2Classifier::frame_features(const at::Tensor& frames) {
  const at::Tensor x = normalise(frames);
  return mel_conv ? by_band(mel_conv->forward(x)) : x;
}

at::Tensor Vjepa2Classifier::by_band(const at::Tensor& mel_conv_features) const {
  // MelConv flattens [channels][bands]; tokens want [bands][channels].
  const int64_t bands = MelConvImpl::output_bands(n_mels()), channels = mel_conv->out_features() / bands;
  std::vector<int64_t> shape(mel_conv_features.sizes().begin(), mel_conv_features.sizes().end() - 1);
  shape.push_back(channels);
  shape.push_back(bands);
  const at::Tensor transposed = mel_conv_features.reshape(shape).transpose(-1, -2);
  shape.pop_back();
  shape.back() = bands * channels;
  return transposed.reshape(shape);
}

at::Tensor Vjepa2Classifier::forward(const at::Tensor& frames) {
  const at::Tensor patches =
      cut_tubelets(frame_features(frames), options_.tubelet_frames, options_.patch_width(), options_.max_tubelets);
  const int64_t tubelets = patches.size(1) / encoder->mel_patches();
  return classify_embedded(encoder->embed(patches), tubelets);
}

std::unique_ptr<SlidingWindowForward> Vjepa2Classifier::start_sliding_windows() {
  if (!mel_conv) return SequenceClassifier::start_sliding_windows();
  return std::make_unique<Vjepa2SlidingWindows>(*this);
}

std::unique_ptr<StreamingSession> Vjepa2Classifier::start_session(int64_t batch) {
  return std::make_unique<Vjepa2Session>(*this, batch);
}

}  // namespace vjepa2
}  // namespace escd
