#include "pretrainer.h"

#include <ATen/Functions.h>
#include <spdlog/spdlog.h>
#include <torch/types.h>  // clip_grad.h uses torch::Tensor without including it
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <tuple>

#include "audio/decode.h"
#include "data/batch_loader.h"
#include "jepa_masks.h"
#include "lr_schedule.h"
#include "parameter_copy.h"
#include "models/common/checkpoint.h"
#include "models/common/registry.h"
#include "models/vjepa2/predictor.h"
#include "models/vjepa2/tubelets.h"
#include "models/vjepa2/vjepa2.h"
#include "progress.h"
#include "trainer.h"
#include "util/atomic_file.h"
#include "util/compute_threads.h"

namespace escd::train {
namespace fs = std::filesystem;
namespace {

using vjepa2::Encoder;
using vjepa2::Vjepa2Classifier;

// θ̄ ← m θ̄ + (1 − m) θ
void ema_update(torch::nn::Module& online, torch::nn::Module& target, double momentum) {
  at::NoGradGuard no_grad;
  auto src = online.named_parameters();
  for (auto& p : target.named_parameters()) p.value().mul_(momentum).add_(src[p.key()].detach(), 1.0 - momentum);
}

at::Tensor l1_to_targets(const at::Tensor& prediction, const at::Tensor& target) {
  return (prediction - target).abs().mean();
}

}  // namespace

std::vector<size_t> add_unlabelled_audio(ClipDataset& data, const std::string& dir) {
  std::vector<size_t> added;
  if (!fs::is_directory(dir)) throw std::runtime_error(dir + ": not a directory (--audio-dir)");
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  int skipped = 0;
  for (const auto& path : files) {
    std::vector<float> samples;
    try {
      samples = decode_audio_file(path.string(), 16000).samples;
    } catch (const std::exception& e) {
      spdlog::warn("pretrain: skipping {}", e.what());
      ++skipped;
      continue;
    }
    for (size_t start = 0; start < samples.size(); start += data.clip_samples) {
      const size_t end = std::min(samples.size(), start + data.clip_samples);
      std::vector<float> piece(samples.begin() + start, samples.begin() + end);
      piece.resize(data.clip_samples, 0.0f);
      ClipInfo info;
      info.filename = path.filename().string();
      info.audio_path = path.string();
      info.fold = 0;
      data.index.clips.push_back(info);
      data.waveforms.push_back(std::move(piece));
      added.push_back(data.waveforms.size() - 1);
    }
  }
  spdlog::info("pretrain: {} extra clips from {} files under {} ({} skipped)", added.size(), files.size() - skipped,
               dir, skipped);
  return added;
}

namespace {

// What pretrain's pieces share: the model, whose encoder is the context encoder, the target
// encoder (its average), the predictor, the optimiser over the context encoder and predictor, and
// the loader.
struct JepaTraining {
  JepaTraining(const PretrainOptions& o, const ClipDataset& d, const std::vector<size_t>& c)
      : options(o), data(d), clips(c) {}

  const PretrainOptions& options;
  const ClipDataset& data;
  const std::vector<size_t>& clips;
  std::shared_ptr<SequenceClassifier> model_base;  // owns `model`
  Vjepa2Classifier* model = nullptr;
  at::Tensor input_mean, input_std;  // per-band log-mel statistics of the clips
  Encoder target_encoder{nullptr};
  vjepa2::Predictor predictor{nullptr};
  MaskSpec generators[2] = {small_blocks(), large_blocks()};
  std::unique_ptr<torch::optim::AdamW> optimizer;
  std::vector<at::Tensor> trained;  // every optimised parameter, for the gradient clip
  std::unique_ptr<BatchLoader> loader;
  double warmup_steps = 0.0, total_steps = 0.0;
  std::mt19937_64 mask_rng;
  int64_t step = 0;  // optimiser steps so far
};

// Two groups, matrices with weight decay and the rest (biases, norms) without, over the context
// encoder and the predictor.
void make_jepa_optimizer(JepaTraining& t) {
  const TrainConfig& cfg = t.options.config;
  std::vector<at::Tensor> decay, no_decay;
  auto sort_parameters = [&](torch::nn::Module& m) {
    for (auto& p : m.parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  };
  sort_parameters(*t.model->encoder);
  sort_parameters(*t.predictor);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(cfg.lr).weight_decay(cfg.weight_decay)));
  groups.emplace_back(no_decay,
                      std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(cfg.lr).weight_decay(0.0)));
  t.optimizer = std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(cfg.lr));
  t.trained = decay;
  t.trained.insert(t.trained.end(), no_decay.begin(), no_decay.end());
}

