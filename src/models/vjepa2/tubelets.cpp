#include "models/vjepa2/tubelets.h"

#include <ATen/Functions.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace escd::vjepa2 {

at::Tensor tubelet_patches(const at::Tensor& tubelet, int64_t patch_mels) {
  const int64_t B = tubelet.size(0), F = tubelet.size(1), M = tubelet.size(2);
  // [B, F, P, pm] -> [B, P, F, pm] -> [B, P, F * pm]
  return tubelet.reshape({B, F, M / patch_mels, patch_mels}).permute({0, 2, 1, 3}).reshape({B, M / patch_mels, -1});
}

at::Tensor cut_tubelets(const at::Tensor& frames, int64_t tubelet_frames, int64_t patch_mels, int64_t max_tubelets) {
  const int64_t B = frames.size(0), T = frames.size(1), M = frames.size(2);
  const int64_t n = std::min(T / tubelet_frames, max_tubelets);
  if (n < 1) {
    throw std::invalid_argument("vjepa2: need at least " + std::to_string(tubelet_frames) + " frames, got " +
                                std::to_string(T));
  }
  const int64_t P = M / patch_mels;
  // Latest n tubelets: [B, n, F, P, pm] -> [B, n, P, F, pm] -> [B, n * P, F * pm]
  return frames.slice(1, T - n * tubelet_frames, T)
      .reshape({B, n, tubelet_frames, P, patch_mels})
      .permute({0, 1, 3, 2, 4})
      .reshape({B, n * P, tubelet_frames * patch_mels});
}

namespace {

// [positions] -> [positions, d]: [sin(p w), cos(p w)], w_i = 10000^(-i / (d/2)).
at::Tensor sincos_1d(const at::Tensor& positions, int64_t d) {
  const at::Tensor omega = at::pow(10000.0, -at::arange(d / 2, at::kDouble) / static_cast<double>(d / 2));
  const at::Tensor angles = positions.to(at::kDouble).unsqueeze(1) * omega.unsqueeze(0);
  return at::cat({at::sin(angles), at::cos(angles)}, 1).to(at::kFloat);
}

}  // namespace

at::Tensor sincos_positions(const TokenGrid& grid, int64_t dim) {
  const at::Tensor token = at::arange(grid.tokens(), at::kLong);
  const at::Tensor time = at::div(token, grid.mel_patches, "floor");
  const at::Tensor mel = at::remainder(token, grid.mel_patches);
  return at::cat({sincos_1d(time, dim / 2), sincos_1d(mel, dim / 2)}, 1);
}

}  // namespace escd::vjepa2
