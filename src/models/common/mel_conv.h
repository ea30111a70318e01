// A per-frame convolutional front end over the mel axis: three strided Conv1d layers (kernel 5, 5, 3;
// stride 2 each; channels C, 2C, 2C), each followed by a per-frame GroupNorm(1) and GELU, flattened.
// Why: a Linear(n_mels -> D) embedding treats band 40 and band 41 as unrelated inputs, so every
// pitch of a sound must be learnt separately; shared kernels sliding along the mel axis give the
// translation equivariance that lets from-scratch CNNs generalise on ESC-50.
// With time_kernel = 1 (checkpoints from before it existed) the layers see one frame at a time. With
// time_kernel = k > 1 each layer is a causal Conv2d over (time, mel) with k frames of time: a frame's
// features then see its 3(k-1) predecessors too (onsets, short rhythms), which the sequence models
// otherwise must learn from single-frame embeddings. Causal, with zero padding before the first
// frame, so a streaming session can still step it one frame at a time (MelConvStream) and match the
// parallel forward exactly.
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
  // time_kernel: frames each layer sees (>= 1; 1 = per frame).
  MelConvImpl(int64_t n_mels, int64_t channels, int64_t time_kernel = 1);

  // Normalised log-mel -> features. time_kernel 1: [..., n_mels] -> [..., out_features()], any
  // leading shape (frames are independent). Otherwise [B, T, n_mels] (or [T, n_mels]), frames in
  // time order from the start of the sequence -> [B, T, out_features()].
  at::Tensor forward(const at::Tensor& frames);

  // Every layer's stride along the mel axis.
  static constexpr int64_t kStride = 2;

  size_t layers() const { return norms_.size(); }
  // Channels and bands of layer i's input.
  int64_t input_channels(size_t i) const { return input_channels_[i]; }
  int64_t input_bands(size_t i) const { return input_bands_[i]; }
  // Layer i's parts, for MelConvStream's own per-frame loop: the mel kernel (stride kStride, padding
  // kernel / 2), the bands it outputs, its weight as [C_out, C_in, time_kernel, kernel] and bias,
  // and its GroupNorm(1).
  int64_t kernel(size_t i) const;
  int64_t output_bands_of(size_t i) const;
  at::Tensor weight(size_t i) const;
  const at::Tensor& bias(size_t i) const;
  const torch::nn::GroupNorm& norm(size_t i) const { return norms_[i]; }

  int64_t out_features() const { return out_features_; }
  int64_t time_kernel() const { return time_kernel_; }
  // Parameter count for a model of this shape, for size limits checked before anything is built.
  static int64_t parameter_count(int64_t channels, int64_t time_kernel = 1);
  // Bands left after the three strided layers (0 when n_mels is too small).
  static int64_t output_bands(int64_t n_mels);

 private:
  // One layer on [N, C_in, time_kernel - 1 + T, bands_in] (forward has put the time context in
  // front) -> [N, C_out, T, bands_out], normalised per frame and through GELU.
  at::Tensor layer(size_t i, const at::Tensor& input);
  // time_kernel 1 registers Conv1d modules, as before time kernels existed, so that older
  // checkpoints load; otherwise Conv2d.
  std::vector<torch::nn::Conv1d> convs1d_;
  std::vector<torch::nn::Conv2d> convs2d_;
  std::vector<torch::nn::GroupNorm> norms_;
  std::vector<int64_t> input_channels_, input_bands_;
  int64_t time_kernel_ = 1;
  int64_t out_features_ = 0;
};
TORCH_MODULE(MelConv);

}  // namespace escd
