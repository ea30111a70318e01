// Reading a JSON file that esc-train wrote or is given (a run's summary.json, a benchmark's results).
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace escd::train {

// The file's JSON; std::nullopt when `required` is false and the file does not exist. Throws
// std::invalid_argument naming the file when it cannot be opened or is not JSON.
template <typename Json = nlohmann::json>
std::optional<Json> read_json(const std::string& path, bool required) {
  if (!required && !std::filesystem::exists(path)) return std::nullopt;
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path + ": cannot open");
  try {
    return Json::parse(in);
  } catch (const std::exception& e) {
    throw std::invalid_argument(path + ": not JSON: " + e.what());
  }
}

}  // namespace escd::train
