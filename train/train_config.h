// The training recipe: everything `esc-train fit` does that is not the model itself. Read from the
// [train] table of config/<model>.toml; command-line flags override single fields.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/augment.h"

namespace escd::train {

struct TrainConfig {
  int epochs = 120;
  int batch_size = 32;
  double lr = 2e-3;             // peak learning rate (AdamW)
  double min_lr = 1e-5;         // end of the cosine
  double warmup_epochs = 5;     // linear warm-up from 0
  double weight_decay = 0.05;   // matrices only; biases, norms, 1-D and SSM parameters get none
  double ssm_lr = 1e-3;         // learning rate of the state-space parameters the model marks as such
  double grad_clip = 1.0;       // global gradient norm
  double label_smoothing = 0.1;
  double ema_decay = 0.999;     // weight EMA, evaluated and saved; 0 disables
  int eval_every = 1;           // epochs between validation passes
  uint64_t seed = 0;
  int threads = 2;
  std::vector<int> train_folds{1, 2, 3};
  std::vector<int> val_folds{4};  // empty: no validation, the last epoch is kept (fit --refit)
  std::vector<int> test_folds{5};
  // Knowledge distillation (train/distillation.h): with teachers, the loss is
  // (1 - distill_weight) x label loss + distill_weight x distillation loss.
  std::vector<std::string> teachers;  // checkpoints; empty = no distillation
  double distill_weight = 0.8;
  double distill_temperature = 1.0;
  // With teachers: they answer each row as it was before its room (BatchLoader's room-free view: the
  // same crop, mixing and masks) instead of the row as trained, so that the student learns, for the
  // row in its room, what they say of the sound alone. Needs room augmentation.
  bool distill_room_free = false;
  // Consistency with the room-free row: the loss adds consistency_weight x the cross-entropy from
  // the model's own probabilities for each row without its room (no gradient through them) to its
  // prediction for the row as trained. Needs room augmentation; 0: off.
  double consistency_weight = 0.0;
  // "Nothing here" examples per training clip (BatchLoader), learnt as an extra class named
  // "background" after the dataset's; 0: none, and the model has the dataset's classes only.
  double background_fraction = 0.0;
  // Random training crops of this many seconds (data/training_crop.h); 0: whole clips. Validation
  // and testing always use whole clips.
  double crop_seconds = 0.0;
  // Transfer (fit --init from another label set): train only the model's head, the backbone as
  // --init gave it (SequenceClassifier::is_head_parameter).
  bool freeze_backbone = false;
  AugmentConfig augment;        // waveform + SpecAugment masks + mixing (augment.mix_prob);
                                // mask_value is replaced by the training folds' mean log-mel

  nlohmann::json to_json() const;
};

// Whether the recipe learns from the room-free rows (consistency_weight or distill_room_free), so
// the loader must build them.
bool uses_room_free_rows(const TrainConfig& config);

// Applies the keys of a [train] table to `config`. Unknown keys and wrong types are errors that
// name `where` (e.g. "config/mamba.toml [train]") and the key.
void apply_train_table(TrainConfig& config, const nlohmann::json& table, const std::string& where);

// Training, validation and test folds must not share a fold: a model scored on clips it trained on
// reports a number nobody can use. Training and test folds must not be empty. Throws
// std::invalid_argument naming `where` and the shared fold.
void check_folds(const TrainConfig& config, const std::string& where);

// `fit --refit`: the validation folds join the training folds and validation ends, so the last
// epoch is kept. For the shipped model once a recipe has been chosen on the validation fold: the
// test fold stays unseen, and the model learns from a third more clips.
void merge_validation_into_training(TrainConfig& config);

// The samples of a training crop at `sample_rate` (0: whole clips).
size_t crop_samples(const TrainConfig& config, int sample_rate);

}  // namespace escd::train
