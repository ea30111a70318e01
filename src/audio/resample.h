// Sample-rate conversion with libsamplerate.
#pragma once

#include <vector>

#include "audio/resample_quality.h"

namespace escd {

// Converts a whole mono signal from `from_rate` to `to_rate` in one call, by default with the
// best-quality sinc converter (offline use: dataset loading, files). The output has
// round(n * to / from) samples. Throws std::runtime_error with libsamplerate's message on failure.
std::vector<float> resample_offline(const std::vector<float>& input, double from_rate, double to_rate,
                                    ResampleQuality quality = ResampleQuality::Best);

}  // namespace escd
