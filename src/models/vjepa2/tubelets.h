// Cutting log-mel frames into tubelet tokens, and their fixed positional encoding.
//
// A clip of T frames keeps its latest n = min(T / tubelet_frames, max_tubelets) whole tubelets
// (the oldest T mod tubelet_frames frames are dropped, so the newest audio is always seen). Each
// tubelet is cut along mel into n_mels / patch_mels patches; token index = t * mel_patches + m
// (time slowest, as upstream's PatchEmbed3D). A token's values are its patch flattened as
// [frame within tubelet][band within patch].
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace escd::vjepa2 {

struct TokenGrid {
  int64_t tubelets = 0;     // along time
  int64_t mel_patches = 0;  // along mel
  int64_t tokens() const { return tubelets * mel_patches; }
};

// [B, T, n_mels] -> [B, tubelets * mel_patches, tubelet_frames * patch_mels]. T must hold at least
// one tubelet.
at::Tensor cut_tubelets(const at::Tensor& frames, int64_t tubelet_frames, int64_t patch_mels, int64_t max_tubelets);

// The patches of one tubelet: [B, tubelet_frames, n_mels] -> [B, mel_patches, tubelet_frames * patch_mels].
at::Tensor tubelet_patches(const at::Tensor& tubelet, int64_t patch_mels);

// Fixed 2-D sin-cos table [grid.tokens(), dim]: the first dim/2 channels encode the tubelet index,
// the rest the mel patch index, each as [sin(p w_i), cos(p w_i)] with w_i = 10000^(-i / (d/2)),
// d = dim/2 (docs/MODELS.md 3.1: V-JEPA 2's non-RoPE sin-cos table, on a 2-D grid split evenly
// between time and mel rather than its 3-D time/height/width split). Why not V-JEPA 2's
// 3-D RoPE: positions added once after the patch embedding leave the embeddings position-free, so
// a streaming session can cache them while the window slides and re-add positions per window;
// RoPE would rotate q and k inside every attention call for no gain at 152 tokens, and the
// prototype this replaces used the sin-cos table too.
at::Tensor sincos_positions(const TokenGrid& grid, int64_t dim);

}  // namespace escd::vjepa2
