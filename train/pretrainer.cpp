#include "pretrainer.h"

#include <ATen/Functions.h>
#include <spdlog/spdlog.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <filesystem>
#include <random>

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

std::vector<size_t> add_unlabelled_audio(Esc50Dataset& data, const std::string& dir) {
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

double pretrain(const PretrainOptions& o, const Esc50Dataset& data, const std::vector<size_t>& clips) {
  const TrainConfig& cfg = o.config;
  using clock = std::chrono::steady_clock;
  set_compute_threads(cfg.threads);
  std::error_code ec;
  fs::create_directories(o.run_dir, ec);
  if (ec || !fs::is_directory(o.run_dir)) throw std::runtime_error(o.run_dir + ": cannot create the run directory");
  if (clips.empty()) throw std::runtime_error("pretrain: no clips");

  at::manual_seed(cfg.seed);
  auto model_base = create_model("vjepa2", o.hyperparameters);
  auto* model = dynamic_cast<Vjepa2Classifier*>(model_base.get());
  const vjepa2::Options& opt = model->options();
  const auto [mean, std] = input_statistics(data, clips, model->level_norm());
  model->set_input_statistics(mean, std);
  Encoder& context_encoder = model->encoder;
  Encoder target_encoder(opt, model->n_mels());
  copy_parameters(*context_encoder, *target_encoder);
  target_encoder->eval();
  for (auto& p : target_encoder->parameters()) p.set_requires_grad(false);
  vjepa2::Predictor predictor(opt, model->n_mels(), 2);
  const MaskSpec generators[2] = {small_blocks(), large_blocks()};

  std::vector<at::Tensor> decay, no_decay;
  auto sort_parameters = [&](torch::nn::Module& m) {
    for (auto& p : m.parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  };
  sort_parameters(*context_encoder);
  sort_parameters(*predictor);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(cfg.lr).weight_decay(cfg.weight_decay)));
  groups.emplace_back(no_decay,
                      std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(cfg.lr).weight_decay(0.0)));
  torch::optim::AdamW optimizer(groups, torch::optim::AdamWOptions(cfg.lr));
  std::vector<at::Tensor> trained = decay;
  trained.insert(trained.end(), no_decay.begin(), no_decay.end());

  LoaderOptions lo;
  lo.batch_size = cfg.batch_size;
  lo.augment = true;
  lo.augment_config = cfg.augment;
  lo.augment_config.mix_prob = 0.0;  // mixing blends two clips' targets: meaningless without labels
  lo.augment_config.mask_value = mean.mean().item<float>();
  lo.seed = cfg.seed;
  lo.drop_last = true;
  BatchLoader loader(data, clips, lo);
  const double steps_per_epoch = static_cast<double>(loader.batches_per_epoch());
  const double total_steps = steps_per_epoch * cfg.epochs, warmup_steps = steps_per_epoch * cfg.warmup_epochs;
  std::mt19937_64 mask_rng(cfg.seed ^ 0x6a6570616d61736bULL);

  std::vector<std::string> metrics;
  double epoch_loss = 0.0;
  int64_t step = 0;
  for (int epoch = 0; epoch < cfg.epochs; ++epoch) {
    const auto t0 = clock::now();
    loader.start_epoch(epoch);
    context_encoder->train();
    predictor->train();
    Progress progress(epoch + 1, cfg.epochs, loader.batches_per_epoch());
    double loss_sum = 0.0, lr_now = 0.0, momentum = 0.0;
    int64_t batches = 0, seen = 0;
    while (auto batch = loader.next()) {
      const double multiplier = warmup_cosine(static_cast<double>(step), warmup_steps, total_steps, cfg.min_lr / cfg.lr);
      for (auto& g : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(cfg.lr * multiplier);
      lr_now = cfg.lr * multiplier;
      // The MelConv (if any) stays as initialised here: it feeds the target encoder too, and a front
      // end trained through the context path could collapse both to constants. fit trains it.
      at::Tensor features;
      {
        at::NoGradGuard no_grad;
        features = model->frame_features(batch->features);
      }
      const at::Tensor patches = vjepa2::cut_tubelets(features, opt.tubelet_frames, opt.patch_width(), opt.max_tubelets);
      const vjepa2::TokenGrid grid{patches.size(1) / context_encoder->mel_patches(), context_encoder->mel_patches()};
      at::Tensor targets;
      {
        at::NoGradGuard no_grad;
        const at::Tensor h = target_encoder->encode(target_encoder->embed(patches), grid.tubelets);
        targets = at::layer_norm(h, {h.size(-1)});
      }
      const at::Tensor embedded = context_encoder->embed(patches);
      at::Tensor loss = at::zeros({});
      for (int64_t kind = 0; kind < 2; ++kind) {
        const JepaMasks masks = sample_jepa_masks(grid, patches.size(0), generators[kind], mask_rng);
        const at::Tensor context = context_encoder->encode(embedded, grid.tubelets, masks.context);
        const at::Tensor predicted = predictor->forward(context, masks.context, masks.target, kind);
        loss = loss + l1_to_targets(predicted, vjepa2::gather_tokens(targets, masks.target)) / 2.0;
      }
      optimizer.zero_grad();
      loss.backward();
      if (cfg.grad_clip > 0) torch::nn::utils::clip_grad_norm_(trained, cfg.grad_clip);
      optimizer.step();
      momentum = o.ema_start + (o.ema_end - o.ema_start) * static_cast<double>(step) / std::max(1.0, total_steps);
      ema_update(*context_encoder, *target_encoder, momentum);
      ++step;
      loss_sum += loss.item<double>();
      ++batches;
      seen += patches.size(0);
      progress.update(static_cast<size_t>(batches), loss_sum / batches, static_cast<size_t>(seen));
    }
    progress.finish();
    epoch_loss = loss_sum / std::max<int64_t>(batches, 1);
    const double seconds = std::chrono::duration<double>(clock::now() - t0).count();
    spdlog::info("pretrain epoch {}/{}: loss {:.4f} lr {:.2e} momentum {:.5f} {:.1f}s", epoch + 1, cfg.epochs,
                 epoch_loss, lr_now, momentum, seconds);
    metrics.push_back(nlohmann::json{{"epoch", epoch}, {"pretrain_loss", epoch_loss}, {"lr", lr_now},
                                     {"ema_momentum", momentum}, {"seconds", seconds}}
                          .dump());
    std::string text;
    for (const auto& line : metrics) text += line + "\n";
    write_file_atomic(o.run_dir + "/metrics.jsonl", text);

    // The target encoder is the one downstream training starts from (as upstream evaluates it), with
    // the MelConv it was pretrained on (the model's, which pretraining leaves as initialised).
    auto exported = create_model("vjepa2", model->hyperparameters());
    auto* out = dynamic_cast<Vjepa2Classifier*>(exported.get());
    copy_parameters(*model, *out);
    out->set_input_statistics(mean, std);
    copy_parameters(*target_encoder, *out->encoder);
    save_checkpoint(o.run_dir + "/pretrain.ckpt", *out, FrontEndConfig{}, data.index.class_names,
                    {{"pretrain", true}, {"epoch", epoch + 1}, {"pretrain_loss", epoch_loss},
                     {"pretrain_clips", clips.size()}, {"train_config", cfg.to_json()}});
  }
  return epoch_loss;
}

}  // namespace escd::train
