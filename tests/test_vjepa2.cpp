// V-JEPA2: tubelet cutting and token order, positions, the pooler, session parity with the
// parallel forward (with cached patch embeddings), checkpoint round trip, and a tiny JEPA
// pretraining run whose loss falls.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <set>

#include "data/clip_dataset.h"
#include "model_fixtures.h"
#include "models/common/checkpoint.h"
#include "models/common/registry.h"
#include "models/vjepa2/transformer.h"
#include "models/vjepa2/sliding_windows.h"
#include "models/vjepa2/tubelets.h"
#include "models/vjepa2/vjepa2.h"
#include "pretrainer.h"
#include "streaming/window_recompute.h"
#include "test_support.h"

namespace escd {
namespace {

double max_difference(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

std::shared_ptr<SequenceClassifier> tiny_vjepa2(uint64_t seed = 5, int64_t mel_conv_time_kernel = 1) {
  at::manual_seed(seed);
  nlohmann::json hyperparameters = test::tiny_hyperparameters("vjepa2");
  hyperparameters["mel_conv_time_kernel"] = mel_conv_time_kernel;
  auto model = create_model("vjepa2", hyperparameters);
  model->set_input_statistics(at::zeros({128}) - 5.0, at::ones({128}) * 3.0);
  model->eval();
  return model;
}

TEST(Vjepa2Tubelets, LatestWholeTubeletsInTimeMajorTokenOrder) {
  // frame f, band b holds f * 1000 + b
  const at::Tensor frames = (at::arange(20).unsqueeze(1) * 1000 + at::arange(128).unsqueeze(0)).to(at::kFloat).unsqueeze(0);
  const at::Tensor tokens = vjepa2::cut_tubelets(frames, 8, 16, 19);
  ASSERT_EQ(tokens.sizes(), (std::vector<int64_t>{1, 2 * 8, 8 * 16}));
  // 20 frames hold 2 whole tubelets: the latest 16 frames (4..19); the oldest 4 are dropped.
  for (int64_t t : {0, 1}) {
    for (int64_t m : {0, 3, 7}) {
      for (int64_t f : {0, 5, 7}) {
        for (int64_t b : {0, 9, 15}) {
          const float expected = static_cast<float>((4 + t * 8 + f) * 1000 + m * 16 + b);
          EXPECT_EQ(tokens[0][t * 8 + m][f * 16 + b].item<float>(), expected) << t << " " << m << " " << f << " " << b;
        }
      }
    }
  }
  // At most max_tubelets are kept, and fewer frames than one tubelet is an error.
  EXPECT_EQ(vjepa2::cut_tubelets(at::zeros({1, 200, 128}), 8, 16, 19).size(1), 19 * 8);
  EXPECT_THROW(vjepa2::cut_tubelets(at::zeros({1, 7, 128}), 8, 16, 19), std::invalid_argument);
}

TEST(Vjepa2Positions, SinCosOfTubeletThenMelIndex) {
  const at::Tensor table = vjepa2::sincos_positions({3, 2}, 8);
  ASSERT_EQ(table.sizes(), (std::vector<int64_t>{6, 8}));
  // Token 5 is tubelet 2, mel patch 1; each half of 4 channels is [sin p w0, sin p w1, cos p w0, cos p w1]
  // with w = 1, 10000^(-1/2).
  const double w[2] = {1.0, 0.01};
  for (int i = 0; i < 2; ++i) {
    EXPECT_NEAR(table[5][i].item<float>(), std::sin(2 * w[i]), 1e-6);
    EXPECT_NEAR(table[5][2 + i].item<float>(), std::cos(2 * w[i]), 1e-6);
    EXPECT_NEAR(table[5][4 + i].item<float>(), std::sin(1 * w[i]), 1e-6);
    EXPECT_NEAR(table[5][6 + i].item<float>(), std::cos(1 * w[i]), 1e-6);
  }
  // Every token gets its own code.
  for (int a = 0; a < 6; ++a) {
    for (int b = a + 1; b < 6; ++b) EXPECT_GT(max_difference(table[a], table[b]), 1e-3) << a << " " << b;
  }
}

// A training window shorter than the position table (a random training crop) starts at a random
// tubelet of it, every start reachable, and the logits use that start; evaluation and whole
// training windows start at the first and draw nothing from the generator.
TEST(Vjepa2Positions, ShortTrainingWindowsStartAtRandomTubelets) {
  nlohmann::json hyperparameters = test::tiny_hyperparameters("vjepa2");
  hyperparameters["drop_path"] = 0.0;  // training and evaluation then differ only by the start
  at::manual_seed(5);
  auto model = create_model("vjepa2", hyperparameters);
  auto& vjepa2 = dynamic_cast<vjepa2::Vjepa2Classifier&>(*model);
  const int64_t max_tubelets = vjepa2.options().max_tubelets, tubelets = 3;
  ASSERT_GT(max_tubelets, tubelets);
  const at::Tensor frames = at::randn({2, tubelets * vjepa2.options().tubelet_frames, 128});
  // Rows of the table from a start: whole tubelets of mel_patches rows each; none past its end.
  const int64_t mel_patches = vjepa2.encoder->mel_patches();
  EXPECT_TRUE(at::equal(vjepa2.encoder->positions(tubelets, 2),
                        vjepa2.encoder->positions(max_tubelets).slice(0, 2 * mel_patches, (2 + tubelets) * mel_patches)));
  EXPECT_THROW(vjepa2.encoder->positions(tubelets, max_tubelets - tubelets + 1), std::invalid_argument);
  model->eval();
  at::manual_seed(3);
  const at::Tensor untouched = at::rand({4});
  at::manual_seed(3);
  EXPECT_EQ(vjepa2.window_start(tubelets), 0);
  EXPECT_TRUE(at::equal(at::rand({4}), untouched)) << "evaluation drew from the generator";
  at::Tensor eval_logits;
  {
    at::NoGradGuard no_grad;
    eval_logits = model->forward(frames);
  }
  model->train();
  std::set<int64_t> starts, compared;  // compared: a start of 0 and one other, through the forward
  for (uint64_t seed = 0; seed < 200; ++seed) {
    at::manual_seed(seed);
    const int64_t start = vjepa2.window_start(tubelets);
    ASSERT_GE(start, 0);
    ASSERT_LE(start, max_tubelets - tubelets);
    starts.insert(start);
    if (compared.insert(start == 0 ? 0 : 1).second) {
      at::manual_seed(seed);
      at::NoGradGuard no_grad;
      const bool same = at::allclose(model->forward(frames), eval_logits, 1e-5, 1e-6);
      EXPECT_EQ(same, start == 0) << "seed " << seed << " start " << start;
    }
  }
  EXPECT_EQ(compared.size(), 2u);
  EXPECT_EQ(static_cast<int64_t>(starts.size()), max_tubelets - tubelets + 1);
  at::manual_seed(2);
  const at::Tensor expected = at::rand({4});
  at::manual_seed(2);
  EXPECT_EQ(vjepa2.window_start(max_tubelets), 0);
  EXPECT_TRUE(at::equal(at::rand({4}), expected)) << "a whole window drew from the generator";
}

TEST(Vjepa2Pooler, OneVectorPerQueryAndModelGivesLogits) {
  at::manual_seed(1);
  vjepa2::CrossAttentionBlock pooler(16, 4, 2);
  EXPECT_EQ(pooler->forward(at::randn({2, 1, 16}), at::randn({2, 10, 16})).sizes(), (std::vector<int64_t>{2, 1, 16}));
  auto model = tiny_vjepa2();
  at::NoGradGuard no_grad;
  EXPECT_EQ(model->forward(at::randn({3, 155, 128})).sizes(), (std::vector<int64_t>{3, 50}));
  EXPECT_FALSE(model->streams_recurrently());
}

// Also with a MelConv time kernel, whose time context restarts when a row is reset.
class Vjepa2Session : public ::testing::TestWithParam<int64_t> {};

TEST_P(Vjepa2Session, LogitsEqualTheParallelForwardOnTheFramesSeen) {
  auto model = tiny_vjepa2(5, GetParam());
  const at::Tensor input = at::randn({200, 128}) * 3.0 - 5.0;
  auto session = model->start_session(2);
  at::NoGradGuard no_grad;
  for (int64_t f = 0; f < 200; ++f) {
    at::Tensor frames = at::stack({input[f], input[f] * 0.5});
    session->step(frames);
    const int64_t seen = f + 1;
    if (seen < 8) {
      EXPECT_EQ(session->logits().abs().max().item<float>(), 0.0f);
      continue;
    }
    if (seen % 16 != 0 && seen % 37 != 0) continue;  // hops that re-use cached tubelets, and others
    const at::Tensor logits = session->logits();
    const at::Tensor expected = model->forward(input.slice(0, 0, seen).unsqueeze(0))[0];
    EXPECT_LT(max_difference(logits[0], expected), 1e-4) << "after " << seen << " frames";
    const at::Tensor expected_half = model->forward((input.slice(0, 0, seen) * 0.5).unsqueeze(0))[0];
    EXPECT_LT(max_difference(logits[1], expected_half), 1e-4) << "row 1 after " << seen << " frames";
  }
  session->reset_row(1);
  EXPECT_EQ(session->frames_seen(1), 0);
  EXPECT_EQ(session->frames_seen(0), 200);
  for (int64_t f = 0; f < 24; ++f) session->step(at::stack({input[f], input[100 + f]}));
  const at::Tensor expected_after_reset = model->forward(input.slice(0, 100, 124).unsqueeze(0))[0];
  EXPECT_LT(max_difference(session->logits()[1], expected_after_reset), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(MelConvTimeKernel, Vjepa2Session, ::testing::Values(1, 3));

// On continuous audio: with a MelConv time kernel, a window's first frames must see zeros before the
// window, as the forward on the window alone does, not the frames of the audio before it.
class Vjepa2Windows : public ::testing::TestWithParam<int64_t> {};

TEST_P(Vjepa2Windows, WindowRecomputeEqualsTheForwardOnEachWindow) {
  auto model = tiny_vjepa2(5, GetParam());
  const at::Tensor input = at::randn({300, 128}) * 3.0 - 5.0;
  WindowRecompute windows(*model, 155, 16);
  int full = 0;
  for (int64_t f = 0; f < 300; ++f) {
    const auto result = windows.push(input[f].data_ptr<float>());
    if (!result || result->warming_up) continue;
    at::NoGradGuard no_grad;
    const at::Tensor expected = model->forward(input.slice(0, result->end_frame - 155, result->end_frame).unsqueeze(0))[0];
    EXPECT_LT(max_difference(result->logits, expected), 1e-6) << "window ending at " << result->end_frame;
    ++full;
  }
  EXPECT_EQ(full, 1 + (300 - 155) / 16);
}

INSTANTIATE_TEST_SUITE_P(MelConvTimeKernel, Vjepa2Windows, ::testing::Values(1, 3));

// Consecutive windows share most frames. At a rising level each frame is its own reference in every
// window that holds it, so a window keeps its predecessor's features but for the hop's new frames and
// the frames whose time context reaches back before the window; at a falling level each window's
// reference is its first frame, so every frame is computed again. Each window is the forward on it.
TEST(Vjepa2SlidingWindows, RecomputesOnlyFramesWhoseContextChanged) {
  at::manual_seed(9);
  nlohmann::json hyperparameters = test::tiny_hyperparameters("vjepa2");
  hyperparameters["mel_conv_time_kernel"] = 3;
  hyperparameters["level_norm"] = "window_max";
  auto model = create_model("vjepa2", hyperparameters);
  model->set_input_statistics(at::zeros({128}) - 5.0, at::ones({128}) * 3.0);
  model->eval();
  const int64_t window = 155, hop = 16, frames = 155 + 4 * hop, context = 6;
  const int64_t first_token_frame = window - 152;  // 19 tubelets of 8 frames
  const at::Tensor shapes = at::randn({frames, 128}) * 2.0;
  const at::Tensor level_zero = shapes - at::logsumexp(shapes, {1}, true);
  const at::Tensor ramp = 0.05 * at::arange(frames).to(at::kFloat).unsqueeze(1);
  for (const bool level_falls : {false, true}) {
    SCOPED_TRACE(level_falls ? "falling level" : "rising level");
    const at::Tensor input = level_falls ? level_zero - ramp : level_zero + ramp;
    auto windows = model->start_sliding_windows();
    auto* sliding = dynamic_cast<vjepa2::Vjepa2SlidingWindows*>(windows.get());
    ASSERT_NE(sliding, nullptr);
    for (int64_t first = 0; first + window <= frames; first += hop) {
      const at::Tensor frames_of_window = input.slice(0, first, first + window).unsqueeze(0);
      const at::Tensor logits = windows->logits(frames_of_window, first);
      c10::InferenceMode inference;
      EXPECT_LT(max_difference(logits, model->forward(frames_of_window)[0]), 1e-5) << "window from " << first;
      const int64_t expected = first == 0 || level_falls ? 152 : hop + context - first_token_frame;
      EXPECT_EQ(sliding->last_computed_frames(), expected) << "window from " << first;
    }
  }
}

TEST(Vjepa2Checkpoint, RoundTripGivesTheSameLogits) {
  auto model = tiny_vjepa2();
  test::TempDir dir;
  const std::string path = dir.path("v.ckpt");
  std::vector<std::string> classes(50, "c");
  save_checkpoint(path, *model, FrontEndConfig{}, classes);
  const Checkpoint loaded = load_checkpoint(path, "vjepa2");
  loaded.model->eval();
  const at::Tensor x = at::randn({2, 155, 128}) * 3.0 - 5.0;
  at::NoGradGuard no_grad;
  EXPECT_LT(max_difference(loaded.model->forward(x), model->forward(x)), 1e-6);
  EXPECT_THROW(load_checkpoint(path, "mamba"), CheckpointError);
}

// Clips with structure to learn: a few tones whose pitch and timing vary per clip, plus noise.
ClipDataset synthetic_dataset(int clips) {
  ClipDataset data;
  data.clip_samples = 16000;
  data.index.class_names.assign(50, "x");
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> freq(200.0f, 4000.0f), u(0.0f, 1.0f);
  for (int c = 0; c < clips; ++c) {
    ClipInfo info;
    info.filename = "synthetic" + std::to_string(c);
    info.fold = 1;
    data.index.clips.push_back(info);
    std::vector<float> w(data.clip_samples);
    const float f0 = freq(rng), f1 = freq(rng), on = u(rng);
    for (size_t i = 0; i < w.size(); ++i) {
      const float t = static_cast<float>(i) / 16000.0f;
      w[i] = 0.3f * std::sin(6.2831853f * f0 * t) + (t > on * 0.5f ? 0.2f * std::sin(6.2831853f * f1 * t) : 0.0f) +
             0.01f * (u(rng) - 0.5f);
    }
    data.waveforms.push_back(std::move(w));
  }
  return data;
}

TEST(Vjepa2Pretrain, TinyRunLowersTheJepaLoss) {
  const ClipDataset data = synthetic_dataset(32);
  test::TempDir dir;
  train::PretrainOptions o;
  o.hyperparameters = test::tiny_hyperparameters("vjepa2");
  o.hyperparameters["max_tubelets"] = 3;  // 1 s clips: 31 frames, 3 tubelets
  o.config.epochs = 6;
  o.config.batch_size = 8;
  o.config.lr = 3e-3;
  o.config.warmup_epochs = 1;
  o.config.threads = 1;
  o.run_dir = dir.str();
  std::vector<size_t> clips(32);
  std::iota(clips.begin(), clips.end(), 0);
  const double final_loss = train::pretrain(o, data, clips);
  std::ifstream metrics(dir.path("metrics.jsonl"));
  std::string first_line;
  ASSERT_TRUE(std::getline(metrics, first_line));
  const double first_loss = nlohmann::json::parse(first_line).at("pretrain_loss").get<double>();
  EXPECT_LT(final_loss, 0.8 * first_loss) << "first epoch " << first_loss << ", last " << final_loss;
  // The exported checkpoint is a loadable vjepa2 classifier, and its MelConv is the one the encoder
  // was pretrained on: pretraining leaves it as initialised from the seed, so fit --init must not
  // start from a different random front end.
  const Checkpoint exported = load_checkpoint(dir.path("pretrain.ckpt"), "vjepa2");
  EXPECT_TRUE(exported.training.value("pretrain", false));
  at::manual_seed(o.config.seed);
  const auto as_initialised = create_model("vjepa2", o.hyperparameters);
  const auto initial = as_initialised->named_parameters();
  int compared = 0;
  for (const auto& p : exported.model->named_parameters()) {
    if (p.key().rfind("mel_conv.", 0) != 0) continue;
    ++compared;
    EXPECT_TRUE(at::equal(p.value(), initial[p.key()])) << p.key() << " is not the MelConv pretraining used";
  }
  EXPECT_GT(compared, 0) << "the tiny model has no MelConv: the check would pass vacuously";
}

}  // namespace
}  // namespace escd
