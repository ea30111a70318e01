#include "comparison.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <tuple>

namespace escd::train {

namespace {

// The q-quantile of sorted values, linearly interpolated between neighbours.
double quantile(const std::vector<double>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (position - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

std::optional<double> number_at(const nlohmann::json& j, const nlohmann::json::json_pointer& pointer) {
  if (!j.contains(pointer) || !j.at(pointer).is_number()) return std::nullopt;
  return j.at(pointer).get<double>();
}

}  // namespace

Interval bootstrap_accuracy(const std::vector<int64_t>& labels, const std::vector<int64_t>& predictions,
                            int resamples, uint64_t seed, double level) {
  if (labels.empty()) throw std::invalid_argument("bootstrap_accuracy: no clips");
  if (labels.size() != predictions.size()) throw std::invalid_argument("bootstrap_accuracy: labels and predictions differ in length");
  if (resamples < 2) throw std::invalid_argument("bootstrap_accuracy: at least 2 resamples needed");
  if (!(level > 0 && level < 1)) throw std::invalid_argument("bootstrap_accuracy: level must be in (0, 1)");
  std::vector<char> correct(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) correct[i] = labels[i] == predictions[i];
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, labels.size() - 1);
  std::vector<double> accuracies(static_cast<size_t>(resamples));
  for (double& a : accuracies) {
    size_t hits = 0;
    for (size_t i = 0; i < labels.size(); ++i) hits += correct[pick(rng)];
    a = static_cast<double>(hits) / static_cast<double>(labels.size());
  }
  std::sort(accuracies.begin(), accuracies.end());
  return {quantile(accuracies, (1 - level) / 2), quantile(accuracies, (1 + level) / 2)};
}

CrossValidation parse_cross_validation(const nlohmann::json& cv, const std::string& source) {
  CrossValidation out;
  try {
    out.mean = cv.at("mean_accuracy").get<double>();
    out.std = cv.at("std_accuracy").get<double>();
    out.epochs = cv.value("epochs", 0);
    out.refit = cv.value("refit", false);
    for (const nlohmann::json& fold : cv.at("folds")) out.fold_accuracy.push_back(fold.at("accuracy").get<double>());
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(source + ": not a cross-validation record of esc-train (" + e.what() + ")");
  }
  return out;
}

// The label under which `bench` has the run of `models` together, whatever the order of the names;
// the names joined by commas when it has none.
static std::string bench_label(const nlohmann::json& bench, const std::vector<std::string>& models) {
  std::vector<std::string> wanted = models;
  std::sort(wanted.begin(), wanted.end());
  for (const char* table : {"cpu_percent", "latency"}) {
    if (!bench.contains(table) || !bench[table].is_object()) continue;
    for (const auto& [label, value] : bench[table].items()) {
      std::vector<std::string> names;
      for (size_t start = 0, comma; start <= label.size(); start = comma + 1) {
        comma = std::min(label.find(',', start), label.size());
        names.push_back(label.substr(start, comma - start));
      }
      std::sort(names.begin(), names.end());
      if (names == wanted) return label;
    }
  }
  std::string joined;
  for (const std::string& m : models) joined += (joined.empty() ? "" : ",") + m;
  return joined;
}

EscdCost escd_cost(const nlohmann::json& bench, const std::vector<std::string>& models) {
  using Pointer = nlohmann::json::json_pointer;
  const std::string label = bench_label(bench, models);
  EscdCost cost;
  cost.cpu_percent = number_at(bench, Pointer("/cpu_percent") / label);
  for (const std::string& model : models) {
    const Pointer publish = Pointer("/latency") / label / "models" / model / "publish_ms";
    const std::optional<double> p50 = number_at(bench, publish / "p50"), p99 = number_at(bench, publish / "p99");
    if (!p50 || !p99) return {cost.cpu_percent, std::nullopt, std::nullopt};  // all models or none
    cost.latency_p50_ms = std::max(cost.latency_p50_ms.value_or(0.0), *p50);
    cost.latency_p99_ms = std::max(cost.latency_p99_ms.value_or(0.0), *p99);
  }
  return cost;
}

ModelColumn score_column(const std::string& name, const std::vector<int64_t>& labels,
                         const std::vector<int64_t>& predictions, size_t n_classes, int resamples, uint64_t seed) {
  ModelColumn column;
  column.name = name;
  column.labels = labels;
  column.predictions = predictions;
  column.confusion = confusion_matrix(labels, predictions, n_classes);
  column.per_class = per_class_accuracy(column.confusion);
  int64_t correct = 0;
  for (size_t c = 0; c < n_classes; ++c) correct += column.confusion[c][c];
  column.accuracy = labels.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(labels.size());
  column.interval = bootstrap_accuracy(labels, predictions, resamples, seed);
  return column;
}

std::vector<ClassSpread> most_differing_classes(const std::vector<std::vector<double>>& per_class, size_t n) {
  std::vector<ClassSpread> spreads;
  if (per_class.empty()) return spreads;
  for (size_t c = 0; c < per_class.front().size(); ++c) {
    double low = per_class.front()[c], high = low;
    for (const auto& model : per_class) low = std::min(low, model.at(c)), high = std::max(high, model.at(c));
    spreads.push_back({c, high - low});
  }
  std::stable_sort(spreads.begin(), spreads.end(),
                   [](const ClassSpread& a, const ClassSpread& b) { return a.spread > b.spread; });
  if (spreads.size() > n) spreads.resize(n);
  return spreads;
}

std::vector<PairCounts> confused_pairs(const std::vector<ConfusionMatrix>& confusions, size_t per_model) {
  std::vector<PairCounts> pairs;
  for (const ConfusionMatrix& m : confusions) {
    for (const Confusion& c : worst_confusions(m, per_model)) {
      const bool known = std::any_of(pairs.begin(), pairs.end(), [&](const PairCounts& p) {
        return p.true_class == c.true_class && p.predicted_class == c.predicted_class;
      });
      if (known) continue;
      PairCounts p{c.true_class, c.predicted_class, {}};
      for (const ConfusionMatrix& other : confusions) p.counts.push_back(other.at(c.true_class).at(c.predicted_class));
      pairs.push_back(std::move(p));
    }
  }
  auto total = [](const PairCounts& p) {
    int64_t sum = 0;
    for (int64_t v : p.counts) sum += v;
    return sum;
  };
  std::sort(pairs.begin(), pairs.end(), [&](const PairCounts& a, const PairCounts& b) {
    return std::make_tuple(-total(a), a.true_class, a.predicted_class) <
           std::make_tuple(-total(b), b.true_class, b.predicted_class);
  });
  return pairs;
}

std::vector<ConditionRow> condition_rows(const nlohmann::ordered_json& conditions,
                                         const std::vector<std::string>& column_names) {
  std::vector<ConditionRow> rows;
  if (!conditions.contains("conditions") || !conditions["conditions"].is_object()) return rows;
  for (const auto& [condition, accuracies] : conditions["conditions"].items()) {
    ConditionRow row{condition, {}};
    for (const std::string& name : column_names) {
      const bool known = accuracies.is_object() && accuracies.contains(name) && accuracies[name].is_number();
      row.accuracy.push_back(known ? std::optional<double>(accuracies[name].get<double>()) : std::nullopt);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace escd::train
