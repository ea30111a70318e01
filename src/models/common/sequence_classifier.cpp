#include "models/common/sequence_classifier.h"

#include <ATen/Functions.h>
#include <torch/nn/module.h>

#include <stdexcept>

namespace escd {
namespace {

class ForwardEachWindow : public SlidingWindowForward {
 public:
  explicit ForwardEachWindow(SequenceClassifier& model) : model_(model) {}
  at::Tensor logits(const at::Tensor& frames, int64_t /*first_frame*/) override { return model_.forward(frames)[0]; }

 private:
  SequenceClassifier& model_;
};

}  // namespace

SequenceClassifier::SequenceClassifier(std::string architecture, nlohmann::json hyperparameters, int64_t n_mels,
                                       int64_t n_classes)
    : architecture_(std::move(architecture)),
      hyperparameters_(std::move(hyperparameters)),
      n_mels_(n_mels),
      n_classes_(n_classes),
      level_norm_(parse_level_norm(hyperparameters_.value("level_norm", std::string("none")))) {
  // Buffers, not parameters: saved in checkpoints, never trained.
  input_mean_ = register_buffer("input_mean", at::zeros({n_mels}));
  input_inv_std_ = register_buffer("input_inv_std", at::ones({n_mels}));
}

void SequenceClassifier::set_input_statistics(const at::Tensor& mean, const at::Tensor& std) {
  if (mean.numel() != n_mels_ || std.numel() != n_mels_) {
    throw std::invalid_argument("input statistics must have " + std::to_string(n_mels_) + " entries");
  }
  at::NoGradGuard no_grad;
  input_mean_.copy_(mean.reshape({n_mels_}));
  input_inv_std_.copy_(std.reshape({n_mels_}).clamp_min(1e-5).reciprocal());
}

std::unique_ptr<SlidingWindowForward> SequenceClassifier::start_sliding_windows() {
  return std::make_unique<ForwardEachWindow>(*this);
}

at::Tensor SequenceClassifier::normalise(const at::Tensor& frames) const {
  return standardise(level_norm_ == LevelNorm::window_max ? relative_to_window_max(frames) : frames);
}

at::Tensor SequenceClassifier::standardise(const at::Tensor& frames) const {
  return (frames - input_mean_) * input_inv_std_;
}

PooledSession::PooledSession(int64_t batch, int64_t feature_width, int64_t n_classes)
    : batch_(batch), n_classes_(n_classes), sums_(at::zeros({batch, feature_width})), counts_(batch, 0) {}

void PooledSession::reset() {
  sums_.zero_();
  std::fill(counts_.begin(), counts_.end(), 0);
  clear(-1);
}

void PooledSession::reset_row(int64_t row) {
  if (row < 0 || row >= batch_) throw std::out_of_range("session row " + std::to_string(row));
  sums_[row].zero_();
  counts_[row] = 0;
  clear(row);
}

void PooledSession::step(const at::Tensor& frames) {
  at::NoGradGuard no_grad;
  if (frames.dim() != 2 || frames.size(0) != batch_) {
    throw std::invalid_argument("session step: expected frames [" + std::to_string(batch_) + ", n_mels]");
  }
  sums_.add_(advance(frames));
  for (auto& c : counts_) ++c;
}

at::Tensor PooledSession::logits() {
  at::NoGradGuard no_grad;
  std::vector<float> counts(batch_);
  for (int64_t b = 0; b < batch_; ++b) counts[b] = static_cast<float>(std::max<int64_t>(counts_[b], 1));
  at::Tensor out = head(sums_ / at::from_blob(counts.data(), {batch_, 1}, at::kFloat));
  for (int64_t b = 0; b < batch_; ++b) {
    if (counts_[b] == 0) out[b].zero_();
  }
  return out;
}

}  // namespace escd
