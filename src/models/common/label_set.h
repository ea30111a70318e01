// The "nothing here" output. A model trained with background examples (train: background_fraction)
// has one more class after the dataset's, named kBackgroundLabel: the window holds no sound event,
// only silence or room tone. It is never an event and never counts as a correct sound class.
// Ensembles may mix models with and without it: a model without it gives it probability 0.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace escd {

inline constexpr const char* kBackgroundLabel = "background";

// Index of the background output in `labels`, if the model has one (it is always the last).
std::optional<size_t> background_index(const std::vector<std::string>& labels);

// The label set of an ensemble of models with these label sets: all equal, except that some may
// lack the background output. Throws std::invalid_argument naming `names[i]` of the first member
// whose labels differ otherwise.
std::vector<std::string> ensemble_labels(const std::vector<std::vector<std::string>>& label_sets,
                                         const std::vector<std::string>& names);

// A member's probabilities over `labels` (its own) as probabilities over `ensemble` (a background
// output it lacks gets 0).
std::vector<float> to_ensemble_labels(const std::vector<float>& probabilities, const std::vector<std::string>& labels,
                                      const std::vector<std::string>& ensemble);

}  // namespace escd
