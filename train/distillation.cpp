#include "distillation.h"

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <stdexcept>

#include "evaluation.h"
#include "models/common/checkpoint.h"
#include "util/fnv_hash.h"

namespace escd::train {
namespace {

// The folds a checkpoint was trained on, from the metadata esc-train writes into it.
std::vector<int> training_folds(const Checkpoint& checkpoint, const std::string& path) {
  std::optional<std::vector<int>> folds = trained_folds(checkpoint.training);
  if (!folds) {
    throw std::invalid_argument("teacher " + path +
                                ": its metadata does not say which folds it was trained on (no "
                                "train_config.train_folds), so it cannot be shown not to have seen the "
                                "student's validation or test clips");
  }
  return *folds;
}

}  // namespace

Teachers::Teachers(const std::vector<std::string>& paths, const std::vector<std::string>& class_names,
                   const std::vector<int>& held_out_folds) {
  for (const std::string& path : paths) {
    Checkpoint checkpoint;
    try {
      checkpoint = load_checkpoint(path);
    } catch (const std::exception& e) {
      throw std::invalid_argument("teacher " + std::string(e.what()));
    }
    if (checkpoint.class_names != class_names) {
      throw std::invalid_argument("teacher " + path + ": its " + std::to_string(checkpoint.class_names.size()) +
                                  " classes are not the dataset's " + std::to_string(class_names.size()) +
                                  " classes in the same order");
    }
    for (int fold : training_folds(checkpoint, path)) {
      if (std::find(held_out_folds.begin(), held_out_folds.end(), fold) != held_out_folds.end()) {
        throw std::invalid_argument("teacher " + path + " was trained on fold " + std::to_string(fold) +
                                    ", which this run holds out for validation or test: its predictions "
                                    "there would pass the labels on to the student");
      }
    }
    checkpoint.model->eval();
    models_.push_back(checkpoint.model);
    fingerprints_.push_back(file_fingerprint(path));
  }
}

at::Tensor Teachers::probabilities(const at::Tensor& features, double temperature) const {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> logits;
  for (const auto& model : models_) logits.push_back(model->forward(features) / temperature);
  return mean_probability(logits);
}

std::vector<int> held_out_folds(const TrainConfig& config) {
  std::vector<int> folds = config.val_folds;
  folds.insert(folds.end(), config.test_folds.begin(), config.test_folds.end());
  return folds;
}

void check_distillation_settings(const TrainConfig& c) {
  if (!(c.distill_temperature > 0.0)) {
    throw std::invalid_argument("distill_temperature: expected a positive number, got " +
                                std::to_string(c.distill_temperature));
  }
  if (!(c.distill_weight >= 0.0 && c.distill_weight <= 1.0)) {
    throw std::invalid_argument("distill_weight: expected a number in [0, 1], got " + std::to_string(c.distill_weight));
  }
  if (!c.teachers.empty() && c.distill_weight == 0.0) {
    throw std::invalid_argument("teachers are given but distill_weight is 0: they would be run and ignored");
  }
  if (c.distill_room_free && c.teachers.empty()) {
    throw std::invalid_argument("distill_room_free is set but no teacher is given: there is nothing to distil");
  }
}

}  // namespace escd::train
