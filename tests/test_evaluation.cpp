// esc-train eval's averaging: ensembles average the members' probabilities (not their logits), and
// test-time shifts average the model over circularly rolled copies of each clip.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <random>

#include "evaluation.h"
#include "features/log_mel_tensor.h"
#include "model_fixtures.h"
#include "models/common/registry.h"

namespace escd::train {
namespace {

// A case where the mean of the probabilities and their geometric mean disagree: one member is sure of
// class 0, two lean to class 1. For members with the same classes the geometric mean, renormalised, is
// the softmax of the mean of their logits (each member's log-softmax differs from its logits by a constant).
TEST(Evaluation, EnsembleTakesTheGeometricMeanOfProbabilities) {
  EvalResult sure, leaning;
  sure.logits = at::tensor({4.f, 0.f, 0.f}).reshape({1, 3});
  leaning.logits = at::tensor({0.f, 1.5f, 0.f}).reshape({1, 3});
  sure.labels = leaning.labels = {0};
  const std::vector<std::string> abc{"a", "b", "c"};
  const EvalResult e = ensemble({sure, leaning, leaning}, {abc, abc, abc}, abc);
  EXPECT_EQ(e.predictions, std::vector<int64_t>{0});
  const at::Tensor mean_p = (at::softmax(sure.logits, 1) + 2 * at::softmax(leaning.logits, 1)) / 3;
  EXPECT_EQ(mean_p.argmax(1).item<int64_t>(), 1);  // what the mean of probabilities would say
  EXPECT_TRUE(at::allclose(e.logits, at::log_softmax((sure.logits + 2 * leaning.logits) / 3, 1), 1e-5, 1e-5));
  EXPECT_DOUBLE_EQ(e.accuracy, 1.0);

  EvalResult other = leaning;
  other.labels = {2};
  EXPECT_THROW(ensemble({sure, other}, {abc, abc}, abc), std::invalid_argument);
  EXPECT_THROW(ensemble({}, {}, abc), std::invalid_argument);
  EXPECT_THROW(ensemble({sure, leaning}, {abc, {"a", "b"}}, abc), std::invalid_argument) << "logits and classes differ";
}

// A member with a background output and one without (models/common/ensemble_mean.h): background and
// the sounds' total are the first member's alone, the classes the geometric mean of p(class | a sound).
TEST(Evaluation, EnsembleLetsMembersWithBackgroundJudgeIt) {
  EvalResult judge, plain;
  judge.logits = at::log(at::tensor({0.05f, 0.05f, 0.9f}).reshape({1, 3}));
  plain.logits = at::log(at::tensor({0.2f, 0.8f}).reshape({1, 2}));
  judge.labels = plain.labels = {0};
  const std::vector<std::string> with{"a", "b", "background"}, without{"a", "b"};
  const EvalResult e = ensemble({judge, plain}, {with, without}, with);
  const at::Tensor p = at::exp(e.logits);
  const float qa = std::sqrt(0.5f * 0.2f), qb = std::sqrt(0.5f * 0.8f), denominator = 0.9f + 0.1f * (qa + qb);
  EXPECT_NEAR(p[0][2].item<float>(), 0.9f / denominator, 1e-5);
  EXPECT_NEAR(p[0][0].item<float>(), 0.1f * qa / denominator, 1e-5);
  EXPECT_NEAR(p[0][1].item<float>(), 0.1f * qb / denominator, 1e-5);
}

TEST(Evaluation, TimeShiftsAverageTheModelOverRolledCopies) {
  ClipDataset data;
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.f, 0.1f);
  for (int c = 0; c < 3; ++c) {
    ClipInfo info;
    info.fold = 5;
    info.target = c;
    data.index.clips.push_back(info);
    std::vector<float> wave(data.clip_samples);
    // A burst in the first second, so that rolling the clip changes what a causal model sees.
    for (size_t i = 0; i < wave.size(); ++i) wave[i] = noise(rng) * (i < 16000 ? 5.f : 0.2f);
    data.waveforms.push_back(wave);
  }
  at::manual_seed(2);
  auto model = create_model("mamba", test::tiny_hyperparameters("mamba"));
  model->set_input_statistics(at::full({128}, -6.0), at::full({128}, 3.0));
  const std::vector<size_t> clips{0, 1, 2};

