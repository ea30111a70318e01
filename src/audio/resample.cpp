#include "audio/resample.h"

#include <samplerate.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace escd {

int libsamplerate_converter(ResampleQuality quality) {
  switch (quality) {
    case ResampleQuality::Best: return SRC_SINC_BEST_QUALITY;
    case ResampleQuality::Linear: return SRC_LINEAR;
    case ResampleQuality::Medium: break;
  }
  return SRC_SINC_MEDIUM_QUALITY;
}

std::vector<float> resample_offline(const std::vector<float>& input, double from_rate, double to_rate,
                                    ResampleQuality quality) {
  if (from_rate <= 0 || to_rate <= 0) {
    throw std::runtime_error("resample: rates must be positive (got " + std::to_string(from_rate) +
                             " -> " + std::to_string(to_rate) + ")");
  }
  if (from_rate == to_rate || input.empty()) return input;

  const double ratio = to_rate / from_rate;
  const auto expected = static_cast<size_t>(std::lround(static_cast<double>(input.size()) * ratio));
  // A little headroom: src_simple may produce a few samples more than the rounded length.
  std::vector<float> output(expected + 16);

  SRC_DATA data{};
  data.data_in = input.data();
  data.input_frames = static_cast<long>(input.size());
  data.data_out = output.data();
  data.output_frames = static_cast<long>(output.size());
  data.src_ratio = ratio;
  data.end_of_input = 1;
  if (int err = src_simple(&data, libsamplerate_converter(quality), 1); err != 0) {
    throw std::runtime_error(std::string("resample: libsamplerate: ") + src_strerror(err));
  }
  // Fix the length to round(n * ratio) so that, e.g., 5 s at 44.1 kHz is exactly 80000 samples at
  // 16 kHz; the converter's own count can differ by a sample at the end of input.
  output.resize(static_cast<size_t>(data.output_frames_gen));
  output.resize(expected, 0.0f);
  return output;
}

}  // namespace escd
