// Liquid-S4 classifier (docs/MODELS.md section 1) with causal, trainable liquid terms. Built from
// liquid_s4_model.cpp and its parts: hippo (LegS init), diagonal_ssm (S4D-LegS kernel and
// discretisation), liquid_terms (kb and polyb, parallel forms), ssm_step (one frame of the SSM and
// of kb's chains), s4_layer (the layer and its stream, with polyb's step), frame_norm.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "models/common/sequence_classifier.h"

namespace escd {

// Default hyperparameters (every key the model accepts), as JSON.
//   d_model, n_layers, d_state (even; N/2 complex modes), dt_min, dt_max,
//   liquid_kernel "none" | "polyb" | "kb", liquid_degree (>= 2), liquid_contract "none" | "tanh",
//   discretization "zoh" | "bilinear", norm "layernorm" | "layer" (upstream scalar TransposedLN),
//   dropout.
nlohmann::json liquid_s4_defaults();
// Builds the model from complete hyperparameters (defaults merged with overrides).
std::shared_ptr<SequenceClassifier> make_liquid_s4(const nlohmann::json& hyperparameters, int64_t n_mels,
                                                   int64_t n_classes);

// Optimiser groups. The SSM parameters are A (ssm_log_A_real, ssm_A_imag), B (ssm_B) and the step
// size (ssm_log_dt) of every layer: every parameter whose own name (the last dotted component of its
// named_parameters() key, e.g. "layer0.ssm.ssm_log_dt") starts with "ssm_". Upstream trains them
// with lr 1e-3 and weight decay 0, apart from the rest; large steps on them move the poles.
// Everything else (C, D, liquid_scale / liquid_coef, linears, norms) is ordinary.
bool liquid_s4_is_ssm_parameter(const std::string& name);

}  // namespace escd
