// Reading a confusion matrix ([true class][predicted class] clip counts): the accuracy of each class
// and the pairs most often confused. No torch, so that reports and their tests build without it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace escd::train {

using ConfusionMatrix = std::vector<std::vector<int64_t>>;

struct Confusion {
  int64_t count;
  size_t true_class, predicted_class;
};
// The `n` largest off-diagonal entries of a confusion matrix, largest first: what people read first.
std::vector<Confusion> worst_confusions(const ConfusionMatrix& confusion, size_t n);

// Each class's share of its clips predicted as itself (row c: confusion[c][c] / row total); 0 for a
// class with no clips.
std::vector<double> per_class_accuracy(const ConfusionMatrix& confusion);

// The matrix of per-clip labels and predictions, both in [0, n_classes); throws std::out_of_range
// for a class outside it and std::invalid_argument when the two lists differ in length.
ConfusionMatrix confusion_matrix(const std::vector<int64_t>& labels, const std::vector<int64_t>& predictions,
                                 size_t n_classes);

}  // namespace escd::train
