// Small configurations of each model, for tests that need real models but not real sizes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace escd::test {

inline nlohmann::json tiny_hyperparameters(const std::string& model) {
  if (model == "mamba") return {{"d_model", 16}, {"n_layers", 2}, {"d_state", 4}, {"expand", 2}, {"mel_conv_channels", 4}};
  if (model == "liquid_s4") return {{"d_model", 16}, {"n_layers", 2}, {"d_state", 8}, {"mel_conv_channels", 4}};
  if (model == "vjepa2") {
    return {{"embed_dim", 16}, {"depth", 2}, {"heads", 2}, {"mlp_ratio", 2}, {"pool_heads", 2},
            {"predictor_dim", 8}, {"predictor_depth", 1}, {"predictor_heads", 2}, {"mel_conv_channels", 4}};
  }
  return nlohmann::json::object();
}

inline std::vector<std::string> recurrent_models() { return {"mamba", "liquid_s4"}; }

}  // namespace escd::test
