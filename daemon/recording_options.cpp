#include "recording_options.h"

#include <cstdlib>
#include <string>

#include "util/toml_json.h"

namespace escd::daemon {

void validate(const RecordingOptions& o) {
  auto require = [](bool ok, const std::string& message) {
    if (!ok) throw ConfigError("recordings." + message);
  };
  require(o.sample_rate == "model" || o.sample_rate == "input",
          "sample_rate: expected \"model\" (16 kHz) or \"input\" (the input's own rate), got \"" + o.sample_rate + "\"");
  require(o.pre_roll_s >= 0 && o.pre_roll_s <= 60, "pre_roll_s: expected 0..60 s, got " + std::to_string(o.pre_roll_s));
  require(o.post_roll_s >= 0 && o.post_roll_s <= 60, "post_roll_s: expected 0..60 s, got " + std::to_string(o.post_roll_s));
  require(o.max_event_s >= 1 && o.max_event_s <= 3600,
          "max_event_s: expected 1..3600 s, got " + std::to_string(o.max_event_s));
  require(o.max_age_days >= 0 && o.max_age_days <= 36500, "max_age_days: expected 0..36500 (0 = no limit)");
  require(o.max_total_mb >= 0 && o.max_total_mb <= 1e9, "max_total_mb: expected 0..1e9 (0 = no limit)");
  require(o.max_files_per_class >= 0, "max_files_per_class: expected >= 0 (0 = no limit)");
  if (o.enabled) recordings_directory(o);
}

std::string recordings_directory(const RecordingOptions& o) {
  if (!o.directory.empty()) return o.directory;
  // systemd sets STATE_DIRECTORY to the unit's StateDirectory= paths, colon-separated.
  const char* state = std::getenv("STATE_DIRECTORY");
  const std::string first = state ? std::string(state).substr(0, std::string(state).find(':')) : "";
  if (first.empty()) {
    throw ConfigError(
        "recordings.directory: recordings are on but no directory is set (set [recordings] directory or --record DIR, "
        "or run under systemd with StateDirectory=escd)");
  }
  return first + "/recordings";
}

}  // namespace escd::daemon
