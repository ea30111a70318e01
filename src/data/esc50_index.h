// The ESC-50 metadata: meta/esc50.csv checked row by row, and the audio file each row names.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace escd {

// A problem with the dataset directory; what() gives file, line and field where there is one.
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClipInfo {
  std::string filename;    // as in the csv (e.g. 1-100032-A-0.wav)
  std::string audio_path;  // the file found under audio/: the .wav, or the .flac of the same name
  int fold = 0;            // 1..5
  int target = 0;          // ESC-50's class index, 0..49
  std::string category;    // class name
  int csv_line = 0;        // 1-based line in esc50.csv, for messages
};

struct Esc50Index {
  std::string root;
  std::vector<ClipInfo> clips;            // csv order
  std::vector<std::string> class_names;   // indexed by target
};

struct Esc50IndexOptions {
  // ESC-50 has exactly 2000 clips, 40 per class. A subset (for tests or a quick run) must ask for it.
  bool allow_partial = false;
  int n_classes = 50;
};

// Reads <root>/meta/esc50.csv and resolves each clip's audio file. Throws DatasetError naming the
// file, line and field of the first malformed row, or listing what is missing.
Esc50Index read_esc50_index(const std::string& root, const Esc50IndexOptions& options = {});

// Indices into index.clips of the clips whose fold is one of `folds`, in csv order.
std::vector<size_t> clips_in_folds(const Esc50Index& index, const std::vector<int>& folds);

}  // namespace escd
