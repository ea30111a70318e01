// The JEPA predictor (docs/MODELS.md 3.5): a narrow transformer that, from the context encoder's
// features at the visible tokens, predicts the target encoder's features at the masked ones.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "models/vjepa2/transformer.h"
#include "models/vjepa2/vjepa2_options.h"

namespace escd::vjepa2 {

class PredictorImpl : public torch::nn::Module {
 public:
  // `mask_kinds`: one learned mask token per mask generator (upstream keeps one per generator).
  PredictorImpl(const Options& options, int64_t n_mels, int64_t mask_kinds);

  // context: [B, Kc, D] context-encoder output at token indices context_index [B, Kc];
  // target_index [B, Kt]: the masked tokens. Returns [B, Kt, D].
  at::Tensor forward(const at::Tensor& context, const at::Tensor& context_index, const at::Tensor& target_index,
                     int64_t mask_kind);

  torch::nn::Linear embed{nullptr}, out{nullptr};
  at::Tensor mask_tokens;  // [mask_kinds, Dp], zero-initialised
  torch::nn::ModuleList layers{nullptr};
  std::vector<TransformerBlock> blocks;
  torch::nn::LayerNorm norm{nullptr};

 private:
  at::Tensor position_table_;  // [max tokens, Dp]
};
TORCH_MODULE(Predictor);

}  // namespace escd::vjepa2
