// The MelConv front end: its shapes, that it treats every frame on its own (which is what lets the
// streaming sessions apply it frame by frame), and that checkpoints written before it load unchanged.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/normalization.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "model_fixtures.h"
#include "models/common/checkpoint.h"
#include "models/common/mel_conv.h"
#include "models/common/mel_conv_stream.h"
#include "models/common/registry.h"
#include "test_support.h"

namespace escd {
namespace {

TEST(MelConv, OutputBandsFollowTheThreeStrides) {
  EXPECT_EQ(MelConvImpl::output_bands(128), 16);
  EXPECT_EQ(MelConvImpl::output_bands(64), 8);
  EXPECT_EQ(MelConvImpl::output_bands(100), 13);  // 100 -> 50 -> 25 -> 13
  EXPECT_EQ(MelConvImpl::output_bands(1), 1);
  MelConv conv(128, 4);
  EXPECT_EQ(conv->out_features(), 8 * 16);
  const at::Tensor y = conv->forward(at::randn({3, 7, 128}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 7, 128}));
  EXPECT_EQ(conv->forward(at::randn({5, 128})).sizes(), (std::vector<int64_t>{5, 128}));
}

TEST(MelConv, ParameterCountMatchesTheModule) {
  for (const int64_t channels : {1, 4, 16}) {
    MelConv conv(128, channels);
    int64_t n = 0;
    for (const auto& p : conv->parameters()) n += p.numel();
    EXPECT_EQ(n, MelConvImpl::parameter_count(channels)) << channels;
  }
}

TEST(MelConv, RejectsNoChannels) {
  EXPECT_THROW(MelConv(128, 0), std::invalid_argument);
  EXPECT_THROW(create_model("mamba", {{"mel_conv_channels", -1}}), std::invalid_argument);
  EXPECT_THROW(create_model("liquid_s4", {{"mel_conv_channels", -1}}), std::invalid_argument);
}

// Each frame's output depends on that frame alone: changing frame 3 changes row 3 only, and a frame
// run on its own gives the same output as inside a sequence.
TEST(MelConv, FramesAreIndependent) {
  at::manual_seed(3);
  MelConv conv(128, 4);
  at::NoGradGuard no_grad;
  const at::Tensor x = at::randn({2, 6, 128});
  const at::Tensor y = conv->forward(x);
  at::Tensor x2 = x.clone();
  x2[1][3] += at::randn({128});
  const at::Tensor y2 = conv->forward(x2);
  const at::Tensor changed = (y2 - y).abs().amax(-1) > 0;
  EXPECT_EQ(changed.sum().item<int64_t>(), 1);
  EXPECT_TRUE(changed[1][3].item<bool>());
  EXPECT_TRUE(at::allclose(conv->forward(x[0][2]), y[0][2], 1e-6, 1e-6));
}

// The layers by hand with ATen's functional ops: conv1d (stride 2, padding k/2), GroupNorm(1), GELU.
TEST(MelConv, MatchesConvGroupNormGeluByHand) {
  at::manual_seed(5);
  MelConv conv(64, 3);
  at::NoGradGuard no_grad;
  const at::Tensor x = at::randn({4, 64});
  at::Tensor h = x.unsqueeze(1);
  const auto params = conv->named_parameters();
  for (int i = 0; i < 3; ++i) {
    const std::string l = std::to_string(i);
    const at::Tensor w = params["conv" + l + ".weight"];
    h = at::conv1d(h, w, params["conv" + l + ".bias"], {2}, {w.size(2) / 2});
    h = at::group_norm(h, 1, params["norm" + l + ".weight"], params["norm" + l + ".bias"], 1e-5);
    h = at::gelu(h);
  }
  EXPECT_TRUE(at::allclose(conv->forward(x), h.reshape({4, -1}), 1e-5, 1e-6));
}

// With a time kernel k, frame t's features see frames t - 3(k - 1) .. t and nothing later: changing
// one frame changes that frame and the next 3(k - 1) only, in that sequence only.
TEST(MelConv, TimeKernelIsCausalWithThreeLayersOfContext) {
  at::manual_seed(7);
  MelConv conv(128, 4, 3);
  at::NoGradGuard no_grad;
  const at::Tensor x = at::randn({2, 20, 128});
  const at::Tensor y = conv->forward(x);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 20, conv->out_features()}));
  at::Tensor x2 = x.clone();
  x2[1][5] += at::randn({128});
  const at::Tensor changed = ((conv->forward(x2) - y).abs().amax(-1) > 0).to(at::kLong);
  at::Tensor expected = at::zeros({2, 20}, at::kLong);
  expected[1].slice(0, 5, 5 + 1 + 3 * 2).fill_(1);
  EXPECT_TRUE(at::equal(changed, expected)) << changed;
  // [T, n_mels] is one sequence.
  EXPECT_TRUE(at::allclose(conv->forward(x[0]), y[0], 1e-5, 1e-6));
  int64_t n = 0;
  for (const auto& p : conv->parameters()) n += p.numel();
  EXPECT_EQ(n, MelConvImpl::parameter_count(4, 3));
  EXPECT_THROW(MelConv(128, 4, 0), std::invalid_argument);
  EXPECT_THROW(create_model("mamba", {{"mel_conv_time_kernel", 0}}), std::invalid_argument);
  EXPECT_THROW(create_model("liquid_s4", {{"mel_conv_time_kernel", 10}}), std::invalid_argument);
  EXPECT_THROW(create_model("vjepa2", {{"mel_conv_time_kernel", -1}}), std::invalid_argument);
}

