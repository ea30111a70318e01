#include "models/liquid_s4/liquid_s4.h"

#include "models/liquid_s4/liquid_s4_model.h"
#include "models/liquid_s4/liquid_s4_options.h"

namespace escd {

nlohmann::json liquid_s4_defaults() { return liquid_s4::Options{}.to_json(); }

std::shared_ptr<SequenceClassifier> make_liquid_s4(const nlohmann::json& hyperparameters, int64_t n_mels,
                                                   int64_t n_classes) {
  return std::make_shared<liquid_s4::LiquidS4Classifier>(hyperparameters, n_mels, n_classes);
}

bool liquid_s4_is_ssm_parameter(const std::string& name) {
  const size_t dot = name.rfind('.');
  return name.compare(dot == std::string::npos ? 0 : dot + 1, 4, "ssm_") == 0;
}

}  // namespace escd
