// Liquid-S4: the HiPPO-LegS initialisation, the Vandermonde kernel against the recurrence it
// stands for, the causal liquid terms (kb as the truncated liquid recurrence), and the contract
// that matters for the daemon: streaming sessions equal the parallel forward on the same frames.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <torch/optim/adam.h>

#include <cmath>
#include <set>
#include <string>
#include <tuple>

#include "models/common/registry.h"
#include "models/liquid_s4/diagonal_ssm.h"
#include "models/liquid_s4/hippo.h"
#include "models/liquid_s4/liquid_s4.h"
#include "models/liquid_s4/liquid_s4_model.h"
#include "models/liquid_s4/liquid_terms.h"
#include "models/liquid_s4/s4_layer.h"
#include "simd_levels.h"
#include "test_support.h"
#include "util/toml_json.h"

namespace escd {
namespace {

using liquid_s4::LiquidS4Classifier;

double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }
// max |a − b| relative to the largest |b|: the "within 1e-4 relative" of the issue.
double relative_error(const at::Tensor& a, const at::Tensor& b) { return max_abs(a - b) / max_abs(b); }

// Small sizes keep every test fast; the structure (layers, modes, liquid chains) is the real one.
nlohmann::json small_hyperparameters(const nlohmann::json& overrides = nlohmann::json::object()) {
  nlohmann::json h = {{"d_model", 16}, {"n_layers", 2}, {"d_state", 8}};
  h.update(overrides);
  return merge_hyperparameters(liquid_s4_defaults(), h, "test");
}

std::shared_ptr<LiquidS4Classifier> small_model(const nlohmann::json& overrides = nlohmann::json::object(),
                                                int64_t n_classes = 10, uint64_t seed = 7) {
  at::manual_seed(seed);
  return std::make_shared<LiquidS4Classifier>(small_hyperparameters(overrides), 128, n_classes);
}

// The initial liquid parameters are deliberately small; parity tests give them O(1) values so
// that a wrong liquid step form could not hide under the linear part.
void enlarge_liquid(LiquidS4Classifier& model, double magnitude) {
  at::NoGradGuard no_grad;
  for (int64_t i = 0; i < model.n_layers(); ++i) {
    const at::Tensor& liquid = model.layer(i)->liquid();
    if (liquid.defined()) liquid.uniform_(-magnitude, magnitude);
  }
}

at::Tensor random_frames(int64_t batch, int64_t frames, uint64_t seed) {
  at::manual_seed(seed);
  return at::randn({batch, frames, 128}) * 3.0 - 5.0;  // log-mel-like offset and spread
}

// ---------------------------------------------------------------------------------------------
// HiPPO-LegS

TEST(LiquidS4Hippo, DenseLegSMatrixAndItsNormalPart) {
  const int64_t N = 8;
  const auto legs = liquid_s4::hippo_legs(N);
  auto A = legs.A.accessor<double, 2>();
  EXPECT_DOUBLE_EQ(A[0][0], -1.0);
  EXPECT_DOUBLE_EQ(A[3][3], -4.0);
  EXPECT_DOUBLE_EQ(A[3][1], -std::sqrt(7.0) * std::sqrt(3.0));
  EXPECT_DOUBLE_EQ(A[1][3], 0.0);
  EXPECT_DOUBLE_EQ(legs.B[5].item<double>(), std::sqrt(11.0));
  // A + p pᵀ = −½ I + skew-symmetric.
  const at::Tensor S = legs.A + at::outer(legs.p, legs.p) + 0.5 * at::eye(N, at::kDouble);
  EXPECT_LT(max_abs(S + S.transpose(0, 1)), 1e-12);
}

TEST(LiquidS4Hippo, DiagonalFormHasRealPartMinusHalfAndReconstructsTheNormalPart) {
  const int64_t N = 64;
  const auto d = liquid_s4::hippo_legs_diagonal(N);
  ASSERT_EQ(d.lambda.size(0), N / 2);
  EXPECT_LT(max_abs(at::real(d.lambda) + 0.5), 1e-12);
  const at::Tensor im = at::imag(d.lambda);
  EXPECT_LT(im.max().item<double>(), 0.0);  // one of each conjugate pair: the negative ones
  EXPECT_TRUE((im.narrow(0, 1, N / 2 - 1) > im.narrow(0, 0, N / 2 - 1)).all().item<bool>());  // ascending, distinct

  const auto legs = liquid_s4::hippo_legs(N);
  const at::Tensor normal = (legs.A + at::outer(legs.p, legs.p)).to(at::kComplexDouble);
  // Eigenvectors: (A + p pᵀ) V = V diag(Λ), V orthonormal.
  EXPECT_LT(max_abs(at::matmul(normal, d.V) - d.V * d.lambda), 1e-9);
  EXPECT_LT(max_abs(at::matmul(d.V.conj().transpose(0, 1), d.V) - at::eye(N / 2, at::kComplexDouble)), 1e-9);
  // An independent general eigensolve finds the same spectrum.
  const at::Tensor general = at::linalg_eigvals(normal);
  const at::Tensor general_sorted = std::get<0>(at::sort(at::imag(general)));
  EXPECT_LT(max_abs(general_sorted.narrow(0, 0, N / 2) - im), 1e-6);
  // B = Vᴴ B_legs: the unitary V keeps ‖B_legs‖² = Σ(2n+1) = N², split evenly over the two halves.
  EXPECT_NEAR(at::sum(at::abs(d.B).pow(2)).item<double>(), N * N / 2.0, 1e-8);
}

TEST(LiquidS4Hippo, LayerStartsFromLegSModes) {
  at::manual_seed(1);
  liquid_s4::DiagonalSSM ssm(4, 16, 1e-3, 1e-1, liquid_s4::Discretization::zoh);
  const auto d = liquid_s4::hippo_legs_diagonal(16);
  const at::Tensor lambda = ssm->lambda();
  for (int64_t h = 0; h < 4; ++h) {
    EXPECT_LT(max_abs(lambda[h] - d.lambda.to(at::kComplexFloat)), 1e-5);
  }
  const auto params = ssm->named_parameters();
  const at::Tensor dt = at::exp(params["ssm_log_dt"]);
  EXPECT_GE(dt.min().item<double>(), 1e-3 * (1 - 1e-6));
  EXPECT_LE(dt.max().item<double>(), 1e-1 * (1 + 1e-6));
  EXPECT_LT(max_abs(at::view_as_complex(params["ssm_B"])[2] - d.B.to(at::kComplexFloat)), 1e-5);
}

// ---------------------------------------------------------------------------------------------
// Kernels and convolution

class LiquidS4Kernel : public ::testing::TestWithParam<liquid_s4::Discretization> {};

TEST_P(LiquidS4Kernel, VandermondeEqualsRecurrenceImpulseResponse) {
  at::manual_seed(3);
  liquid_s4::DiagonalSSM ssm(3, 16, 1e-3, 5e-1, GetParam());
  ssm->to(at::kDouble);
  const auto d = ssm->discretise();
  const at::Tensor C = ssm->C_complex();
  const int64_t L = 120;
  const at::Tensor kernels = liquid_s4::vandermonde_kernels(at::stack({C * d.dB, d.dB}), d.log_dA, L);  // [2, L, H]
  // Impulse response of x_k = Ā x_{k−1} + B̄ δ_k, y_k = C_x x_k (conjugate-extended: 2 Re).
  at::Tensor x = d.dB.clone();
  for (int64_t j = 0; j < L; ++j) {
    const at::Tensor K = 2.0 * at::real((C * x).sum(-1));
    const at::Tensor G = 2.0 * at::real(x.sum(-1));
    ASSERT_LT(max_abs(kernels[0][j] - K), 1e-10) << "K at j=" << j;
    ASSERT_LT(max_abs(kernels[1][j] - G), 1e-10) << "G at j=" << j;
    x = d.dA * x;
  }
  EXPECT_GT(max_abs(kernels[0]), 1e-3);  // not trivially zero
}

TEST_P(LiquidS4Kernel, DiscretisationIsStableAndMatchesItsFormula) {
  at::manual_seed(4);
  liquid_s4::DiagonalSSM ssm(5, 16, 1e-3, 1e-1, GetParam());
  ssm->to(at::kDouble);
  const auto d = ssm->discretise();
  EXPECT_LT(at::abs(d.dA).max().item<double>(), 1.0);
  EXPECT_LT(max_abs(at::exp(d.log_dA) - d.dA), 1e-12);
  const at::Tensor dt = at::exp(ssm->named_parameters()["ssm_log_dt"]).unsqueeze(-1);
  const at::Tensor dtL = ssm->lambda() * dt;
  const at::Tensor expected = GetParam() == liquid_s4::Discretization::zoh ? at::exp(dtL)
                                                                          : (1.0 + dtL / 2) / (1.0 - dtL / 2);
  EXPECT_LT(max_abs(d.dA - expected), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Discretizations, LiquidS4Kernel,
                         ::testing::Values(liquid_s4::Discretization::zoh, liquid_s4::Discretization::bilinear),
                         [](const auto& info) {
                           return std::string(info.param == liquid_s4::Discretization::zoh ? "zoh" : "bilinear");
                         });

TEST(LiquidS4Convolution, FftConvolutionEqualsDirectCausalSum) {
  at::manual_seed(5);
  const int64_t B = 2, L = 37, H = 3;
  const at::Tensor u = at::randn({B, L, H}, at::kDouble);
  const at::Tensor K = at::randn({L, H}, at::kDouble);
  const at::Tensor y = liquid_s4::causal_convolution(u, liquid_s4::kernel_spectrum(K));
  at::Tensor direct = at::zeros({B, L, H}, at::kDouble);
  for (int64_t k = 0; k < L; ++k) {
    for (int64_t j = 0; j <= k; ++j) direct.select(1, k).add_(K[j] * u.select(1, k - j));
  }
  EXPECT_LT(max_abs(y - direct), 1e-10);
}

TEST(LiquidS4Convolution, PolybProductsAreTheCausalNeighbourRecursion) {
  const at::Tensor u = at::tensor({2.0, 3.0, 5.0, 7.0}, at::kDouble).reshape({1, 4, 1});
  const at::Tensor coef = at::tensor({1.0, 10.0}, at::kDouble).reshape({2, 1});
  // s2 = [0, 6, 15, 35]; s3 = s2 · s2(prev) = [0, 0, 90, 525]
  const at::Tensor y = liquid_s4::polyb_term(u, coef, false).flatten();
  const at::Tensor expected = at::tensor({0.0, 6.0, 15.0 + 900.0, 35.0 + 5250.0}, at::kDouble);
  EXPECT_LT(max_abs(y - expected), 1e-12);
}

// ---------------------------------------------------------------------------------------------
// kb is the truncated liquid recurrence x_k = (Ā + B̄ u_k 1ᵀ) x_{k−1} + B̄ u_k

// The full (untruncated) liquid recurrence in float64, over the conjugate-extended state.
at::Tensor full_liquid_recurrence(const liquid_s4::S4LayerImpl& layer, const at::Tensor& u /*[T, H]*/) {
  const auto d = layer.ssm()->discretise();
  const at::Tensor C = layer.ssm()->C_complex();
  at::Tensor x = at::zeros_like(d.dA);
  std::vector<at::Tensor> ys;
  for (int64_t k = 0; k < u.size(0); ++k) {
    const at::Tensor coupling = 2.0 * at::real(x.sum(-1));  // 1ᵀ x_{k−1}
    x = d.dA * x + d.dB * (u[k] * (coupling + 1.0)).unsqueeze(-1);
    ys.push_back(2.0 * at::real((C * x).sum(-1)) + layer.ssm()->D() * u[k]);
  }
  return at::stack(ys);
}

TEST(LiquidS4Kb, TruncationErrorOfDegreePShrinksLikeInputToThePowerPPlusOne) {
  for (int64_t degree : {2, 3}) {
    at::manual_seed(11);
    auto o = liquid_s4::Options::from_json(
        small_hyperparameters({{"liquid_kernel", "kb"}, {"liquid_degree", degree}, {"dt_min", 0.01}}));
    liquid_s4::S4Layer layer(o);
    layer->to(at::kDouble);
    {
      at::NoGradGuard no_grad;
      layer->liquid().fill_(1.0);  // s_q = 1: exactly the liquid recurrence's own expansion
    }
    const at::Tensor u0 = at::randn({40, o.d_model}, at::kDouble);
    std::vector<double> errors;
    for (double eps : {0.02, 0.01}) {
      const at::Tensor u = u0 * eps;
      const at::Tensor full = full_liquid_recurrence(*layer, u);
      const at::Tensor truncated = layer->mix(u.unsqueeze(0))[0];
      errors.push_back(max_abs(truncated - full));
    }
    // Halving the input divides the remainder (degree p+1 and up) by about 2^{p+1}.
    const double ratio = errors[0] / errors[1];
    const double expected = std::pow(2.0, degree + 1);
    EXPECT_GT(ratio, 0.8 * expected) << "degree " << degree;
    EXPECT_LT(ratio, 1.25 * expected) << "degree " << degree;
  }
}

// ---------------------------------------------------------------------------------------------
// Streaming: session logits equal the parallel forward

struct StreamCase {
  std::string kernel;
  int64_t degree;
  std::string contract;
  std::string discretization = "zoh";
  std::string norm = "layernorm";
};

std::string case_name(const StreamCase& c) {
  return c.kernel + "_p" + std::to_string(c.degree) + "_" + c.contract + "_" + c.discretization + "_" + c.norm;
}

class LiquidS4Streaming : public ::testing::TestWithParam<StreamCase> {
 protected:
  std::shared_ptr<LiquidS4Classifier> make() const {
    const auto& c = GetParam();
    auto model = small_model({{"liquid_kernel", c.kernel},
                              {"liquid_degree", c.degree},
                              {"liquid_contract", c.contract},
                              {"discretization", c.discretization},
                              {"norm", c.norm}});
    enlarge_liquid(*model, 0.5);
    at::manual_seed(21);
    model->set_input_statistics(at::randn({128}) - 5.0, at::rand({128}) + 2.5);
    model->eval();
    return model;
  }
};

TEST_P(LiquidS4Streaming, SessionLogitsEqualParallelForward) {
  escd::test::at_every_simd_level([&] {
    auto model = make();
    const int64_t B = 2, T = 155;
    const at::Tensor frames = random_frames(B, T, 31);
    auto session = model->start_session(B);
    for (int64_t t = 0; t < T; ++t) {
      session->step(frames.select(1, t));
      if (t + 1 == 1 || t + 1 == 40 || t + 1 == T) {
        at::NoGradGuard no_grad;
        const at::Tensor parallel = model->forward(frames.narrow(1, 0, t + 1));
        const at::Tensor streamed = session->logits();
        EXPECT_LT(relative_error(streamed, parallel), 1e-4) << "after " << t + 1 << " frames";
      }
    }
    EXPECT_EQ(session->frames_seen(0), T);
  });
}

TEST_P(LiquidS4Streaming, LiquidTermChangesTheOutput) {
  // Guards the parity test against a vacuous liquid path: zeroing it must change the logits.
  auto model = make();
  if (GetParam().kernel == "none") {  // plain S4: there is no liquid term at all
    for (int64_t i = 0; i < model->n_layers(); ++i) EXPECT_FALSE(model->layer(i)->liquid().defined());
    return;
  }
  at::NoGradGuard no_grad;
  const at::Tensor frames = random_frames(2, 155, 32);
  const at::Tensor with = model->forward(frames);
  for (int64_t i = 0; i < model->n_layers(); ++i) model->layer(i)->liquid().zero_();
  EXPECT_GT(relative_error(model->forward(frames), with), 1e-2);
}

INSTANTIATE_TEST_SUITE_P(
    KernelsDegreesContractions, LiquidS4Streaming,
    ::testing::Values(StreamCase{"none", 2, "none"}, StreamCase{"polyb", 2, "none"}, StreamCase{"polyb", 2, "tanh"},
                      StreamCase{"polyb", 3, "none"}, StreamCase{"polyb", 3, "tanh"}, StreamCase{"kb", 2, "none"},
                      StreamCase{"kb", 2, "tanh"}, StreamCase{"kb", 3, "none"}, StreamCase{"kb", 3, "tanh"},
                      StreamCase{"kb", 2, "tanh", "bilinear", "layer"},
                      StreamCase{"polyb", 3, "none", "bilinear", "layer"}),
    [](const auto& info) { return case_name(info.param); });

TEST(LiquidS4Session, StaggeredRowResetsEachEqualTheForwardOnTheirOwnFrames) {
  for (const std::string kernel : {"kb", "polyb"}) {
    auto model = small_model({{"liquid_kernel", kernel}, {"liquid_degree", 3}});
    enlarge_liquid(*model, 0.5);
    model->eval();
    const int64_t B = 3, T = 120;
    const at::Tensor frames = random_frames(B, T, 41);
    const std::vector<int64_t> reset_at = {0, 30, 71};  // row r restarts at frame reset_at[r]
    auto session = model->start_session(B);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t r = 0; r < B; ++r) {
        if (t == reset_at[r] && t > 0) session->reset_row(r);
      }
      session->step(frames.select(1, t));
    }
    const at::Tensor streamed = session->logits();
    at::NoGradGuard no_grad;
    for (int64_t r = 0; r < B; ++r) {
      EXPECT_EQ(session->frames_seen(r), T - reset_at[r]);
      const at::Tensor own = frames.narrow(0, r, 1).narrow(1, reset_at[r], T - reset_at[r]);
      EXPECT_LT(relative_error(streamed[r], model->forward(own)[0]), 1e-4) << kernel << " row " << r;
    }
    // A row reset without further frames reports zeros; a full reset matches a fresh session.
    session->reset_row(1);
    EXPECT_EQ(max_abs(session->logits()[1]), 0.0);
    session->reset();
    session->step(frames.select(1, 0));
    EXPECT_LT(relative_error(session->logits(), model->forward(frames.narrow(1, 0, 1))), 1e-4);
  }
}

