#include "trainer.h"

#include <ATen/Context.h>
#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <spdlog/spdlog.h>
#include <torch/types.h>  // clip_grad.h uses torch::Tensor without including it
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>

#include "data/batch_loader.h"
#include "distillation.h"
#include "evaluation.h"
#include "invocation.h"
#include "losses.h"
#include "features/log_mel.h"
#include "lr_schedule.h"
#include "models/common/parameter_count.h"
#include "parameter_copy.h"
#include "models/common/checkpoint.h"
#include "models/common/label_set.h"
#include "models/common/window_level.h"
#include "models/common/registry.h"
#include "progress.h"
#include "resume_state.h"
#include "run_directory.h"
#include "util/atomic_file.h"
#include "util/compute_threads.h"
#include "util/fnv_hash.h"
#include "weight_ema.h"

namespace escd::train {
namespace fs = std::filesystem;
namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string git_revision() {
  std::string out;
  if (FILE* p = popen("git -C \"" ESCD_SOURCE_DIR "\" rev-parse --short HEAD 2>/dev/null", "r")) {
    char buf[64];
    while (fgets(buf, sizeof(buf), p)) out += buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.empty() ? "unknown" : out;
}

// The optimiser's groups: matrices with weight decay; biases, norms and other 1-D tensors without;
// state-space dynamics at their own learning rate without decay. Each group's base rate is kept
// in `base_lrs` to apply the schedule multiplier to.
struct ParamGroups {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  std::vector<double> base_lrs;
};

ParamGroups make_param_groups(SequenceClassifier& model, const TrainConfig& cfg) {
  std::vector<at::Tensor> decay, no_decay, ssm;
  for (const auto& p : model.named_parameters()) {
    if (!p.value().requires_grad()) continue;  // frozen (freeze_backbone)
    if (model.is_state_space_parameter(p.key())) {
      ssm.push_back(p.value());
    } else if (p.value().dim() >= 2) {
      decay.push_back(p.value());
    } else {
      no_decay.push_back(p.value());
    }
  }
  ParamGroups out;
  auto add = [&](std::vector<at::Tensor> params, double lr, double wd) {
    if (params.empty()) return;
    auto options = std::make_unique<torch::optim::AdamWOptions>(lr);
    options->weight_decay(wd);
    out.groups.emplace_back(std::move(params), std::move(options));
    out.base_lrs.push_back(lr);
  };
  add(decay, cfg.lr, cfg.weight_decay);
  add(no_decay, cfg.lr, 0.0);
  add(ssm, cfg.ssm_lr, 0.0);
  return out;
}

}  // namespace

std::pair<at::Tensor, at::Tensor> input_statistics(const ClipDataset& data, const std::vector<size_t>& clips,
                                                   LevelNorm level_norm) {
  const FrontEndConfig fe;
  LogMelFrameComputer computer(fe);
  std::vector<double> sum(fe.n_mels, 0.0), sum_sq(fe.n_mels, 0.0);
  std::vector<float> frame(fe.n_mels);
  WindowLevelTracker window_level(1);  // the model's view of each clip when it normalises levels
  int64_t count = 0;
  for (size_t clip : clips) {
    const auto& w = data.waveforms[clip];
    window_level.clear(-1);
    for (size_t j = 0; j < fe.frames_for(w.size()); ++j) {
      computer.compute(w.data() + j * fe.hop, frame.data());
      if (level_norm == LevelNorm::window_max) window_level.apply(frame.data(), 1, fe.n_mels);
      for (int m = 0; m < fe.n_mels; ++m) {
        sum[m] += frame[m];
        sum_sq[m] += static_cast<double>(frame[m]) * frame[m];
      }
      ++count;
    }
  }
  at::Tensor mean = at::zeros({fe.n_mels}), std = at::ones({fe.n_mels});
  for (int m = 0; count > 0 && m < fe.n_mels; ++m) {
    const double mu = sum[m] / count;
    mean[m] = mu;
    std[m] = std::sqrt(std::max(sum_sq[m] / count - mu * mu, 1e-12));
  }
  return {mean, std};
}

std::vector<std::string> run_class_names(const ClipDataset& data, const TrainConfig& config) {
  std::vector<std::string> names = data.index.class_names;
  if (config.background_fraction > 0.0) names.push_back(kBackgroundLabel);
  return names;
}

std::string data_fingerprint(const ClipDataset& data) {
  Fnv1a hash;
  auto feed = [&hash](const void* p, size_t n) { hash.feed(p, n); };
  for (size_t i = 0; i < data.index.clips.size(); ++i) {
    const ClipInfo& c = data.index.clips[i];
    feed(c.filename.data(), c.filename.size());
    feed(&c.fold, sizeof(c.fold));
    feed(&c.target, sizeof(c.target));
    // Every 16th sample: enough to tell datasets and resamplings apart, cheap on 640 MB.
    const auto& w = data.waveforms[i];
    for (size_t s = 0; s < w.size(); s += 16) feed(&w[s], sizeof(float));
  }
  return hash.hex();
}

namespace {

using Clock = std::chrono::steady_clock;

// The model and everything that trains it, built once by set_up_training and shared by fit's
// pieces (one epoch, validation, the final evaluation).
struct Training {
  Training(const FitOptions& o, const ClipDataset& d, TrainingGroup& g) : options(o), data(d), group(g) {}

