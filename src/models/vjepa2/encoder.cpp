#include "models/vjepa2/encoder.h"

#include <ATen/Functions.h>

#include <stdexcept>
#include <string>

#include "models/vjepa2/tubelets.h"

namespace escd::vjepa2 {

at::Tensor gather_tokens(const at::Tensor& x, const at::Tensor& indices) {
  return at::gather(x, 1, indices.unsqueeze(-1).expand({indices.size(0), indices.size(1), x.size(2)}));
}

EncoderImpl::EncoderImpl(const Options& options, int64_t n_mels)
    : options_(options), mel_patches_(n_mels / options.patch_mels) {
  const int64_t D = options.embed_dim;
  patch_embed = register_module("patch_embed", torch::nn::Linear(options.patch_values(), D));
  layers = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.depth; ++i) {
    // Stochastic depth grows linearly with depth, from 0 at the first block (as upstream).
    const double rate = options.depth > 1 ? options.drop_path * i / (options.depth - 1) : 0.0;
    blocks.push_back(TransformerBlock(D, options.heads, options.mlp_ratio, rate));
    blocks.back()->rescale(i + 1);
    layers->push_back(blocks.back());
  }
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({D}).eps(1e-6)));
  init_vit_weights(*patch_embed);
  position_table_ = sincos_positions(TokenGrid{options.max_tubelets, mel_patches_}, D);
}

at::Tensor EncoderImpl::embed(const at::Tensor& patches) { return patch_embed->forward(patches); }

at::Tensor EncoderImpl::positions(int64_t tubelets, int64_t first) const {
  if (first < 0 || tubelets < 0 || first + tubelets > options_.max_tubelets) {
    throw std::invalid_argument("vjepa2: tubelets " + std::to_string(first) + ".." + std::to_string(first + tubelets) +
                                " are outside the position table of " + std::to_string(options_.max_tubelets));
  }
  return position_table_.slice(0, first * mel_patches_, (first + tubelets) * mel_patches_);
}

at::Tensor EncoderImpl::encode(const at::Tensor& embedded, int64_t tubelets, const at::Tensor& keep, int64_t first) {
  at::Tensor x = embedded + positions(tubelets, first).unsqueeze(0);
  if (keep.defined()) x = gather_tokens(x, keep);
  for (auto& block : blocks) x = block->forward(x);
  return norm->forward(x);
}

}  // namespace escd::vjepa2
