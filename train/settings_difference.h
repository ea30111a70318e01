// Where two records of a run's settings differ, for the errors that refuse to mix runs: a resume of
// another recipe (resume.state, a finished run's summary.json) or ranks started differently.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace escd::train {

struct SettingsDifference {
  std::string name;  // the setting, down to the first differing leaf: recipe.config.epochs
  std::string was, now;  // each value as JSON cut to 200 characters, or "absent"
};

// The first key of `now` (in its order, then keys only `was` has) whose value differs, followed
// into nested objects; std::nullopt when they are equal. A key missing from a side reads "absent".
std::optional<SettingsDifference> first_difference(const nlohmann::json& was, const nlohmann::json& now);

// The values `record` (a summary.json, a resume state's metadata: more than settings) holds for the
// keys of `settings`, to compare with them: a key it lacks stays absent.
nlohmann::json recorded_settings(const nlohmann::json& record, const nlohmann::json& settings);

// first_difference(recorded_settings(record, settings), settings): how a record differs from settings.
std::optional<SettingsDifference> difference_from_record(const nlohmann::json& record, const nlohmann::json& settings);

}  // namespace escd::train
