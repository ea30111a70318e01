// TOML configuration files read into JSON values, so that hyperparameters and settings travel in
// one representation (config file -> checkpoint metadata -> model).
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace escd {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses a TOML file into a JSON object. Throws ConfigError "<file>:<line>:<column>: <reason>".
nlohmann::json load_toml_file(const std::string& path);
// The same for TOML text; `source` names it in errors.
nlohmann::json parse_toml(const std::string& text, const std::string& source);

}  // namespace escd
