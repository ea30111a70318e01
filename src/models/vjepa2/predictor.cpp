#include "models/vjepa2/predictor.h"

#include <ATen/Functions.h>

#include "models/vjepa2/encoder.h"
#include "models/vjepa2/tubelets.h"

namespace escd::vjepa2 {

PredictorImpl::PredictorImpl(const Options& o, int64_t n_mels, int64_t mask_kinds) {
  const int64_t Dp = o.predictor_dim;
  embed = register_module("embed", torch::nn::Linear(o.embed_dim, Dp));
  mask_tokens = register_parameter("mask_tokens", at::zeros({mask_kinds, Dp}));
  layers = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.predictor_depth; ++i) {
    blocks.push_back(TransformerBlock(Dp, o.predictor_heads, o.mlp_ratio, 0.0));
    blocks.back()->rescale(i + 1);
    layers->push_back(blocks.back());
  }
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({Dp}).eps(1e-6)));
  out = register_module("out", torch::nn::Linear(Dp, o.embed_dim));
  init_vit_weights(*embed);
  init_vit_weights(*out);
  position_table_ = sincos_positions(TokenGrid{o.max_tubelets, n_mels / o.patch_mels}, Dp);
}

at::Tensor PredictorImpl::forward(const at::Tensor& context, const at::Tensor& context_index,
                                  const at::Tensor& target_index, int64_t mask_kind) {
  const int64_t B = context.size(0), Kc = context.size(1), Kt = target_index.size(1);
  const at::Tensor table = position_table_.unsqueeze(0).expand({B, position_table_.size(0), position_table_.size(1)});
  const at::Tensor ctx = embed->forward(context) + gather_tokens(table, context_index);
  const at::Tensor tgt = mask_tokens[mask_kind].expand({B, Kt, mask_tokens.size(1)}) + gather_tokens(table, target_index);
  // Attention is permutation-equivariant and positions are added, so upstream's sort by token
  // index is not needed: context first, targets after.
  at::Tensor x = at::cat({ctx, tgt}, 1);
  for (auto& block : blocks) x = block->forward(x);
  return out->forward(norm->forward(x.slice(1, Kc, Kc + Kt)));
}

}  // namespace escd::vjepa2