// ---------------------------------------------------------------------------------------------
// Causality, parameters, gradients, training

TEST(LiquidS4Causality, FutureFramesDoNotChangeEarlierLayerOutputs) {
  for (const std::string kernel : {"none", "polyb", "kb"}) {
    at::manual_seed(51);
    auto o = liquid_s4::Options::from_json(
        small_hyperparameters({{"liquid_kernel", kernel}, {"liquid_degree", 3}, {"liquid_contract", "tanh"}}));
    liquid_s4::S4Layer layer(o);
    at::NoGradGuard no_grad;
    if (layer->liquid().defined()) layer->liquid().uniform_(-0.5, 0.5);
    const int64_t T = 64, t0 = 40;
    const at::Tensor u = at::randn({2, T, o.d_model});
    at::Tensor changed = u.clone();
    changed.select(1, t0).add_(at::randn({2, o.d_model}) * 3.0);
    const at::Tensor a = layer->forward(u), b = layer->forward(changed);
    // The FFT convolution mixes round-off across the whole window, so "unchanged" means at the
    // level of float32 rounding, far below the change the perturbation makes later on.
    EXPECT_LT(max_abs(a.narrow(1, 0, t0) - b.narrow(1, 0, t0)), 1e-5 * max_abs(a)) << kernel;
    EXPECT_GT(max_abs(a.narrow(1, t0, T - t0) - b.narrow(1, t0, T - t0)), 1e-2 * max_abs(a)) << kernel;
  }
}

