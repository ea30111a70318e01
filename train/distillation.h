// Knowledge distillation: the student learns from teacher models' class probabilities as well as
// from the labels. The teachers see the same augmented (and mixed) batch as the student, so the
// targets describe the clip the student is given, not the clean clip it came from (Beyer et al.,
// "Knowledge distillation: a good teacher is patient and consistent", 2022). Several teachers act as
// one ensemble: the plain mean of their probabilities (they all have the run's classes; `esc-train
// eval` and escd take a geometric mean instead, models/common/ensemble_mean.h).
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "models/common/sequence_classifier.h"
#include "train_config.h"

namespace escd::train {

class Teachers {
 public:
  // Loads every checkpoint. Throws std::invalid_argument naming the file when it cannot be read, its
  // classes differ from `class_names`, or its training folds include any of `held_out_folds` (the
  // student's validation and test folds: a teacher trained on them would hand their labels over).
  Teachers(const std::vector<std::string>& paths, const std::vector<std::string>& class_names,
           const std::vector<int>& held_out_folds);

  // Mean over the teachers of softmax(logits / temperature) for a batch of log-mel features
  // [B, T, n_mels]: [B, classes], without gradient.
  at::Tensor probabilities(const at::Tensor& features, double temperature) const;

  size_t size() const { return models_.size(); }

  // FNV-1a of each checkpoint file, in order: a resumed run must learn from the same teachers.
  const std::vector<std::string>& fingerprints() const { return fingerprints_; }

 private:
  std::vector<std::shared_ptr<SequenceClassifier>> models_;
  std::vector<std::string> fingerprints_;
};

// The folds a run must keep from its teachers: its validation and test folds.
std::vector<int> held_out_folds(const TrainConfig& config);

// The distillation settings of a recipe must make sense: a weight in [0, 1], not 0 when there are
// teachers (they would run for nothing), and a positive temperature. Without teachers the weight is
// unused. Throws std::invalid_argument saying which key is wrong and why.
void check_distillation_settings(const TrainConfig& config);

}  // namespace escd::train
