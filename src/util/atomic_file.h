// Writes that matter are atomic: the destination holds either the old content or the complete new
// content, never a partial file (a crash, a full disk or a kill mid-write leaves it untouched).
#pragma once

#include <string>
#include <string_view>

namespace escd {

// Writes `data` to a temporary file beside `path`, flushes it to disk, then renames it over `path`.
// Throws std::runtime_error naming the path and the OS error; the temporary is removed on failure.
// `mode` is the file's permission bits (0600 for secrets: the temporary is created 0600, so the
// content is never readable by others, not even before the rename).
void write_file_atomic(const std::string& path, std::string_view data, unsigned mode = 0644);

}  // namespace escd