TEST(LiquidS4Parameters, LiquidCoefficientsAreNamedParametersAndSsmGroupIsMarked) {
  for (const std::string kernel : {"none", "polyb", "kb"}) {
    auto model = small_model({{"liquid_kernel", kernel}, {"liquid_degree", 3}});
    std::set<std::string> names;
    for (const auto& p : model->named_parameters()) names.insert(p.key());
    const bool has_scale = names.count("layer0.liquid_scale") && names.count("layer1.liquid_scale");
    const bool has_coef = names.count("layer0.liquid_coef") && names.count("layer1.liquid_coef");
    EXPECT_EQ(has_scale, kernel == "kb");
    EXPECT_EQ(has_coef, kernel == "polyb");
    if (kernel != "none") {
      EXPECT_EQ(model->layer(0)->liquid().sizes(), (std::vector<int64_t>{2, 16}));
      EXPECT_TRUE(model->layer(0)->liquid().requires_grad());
    }
    // SSM group: A, B, Δ of each layer, nothing else.
    std::set<std::string> ssm;
    for (const auto& n : names) {
      if (liquid_s4_is_ssm_parameter(n)) ssm.insert(n);
    }
    EXPECT_EQ(ssm, (std::set<std::string>{"layer0.ssm.ssm_log_dt", "layer0.ssm.ssm_log_A_real", "layer0.ssm.ssm_A_imag",
                                          "layer0.ssm.ssm_B", "layer1.ssm.ssm_log_dt", "layer1.ssm.ssm_log_A_real",
                                          "layer1.ssm.ssm_A_imag", "layer1.ssm.ssm_B"}));
    EXPECT_EQ(model->ssm_parameters().size(), 8u);
    const SequenceClassifier& base = *model;  // the hook the trainer calls
    EXPECT_TRUE(base.is_state_space_parameter("layer1.ssm.ssm_A_imag"));
    EXPECT_FALSE(base.is_state_space_parameter("layer1.liquid_scale"));
    EXPECT_FALSE(liquid_s4_is_ssm_parameter("layer0.ssm.C"));
  }
}

