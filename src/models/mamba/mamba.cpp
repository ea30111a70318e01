// The Mamba classifier (docs/MODELS.md 2.4): [MelConv →] Linear(→ D) → pre-norm residual Mamba blocks
// (optionally each followed by a gated MLP) → final RMSNorm → mean over time → Linear head, and its
// streaming session, which steps every block once per frame from per-row conv and SSM states.
#include "models/mamba/mamba.h"

#include <ATen/Functions.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/modules/container/modulelist.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/common/frame_embedder.h"
#include "models/common/json_fields.h"
#include "models/common/mel_conv.h"
#include "models/common/model_limits.h"
#include "models/common/packed_linear.h"
#include "models/common/exp_approx.h"
#include "models/mamba/mamba_config.h"
#include "models/mamba/mamba_layers.h"
#include "models/mamba/mamba_mixer.h"

namespace escd {

nlohmann::json mamba_defaults() {
  // Sized for ESC-50 training on a 2-core CPU (bench_mamba prints the parameter count, the FLOPs per
  // clip and the measured step times). config/mamba.toml repeats these values.
  return {
      {"d_model", 128},       {"n_layers", 4},         {"d_state", 16},     {"d_conv", 4},
      {"expand", 2},          {"dt_rank", 0},          {"d_intermediate", 0}, {"dt_min", 0.001},
      {"dt_max", 0.1},        {"dt_init_floor", 1e-4}, {"norm_eps", 1e-5},
      {"mel_conv_channels", 16}, {"mel_conv_time_kernel", 3},
  };
}

MambaConfig MambaConfig::from_json(const nlohmann::json& j) {
  MambaConfig c;
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("mamba hyperparameters: " + what);
  };
  try {
    // Typed and range-checked before conversion (models/common/json_fields.h).
    c.d_model = integer_field(j, "d_model", 1, kMaxModelDimension);
    c.n_layers = integer_field(j, "n_layers", 1, kMaxModelDimension);
    c.d_state = integer_field(j, "d_state", 1, kMaxModelDimension);
    c.d_conv = integer_field(j, "d_conv", 1, kMaxModelDimension);
    c.expand = integer_field(j, "expand", 1, kMaxModelDimension);
    c.dt_rank = integer_field(j, "dt_rank", 0, kMaxModelDimension);  // 0: ceil(d_model / 16)
    c.d_intermediate = integer_field(j, "d_intermediate", 0, kMaxModelDimension);
    c.dt_min = number_field(j, "dt_min");
    c.dt_max = number_field(j, "dt_max");
    c.dt_init_floor = number_field(j, "dt_init_floor");
    c.norm_eps = number_field(j, "norm_eps");
    c.mel_conv_channels = integer_field(j, "mel_conv_channels", 0, kMaxModelDimension);  // 0: a Linear embedding
    c.mel_conv_time_kernel = integer_field(j, "mel_conv_time_kernel", 1, kMaxMelConvTimeKernel);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("mamba hyperparameters: ") + e.what());
  }
  if (c.dt_rank == 0) c.dt_rank = (c.d_model + 15) / 16;
  require(c.dt_min > 0 && c.dt_min <= c.dt_max && c.dt_init_floor > 0, "need 0 < dt_min <= dt_max, dt_init_floor > 0");
  require(c.norm_eps > 0, "norm_eps must be positive");
  // Every parameter tensor of a layer (mamba_mixer.cpp, mamba_layers.cpp), bounded from above.
  const double D = c.d_model, E = double(c.expand) * D, N = c.d_state, R = c.dt_rank;
  const double per_layer = 2 * D * E + E * (c.d_conv + 1) + E * (R + 2 * N) + (R + 1) * E + E * N + E + E * D +
                           2 * D + (c.has_mlp() ? 3 * D * double(c.mlp_hidden()) : 0.0);
  const double parameters =
      c.n_layers * per_layer + (c.mel_conv_channels > 0 ? double(MelConvImpl::parameter_count(c.mel_conv_channels, c.mel_conv_time_kernel)) : 0.0);
  require(parameters <= kMaxModelParameters,
          "d_model " + std::to_string(c.d_model) + ", expand " + std::to_string(c.expand) + ", n_layers " +
              std::to_string(c.n_layers) + "... make about " + std::to_string(int64_t(parameters / 1e6)) +
              " M parameters; at most " + std::to_string(int64_t(kMaxModelParameters / 1e6)) + " M are accepted");
  return c;
}