std::unique_ptr<BatchLoader> make_pretraining_loader(const JepaTraining& t) {
  const TrainConfig& cfg = t.options.config;
  LoaderOptions lo;
  lo.batch_size = cfg.batch_size;
  lo.augment = true;
  lo.augment_config = cfg.augment;
  lo.augment_config.mix_prob = 0.0;  // mixing blends two clips' targets: meaningless without labels
  lo.augment_config.mask_value = t.input_mean.mean().item<float>();
  lo.seed = cfg.seed;
  lo.drop_last = true;
  return std::make_unique<BatchLoader>(t.data, t.clips, lo);
}

// The model, a target encoder starting as a copy of the context encoder, the predictor, the
// optimiser and the loader. After the seed, the global generator is drawn from in this order
// (model, predictor initialisation): seeded runs depend on it.
JepaTraining set_up_pretraining(const PretrainOptions& o, const ClipDataset& data, const std::vector<size_t>& clips) {
  const TrainConfig& cfg = o.config;
  at::manual_seed(cfg.seed);
  JepaTraining t(o, data, clips);
  t.model_base = create_model("vjepa2", o.hyperparameters);
  t.model = dynamic_cast<Vjepa2Classifier*>(t.model_base.get());
  const vjepa2::Options& opt = t.model->options();
  std::tie(t.input_mean, t.input_std) = input_statistics(data, clips, t.model->level_norm());
  t.model->set_input_statistics(t.input_mean, t.input_std);
  t.target_encoder = Encoder(opt, t.model->n_mels());
  copy_parameters(*t.model->encoder, *t.target_encoder);
  t.target_encoder->eval();
  for (auto& p : t.target_encoder->parameters()) p.set_requires_grad(false);
  t.predictor = vjepa2::Predictor(opt, t.model->n_mels(), 2);
  make_jepa_optimizer(t);
  t.loader = make_pretraining_loader(t);
  const double steps_per_epoch = static_cast<double>(t.loader->batches_per_epoch());
  t.total_steps = steps_per_epoch * cfg.epochs;
  t.warmup_steps = steps_per_epoch * cfg.warmup_epochs;
  t.mask_rng.seed(cfg.seed ^ 0x6a6570616d61736bULL);
  return t;
}

