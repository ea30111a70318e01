// esc-train eval: accuracy, per-class accuracy and confusions of a checkpoint on a fold, through
// the parallel forward and optionally through streaming sessions (reporting their agreement).
#include <spdlog/spdlog.h>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "commands.h"
#include "data/clip_dataset.h"
#include "data/room_condition.h"
#include "data_dir.h"
#include "ensemble_members.h"
#include "evaluation.h"
#include "models/common/checkpoint.h"
#include "util/atomic_file.h"
#include "util/compute_threads.h"

namespace escd::train {

namespace {

// background: background_calls() of the model's own result and classes (nullopt without that output).
void print_result(const std::string& title, const EvalResult& result, const std::vector<std::string>& class_names,
                  const std::vector<int>& folds, const std::optional<BackgroundCalls>& background) {
  std::printf("%s on fold(s) %s: accuracy %.4f (%lld clips), loss %.4f\n", title.c_str(),
              nlohmann::json(folds).dump().c_str(), result.accuracy, static_cast<long long>(result.clips),
              result.loss);
  if (background) {
    std::printf("  called background %.4f; the 50 classes alone (background kept out): accuracy %.4f\n",
                background->called_background, background->event_accuracy);
  }
  // The most confused pairs, the part of a confusion matrix people read first.
  for (const Confusion& c : worst_confusions(result.confusion, 5)) {
    std::printf("  confused: %-18s -> %-18s %lld\n", class_names[c.true_class].c_str(),
                class_names[c.predicted_class].c_str(), static_cast<long long>(c.count));
  }
}

// Each clip's class log-probabilities (rows of `logits` normalised), to 4 decimals and no lower than
// -100 (JSON has no -inf: a member without a background output gives it probability 0): what a study
// of how to combine ensemble members reads, without the checkpoints.
nlohmann::json log_probability_rows(const at::Tensor& logits) {
  const at::Tensor rows = at::log_softmax(logits.to(at::kDouble), 1).clamp_min(-100.0).contiguous();
  const int64_t classes = rows.size(1);
  const double* p = rows.data_ptr<double>();
  nlohmann::json out = nlohmann::json::array();
  for (int64_t i = 0; i < rows.size(0); ++i) {
    std::vector<double> row(classes);
    for (int64_t c = 0; c < classes; ++c) row[c] = std::round(p[i * classes + c] * 1e4) / 1e4;
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

std::function<int()> add_eval_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> checkpoints;
    DataArgs data;
    std::string json;
    std::vector<int> folds{5};
    bool streaming = false;
    bool per_clip = false;
    int time_shifts = 1;
    std::string condition = "clean";
    uint64_t condition_seed = 0;
    int threads = 2;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate a checkpoint (or an ensemble of several) on folds of ESC-50 or your own data");
  cmd->add_option("--checkpoint", args->checkpoints,
                  "Checkpoint file; give it more than once to also evaluate the ensemble (combined as escd --ensemble does)")
      ->required();
  add_data_options(cmd, args->data);
  cmd->add_option("--fold", args->folds, "Fold(s) to evaluate")->capture_default_str()->check(CLI::Range(1, 5));
  cmd->add_option("--json", args->json, "Write the full result (confusion matrix...) here");
  cmd->add_flag("--streaming", args->streaming, "Also evaluate frame by frame through streaming sessions");
  cmd->add_flag("--per-clip", args->per_clip,
                "Also write each clip's file and class log-probabilities (each ensemble member's too) into --json");
  cmd->add_option("--time-shifts", args->time_shifts,
                  "Test-time averaging: mean probability over this many circular time shifts of each clip")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--condition", args->condition,
                  "Perturb every clip first, as a room would: comma-separated gain=DB, noise=COLOUR@SNR "
                  "(white|pink|brown), rt60=SECONDS[,drr=DB], clip=LEVEL; or clean (docs/ROOMS.md)")
      ->capture_default_str();
  cmd->add_option("--condition-seed", args->condition_seed, "Seed of the condition's random draws (per clip)")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Threads")->capture_default_str();
  return [args] {
    if (args->per_clip && args->json.empty()) {
      spdlog::error("eval: --per-clip writes into the --json file; give --json");
      return 2;
    }
    if (args->streaming && (args->checkpoints.size() > 1 || args->time_shifts > 1)) {
      spdlog::error("eval: --streaming compares one checkpoint's sessions with its plain forward; "
                    "it takes one --checkpoint and no --time-shifts");
      return 2;
    }
    RoomCondition condition;
    try {
      condition = parse_room_condition(args->condition);
    } catch (const std::invalid_argument& e) {
      spdlog::error("eval: --condition: {}", e.what());
      return 2;
    }
    resolve_data_dir(args->data.data, "eval");  // before loading checkpoints
    set_compute_threads(args->threads);
    const std::optional<EnsembleMembers> maybe_loaded = load_ensemble_members_for("eval", args->checkpoints);
    if (!maybe_loaded) return 2;
    const EnsembleMembers& loaded = *maybe_loaded;
    const std::vector<Checkpoint>& checkpoints = loaded.checkpoints;
    const std::vector<std::vector<std::string>>& label_sets = loaded.label_sets;
    const std::vector<std::string>& class_names = loaded.class_names;
    ClipIndex index = read_data(with_checkpoint_split(args->data, checkpoints.front().training), "eval");
    if (const std::string why = dataset_label_mismatch(index, class_names); !why.empty()) {
      spdlog::error("eval: the dataset and the checkpoint have different classes: {}", why);
      return 2;
    }
    const std::vector<size_t> clips = clips_in_folds(index, args->folds);
    ClipDataset data = load_clips(std::move(index), {}, clips);
    perturb_clips(data, clips, condition, args->condition_seed);
    if (condition.text != "clean") {
      spdlog::info("condition {} applied to {} clips (seed {})", condition.text, clips.size(), args->condition_seed);
    }

    std::vector<EvalResult> results;
    nlohmann::json members = nlohmann::json::array();
    for (size_t i = 0; i < checkpoints.size(); ++i) {
      results.push_back(evaluate(*checkpoints[i].model, data, clips, 64, args->time_shifts));  // its own classes
      const EvalResult shown = over_ensemble_classes(loaded, i, results.back());
      members.push_back({{"checkpoint", args->checkpoints[i]}, {"accuracy", shown.accuracy}, {"loss", shown.loss}});
      // From the member's own classes: a member without the background output has none of these.
      const std::optional<BackgroundCalls> background = background_calls(results.back(), label_sets[i]);
      if (background) members.back().update(background->to_json());
      if (args->per_clip) members.back()["log_probabilities"] = log_probability_rows(shown.logits);
      const std::vector<int> seen = warn_trained_folds(args->checkpoints[i], checkpoints[i], args->folds);
      if (!seen.empty()) members.back()["trained_on_evaluated_folds"] = seen;
      print_result(args->checkpoints[i] + " (" + checkpoints[i].model->architecture() + ")", shown, class_names,
                   args->folds, background);
    }
    const EvalResult result = results.size() == 1 ? results.front() : ensemble(results, label_sets, class_names);
    if (results.size() > 1) {
      print_result("ensemble of " + std::to_string(results.size()), result, class_names, args->folds,
                   background_calls(result, class_names));
    }

    nlohmann::json out = result.to_json(class_names);
    if (results.size() == 1) {
      out["checkpoint"] = args->checkpoints.front();
      if (members[0].contains("trained_on_evaluated_folds")) {
        out["trained_on_evaluated_folds"] = members[0]["trained_on_evaluated_folds"];
      }
    } else {
      out["ensemble"] = members;
    }
    out["folds"] = args->folds;
    out["condition"] = condition.text;
    if (condition.text != "clean") out["condition_seed"] = args->condition_seed;
    out["time_shifts"] = args->time_shifts;
    if (args->per_clip) {
      nlohmann::json files = nlohmann::json::array();
      for (size_t clip : clips) files.push_back(data.index.clips[clip].filename);
      out["files"] = files;
      out["log_probabilities"] = log_probability_rows(result.logits);
    }
    if (args->streaming) {
      SequenceClassifier& model = *checkpoints.front().model;
      const EvalResult streamed = evaluate_streaming(model, data, clips);
      int64_t agree = 0;
      for (size_t i = 0; i < result.predictions.size(); ++i) agree += result.predictions[i] == streamed.predictions[i];
      const double agreement = static_cast<double>(agree) / std::max<int64_t>(result.clips, 1);
      const double max_diff = (streamed.logits - result.logits).abs().max().item<double>();
      std::printf("streaming: accuracy %.4f, same prediction on %.2f%% of clips, max |logit difference| %.2e\n",
                  streamed.accuracy, 100.0 * agreement, max_diff);
      out["streaming"] = {{"accuracy", streamed.accuracy}, {"agreement", agreement}, {"max_logit_difference", max_diff}};
    }
    if (!args->json.empty()) write_file_atomic(args->json, out.dump(1));
    return 0;
  };
}

}  // namespace escd::train