// The causal layers by hand: each layer's input padded with k - 1 zero frames in front, then
// conv2d (stride (1, 2), mel padding k/2), GroupNorm(1) over each frame's channels and bands, GELU.
TEST(MelConv, TimeKernelMatchesCausalConv2dByHand) {
  at::manual_seed(9);
  MelConv conv(64, 3, 2);
  at::NoGradGuard no_grad;
  const at::Tensor x = at::randn({2, 9, 64});
  at::Tensor h = x.unsqueeze(1);  // [B, 1, T, M]
  const auto params = conv->named_parameters();
  for (int i = 0; i < 3; ++i) {
    const std::string l = std::to_string(i);
    const at::Tensor w = params["conv" + l + ".weight"];
    ASSERT_EQ(w.dim(), 4);
    const std::vector<int64_t> stride{1, 2}, padding{0, w.size(3) / 2};
    h = at::conv2d(at::constant_pad_nd(h, {0, 0, 1, 0}), w, params["conv" + l + ".bias"], stride, padding);
    std::vector<at::Tensor> frames;
    for (int64_t t = 0; t < h.size(2); ++t) {
      frames.push_back(at::gelu(at::group_norm(h.select(2, t), 1, params["norm" + l + ".weight"],
                                               params["norm" + l + ".bias"], 1e-5)));
    }
    h = at::stack(frames, 2);
  }
  EXPECT_TRUE(at::allclose(conv->forward(x), h.transpose(1, 2).reshape({2, 9, -1}), 1e-5, 1e-6));
}

// A stream of rows, each reset at its own frame, gives every row the parallel forward over the frames
// since its reset; with one frame shared by every row (escd's staggered windows) too.
TEST(MelConv, StreamEqualsTheParallelForwardSinceEachReset) {
  at::manual_seed(13);
  MelConv conv(128, 4, 3);
  conv->eval();
  at::NoGradGuard no_grad;
  const int64_t rows = 4, T = 40;
  for (const bool shared : {false, true}) {
    SCOPED_TRACE(shared ? "one frame for every row" : "a frame per row");
    const at::Tensor x = shared ? at::randn({1, T, 128}).expand({rows, T, 128}).contiguous() : at::randn({rows, T, 128});
    MelConvStream stream(conv, rows);
    const std::vector<int64_t> reset_at{0, 3, 9, 17};  // rows 2 and 3 reset while others are past their context
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        if (t == reset_at[r]) stream.clear(r);
      }
      const at::Tensor step = stream.step(shared ? x[0][t].unsqueeze(0) : x.select(1, t), rows);
      for (int64_t r = 0; r < rows; ++r) {
        if (t < reset_at[r]) continue;
        const at::Tensor expected = conv->forward(x[r].slice(0, reset_at[r], t + 1))[-1];
        ASSERT_TRUE(at::allclose(step[r], expected, 1e-4, 1e-5)) << "row " << r << " frame " << t;
      }
    }
  }
}

