#include "data/dataset_reader.h"

#include <sndfile.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "data/esc50_index.h"
#include "data/labelled_files.h"
#include "models/common/label_set.h"
#include "util/fnv_hash.h"

namespace escd {
namespace {

namespace fs = std::filesystem;

// The order a class's files are dealt into folds: training, validation and test come first.
constexpr int kFoldOrder[] = {1, 4, 5, 2, 3};

// A file's length in samples at `rate`, from its header. Throws DatasetError naming the file when
// libsndfile cannot read it or it holds no audio.
int64_t samples_at_rate(const LabelledFile& file, int rate) {
  const std::string line = file.csv_line > 0 ? " (CSV line " + std::to_string(file.csv_line) + ")" : "";
  SF_INFO info{};
  SNDFILE* sf = sf_open(file.path.c_str(), SFM_READ, &info);
  if (sf == nullptr) throw DatasetError(file.path + ": not audio that libsndfile reads (" + sf_strerror(nullptr) + ")" + line);
  sf_close(sf);
  if (info.frames <= 0 || info.samplerate <= 0) throw DatasetError(file.path + ": no audio in the file" + line);
  return static_cast<int64_t>(static_cast<double>(info.frames) * rate / info.samplerate);
}

// Folds 1..5, per class in a seeded order, for files without any (a CSV gives all folds or none).
// Returns whether it dealt them.
bool assign_folds(std::vector<LabelledFile>& files, uint64_t seed) {
  if (files.front().fold > 0) return false;
  std::map<std::string, std::vector<size_t>> by_label;
  for (size_t i = 0; i < files.size(); ++i) by_label[files[i].label].push_back(i);
  for (auto& [label, members] : by_label) {
    // Fisher-Yates with mt19937_64, whose output the standard fixes: the same split everywhere.
    Fnv1a label_hash;
    label_hash.feed(label.data(), label.size());
    std::mt19937_64 rng(seed ^ label_hash.value());
    for (size_t i = members.size(); i > 1; --i) std::swap(members[i - 1], members[rng() % i]);
    for (size_t k = 0; k < members.size(); ++k) files[members[k]].fold = kFoldOrder[k % 5];
  }
  return true;
}

// The labels, sorted; each with at least two files, none reserved.
std::vector<std::string> class_names_of(const std::vector<LabelledFile>& files, const std::string& source) {
  std::map<std::string, int> count;
  for (const auto& f : files) ++count[f.label];
  std::vector<std::string> names;
  for (const auto& [label, n] : count) {
    if (label == kBackgroundLabel) {
      throw DatasetError(source + ": the label '" + label + "' is reserved for the models' nothing-here output; rename it");
    }
    if (n < 2) {
      const std::string& lonely = label;  // clang before 16 cannot capture a structured binding
      const auto it = std::find_if(files.begin(), files.end(), [&](const LabelledFile& f) { return f.label == lonely; });
      throw DatasetError(source + ": class '" + label + "' has one file (" + it->path +
                         "): a class needs at least two, one to train on and one to check");
    }
    names.push_back(label);
  }
  if (names.size() < 2) throw DatasetError(source + ": one class ('" + names.front() + "'): a classifier needs at least two");
  return names;
}

std::string seconds_label(int64_t sample, int rate) {
  char text[32];
  std::snprintf(text, sizeof text, "@%gs", static_cast<double>(sample) / rate);
  return text;
}

// Clips from labelled files: classes, folds, and long recordings cut into windows.
ClipIndex index_labelled_files(std::vector<LabelledFile> files, const std::string& source, const DatasetOptions& o) {
  ClipIndex index;
  index.root = source;
  index.class_names = class_names_of(files, source);
  if (assign_folds(files, o.split_seed)) index.split_seed = o.split_seed;
  std::map<std::string, int> target;
  for (size_t c = 0; c < index.class_names.size(); ++c) target[index.class_names[c]] = static_cast<int>(c);
  const auto clip = static_cast<int64_t>(o.clip_samples);
  size_t cut = 0, dropped = 0;
  for (const LabelledFile& f : files) {
    const int64_t n = samples_at_rate(f, o.sample_rate);
    ClipInfo info;
    info.audio_path = f.path;
    info.fold = f.fold;
    info.target = target.at(f.label);
    info.category = f.label;
    info.csv_line = f.csv_line;
    if (n <= clip) {
      info.filename = f.name;
      index.clips.push_back(info);
      continue;
    }
    ++cut;
    for (int64_t start = 0; start < n; start += clip) {
      if (start > 0 && n - start < clip / 2) {
        ++dropped;
        break;
      }
      info.start_sample = start;
      info.filename = f.name + seconds_label(start, o.sample_rate);
      index.clips.push_back(info);
    }
  }
  spdlog::info("{}: {} clips of {} classes from {} files ({} longer than a clip, cut into windows; {} short "
               "last piece(s) dropped)",
               source, index.clips.size(), index.class_names.size(), files.size(), cut, dropped);
  return index;
}

}  // namespace

bool is_esc50_layout(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / "meta" / "esc50.csv", ec);
}

ClipIndex read_dataset(const std::string& path, const DatasetOptions& options) {
  std::error_code ec;
  if (is_esc50_layout(path)) {
    Esc50IndexOptions esc50;
    esc50.allow_partial = options.allow_partial_esc50;
    return read_esc50_index(path, esc50);
  }
  if (fs::is_regular_file(path, ec)) return index_labelled_files(read_labelled_csv(path), path, options);
  if (fs::is_directory(path, ec)) return index_labelled_files(list_class_folders(path), path, options);
  throw DatasetError(path + ": no such file or directory (expected ESC-50 with meta/esc50.csv, a folder per "
                            "class, or a CSV of file,label[,fold])");
}

}  // namespace escd
