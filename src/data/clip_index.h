// A labelled dataset as esc-train sees it: clips of one fixed length, each with its class and fold,
// whatever the source (ESC-50's metadata, a folder per class, or a CSV: dataset_reader.h).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace escd {

// A problem with the dataset; what() names the file, and the line and field where there is one.
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClipInfo {
  std::string filename;    // the name reports show: ESC-50's csv name (1-100032-A-0.wav), else the
                           // path under the dataset, with "@<seconds>s" for a window of a long file
  std::string audio_path;  // the audio file
  int fold = 0;            // 1..5
  int target = 0;          // class index into ClipIndex::class_names
  std::string category;    // class name
  int csv_line = 0;        // 1-based line of a CSV that listed it, for messages; 0 otherwise
  // A window of a recording longer than one clip starts here (samples at the dataset's rate); -1: the
  // whole file is the clip, padded or cropped around its centre.
  int64_t start_sample = -1;
};

struct ClipIndex {
  std::string root;
  std::vector<ClipInfo> clips;            // the source's order
  std::vector<std::string> class_names;   // indexed by target
  // Set when the reader dealt the folds itself (data without any): the seed it dealt them by, which
  // a checkpoint records so that eval finds the same folds (dataset_reader.h).
  std::optional<uint64_t> split_seed;
};

// Indices into index.clips of the clips whose fold is one of `folds`, in order.
std::vector<size_t> clips_in_folds(const ClipIndex& index, const std::vector<int>& folds);

}  // namespace escd
