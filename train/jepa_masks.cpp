#include "jepa_masks.h"

#include <ATen/Functions.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace escd::train {
namespace {

at::Tensor stack_truncated(std::vector<std::vector<int64_t>>& lists, size_t keep, std::mt19937_64& rng) {
  at::Tensor out = at::empty({static_cast<int64_t>(lists.size()), static_cast<int64_t>(keep)}, at::kLong);
  for (size_t b = 0; b < lists.size(); ++b) {
    auto& l = lists[b];
    std::shuffle(l.begin(), l.end(), rng);
    l.resize(keep);
    std::sort(l.begin(), l.end());
    std::copy(l.begin(), l.end(), out[static_cast<int64_t>(b)].data_ptr<int64_t>());
  }
  return out;
}

}  // namespace

JepaMasks sample_jepa_masks(const vjepa2::TokenGrid& grid, int64_t batch, const MaskSpec& spec, std::mt19937_64& rng) {
  const int64_t T = grid.tubelets, M = grid.mel_patches;
  std::uniform_real_distribution<double> aspect_dist(spec.min_aspect, spec.max_aspect);
  const double area = spec.scale * static_cast<double>(grid.tokens()), aspect = aspect_dist(rng);
  const int64_t bt = std::clamp<int64_t>(std::llround(std::sqrt(area * aspect)), 1, T);
  const int64_t bm = std::clamp<int64_t>(std::llround(std::sqrt(area / aspect)), 1, M);

  std::vector<std::vector<int64_t>> context(batch), target(batch);
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<char> masked(grid.tokens(), 0);
    std::uniform_int_distribution<int64_t> t0(0, T - bt), m0(0, M - bm);
    for (int k = 0; k < spec.blocks; ++k) {
      const int64_t t = t0(rng), m = m0(rng);
      for (int64_t i = t; i < t + bt; ++i) {
        for (int64_t j = m; j < m + bm; ++j) masked[i * M + j] = 1;
      }
    }
    // A grid fully covered leaves nothing to predict from: give one token back.
    if (std::all_of(masked.begin(), masked.end(), [](char c) { return c != 0; })) {
      masked[std::uniform_int_distribution<int64_t>(0, grid.tokens() - 1)(rng)] = 0;
    }
    for (int64_t i = 0; i < grid.tokens(); ++i) (masked[i] ? target : context)[b].push_back(i);
  }
  size_t kc = grid.tokens(), kt = grid.tokens();
  for (int64_t b = 0; b < batch; ++b) {
    kc = std::min(kc, context[b].size());
    kt = std::min(kt, target[b].size());
  }
  return {stack_truncated(context, kc, rng), stack_truncated(target, kt, rng)};
}

}  // namespace escd::train