TEST(LiquidS4Gradients, BackwardGivesFiniteNonZeroGradientsForEveryParameter) {
  for (const std::string kernel : {"none", "polyb", "kb"}) {
    for (const std::string norm : {"layernorm", "layer"}) {
      auto model = small_model({{"liquid_kernel", kernel}, {"liquid_contract", "tanh"}, {"norm", norm}});
      model->train();
      const at::Tensor frames = random_frames(3, 50, 61);
      const at::Tensor labels = at::tensor({1, 4, 7}, at::kLong);
      at::nll_loss(at::log_softmax(model->forward(frames), 1), labels).backward();
      for (const auto& p : model->named_parameters()) {
        const at::Tensor& g = p.value().grad();
        ASSERT_TRUE(g.defined()) << kernel << " " << p.key();
        EXPECT_TRUE(at::isfinite(g).all().item<bool>()) << kernel << " " << p.key();
        EXPECT_GT(max_abs(g), 0.0) << kernel << "/" << norm << " " << p.key();
      }
    }
  }
}

TEST(LiquidS4Training, AFewAdamStepsLowerTheLossOnATinyBatch) {
  for (const std::string kernel : {"polyb", "kb"}) {
    auto model = small_model({{"liquid_kernel", kernel}}, /*n_classes=*/4);
    model->train();
    // Each class has its own spectral profile under the noise, as sounds do.
    const at::Tensor labels = at::tensor({0, 1, 2, 3, 0, 1, 2, 3}, at::kLong);
    const at::Tensor profiles = at::randn({4, 1, 128});
    const at::Tensor frames = random_frames(8, 32, 71) + profiles.index_select(0, labels);
    torch::optim::Adam optimiser(model->parameters(), torch::optim::AdamOptions(1e-2));
    auto loss_now = [&] { return at::nll_loss(at::log_softmax(model->forward(frames), 1), labels); };
    const double initial = loss_now().item<double>();
    for (int step = 0; step < 25; ++step) {
      optimiser.zero_grad();
      at::Tensor loss = loss_now();
      loss.backward();
      optimiser.step();
    }
    const double final_loss = loss_now().item<double>();
    EXPECT_TRUE(std::isfinite(final_loss)) << kernel;
    EXPECT_LT(final_loss, 0.5 * initial) << kernel << ": " << initial << " -> " << final_loss;
  }
}

