#include "data/esc50_index.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "data/csv_rows.h"

namespace escd {
namespace {

constexpr int kClipsPerClass = 40;
constexpr int kFolds = 5;

// Which audio file stands for a csv filename: the name itself, else the same stem as .flac/.wav.
std::string find_audio_file(const std::filesystem::path& audio_dir, const std::string& filename) {
  namespace fs = std::filesystem;
  // The error_code overloads: a name the file system cannot even look up (too long, say: found by
  // fuzz_esc50_csv) is a missing clip to report, not an exception from the standard library.
  std::error_code ec;
  const fs::path named = audio_dir / filename;
  if (fs::exists(named, ec)) return named.string();
  for (const char* ext : {".flac", ".wav"}) {
    fs::path alt = named;
    alt.replace_extension(ext);
    if (fs::exists(alt, ec)) return alt.string();
  }
  return {};
}

}  // namespace

ClipIndex read_esc50_index(const std::string& root, const Esc50IndexOptions& options) {
  namespace fs = std::filesystem;
  const std::string csv_path = (fs::path(root) / "meta" / "esc50.csv").string();
  const auto rows = read_csv_rows(csv_path, "is this an ESC-50 directory with meta/esc50.csv?");
  if (rows.empty()) throw DatasetError(csv_path + ": empty file (expected a header line and 2000 rows)");

  std::map<std::string, size_t> column;
  for (size_t i = 0; i < rows[0].size(); ++i) column[rows[0][i]] = i;
  for (const char* required : {"filename", "fold", "target", "category"}) {
    if (!column.count(required)) {
      throw DatasetError(csv_path + ":1: header has no '" + required +
                         "' column (expected filename,fold,target,category,...)");
    }
  }

  ClipIndex index;
  index.root = root;
  index.class_names.assign(options.n_classes, "");
  const fs::path audio_dir = fs::path(root) / "audio";
  std::vector<std::string> missing_audio;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string where = csv_path + ":" + std::to_string(r + 1);
    if (row.size() == 1 && row[0].empty()) continue;  // a blank line
    if (row.size() != rows[0].size()) {
      throw DatasetError(where + ": expected " + std::to_string(rows[0].size()) + " fields, got " +
                         std::to_string(row.size()));
    }
    ClipInfo clip;
    clip.csv_line = static_cast<int>(r + 1);
    clip.filename = row[column["filename"]];
    if (clip.filename.empty()) throw DatasetError(where + ": field 'filename': empty");
    clip.fold = csv_int_field(row[column["fold"]], where, "fold", 1, kFolds);
    clip.target = csv_int_field(row[column["target"]], where, "target", 0, options.n_classes - 1);
    clip.category = row[column["category"]];
    if (clip.category.empty()) throw DatasetError(where + ": field 'category': empty");
    std::string& name = index.class_names[clip.target];
    if (name.empty()) {
      name = clip.category;
    } else if (name != clip.category) {
      throw DatasetError(where + ": field 'category': target " + std::to_string(clip.target) + " is '" + name +
                         "' on an earlier line, '" + clip.category + "' here");
    }
    clip.audio_path = find_audio_file(audio_dir, clip.filename);
    if (clip.audio_path.empty()) {
      missing_audio.push_back(clip.filename);
      continue;
    }
    index.clips.push_back(std::move(clip));
  }

  if (!missing_audio.empty()) {
    std::ostringstream msg;
    msg << audio_dir.string() << ": " << missing_audio.size() << " clip(s) listed in " << csv_path
        << " have no .wav or .flac file, e.g.";
    for (size_t i = 0; i < std::min<size_t>(5, missing_audio.size()); ++i) msg << " " << missing_audio[i];
    if (!options.allow_partial) throw DatasetError(msg.str());
  }
  if (!options.allow_partial) {
    std::vector<int> per_class(options.n_classes, 0);
    for (const auto& clip : index.clips) ++per_class[clip.target];
    std::ostringstream short_classes;
    int shortfall = 0;
    for (int c = 0; c < options.n_classes; ++c) {
      if (per_class[c] != kClipsPerClass) {
        shortfall += kClipsPerClass - per_class[c];
        short_classes << " " << c << " (" << (index.class_names[c].empty() ? "?" : index.class_names[c])
                      << "): " << per_class[c];
      }
    }
    if (shortfall != 0 || index.clips.size() != static_cast<size_t>(kClipsPerClass * options.n_classes)) {
      throw DatasetError(csv_path + ": expected " + std::to_string(kClipsPerClass * options.n_classes) +
                         " clips, " + std::to_string(kClipsPerClass) + " per class; found " +
                         std::to_string(index.clips.size()) + "; classes off:" + short_classes.str());
    }
  }
  for (int c = 0; c < options.n_classes; ++c) {
    if (index.class_names[c].empty()) index.class_names[c] = "class_" + std::to_string(c);
  }
  return index;
}

}  // namespace escd
