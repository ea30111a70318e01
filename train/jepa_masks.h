// Multi-block masks for JEPA pretraining on the (tubelet, mel patch) token grid. Upstream V-JEPA 2
// masks blocks spanning the whole time axis of video; on a spectrogram that would hide whole mel
// bands for the whole clip, so blocks here are rectangles on the (time, mel) grid (docs/MODELS.md 3.5).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <random>

#include "models/vjepa2/tubelets.h"

namespace escd::train {

struct MaskSpec {
  int blocks = 8;             // rectangles per clip; the target is their union
  double scale = 0.15;        // each rectangle's area as a fraction of the grid
  double min_aspect = 0.75;   // time extent / mel extent, drawn uniformly per batch
  double max_aspect = 1.5;
};

// The two generators of V-JEPA 2: many small blocks, and a few large ones.
inline MaskSpec small_blocks() { return {8, 0.15, 0.75, 1.5}; }
inline MaskSpec large_blocks() { return {2, 0.7, 0.75, 1.5}; }

struct JepaMasks {
  at::Tensor context;  // [B, Kc] int64 visible token indices, sorted
  at::Tensor target;   // [B, Kt] int64 masked token indices, sorted
};

// Block size drawn once per batch, positions per clip; every clip keeps at least one context and
// one target token, and each list is cut (randomly) to the batch's shortest so they stack.
JepaMasks sample_jepa_masks(const vjepa2::TokenGrid& grid, int64_t batch, const MaskSpec& spec, std::mt19937_64& rng);

}  // namespace escd::train
