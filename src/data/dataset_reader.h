// Which clips a dataset path holds, whatever its layout: ESC-50 (a directory with meta/esc50.csv, the
// preset), a folder per class, or a CSV of file,label[,fold] (labelled_files.h).
//
// For the user's own data:
// - classes are the labels, sorted; each needs at least two files, and "background" is reserved for
//   the models' nothing-here output (label_set.h);
// - a file up to one clip long is one clip, padded around its centre as ESC-50's short clips are; a
//   longer recording is cut into consecutive clip-long windows, a last piece shorter than half a clip
//   dropped (counted in the log);
// - without a fold column, each class's files are dealt into folds 1, 4, 5, 2, 3 in a seeded order
//   (so even a two-file class has a training and a validation clip), and every window of a file stays
//   in the file's fold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "data/clip_index.h"

namespace escd {

struct DatasetOptions {
  bool allow_partial_esc50 = false;  // ESC-50 only: accept fewer than its 2000 clips
  uint64_t split_seed = 0;           // the order folds are dealt in, for data without folds
  int sample_rate = 16000;           // the clips' rate and length, to cut long recordings
  size_t clip_samples = 80000;
};

// Throws DatasetError naming the file (and line) of the first problem: a path that is none of the
// three layouts, unreadable audio, an empty or single-file class, a reserved label.
ClipIndex read_dataset(const std::string& path, const DatasetOptions& options = {});

// True when `path` is laid out as ESC-50 (the preset).
bool is_esc50_layout(const std::string& path);

}  // namespace escd
