// HTK-scale triangular mel filterbank, identical to torchaudio.functional.melscale_fbanks with
// norm=None, mel_scale="htk", stored sparsely: each filter is non-zero on a short run of FFT bins.
// apply() uses a copy padded to whole blocks of kBlock weights, so that every filter runs the same
// branch-free block loop (128 filters of 1-20 weights each were mostly loop overhead and mispredicted
// loop exits, a third of the front end's time).
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

  // mel[m] = sum_k weight[m][k] * power[k]; mel has n_mels entries. power has input_size() entries:
  // the n_bins() of the spectrum, then zeros (finite values) that only zero weights multiply.
  void apply(const float* power, float* mel) const;
  int input_size() const { return input_size_; }

  // Dense [n_bins, n_mels] row-major copy, for tests and comparison with torchaudio.
  std::vector<float> dense() const;

  const std::vector<MelFilter>& filters() const { return filters_; }

 private:
  static constexpr int kBlock = 8;
  struct PaddedFilter {
    int first_bin;  // the filter's first non-zero bin
    int offset;     // into padded_weights_
    int blocks;     // kBlock weights each
  };

  int n_bins_;
  int input_size_;
  std::vector<MelFilter> filters_;
  std::vector<PaddedFilter> padded_;
  std::vector<float> padded_weights_;
};

}  // namespace escd
