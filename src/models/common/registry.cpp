#include "models/common/registry.h"

#include <stdexcept>

#include "models/liquid_s4/liquid_s4.h"
#include "models/mamba/mamba.h"
#include "models/vjepa2/vjepa2.h"

namespace escd {

nlohmann::json merge_hyperparameters(const nlohmann::json& defaults, const nlohmann::json& overrides,
                                     const std::string& where) {
  nlohmann::json merged = defaults;
  if (overrides.is_null()) return merged;
  if (!overrides.is_object()) throw std::invalid_argument(where + ": expected a table of hyperparameters");
  for (const auto& [key, value] : overrides.items()) {
    if (!defaults.contains(key)) {
      std::string known;
      for (const auto& [k, v] : defaults.items()) known += (known.empty() ? "" : ", ") + k;
      throw std::invalid_argument(where + ": unknown hyperparameter '" + key + "' (known: " + known + ")");
    }
    const auto& def = defaults.at(key);
    const bool both_numbers = def.is_number() && value.is_number();
    if (def.type() != value.type() && !both_numbers) {
      throw std::invalid_argument(where + ": hyperparameter '" + key + "' should be a " + def.type_name() + ", got " +
                                  value.dump());
    }
    if (def.is_number_integer() && !value.is_number_integer()) {
      throw std::invalid_argument(where + ": hyperparameter '" + key + "' should be an integer, got " + value.dump());
    }
    merged[key] = value;
  }
  return merged;
}

std::vector<std::string> model_names() { return {"liquid_s4", "mamba", "vjepa2"}; }

namespace {

// Hyperparameters of the input path that every architecture shares (SequenceClassifier reads them).
nlohmann::json with_shared_defaults(nlohmann::json defaults) {
  defaults["level_norm"] = "none";  // models/common/window_level.h; "none" for checkpoints without it
  return defaults;
}

}  // namespace

std::shared_ptr<SequenceClassifier> create_model(const std::string& architecture, const nlohmann::json& hyperparameters,
                                                 int64_t n_mels, int64_t n_classes) {
  auto merged = [&](const nlohmann::json& defaults) {
    return merge_hyperparameters(with_shared_defaults(defaults), hyperparameters, architecture);
  };
  if (architecture == "mamba") return make_mamba(merged(mamba_defaults()), n_mels, n_classes);
  if (architecture == "vjepa2") return make_vjepa2(merged(vjepa2_defaults()), n_mels, n_classes);
  if (architecture == "liquid_s4") return make_liquid_s4(merged(liquid_s4_defaults()), n_mels, n_classes);
  throw std::invalid_argument("unknown model '" + architecture + "' (known: " + model_name_list() + ")");
}

std::string model_name_list() {
  std::string list;
  for (const auto& n : model_names()) list += (list.empty() ? "" : ", ") + n;
  return list;
}

}  // namespace escd
