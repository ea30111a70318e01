// Writes that matter are atomic: the destination holds either the old content or the complete new
// content, never a partial file (a crash, a full disk or a kill mid-write leaves it untouched).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace escd {

// A file being written atomically: a temporary beside `path` (created 0600, so the content is never
// readable by others, not even before the rename) that replaces `path` only on commit(). Destroyed
// without a commit, the temporary is removed. Errors throw std::runtime_error naming the path and
// the OS error.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Appends `data` to the temporary.
  void write(std::string_view data);
  enum class Replace { kAlways, kNever };
  // Sets the permission bits, flushes to disk, renames to `path` and makes the rename durable. With
  // Replace::kNever an existing `path` is an error (EEXIST) instead of being replaced.
  void commit(unsigned mode = 0644, Replace replace = Replace::kAlways);

 private:
  [[noreturn]] void abandon(const std::string& what);

  std::string path_, temporary_;
  int fd_ = -1;
};

// An AtomicFile's temporary is named <destination>.tmp.XXXXXX (six letters or digits). A process
// killed mid-write leaves it behind; cleaners recognise it here rather than repeating the shape.
// Returns the destination's file name when `file_name` is such a temporary, nothing otherwise.
std::optional<std::string> atomic_temporary_destination(std::string_view file_name);

// Writes `data` to `path` through an AtomicFile; `mode` is the file's permission bits.
void write_file_atomic(const std::string& path, std::string_view data, unsigned mode = 0644);

}  // namespace escd
