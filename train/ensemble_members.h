// The checkpoints that esc-train eval and compare evaluate together: loaded, their class lists
// checked against each other, each model's result shown over the shared classes, and the warning
// for a fold a model trained on. One place, so that both commands treat members alike.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "evaluation.h"
#include "models/common/checkpoint.h"

namespace escd::train {

struct EnsembleMembers {
  std::vector<Checkpoint> checkpoints;
  std::vector<std::vector<std::string>> label_sets;  // each checkpoint's own classes
  std::vector<std::string> class_names;              // the ensemble's: ensemble_labels() of label_sets
};

// Loads `paths` in order. Throws CheckpointError naming a file that does not load, and
// std::invalid_argument naming the first checkpoint whose classes differ from the others' by more
// than a background output (models/common/label_set.h).
EnsembleMembers load_ensemble_members(const std::vector<std::string>& paths);

// load_ensemble_members for a command: a class-list mismatch is logged as "<command>: ..." and gives
// nullopt (the command exits 2); a checkpoint that does not load still throws, for main to report.
std::optional<EnsembleMembers> load_ensemble_members_for(const std::string& command,
                                                         const std::vector<std::string>& paths);

// Member `i`'s result over the ensemble's classes: a missing background output as probability 0.
EvalResult over_ensemble_classes(const EnsembleMembers& members, size_t i, const EvalResult& result);

// Those of `folds` that checkpoint `path` trained on, with a warning logged when there are any: its
// accuracy there measures fitting, not generalisation.
std::vector<int> warn_trained_folds(const std::string& path, const Checkpoint& checkpoint, const std::vector<int>& folds);

}  // namespace escd::train
