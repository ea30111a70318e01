#include "spectrogram_stream.h"

#include <algorithm>
#include <cmath>

namespace escd::daemon {

SpectrogramStream::SpectrogramStream(int n_mels, double frame_s, int frames_per_column, int columns_per_message)
    : bands_(n_mels / 2),
      frames_per_column_(frames_per_column),
      columns_per_message_(columns_per_message),
      column_s_(frame_s * frames_per_column),
      sum_(static_cast<size_t>(n_mels / 2), 0.0) {}

std::optional<nlohmann::json> SpectrogramStream::push(const float* frame, double t) {
  for (int b = 0; b < bands_; ++b) sum_[b] += 0.5 * (frame[2 * b] + frame[2 * b + 1]);
  if (++frames_ < frames_per_column_) return std::nullopt;
  // ln power to dB: 10 / ln 10.
  constexpr double kDbPerNeper = 4.342944819032518;
  std::vector<int> column(static_cast<size_t>(bands_));
  for (int b = 0; b < bands_; ++b) {
    const double db = kDbPerNeper * sum_[b] / frames_per_column_;
    const double unit = std::clamp((db - kMinDb) / (kMaxDb - kMinDb), 0.0, 1.0);
    column[b] = static_cast<int>(std::lround(255.0 * unit));
  }
  std::fill(sum_.begin(), sum_.end(), 0.0);
  frames_ = 0;
  columns_.push_back(std::move(column));
  if (static_cast<int>(columns_.size()) < columns_per_message_) return std::nullopt;
  nlohmann::json body = {{"t", t}, {"column_s", column_s_}, {"bands", bands_}, {"min_db", kMinDb},
                         {"max_db", kMaxDb}, {"columns", std::move(columns_)}};
  columns_ = nlohmann::json::array();
  return body;
}

void SpectrogramStream::reset() {
  std::fill(sum_.begin(), sum_.end(), 0.0);
  frames_ = 0;
  columns_ = nlohmann::json::array();
}

}  // namespace escd::daemon
