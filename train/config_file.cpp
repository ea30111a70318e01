#include "config_file.h"

#include <filesystem>

#include "util/toml_json.h"

namespace escd::train {

std::string find_model_config(const std::string& model, const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  const std::string name = "config/" + model + ".toml";
  for (const std::string& base : {std::string("."), std::string(ESCD_SOURCE_DIR), std::string(ESCD_SHARE_DIR)}) {
    const auto candidate = std::filesystem::path(base) / name;
    if (std::filesystem::exists(candidate)) return candidate.string();
  }
  return {};
}

ModelConfigFile read_model_config(const std::string& path) {
  ModelConfigFile file;
  file.path = path;
  const nlohmann::json all = load_toml_file(path);
  for (const auto& [key, value] : all.items()) {
    if (key == "model") {
      file.model = value;
    } else if (key == "train") {
      file.train = value;
    } else if (key == "pretrain") {
      file.pretrain = value;
    } else {
      throw ConfigError(path + ": unknown table [" + key + "] (expected [model], [train] and [pretrain])");
    }
  }
  return file;
}

}  // namespace escd::train
