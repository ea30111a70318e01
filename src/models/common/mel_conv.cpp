#include "models/common/mel_conv.h"

#include <ATen/Functions.h>
#include <torch/nn/functional/activation.h>

#include <array>
#include <stdexcept>
#include <string>

namespace escd {
namespace {

struct LayerShape {
  int64_t kernel, channel_multiplier;
};
// Kernel and width of each layer, all stride 2 with "same" padding (kernel / 2).
constexpr std::array<LayerShape, 3> kLayers{{{5, 1}, {5, 2}, {3, 2}}};
constexpr int64_t kStride = 2;

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

int64_t MelConvImpl::parameter_count(int64_t channels) {
  int64_t count = 0, in = 1;
  for (const LayerShape& layer : kLayers) {
    const int64_t out = channels * layer.channel_multiplier;
    count += out * in * layer.kernel + out  // conv weight and bias
             + 2 * out;                     // GroupNorm affine
    in = out;
  }
  return count;
}

MelConvImpl::MelConvImpl(int64_t n_mels, int64_t channels) {
  if (channels <= 0) throw std::invalid_argument("mel_conv: channels must be positive, got " + std::to_string(channels));
  const int64_t bands = output_bands(n_mels);
  if (bands <= 0) throw std::invalid_argument("mel_conv: " + std::to_string(n_mels) + " mel bands are too few");
  int64_t in = 1;
  for (size_t i = 0; i < kLayers.size(); ++i) {
    const int64_t out = channels * kLayers[i].channel_multiplier, k = kLayers[i].kernel;
    convs_.push_back(register_module(
        "conv" + std::to_string(i), torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, k).stride(kStride).padding(k / 2))));
    norms_.push_back(register_module("norm" + std::to_string(i), torch::nn::GroupNorm(1, out)));
    in = out;
  }
  out_features_ = in * bands;
}

at::Tensor MelConvImpl::forward(const at::Tensor& frames) {
  const auto leading = frames.sizes().slice(0, frames.dim() - 1);
  at::Tensor h = frames.reshape({-1, 1, frames.size(-1)});
  for (size_t i = 0; i < convs_.size(); ++i) {
    h = torch::nn::functional::gelu(norms_[i]->forward(convs_[i]->forward(h)));
  }
  std::vector<int64_t> shape(leading.begin(), leading.end());
  shape.push_back(out_features_);
  return h.reshape(shape);
}

}  // namespace escd