  const FitOptions& options;
  const ClipDataset& data;
  TrainingGroup& group;  // this process alone, or the ranks training together
  std::vector<std::string> class_names;  // the dataset's, and the background class when the recipe adds one
  std::shared_ptr<SequenceClassifier> model;
  std::vector<size_t> train_clips, val_clips, test_clips;
  // Without validation folds (fit --refit) nothing can pick an epoch: the last one is kept.
  bool validating = false;
  std::unique_ptr<Teachers> teachers;  // null when not distilling
  std::unique_ptr<torch::optim::AdamW> optimizer;
  std::vector<double> base_lrs;  // each optimiser group's rate, before the schedule's multiplier
  std::unique_ptr<WeightEma> ema;
  std::unique_ptr<BatchLoader> loader;
  double warmup_steps = 0.0, total_steps = 0.0;
};

// What the run directory keeps across epochs and processes: where the run stands (resume.state),
// the metrics lines so far, and what every checkpoint says about the run and its data.
struct RunRecord {
  std::string metrics_path, state_path;
  nlohmann::json identity;  // the settings a resume must share with the run it continues
  ResumeState state;
  std::vector<std::string> metrics;  // metrics.jsonl, one line per completed epoch
  nlohmann::json train_config;
  std::string fingerprint, revision;
  std::string init_checkpoint;  // fit --init's, if any
  std::optional<uint64_t> split_seed;  // the seed the data's folds were dealt by, if they were
  size_t train_clips = 0;

