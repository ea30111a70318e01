// esc-train fit on a handful of real ESC-50 clips: the loss goes down, the run directory holds what
// it promises, and a run stopped midway and resumed ends with the same weights as an uninterrupted one.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>

#include <filesystem>
#include <fstream>

#include "model_fixtures.h"
#include "data/esc50_index.h"
#include "models/common/checkpoint.h"
#include "models/common/label_set.h"
#include "models/common/registry.h"
#include "test_support.h"
#include "html_report.h"
#include "trainer.h"

namespace escd::train {
namespace {

// Classes 0-3 only: 96 training clips (folds 1-3), 32 validation, 32 test. Decoded once per process.
const ClipDataset& small_dataset() {
  static const ClipDataset data = [] {
    ClipIndex index = read_esc50_index(test::esc50_dir());
    std::vector<ClipInfo> kept;
    for (const ClipInfo& c : index.clips) {
      if (c.target < 4) kept.push_back(c);
    }
    index.clips = kept;
    return load_clips(std::move(index));
  }();
  return data;
}

FitOptions quick_options(const std::string& run_dir, int epochs) {
  FitOptions o;
  o.model = "mamba";
  o.hyperparameters = test::tiny_hyperparameters("mamba");
  o.run_dir = run_dir;
  TrainConfig& c = o.config;
  c.epochs = epochs;
  c.batch_size = 16;
  c.lr = 3e-3;
  c.warmup_epochs = 0;
  c.label_smoothing = 0.0;
  c.ema_decay = 0.9;
  c.threads = 1;
  c.augment.mix_prob = 0.5;  // exercise the whole augmentation path
  return o;
}

std::vector<nlohmann::json> read_metrics(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(Training, AFewEpochsLowerTheLossAndWriteTheRunDirectory) {
  SKIP_WITHOUT_ESC50();
  test::TempDir dir;
  FitOptions o = quick_options(dir.path("run"), 6);
  o.config.augment = AugmentConfig{};
  o.config.augment.shift_prob = o.config.augment.noise_prob = o.config.augment.gain_prob = 0.0;
  o.config.augment.time_mask_prob = o.config.augment.freq_mask_prob = 0.0;
  const nlohmann::json result = fit(o, small_dataset());
  const auto metrics = read_metrics(dir.path("run/metrics.jsonl"));
  ASSERT_EQ(metrics.size(), 6u);
  EXPECT_LT(metrics.back()["train_loss"].get<double>(), 0.8 * metrics.front()["train_loss"].get<double>());
  for (const char* f : {"best.ckpt", "last.ckpt", "resume.state", "final.json", "summary.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.path(std::string("run/") + f))) << f;
  }
  // summary.json: what a shipped model's json carries.
  std::ifstream summary_file(dir.path("run/summary.json"));
  const nlohmann::json summary = nlohmann::json::parse(summary_file);
  EXPECT_EQ(summary["test_accuracy"], result["test"]["accuracy"]);
  int64_t parameters = 0;
  for (const auto& p : create_model("mamba", o.hyperparameters)->parameters()) parameters += p.numel();
  EXPECT_EQ(summary["parameters"].get<int64_t>(), parameters);
  double seconds = 0;
  for (const auto& m : metrics) seconds += m["seconds"].get<double>();
  EXPECT_NEAR(summary["training_wall_seconds"].get<double>(), seconds, 1e-6);
  EXPECT_NE(summary["machine"].get<std::string>().find("cores"), std::string::npos);
  EXPECT_EQ(result["test"]["clips"], 32);
  const Checkpoint best = load_checkpoint(dir.path("run/best.ckpt"), "mamba");
  EXPECT_EQ(best.training["test_accuracy"], result["test"]["accuracy"]);
  EXPECT_EQ(best.training["data_fingerprint"].get<std::string>().size(), 16u);
  double best_val = 0;
  for (const auto& m : metrics) best_val = std::max(best_val, m["val_accuracy"].get<double>());
  EXPECT_DOUBLE_EQ(result["val"]["accuracy"].get<double>(), best_val);
}

TEST(Training, ResumedRunEndsWithTheSameWeightsAsAnUninterruptedOne) {
  SKIP_WITHOUT_ESC50();
  test::TempDir dir;
  fit(quick_options(dir.path("straight"), 4), small_dataset());
  FitOptions first_half = quick_options(dir.path("resumed"), 4);
  first_half.stop_after_epochs = 2;
  fit(first_half, small_dataset());
  EXPECT_EQ(read_metrics(dir.path("resumed/metrics.jsonl")).size(), 2u);
  FitOptions second_half = quick_options(dir.path("resumed"), 4);
  second_half.resume = true;
  fit(second_half, small_dataset());

  const Checkpoint a = load_checkpoint(dir.path("straight/last.ckpt"));
  const Checkpoint b = load_checkpoint(dir.path("resumed/last.ckpt"));
  auto pa = a.model->named_parameters(), pb = b.model->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(at::equal(p.value(), pb[p.key()])) << p.key();
  const auto ma = read_metrics(dir.path("straight/metrics.jsonl")), mb = read_metrics(dir.path("resumed/metrics.jsonl"));
  ASSERT_EQ(ma.size(), mb.size());
  for (size_t i = 0; i < ma.size(); ++i) {
    EXPECT_EQ(ma[i]["train_loss"], mb[i]["train_loss"]) << "epoch " << i;
    EXPECT_EQ(ma[i]["val_accuracy"], mb[i]["val_accuracy"]) << "epoch " << i;
  }
}

TEST(Training, ResumeWithOtherSettingsIsRefused) {
  SKIP_WITHOUT_ESC50();
  test::TempDir dir;
  FitOptions o = quick_options(dir.path("run"), 2);
  o.stop_after_epochs = 1;
  fit(o, small_dataset());
  FitOptions other = quick_options(dir.path("run"), 2);
  other.resume = true;
  other.config.lr = 1e-2;
  EXPECT_THROW(fit(other, small_dataset()), std::runtime_error);
}

// Saves a tiny Mamba teacher, marked as trained on `train_folds`, after `set_head` has changed its
// head's parameters; with `background`, it has the background output after the dataset's.
template <typename SetHead>
void save_teacher(const std::string& path, const std::vector<int>& train_folds, bool background, SetHead set_head) {
  std::vector<std::string> class_names = small_dataset().index.class_names;
  if (background) class_names.push_back(kBackgroundLabel);
  auto teacher = create_model("mamba", test::tiny_hyperparameters("mamba"), FrontEndConfig{}.n_mels,
                              static_cast<int64_t>(class_names.size()));
  {
    at::NoGradGuard no_grad;
    auto params = teacher->named_parameters();
    set_head(params["head.weight"], params["head.bias"]);
  }
  save_checkpoint(path, *teacher, FrontEndConfig{}, class_names, {{"train_config", {{"train_folds", train_folds}}}});
}

// A teacher that says `favourite` whatever it hears (its head ignores the input).
void save_constant_teacher(const std::string& path, int favourite, const std::vector<int>& train_folds,
                           bool background = false) {
  save_teacher(path, train_folds, background, [&](at::Tensor weight, at::Tensor bias) {
    weight.zero_();
    bias.fill_(-5.f);
    bias[favourite] = 5.f;
  });
}

// quick_options distilling from dir/teacher.ckpt, a constant teacher of class 2 trained on folds 1-3.
FitOptions options_with_teacher(const test::TempDir& dir, int epochs) {
  save_constant_teacher(dir.path("teacher.ckpt"), 2, {1, 2, 3});
  FitOptions o = quick_options(dir.path("run"), epochs);
  o.config.teachers = {dir.path("teacher.ckpt")};
  return o;
}

// A student that learns from such a teacher alone ends up saying its class for the validation
// clips, whatever their labels.
TEST(Training, DistillationPullsTheStudentToItsTeachers) {
  SKIP_WITHOUT_ESC50();
  test::TempDir dir;
  FitOptions o = options_with_teacher(dir, 4);
  o.config.distill_weight = 1.0;
  const nlohmann::json result = fit(o, small_dataset());
  const auto predictions = result["val"]["predictions"].get<std::vector<int64_t>>();
  ASSERT_EQ(predictions.size(), 32u);
  EXPECT_EQ(std::count(predictions.begin(), predictions.end(), 2), 32);
  const auto metrics = read_metrics(dir.path("run/metrics.jsonl"));
  EXPECT_LT(metrics.back()["distill_loss"].get<double>(), 0.5 * metrics.front()["distill_loss"].get<double>());
}

// A recipe with the background class learns from teachers that have it too: the run's classes, not
// the dataset's, are what a teacher must match.
TEST(Training, DistillationWithTheBackgroundClassUsesTheRunsClasses) {
  SKIP_WITHOUT_ESC50();
  test::TempDir dir;
  save_constant_teacher(dir.path("teacher.ckpt"), 2, {1, 2, 3}, /*background=*/true);
  FitOptions o = quick_options(dir.path("run"), 4);
  o.config.teachers = {dir.path("teacher.ckpt")};
  o.config.distill_weight = 1.0;
  o.config.background_fraction = 0.25;
  const nlohmann::json result = fit(o, small_dataset());
  const auto predictions = result["val"]["predictions"].get<std::vector<int64_t>>();
  ASSERT_EQ(predictions.size(), 32u);
  EXPECT_EQ(std::count(predictions.begin(), predictions.end(), 2), 32);

  save_constant_teacher(dir.path("no_background.ckpt"), 2, {1, 2, 3});
  FitOptions mismatched = quick_options(dir.path("run2"), 1);
  mismatched.config.teachers = {dir.path("no_background.ckpt")};
  mismatched.config.background_fraction = 0.25;
  EXPECT_THROW(fit(mismatched, small_dataset()), std::invalid_argument);
}

// Same path, other file: a resumed run would learn from other targets than it started with.
TEST(Training, ResumeWithAChangedTeacherIsRefused) {
  SKIP_WITHOUT_ESC50();
  test::TempDir dir;
  FitOptions first = options_with_teacher(dir, 2);
  first.stop_after_epochs = 1;
  fit(first, small_dataset());
  save_constant_teacher(dir.path("teacher.ckpt"), 3, {1, 2, 3});
  FitOptions second = first;
  second.resume = true;
  second.stop_after_epochs = 0;
  try {
    fit(second, small_dataset());
    FAIL() << "resumed with a changed teacher";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("teacher"), std::string::npos) << e.what();
  }
}

TEST(Training, ATeacherTrainedOnTheValidationFoldIsRefusedBeforeTraining) {
  SKIP_WITHOUT_ESC50();
  test::TempDir dir;
  save_constant_teacher(dir.path("leaky.ckpt"), 2, {3, 4});
  FitOptions leaky = quick_options(dir.path("run"), 1);
  leaky.config.teachers = {dir.path("leaky.ckpt")};
  EXPECT_THROW(fit(leaky, small_dataset()), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir.path("run/metrics.jsonl")));
}

// consistency_weight: the loss adds the cross-entropy to the model's own answer on the room-free rows,
// and the metrics say how large it was; without room augmentation there is no room to be free of.
TEST(Training, ConsistencyWithTheRoomFreeRowsIsPartOfTheLoss) {
  SKIP_WITHOUT_ESC50();
  test::TempDir dir;
  FitOptions o = quick_options(dir.path("run"), 2);
  o.config.consistency_weight = 2.0;
  EXPECT_THROW(fit(o, small_dataset()), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir.path("run/metrics.jsonl")));

