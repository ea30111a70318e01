// Linear warm-up then cosine decay, evaluated per optimiser step (smoother than per epoch).
#pragma once

#include <algorithm>
#include <cmath>

namespace escd::train {

// Multiplier in [min_ratio, 1] for `step` of `total` steps with `warmup` warm-up steps.
inline double warmup_cosine(double step, double warmup, double total, double min_ratio) {
  if (warmup > 0 && step < warmup) return (step + 1) / warmup;
  const double progress = std::clamp((step - warmup) / std::max(1.0, total - warmup), 0.0, 1.0);
  return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * progress));
}

}  // namespace escd::train
