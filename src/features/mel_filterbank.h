// HTK-scale triangular mel filterbank, identical to torchaudio.functional.melscale_fbanks with
// norm=None, mel_scale="htk", stored sparsely: each filter is non-zero on a short run of FFT bins.
#pragma once

#include <vector>

#include "features/front_end_config.h"

namespace escd {

struct MelFilter {
  int first_bin = 0;            // first FFT bin with a non-zero weight
  std::vector<float> weights;   // weights for bins first_bin, first_bin + 1, ...
};

class MelFilterbank {
 public:
  explicit MelFilterbank(const FrontEndConfig& config);

  // mel[m] = sum_k weight[m][k] * power[k]; power has config.n_bins() entries, mel has n_mels.
  void apply(const float* power, float* mel) const;

  // Dense [n_bins, n_mels] row-major copy, for tests and comparison with torchaudio.
  std::vector<float> dense() const;

  const std::vector<MelFilter>& filters() const { return filters_; }

 private:
  int n_bins_;
  std::vector<MelFilter> filters_;
};

}  // namespace escd
