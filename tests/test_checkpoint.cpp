// Checkpoints: a round trip gives identical logits, and every kind of bad file is a clear error.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "checkpoint_errors.h"
#include "model_fixtures.h"
#include "models/common/checkpoint.h"
#include "models/common/registry.h"
#include "test_support.h"
#include "util/atomic_file.h"

namespace escd {
namespace {

using test::error_loading;

class CheckpointTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CheckpointTest, RoundTripGivesIdenticalLogitsAndMetadata) {
  test::TempDir dir;
  at::manual_seed(3);
  auto model = create_model(GetParam(), test::tiny_hyperparameters(GetParam()));
  model->set_input_statistics(at::randn({128}), at::rand({128}) + 0.5);
  model->eval();
  const std::vector<std::string> names(50, "x");
  save_checkpoint(dir.path("m.ckpt"), *model, FrontEndConfig{}, names, {{"val_accuracy", 0.5}});
  const Checkpoint loaded = load_checkpoint(dir.path("m.ckpt"), GetParam());
  const at::Tensor frames = at::randn({2, 40, 128});
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(model->forward(frames), loaded.model->forward(frames)));
  EXPECT_EQ(loaded.model->architecture(), GetParam());
  EXPECT_EQ(loaded.model->hyperparameters(), model->hyperparameters());
  EXPECT_EQ(loaded.class_names, names);
  EXPECT_EQ(loaded.training["val_accuracy"], 0.5);
  EXPECT_EQ(loaded.front_end.n_mels, 128);
  EXPECT_EQ(loaded.front_end.hop, 512);
}

TEST_P(CheckpointTest, AnotherArchitectureIsRefusedByName) {
  test::TempDir dir;
  auto model = create_model(GetParam(), test::tiny_hyperparameters(GetParam()));
  save_checkpoint(dir.path("m.ckpt"), *model, FrontEndConfig{}, std::vector<std::string>(50, "x"));
  const std::string other = GetParam() == "mamba" ? "liquid_s4" : "mamba";
  const std::string e = error_loading(dir.path("m.ckpt"), other);
  EXPECT_NE(e.find("is a '" + GetParam() + "' checkpoint, expected '" + other + "'"), std::string::npos) << e;
}

TEST_P(CheckpointTest, TruncatedFileIsAClearError) {
  test::TempDir dir;
  auto model = create_model(GetParam(), test::tiny_hyperparameters(GetParam()));
  save_checkpoint(dir.path("m.ckpt"), *model, FrontEndConfig{}, std::vector<std::string>(50, "x"));
  std::filesystem::resize_file(dir.path("m.ckpt"), std::filesystem::file_size(dir.path("m.ckpt")) / 2);
  const std::string e = error_loading(dir.path("m.ckpt"));
  EXPECT_NE(e.find(dir.path("m.ckpt")), std::string::npos) << e;
  EXPECT_NE(e.find("not a readable escd checkpoint"), std::string::npos) << e;
}

INSTANTIATE_TEST_SUITE_P(Models, CheckpointTest, ::testing::ValuesIn(test::recurrent_models()));

TEST(Checkpoint, MissingFileAndForeignFilesAreClearErrors) {
  test::TempDir dir;
  EXPECT_NE(error_loading(dir.path("none.ckpt")).find("no such checkpoint file"), std::string::npos);
  std::ofstream(dir.path("text.ckpt")) << "not a checkpoint";
  EXPECT_NE(error_loading(dir.path("text.ckpt")).find("not a readable escd checkpoint"), std::string::npos);
  // A valid torch archive that is not ours.
  torch::serialize::OutputArchive archive;
  archive.write("weight", at::ones({2}));
  archive.save_to(dir.path("foreign.pt"));
  EXPECT_NE(error_loading(dir.path("foreign.pt")).find("no escd metadata"), std::string::npos);
}

// Metadata that names a real model but no tensors: every parameter is reported missing.
TEST(Checkpoint, MissingTensorsAreListed) {
  test::TempDir dir;
  auto model = create_model("mamba", test::tiny_hyperparameters("mamba"));
  save_checkpoint(dir.path("full.ckpt"), *model, FrontEndConfig{}, std::vector<std::string>(50, "x"));
  const Checkpoint full = load_checkpoint(dir.path("full.ckpt"));
  torch::serialize::OutputArchive archive;
  archive.write("escd_meta", c10::IValue(full.meta.dump()));
  archive.save_to(dir.path("empty.ckpt"));
  const std::string e = error_loading(dir.path("empty.ckpt"));
  EXPECT_NE(e.find("tensor(s) missing"), std::string::npos) << e;
}

TEST(Checkpoint, UnknownHyperparameterInMetadataIsReported) {
  test::TempDir dir;
  auto model = create_model("mamba", test::tiny_hyperparameters("mamba"));
  save_checkpoint(dir.path("m.ckpt"), *model, FrontEndConfig{}, std::vector<std::string>(50, "x"));
  Checkpoint c = load_checkpoint(dir.path("m.ckpt"));
  nlohmann::json meta = c.meta;
  meta["hyperparameters"]["colour"] = "blue";
  torch::serialize::OutputArchive archive;
  archive.write("escd_meta", c10::IValue(meta.dump()));
  archive.save_to(dir.path("bad.ckpt"));
  const std::string e = error_loading(dir.path("bad.ckpt"));
  EXPECT_NE(e.find("bad metadata"), std::string::npos) << e;
  EXPECT_NE(e.find("colour"), std::string::npos) << e;
}

TEST(Checkpoint, SaveIsAtomicAndAnUnwritablePathIsAnError) {
  auto model = create_model("mamba", test::tiny_hyperparameters("mamba"));
  EXPECT_THROW(save_checkpoint("/nonexistent-dir/m.ckpt", *model, FrontEndConfig{}, {}), std::runtime_error);
  test::TempDir dir;
  save_checkpoint(dir.path("m.ckpt"), *model, FrontEndConfig{}, {});
  for (const auto& entry : std::filesystem::directory_iterator(dir.str())) {
    EXPECT_EQ(entry.path().filename(), "m.ckpt");  // no temporary left behind
  }
}

}  // namespace
}  // namespace escd
