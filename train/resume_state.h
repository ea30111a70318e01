// resume.state: everything a killed run needs to continue as if it had not stopped (weights,
// weight average, optimiser, the global generator and where the schedule stands), and the settings
// it was started with, which a resume must share.
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/adamw.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "weight_ema.h"

namespace escd::train {

// Where a run stands after its last completed epoch.
struct ResumeState {
  int next_epoch = 0;
  double best_val = -1.0;
  int64_t global_step = 0;
};

// Writes the model's parameters and buffers, the weight average, the optimiser, the global CPU
// generator and `state` atomically to `path`, with `identity` for load_resume_state to check.
void save_resume_state(const std::string& path, torch::nn::Module& model, WeightEma& ema,
                       torch::optim::AdamW& optimizer, const ResumeState& state, const nlohmann::json& identity);

// Restores the model, weight average, optimiser and global generator from `bytes` (the file at
// `path`, read by rank 0 and shared with the other ranks). Throws std::runtime_error naming the path
// when the file is unreadable, when any key of `identity` differs from the run's, or when the
// optimiser state does not fit this build's parameter groups.
ResumeState load_resume_state(const std::string& path, const std::string& bytes, torch::nn::Module& model,
                              WeightEma& ema, torch::optim::AdamW& optimizer, const nlohmann::json& identity);

}  // namespace escd::train
