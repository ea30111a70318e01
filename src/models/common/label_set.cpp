#include "models/common/label_set.h"

#include <stdexcept>

namespace escd {
namespace {

std::vector<std::string> without_background(const std::vector<std::string>& labels) {
  if (!background_index(labels)) return labels;
  return {labels.begin(), labels.end() - 1};
}

// "3 classes (dog, door_knock, kettle)": the first few, for messages.
std::string describe(const std::vector<std::string>& labels) {
  std::string out = std::to_string(labels.size()) + " classes (";
  for (size_t i = 0; i < labels.size() && i < 3; ++i) out += (i ? ", " : "") + labels[i];
  return out + (labels.size() > 3 ? ", ...)" : ")");
}

}  // namespace

std::optional<size_t> background_index(const std::vector<std::string>& labels) {
  if (labels.empty() || labels.back() != kBackgroundLabel) return std::nullopt;
  return labels.size() - 1;
}

std::string label_mismatch(const std::vector<std::string>& first, const std::vector<std::string>& second) {
  const std::vector<std::string> a = without_background(first), b = without_background(second);
  if (a == b) return {};
  if (a.size() != b.size()) return describe(a) + " against " + describe(b);
  for (size_t i = 0;; ++i) {
    if (a[i] != b[i]) return "class " + std::to_string(i) + " is '" + a[i] + "' against '" + b[i] + "'";
  }
}

std::vector<std::string> ensemble_labels(const std::vector<std::vector<std::string>>& label_sets,
                                         const std::vector<std::string>& names) {
  if (label_sets.empty()) return {};
  std::vector<std::string> out = label_sets.front();
  for (size_t i = 1; i < label_sets.size(); ++i) {
    if (const std::string why = label_mismatch(label_sets[i], out); !why.empty()) {
      throw std::invalid_argument(names.at(i) + " has different classes from " + names.at(0) + " (" + why +
                                  "): an ensemble needs the same classes in the same order (a \"" +
                                  kBackgroundLabel + "\" output may be missing from some)");
    }
    if (label_sets[i].size() > out.size()) out = label_sets[i];
  }
  return out;
}

}  // namespace escd
