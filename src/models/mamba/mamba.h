// Mamba-1 MixerModel classifier (docs/MODELS.md section 2). Implemented in mamba.cpp.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "models/common/sequence_classifier.h"

namespace escd {

// Default hyperparameters (every key the model accepts), as JSON.
nlohmann::json mamba_defaults();
// Builds the model from complete hyperparameters (defaults merged with overrides).
std::shared_ptr<SequenceClassifier> make_mamba(const nlohmann::json& hyperparameters, int64_t n_mels, int64_t n_classes);

}  // namespace escd