// Sets both groups' rate for this step of the warm-up and cosine schedule, and returns it.
double set_learning_rate(JepaTraining& t) {
  const TrainConfig& cfg = t.options.config;
  const double multiplier = warmup_cosine(static_cast<double>(t.step), t.warmup_steps, t.total_steps, cfg.min_lr / cfg.lr);
  for (auto& g : t.optimizer->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(cfg.lr * multiplier);
  return cfg.lr * multiplier;
}

// The JEPA loss of one batch: for each mask generator, the context encoder sees the visible tokens
// and the predictor predicts the target encoder's layer-normalised features at the masked ones.
struct JepaLoss {
  at::Tensor loss;
  int64_t clips = 0;
};

JepaLoss jepa_loss(JepaTraining& t, const at::Tensor& batch_features) {
  const vjepa2::Options& opt = t.model->options();
  Encoder& context_encoder = t.model->encoder;
  // The MelConv (if any) stays as initialised here: it feeds the target encoder too, and a front
  // end trained through the context path could collapse both to constants. fit trains it.
  at::Tensor features;
  {
    at::NoGradGuard no_grad;
    features = t.model->frame_features(batch_features);
  }
  const at::Tensor patches = vjepa2::cut_tubelets(features, opt.tubelet_frames, opt.patch_width(), opt.max_tubelets);
  const vjepa2::TokenGrid grid{patches.size(1) / context_encoder->mel_patches(), context_encoder->mel_patches()};
  at::Tensor targets;
  {
    at::NoGradGuard no_grad;
    const at::Tensor h = t.target_encoder->encode(t.target_encoder->embed(patches), grid.tubelets);
    targets = at::layer_norm(h, {h.size(-1)});
  }
  const at::Tensor embedded = context_encoder->embed(patches);
  at::Tensor loss = at::zeros({});
  for (int64_t kind = 0; kind < 2; ++kind) {
    const JepaMasks masks = sample_jepa_masks(grid, patches.size(0), t.generators[kind], t.mask_rng);
    const at::Tensor context = context_encoder->encode(embedded, grid.tubelets, masks.context);
    const at::Tensor predicted = t.predictor->forward(context, masks.context, masks.target, kind);
    loss = loss + l1_to_targets(predicted, vjepa2::gather_tokens(targets, masks.target)) / 2.0;
  }
  return {loss, patches.size(0)};
}

struct PretrainEpoch {
  double loss = 0.0;      // mean over the batches
  double lr = 0.0;        // the last step's
  double momentum = 0.0;  // the target encoder's, at the last step
};

// One pass over the clips: an optimiser step per batch, then the target encoder's average.
PretrainEpoch pretrain_one_epoch(JepaTraining& t, int epoch) {
  const PretrainOptions& o = t.options;
  const TrainConfig& cfg = o.config;
  t.loader->start_epoch(epoch);
  t.model->encoder->train();
  t.predictor->train();
  Progress progress(epoch + 1, cfg.epochs, t.loader->batches_per_epoch());
  PretrainEpoch result;
  double loss_sum = 0.0;
  int64_t batches = 0, seen = 0;
  while (auto batch = t.loader->next()) {
    result.lr = set_learning_rate(t);
    const JepaLoss loss = jepa_loss(t, batch->features);
    t.optimizer->zero_grad();
    loss.loss.backward();
    if (cfg.grad_clip > 0) torch::nn::utils::clip_grad_norm_(t.trained, cfg.grad_clip);
    t.optimizer->step();
    result.momentum =
        o.ema_start + (o.ema_end - o.ema_start) * static_cast<double>(t.step) / std::max(1.0, t.total_steps);
    ema_update(*t.model->encoder, *t.target_encoder, result.momentum);
    ++t.step;
    loss_sum += loss.loss.item<double>();
    ++batches;
    seen += loss.clips;
    progress.update(static_cast<size_t>(batches), loss_sum / batches, static_cast<size_t>(seen));
  }
  progress.finish();
  result.loss = loss_sum / std::max<int64_t>(batches, 1);
  return result;
}

// pretrain.ckpt. The target encoder is the one downstream training starts from (as upstream
// evaluates it), with the MelConv it was pretrained on (the model's, which pretraining leaves as
// initialised).
void export_target_encoder(JepaTraining& t, int epoch, double epoch_loss) {
  auto exported = create_model("vjepa2", t.model->hyperparameters());
  auto* out = dynamic_cast<Vjepa2Classifier*>(exported.get());
  copy_parameters(*t.model, *out);
  out->set_input_statistics(t.input_mean, t.input_std);
  copy_parameters(*t.target_encoder, *out->encoder);
  save_checkpoint(t.options.run_dir + "/pretrain.ckpt", *out, FrontEndConfig{}, t.data.index.class_names,
                  {{"pretrain", true}, {"epoch", epoch + 1}, {"pretrain_loss", epoch_loss},
                   {"pretrain_clips", t.clips.size()}, {"train_config", t.options.config.to_json()}});
}

}  // namespace

double pretrain(const PretrainOptions& o, const ClipDataset& data, const std::vector<size_t>& clips) {
  const TrainConfig& cfg = o.config;
  using clock = std::chrono::steady_clock;
  set_compute_threads(cfg.threads);
  std::error_code ec;
  fs::create_directories(o.run_dir, ec);
  if (ec || !fs::is_directory(o.run_dir)) throw std::runtime_error(o.run_dir + ": cannot create the run directory");
  if (clips.empty()) throw std::runtime_error("pretrain: no clips");
  JepaTraining t = set_up_pretraining(o, data, clips);

  std::vector<std::string> metrics;
  double epoch_loss = 0.0;
  for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
    const auto t0 = clock::now();
    const PretrainEpoch result = pretrain_one_epoch(t, epoch);
    epoch_loss = result.loss;
    const double seconds = std::chrono::duration<double>(clock::now() - t0).count();
    spdlog::info("pretrain epoch {}/{}: loss {:.4f} lr {:.2e} momentum {:.5f} {:.1f}s", epoch + 1, cfg.epochs,
                 epoch_loss, result.lr, result.momentum, seconds);
    metrics.push_back(nlohmann::json{{"epoch", epoch}, {"pretrain_loss", epoch_loss}, {"lr", result.lr},
                                     {"ema_momentum", result.momentum}, {"seconds", seconds}}
                          .dump());
    std::string text;
    for (const auto& line : metrics) text += line + "\n";
    write_file_atomic(o.run_dir + "/metrics.jsonl", text);
    export_target_encoder(t, epoch, epoch_loss);
  }
  return epoch_loss;
}

}  // namespace escd::train
