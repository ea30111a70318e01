// The input path of a recurrent streaming session, one frame per row: [level relative to the row's
// window] -> normalise with the training statistics -> [MelConv] -> Linear, written into a
// caller-owned [rows, width] float buffer.
// Why one class: Mamba and Liquid-S4 embed frames identically, and the daemon's staggered
// exact-window rows all receive the same frame, so with absolute levels the embedding (the MelConv
// is most of its cost) is computed once and copied when every row holds the same frame (with a
// time kernel, once for the rows whose time context agrees: MelConvStream). Relative to each row's
// window level (window_level.h) rows differ while their windows' level references differ; the rows
// whose references agree (a window's peak is often inside the windows that started before it too)
// are still embedded once per group.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "models/common/mel_conv.h"
#include "models/common/mel_conv_stream.h"
#include "models/common/packed_linear.h"
#include "models/common/sequence_classifier.h"
#include "models/common/window_level.h"

namespace escd {

class FrameEmbedder {
 public:
  // mel_conv may be null (the Linear reads the normalised frame). Both are snapshotted when the
  // embedder is built (later changes to the modules are not seen): the Linear as a PackedLinear,
  // the MelConv as a MelConvStream, which steps it in its own loops (an im2col and one PackedLinear
  // product per layer, the per-frame GroupNorm, ATen's GELU on a plain buffer).
  FrameEmbedder(const SequenceClassifier& model, MelConv mel_conv, const torch::nn::Linear& linear, int64_t batch);

  // frames: [rows, n_mels] raw log-mel, rows <= batch; out: [rows, width()] floats.
  void apply(const at::Tensor& frames, float* out);
  // Forgets one row's time context (a MelConv with a time kernel), or every row's when row < 0.
  void clear(int64_t row);

  int64_t width() const { return linear_.out(); }

 private:
  std::optional<WindowLevelTracker> window_level_;  // none: the model reads absolute levels
  std::optional<MelConvStream> mel_conv_;  // none: the Linear reads the normalised frame
  PackedLinear linear_;
  int64_t n_mels_;
  std::vector<float> input_mean_, input_inv_std_, input_;
  std::vector<float> products_;  // scratch: the Linear's outputs for the rows the MelConv computed
  at::Tensor input_view_;  // input_ as a [batch, n_mels] tensor, for the MelConv
};

}  // namespace escd
