// Where esc-train finds a model's recipe, and how it reads it: config/<model>.toml with a [model]
// table (hyperparameters), a [train] table (the training recipe) and, for models with
// self-supervised pretraining, a [pretrain] table.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace escd::train {

// The explicit path if given; else config/<model>.toml in the working directory, the source tree,
// or the installed share directory. Empty when none exists.
std::string find_model_config(const std::string& model, const std::string& explicit_path);

struct ModelConfigFile {
  std::string path;
  nlohmann::json model = nlohmann::json::object();  // [model]
  nlohmann::json train = nlohmann::json::object();  // [train]
  nlohmann::json pretrain = nlohmann::json::object();  // [pretrain]: esc-train pretrain's changes to [train]
};

// Reads and checks the top-level tables (only [model], [train] and [pretrain] are allowed).
ModelConfigFile read_model_config(const std::string& path);

}  // namespace escd::train
