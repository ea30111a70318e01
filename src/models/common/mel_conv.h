// A per-frame convolutional front end over the mel axis: three strided Conv1d layers (kernel 5, 5, 3;
// stride 2 each; channels C, 2C, 2C), each followed by a per-frame GroupNorm(1) and GELU, flattened.
// Why: a Linear(n_mels -> D) embedding treats band 40 and band 41 as unrelated inputs, so every
// pitch of a sound must be learnt separately; shared kernels sliding along the mel axis give the
// translation equivariance that lets from-scratch CNNs generalise on ESC-50. The layers see one frame
// at a time (no time kernel), so a streaming session applies it to each frame as it arrives and the
// models stay exactly steppable; time context is the sequence model's job.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

namespace escd {

class MelConvImpl : public torch::nn::Module {
 public:
  // channels: C of the first layer (> 0). n_mels must leave at least one band after the strides.
  MelConvImpl(int64_t n_mels, int64_t channels);

  // [..., n_mels] normalised log-mel -> [..., out_features()]; any leading shape (frames are independent).
  at::Tensor forward(const at::Tensor& frames);

  int64_t out_features() const { return out_features_; }
  // Parameter count for a model of this shape, for size limits checked before anything is built.
  static int64_t parameter_count(int64_t channels);
  // Bands left after the three strided layers (0 when n_mels is too small).
  static int64_t output_bands(int64_t n_mels);

 private:
  std::vector<torch::nn::Conv1d> convs_;
  std::vector<torch::nn::GroupNorm> norms_;
  int64_t out_features_ = 0;
};
TORCH_MODULE(MelConv);

}  // namespace escd