  const EvalResult plain = evaluate(*model, data, clips, 2, 1);
  const EvalResult shifted = evaluate(*model, data, clips, 2, 3);  // batches of 2: a partial last batch
  at::NoGradGuard no_grad;
  model->eval();
  for (size_t i = 0; i < clips.size(); ++i) {
    const at::Tensor x = log_mel_tensor(data.waveforms[i]).unsqueeze(0);
    const int64_t frames = x.size(1);
    at::Tensor p = at::zeros({1, model->n_classes()});
    for (int k = 0; k < 3; ++k) p += at::softmax(model->forward(at::roll(x, {k * frames / 3}, {1})), 1);
    const at::Tensor expected = at::log(p / 3)[0];
    EXPECT_TRUE(at::allclose(shifted.logits[i], expected, 1e-6, 2e-6)) << "clip " << i;
    EXPECT_TRUE(at::allclose(plain.logits[i], model->forward(x)[0], 1e-6, 2e-6)) << "clip " << i;
    EXPECT_GT((at::log_softmax(plain.logits[i], 0) - shifted.logits[i]).abs().max().item<double>(), 1e-4)
        << "the shifted copies gave the same answer: the test would not see them ignored";
  }
  EXPECT_THROW(evaluate(*model, data, clips, 2, 0), std::invalid_argument);
}

// esc-train eval --condition: seeded per clip, and through the whole front end a level-normalised
// model gives the same logits at any microphone gain, where a plain one does not.
TEST(Evaluation, ConditionsArePerClipSeededAndGainLeavesALevelNormalisedModelUnchanged) {
  ClipDataset data;
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0.f, 0.1f);
  for (int c = 0; c < 3; ++c) {
    data.index.clips.push_back(ClipInfo{});
    std::vector<float> wave(data.clip_samples);
    for (size_t i = 0; i < wave.size(); ++i) wave[i] = noise(rng) * (i / 16000 == static_cast<size_t>(c) ? 4.f : 0.3f);
    data.waveforms.push_back(wave);
  }
  const std::vector<size_t> clips{0, 1, 2};
  ClipDataset once = data, twice = data, other_seed = data;
  const RoomCondition reverb_and_noise = parse_room_condition("rt60=0.5,noise=pink@10");
  perturb_clips(once, clips, reverb_and_noise, 0);
  perturb_clips(twice, {2, 0, 1}, reverb_and_noise, 0);  // another order: the same room per clip
  perturb_clips(other_seed, clips, reverb_and_noise, 1);
  EXPECT_EQ(once.waveforms, twice.waveforms);
  EXPECT_NE(once.waveforms, other_seed.waveforms);
  EXPECT_NE(once.waveforms[0], data.waveforms[0]);

  ClipDataset quieter = data;
  perturb_clips(quieter, clips, parse_room_condition("gain=-30"), 0);
  for (const char* level_norm : {"window_max", "none"}) {
    SCOPED_TRACE(level_norm);
    at::manual_seed(2);
    nlohmann::json h = test::tiny_hyperparameters("mamba");
    h["level_norm"] = level_norm;
    auto model = create_model("mamba", h);
    model->set_input_statistics(at::full({128}, -6.0), at::full({128}, 3.0));
    const double difference =
        (evaluate(*model, data, clips).logits - evaluate(*model, quieter, clips).logits).abs().max().item<double>();
    if (std::string(level_norm) == "window_max") {
      EXPECT_LT(difference, 1e-3);
    } else {
      EXPECT_GT(difference, 1e-2) << "the plain model ignores gain: the test would not see a broken normalisation";
    }
  }
}

// eval warns when a fold it scores was one the checkpoint trained on (fit --refit trains on fold 4).
TEST(Evaluation, FoldsACheckpointTrainedOnAreNamed) {
  const nlohmann::json refit = {{"train_config", {{"train_folds", {1, 2, 3, 4}}}}};
  EXPECT_EQ(folds_trained_on(refit, {4, 5}), std::vector<int>{4});
  EXPECT_TRUE(folds_trained_on(refit, {5}).empty());
  EXPECT_EQ(trained_folds(refit), (std::vector<int>{1, 2, 3, 4}));
  // Metadata that does not say: nothing is claimed either way.
  EXPECT_FALSE(trained_folds(nlohmann::json::object()).has_value());
  EXPECT_FALSE(trained_folds({{"train_config", {{"train_folds", "1-4"}}}}).has_value());
  EXPECT_FALSE(trained_folds({{"train_config", {{"train_folds", {1, "x"}}}}}).has_value());
  EXPECT_TRUE(folds_trained_on({{"train_config", 3}}, {4}).empty());
}

}  // namespace
}  // namespace escd::train
