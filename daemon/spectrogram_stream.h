// escd's opt-in spectrogram topic (esc.spectrogram, [spectrogram] in escd.toml): the log-mel frames
// the models read, made small enough for a browser to draw live. Every `frames_per_column` frames
// (32 ms each) become one column: pairs of mel bands averaged (64 bands), in dB mapped to 0..255
// over [kMinDb, kMaxDb]. Columns are sent in groups of `columns_per_message`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace escd::daemon {

class SpectrogramStream {
 public:
  static constexpr double kMinDb = -80.0;  // digital silence (the front end's 1e-8 floor) and below
  static constexpr double kMaxDb = 40.0;   // a little under a full-scale tone's peak band
  // `n_mels` per frame, `frame_s` seconds between frames.
  SpectrogramStream(int n_mels, double frame_s, int frames_per_column, int columns_per_message);
  // One log-mel frame (ln power) ending at stream time t; a message body when a group is complete.
  std::optional<nlohmann::json> push(const float* frame, double t);
  // Forgets a partial column (after a gap in the input).
  void reset();

 private:
  const int bands_, frames_per_column_, columns_per_message_;
  const double column_s_;
  std::vector<double> sum_;   // per band, over the frames of the current column
  int frames_ = 0;
  nlohmann::json columns_ = nlohmann::json::array();
};

}  // namespace escd::daemon
