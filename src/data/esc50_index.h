// The ESC-50 preset of the dataset reader: meta/esc50.csv checked row by row, and the audio file each
// row names.
#pragma once

#include <string>

#include "data/clip_index.h"

namespace escd {

struct Esc50IndexOptions {
  // ESC-50 has exactly 2000 clips, 40 per class. A subset (for tests or a quick run) must ask for it.
  bool allow_partial = false;
  int n_classes = 50;
};

// Reads <root>/meta/esc50.csv and resolves each clip's audio file. Throws DatasetError naming the
// file, line and field of the first malformed row, or listing what is missing.
ClipIndex read_esc50_index(const std::string& root, const Esc50IndexOptions& options = {});

}  // namespace escd
