// Training bookkeeping that needs no model: recipe parsing, the schedule, the weight EMA, the
// evaluation summary and the HTML report.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <torch/nn/modules/linear.h>

#include <filesystem>
#include <fstream>

#include "evaluation.h"
#include "html_report.h"
#include "lr_schedule.h"
#include "test_support.h"
#include "train_config.h"
#include "util/toml_json.h"
#include "weight_ema.h"

namespace escd::train {
namespace {

TEST(TrainConfig, KnownKeysApplyUnknownKeysAndBadTypesAreNamed) {
  TrainConfig c;
  apply_train_table(c, {{"epochs", 7}, {"lr", 0.01}, {"mix_prob", 0.5}, {"train_folds", {1, 3, 4}}, {"val_folds", {2}}},
                    "x.toml [train]");
  EXPECT_EQ(c.epochs, 7);
  EXPECT_DOUBLE_EQ(c.lr, 0.01);
  EXPECT_DOUBLE_EQ(c.augment.mix_prob, 0.5);
  EXPECT_EQ(c.val_folds, std::vector<int>{2});
  try {
    apply_train_table(c, {{"epoch", 3}}, "x.toml [train]");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("x.toml [train]: unknown key 'epoch'"), std::string::npos) << e.what();
  }
  try {
    apply_train_table(c, {{"epochs", "ten"}}, "x.toml [train]");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'epochs'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(apply_train_table(c, {{"epochs", 2.5}}, "x"), std::invalid_argument);
  EXPECT_THROW(apply_train_table(c, {{"test_folds", {6}}}, "x"), std::invalid_argument);
  EXPECT_THROW(apply_train_table(c, {{"batch_size", 0}}, "x"), std::invalid_argument);
}

TEST(TrainConfig, TrainingCropsAreInSecondsAndOnlyNamedInRecipesThatUseThem) {
  TrainConfig c;
  EXPECT_FALSE(c.to_json().contains("crop_seconds")) << "older runs' identities must not change";
  EXPECT_EQ(crop_samples(c, 16000), 0u);
  apply_train_table(c, {{"crop_seconds", 2.5}}, "x");
  EXPECT_EQ(crop_samples(c, 16000), 40000u);
  EXPECT_DOUBLE_EQ(c.to_json().at("crop_seconds").get<double>(), 2.5);
  EXPECT_THROW(apply_train_table(c, {{"crop_seconds", -1.0}}, "x"), std::invalid_argument);
}

TEST(TrainConfig, ConsistencyWeightIsCheckedAndOnlyNamedWhenUsed) {
  TrainConfig c;
  EXPECT_FALSE(c.to_json().contains("consistency_weight")) << "older runs' identities must not change";
  apply_train_table(c, {{"consistency_weight", 1.5}}, "x");
  EXPECT_DOUBLE_EQ(c.to_json().at("consistency_weight").get<double>(), 1.5);
  EXPECT_THROW(apply_train_table(c, {{"consistency_weight", -1.0}}, "x"), std::invalid_argument);
}

TEST(TrainConfig, RoomFreeDistillationIsOnlyNamedWhenUsedAndAsksForTheRoomFreeRows) {
  TrainConfig c;
  EXPECT_FALSE(c.to_json().contains("distill_room_free")) << "older runs' identities must not change";
  EXPECT_FALSE(uses_room_free_rows(c));
  apply_train_table(c, {{"distill_room_free", true}}, "x");
  EXPECT_TRUE(c.to_json().at("distill_room_free").get<bool>());
  EXPECT_TRUE(uses_room_free_rows(c));
  EXPECT_THROW(apply_train_table(c, {{"distill_room_free", 1.0}}, "x"), std::invalid_argument);
}

TEST(TrainConfig, SpeedAndBetweenClassMixingAreCheckedAndOnlyNamedWhenUsed) {
  TrainConfig c;
  EXPECT_FALSE(c.to_json().contains("stretch_prob"));
  EXPECT_FALSE(c.to_json().contains("mix_between_classes"));
  apply_train_table(c, {{"stretch_prob", 0.5}, {"mix_between_classes", true}}, "x");
  EXPECT_DOUBLE_EQ(c.to_json().at("stretch_min").get<double>(), 0.8);
  EXPECT_TRUE(c.to_json().at("mix_between_classes").get<bool>());
  EXPECT_THROW(apply_train_table(c, {{"stretch_min", 0.0}}, "x"), std::invalid_argument);
  TrainConfig d;
  EXPECT_THROW(apply_train_table(d, {{"stretch_min", 1.3}}, "x"), std::invalid_argument) << "min above max";
  EXPECT_THROW(apply_train_table(d, {{"mix_between_classes", 1}}, "x"), std::invalid_argument);
}

TEST(TrainConfig, AugmentationRangesAreCheckedWithTheFileAndKeysNamed) {
  TrainConfig c;
  apply_train_table(c, {{"snr_db_min", -5.0}, {"snr_db_max", 20.0}}, "x.toml [train]");
  EXPECT_DOUBLE_EQ(c.augment.snr_db_min, -5.0);
  try {
    apply_train_table(c, {{"snr_db_min", 25.0}}, "x.toml [train]");
    ADD_FAILURE() << "a minimum SNR above the maximum was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("x.toml [train]: snr_db_min and snr_db_max must satisfy"), std::string::npos)
        << e.what();
  }
  TrainConfig d;
  EXPECT_THROW(apply_train_table(d, {{"reverb_prob", 2.0}}, "x"), std::invalid_argument);
}

TEST(TrainConfig, EveryRecipeInTheRepositoryPassesTheChecks) {
  for (const char* file : {"config/mamba.toml", "config/liquid_s4.toml", "config/vjepa2.toml",
                           "train/experiments/crops/vjepa2-room-crop.toml"}) {
    const nlohmann::json recipe = load_toml_file(std::string(ESCD_SOURCE_DIR) + "/" + file);
    ASSERT_TRUE(recipe.contains("train")) << file;
    TrainConfig c;
    EXPECT_NO_THROW(apply_train_table(c, recipe.at("train"), file)) << file;
  }
}

TEST(TrainConfig, VentilationDepthIsCheckedAndOnlyNamedWhenChanged) {
  TrainConfig c;
  EXPECT_FALSE(c.to_json().contains("background_hvac_depth_max")) << "older runs' identities must not change";
  apply_train_table(c, {{"background_hvac_depth_max", 0.3}}, "x");
  EXPECT_DOUBLE_EQ(c.to_json().at("background_hvac_depth_max").get<double>(), 0.3);
  EXPECT_THROW(apply_train_table(c, {{"background_hvac_depth_max", 0.01}}, "x"), std::invalid_argument);
  try {
    apply_train_table(c, {{"background_hvac_depth_max", 1.5}}, "x");
    ADD_FAILURE() << "a depth limit above 1 was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("background_hvac_depth_max must be in [0.02, 1]"), std::string::npos)
        << e.what();
  }
}

TEST(TrainConfig, NoiseColoursAreCheckedAndOnlyNamedWhenChanged) {
  TrainConfig c;
  EXPECT_FALSE(c.to_json().contains("room_noise_colours")) << "older runs' identities must not change";
  apply_train_table(c, {{"room_noise_colours", {"white", "white", "pink", "brown"}}}, "x");
  EXPECT_EQ(c.to_json().at("room_noise_colours"), nlohmann::json({"white", "white", "pink", "brown"}));
  const auto problem = [](const nlohmann::json& colours) {
    TrainConfig d;
    try {
      apply_train_table(d, {{"room_noise_colours", colours}}, "x");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string expected = "x: key 'room_noise_colours': expected a non-empty list of noise colours (white, "
                               "pink or brown), got ";
  EXPECT_EQ(problem(nlohmann::json::array({"white", "grey"})), expected + R"(["white","grey"])");
  EXPECT_EQ(problem(nlohmann::json::array()), expected + "[]");
  EXPECT_EQ(problem(nlohmann::json::array({"white", 3})), expected + R"(["white",3])");
  EXPECT_EQ(problem("white"), expected + R"("white")");
}

TEST(Schedule, WarmsUpLinearlyThenDecaysToTheFloor) {
  EXPECT_NEAR(warmup_cosine(0, 10, 100, 0.01), 0.1, 1e-12);
  EXPECT_NEAR(warmup_cosine(9, 10, 100, 0.01), 1.0, 1e-12);
  EXPECT_NEAR(warmup_cosine(10, 10, 100, 0.01), 1.0, 1e-12);
  EXPECT_NEAR(warmup_cosine(55, 10, 100, 0.01), 0.505, 1e-9);
  EXPECT_NEAR(warmup_cosine(100, 10, 100, 0.01), 0.01, 1e-12);
  double previous = 2.0;
  for (int s = 10; s <= 100; ++s) {
    EXPECT_LE(warmup_cosine(s, 10, 100, 0.01), previous);
    previous = warmup_cosine(s, 10, 100, 0.01);
  }
}

TEST(WeightEma, TracksTheParametersAndSwapsBothWays) {
  torch::nn::Linear layer(3, 2);
  WeightEma ema(*layer, 0.9);
  const at::Tensor start = layer->weight.detach().clone();
  {
    at::NoGradGuard no_grad;
    layer->weight.fill_(1.0);
  }
  for (int i = 0; i < 200; ++i) ema.update();
  EXPECT_TRUE(at::allclose(ema.shadow()[0], at::ones({2, 3}), 1e-4, 1e-4));
  ema.swap();
  EXPECT_TRUE(at::allclose(layer->weight, at::ones({2, 3}), 1e-4, 1e-4));
  ema.swap();
  EXPECT_TRUE(at::equal(layer->weight, at::ones({2, 3})));
  EXPECT_FALSE(at::equal(start, layer->weight));
}

TEST(Evaluation, SummaryOfAKnownCase) {
  // Three clips of classes 0, 1, 2; the model gets the first two right and calls the third a 1.
  const at::Tensor logits = at::tensor({5.f, 0.f, 0.f, 0.f, 5.f, 0.f, 0.f, 5.f, 1.f}).reshape({3, 3});
  const EvalResult r = summarise(logits, {0, 1, 2}, 3);
  EXPECT_NEAR(r.accuracy, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(r.predictions, (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(r.confusion[2][1], 1);
  EXPECT_EQ(r.confusion[2][2], 0);
  EXPECT_EQ(r.per_class_accuracy, (std::vector<double>{1.0, 1.0, 0.0}));
  EXPECT_GT(r.loss, 0.0);
  const nlohmann::json j = r.to_json({"a", "b", "c"});
  EXPECT_EQ(j["per_class_accuracy"]["c"], 0.0);
  EXPECT_FALSE(j.contains("event_accuracy")) << "only a model with a background output has it";
  EXPECT_FALSE(j.contains("called_background"));
}

TEST(Evaluation, BackgroundCallsAndTheFiftyClassAccuracyAreApart) {
  // Four clips of classes a, b, a, b; outputs a, b, background. Clip 0 is right; clip 1 is called
  // background with b its best event class; clip 2 is called background with b (wrong) behind it;
  // clip 3 is called a.
  const at::Tensor logits =
      at::tensor({4.f, 0.f, 1.f, 0.f, 2.f, 3.f, 0.f, 1.f, 3.f, 2.f, 0.f, 1.f}).reshape({4, 3});
  const EvalResult r = summarise(logits, {0, 1, 0, 1}, 3);
  EXPECT_NEAR(r.accuracy, 0.25, 1e-12) << "a background top-1 is wrong, as escd would answer";
  const nlohmann::json j = r.to_json({"a", "b", "background"});
  EXPECT_NEAR(j.at("called_background").get<double>(), 0.5, 1e-12);
  EXPECT_NEAR(j.at("event_accuracy").get<double>(), 0.5, 1e-12) << "clips 0 and 1 by their best event class";
}

TEST(Report, RendersCurvesConfusionAndWorstPairs) {
  test::TempDir dir;
  std::ofstream(dir.path("metrics.jsonl"))
      << R"({"epoch":0,"train_loss":3.9,"train_accuracy":0.05,"val_accuracy":0.1,"val_loss":3.5,"lr":0.001})" "\n"
      << R"({"epoch":1,"train_loss":2.0,"train_accuracy":0.45,"val_accuracy":0.4,"val_loss":2.2,"lr":0.002})" "\n";
  const at::Tensor logits = at::tensor({5.f, 0.f, 0.f, 5.f}).reshape({2, 2});
  const nlohmann::json final_json = {{"model", "mamba"},
                                     {"best_epoch", 2},
                                     {"val", summarise(logits, {0, 1}, 2).to_json({"dog", "rooster"})},
                                     {"test", summarise(logits, {0, 0}, 2).to_json({"dog", "rooster"})}};
  std::ofstream(dir.path("final.json")) << final_json.dump();
  const std::string html = render_report(dir.str());
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Learning rate"), std::string::npos);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  EXPECT_NE(html.find("Confusion matrix"), std::string::npos);
  EXPECT_NE(html.find("<td>dog</td><td>rooster</td><td>1</td>"), std::string::npos);  // the one confusion
  EXPECT_EQ(html.find("http"), html.find("http://www.w3.org/2000/svg"));  // nothing fetched from a network
  EXPECT_EQ(html.find("distillation loss"), std::string::npos);  // only runs with teachers have one
}

TEST(Report, ADistilledRunAlsoShowsItsDistillationLoss) {
  test::TempDir dir;
  std::ofstream(dir.path("metrics.jsonl"))
      << R"({"epoch":0,"train_loss":3.9,"distill_loss":3.7,"train_accuracy":0.05,"val_accuracy":0.1,"lr":0.001})" "\n"
      << R"({"epoch":1,"train_loss":2.0,"distill_loss":1.8,"train_accuracy":0.45,"val_accuracy":0.4,"lr":0.002})" "\n";
  const std::string html = render_report(dir.str());
  EXPECT_NE(html.find("distillation loss"), std::string::npos);
}

// Reports are shipped (models/*.report.html): they name the run by its directory's own name, and
// carry no path of the machine that trained it, however the directory was given.
TEST(Report, NamesTheRunWithoutAnyPath) {
  test::TempDir dir;
  const std::string run = dir.path("runs/mamba-refit");
  std::filesystem::create_directories(run);
  std::ofstream(run + "/metrics.jsonl") << R"({"epoch":0,"train_loss":3.9,"lr":0.001})" "\n";
  for (const std::string& given : {run, run + "/", dir.path("runs/../runs/mamba-refit")}) {
    const std::string html = render_report(given);
    EXPECT_NE(html.find("<title>escd training report: mamba-refit</title>"), std::string::npos) << given;
    EXPECT_NE(html.find("Run directory: <code>mamba-refit</code>"), std::string::npos) << given;
    EXPECT_EQ(html.find(dir.str()), std::string::npos) << given << " leaks into the report";
    EXPECT_EQ(html.find("runs/"), std::string::npos) << given << " leaks into the report";
    // Any other path would show as a slash: the only ones allowed are tags' and the SVG namespace's.
    std::string rest = html;
    for (const std::string& allowed : {std::string("http://www.w3.org/2000/svg"), std::string("</"), std::string("/>")}) {
      for (size_t at; (at = rest.find(allowed)) != std::string::npos;) rest.erase(at, allowed.size());
    }
    const size_t slash = rest.find('/');
    EXPECT_EQ(slash, std::string::npos) << given << ": a path in the report: "
                                        << rest.substr(slash == std::string::npos ? 0 : std::max<size_t>(slash, 40) - 40, 80);
  }
}

TEST(Report, MissingOrBrokenMetricsAreNamed) {
  test::TempDir dir;
  EXPECT_THROW(render_report(dir.str()), std::runtime_error);
  std::ofstream(dir.path("metrics.jsonl")) << "{\"epoch\":0}\nnot json\n";
  try {
    render_report(dir.str());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.jsonl:2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace escd::train

namespace escd::train {
namespace {

TEST(Evaluation, WorstConfusionsAreOffDiagonalLargestFirst) {
  const std::vector<std::vector<int64_t>> confusion{{9, 1, 3}, {0, 7, 0}, {2, 5, 4}};
  const auto worst = worst_confusions(confusion, 3);
  ASSERT_EQ(worst.size(), 3u);
  EXPECT_EQ(worst[0].count, 5);
  EXPECT_EQ(worst[0].true_class, 2u);
  EXPECT_EQ(worst[0].predicted_class, 1u);
  EXPECT_EQ(worst[1].count, 3);
  EXPECT_EQ(worst[2].count, 2);
  EXPECT_EQ(worst_confusions(confusion, 10).size(), 4u);  // only non-zero off-diagonal cells
}

}  // namespace
}  // namespace escd::train
