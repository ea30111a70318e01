#include "models/common/label_set.h"

#include <stdexcept>

namespace escd {
namespace {

std::vector<std::string> without_background(const std::vector<std::string>& labels) {
  if (!background_index(labels)) return labels;
  return {labels.begin(), labels.end() - 1};
}

}  // namespace

std::optional<size_t> background_index(const std::vector<std::string>& labels) {
  if (labels.empty() || labels.back() != kBackgroundLabel) return std::nullopt;
  return labels.size() - 1;
}

std::vector<std::string> ensemble_labels(const std::vector<std::vector<std::string>>& label_sets,
                                         const std::vector<std::string>& names) {
  if (label_sets.empty()) return {};
  std::vector<std::string> out = label_sets.front();
  for (size_t i = 1; i < label_sets.size(); ++i) {
    if (without_background(label_sets[i]) != without_background(out)) {
      throw std::invalid_argument(names.at(i) + " has different classes from " + names.at(0) +
                                  ": an ensemble needs the same classes in the same order (a \"" +
                                  kBackgroundLabel + "\" output may be missing from some)");
    }
    if (label_sets[i].size() > out.size()) out = label_sets[i];
  }
  return out;
}

}  // namespace escd
