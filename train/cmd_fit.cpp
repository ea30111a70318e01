// esc-train fit: trains a model with its recipe (config/<model>.toml), see trainer.h.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "commands.h"
#include "config_file.h"
#include "data_dir.h"
#include "data/clip_dataset.h"
#include "distillation.h"
#include "invocation.h"
#include "local_ranks.h"
#include "models/common/checkpoint.h"
#include "models/common/registry.h"
#include "run_directory.h"
#include "trainer.h"
#include "util/atomic_file.h"

namespace escd::train {

namespace {

// The --set key=value pairs: keys named model.KEY change the recipe's [model] table, the others its
// [train] table. Each table is applied at once, so that keys which must agree (the folds) can change
// together. A value that is not JSON (e.g. a bare word) is taken as a string.
struct Settings {
  nlohmann::json train = nlohmann::json::object(), model = nlohmann::json::object();
};

Settings parse_settings(const std::vector<std::string>& settings) {
  static const std::string kModelPrefix = "model.";
  Settings tables;
  for (const std::string& s : settings) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
      throw std::invalid_argument("--set " + s + ": expected key=value, e.g. --set lr=5e-4");
    }
    const std::string key = s.substr(0, eq), text = s.substr(eq + 1);
    nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_discarded()) value = text;
    if (key.rfind(kModelPrefix, 0) == 0) {
      if (key.size() == kModelPrefix.size()) throw std::invalid_argument("--set " + s + ": expected model.KEY=value");
      tables.model[key.substr(kModelPrefix.size())] = value;
    } else {
      tables.train[key] = value;
    }
  }
  return tables;
}

// fit's command line, as CLI11 fills it in.
struct FitArgs {
  std::string model, out, config, init;
  DataArgs data;
  int epochs = 0, threads = 0, stop_after = 0, nproc = 0, group_timeout = 300;
  int64_t seed = -1;
  bool resume = false, cv = false, refit = false, freeze_backbone = false;
  std::vector<int> cv_folds = {1, 2, 3, 4, 5};
  std::vector<std::string> teachers, settings;
};

void register_fit_options(CLI::App* cmd, FitArgs& args) {
  cmd->add_option("--model", args.model, "liquid_s4 | mamba | vjepa2 (with --init: the checkpoint's)");
  add_data_options(cmd, args.data);
  cmd->add_option("--out", args.out, "Run directory (metrics, checkpoints)")->required();
  cmd->add_option("--config", args.config, "Recipe TOML (default: config/<model>.toml)");
  cmd->add_option("--epochs", args.epochs, "Override the recipe's epochs")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", args.seed, "Override the recipe's seed")->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", args.threads, "Override the recipe's threads")->check(CLI::PositiveNumber);
  cmd->add_flag("--resume", args.resume, "Continue the run in --out from its last completed epoch");
  cmd->add_option("--init", args.init,
                 "Start from this checkpoint's weights (same architecture; --model may be left out). With other "
                 "classes than the checkpoint's (your own sounds), a new final layer is trained on its backbone");
  cmd->add_flag("--freeze-backbone", args.freeze_backbone,
                "With --init: train only the head, keeping the checkpoint's backbone exactly ([train] freeze_backbone)")
      ->needs("--init");
  cmd->add_option("--teacher", args.teachers,
                 "Distil from this checkpoint as well as the labels (repeat for an ensemble; replaces the "
                 "recipe's teachers; weight and temperature: [train] distill_weight, distill_temperature)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--cv", args.cv, "5-fold cross-validation: each fold is the test fold once (runs in --out/fold<k>)");
  cmd->add_option("--cv-folds", args.cv_folds,
                 "With --cv, train only these test folds (e.g. 1,2,3 and 4,5 in two processes); cv.json is "
                 "written when all five are done: a later --cv --resume collects the finished folds")
      ->delimiter(',')
      ->check(CLI::Range(1, 5))
      ->needs("--cv");
  cmd->add_option("--set", args.settings,
                 "Override one [train] key of the recipe, as key=value, or one [model] key, as model.key=value "
                 "(repeatable; value in TOML/JSON syntax: --set lr=5e-4 --set train_folds=[1,2,3] "
                 "--set model.d_model=192)");
  cmd->add_flag("--refit", args.refit,
                "Train on the validation folds as well and keep the last epoch (no validation): for the "
                "shipped model, once the recipe and its epochs were chosen on the validation fold. With --cv: "
                "each fold's run trains on the other four (the literature's 5-fold protocol)");
  cmd->add_option("--stop-after", args.stop_after, "Stop after this many epochs (testing resume)");
  cmd->add_option("--nproc", args.nproc,
                 "Train data-parallel in this many processes on this machine (each with --threads); across "
                 "machines, start one esc-train per rank with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set "
                 "(docs/DISTRIBUTED.md)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--group-timeout", args.group_timeout,
                 "Data-parallel: seconds to wait for every rank at the start and for any one collective step "
                 "(also rank 0's validation) before the run stops")
      ->check(CLI::PositiveNumber);
}

