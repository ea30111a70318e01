// [recordings] in escd.toml: whether escd keeps the audio of its events, where, and for how long
// (docs/RECORDINGS.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace escd::daemon {

struct RecordingOptions {
  bool enabled = false;
  std::string directory;           // "" = $STATE_DIRECTORY/recordings (systemd's StateDirectory=escd)
  std::string sample_rate = "model";  // "model": 16 kHz, what the models hear; "input": the input's own rate (mono)
  double pre_roll_s = 3.0;         // audio kept from before the event starts
  double post_roll_s = 2.0;        // and after it ends
  double max_event_s = 300.0;      // a longer event's file stops here (the end message says so)
  std::vector<std::string> models; // whose events are recorded ("ensemble" included); empty = every model's
  // Retention, enforced at start-up and after every file; 0 = no limit.
  double max_age_days = 30.0;
  double max_total_mb = 1024.0;
  int max_files_per_class = 100;
};

// Checks the values; throws ConfigError naming the key.
void validate(const RecordingOptions& options);

// The directory recordings go to: `directory`, or with none set the first of systemd's
// $STATE_DIRECTORY paths plus "/recordings". Throws ConfigError when recordings are on and neither
// exists.
std::string recordings_directory(const RecordingOptions& options);

}  // namespace escd::daemon
