// Accuracy, per-class accuracy and the confusion matrix of a model on a set of clips, through the
// parallel forward or through streaming sessions fed sample blocks (what the daemon does).
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "background_calls.h"
#include "data/clip_dataset.h"
#include "confusion.h"
#include "data/room_condition.h"
#include "models/common/sequence_classifier.h"

namespace escd::train {

struct EvalResult {
  int64_t clips = 0;
  double accuracy = 0.0;
  double loss = 0.0;                              // mean cross-entropy against the hard labels
  std::vector<int64_t> labels, predictions;       // per clip
  ConfusionMatrix confusion;                      // [true class][predicted class]
  std::vector<double> per_class_accuracy;
  at::Tensor logits;                              // [clips, classes]

  // With a background output among class_names, also background_calls() below.
  nlohmann::json to_json(const std::vector<std::string>& class_names) const;
};

// The two questions that a model with a background output mixes in its accuracy (which counts a
// background top-1 as wrong, as escd answers): whether a sound is there, and which of the others it
// is. nullopt without a background output among class_names (the result's classes) or without clips.
std::optional<BackgroundCalls> background_calls(const EvalResult& result, const std::vector<std::string>& class_names);

// time_shifts > 1: test-time averaging. Each clip's log-mel frames are also rolled circularly by
// k * T / time_shifts frames (k = 1 .. time_shifts - 1), and the clip's logits are the log of the mean
// class probability over the shifted copies. 1: the plain forward, raw logits.
EvalResult evaluate(SequenceClassifier& model, const ClipDataset& data, const std::vector<size_t>& clips,
                    int batch_size = 64, int time_shifts = 1);

// Applies `condition` to each of `clips` in place (esc-train eval --condition), with draws seeded by
// (seed, clip) so that a clip meets the same room whichever other clips or models are evaluated.
void perturb_clips(ClipDataset& data, const std::vector<size_t>& clips, const RoomCondition& condition, uint64_t seed);

// An ensemble of models evaluated on the same clips: the log of the members' class probabilities
// combined as escd --ensemble combines them (models/common/ensemble_mean.h). members: each model's
// EvalResult on the same clips, in the same order, over its own classes (member_labels); labels: the
// ensemble's classes (ensemble_labels() of the members').
EvalResult ensemble(const std::vector<EvalResult>& members, const std::vector<std::vector<std::string>>& member_labels,
                    const std::vector<std::string>& labels);

// Streams each clip's samples through StreamingLogMel (blocks of `block` samples) and a batched
// session (`rows` clips at a time), frame by frame; logits after the last frame.
EvalResult evaluate_streaming(SequenceClassifier& model, const ClipDataset& data, const std::vector<size_t>& clips,
                              int rows = 16, size_t block = 512);

// The mean class probability of several [B, classes] logits: how test-time shifts and distillation
// teachers (all with the run's own classes) combine. Probabilities rather than logits, so that one
// copy or teacher with larger logits does not outvote the rest by its scale alone. Ensembles of
// models use ensemble() above: a geometric mean that treats a background output apart (ensemble_mean.h).
at::Tensor mean_probability(const std::vector<at::Tensor>& logits);

// The result of a model without a background output as one with it (its logit -inf: probability 0),
// for an ensemble with members that have it (models/common/label_set.h).
EvalResult with_background(const EvalResult& result);

EvalResult summarise(const at::Tensor& logits, const std::vector<int64_t>& labels, int64_t n_classes);

// The folds a checkpoint trained on, from the metadata esc-train writes into it
// (training.train_config.train_folds); nullopt when it does not say (a checkpoint from elsewhere).
std::optional<std::vector<int>> trained_folds(const nlohmann::json& training);

// Those of `folds` that the checkpoint trained on: accuracy there measures fitting, not
// generalisation (e.g. fold 4 for a model trained with fit --refit). Empty when unknown.
std::vector<int> folds_trained_on(const nlohmann::json& training, const std::vector<int>& folds);

}  // namespace escd::train
