// Exact 5-second windows: staggered recurrent sessions give, for every window, the model's output
// on exactly that window's frames, the same as recomputing the window; also with a MelConv time
// kernel, whose per-row time context must restart with each row (MelConvStream).
#include <gtest/gtest.h>

#include <ATen/Functions.h>

#include "model_fixtures.h"
#include "models/common/registry.h"
#include "streaming/staggered_windows.h"
#include "streaming/window_recompute.h"

namespace escd {
namespace {

double relative_error(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(1e-6, b.abs().max().item<double>());
}

// Model, hop in frames, MelConv time kernel.
class StreamingTest : public ::testing::TestWithParam<std::tuple<std::string, int, int>> {};

TEST_P(StreamingTest, StaggeredSessionsEqualRecomputingEachWindow) {
  const auto& [name, hop, time_kernel] = GetParam();
  at::manual_seed(11);
  nlohmann::json hyperparameters = test::tiny_hyperparameters(name);
  hyperparameters["mel_conv_time_kernel"] = time_kernel;
  auto model = create_model(name, hyperparameters);
  model->set_input_statistics(at::zeros({128}) - 5.0, at::ones({128}) * 3.0);
  model->eval();
  const int64_t window = 31, frames = 3 * window + 7;
  const at::Tensor input = at::randn({frames, 128}) * 3.0 - 5.0;
  StaggeredWindows staggered(*model, window, hop);
  WindowRecompute recompute(*model, window, hop);
  EXPECT_EQ(staggered.sessions(), (window + hop - 1) / hop);
  int full_windows = 0, warming = 0;
  for (int64_t f = 0; f < frames; ++f) {
    const float* frame = input[f].data_ptr<float>();
    const auto a = staggered.push(frame);
    const auto b = recompute.push(frame);
    ASSERT_EQ(a.has_value(), b.has_value()) << "frame " << f;
    if (!a) continue;
    EXPECT_EQ(a->end_frame, b->end_frame);
    EXPECT_EQ(a->frames, b->frames);
    EXPECT_EQ(a->warming_up, b->warming_up);
    EXPECT_LT(relative_error(a->logits, b->logits), 1e-4) << "window ending at frame " << a->end_frame;
    if (a->warming_up) {
      ++warming;
    } else {
      ++full_windows;
      // And both equal the parallel forward on exactly the window's frames.
      at::NoGradGuard no_grad;
      const at::Tensor exact = model->forward(input.slice(0, a->end_frame - window, a->end_frame).unsqueeze(0))[0];
      EXPECT_LT(relative_error(a->logits, exact), 1e-4);
    }
  }
  EXPECT_EQ(full_windows, 1 + (frames - window) / hop);
  EXPECT_EQ(warming, (window - 1) / hop);
}

INSTANTIATE_TEST_SUITE_P(ModelsAndHops, StreamingTest,
                         ::testing::Combine(::testing::ValuesIn(test::recurrent_models()), ::testing::Values(1, 8, 31, 40),
                                            ::testing::Values(1, 3)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_hop" + std::to_string(std::get<1>(info.param)) +
                                  "_time_kernel" + std::to_string(std::get<2>(info.param));
                         });

// Sessions run float loops over float snapshots of the weights: a float64 model is refused with a
// message naming the model, not stepped wrongly.
TEST(StreamingSessions, AFloat64RecurrentModelHasNoSessionAndSaysWhy) {
  for (const std::string name : {"mamba", "liquid_s4"}) {
    auto model = create_model(name, test::tiny_hyperparameters(name));
    model->to(at::kDouble);
    try {
      model->start_session(1);
      ADD_FAILURE() << name << ": a float64 model started a session";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), name + " session: the model must be float32");
    }
  }
}

}  // namespace
}  // namespace escd
