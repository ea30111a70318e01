// Where esc-train finds a model's recipe, and how it reads it: config/<model>.toml with a [model]
// table (hyperparameters) and a [train] table (the training recipe).
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
};

// Reads and checks the top-level tables (only [model] and [train] are allowed).
ModelConfigFile read_model_config(const std::string& path);

}  // namespace escd::train
