// Knowledge distillation: the loss against the teachers' probabilities, the teachers as one
// ensemble, and the checks that keep a teacher from handing the student held-out labels.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>

#include "distillation.h"
#include "losses.h"
#include "model_fixtures.h"
#include "models/common/checkpoint.h"
#include "models/common/registry.h"
#include "test_support.h"

namespace escd::train {
namespace {

const std::vector<std::string> kClasses = {"dog", "rain", "siren"};

// Saves a tiny model as esc-train would, trained on `train_folds`; returns its path.
std::string save_teacher(const test::TempDir& dir, const std::string& name, const std::string& architecture,
                         const std::vector<int>& train_folds, const std::vector<std::string>& classes = kClasses) {
  auto model = create_model(architecture, test::tiny_hyperparameters(architecture), 128,
                            static_cast<int64_t>(classes.size()));
  const std::string path = dir.path(name);
  save_checkpoint(path, *model, FrontEndConfig{}, classes, {{"train_config", {{"train_folds", train_folds}}}});
  return path;
}

TEST(Distillation, LossIsTheCrossEntropyToTheTeachersTimesTemperatureSquared) {
  const at::Tensor student = at::tensor({2.f, 0.f, -1.f, 0.5f, 0.5f, 1.f}).reshape({2, 3});
  const at::Tensor teacher = at::tensor({0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f}).reshape({2, 3});
  for (double t : {1.0, 2.0, 4.0}) {
    const at::Tensor log_p = at::log_softmax(student / t, 1);
    double expected = 0.0;
    for (int b = 0; b < 2; ++b) {
      for (int c = 0; c < 3; ++c) expected -= teacher[b][c].item<double>() * log_p[b][c].item<double>();
    }
    expected = expected / 2 * t * t;
    EXPECT_NEAR(distillation_loss(student, teacher, t).item<double>(), expected, 1e-5) << "temperature " << t;
  }
}

TEST(Distillation, GradientVanishesOnlyWhenTheStudentAgreesWithTheTeachers) {
  const at::Tensor teacher = at::softmax(at::tensor({1.f, -2.f, 0.3f}).reshape({1, 3}) / 2.0, 1);
  at::Tensor agreeing = at::tensor({1.f, -2.f, 0.3f}).reshape({1, 3}).set_requires_grad(true);
  distillation_loss(agreeing, teacher, 2.0).backward();
  EXPECT_LT(agreeing.grad().abs().max().item<float>(), 1e-6);

  at::Tensor other = at::tensor({-1.f, 2.f, 0.3f}).reshape({1, 3}).set_requires_grad(true);
  distillation_loss(other, teacher, 2.0).backward();
  EXPECT_GT(other.grad().abs().max().item<float>(), 0.1);
  EXPECT_LT(other.grad()[0][0].item<float>(), 0.f);  // pushed toward the teacher's class 0
}

TEST(Distillation, TeachersGiveTheMeanOfTheirSoftmaxAtTheTemperature) {
  test::TempDir dir;
  const std::string a = save_teacher(dir, "a.ckpt", "mamba", {1, 2, 3});
  const std::string b = save_teacher(dir, "b.ckpt", "liquid_s4", {1, 2, 3});
  const Teachers teachers({a, b}, kClasses, {4, 5});
  ASSERT_EQ(teachers.size(), 2u);

  const at::Tensor features = at::randn({2, 20, 128});
  at::NoGradGuard no_grad;
  const Checkpoint ca = load_checkpoint(a), cb = load_checkpoint(b);
  ca.model->eval();
  cb.model->eval();
  const double t = 3.0;
  const at::Tensor expected =
      (at::softmax(ca.model->forward(features) / t, 1) + at::softmax(cb.model->forward(features) / t, 1)) / 2;
  const at::Tensor got = teachers.probabilities(features, t);
  EXPECT_TRUE(at::allclose(got, expected, 1e-6, 1e-6));
  EXPECT_TRUE(at::allclose(got.sum(1), at::ones({2}), 1e-5, 1e-6));
  EXPECT_FALSE(at::allclose(got, teachers.probabilities(features, 1.0), 1e-4, 1e-4));  // the temperature is used
}

TEST(Distillation, ATeacherTrainedOnAHeldOutFoldIsRefused) {
  test::TempDir dir;
  const std::string leaky = save_teacher(dir, "leaky.ckpt", "mamba", {2, 3, 4});
  try {
    Teachers({leaky}, kClasses, {4, 5});
    FAIL() << "a teacher trained on the validation fold was accepted";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(leaky), std::string::npos) << what;
    EXPECT_NE(what.find("fold 4"), std::string::npos) << what;
  }
  EXPECT_NO_THROW(Teachers({leaky}, kClasses, {1, 5}));  // e.g. the cross-validation fold that holds out 1 and 5
}

TEST(Distillation, ATeacherWithOtherClassesOrNoTrainingFoldsIsRefused) {
  test::TempDir dir;
  const std::string other = save_teacher(dir, "other.ckpt", "mamba", {1, 2, 3}, {"dog", "siren", "rain"});
  EXPECT_THROW(Teachers({other}, kClasses, {4, 5}), std::invalid_argument);

  auto model = create_model("mamba", test::tiny_hyperparameters("mamba"), 128, 3);
  const std::string bare = dir.path("bare.ckpt");
  save_checkpoint(bare, *model, FrontEndConfig{}, kClasses);
  try {
    Teachers({bare}, kClasses, {4, 5});
    FAIL() << "a teacher that does not say what it was trained on was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("train_folds"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Teachers({dir.path("missing.ckpt")}, kClasses, {4, 5}), std::invalid_argument);
}

TEST(Distillation, SettingsMustAgree) {
  TrainConfig c;
  EXPECT_NO_THROW(check_distillation_settings(c));  // no teachers: the weight is unused
  c.teachers = {"a.ckpt"};
  EXPECT_NO_THROW(check_distillation_settings(c));
  c.distill_weight = 0.0;
  EXPECT_THROW(check_distillation_settings(c), std::invalid_argument);
  c.distill_weight = 1.5;
  EXPECT_THROW(check_distillation_settings(c), std::invalid_argument);
  c.distill_weight = 0.5;
  c.distill_temperature = 0.0;
  EXPECT_THROW(check_distillation_settings(c), std::invalid_argument);
}

TEST(Distillation, RecipeKeysAreReadAndChecked) {
  TrainConfig c;
  apply_train_table(c, {{"teachers", {"a.pt", "b.pt"}}, {"distill_weight", 0.6}, {"distill_temperature", 2}}, "r.toml");
  EXPECT_EQ(c.teachers, (std::vector<std::string>{"a.pt", "b.pt"}));
  EXPECT_DOUBLE_EQ(c.distill_weight, 0.6);
  EXPECT_DOUBLE_EQ(c.distill_temperature, 2.0);
  EXPECT_EQ(c.to_json()["teachers"], nlohmann::json({"a.pt", "b.pt"}));
  try {
    apply_train_table(c, {{"teachers", "a.pt"}}, "r.toml [train]");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'teachers'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace escd::train
