// The "nothing here" output. A model trained with background examples (train: background_fraction)
// has one more class after the dataset's, named kBackgroundLabel: the window holds no sound event,
// only silence or room tone. It is never an event and never counts as a correct sound class.
// Ensembles may mix models with and without it (ensemble_mean.h says how they combine).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace escd {

inline constexpr const char* kBackgroundLabel = "background";

// Index of the background output in `labels`, if the model has one (it is always the last).
std::optional<size_t> background_index(const std::vector<std::string>& labels);

// Empty when the two label sets are the same classes in the same order (a "background" output
// aside), else what differs ("class 2 is 'kettle' against 'hen'", or the two counts), for messages.
std::string label_mismatch(const std::vector<std::string>& first, const std::vector<std::string>& second);

// The label set of an ensemble of models with these label sets: all equal, except that some may
// lack the background output. Throws std::invalid_argument naming `names[i]` of the first member
// whose labels differ otherwise.
std::vector<std::string> ensemble_labels(const std::vector<std::vector<std::string>>& label_sets,
                                         const std::vector<std::string>& names);

}  // namespace escd