  o.config.augment.room_noise_prob = 1.0;
  o.config.augment.snr_db_min = o.config.augment.snr_db_max = 0.0;
  fit(o, small_dataset());
  for (const auto& line : read_metrics(dir.path("run/metrics.jsonl"))) {
    ASSERT_TRUE(line.contains("consistency_loss")) << line.dump();
    const double consistency = line["consistency_loss"].get<double>();
    EXPECT_GT(consistency, 0.0);
    EXPECT_TRUE(std::isfinite(consistency));
    // train_loss = label loss + 2 x consistency, and the label loss is positive.
    EXPECT_GT(line["train_loss"].get<double>(), 2.0 * consistency);
  }
  FitOptions plain = quick_options(dir.path("plain"), 1);
  fit(plain, small_dataset());
  EXPECT_FALSE(read_metrics(dir.path("plain/metrics.jsonl")).front().contains("consistency_loss"));
}

// distill_room_free: the teachers hear each row without its room. The rows and the student are the
// same either way (the loader's view changes no row), so a teacher whose answer depends on what it
// hears gives another distillation loss; without teachers or without a room the setting is refused.
TEST(Training, RoomFreeDistillationGivesTheTeachersTheRowsWithoutTheirRoom) {
  SKIP_WITHOUT_ESC50();
  test::TempDir dir;
  at::manual_seed(7);
  save_teacher(dir.path("teacher.ckpt"), {1, 2, 3}, false,  // confident answers that follow the input
               [](at::Tensor weight, at::Tensor) { weight.mul_(20.f); });
  auto distill_loss = [&](const std::string& run, bool room_free) {
    FitOptions o = quick_options(dir.path(run), 1);
    o.config.teachers = {dir.path("teacher.ckpt")};
    o.config.augment.room_noise_prob = 1.0;
    o.config.augment.snr_db_min = o.config.augment.snr_db_max = 0.0;
    o.config.distill_room_free = room_free;
    fit(o, small_dataset());
    return read_metrics(dir.path(run + "/metrics.jsonl")).front().at("distill_loss").get<double>();
  };
  const double as_trained = distill_loss("as_trained", false);
  const double room_free = distill_loss("room_free", true);
  EXPECT_TRUE(std::isfinite(room_free));
  EXPECT_GT(std::abs(room_free - as_trained), 1e-4) << "the teachers heard the same rows";

  FitOptions no_room = quick_options(dir.path("no_room"), 1);
  no_room.config.teachers = {dir.path("teacher.ckpt")};
  no_room.config.distill_room_free = true;
  EXPECT_THROW(fit(no_room, small_dataset()), std::invalid_argument);
  FitOptions no_teacher = quick_options(dir.path("no_teacher"), 1);
  no_teacher.config.augment.room_noise_prob = 1.0;
  no_teacher.config.distill_room_free = true;
  EXPECT_THROW(fit(no_teacher, small_dataset()), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir.path("no_teacher/metrics.jsonl")));
}

