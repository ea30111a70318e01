#include "features/mel_filterbank.h"

#include <algorithm>
#include <cmath>

namespace escd {
namespace {

double hz_to_mel_htk(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double mel_to_hz_htk(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

}  // namespace

MelFilterbank::MelFilterbank(const FrontEndConfig& config) : n_bins_(config.n_bins()) {
  const int n_mels = config.n_mels;
  // n_mels + 2 corner frequencies equally spaced on the mel scale.
  const double mel_lo = hz_to_mel_htk(config.f_min);
  const double mel_hi = hz_to_mel_htk(config.f_max);
  std::vector<double> corner_hz(n_mels + 2);
  for (int i = 0; i < n_mels + 2; ++i) {
    corner_hz[i] = mel_to_hz_htk(mel_lo + (mel_hi - mel_lo) * i / (n_mels + 1));
  }
  const double nyquist = config.sample_rate / 2;  // torchaudio uses sample_rate // 2
  filters_.resize(n_mels);
  for (int m = 0; m < n_mels; ++m) {
    const double lo = corner_hz[m], centre = corner_hz[m + 1], hi = corner_hz[m + 2];
    MelFilter& filter = filters_[m];
    filter.first_bin = -1;
    for (int k = 0; k < n_bins_; ++k) {
      const double f = nyquist * k / (n_bins_ - 1);
      const double rising = (f - lo) / (centre - lo);
      const double falling = (hi - f) / (hi - centre);
      const double w = std::max(0.0, std::min(rising, falling));
      if (w <= 0.0) {
        if (filter.first_bin >= 0) break;  // past the triangle
        continue;
      }
      if (filter.first_bin < 0) filter.first_bin = k;
      filter.weights.push_back(static_cast<float>(w));
    }
    if (filter.first_bin < 0) filter.first_bin = 0;  // a filter narrower than one bin: all zero
  }

  // The padded copy: zeros after each filter's weights up to a whole number of blocks. The last
  // blocks may reach past the last bin, which is why apply() takes input_size() values.
  input_size_ = n_bins_;
  for (const MelFilter& filter : filters_) {
    const int blocks = std::max<int>(1, (static_cast<int>(filter.weights.size()) + kBlock - 1) / kBlock);
    padded_.push_back({filter.first_bin, static_cast<int>(padded_weights_.size()), blocks});
    padded_weights_.resize(padded_weights_.size() + static_cast<size_t>(blocks) * kBlock, 0.0f);
    std::copy(filter.weights.begin(), filter.weights.end(), padded_weights_.begin() + padded_.back().offset);
    input_size_ = std::max(input_size_, filter.first_bin + blocks * kBlock);
  }
}

void MelFilterbank::apply(const float* power, float* mel) const {
  for (size_t m = 0; m < padded_.size(); ++m) {
    const PaddedFilter& filter = padded_[m];
    const float* p = power + filter.first_bin;
    const float* w = padded_weights_.data() + filter.offset;
    // kBlock independent sums: the compiler turns the block into vector multiply-adds, and no sum
    // waits on the previous add.
    float sums[kBlock] = {};
    for (int b = 0; b < filter.blocks; ++b, p += kBlock, w += kBlock) {
      for (int j = 0; j < kBlock; ++j) sums[j] += w[j] * p[j];
    }
    float total = 0.0f;
    for (int j = 0; j < kBlock; ++j) total += sums[j];
    mel[m] = total;
  }
}

std::vector<float> MelFilterbank::dense() const {
  const size_t n_mels = filters_.size();
  std::vector<float> out(static_cast<size_t>(n_bins_) * n_mels, 0.0f);
  for (size_t m = 0; m < n_mels; ++m) {
    for (size_t i = 0; i < filters_[m].weights.size(); ++i) {
      out[(filters_[m].first_bin + i) * n_mels + m] = filters_[m].weights[i];
    }
  }
  return out;
}

}  // namespace escd
