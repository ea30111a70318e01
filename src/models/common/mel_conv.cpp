#include "models/common/mel_conv.h"

#include <ATen/Functions.h>
#include <ATen/record_function.h>
#include <torch/nn/functional/activation.h>

#include <array>
#include <stdexcept>
#include <string>

namespace escd {
namespace {

struct LayerShape {
  int64_t kernel, channel_multiplier;
};
// Kernel and width of each layer, all stride MelConvImpl::kStride with "same" padding (kernel / 2).
constexpr std::array<LayerShape, 3> kLayers{{{5, 1}, {5, 2}, {3, 2}}};
constexpr int64_t kStride = MelConvImpl::kStride;

int64_t strided_length(int64_t length, int64_t kernel) { return (length + 2 * (kernel / 2) - kernel) / kStride + 1; }

}  // namespace

int64_t MelConvImpl::output_bands(int64_t n_mels) {
  int64_t bands = n_mels;
  for (const LayerShape& layer : kLayers) {
    if (bands + 2 * (layer.kernel / 2) < layer.kernel) return 0;
    bands = strided_length(bands, layer.kernel);
  }
  return bands;
}

int64_t MelConvImpl::parameter_count(int64_t channels, int64_t time_kernel) {
  int64_t count = 0, in = 1;
  for (const LayerShape& layer : kLayers) {
    const int64_t out = channels * layer.channel_multiplier;
    count += out * in * time_kernel * layer.kernel + out  // conv weight and bias
             + 2 * out;                     // GroupNorm affine
    in = out;
  }
  return count;
}

MelConvImpl::MelConvImpl(int64_t n_mels, int64_t channels, int64_t time_kernel) : time_kernel_(time_kernel) {
  if (channels <= 0) throw std::invalid_argument("mel_conv: channels must be positive, got " + std::to_string(channels));
  if (time_kernel < 1) throw std::invalid_argument("mel_conv: time_kernel must be >= 1, got " + std::to_string(time_kernel));
  const int64_t bands = output_bands(n_mels);
  if (bands <= 0) throw std::invalid_argument("mel_conv: " + std::to_string(n_mels) + " mel bands are too few");
  int64_t in = 1, in_bands = n_mels;
  for (size_t i = 0; i < kLayers.size(); ++i) {
    const int64_t out = channels * kLayers[i].channel_multiplier, k = kLayers[i].kernel;
    const std::string name = "conv" + std::to_string(i);
    if (time_kernel == 1) {
      convs1d_.push_back(register_module(name, torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, k))));
    } else {
      convs2d_.push_back(register_module(name, torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, {time_kernel, k}))));
    }
    norms_.push_back(register_module("norm" + std::to_string(i), torch::nn::GroupNorm(1, out)));
    input_channels_.push_back(in);
    input_bands_.push_back(in_bands);
    in = out;
    in_bands = strided_length(in_bands, k);
  }
  out_features_ = in * bands;
}

int64_t MelConvImpl::kernel(size_t i) const { return kLayers.at(i).kernel; }

int64_t MelConvImpl::output_bands_of(size_t i) const { return strided_length(input_bands_.at(i), kernel(i)); }

at::Tensor MelConvImpl::weight(size_t i) const {
  return time_kernel_ == 1 ? convs1d_[i]->weight.unsqueeze(2) : convs2d_[i]->weight;
}

const at::Tensor& MelConvImpl::bias(size_t i) const {
  return time_kernel_ == 1 ? convs1d_[i]->bias : convs2d_[i]->bias;
}

at::Tensor MelConvImpl::layer(size_t i, const at::Tensor& input) {
  const int64_t k = kLayers[i].kernel;
  // No time padding here: the input already holds the time context in front of its frames.
  const std::array<int64_t, 2> stride{1, kStride}, padding{0, k / 2};
  const at::Tensor y = at::conv2d(input, weight(i), bias(i), stride, padding);  // [N, C, T, F]
  const int64_t N = y.size(0), C = y.size(1), T = y.size(2), F = y.size(3);
  // GroupNorm(1) per frame: over the channels and bands of one time step.
  const at::Tensor per_frame = T == 1 ? y.squeeze(2) : y.transpose(1, 2).reshape({N * T, C, F});
  const at::Tensor h = torch::nn::functional::gelu(norms_[i]->forward(per_frame));
  return T == 1 ? h.unsqueeze(2) : h.reshape({N, T, C, F}).transpose(1, 2);
}

at::Tensor MelConvImpl::forward(const at::Tensor& frames) {
  RECORD_USER_SCOPE("mel_conv");  // a part of bench/bench_training_profile's table, as the scopes below
  const int64_t M = frames.size(-1);
  if (time_kernel_ == 1) {
    const auto leading = frames.sizes().slice(0, frames.dim() - 1);
    at::Tensor h = frames.reshape({-1, 1, 1, M});
    for (size_t i = 0; i < layers(); ++i) h = layer(i, h);
    std::vector<int64_t> shape(leading.begin(), leading.end());
    shape.push_back(out_features_);
    return h.reshape(shape);
  }
  if (frames.dim() != 2 && frames.dim() != 3) {
    throw std::invalid_argument("mel_conv: with a time kernel, frames must be [B, T, n_mels] or [T, n_mels]");
  }
  const at::Tensor x = frames.dim() == 2 ? frames.unsqueeze(0) : frames;
  const int64_t B = x.size(0), T = x.size(1);
  at::Tensor h = x.unsqueeze(1);  // [B, 1, T, M]
  for (size_t i = 0; i < layers(); ++i) {
    // Causal: zeros stand for the frames before the first, as a freshly reset stream has.
    h = layer(i, at::constant_pad_nd(h, {0, 0, time_kernel_ - 1, 0}));
  }
  const at::Tensor out = h.transpose(1, 2).reshape({B, T, out_features_});  // [C][bands] per frame, as Conv1d
  return frames.dim() == 2 ? out.squeeze(0) : out;
}

}  // namespace escd
