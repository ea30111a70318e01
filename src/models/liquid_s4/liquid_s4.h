// Liquid-S4 classifier (models.md section 1) with causal, trainable liquid terms. Implemented in liquid_s4.cpp.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "models/common/sequence_classifier.h"

namespace escd {

// Default hyperparameters (every key the model accepts), as JSON.
nlohmann::json liquid_s4_defaults();
// Builds the model from complete hyperparameters (defaults merged with overrides).
std::shared_ptr<SequenceClassifier> make_liquid_s4(const nlohmann::json& hyperparameters, int64_t n_mels,
                                                   int64_t n_classes);

}  // namespace escd
