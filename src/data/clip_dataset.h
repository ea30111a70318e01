// A dataset's clips decoded once and kept in memory (ESC-50: 2000 clips x 80000 samples x 4 B = 640 MB).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "data/clip_index.h"

namespace escd {

struct ClipDataset {
  ClipIndex index;
  std::vector<std::vector<float>> waveforms;  // per clip, mono 16 kHz, exactly clip_samples long
  size_t clip_samples = 80000;
};

struct DatasetLoadOptions {
  int sample_rate = 16000;
  size_t clip_samples = 80000;  // 5 s; other lengths are zero-padded or cropped (centred) to this
  int threads = 2;
};

// Decodes the clips of `index` (those listed in `only`, or all when it is empty) in parallel, each
// file once however many windows it gives. Throws AudioError for the first file that cannot be decoded.
ClipDataset load_clips(ClipIndex index, const DatasetLoadOptions& options = {}, const std::vector<size_t>& only = {});

// Pads (zeros, both sides) or crops (centred) a signal to exactly n samples.
std::vector<float> fit_length(std::vector<float> signal, size_t n);

// The n samples of `signal` from `start`, zero-padded past its end.
std::vector<float> window_of(const std::vector<float>& signal, size_t start, size_t n);

}  // namespace escd