// Rows that received the same frames over their whole time context are computed once: the second
// of two identical rows copies the first from the start, a row reset later joins them once its
// context holds only shared frames (before its reset it was one of them), and a row with frames of its own never does. Every row still
// gets the parallel forward over its frames since its reset.
TEST(MelConv, StreamComputesRowsWithOneContextOnce) {
  at::manual_seed(17);
  MelConv conv(128, 4, 3);
  conv->eval();
  at::NoGradGuard no_grad;
  const int64_t rows = 4, T = 24, context = 6;  // three layers, each two frames back
  const at::Tensor common = at::randn({T, 128}), own = at::randn({T, 128});
  const at::Tensor x = at::stack({common, common, common, own}, 0);  // [rows, T, 128]
  const std::vector<int64_t> reset_at{0, 0, 3, 0};
  MelConvStream stream(conv, rows);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      if (t == reset_at[r]) stream.clear(r);
    }
    const at::Tensor step = stream.step(x.select(1, t), rows);
    const std::vector<int64_t>& sources = stream.last_step_sources();
    EXPECT_EQ(sources[0], 0);
    EXPECT_EQ(sources[1], 0) << "frame " << t;
    EXPECT_EQ(sources[2], t < reset_at[2] || t >= reset_at[2] + context ? 0 : 2) << "frame " << t;
    EXPECT_EQ(sources[3], 3) << "frame " << t;
    for (int64_t r = 0; r < rows; ++r) {
      if (t < reset_at[r]) continue;
      const at::Tensor expected = conv->forward(x[r].slice(0, reset_at[r], t + 1))[-1];
      ASSERT_TRUE(at::allclose(step[r], expected, 1e-4, 1e-5)) << "row " << r << " frame " << t;
    }
  }
}

// The stream indexes raw buffers sized for its batch and mel bands: any other shape is refused
// with a message, never read out of bounds.
TEST(MelConv, StreamRefusesFramesOfTheWrongShape) {
  MelConv conv(128, 4, 3);
  MelConvStream stream(conv, 3);
  EXPECT_EQ(stream.step(at::zeros({3, 128}), 3).sizes(), (std::vector<int64_t>{3, conv->out_features()}));
  EXPECT_EQ(stream.step(at::zeros({1, 128}), 3).sizes(), (std::vector<int64_t>{3, conv->out_features()}));
  for (const auto& [frames, rows] : std::vector<std::pair<at::Tensor, int64_t>>{{at::zeros({3, 64}), 3},
                                                                               {at::zeros({4, 128}), 4},
                                                                               {at::zeros({2, 128}), 3},
                                                                               {at::zeros({128}), 1},
                                                                               {at::zeros({3, 128}), 0}}) {
    try {
      stream.step(frames, rows);
      ADD_FAILURE() << "accepted frames " << frames.sizes() << " for " << rows << " rows";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("MelConvStream::step: expected frames"), std::string::npos) << e.what();
    }
  }
}

// Checkpoints written before MelConv existed have no mel_conv_channels; they read raw log-mel.
TEST(MelConv, CheckpointsWithoutTheKeyLoadWithoutIt) {
  for (const std::string& name : model_names()) {
    SCOPED_TRACE(name);
    test::TempDir dir;
    nlohmann::json hp = test::tiny_hyperparameters(name);
    hp["mel_conv_channels"] = 0;
    auto model = create_model(name, hp);
    save_checkpoint(dir.path("old.ckpt"), *model, FrontEndConfig{}, std::vector<std::string>(50, "x"));
    nlohmann::json meta = load_checkpoint(dir.path("old.ckpt")).meta;
    meta["hyperparameters"].erase("mel_conv_channels");
    const Checkpoint old = checkpoint_from_meta(meta.dump(), "old.ckpt");
    EXPECT_EQ(old.model->hyperparameters().at("mel_conv_channels"), 0);
    for (const auto& p : old.model->named_parameters()) EXPECT_EQ(p.key().find("mel_conv"), std::string::npos) << p.key();
    // The current default is the front end.
    EXPECT_GT(create_model(name, {})->hyperparameters().at("mel_conv_channels").get<int64_t>(), 0);
  }
}

// Checkpoints written before MelConv time kernels existed have no mel_conv_time_kernel: their
// MelConv sees one frame per layer (Conv1d weights), whatever the default.
TEST(MelConv, CheckpointsWithoutATimeKernelLoadPerFrame) {
  for (const std::string& name : model_names()) {
    SCOPED_TRACE(name);
    test::TempDir dir;
    auto model = create_model(name, test::tiny_hyperparameters(name));
    save_checkpoint(dir.path("old.ckpt"), *model, FrontEndConfig{}, std::vector<std::string>(50, "x"));
    nlohmann::json meta = load_checkpoint(dir.path("old.ckpt")).meta;
    meta["hyperparameters"].erase("mel_conv_time_kernel");
    const Checkpoint old = checkpoint_from_meta(meta.dump(), "old.ckpt");
    EXPECT_EQ(old.model->hyperparameters().at("mel_conv_time_kernel"), 1);
    EXPECT_EQ(old.model->named_parameters()["mel_conv.conv0.weight"].dim(), 3);
    // And every model builds the kernel it is asked for.
    nlohmann::json with_time = test::tiny_hyperparameters(name);
    with_time["mel_conv_time_kernel"] = 3;
    EXPECT_EQ(create_model(name, with_time)->named_parameters()["mel_conv.conv0.weight"].size(2), 3);
  }
}

}  // namespace
}  // namespace escd
