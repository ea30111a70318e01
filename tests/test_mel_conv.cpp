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

}  // namespace
}  // namespace escd