// The recipe (config/<model>.toml, or --config) with the command line's overrides on top ([train]
// keys, and [model] keys from --set model.KEY=value); no run directory yet. `init_hyperparameters`
// (--init's checkpoint's, or null) replace the recipe's [model], which --set may then not change.
FitOptions fit_options(const FitArgs& args, const nlohmann::json& init_hyperparameters) {
  const std::string config_path = find_model_config(args.model, args.config);
  ModelConfigFile file;
  if (!config_path.empty()) {
    file = read_model_config(config_path);
    spdlog::info("recipe: {}", config_path);
  } else {
    spdlog::warn("no config/{}.toml found: model and training defaults", args.model);
  }
  FitOptions options;
  options.model = args.model;
  const Settings settings = parse_settings(args.settings);
  options.hyperparameters = file.model;
  if (!init_hyperparameters.is_null()) {
    if (!settings.model.empty()) {
      throw std::invalid_argument("--set model." + settings.model.begin().key() +
                                  ": with --init the model is the checkpoint's, its [model] cannot change");
    }
    options.hyperparameters = init_hyperparameters;
    spdlog::info("model hyperparameters: those of {}", args.init);
  }
  if (!settings.model.empty()) {
    if (!options.hyperparameters.is_object()) {
      throw std::invalid_argument(config_path + ": [model] should be a table of hyperparameters");
    }
    // create_model checks the keys and their types against the architecture's defaults.
    options.hyperparameters.update(settings.model);
  }
  apply_train_table(options.config, file.train, config_path + " [train]");
  apply_train_table(options.config, settings.train, "--set");
  if (args.epochs > 0) options.config.epochs = args.epochs;
  if (args.seed >= 0) options.config.seed = static_cast<uint64_t>(args.seed);
  if (args.threads > 0) options.config.threads = args.threads;
  if (!args.teachers.empty()) options.config.teachers = args.teachers;
  if (args.freeze_backbone) options.config.freeze_backbone = true;
  if (args.refit && !args.cv) merge_validation_into_training(options.config);  // --cv: per fold
  options.resume = args.resume;
  options.init_checkpoint = args.init;
  options.stop_after_epochs = args.stop_after;
  return options;
}

// Cross-validation fold k's run, in --out/fold<k>: test fold k, validation fold k % 5 + 1, the
// other three for training; with --refit the other four for training, no validation, the last epoch.
FitOptions cv_fold_options(const FitOptions& options, const std::string& out, int k, bool refit) {
  FitOptions fold = options;
  fold.run_dir = out + "/fold" + std::to_string(k);
  fold.config.test_folds = {k};
  fold.config.val_folds = {k % 5 + 1};
  fold.config.train_folds.clear();
  for (int f = 1; f <= 5; ++f) {
    if (f != k && f != k % 5 + 1) fold.config.train_folds.push_back(f);
  }
  if (refit) merge_validation_into_training(fold.config);
  return fold;
}

bool cv_fold_selected(const FitArgs& args, int k) {
  return std::find(args.cv_folds.begin(), args.cv_folds.end(), k) != args.cv_folds.end();
}

// Teachers must not have trained on any selected fold's held-out clips: say so now, not hours
// later when that fold's turn comes.
void check_cv_teachers(const FitArgs& args, const FitOptions& options, const ClipDataset& data) {
  if (options.config.teachers.empty()) return;
  std::vector<int> held_out;
  for (int k = 1; k <= 5; ++k) {
    if (!cv_fold_selected(args, k)) continue;
    for (int f : held_out_folds(cv_fold_options(options, args.out, k, args.refit).config)) held_out.push_back(f);
  }
  const Teachers loads_and_checks(options.config.teachers, run_class_names(data, options.config), held_out);
}

// The mean of the folds' `key` and its spread (sample standard deviation) over the five folds: one
// 400-clip fold has a standard error of about 2.3 points by itself.
std::pair<double, double> mean_and_spread(const nlohmann::json& folds, const std::string& key) {
  const double n = static_cast<double>(folds.size());  // 5: cv.json is written once all are done
  double sum = 0.0, squares = 0.0;
  for (const auto& fold : folds) sum += fold.at(key).get<double>();
  const double mean = sum / n;
  for (const auto& fold : folds) squares += std::pow(fold.at(key).get<double>() - mean, 2);
  return {mean, std::sqrt(squares / (n - 1))};
}

