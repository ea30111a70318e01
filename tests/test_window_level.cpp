// Level normalisation (models/common/window_level.h): a microphone gain leaves a model's input, and so
// its output, unchanged; the streaming tracker gives the parallel forward's values frame by frame, so
// staggered sessions still equal the parallel forward on exactly each window.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <optional>

#include "model_fixtures.h"
#include "models/common/registry.h"
#include "models/common/window_level.h"
#include "streaming/staggered_windows.h"
#include "streaming/window_recompute.h"

namespace escd {
namespace {

constexpr int64_t kMels = 128;

double max_difference(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

// Log-mel-like frames: per-band offsets, a loudness contour over time.
at::Tensor log_mel_like(int64_t batch, int64_t frames, uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor contour = at::cumsum(at::randn({batch, frames, 1}) * 0.5, 1);
  return at::randn({batch, frames, kMels}) * 2.0 + at::linspace(2.0, -6.0, kMels) + contour;
}

TEST(WindowLevel, AGainIsRemovedExactly) {
  const at::Tensor x = log_mel_like(3, 50, 1);
  const at::Tensor relative = relative_to_window_max(x);
  for (double gain_db : {-40.0, -20.0, 10.0}) {
    const double shift = gain_db / 10.0 * std::log(10.0);  // a power gain in the log-mel's natural-log units
    EXPECT_LT(max_difference(relative_to_window_max(x + shift), relative), 1e-4) << gain_db << " dB";
  }
  // Without the normalisation the gain is all there is to see.
  EXPECT_GT(max_difference(x + 2.0, x), 1.9);
}

TEST(WindowLevel, IsCausalAndStartsAtTheFirstFramesLevel) {
  const at::Tensor x = log_mel_like(2, 40, 2);
  at::Tensor later = x.clone();
  later.narrow(1, 20, 20).add_(30.0);  // a loud sound after frame 20
  const at::Tensor a = relative_to_window_max(x), b = relative_to_window_max(later);
  EXPECT_LT(max_difference(a.narrow(1, 0, 20), b.narrow(1, 0, 20)), 1e-6) << "the past must not see the future";
  EXPECT_GT(max_difference(a.narrow(1, 20, 20), b.narrow(1, 20, 20)), 1.0);
  // The first frame is its own reference: its total power is 1 (log 0).
  EXPECT_NEAR(at::logsumexp(a.select(1, 0), {1}).abs().max().item<double>(), 0.0, 1e-4);
  // Nothing is ever above the running peak's level.
  EXPECT_LE(at::logsumexp(a, {2}).max().item<double>(), 1e-4);
}

TEST(WindowLevel, FloorsValuesFarBelowThePeak) {
  at::Tensor x = at::zeros({1, 3, kMels});
  x.select(1, 1).fill_(-100.0);  // a frame of near-digital silence after a loud one
  const at::Tensor relative = relative_to_window_max(x);
  const double floor = -kWindowLevelFloorDb / 10.0 * std::log(10.0);
  EXPECT_NEAR(relative.select(1, 1).min().item<double>(), floor, 1e-4);
  EXPECT_NEAR(relative.select(1, 1).max().item<double>(), floor, 1e-4);
}

TEST(WindowLevel, TrackerEqualsTheParallelFormWithRowResets) {
  const int64_t rows = 3, frames = 60;
  const at::Tensor x = log_mel_like(rows, frames, 3);
  const std::vector<int64_t> reset_at{0, 17, 41};
  WindowLevelTracker tracker(rows);
  at::Tensor streamed = at::empty({rows, frames, kMels});
  for (int64_t t = 0; t < frames; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      if (reset_at[r] == t) tracker.clear(r);
    }
    at::Tensor frame = x.select(1, t).contiguous().clone();
    tracker.apply(frame.data_ptr<float>(), rows, kMels);
    streamed.select(1, t).copy_(frame);
  }
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = frames - reset_at[r];
    const at::Tensor parallel = relative_to_window_max(x.narrow(0, r, 1).narrow(1, reset_at[r], n));
    EXPECT_LT(max_difference(streamed.narrow(0, r, 1).narrow(1, reset_at[r], n), parallel), 1e-4) << "row " << r;
  }
  EXPECT_THROW(tracker.apply(streamed.data_ptr<float>(), rows + 1, kMels), std::invalid_argument);
}

TEST(WindowLevel, UnknownSettingIsRefusedByName) {
  nlohmann::json h = test::tiny_hyperparameters("mamba");
  h["level_norm"] = "pcen";
  try {
    create_model("mamba", h);
    FAIL() << "expected a refusal";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("pcen"), std::string::npos) << e.what();
  }
  EXPECT_EQ(create_model("mamba", test::tiny_hyperparameters("mamba"))->level_norm(), LevelNorm::none);
}

// Every model with level_norm = "window_max": staggered or recomputed windows equal the parallel forward
// on exactly each window, and a gain changes no logit.
class WindowLevelModel : public ::testing::TestWithParam<std::string> {};

TEST_P(WindowLevelModel, StreamsExactlyAndIgnoresGain) {
  const std::string name = GetParam();
  at::manual_seed(5);
  nlohmann::json h = test::tiny_hyperparameters(name);
  h["level_norm"] = "window_max";
  auto model = create_model(name, h);
  ASSERT_EQ(model->level_norm(), LevelNorm::window_max);
  model->set_input_statistics(at::zeros({kMels}) - 8.0, at::ones({kMels}) * 3.0);
  model->eval();
  const int64_t window = 40, hop = 8, frames = 2 * window + 5;
  const at::Tensor input = log_mel_like(1, frames, 7)[0].contiguous();
  // The daemon's scheduler for this kind of model.
  std::optional<StaggeredWindows> staggered;
  std::optional<WindowRecompute> recompute;
  if (model->streams_recurrently()) {
    staggered.emplace(*model, window, hop);
  } else {
    recompute.emplace(*model, window, hop);
  }
  int checked = 0;
  for (int64_t f = 0; f < frames; ++f) {
    const float* frame = input[f].data_ptr<float>();
    const auto result = staggered ? staggered->push(frame) : recompute->push(frame);
    if (!result || result->warming_up) continue;
    c10::InferenceMode inference;
    const at::Tensor exact = model->forward(input.slice(0, result->end_frame - window, result->end_frame).unsqueeze(0))[0];
    EXPECT_LT(max_difference(result->logits, exact), 1e-4) << "window ending at frame " << result->end_frame;
    ++checked;
  }
  EXPECT_EQ(checked, 1 + (frames - window) / hop);
  c10::InferenceMode inference;
  const at::Tensor clip = input.unsqueeze(0);
  EXPECT_LT(max_difference(model->forward(clip - 6.9), model->forward(clip)), 1e-4) << "30 dB quieter";
}

INSTANTIATE_TEST_SUITE_P(Models, WindowLevelModel, ::testing::Values("mamba", "liquid_s4", "vjepa2"));

}  // namespace
}  // namespace escd
