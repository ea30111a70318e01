#include "recording_retention.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <optional>
#include <vector>

#include "util/atomic_file.h"

namespace escd::daemon {
namespace {

namespace fs = std::filesystem;

struct Recording {
  fs::path path;
  std::string label;
  fs::file_time_type modified;
  uint64_t bytes;
};

// Only files escd names are touched (a recordings directory pointed at a music library must not
// lose albums): <YYYY-MM-DDTHH-MM-SS.mmmZ>_<model>.flac, and its temporaries <that>.tmp.XXXXXX.
bool is_recording_name(const std::string& name) {
  static const std::string shape = "dddd-dd-ddTdd-dd-dd.dddZ_";
  if (name.size() < shape.size() + 6) return false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(name[i])) : name[i] != shape[i]) return false;
  }
  return name.size() > 5 && name.compare(name.size() - 5, 5, ".flac") == 0;
}

bool is_leftover(const std::string& name) {
  const std::optional<std::string> destination = atomic_temporary_destination(name);
  return destination && is_recording_name(*destination);
}

}  // namespace

RetentionResult enforce_retention(const std::string& directory, const RetentionLimits& limits, fs::file_time_type now,
                                  bool remove_leftovers) {
  RetentionResult result;
  auto note = [&](const std::string& what, const std::error_code& ec) {
    if (result.error.empty()) result.error = what + ": " + ec.message();
  };
  std::vector<Recording> all;
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) return result;
  // error_code overloads throughout, increments included: a directory that changes or vanishes
  // while it is read is an error to report, not an exception on the writer thread.
  for (fs::directory_iterator class_dir(directory, ec), end; !ec && class_dir != end; class_dir.increment(ec)) {
    std::error_code list_error;
    if (!class_dir->is_directory(list_error)) continue;
    for (fs::directory_iterator entry(class_dir->path(), list_error); !list_error && entry != end;
         entry.increment(list_error)) {
      const fs::path& p = entry->path();
      const std::string name = p.filename().string();
      std::error_code stat_error;
      if (!entry->is_regular_file(stat_error)) continue;
      if (is_leftover(name)) {
        if (!remove_leftovers) continue;
        std::error_code remove_error;
        if (fs::remove(p, remove_error)) ++result.leftovers;
        if (remove_error) note(p.string(), remove_error);
        continue;
      }
      if (!is_recording_name(name)) continue;
      const auto modified = entry->last_write_time(stat_error);
      const auto bytes = entry->file_size(stat_error);
      if (stat_error) {
        note(p.string(), stat_error);
        continue;
      }
      all.push_back({p, class_dir->path().filename().string(), modified, bytes});
    }
    if (list_error) note(class_dir->path().string(), list_error);
  }
  if (ec) note(directory, ec);

  // Newest first: each rule keeps a prefix of its files and deletes the rest.
  std::sort(all.begin(), all.end(), [](const Recording& a, const Recording& b) { return a.modified > b.modified; });
  std::vector<bool> doomed(all.size(), false);
  const auto max_age = std::chrono::duration_cast<fs::file_time_type::duration>(std::chrono::duration<double>(limits.max_age_s));
  std::map<std::string, int> per_class;
  uint64_t total = 0;
  bool full = false;  // once the newest files fill the size limit, every older one goes
  for (size_t i = 0; i < all.size(); ++i) {
    const Recording& r = all[i];
    if (limits.max_age_s > 0 && now - r.modified > max_age) doomed[i] = true;
    if (limits.max_files_per_class > 0 && ++per_class[r.label] > limits.max_files_per_class) doomed[i] = true;
    if (doomed[i]) continue;
    // The newest file is kept whatever its size: it was just reported as written.
    if (limits.max_total_bytes > 0 && i > 0 && (full || total + r.bytes > limits.max_total_bytes)) {
      full = true;
      doomed[i] = true;
      continue;
    }
    total += r.bytes;
  }
  for (size_t i = 0; i < all.size(); ++i) {
    if (!doomed[i]) {
      ++result.kept_files;
      result.kept_bytes += all[i].bytes;
      continue;
    }
    std::error_code remove_error;
    if (fs::remove(all[i].path, remove_error)) ++result.deleted;
    if (remove_error) note(all[i].path.string(), remove_error);
  }
  return result;
}

}  // namespace escd::daemon
