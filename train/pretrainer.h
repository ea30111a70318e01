// esc-train pretrain: JEPA self-supervised pretraining of the V-JEPA2 encoder (docs/MODELS.md 3.5).
// A context encoder sees only the visible tokens; a narrow predictor predicts, at the masked
// tokens, the layer-normalised features of a target encoder (an EMA copy, no gradient) that sees
// the whole clip; L1 loss, two mask generators (small and large blocks) per batch.
//
// Run directory:
//   metrics.jsonl     one line per epoch (loss, learning rate, EMA momentum, time)
//   pretrain.ckpt     a vjepa2 checkpoint whose encoder is the target encoder (what `fit --init`
//                     starts from); the pooler and head are untrained
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/clip_dataset.h"
#include "train_config.h"

namespace escd::train {

struct PretrainOptions {
  nlohmann::json hyperparameters;  // vjepa2 [model] table
  TrainConfig config;              // epochs, lr, warm-up, weight decay, batch, threads, augmentation (no mixing)
  std::string run_dir;
  double ema_start = 0.996, ema_end = 1.0;  // target-encoder momentum, linear over training
};

// Unlabelled clips for pretraining: those of the training folds, plus extra ones appended to the
// dataset (fold 0) by add_unlabelled_audio. Returns the final epoch's mean loss.
double pretrain(const PretrainOptions& options, const ClipDataset& data, const std::vector<size_t>& clips);

// Decodes every audio file under `dir` (recursively), cut into clip-length pieces (the last one
// zero-padded), and appends them to `data` as fold-0 clips. Returns their dataset indices. Files
// libsndfile cannot read are skipped with a warning that names them (counted in the return log).
std::vector<size_t> add_unlabelled_audio(ClipDataset& data, const std::string& dir);

}  // namespace escd::train
