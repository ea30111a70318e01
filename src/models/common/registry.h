// Models by name: "liquid_s4", "mamba", "vjepa2" (docs/MODELS.md), built from their hyperparameters.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/common/sequence_classifier.h"

namespace escd {

// Builds an untrained model. `hyperparameters` override the architecture's defaults; unknown keys
// or wrong types are an error (std::invalid_argument naming the key). n_mels/n_classes come from
// the front end and the dataset.
std::shared_ptr<SequenceClassifier> create_model(const std::string& architecture, const nlohmann::json& hyperparameters,
                                                 int64_t n_mels = 128, int64_t n_classes = 50);

std::vector<std::string> model_names();
// model_names() as one line ("liquid_s4, mamba, vjepa2"), for messages that list the choices.
std::string model_name_list();

// Merges `overrides` into `defaults`, rejecting keys the defaults lack and values of another type.
// `where` prefixes error messages (e.g. "config/mamba.toml [model]").
nlohmann::json merge_hyperparameters(const nlohmann::json& defaults, const nlohmann::json& overrides,
                                     const std::string& where);

}  // namespace escd
