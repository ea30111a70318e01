// The Mamba classifier: streaming sessions equal the parallel forward (all rows, staggered resets),
// upstream initialisation rules, parameter counts, gradients and a few training steps.
#include <gtest/gtest.h>

#include <ATen/Context.h>
#include <ATen/Functions.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "models/common/registry.h"
#include "models/mamba/mamba.h"
#include "simd_levels.h"
#include "util/toml_json.h"

namespace escd {
namespace {

constexpr int64_t kMels = 128;

std::shared_ptr<SequenceClassifier> small_model(const nlohmann::json& overrides, int64_t n_classes = 50,
                                                uint64_t seed = 11) {
  at::manual_seed(seed);
  nlohmann::json hp = {{"d_model", 32}, {"n_layers", 2}};
  hp.update(overrides);
  return create_model("mamba", hp, kMels, n_classes);
}

// Log-mel-like frames with per-band offsets and scales, and statistics that normalise them.
at::Tensor random_frames(SequenceClassifier& model, int64_t batch, int64_t length, uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor mean = at::randn({kMels}) * 3.0 - 8.0;
  const at::Tensor std = at::rand({kMels}) + 0.5;
  model.set_input_statistics(mean, std);
  return at::randn({batch, length, kMels}) * std + mean;
}

at::Tensor parameter(SequenceClassifier& model, const std::string& name) {
  const auto params = model.named_parameters();
  const at::Tensor* p = params.find(name);
  if (p == nullptr) throw std::runtime_error("no parameter " + name);
  return p->detach();
}

double max_relative_error(const at::Tensor& ours, const at::Tensor& reference) {
  const at::Tensor r = reference.detach().to(at::kDouble);
  return (ours.detach().to(at::kDouble) - r).abs().max().item<double>() / r.abs().max().item<double>();
}

at::Tensor parallel_logits(SequenceClassifier& model, const at::Tensor& frames) {
  at::NoGradGuard no_grad;
  return model.forward(frames);
}

// Hand count: per block the mixer's in_proj D·2E, conv E·K + E, x_proj E·(R + 2N), dt_proj R·E + E,
// A_log E·N, D E, out_proj E·D, plus RMSNorm D, plus (MLP) RMSNorm D + fc1 D·2H + fc2 H·D; around the
// blocks the input Linear M·D + D, the final RMSNorm D and the head D·C + C. With a MelConv front end
// of F channels: convs 1→F (k 5), F→2F (k 5), 2F→2F (k 3) with biases and GroupNorm affines, i.e.
// (5F + F + 2F) + (10F² + 2F + 4F) + (12F² + 2F + 4F), and the input Linear reads 2F channels x M/8 bands.
int64_t expected_parameters(int64_t D, int64_t layers, int64_t N, int64_t K, int64_t expand, int64_t R, int64_t H,
                            int64_t M, int64_t C, int64_t F = 0, int64_t time_kernel = 3) {
  const int64_t E = expand * D;
  const int64_t mixer = D * 2 * E + E * K + E + E * (R + 2 * N) + R * E + E + E * N + E + E * D;
  const int64_t block = mixer + D + (H > 0 ? D + D * 2 * H + H * D : 0);
  // MelConv: conv weights (22F² + 5F per frame of time kernel), biases 5F, GroupNorm affine 10F.
  const int64_t front_end = F > 0 ? time_kernel * (22 * F * F + 5 * F) + 15 * F : 0;
  const int64_t embedded = F > 0 ? 2 * F * (M / 8) : M;
  return front_end + embedded * D + D + layers * block + D + D * C + C;
}

int64_t count_parameters(SequenceClassifier& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

TEST(Mamba, DefaultsListEveryKeyAndMatchTheConfigFile) {
  const nlohmann::json defaults = mamba_defaults();
  for (const char* key : {"d_model", "n_layers", "d_state", "d_conv", "expand", "dt_rank", "d_intermediate", "dt_min",
                          "dt_max", "dt_init_floor", "norm_eps", "mel_conv_channels", "mel_conv_time_kernel"}) {
    EXPECT_TRUE(defaults.contains(key)) << key;
  }
  const nlohmann::json file = load_toml_file(std::string(ESCD_SOURCE_DIR) + "/config/mamba.toml");
  ASSERT_TRUE(file.contains("model"));
  // The recipe adds the level normalisation every model shares (registry: default "none").
  nlohmann::json recipe = defaults;
  recipe["level_norm"] = "window_max";
  EXPECT_EQ(file.at("model"), recipe);
  const auto model = create_model("mamba", nlohmann::json::object());
  EXPECT_EQ(model->architecture(), "mamba");
  nlohmann::json built = defaults;
  built["level_norm"] = "none";
  EXPECT_EQ(model->hyperparameters(), built);
}

TEST(Mamba, OnlyALogIsMarkedAsStateSpaceParameter) {
  const auto model = small_model(nlohmann::json::object());
  int64_t marked = 0;
  for (const auto& p : model->named_parameters()) {
    if (model->is_state_space_parameter(p.key())) {
      ++marked;
      EXPECT_NE(p.key().find("A_log"), std::string::npos) << p.key();
    }
  }
  EXPECT_EQ(marked, 2);  // one per layer
}

TEST(Mamba, RejectsImpossibleSizes) {
  EXPECT_THROW(create_model("mamba", {{"d_model", 0}}), std::invalid_argument);
  EXPECT_THROW(create_model("mamba", {{"dt_min", 0.5}, {"dt_max", 0.1}}), std::invalid_argument);
  EXPECT_THROW(create_model("mamba", {{"no_such_key", 1}}), std::invalid_argument);
}

TEST(Mamba, ParameterCountMatchesHandFormula) {
  {
    const auto model = small_model({{"d_intermediate", 0}, {"mel_conv_channels", 0}}, 7);
    EXPECT_EQ(count_parameters(*model), expected_parameters(32, 2, 16, 4, 2, 2, 0, kMels, 7));
  }
  {
    const auto model = small_model({{"d_intermediate", 0}, {"mel_conv_channels", 8}}, 7);
    EXPECT_EQ(count_parameters(*model), expected_parameters(32, 2, 16, 4, 2, 2, 0, kMels, 7, 8));
    const auto per_frame = small_model({{"d_intermediate", 0}, {"mel_conv_channels", 8}, {"mel_conv_time_kernel", 1}}, 7);
    EXPECT_EQ(count_parameters(*per_frame), expected_parameters(32, 2, 16, 4, 2, 2, 0, kMels, 7, 8, 1));
  }
  {
    // d_intermediate 100 rounds up to a hidden width of 128; dt_rank given explicitly.
    const auto model = small_model({{"d_intermediate", 100}, {"dt_rank", 5}, {"d_state", 8}, {"d_conv", 3}}, 7);
    EXPECT_EQ(count_parameters(*model), expected_parameters(32, 2, 8, 3, 2, 5, 128, kMels, 7, 16));
  }
  {
    // The size of the Python prototype escd replaced (d_model 256, 6 layers, gated MLP 1024, Linear
    // embedding), counted by hand from Mamba-1's layer shapes (docs/MODELS.md 2.1, 2.4): per layer
    // mixer 437,760 + MLP 786,432 + two RMSNorms 512, times 6, + embedding 33,024 + norm_f 256 +
    // head 12,850 = 7,394,354.
    const auto model =
        create_model("mamba", {{"d_model", 256}, {"n_layers", 6}, {"d_intermediate", 1024}, {"mel_conv_channels", 0}});
    EXPECT_EQ(count_parameters(*model), 7394354);
  }
}

TEST(Mamba, InitialisationFollowsUpstreamRules) {
  const int64_t layers = 3, D = 64, E = 128, N = 16, R = 4, H = 128;
  const auto model = small_model({{"d_model", D}, {"n_layers", layers}, {"d_intermediate", H}});
  for (int64_t i = 0; i < layers; ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    const std::string mixer = "layers." + std::to_string(i) + ".mixer.";
    const at::Tensor A_log = parameter(*model, mixer + "A_log");
    ASSERT_EQ(A_log.sizes(), (std::vector<int64_t>{E, N}));
    EXPECT_TRUE(at::allclose(A_log, at::log(at::arange(1, N + 1, at::kFloat)).expand({E, N})));
    EXPECT_TRUE(at::equal(parameter(*model, mixer + "D"), at::ones({E})));

    const at::Tensor dt = at::softplus(parameter(*model, mixer + "dt_proj.bias").to(at::kDouble));
    EXPECT_GE(dt.min().item<double>(), 0.001 * (1 - 1e-5));
    EXPECT_LE(dt.max().item<double>(), 0.1 * (1 + 1e-5));
    EXPECT_LT(dt.min().item<double>(), 0.003);  // log-uniform over the range, not one value
    EXPECT_GT(dt.max().item<double>(), 0.03);

    const double dt_bound = 1.0 / std::sqrt(static_cast<double>(R));
    const double dt_w = parameter(*model, mixer + "dt_proj.weight").abs().max().item<double>();
    EXPECT_LE(dt_w, dt_bound);
    EXPECT_GT(dt_w, 0.8 * dt_bound);

    // out_proj and fc2: default Linear bound 1/√fan_in, divided by √(2·n_layers) with an MLP.
    const double out_bound = 1.0 / std::sqrt(static_cast<double>(E)) / std::sqrt(2.0 * layers);
    const double out_w = parameter(*model, mixer + "out_proj.weight").abs().max().item<double>();
    EXPECT_LE(out_w, out_bound);
    EXPECT_GT(out_w, 0.8 * out_bound);
    const double fc2_bound = 1.0 / std::sqrt(static_cast<double>(H)) / std::sqrt(2.0 * layers);
    const std::string fc2 = "layers." + std::to_string(i) + ".mlp.fc2.weight";
    const double fc2_w = parameter(*model, fc2).abs().max().item<double>();
    EXPECT_LE(fc2_w, fc2_bound);
    EXPECT_GT(fc2_w, 0.8 * fc2_bound);

    EXPECT_TRUE(at::equal(parameter(*model, "layers." + std::to_string(i) + ".norm.weight"), at::ones({D})));
  }
  EXPECT_TRUE(at::equal(parameter(*model, "norm_f.weight"), at::ones({D})));
}

// Parameters: d_intermediate (0: no gated MLP) and mel_conv_channels (0: Linear embedding).
class MambaStreaming : public ::testing::TestWithParam<std::tuple<int64_t, int64_t>> {
 protected:
  nlohmann::json hyperparameters() const {
    return {{"d_intermediate", std::get<0>(GetParam())}, {"mel_conv_channels", std::get<1>(GetParam())}};
  }
};

TEST_P(MambaStreaming, SessionLogitsEqualParallelForward) {
  escd::test::at_every_simd_level([&] {
    const auto model = small_model(hyperparameters());
    const int64_t batch = 2, length = 155;
    const at::Tensor frames = random_frames(*model, batch, length, 21);
    auto session = model->start_session(batch);
    // Some unrelated audio first: reset() must forget it.
    for (int64_t t = 0; t < 10; ++t) session->step(at::randn({batch, kMels}) * 4.0);
    session->reset();
    for (int64_t t = 0; t < length; ++t) {
      session->step(frames.select(1, t));
      if (t + 1 == 40) {
        EXPECT_LT(max_relative_error(session->logits(), parallel_logits(*model, frames.narrow(1, 0, 40))), 1e-4)
            << "after 40 frames";
      }
    }
    EXPECT_EQ(session->frames_seen(0), length);
    EXPECT_LT(max_relative_error(session->logits(), parallel_logits(*model, frames)), 1e-4);
  });
}

TEST_P(MambaStreaming, StaggeredRowResetsGiveEachRowItsOwnWindow) {
  const auto model = small_model(hyperparameters());
  const int64_t length = 70;
  const std::vector<int64_t> reset_at{0, 23, 51};
  const auto rows = static_cast<int64_t>(reset_at.size());
  const at::Tensor frames = random_frames(*model, rows, length, 31);
  auto session = model->start_session(rows);
  for (int64_t t = 0; t < length; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      if (reset_at[r] == t) session->reset_row(r);
    }
    session->step(frames.select(1, t));
  }
  const at::Tensor logits = session->logits();
  for (int64_t r = 0; r < rows; ++r) {
    SCOPED_TRACE("row " + std::to_string(r));
    EXPECT_EQ(session->frames_seen(r), length - reset_at[r]);
    const at::Tensor window = frames.narrow(0, r, 1).narrow(1, reset_at[r], length - reset_at[r]);
    EXPECT_LT(max_relative_error(logits.narrow(0, r, 1), parallel_logits(*model, window)), 1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(MlpAndFrontEnd, MambaStreaming,
                         ::testing::Combine(::testing::Values(0, 64), ::testing::Values(0, 16)), [](const auto& info) {
                           return std::string(std::get<0>(info.param) > 0 ? "GatedMlp" : "MixerOnly") +
                                  (std::get<1>(info.param) > 0 ? "MelConv" : "LinearEmbedding");
                         });

TEST(Mamba, Float64ModelAgreesWithFloat32) {
  const auto model = small_model({{"d_intermediate", 64}});
  const at::Tensor frames = random_frames(*model, 2, 30, 41);
  const at::Tensor single = parallel_logits(*model, frames);
  model->to(at::kDouble);
  const at::Tensor dbl = parallel_logits(*model, frames.to(at::kDouble));
  ASSERT_EQ(dbl.scalar_type(), at::kDouble);
  EXPECT_LT(max_relative_error(single, dbl), 1e-4);
  EXPECT_THROW(model->start_session(1), std::invalid_argument);  // sessions are float32 only
}

TEST(Mamba, BackwardReachesEveryParameter) {
  const auto model = small_model({{"d_intermediate", 64}}, 5);
  const at::Tensor frames = random_frames(*model, 3, 12, 51);
  const at::Tensor targets = at::tensor({0, 3, 4}, at::kLong);
  at::cross_entropy_loss(model->forward(frames), targets).backward();
  for (const auto& item : model->named_parameters()) {
    SCOPED_TRACE(item.key());
    const at::Tensor& g = item.value().grad();
    ASSERT_TRUE(g.defined());
    EXPECT_TRUE(at::isfinite(g).all().item<bool>());
    EXPECT_GT(g.abs().sum().item<double>(), 0.0);
  }
}

TEST(Mamba, AFewAdamStepsFitATinyBatch) {
  const auto model = small_model({{"d_intermediate", 0}}, 4);
  const at::Tensor frames = random_frames(*model, 8, 20, 61);
  const at::Tensor targets = at::tensor({0, 1, 2, 3, 0, 1, 2, 3}, at::kLong);
  std::vector<at::Tensor> params = model->parameters();
  std::vector<at::Tensor> m, v;
  for (const auto& p : params) {
    m.push_back(at::zeros_like(p));
    v.push_back(at::zeros_like(p));
  }
  const double lr = 3e-3, b1 = 0.9, b2 = 0.999;
  double first = 0, last = 0;
  for (int step = 1; step <= 40; ++step) {
    model->zero_grad();
    const at::Tensor loss = at::cross_entropy_loss(model->forward(frames), targets);
    loss.backward();
    (step == 1 ? first : last) = loss.item<double>();
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) {
      const at::Tensor& g = params[i].grad();
      m[i].mul_(b1).add_(g, 1 - b1);
      v[i].mul_(b2).addcmul_(g, g, 1 - b2);
      const double c1 = 1 - std::pow(b1, step), c2 = 1 - std::pow(b2, step);
      params[i].addcdiv_(m[i] / c1, (v[i] / c2).sqrt_().add_(1e-8), -lr);
    }
  }
  EXPECT_TRUE(std::isfinite(last));
  EXPECT_LT(last, 0.3 * first) << "loss went from " << first << " to " << last;
}

}  // namespace
}  // namespace escd
