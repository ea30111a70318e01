#include "ensemble_members.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "models/common/label_set.h"

namespace escd::train {

EnsembleMembers load_ensemble_members(const std::vector<std::string>& paths) {
  EnsembleMembers members;
  for (const std::string& path : paths) {
    members.checkpoints.push_back(load_checkpoint(path));
    members.label_sets.push_back(members.checkpoints.back().class_names);
  }
  members.class_names = ensemble_labels(members.label_sets, paths);
  return members;
}

std::optional<EnsembleMembers> load_ensemble_members_for(const std::string& command,
                                                         const std::vector<std::string>& paths) {
  try {
    return load_ensemble_members(paths);
  } catch (const std::invalid_argument& e) {  // class lists (CheckpointError goes to main)
    spdlog::error("{}: {}", command, e.what());
    return std::nullopt;
  }
}

EvalResult over_ensemble_classes(const EnsembleMembers& members, size_t i, const EvalResult& result) {
  return members.label_sets.at(i).size() < members.class_names.size() ? with_background(result) : result;
}

std::vector<int> warn_trained_folds(const std::string& path, const Checkpoint& checkpoint, const std::vector<int>& folds) {
  const std::vector<int> seen = folds_trained_on(checkpoint.training, folds);
  if (!seen.empty()) {
    spdlog::warn("{} was trained on fold(s) {}: its accuracy there measures fitting, not generalisation", path,
                 nlohmann::json(seen).dump());
  }
  return seen;
}

}  // namespace escd::train
