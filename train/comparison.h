// esc-train compare's statistics: what sets several models (and their ensemble) side by side on
// the same clips. Pure functions of predictions and of the files the project already writes
// (<model>.cv.json, <model>.json, conditions.json, bench/run_escd.sh --json); no torch, no I/O
// beyond reading those JSON files. Rendering is comparison_page.h's job.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "background_calls.h"
#include "confusion.h"

namespace escd::train {

struct Interval {
  double low = 0, high = 0;
};

// Percentile bootstrap of accuracy over clips: `resamples` resamples of the clips with replacement
// (draws from a std::mt19937_64 seeded with `seed`: the same inputs give the same interval), the
// (1 - level) / 2 and (1 + level) / 2 quantiles of their accuracies. Throws std::invalid_argument
// for no clips, lists of different lengths, fewer than 2 resamples or a level outside (0, 1).
Interval bootstrap_accuracy(const std::vector<int64_t>& labels, const std::vector<int64_t>& predictions,
                            int resamples, uint64_t seed, double level = 0.95);

// A recipe's cross-validation as esc-train writes it (<model>.cv.json: folds[].accuracy,
// mean_accuracy, std_accuracy, epochs, refit). Throws std::invalid_argument naming `source` when a field is
// missing or of the wrong type.
struct CrossValidation {
  double mean = 0, std = 0;
  std::vector<double> fold_accuracy;  // in the file's order
  int epochs = 0;
  bool refit = false;  // each fold trained on the other four (fit --cv --refit), not three and a validation fold
};
CrossValidation parse_cross_validation(const nlohmann::json& cv, const std::string& source);

// escd's running cost of one model (or of the ensemble's models together), from the JSON
// bench/run_escd.sh --json writes: cpu_percent.<label> and latency.<label>.models.<model>.publish_ms
// (from the write of a window's last sample to escd publishing its scores). With several models in
// one run (label "a,b,c") the latency is the slowest model's: the ensemble waits for all of them.
struct EscdCost {
  std::optional<double> cpu_percent;  // of one core, in real time
  std::optional<double> latency_p50_ms, latency_p99_ms;
};
// The run of `models` together in that file: labelled by a model name, or by the names joined by
// commas in any order (bench/run_escd.sh keeps its own). Fields the file lacks stay empty.
EscdCost escd_cost(const nlohmann::json& bench, const std::vector<std::string>& models);

// One model (or the ensemble) on the compared clips, over the comparison's class list.
struct ModelColumn {
  std::string name;          // the checkpoint's file name without .pt, or "ensemble"
  std::string architecture;  // e.g. "mamba"; "geometric mean of 3" for the ensemble
  std::vector<int64_t> labels, predictions;
  double accuracy = 0;  // a background top-1 counts wrong, as escd answers
  Interval interval;  // 95% bootstrap interval over clips
  std::optional<BackgroundCalls> background;  // with a background output (evaluation.h, background_calls)
  ConfusionMatrix confusion;
  std::vector<double> per_class;
  std::optional<int64_t> parameters;
  std::optional<double> flops_per_window, training_seconds;
  std::optional<CrossValidation> cv;
  EscdCost escd;
  std::vector<int> trained_on_evaluated_folds;  // non-empty: its accuracy there measures fitting
};

// Accuracy, confusion, per-class accuracy and the bootstrap interval of `predictions` against
// `labels` (both in [0, n_classes)); the other fields are left for the caller.
ModelColumn score_column(const std::string& name, const std::vector<int64_t>& labels,
                         const std::vector<int64_t>& predictions, size_t n_classes, int resamples, uint64_t seed);

// The classes on which the models' accuracies spread the most (max - min over `per_class`, one
// vector per model), largest spread first, ties by class index; at most `n`.
struct ClassSpread {
  size_t class_index;
  double spread;
};
std::vector<ClassSpread> most_differing_classes(const std::vector<std::vector<double>>& per_class, size_t n);

// The union of each model's `per_model` most confused (true, predicted) pairs, with every model's
// count of each pair; the largest total first, ties by (true, predicted).
struct PairCounts {
  size_t true_class, predicted_class;
  std::vector<int64_t> counts;  // one per model, in the order given
};
std::vector<PairCounts> confused_pairs(const std::vector<ConfusionMatrix>& confusions, size_t per_model);

// Accuracy of each column under each room condition, from models/conditions.json
// (bench/conditions.sh: conditions.<condition>.<model or "ensemble">), in the file's order.
struct ConditionRow {
  std::string condition;
  std::vector<std::optional<double>> accuracy;  // one per column; empty where the file has none
};
std::vector<ConditionRow> condition_rows(const nlohmann::ordered_json& conditions,
                                         const std::vector<std::string>& column_names);

// What the page shows; built by esc-train compare (compare_command.cpp), rendered by
// comparison_page.h.
struct Comparison {
  std::vector<std::string> class_names;
  std::vector<int> folds;
  std::vector<ModelColumn> columns;  // the models in the order given, then the ensemble (2 or more)
  int resamples = 0;
  uint64_t seed = 0;
  std::vector<ConditionRow> conditions;
  std::string conditions_source, bench_source;  // file names as given; empty: not given
  std::string bench_note;                       // the bench file's own "note" (how it was measured), if any
  std::vector<std::string> notes;               // warnings shown on the page
  std::string command;                          // how the page was made
};

}  // namespace escd::train
