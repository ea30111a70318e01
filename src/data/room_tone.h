// Synthetic empty rooms: the "nothing here" examples training learns (make_background_example).
#pragma once

#include <string>
#include <vector>

#include "data/augment.h"

namespace escd {

// The ventilation signal's envelope swings by a depth uniform in [kVentilationDepthMin, depth_max);
// a usable depth_max lies in [kVentilationDepthMin, 1] (at 1 the envelope touches zero).
constexpr double kVentilationDepthMin = 0.02;
inline bool is_valid_ventilation_depth_max(double depth_max) {
  return depth_max >= kVentilationDepthMin && depth_max <= 1.0;
}
// That range as error messages print it, from kVentilationDepthMin: "[0.02, 1]".
std::string ventilation_depth_max_range();

// Synthetic "empty room" signals: "silence" (all zeros), "white", "pink", "brown" (coloured noise),
// "hum" (50 or 60 Hz mains hum with decaying harmonics over pink noise 20-40 dB below it), "hvac"
// (brown and pink noise with a slow amplitude modulation, its depth uniform in
// [kVentilationDepthMin, hvac_depth_max), and one or two low tones). Scaled to rms_dbfs == level_dbfs,
// except silence; not clipped. Unknown kind, or an invalid hvac_depth_max: std::invalid_argument.
std::vector<float> room_tone(const std::string& kind, size_t n, int sample_rate, double level_dbfs, Rng& rng,
                             double hvac_depth_max = AugmentConfig{}.background_hvac_depth_max);
const std::vector<std::string>& room_tone_kinds();

}  // namespace escd