namespace {

// r ← r + Mixer(Norm(r)); then, with an MLP, r ← r + MLP(Norm2(r)).
class MambaBlockImpl : public torch::nn::Module {
 public:
  explicit MambaBlockImpl(const MambaConfig& c) {
    norm = register_module("norm", RMSNorm(c.d_model, c.norm_eps));
    mixer = register_module("mixer", MambaMixer(c));
    if (c.has_mlp()) {
      norm2 = register_module("norm2", RMSNorm(c.d_model, c.norm_eps));
      mlp = register_module("mlp", GatedMLP(c.d_model, c.mlp_hidden()));
      // Same residual rescaling as out_proj (docs/MODELS.md 2.4).
      at::NoGradGuard no_grad;
      mlp->fc2->reset_parameters();
      mlp->fc2->weight.div_(std::sqrt(2.0 * static_cast<double>(c.n_layers)));
    }
  }

  at::Tensor forward(at::Tensor r) {
    r = r + mixer->forward(norm->forward(r));
    if (mlp) r = r + mlp->forward(norm2->forward(r));
    return r;
  }

  RMSNorm norm{nullptr}, norm2{nullptr};
  MambaMixer mixer{nullptr};
  GatedMLP mlp{nullptr};
};
TORCH_MODULE(MambaBlock);

class MambaClassifier;

// Per layer, per row: conv_state [B, d_conv, E] and ssm_state [B, N, E]. The weights are packed
// once here (PackedLinear) and every intermediate of a step lives in buffers allocated here, so a
// step runs plain loops and allocates nothing: at the daemon's 10 rows per frame, ATen's per-op
// dispatch and BLAS call overhead on such small products cost more than the arithmetic.
// Weights are a snapshot: start a new session after changing them.
class MambaSession : public PooledSession {
 public:
  MambaSession(MambaClassifier& model, int64_t batch);

 protected:
  at::Tensor advance(const at::Tensor& frames) override;
  void clear(int64_t row) override;
  at::Tensor head(const at::Tensor& pooled) override;

 private:
  struct Layer {
    Layer(const MambaBlock& block);
    MixerStepWeights mixer;
    PackedLinear mlp_fc1, mlp_fc2;  // empty without an MLP
  };
  MambaClassifier& model_;
  std::vector<at::Tensor> conv_states_, ssm_states_;
  MixerStepBuffers mixer_buffers_;
  FrameEmbedder embedder_;
  std::vector<Layer> layers_;
  std::vector<float> residual_, normed_, branch_, mlp_gate_;
  at::Tensor features_;
};

class MambaClassifier : public SequenceClassifier {
 public:
  MambaClassifier(const nlohmann::json& hyperparameters, int64_t n_mels, int64_t n_classes)
      : SequenceClassifier("mamba", hyperparameters, n_mels, n_classes),
        config(MambaConfig::from_json(hyperparameters)) {
    // The input projection and the head keep PyTorch's default Linear init (biases included):
    // upstream's zero-bias rule covers the backbone's Linears only, which here have no biases
    // except dt_proj (docs/MODELS.md 2.4).
    int64_t embedded = n_mels;
    if (config.mel_conv_channels > 0) {
      mel_conv = register_module("mel_conv", MelConv(n_mels, config.mel_conv_channels, config.mel_conv_time_kernel));
      embedded = mel_conv->out_features();
    }
    embedding = register_module("embedding", torch::nn::Linear(embedded, config.d_model));
    layers = register_module("layers", torch::nn::ModuleList());
    for (int64_t i = 0; i < config.n_layers; ++i) {
      blocks.push_back(MambaBlock(config));
      layers->push_back(blocks.back());
    }
    norm_f = register_module("norm_f", RMSNorm(config.d_model, config.norm_eps));
    classifier = register_module("head", torch::nn::Linear(config.d_model, n_classes));
  }

  at::Tensor forward(const at::Tensor& frames) override {
    const at::Tensor x = normalise(frames);
    at::Tensor r = embedding->forward(mel_conv ? mel_conv->forward(x) : x);
    for (auto& block : blocks) r = block->forward(r);
    return classifier->forward(norm_f->forward(r).mean(1));
  }

  // A_log: upstream excludes it from weight decay (which would pull every A towards −1). D is 1-D
  // and gets no decay anyway; dt_proj.bias likewise.
  bool is_state_space_parameter(const std::string& name) const override {
    return name.size() >= 6 && name.compare(name.size() - 6, 6, ".A_log") == 0;
  }

