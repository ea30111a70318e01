// Steps a MelConv one frame at a time for a batch of independent rows (the streaming sessions).
// With a time kernel k, each layer keeps per row the partial sums that its last k - 1 inputs owe to
// the next k - 1 outputs, zeros after a reset (as the parallel forward pads before the first frame),
// so a row's features equal the parallel forward over the frames since its reset. A row's state is
// fixed by the frames it received within the receptive field (and whether it was reset within it), so
// rows that agree on those and receive the same frame again have the same features: each such group
// is computed once and copied (escd's staggered windows all receive one frame; relative to their
// windows' levels, the rows whose windows share a level reference still agree).
// Why its own loop rather than MelConvImpl::layer: a frame is a few hundred thousand multiply-adds,
// and the ATen route (cat, conv2d, transposes, group_norm, gelu, index copies: some 30 dispatched
// ops) cost several times the arithmetic. Here each layer is an im2col of the new frame along the mel
// axis and one PackedLinear product for all k time taps at once (a frame's product with tap t is
// what it adds to the output k - 1 - t frames later), then the per-frame GroupNorm and ATen's GELU on
// a plain buffer. Carrying the taps' sums forward, rather than an im2col over the k frames of time
// context, copies each input once instead of k times and needs no history of inputs.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "models/common/mel_conv.h"
#include "models/common/packed_linear.h"

namespace escd {

class MelConvStream {
 public:
  MelConvStream(const MelConv& conv, int64_t batch);

  // Normalised frames of rows 0..rows-1 -> their features, [rows, out_features()]. frames is
  // [rows, n_mels], or [1, n_mels] when every row receives that same frame.
  at::Tensor step(const at::Tensor& frames, int64_t rows);
  // The same step without copying features to the rows that share them: the features of the rows
  // in last_step_computed_rows(), [those rows, out_features()], valid until the next step.
  const float* step_groups(const at::Tensor& frames, int64_t rows);
  // Forgets the time context of one row, or of all rows when row < 0.
  void clear(int64_t row);

  // For each row of the last step, the row whose features it got: itself when computed, else the
  // computed row of its group (a caller may apply later per-row layers to the computed rows only).
  const std::vector<int64_t>& last_step_sources() const { return sources_; }
  int64_t out_features() const { return out_features_; }
  // The rows the last step computed, in order (those whose source is themselves).
  const std::vector<int64_t>& last_step_computed_rows() const { return computed_rows_; }

 private:
  // One layer's weights, snapshotted (sessions do not see later changes to the module).
  struct Layer {
    // [time_kernel · C_out, C_in · kernel]: one frame's product with every time tap, the current
    // frame's tap (the last) last; the bias is on that block only.
    PackedLinear taps;
    std::vector<float> gamma, beta;  // GroupNorm(1) affine, per output channel
    float eps = 0;
    int64_t in_channels = 0, in_bands = 0, out_channels = 0, out_bands = 0, kernel = 0;
    int64_t pending_size = 0;  // one row's partial sums: time_kernel − 1 outputs, [bands_out][C_out] each
    int64_t output_size() const { return out_bands * out_channels; }
  };

  // Steps the listed rows, the i-th on the frame at frames + i * frame_stride (0: one frame for all):
  // their features are left in activations_[(layers - 1) % 2], [i][C][bands] (the parallel
  // forward's per-frame order).
  void run_rows(const float* frames, int64_t frame_stride, const std::vector<int64_t>& rows);
  // Makes row `to`'s time context a copy of row `from`'s.
  void copy_context(int64_t from, int64_t to);
  // Labels each row's frame (rows with equal frames get one label, new in every step) and fills
  // sources_: a row joins an earlier row with the same label, the same frames-since-reset count and
  // the same labels over its context.
  void group_rows(const float* frames, int64_t frame_stride, int64_t rows);
  // After a step of `rows` rows: each row's labels over its context and frames since reset.
  void advance_history(int64_t rows);

  std::vector<Layer> layers_;
  int64_t time_kernel_, out_features_;
  // Per layer [batch][time_kernel - 1][bands_out][C_out]: between steps, slot s holds what the frames
  // so far add to the output of the (s + 1)-th frame to come.
  std::vector<std::vector<float>> pending_;
  std::vector<float> columns_, tap_products_, sums_, activations_[2];  // scratch, grown to the rows of a step
  std::vector<float> gathered_;          // scratch: the computed rows' frames, contiguous
  std::vector<int64_t> computed_rows_;   // scratch: the rows a step runs
  std::vector<int64_t> sources_;         // per row of the last step: the row it copied (itself if computed)
  std::vector<int64_t> labels_;          // per row: this step's frame label
  std::vector<int64_t> history_;         // per row [context_]: labels of its latest frames, oldest first
  std::vector<int64_t> seen_;  // frames since each row's reset, capped at context_
  int64_t context_;            // how many past frames a row's state depends on: layers · (k - 1)
  int64_t next_label_ = 0;
};

}  // namespace escd