// cv.json, once all five folds are done: each fold's accuracies, their mean and spread; for a model
// with a background output also those of the 50 classes alone (evaluation.h, background_calls).
void write_cv_summary(const FitArgs& args, const FitOptions& options, const nlohmann::json& folds) {
  const auto [mean, std_dev] = mean_and_spread(folds, "accuracy");
  spdlog::info("5-fold cross-validation: mean test accuracy {:.4f} (standard deviation across folds {:.4f})", mean,
               std_dev);
  nlohmann::json cv = {{"model", args.model},
                       {"epochs", options.config.epochs},
                       {"refit", args.refit},
                       {"folds", folds},
                       {"mean_accuracy", mean},
                       {"std_accuracy", std_dev}};
  if (std::all_of(folds.begin(), folds.end(), [](const auto& fold) { return fold.contains("event_accuracy"); })) {
    const auto [event_mean, event_std] = mean_and_spread(folds, "event_accuracy");
    spdlog::info("5-fold cross-validation, the 50 classes alone: mean {:.4f} (standard deviation {:.4f})", event_mean,
                 event_std);
    cv["mean_event_accuracy"] = event_mean;
    cv["std_event_accuracy"] = event_std;
  }
  write_file_atomic(args.out + "/cv.json", cv.dump(1));
}

// fit --cv: each selected fold is the test fold once.
int run_cross_validation(const FitArgs& args, const FitOptions& options, const ClipDataset& data) {
  check_cv_teachers(args, options, data);
  nlohmann::json folds = nlohmann::json::array();
  for (int k = 1; k <= 5; ++k) {
    if (!cv_fold_selected(args, k)) continue;
    const FitOptions fold = cv_fold_options(options, args.out, k, args.refit);
    const nlohmann::json result = fit(fold, data);
    if (result.contains("stopped_at_epoch")) return 0;  // --stop-after ended this fold early
    if (!result.contains("test")) continue;             // a rank other than 0: rank 0 collects
    const nlohmann::json& test = result.at("test");
    // A refit fold has no validation fold (both null) and keeps its last epoch.
    const bool validated = !fold.config.val_folds.empty();
    nlohmann::json entry = {{"test_fold", k},
                            {"accuracy", test.at("accuracy")},
                            {"val_fold", validated ? nlohmann::json(fold.config.val_folds.front()) : nlohmann::json()},
                            {"val_accuracy", validated ? result.at("val").at("accuracy") : nlohmann::json()},
                            {"best_epoch", result.at("best_epoch")}};
    for (const char* key : {"event_accuracy", "called_background"}) {
      if (test.contains(key)) entry[key] = test.at(key);
    }
    folds.push_back(std::move(entry));
  }
  if (options.group && !options.group->leader()) return 0;
  if (folds.size() < 5) {
    spdlog::info("cross-validation folds {} done; cv.json needs all five ({} collects them)",
                 nlohmann::json(args.cv_folds).dump(), args.refit ? "--cv --refit --resume" : "--cv --resume");
    return 0;
  }
  write_cv_summary(args, options, folds);
  return 0;
}

// Checks the recipe, the model table, the dataset's files and the disk before decoding the audio,
// then trains one run or the cross-validation folds.
int run_fit_command(FitArgs args) {
  const std::optional<RankPlacement> placement = RankPlacement::from_environment();
  if (args.nproc > 0 && !placement) return run_local_ranks(args.nproc, without_nproc(invocation_arguments()));
  // Every rank's log lines say whose they are (the ranks of --nproc share a terminal).
  if (placement) spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] [rank " + std::to_string(placement->rank) + "] %v");
  if (args.model.empty() && args.init.empty()) {
    throw std::invalid_argument("fit: --model is required (or --init CHECKPOINT, whose architecture it takes)");
  }
  // --init's checkpoint, read once here: its architecture (when --model is left out) and the
  // hyperparameters its backbone was built by, which the recipe's [model] table must not change.
  nlohmann::json init_hyperparameters;
  if (!args.init.empty()) {
    const Checkpoint init = load_checkpoint(args.init, args.model);
    if (args.model.empty()) args.model = init.model->architecture();
    init_hyperparameters = init.model->hyperparameters();
  }
  FitOptions options = fit_options(args, init_hyperparameters);
  if (options.config.freeze_backbone && args.init.empty()) {
    throw std::invalid_argument("fit: freeze_backbone needs a trained backbone: --init CHECKPOINT");
  }
  create_model(args.model, options.hyperparameters);  // fail early on a bad [model] table
  ClipIndex index = read_data(args.data, "fit");  // before writing anything: a bad file fails now

  // A full or read-only disk fails now, not after decoding the audio (rank 0 alone writes).
  if (!placement || placement->rank == 0) prepare_run_directory(args.out);
  const ClipDataset data = load_clips(std::move(index));
  // The group meets once every rank has checked what it can alone: a rank that cannot train never
  // joins, and the others say which rank is missing.
  if (placement) options.group = std::make_shared<TrainingGroup>(*placement, std::chrono::seconds(args.group_timeout));
  if (args.cv) return run_cross_validation(args, options, data);
  options.run_dir = args.out;
  fit(options, data);
  return 0;
}

}  // namespace

std::function<int()> add_fit_command(CLI::App& app) {
  auto args = std::make_shared<FitArgs>();
  CLI::App* cmd = app.add_subcommand("fit", "Train a model on ESC-50 or your own labelled sounds");
  register_fit_options(cmd, *args);
  return [args] { return run_fit_command(*args); };
}

}  // namespace escd::train
