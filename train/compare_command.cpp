// esc-train compare: several checkpoints (and their ensemble) side by side on the same fold, as
// one self-contained HTML page and a Markdown table (comparison.h, comparison_page.h). The models
// are evaluated and combined as esc-train eval does; what it cannot measure itself comes from the
// files the project writes beside a checkpoint (<name>.cv.json, <name>.json) or is passed in
// (--conditions, --bench), and reads "not measured" when absent.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include "commands.h"
#include "comparison.h"
#include "comparison_page.h"
#include "data/clip_dataset.h"
#include "data_dir.h"
#include "ensemble_members.h"
#include "evaluation.h"
#include "invocation.h"
#include "model_flops.h"
#include "models/common/parameter_count.h"
#include "util/atomic_file.h"
#include "json_file.h"
#include "util/compute_threads.h"

namespace escd::train {

namespace {

namespace fs = std::filesystem;

// A path as the page shows it: as given when relative (models/mamba.pt), else its file name only: a
// page is read on other machines, where this one's layout means nothing.
std::string shown_path(const std::string& path) {
  return fs::path(path).is_absolute() ? fs::path(path).filename().string() : path;
}

// The file beside `checkpoint` with the same name and another ending: models/mamba.pt -> models/mamba.cv.json.
std::string beside(const std::string& checkpoint, const std::string& ending) {
  const fs::path p(checkpoint);
  return (p.parent_path() / (p.stem().string() + ending)).string();
}

// The training wall time from the run summary beside the checkpoint (<name>.json, esc-train fit's
// summary.json as shipped), when it describes this checkpoint: its test accuracy is the one the
// checkpoint records (a summary left from a replaced model is not used).
std::optional<double> training_seconds(const std::string& path, const Checkpoint& checkpoint, std::vector<std::string>& notes) {
  const std::optional<nlohmann::json> summary = read_json(beside(path, ".json"), false);
  if (!summary || !summary->contains("training_wall_seconds")) return std::nullopt;
  const nlohmann::json& recorded = checkpoint.training;
  if (recorded.contains("test_accuracy") && summary->contains("test_accuracy") &&
      recorded["test_accuracy"].is_number() && (*summary)["test_accuracy"].is_number() &&
      std::abs(recorded["test_accuracy"].get<double>() - (*summary)["test_accuracy"].get<double>()) > 1e-9) {
    notes.push_back(shown_path(beside(path, ".json")) + " describes another model than " + shown_path(path) + " (its test accuracy differs): "
                    "training time not shown");
    return std::nullopt;
  }
  return (*summary)["training_wall_seconds"].get<double>();
}

std::string column_name(const std::string& path, const std::vector<ModelColumn>& columns) {
  // "ensemble" is the combined column's name: a checkpoint file called ensemble.pt gets a number.
  auto taken = [&](const std::string& candidate) {
    return candidate == "ensemble" ||
           std::any_of(columns.begin(), columns.end(), [&](const ModelColumn& c) { return c.name == candidate; });
  };
  std::string name = fs::path(path).stem().string();
  for (size_t n = 2; taken(name); ++n) {
    name = fs::path(path).stem().string() + "#" + std::to_string(n);
  }
  return name;
}

// The command line as the page shows it: the dataset's location, which means nothing elsewhere, as
// $ESC50_DIR. Only whole arguments (or the value after `--data=`) are replaced, so that a short
// location such as "." does not rewrite parts of other paths.
std::string shown_command(const std::string& data_dir) {
  std::string command = invocation();
  if (data_dir.empty()) return command;
  const std::string shown = "$ESC50_DIR";
  for (size_t at = command.find(data_dir); at != std::string::npos; at = command.find(data_dir, at)) {
    const size_t end = at + data_dir.size();
    const bool starts_argument = at == 0 || command[at - 1] == ' ' || command[at - 1] == '=';
    const bool ends_argument = end == command.size() || command[end] == ' ';
    if (starts_argument && ends_argument) {
      command.replace(at, data_dir.size(), shown);
      at += shown.size();
    } else {
      at += 1;
    }
  }
  return command;
}

}  // namespace

std::function<int()> add_compare_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> checkpoints;
    DataArgs data;
    std::string out, conditions, bench;
    std::vector<int> folds{5};
    int resamples = 2000;
    uint64_t seed = 0;
    int threads = 2;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Compare checkpoints and their ensemble on a fold: one HTML page (compare.html) and a Markdown table");
  cmd->add_option("--checkpoint", args->checkpoints,
                  "Checkpoint file; give it once per model (two or more also compare their ensemble, as escd --ensemble)")
      ->required();
  add_data_options(cmd, args->data);
  cmd->add_option("--fold", args->folds, "Fold(s) to evaluate")->capture_default_str()->check(CLI::Range(1, 5));
  cmd->add_option("--out", args->out, "Directory to write compare.html and compare.md into")->required();
  cmd->add_option("--conditions", args->conditions,
                  "Room-condition accuracies (JSON of bench/conditions.sh, e.g. models/conditions.json)");
  cmd->add_option("--bench", args->bench, "escd CPU and latency per model (JSON of bench/run_escd.sh --json)");
  cmd->add_option("--resamples", args->resamples, "Bootstrap resamples for the 95% intervals")
      ->capture_default_str()
      ->check(CLI::Range(100, 1000000));
  cmd->add_option("--seed", args->seed, "Seed of the bootstrap")->capture_default_str();
  cmd->add_option("--threads", args->threads, "Threads")->capture_default_str();
  return [args] {
    Comparison comparison;
    comparison.folds = args->folds;
    comparison.resamples = args->resamples;
    comparison.seed = args->seed;
    // The inputs that are not checkpoints first: a bad one fails before minutes of evaluation.
    std::optional<nlohmann::ordered_json> conditions;
    std::optional<nlohmann::json> bench;
    try {
      if (!args->conditions.empty()) conditions = read_json<nlohmann::ordered_json>(args->conditions, true);
      if (!args->bench.empty()) bench = read_json(args->bench, true);
      if (bench && !bench->contains("cpu_percent") && !bench->contains("latency")) {
        throw std::invalid_argument(args->bench + ": has neither cpu_percent nor latency (not bench/run_escd.sh --json output)");
      }
      if (conditions && !conditions->contains("conditions")) {
        throw std::invalid_argument(args->conditions + ": has no \"conditions\" (not bench/conditions.sh output)");
      }
    } catch (const std::invalid_argument& e) {
      spdlog::error("compare: {}", e.what());
      return 2;
    }
    const std::string data_dir = resolve_data_dir(args->data.data, "compare");  // before loading checkpoints
    set_compute_threads(args->threads);
    const std::optional<EnsembleMembers> maybe_loaded = load_ensemble_members_for("compare", args->checkpoints);
    if (!maybe_loaded) return 2;
    const EnsembleMembers& loaded = *maybe_loaded;
    comparison.class_names = loaded.class_names;
    ClipIndex index = read_data(with_checkpoint_split(args->data, loaded.checkpoints.front().training), "compare");
    if (const std::string why = dataset_label_mismatch(index, loaded.class_names); !why.empty()) {
      spdlog::error("compare: the dataset and the checkpoints have different classes: {}", why);
      return 2;
    }
    const std::vector<size_t> clips = clips_in_folds(index, args->folds);
    const ClipDataset data = load_clips(std::move(index), {}, clips);

    std::vector<EvalResult> results;
    std::vector<std::string> names;
    for (size_t i = 0; i < loaded.checkpoints.size(); ++i) {
      const std::string& path = args->checkpoints[i];
      const Checkpoint& checkpoint = loaded.checkpoints[i];
      spdlog::info("evaluating {} on {} clips", path, clips.size());
      results.push_back(evaluate(*checkpoint.model, data, clips));  // its own classes
      const EvalResult shown = over_ensemble_classes(loaded, i, results.back());
      ModelColumn column = score_column(column_name(path, comparison.columns), shown.labels, shown.predictions,
                                        comparison.class_names.size(), args->resamples, args->seed);
      column.architecture = checkpoint.model->architecture();
      column.background = background_calls(results.back(), loaded.label_sets[i]);  // its own classes
      column.trained_on_evaluated_folds = warn_trained_folds(path, checkpoint, args->folds);
      if (!column.trained_on_evaluated_folds.empty()) {
        comparison.notes.push_back(column.name + " was trained on fold(s) " +
                                   nlohmann::json(column.trained_on_evaluated_folds).dump() +
                                   ": its accuracy there measures fitting, not generalisation.");
      }
      column.parameters = parameter_count(*checkpoint.model);
      try {
        const auto frames = static_cast<int64_t>(checkpoint.front_end.frames_for(5 * checkpoint.front_end.sample_rate));
        const bench::ForwardFlops flops = bench::forward_flops(column.architecture, checkpoint.model->hyperparameters(),
                                                               frames, checkpoint.model->n_mels(), checkpoint.model->n_classes());
        column.flops_per_window = flops.per_clip + flops.per_call;
      } catch (const std::invalid_argument& e) {
        comparison.notes.push_back(column.name + ": " + e.what());
      }
      column.training_seconds = training_seconds(path, checkpoint, comparison.notes);
      if (const auto cv = read_json(beside(path, ".cv.json"), false)) {
        column.cv = parse_cross_validation(*cv, beside(path, ".cv.json"));
        const nlohmann::json config = checkpoint.training.value("train_config", nlohmann::json::object());
        if (column.cv->epochs > 0 && config.is_object() && config.value("epochs", column.cv->epochs) != column.cv->epochs) {
          comparison.notes.push_back(shown_path(beside(path, ".cv.json")) + " ran " + std::to_string(column.cv->epochs) +
                                     " epochs a fold, the checkpoint's recipe " + config["epochs"].dump() +
                                     ": its cross-validation may be of an earlier recipe.");
        }
      }
      if (bench) column.escd = escd_cost(*bench, {column.name});
      names.push_back(column.name);
      std::printf("%-12s accuracy %.4f [%.4f, %.4f] (%zu clips)\n", column.name.c_str(), column.accuracy,
                  column.interval.low, column.interval.high, column.labels.size());
      comparison.columns.push_back(std::move(column));
    }
    if (results.size() > 1) {
      const EvalResult combined = ensemble(results, loaded.label_sets, comparison.class_names);
      ModelColumn column = score_column("ensemble", combined.labels, combined.predictions, comparison.class_names.size(),
                                        args->resamples, args->seed);
      column.architecture = "geometric mean of " + std::to_string(results.size());
      column.background = background_calls(combined, comparison.class_names);
      int64_t parameters = 0;
      double flops = 0, seconds = 0;
      bool all_flops = true, all_seconds = true;
      for (const ModelColumn& m : comparison.columns) {
        parameters += m.parameters.value_or(0);
        all_flops &= m.flops_per_window.has_value(), all_seconds &= m.training_seconds.has_value();
        flops += m.flops_per_window.value_or(0), seconds += m.training_seconds.value_or(0);
      }
      column.parameters = parameters;
      if (all_flops) column.flops_per_window = flops;
      if (all_seconds) column.training_seconds = seconds;
      if (bench) column.escd = escd_cost(*bench, names);
      std::printf("%-12s accuracy %.4f [%.4f, %.4f]\n", "ensemble", column.accuracy, column.interval.low,
                  column.interval.high);
      comparison.columns.push_back(std::move(column));
    }
    std::vector<std::string> column_names;
    for (const ModelColumn& m : comparison.columns) column_names.push_back(m.name);
    if (conditions) {
      comparison.conditions = condition_rows(*conditions, column_names);
      comparison.conditions_source = shown_path(args->conditions);
    }
    if (bench) {
      comparison.bench_source = shown_path(args->bench);
      if (bench->contains("note") && (*bench)["note"].is_string()) comparison.bench_note = (*bench)["note"];
    }
    comparison.command = shown_command(data_dir);

    fs::create_directories(args->out);
    write_file_atomic(args->out + "/compare.html", render_comparison_html(comparison));
    write_file_atomic(args->out + "/compare.md", render_comparison_markdown(comparison));
    spdlog::info("wrote {}/compare.html and compare.md", args->out);
    return 0;
  };
}

}  // namespace escd::train