TEST(Training, RefitTrainsOnTheValidationFoldsAndKeepsTheLastEpoch) {
  SKIP_WITHOUT_ESC50();
  test::TempDir dir;
  FitOptions o = quick_options(dir.path("run"), 3);
  merge_validation_into_training(o.config);
  ASSERT_EQ(o.config.train_folds, (std::vector<int>{1, 2, 3, 4}));
  ASSERT_TRUE(o.config.val_folds.empty());
  const nlohmann::json result = fit(o, small_dataset());
  EXPECT_TRUE(result["val"].is_null());
  EXPECT_EQ(result["test"]["clips"], 32);

  for (const auto& m : read_metrics(dir.path("run/metrics.jsonl"))) EXPECT_FALSE(m.contains("val_accuracy"));
  // The kept model is the last epoch's, and says which clips it learnt from.
  const Checkpoint kept = load_checkpoint(dir.path("run/best.ckpt"), "mamba");
  const Checkpoint last = load_checkpoint(dir.path("run/last.ckpt"), "mamba");
  auto pk = kept.model->named_parameters(), pl = last.model->named_parameters();
  for (const auto& p : pk) EXPECT_TRUE(at::equal(p.value(), pl[p.key()])) << p.key();
  EXPECT_EQ(kept.training["epoch"], 3);
  EXPECT_EQ(kept.training["train_clips"], 128);  // 4 classes x 8 clips x folds 1-4
  EXPECT_TRUE(kept.training["val_accuracy"].is_null());
  EXPECT_EQ(kept.training["test_accuracy"], result["test"]["accuracy"]);

  std::ifstream summary_file(dir.path("run/summary.json"));
  const nlohmann::json summary = nlohmann::json::parse(summary_file);
  EXPECT_TRUE(summary["val_accuracy"].is_null());
  EXPECT_EQ(summary["train_folds"], nlohmann::json({1, 2, 3, 4}));
  EXPECT_EQ(summary["epoch_selection"], "last epoch (no validation fold)");
  EXPECT_NE(render_report(dir.path("run")).find("no validation fold"), std::string::npos);
}

