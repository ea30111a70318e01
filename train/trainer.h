// esc-train fit: trains one model on the training folds, validates every epoch, keeps the best and
// the last checkpoint, and can resume a killed run with the same result as an uninterrupted one.
//
// Run directory:
//   metrics.jsonl    one JSON line per epoch (loss, accuracies, learning rate, time, data wait)
//   best.ckpt        self-describing checkpoint with the best validation accuracy (EMA weights);
//                    without validation folds (fit --refit), the last epoch's
//   last.ckpt        the same for the last completed epoch
//   resume.state     everything --resume needs: weights, EMA, optimiser, epoch
//   final.json       test-fold evaluation of best.ckpt, with the confusion matrix
//   summary.json     what a shipped model's <name>.json holds: accuracies, parameters, training
//                    wall time, machine, the exact command
// Every file is written atomically.
//
// Data-parallel (FitOptions::group of several ranks, docs/DISTRIBUTED.md): every rank trains on its
// share of each batch and the gradients are averaged, so the run follows the same batches as one
// process; rank 0 alone validates and writes the run directory.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/clip_dataset.h"
#include "models/common/window_level.h"
#include "train_config.h"
#include "training_group.h"

namespace escd::train {

struct FitOptions {
  std::string model;              // registry name
  nlohmann::json hyperparameters; // [model] table (overrides of the defaults)
  TrainConfig config;
  std::string run_dir;
  bool resume = false;
  std::string init_checkpoint;    // start from these weights (same architecture)
  int stop_after_epochs = 0;      // stop (as if killed) after this many epochs in this process; 0 = no
  std::shared_ptr<TrainingGroup> group;  // the ranks training together; null: this process alone
};

// Returns the final test evaluation as JSON (also written to final.json); on a rank other than 0,
// {"rank": r}; after stop_after_epochs, {"stopped_at_epoch": e}.
nlohmann::json fit(const FitOptions& options, const ClipDataset& data);

// Per-band mean and std of the log-mel of `clips` (no augmentation).
std::pair<at::Tensor, at::Tensor> input_statistics(const ClipDataset& data, const std::vector<size_t>& clips,
                                                   LevelNorm level_norm);

// The classes a run learns: the dataset's, and the background class when the recipe adds one.
std::vector<std::string> run_class_names(const ClipDataset& data, const TrainConfig& config);

// A fingerprint of the dataset: FNV-1a over the csv rows used and the decoded samples.
std::string data_fingerprint(const ClipDataset& data);

}  // namespace escd::train
