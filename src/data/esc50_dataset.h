// ESC-50 waveforms decoded once and kept in memory (2000 clips x 80000 samples x 4 B = 640 MB).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "data/esc50_index.h"

namespace escd {

struct Esc50Dataset {
  Esc50Index index;
  std::vector<std::vector<float>> waveforms;  // per clip, mono 16 kHz, exactly clip_samples long
  size_t clip_samples = 80000;
};

struct DatasetLoadOptions {
  int sample_rate = 16000;
  size_t clip_samples = 80000;  // 5 s; other lengths are zero-padded or cropped (centred) to this
  int threads = 2;
};

// Decodes the clips of `index` (those listed in `only`, or all when it is empty) in parallel.
// Throws AudioError for the first clip that cannot be decoded.
Esc50Dataset load_esc50(Esc50Index index, const DatasetLoadOptions& options = {},
                        const std::vector<size_t>& only = {});

// Pads (zeros, both sides) or crops (centred) a signal to exactly n samples.
std::vector<float> fit_length(std::vector<float> signal, size_t n);

}  // namespace escd
