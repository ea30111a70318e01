// Steps a MelConv one frame at a time for a batch of independent rows (the streaming sessions).
// With a time kernel k, each layer keeps its last k - 1 inputs per row, zeros after a reset (as the
// parallel forward pads before the first frame), so a row's features equal the parallel forward over
// the frames since its reset. Rows that received the same frames for the whole receptive field have
// the same state; when every row receives the same frame (escd's staggered windows), those are
// computed once and only recently reset rows on their own.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "models/common/mel_conv.h"

namespace escd {

class MelConvStream {
 public:
  MelConvStream(MelConv conv, int64_t batch);

  // Normalised frames of rows 0..rows-1 -> their features, [rows, out_features()]. frames is
  // [rows, n_mels], or [1, n_mels] when every row receives that same frame.
  at::Tensor step(const at::Tensor& frames, int64_t rows);
  // Forgets the time context of one row, or of all rows when row < 0.
  void clear(int64_t row);

  // True when the last step's rows all got the same features (a caller may then use row 0 for all).
  bool last_step_uniform() const { return uniform_; }

 private:
  // Steps the rows listed in `rows` ([n] indices; undefined = rows 0..n-1) on frames [n, n_mels]
  // -> [n, out_features()].
  at::Tensor run_rows(const at::Tensor& frames, const at::Tensor& rows);
  // After a step of `rows` rows: frames since reset, and the run of steps with one shared frame.
  void advance_counters(int64_t rows, bool shared);

  MelConv conv_;
  std::vector<at::Tensor> history_;  // per layer [batch, C_in, k - 1, bands_in] inputs; empty when k = 1
  std::vector<int64_t> seen_;        // frames since each row's reset, capped at context_
  int64_t context_;                  // how many past frames a row's state depends on: 3 (k - 1)
  int64_t shared_streak_ = 0;        // consecutive steps in which every row got the same frame, capped
  bool uniform_ = false;
};

}  // namespace escd
