#include "confusion.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace escd::train {

std::vector<Confusion> worst_confusions(const ConfusionMatrix& confusion, size_t n) {
  std::vector<Confusion> pairs;
  for (size_t t = 0; t < confusion.size(); ++t) {
    for (size_t p = 0; p < confusion[t].size(); ++p) {
      if (t != p && confusion[t][p] > 0) pairs.push_back({confusion[t][p], t, p});
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const Confusion& a, const Confusion& b) {
    return std::tie(b.count, b.true_class, b.predicted_class) < std::tie(a.count, a.true_class, a.predicted_class);
  });
  if (pairs.size() > n) pairs.resize(n);
  return pairs;
}

std::vector<double> per_class_accuracy(const ConfusionMatrix& confusion) {
  std::vector<double> accuracy;
  for (size_t c = 0; c < confusion.size(); ++c) {
    int64_t total = 0;
    for (int64_t v : confusion[c]) total += v;
    accuracy.push_back(total && c < confusion[c].size() ? static_cast<double>(confusion[c][c]) / total : 0.0);
  }
  return accuracy;
}

ConfusionMatrix confusion_matrix(const std::vector<int64_t>& labels, const std::vector<int64_t>& predictions,
                                 size_t n_classes) {
  if (labels.size() != predictions.size()) {
    throw std::invalid_argument("confusion_matrix: " + std::to_string(labels.size()) + " labels but " +
                                std::to_string(predictions.size()) + " predictions");
  }
  ConfusionMatrix m(n_classes, std::vector<int64_t>(n_classes, 0));
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto t = static_cast<size_t>(labels[i]), p = static_cast<size_t>(predictions[i]);
    if (labels[i] < 0 || predictions[i] < 0 || t >= n_classes || p >= n_classes) {
      throw std::out_of_range("confusion_matrix: clip " + std::to_string(i) + " has a class outside 0.." +
                              std::to_string(n_classes - 1));
    }
    ++m[t][p];
  }
  return m;
}

}  // namespace escd::train