TEST(Training, FoldsThatOverlapAreRefusedBeforeTraining) {
  TrainConfig config;
  try {
    apply_train_table(config, {{"train_folds", {1, 2, 3, 4}}}, "recipe.toml [train]");
    FAIL() << "train_folds [1,2,3,4] with val_folds [4] was accepted";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    for (const char* part : {"recipe.toml [train]", "fold 4", "train_folds", "val_folds", "--refit"}) {
      EXPECT_NE(what.find(part), std::string::npos) << part << " not in: " << what;
    }
  }
  auto apply_to_defaults = [](const nlohmann::json& table) {
    TrainConfig fresh;
    apply_train_table(fresh, table, "r");
  };
  EXPECT_THROW(apply_to_defaults({{"val_folds", {5}}}), std::invalid_argument);
  EXPECT_THROW(apply_to_defaults({{"train_folds", nlohmann::json::array()}}), std::invalid_argument);
  EXPECT_NO_THROW(apply_to_defaults({{"train_folds", {2, 3, 4}}, {"val_folds", {1}}}));
  EXPECT_NO_THROW(apply_to_defaults({{"val_folds", nlohmann::json::array()}}));  // what --refit leaves

  FitOptions o = quick_options("/proc/escd-never-created", 1);
  o.config.test_folds = {3};
  try {
    fit(o, ClipDataset{});
    FAIL() << "a test fold that is also a training fold was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("fold 3 is in both train_folds and test_folds"), std::string::npos)
        << e.what();
  }
}

TEST(Training, UnwritableRunDirectoryIsAClearError) {
  ClipDataset empty;
  FitOptions o = quick_options("/proc/escd-cannot-write-here", 1);
  try {
    fit(o, empty);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/escd-cannot-write-here"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace escd::train
