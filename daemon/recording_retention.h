// How long recordings are kept. The directory holds one subdirectory per class with that class's
// FLAC files; the limits delete the oldest files first (by modification time). Only files named as
// escd names recordings (<UTC time>_<model>.flac) are counted or deleted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace escd::daemon {

struct RetentionLimits {
  double max_age_s = 0;          // 0 = no limit
  uint64_t max_total_bytes = 0;  // 0 = no limit; the newest file is always kept
  int max_files_per_class = 0;   // 0 = no limit
};

struct RetentionResult {
  uint64_t deleted = 0;          // files removed by the limits
  uint64_t leftovers = 0;        // temporaries of writes a crash interrupted, removed
  uint64_t kept_files = 0;
  uint64_t kept_bytes = 0;
  std::string error;             // the first file that could not be listed or removed ("" = none)
};

// Applies the limits to `directory` at time `now`. With `remove_leftovers` it also removes
// temporaries of interrupted writes (only safe when no write is in progress: at start-up). A
// missing directory holds nothing. Never throws: what fails is in `error`.
RetentionResult enforce_retention(const std::string& directory, const RetentionLimits& limits,
                                  std::filesystem::file_time_type now, bool remove_leftovers);

}  // namespace escd::daemon
