// The interface every escd model implements: a parallel forward for training and evaluation, and
// streaming sessions that advance a batch of independent recurrent states one log-mel frame at a time.
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <string>

#include "models/common/window_level.h"

namespace escd {

// A batch of B independent streams. Each row sees frames from its last reset; logits() gives, per
// row, the classifier's output for exactly those frames (mean-pooled), equal to the parallel
// forward on the same frames. Cost per step is independent of how many frames a row has seen.
class StreamingSession {
 public:
  virtual ~StreamingSession() = default;
  virtual int64_t batch_size() const = 0;
  // Forgets every row's state.
  virtual void reset() = 0;
  // Forgets one row's state; the other rows keep theirs (staggered exact-window sessions).
  virtual void reset_row(int64_t row) = 0;
  // Advances every row by one frame. frames: [B, n_mels] raw log-mel (the model normalises).
  virtual void step(const at::Tensor& frames) = 0;
  // [B, n_classes] logits over the frames each row has seen since its reset (rows with none: 0).
  virtual at::Tensor logits() = 0;
  virtual int64_t frames_seen(int64_t row) const = 0;
};

// Successive overlapping windows of one stream, each evaluated as the model's forward() evaluates
// it alone (escd's recomputed windows). A model may keep what overlapping windows share.
class SlidingWindowForward {
 public:
  virtual ~SlidingWindowForward() = default;
  // frames: [1, T, n_mels] raw log-mel, the stream's frames first_frame .. first_frame + T - 1
  // (first_frame never decreases from one call to the next) -> [n_classes] logits.
  virtual at::Tensor logits(const at::Tensor& frames, int64_t first_frame) = 0;
};

// Base of all models. Holds what every architecture shares: its name and hyperparameters (stored
// in checkpoints), and the input normalisation statistics (per mel band, from the training folds).
class SequenceClassifier : public torch::nn::Module {
 public:
  SequenceClassifier(std::string architecture, nlohmann::json hyperparameters, int64_t n_mels, int64_t n_classes);

  // frames: [B, T, n_mels] raw log-mel -> [B, n_classes] logits.
  virtual at::Tensor forward(const at::Tensor& frames) = 0;
  // A streaming session of `batch` independent rows, all reset. The model must outlive it.
  virtual std::unique_ptr<StreamingSession> start_session(int64_t batch) = 0;

  // Parameters of the state-space dynamics (e.g. S4's Λ, B, Δ) that the trainer gives their own
  // learning rate and no weight decay, as upstream S4 does. `name` is as in named_parameters().
  virtual bool is_state_space_parameter(const std::string& name) const { (void)name; return false; }

  // The classifier on top of the backbone: what transfer to a new label set trains when the backbone
  // is frozen (fit --freeze-backbone). The final layer, registered as "head" by every architecture, is
  // the part a new label set replaces.
  virtual bool is_head_parameter(const std::string& name) const { return name.rfind("head.", 0) == 0; }

  // True when sessions step a recurrent state (exact windows by staggered sessions); false for
  // models whose sessions must re-run a whole window (global attention).
  virtual bool streams_recurrently() const { return true; }
  // For a model that does not stream recurrently: true when a session fed the stream frame by frame
  // gives, for every sliding window, what the forward on that window alone gives (its per-frame
  // features do not depend on where the window starts); false makes escd recompute each window.
  virtual bool session_fits_sliding_windows() const { return level_norm() != LevelNorm::window_max; }
  // Windows recomputed every hop (escd's windows for a model whose session does not fit them);
  // by default forward() on each window. The model must outlive it.
  virtual std::unique_ptr<SlidingWindowForward> start_sliding_windows();

  const std::string& architecture() const { return architecture_; }
  const nlohmann::json& hyperparameters() const { return hyperparameters_; }
  int64_t n_mels() const { return n_mels_; }
  int64_t n_classes() const { return n_classes_; }

  // Per-band mean and standard deviation that normalise() removes; identity until set.
  void set_input_statistics(const at::Tensor& mean, const at::Tensor& std);
  // [B, T, M] raw log-mel -> (x' - mean) / std over n_mels, where x' is x relative to the window's
  // level when the model has level_norm = "window_max" (models/common/window_level.h), else x.
  at::Tensor normalise(const at::Tensor& frames) const;
  // (x - mean) / std alone, any shape ending in n_mels: for sessions that make x' themselves.
  at::Tensor standardise(const at::Tensor& frames) const;
  // The "level_norm" hyperparameter (absent in checkpoints that predate it: none).
  LevelNorm level_norm() const { return level_norm_; }
  // The statistics themselves, [n_mels] float (for sessions that normalise in their own loops).
  const at::Tensor& input_mean() const { return input_mean_; }
  const at::Tensor& input_inv_std() const { return input_inv_std_; }

 private:
  std::string architecture_;
  nlohmann::json hyperparameters_;
  int64_t n_mels_, n_classes_;
  LevelNorm level_norm_;
  at::Tensor input_mean_, input_inv_std_;
};

// Sessions that mean-pool per-frame features and apply a head: the pooled running sum makes
// logits() O(1) whatever the number of frames seen. Models implement advance() and clear().
class PooledSession : public StreamingSession {
 public:
  PooledSession(int64_t batch, int64_t feature_width, int64_t n_classes);
  int64_t batch_size() const override { return batch_; }
  void reset() override;
  void reset_row(int64_t row) override;
  void step(const at::Tensor& frames) override;
  at::Tensor logits() override;
  int64_t frames_seen(int64_t row) const override { return counts_[row]; }

 protected:
  // One frame for every row: [B, n_mels] raw log-mel -> [B, feature_width] pooled-feature contribution.
  virtual at::Tensor advance(const at::Tensor& frames) = 0;
  // Clears the recurrent state of one row, or of all rows when row < 0.
  virtual void clear(int64_t row) = 0;
  // [R, feature_width] mean features -> [R, n_classes] logits.
  virtual at::Tensor head(const at::Tensor& pooled) = 0;

 private:
  int64_t batch_, n_classes_;
  at::Tensor sums_;              // [B, feature_width]
  std::vector<int64_t> counts_;  // frames seen per row
};

}  // namespace escd