  std::unique_ptr<StreamingSession> start_session(int64_t batch) override {
    return std::make_unique<MambaSession>(*this, batch);
  }

  MambaConfig config;
  MelConv mel_conv{nullptr};  // null: the embedding reads the normalised frame directly
  torch::nn::Linear embedding{nullptr}, classifier{nullptr};
  torch::nn::ModuleList layers{nullptr};
  std::vector<MambaBlock> blocks;  // the same modules as `layers`, typed
  RMSNorm norm_f{nullptr};
};

MambaSession::Layer::Layer(const MambaBlock& block) : mixer(*block->mixer) {
  if (block->mlp) {
    mlp_fc1 = PackedLinear(block->mlp->fc1->weight, {});
    mlp_fc2 = PackedLinear(block->mlp->fc2->weight, {});
  }
}

MambaSession::MambaSession(MambaClassifier& model, int64_t batch)
    : PooledSession(batch, model.config.d_model, model.n_classes()),
      model_(model),
      mixer_buffers_(model.config, batch),
      embedder_(model, model.mel_conv, model.embedding, batch) {
  const MambaConfig& c = model.config;
  for (int64_t i = 0; i < c.n_layers; ++i) {
    conv_states_.push_back(at::zeros({batch, c.d_conv, c.d_inner()}));
    ssm_states_.push_back(at::zeros({batch, c.d_state, c.d_inner()}));
    layers_.emplace_back(model.blocks[i]);
  }
  residual_.assign(batch * c.d_model, 0.0f);
  normed_.assign(batch * c.d_model, 0.0f);
  branch_.assign(batch * c.d_model, 0.0f);
  features_ = at::zeros({batch, c.d_model});
  if (c.has_mlp()) mlp_gate_.assign(batch * 2 * c.mlp_hidden(), 0.0f);
}

at::Tensor MambaSession::advance(const at::Tensor& frames) {
  const MambaConfig& c = model_.config;
  const int64_t rows = frames.size(0), D_ = c.d_model;
  float* residual = residual_.data();
  embedder_.apply(frames, residual);
  auto add_branch = [&] {
    for (int64_t i = 0; i < rows * D_; ++i) residual[i] += branch_[i];
  };
  for (size_t i = 0; i < layers_.size(); ++i) {
    const MambaBlock& block = model_.blocks[i];
    block->norm->forward_into(residual, rows, normed_.data());
    block->mixer->step(normed_.data(), rows, conv_states_[i], ssm_states_[i], layers_[i].mixer, mixer_buffers_,
                       branch_.data());
    add_branch();
    if (block->mlp) {
      // fc2(a ⊙ SiLU(g)) with [a; g] = fc1(x): a is overwritten in place, fc2 reads it with row stride 2·hidden.
      const int64_t hidden = c.mlp_hidden();
      block->norm2->forward_into(residual, rows, normed_.data());
      layers_[i].mlp_fc1.apply(normed_.data(), rows, D_, mlp_gate_.data(), 2 * hidden);
      for (int64_t r = 0; r < rows; ++r) {
        float* a = mlp_gate_.data() + r * 2 * hidden;
        const float* g = a + hidden;
        for (int64_t j = 0; j < hidden; ++j) a[j] *= g[j] / (1.0f + mamba_detail::exp_approx(-g[j]));
      }
      layers_[i].mlp_fc2.apply(mlp_gate_.data(), rows, 2 * hidden, branch_.data(), D_);
      add_branch();
    }
  }
  model_.norm_f->forward_into(residual, rows, features_.data_ptr<float>());
  // PooledSession adds this to its running sums before the next step overwrites it.
  return features_;
}

void MambaSession::clear(int64_t row) {
  embedder_.clear(row);
  for (size_t i = 0; i < conv_states_.size(); ++i) {
    if (row < 0) {
      conv_states_[i].zero_();
      ssm_states_[i].zero_();
    } else {
      conv_states_[i][row].zero_();
      ssm_states_[i][row].zero_();
    }
  }
}

at::Tensor MambaSession::head(const at::Tensor& pooled) {
  c10::InferenceMode inference;
  return model_.classifier->forward(pooled);
}

}  // namespace

std::shared_ptr<SequenceClassifier> make_mamba(const nlohmann::json& hyperparameters, int64_t n_mels,
                                               int64_t n_classes) {
  return std::make_shared<MambaClassifier>(hyperparameters, n_mels, n_classes);
}

}  // namespace escd