  // The training record a checkpoint of this epoch carries.
  nlohmann::json training_meta(int epoch, const nlohmann::json& val_acc) const {
    nlohmann::json meta{{"epoch", epoch + 1},     {"val_accuracy", val_acc}, {"train_config", train_config},
                        {"data_fingerprint", fingerprint}, {"date", utc_now()},  {"git_revision", revision},
                        {"train_clips", train_clips}};
    if (!init_checkpoint.empty()) meta["init_checkpoint"] = init_checkpoint;
    if (split_seed) meta["split_seed"] = *split_seed;
    return meta;
  }
};

// --init: the checkpoint's weights. With the same classes, all of them; with other classes (transfer to
// the user's own sounds), all but the final layer, which starts fresh for the new label set, and the
// checkpoint's input statistics, which its backbone was trained with.
void initialise_from_checkpoint(const std::string& path, const std::string& architecture, SequenceClassifier& model,
                                const std::vector<std::string>& class_names) {
  const Checkpoint init = load_checkpoint(path, architecture);
  const bool transfer = init.class_names != class_names;
  const auto final_layer = [](const std::string& name) { return name.rfind("head.", 0) == 0; };
  try {
    copy_parameters(*init.model, model, transfer ? std::function<bool(const std::string&)>(final_layer) : nullptr);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("--init " + path + ": " + e.what() + " (a model of other hyperparameters)");
  }
  if (!transfer) {
    spdlog::info("initialised from {}", path);
    return;
  }
  model.set_input_statistics(init.model->input_mean(), init.model->input_inv_std().reciprocal());
  spdlog::info("transfer from {}: its backbone and input statistics, a new final layer for {} classes (it had {})", path,
               class_names.size(), init.class_names.size());
}

// freeze_backbone: only the model's head (is_head_parameter) is trained; everything else keeps its
// --init values bit for bit (no gradient, no weight decay, no weight average).
void freeze_backbone(SequenceClassifier& model) {
  size_t frozen = 0, trained = 0;
  for (auto& p : model.named_parameters()) {
    const bool head = model.is_head_parameter(p.key());
    p.value().set_requires_grad(head);
    (head ? trained : frozen) += static_cast<size_t>(p.value().numel());
  }
  spdlog::info("backbone frozen: {} parameters trained (the head), {} kept", trained, frozen);
}

std::unique_ptr<Teachers> load_teachers(const TrainConfig& cfg, const std::vector<std::string>& class_names) {
  if (cfg.teachers.empty()) return nullptr;
  auto teachers = std::make_unique<Teachers>(cfg.teachers, class_names, held_out_folds(cfg));
  spdlog::info("distilling from {} teacher(s) at weight {} and temperature {}", teachers->size(), cfg.distill_weight,
               cfg.distill_temperature);
  return teachers;
}

// The training folds, augmented, in whole batches, shuffled by the recipe's seed.
std::unique_ptr<BatchLoader> make_training_loader(const Training& t, const at::Tensor& training_mean) {
  const TrainConfig& cfg = t.options.config;
  LoaderOptions lo;
  lo.batch_size = cfg.batch_size;
  lo.augment = true;
  lo.augment_config = cfg.augment;
  // Masked time-frequency cells take the training mean (0 after normalisation): a mask of raw 0
  // (the prototype's choice) would be a loud, unnatural stripe in the log-mel domain.
  lo.augment_config.mask_value = training_mean.mean().item<float>();
  lo.seed = cfg.seed;
  lo.drop_last = true;
  lo.n_classes = t.model->n_classes();
  lo.background_fraction = cfg.background_fraction;
  lo.background_class = static_cast<int>(background_index(t.class_names).value_or(0));
  lo.shard = t.group.rank();
  lo.shards = t.group.world_size();
  lo.crop_samples = crop_samples(cfg, lo.front_end.sample_rate);
  lo.room_free_view = uses_room_free_rows(cfg);
  return std::make_unique<BatchLoader>(t.data, t.train_clips, lo);
}

// The model (input statistics of the training folds, --init's weights), the teachers, the
// optimiser, the weight average and the loader. After the seed, the global generator is drawn from
// in this order (model initialisation, then checkpoints loaded): seeded runs depend on it.
Training set_up_training(const FitOptions& o, const ClipDataset& data, TrainingGroup& group) {
  const TrainConfig& cfg = o.config;
  at::manual_seed(cfg.seed);
  Training t(o, data, group);
  t.class_names = run_class_names(data, cfg);
  t.model = create_model(o.model, o.hyperparameters, FrontEndConfig{}.n_mels, static_cast<int64_t>(t.class_names.size()));
  t.train_clips = clips_in_folds(data.index, cfg.train_folds);
  t.val_clips = clips_in_folds(data.index, cfg.val_folds);
  t.test_clips = clips_in_folds(data.index, cfg.test_folds);
  if (t.train_clips.empty()) throw std::runtime_error("no training clips in folds " + nlohmann::json(cfg.train_folds).dump());
  t.validating = !cfg.val_folds.empty();
  const auto [mean, std] = input_statistics(data, t.train_clips, t.model->level_norm());
  t.model->set_input_statistics(mean, std);
  if (!o.init_checkpoint.empty()) initialise_from_checkpoint(o.init_checkpoint, o.model, *t.model, t.class_names);
  if (cfg.freeze_backbone) {
    if (o.init_checkpoint.empty()) throw std::invalid_argument("freeze_backbone needs a trained backbone: --init CHECKPOINT");
    freeze_backbone(*t.model);
  }
  t.teachers = load_teachers(cfg, t.class_names);

  ParamGroups groups = make_param_groups(*t.model, cfg);
  t.optimizer = std::make_unique<torch::optim::AdamW>(groups.groups, torch::optim::AdamWOptions(cfg.lr));
  t.base_lrs = groups.base_lrs;
  t.ema = std::make_unique<WeightEma>(*t.model, cfg.ema_decay);
  t.loader = make_training_loader(t, mean);
  const double steps_per_epoch = static_cast<double>(t.loader->batches_per_epoch());
  t.total_steps = steps_per_epoch * cfg.epochs;
  t.warmup_steps = steps_per_epoch * cfg.warmup_epochs;
  return t;
}

// Data-parallel ranks must run the same code on the same data with the same recipe, and agree on
// whether they resume: refused at the start, naming the rank and the setting that differ.
void check_ranks_agree(Training& t, const RunRecord& run) {
  if (t.group.world_size() == 1) return;
  t.group.check_same_settings({{"esc-train build", file_fingerprint("/proc/self/exe")},
                               {"recipe", run.identity},
                               {"data", run.fingerprint},
                               {"init checkpoint", t.options.init_checkpoint.empty()
                                                       ? std::string()
                                                       : file_fingerprint(t.options.init_checkpoint)},
                               {"--resume", t.options.resume},
                               {"--stop-after", t.options.stop_after_epochs},
                               {"WORLD_SIZE", t.group.world_size()}});
}

// Every rank starts from rank 0's weights (and weight average), whatever it initialised or loaded.
void start_from_leaders_weights(Training& t) {
  std::vector<at::Tensor> tensors;
  for (const auto& p : t.model->named_parameters()) tensors.push_back(p.value().detach());
  for (const auto& b : t.model->named_buffers()) tensors.push_back(b.value());
  for (const at::Tensor& s : t.ema->shadow()) tensors.push_back(s);
  at::NoGradGuard no_grad;
  t.group.broadcast_from_leader(tensors);
}

// Continues the run in the directory (--resume with a resume.state: weights, weight average,
// optimiser, generator and epoch as the last completed epoch left them) or starts it.
RunRecord open_run_record(Training& t) {
  const FitOptions& o = t.options;
  RunRecord run;
  run.metrics_path = o.run_dir + "/metrics.jsonl";
  run.state_path = o.run_dir + "/resume.state";
  run.identity = {{"model", o.model}, {"hyperparameters", t.model->hyperparameters()}, {"config", o.config.to_json()}};
  // Same teacher paths are not enough: a checkpoint rewritten in place would change the targets.
  if (t.teachers) run.identity["teacher_fingerprints"] = t.teachers->fingerprints();
  run.fingerprint = data_fingerprint(t.data);
  check_ranks_agree(t, run);
  // Rank 0 reads the run directory; the other ranks (maybe on other machines) get its resume state.
  std::string state_bytes;
  if (o.resume && t.group.leader() && fs::exists(run.state_path)) {
    std::ifstream in(run.state_path, std::ios::binary);
    state_bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  state_bytes = t.group.share_from_leader("resume.state", state_bytes);
  if (!state_bytes.empty()) {
    run.state = load_resume_state(run.state_path, state_bytes, *t.model, *t.ema, *t.optimizer, run.identity);
    spdlog::info("resuming {} at epoch {} (best validation accuracy so far {:.4f})", o.run_dir, run.state.next_epoch + 1,
                 run.state.best_val);
  } else if (o.resume) {
    spdlog::warn("{}: no resume.state, starting from scratch", o.run_dir);
  }
  start_from_leaders_weights(t);
  if (t.group.leader()) run.metrics = read_metrics_before(run.metrics_path, run.state.next_epoch);
  run.train_config = o.config.to_json();
  run.init_checkpoint = o.init_checkpoint;
  run.split_seed = t.data.index.split_seed;
  run.revision = git_revision();
  run.train_clips = t.train_clips.size();
  return run;
}

// Sets every optimiser group's rate for this step of the warm-up and cosine schedule. Returns the
// recipe's peak rate at this step, what the metrics report.
double set_learning_rate(Training& t, int64_t global_step) {
  const TrainConfig& cfg = t.options.config;
  const double multiplier =
      warmup_cosine(static_cast<double>(global_step), t.warmup_steps, t.total_steps, cfg.min_lr / cfg.lr);
  auto& groups = t.optimizer->param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    static_cast<torch::optim::AdamWOptions&>(groups[g].options()).lr(t.base_lrs[g] * multiplier);
  }
  return cfg.lr * multiplier;
}

// An epoch's sums over its batches, weighted by their clips.
struct EpochTotals {
  double loss_sum = 0.0, distill_sum = 0.0, consistency_sum = 0.0;
  int64_t correct = 0, seen = 0;
  double lr = 0.0;  // the last step's
};

// One optimiser step: the label loss (mixed with the teachers' when distilling, plus the
// consistency with the room-free rows when asked), clipped gradients, then the weight average.
void train_on_batch(Training& t, const Batch& batch, EpochTotals& totals) {
  const TrainConfig& cfg = t.options.config;
  const at::Tensor logits = t.model->forward(batch.features);
  at::Tensor loss = label_loss(logits, batch.targets, cfg.label_smoothing);
  if (t.teachers) {
    const at::Tensor& teachers_hear = cfg.distill_room_free ? batch.room_free_features : batch.features;
    const at::Tensor distill = distillation_loss(
        logits, t.teachers->probabilities(teachers_hear, cfg.distill_temperature), cfg.distill_temperature);
    totals.distill_sum += distill.item<double>() * batch.clips.size();
    loss = (1.0 - cfg.distill_weight) * loss + cfg.distill_weight * distill;
  }
  if (cfg.consistency_weight > 0.0) {
    at::Tensor room_free;
    {
      at::NoGradGuard no_grad;
      room_free = at::softmax(t.model->forward(batch.room_free_features), 1);
    }
    const at::Tensor consistency = soft_cross_entropy(logits, room_free);
    totals.consistency_sum += consistency.item<double>() * batch.clips.size();
    loss = loss + cfg.consistency_weight * consistency;
  }
  totals.loss_sum += loss.item<double>() * batch.clips.size();
  t.optimizer->zero_grad();
  loss.backward();
  t.group.average_gradients(t.model->parameters());  // each rank's loss is its share's mean
  if (cfg.grad_clip > 0) torch::nn::utils::clip_grad_norm_(t.model->parameters(), cfg.grad_clip);
  t.optimizer->step();
  t.ema->update();
  totals.correct += logits.argmax(1).eq(batch.labels).sum().item<int64_t>();
  totals.seen += static_cast<int64_t>(batch.clips.size());
}

// The epoch's sums over every rank's batches.
EpochTotals totals_over_ranks(TrainingGroup& group, const EpochTotals& mine) {
  const std::vector<double> sums = group.sum({mine.loss_sum, mine.distill_sum, mine.consistency_sum,
                                              static_cast<double>(mine.correct), static_cast<double>(mine.seen)});
  EpochTotals all = mine;
  all.loss_sum = sums[0];
  all.distill_sum = sums[1];
  all.consistency_sum = sums[2];
  all.correct = static_cast<int64_t>(sums[3]);
  all.seen = static_cast<int64_t>(sums[4]);
  return all;
}

// One pass over the training folds. Returns the epoch's metrics line, without validation and the
// epoch's total time.
nlohmann::json train_one_epoch(Training& t, int epoch, int64_t& global_step) {
  const auto t0 = Clock::now();
  const double wait_before = t.loader->wait_seconds();
  t.loader->start_epoch(epoch);
  t.model->train();
  // Data-parallel: each rank draws its own dropout masks, from (seed, epoch, rank), so that a resumed
  // run draws what an uninterrupted one would. One process keeps its single seeded stream.
  if (t.group.world_size() > 1) {
    at::manual_seed(t.options.config.seed * 1000003ULL + static_cast<uint64_t>(epoch) * 1009ULL +
                    static_cast<uint64_t>(t.group.rank()));
  }
  Progress progress(epoch + 1, t.options.config.epochs, t.loader->batches_per_epoch(), t.group.leader());
  EpochTotals totals;
  size_t step = 0;
  while (auto batch = t.loader->next()) {
    totals.lr = set_learning_rate(t, global_step);
    train_on_batch(t, *batch, totals);
    ++global_step;
    progress.update(++step, totals.loss_sum / totals.seen, static_cast<size_t>(totals.seen));
  }
  progress.finish();
  totals = totals_over_ranks(t.group, totals);
  const double train_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const int64_t seen = std::max<int64_t>(totals.seen, 1);
  nlohmann::json line = {{"epoch", epoch},
                         {"train_loss", totals.loss_sum / seen},
                         {"train_accuracy", static_cast<double>(totals.correct) / seen},
                         {"lr", totals.lr},
                         {"train_seconds", train_seconds},
                         {"data_wait_seconds", t.loader->wait_seconds() - wait_before},
                         {"clips_per_second", totals.seen / std::max(train_seconds, 1e-9)}};
  if (t.teachers) line["distill_loss"] = totals.distill_sum / seen;
  if (t.options.config.consistency_weight > 0.0) line["consistency_loss"] = totals.consistency_sum / seen;
  if (t.group.world_size() > 1) {
    const AllReduceTraffic traffic = t.group.take_traffic();  // rank 0's view; every rank's is alike
    line["ranks"] = t.group.world_size();
    line["allreduce_calls"] = traffic.calls;
    line["allreduce_bytes"] = traffic.bytes;
    line["allreduce_seconds"] = traffic.seconds;
  }
  return line;
}

// Validates the averaged weights (when there are validation folds), saves them as best.ckpt when
// they beat every earlier epoch and as last.ckpt in any case, and logs the epoch.
void validate_and_save(Training& t, RunRecord& run, int epoch, nlohmann::json& line) {
  const std::string& run_dir = t.options.run_dir;
  t.ema->swap();  // validate (and save) the averaged weights
  nlohmann::json val_accuracy = nullptr;
  if (t.validating) {
    const EvalResult val = evaluate(*t.model, t.data, t.val_clips);
    val_accuracy = line["val_accuracy"] = val.accuracy;
    line["val_loss"] = val.loss;
    if (val.accuracy > run.state.best_val) {
      run.state.best_val = val.accuracy;
      save_checkpoint(run_dir + "/best.ckpt", *t.model, FrontEndConfig{}, t.class_names,
                      run.training_meta(epoch, val.accuracy));
      line["best"] = true;
    }
  }
  save_checkpoint(run_dir + "/last.ckpt", *t.model, FrontEndConfig{}, t.class_names,
                  run.training_meta(epoch, val_accuracy));
  t.ema->swap();
  const std::string val_text = t.validating ? fmt::format("val acc {:.3f} (best {:.3f})", val_accuracy.get<double>(),
                                                          run.state.best_val)
                                            : "(no validation fold)";
  spdlog::info("epoch {}/{}: loss {:.4f} train acc {:.3f} {} lr {:.2e} {:.1f}s", epoch + 1, t.options.config.epochs,
               line["train_loss"].get<double>(), line["train_accuracy"].get<double>(), val_text,
               line["lr"].get<double>(), line["train_seconds"].get<double>());
}

// Appends the epoch's line to metrics.jsonl and saves what --resume needs to continue after it.
void record_epoch(Training& t, RunRecord& run, int epoch, const nlohmann::json& line) {
  run.metrics.push_back(line.dump());
  write_metrics(run.metrics_path, run.metrics);
  run.state.next_epoch = epoch + 1;
  save_resume_state(run.state_path, *t.model, *t.ema, *t.optimizer, run.state, run.identity);
}

// The kept model, the best validated epoch or the last one when nothing was validated, with its
// evaluations.
struct KeptModel {
  Checkpoint checkpoint;
  nlohmann::json val_json = nullptr, val_accuracy = nullptr;
  EvalResult test;
  const char* selection = "";
};

KeptModel evaluate_kept_model(const Training& t) {
  KeptModel kept;
  kept.checkpoint = load_checkpoint(t.options.run_dir + (t.validating ? "/best.ckpt" : "/last.ckpt"), t.options.model);
  if (t.validating) {
    const EvalResult val = evaluate(*kept.checkpoint.model, t.data, t.val_clips);
    kept.val_json = val.to_json(t.class_names);
    kept.val_accuracy = val.accuracy;
  }
  kept.test = evaluate(*kept.checkpoint.model, t.data, t.test_clips);
  kept.selection = t.validating ? "best validation accuracy" : "last epoch (no validation fold)";
  return kept;
}

// The keys of summary.json that say which run it was: what it trained and was tested on, and from
// what. read_finished_run compares them with a resume's; teachers by content, since the same paths
// are not enough.
nlohmann::json run_settings(const FitOptions& o, const nlohmann::json& hyperparameters, const std::string& data_fingerprint,
                            const std::vector<std::string>& teacher_fingerprints) {
  nlohmann::json settings = {{"model", o.model},
                             {"hyperparameters", hyperparameters},
                             {"train_config", o.config.to_json()},
                             {"init_checkpoint", o.init_checkpoint},
                             {"data_fingerprint", data_fingerprint}};
  if (!teacher_fingerprints.empty()) settings["teacher_fingerprints"] = teacher_fingerprints;
  return settings;
}

// run_settings of the run `o` would train, before it is set up.
nlohmann::json planned_run_settings(const FitOptions& o, const ClipDataset& data) {
  const auto n_classes = static_cast<int64_t>(run_class_names(data, o.config).size());
  const auto model = create_model(o.model, o.hyperparameters, FrontEndConfig{}.n_mels, n_classes);
  std::vector<std::string> teacher_fingerprints;
  for (const std::string& path : o.config.teachers) teacher_fingerprints.push_back(file_fingerprint(path));
  return run_settings(o, model->hyperparameters(), data_fingerprint(data), teacher_fingerprints);
}

// Whether this run already finished (--resume, read_finished_run): rank 0 reads the run directory
// and every rank follows its answer, {"kept": final.json}, {"refused": why} or {} (train). Every
// rank makes the same exchanges, resuming or not, so that the group stays in step; ranks that
// disagree on --resume are refused first, since the answer may end the run before check_ranks_agree.
nlohmann::json finished_run_answer(const FitOptions& o, const ClipDataset& data, TrainingGroup& group) {
  group.check_same_settings({{"--resume", o.resume}});
  nlohmann::json answer = nlohmann::json::object();
  if (group.leader() && o.resume) {
    try {
      const auto planned = [&] { return planned_run_settings(o, data); };
      if (const auto final_json = read_finished_run(o.run_dir, planned)) answer["kept"] = *final_json;
    } catch (const std::exception& e) {
      answer["refused"] = e.what();
    }
  }
  // A reason may quote a corrupt file's bytes, which are not valid UTF-8: replaced, so the dump cannot throw.
  const std::string text = answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  answer = nlohmann::json::parse(group.share_from_leader("finished run", text));
  // Rank 0 hosts the group's store: it stays until every rank has read the answer it is about to act on.
  if (!answer.empty()) group.barrier();
  return answer;
}

// summary.json: what a shipped model's <name>.json holds.
void write_summary(const Training& t, const RunRecord& run, const KeptModel& kept) {
  const FitOptions& o = t.options;
  const TrainConfig& cfg = o.config;
  double wall_seconds = 0.0;
  for (const auto& line : run.metrics) wall_seconds += nlohmann::json::parse(line).value("seconds", 0.0);
  const int64_t parameters = parameter_count(*kept.checkpoint.model);
  nlohmann::json summary = {{"model", o.model},
                            {"val_accuracy", kept.val_accuracy},
                            {"test_accuracy", kept.test.accuracy},
                            {"train_folds", cfg.train_folds},
                            {"val_folds", cfg.val_folds},
                            {"test_folds", cfg.test_folds},
                            {"best_epoch", kept.checkpoint.training.value("epoch", 0)},
                            {"epoch_selection", kept.selection},
                            {"epochs", cfg.epochs},
                            {"parameters", parameters},
                            {"training_wall_seconds", wall_seconds},
                            {"threads", cfg.threads},
                            {"ranks", t.group.world_size()},
                            {"machine", machine_description()},
                            {"command", invocation()},
                            {"classes", t.class_names},
                            {"date", utc_now()},
                            {"git_revision", run.revision}};
  summary.update(run_settings(o, kept.checkpoint.model->hyperparameters(), run.fingerprint,
                              t.teachers ? t.teachers->fingerprints() : std::vector<std::string>{}));
  if (const std::optional<BackgroundCalls> calls = background_calls(kept.test, t.class_names)) {
    summary["test_event_accuracy"] = calls->event_accuracy;
    summary["test_called_background"] = calls->called_background;
  }
  write_file_atomic(o.run_dir + "/summary.json", summary.dump(1));
}

// The test evaluation of the kept model: final.json, the kept checkpoint's own record of its
// accuracy, summary.json. Returns final.json's contents.
nlohmann::json finish_run(const Training& t, const RunRecord& run) {
  const FitOptions& o = t.options;
  const KeptModel kept = evaluate_kept_model(t);
  const Checkpoint& best = kept.checkpoint;
  nlohmann::json final_json = {{"model", o.model},
                               {"val", kept.val_json},
                               {"test", kept.test.to_json(t.class_names)},
                               {"best_epoch", best.training.value("epoch", 0)},
                               {"epoch_selection", kept.selection},
                               {"data_fingerprint", run.fingerprint}};
  write_file_atomic(o.run_dir + "/final.json", final_json.dump(1));
  // The shipped checkpoint carries its own measured accuracy.
  nlohmann::json training = best.training;
  training["val_accuracy"] = kept.val_accuracy;
  training["test_accuracy"] = kept.test.accuracy;
  training["test_folds"] = o.config.test_folds;
  save_checkpoint(o.run_dir + "/best.ckpt", *best.model, best.front_end, best.class_names, training);
  write_summary(t, run, kept);
  spdlog::info("kept epoch {} ({}): val accuracy {}, test accuracy {:.4f} (folds {})", best.training.value("epoch", 0),
               kept.selection, kept.val_accuracy.dump(), kept.test.accuracy, nlohmann::json(o.config.test_folds).dump());
  return final_json;
}

}  // namespace

nlohmann::json fit(const FitOptions& o, const ClipDataset& data) {
  const TrainConfig& cfg = o.config;
  check_folds(cfg, "fit");
  check_distillation_settings(cfg);
  if (uses_room_free_rows(cfg) && !changes_the_room(cfg.augment)) {
    throw std::invalid_argument(std::string(cfg.distill_room_free ? "distill_room_free" : "consistency_weight") +
                                " needs room augmentation (reverb_prob, room_noise_prob, mic_prob, gain_db_prob or "
                                "clip_prob above 0): without it every row is its own room-free view");
  }
  set_compute_threads(cfg.threads);
  TrainingGroup alone;
  TrainingGroup& group = o.group ? *o.group : alone;
  if (group.leader()) {
    prepare_run_directory(o.run_dir);
    remove_stale_temporaries(o.run_dir);
  }
  const nlohmann::json finished = finished_run_answer(o, data, group);
  if (finished.contains("refused")) throw std::runtime_error(finished["refused"].get<std::string>());
  if (finished.contains("kept")) {
    spdlog::info("{}: the run already finished (final.json, summary.json of the same settings): kept, not trained "
                 "again", o.run_dir);
    return group.leader() ? finished["kept"] : nlohmann::json{{"rank", group.rank()}};
  }
  Training t = set_up_training(o, data, group);
  RunRecord run = open_run_record(t);
  // Every check has passed and the new run is about to train: an earlier finished run's records go
  // now, so that a --resume of this run never takes that one for it.
  if (!o.resume && group.leader()) forget_finished_run(o.run_dir);

  int epochs_this_process = 0;
  for (int epoch = run.state.next_epoch; epoch < cfg.epochs; ++epoch) {
    const auto t0 = Clock::now();
    nlohmann::json line = train_one_epoch(t, epoch, run.state.global_step);
    const bool last_epoch = epoch + 1 == cfg.epochs;
    if (group.leader()) {
      if ((epoch + 1) % cfg.eval_every == 0 || last_epoch) validate_and_save(t, run, epoch, line);
      line["seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
      record_epoch(t, run, epoch, line);
    }
    group.barrier();  // the other ranks wait for rank 0's validation and checkpoints
    if (o.stop_after_epochs > 0 && ++epochs_this_process >= o.stop_after_epochs && !last_epoch) {
      spdlog::info("stopping after {} epoch(s) as asked; --resume continues", epochs_this_process);
      return nlohmann::json{{"stopped_at_epoch", epoch + 1}};
    }
  }
  if (!group.leader()) return nlohmann::json{{"rank", group.rank()}};
  return finish_run(t, run);
}

}  // namespace escd::train
