// The registry: models by name, hyperparameters checked against each model's defaults, and the
// shipped config files in agreement with the code's defaults.
#include <gtest/gtest.h>

#include "models/common/registry.h"
#include "models/common/window_level.h"
#include "util/toml_json.h"

namespace escd {
namespace {

TEST(Registry, BuildsEveryModelByNameWithItsDefaults) {
  for (const std::string& name : model_names()) {
    SCOPED_TRACE(name);
    auto model = create_model(name, nlohmann::json::object());
    EXPECT_EQ(model->architecture(), name);
    EXPECT_EQ(model->n_classes(), 50);
    EXPECT_GT(model->parameters().size(), 0u);
  }
}

TEST(Registry, UnknownModelAndBadHyperparametersAreNamed) {
  try {
    create_model("transformer", {});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown model 'transformer'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("mamba"), std::string::npos);
  }
  try {
    create_model("mamba", {{"d_modle", 64}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown hyperparameter 'd_modle'"), std::string::npos);
  }
  try {
    create_model("mamba", {{"d_model", "big"}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'d_model'"), std::string::npos);
  }
  EXPECT_THROW(create_model("mamba", {{"n_layers", 1.5}}), std::invalid_argument);
}

TEST(Registry, ShippedConfigsMatchTheDefaults) {
  for (const std::string& name : model_names()) {
    SCOPED_TRACE(name);
    const nlohmann::json file = load_toml_file(std::string(ESCD_SOURCE_DIR) + "/config/" + name + ".toml");
    const nlohmann::json defaults = create_model(name, {})->hyperparameters();
    for (const auto& [key, value] : file.at("model").items()) {
      ASSERT_TRUE(defaults.contains(key)) << key;
      // The one key whose default ("none") only keeps older checkpoints as they were trained.
      if (key == "level_norm") {
        EXPECT_EQ(parse_level_norm(value.get<std::string>()), LevelNorm::window_max);
        continue;
      }
      EXPECT_EQ(value.dump(), defaults[key].dump()) << key;
    }
  }
}

}  // namespace
}  // namespace escd
