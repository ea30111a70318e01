#include "data/between_class_mix.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "data/room_acoustics.h"

namespace escd {
namespace {

// The level given to silence: far enough under any sound for the weights, finite for the arithmetic.
constexpr double kSilenceDb = -100.0;

}  // namespace

double peak_frame_level_db(const std::vector<float>& x, size_t frame) {
  if (frame == 0) throw std::invalid_argument("peak_frame_level_db: frames need at least one sample");
  const size_t step = std::max<size_t>(1, frame / 2);
  double peak = kSilenceDb;
  for (size_t start = 0; start < x.size(); start += step) {
    const size_t end = std::min(x.size(), start + frame);
    peak = std::max(peak, rms_dbfs(x.data() + start, end - start));
    if (end == x.size()) break;
  }
  return peak;
}

double between_class_weight(double r, double level_a_db, double level_b_db) {
  if (r <= 0.0) return 0.0;
  if (r >= 1.0) return 1.0;
  return 1.0 / (1.0 + std::pow(10.0, (level_a_db - level_b_db) / 20.0) * (1.0 - r) / r);
}

void mix_between_classes(std::vector<float>& a, const std::vector<float>& b, double r) {
  if (!(r >= 0.0 && r <= 1.0)) throw std::invalid_argument("mix_between_classes: the label ratio must be in [0, 1]");
  const double p = between_class_weight(r, peak_frame_level_db(a), peak_frame_level_db(b));
  const double scale = 1.0 / std::sqrt(p * p + (1.0 - p) * (1.0 - p));
  for (size_t i = 0; i < a.size(); ++i) {
    const double other = i < b.size() ? b[i] : 0.0;
    a[i] = static_cast<float>((p * a[i] + (1.0 - p) * other) * scale);
  }
}

}  // namespace escd