// ---------------------------------------------------------------------------------------------
// Hyperparameters

TEST(LiquidS4Hyperparameters, DefaultsAreCompleteAndTheConfigFileMatchesThem) {
  const nlohmann::json defaults = liquid_s4_defaults();
  for (const char* key : {"d_model", "n_layers", "d_state", "dt_min", "dt_max", "liquid_kernel", "liquid_degree",
                          "liquid_contract", "discretization", "norm", "dropout", "mel_conv_time_kernel"}) {
    EXPECT_TRUE(defaults.contains(key)) << key;
  }
  EXPECT_NE(defaults.at("liquid_kernel"), "none");  // the liquid terms are on by default
  const nlohmann::json config = load_toml_file(std::string(ESCD_SOURCE_DIR) + "/config/liquid_s4.toml");
  // The recipe adds the level normalisation every model shares (registry: default "none").
  nlohmann::json recipe = defaults;
  recipe["level_norm"] = "window_max";
  EXPECT_EQ(config.at("model"), recipe);
}

TEST(LiquidS4Hyperparameters, RegistryBuildsTheModelAndRejectsBadValues) {
  auto model = create_model("liquid_s4", {{"d_model", 8}, {"n_layers", 1}, {"d_state", 4}});
  EXPECT_EQ(model->architecture(), "liquid_s4");
  EXPECT_EQ(model->hyperparameters().at("d_model"), 8);
  EXPECT_EQ(model->forward(random_frames(2, 5, 1)).sizes(), (std::vector<int64_t>{2, 50}));
  EXPECT_THROW(create_model("liquid_s4", {{"d_state", 7}}), std::invalid_argument);
  EXPECT_THROW(create_model("liquid_s4", {{"liquid_kernel", "sideways"}}), std::invalid_argument);
  EXPECT_THROW(create_model("liquid_s4", {{"liquid_degree", 1}}), std::invalid_argument);
  EXPECT_THROW(create_model("liquid_s4", {{"dt_max", 1e-4}}), std::invalid_argument);
}

}  // namespace
}  // namespace escd
