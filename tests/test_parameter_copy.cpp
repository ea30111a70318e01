#include <gtest/gtest.h>

#include <ATen/Functions.h>

#include "model_fixtures.h"
#include "models/common/registry.h"
#include "parameter_copy.h"

namespace escd::train {
namespace {

TEST(ParameterCopy, EveryParameterTakesTheSourceValue) {
  at::manual_seed(1);
  auto from = create_model("mamba", test::tiny_hyperparameters("mamba"));
  at::manual_seed(2);
  auto to = create_model("mamba", test::tiny_hyperparameters("mamba"));
  ASSERT_FALSE(at::equal(from->named_parameters()["embedding.weight"], to->named_parameters()["embedding.weight"]));
  copy_parameters(*from, *to);
  const auto source = from->named_parameters();
  for (const auto& p : to->named_parameters()) EXPECT_TRUE(at::equal(p.value(), source[p.key()])) << p.key();
}

TEST(ParameterCopy, OtherHyperparametersAreAnErrorNamingTheParameter) {
  auto from = create_model("mamba", test::tiny_hyperparameters("mamba"));
  auto wider = test::tiny_hyperparameters("mamba");
  wider["d_model"] = wider["d_model"].get<int>() * 2;
  auto to = create_model("mamba", wider);
  try {
    copy_parameters(*from, *to);
    ADD_FAILURE() << "copied between models of different widths";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("has shape"), std::string::npos) << e.what();
  }
  auto liquid = create_model("liquid_s4", test::tiny_hyperparameters("liquid_s4"));
  EXPECT_THROW(copy_parameters(*from, *liquid), std::invalid_argument);
}

}  // namespace
}  // namespace escd::train
