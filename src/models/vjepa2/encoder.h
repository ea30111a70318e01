// The V-JEPA 2 encoder over log-mel tubelets: patch embedding (a Linear over each token's values,
// the same map as a Conv3d whose kernel equals its stride), a fixed sin-cos position table, pre-norm
// transformer blocks, final LayerNorm.
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

class EncoderImpl : public torch::nn::Module {
 public:
  EncoderImpl(const Options& options, int64_t n_mels);

  // Token values [B, N, patch_values] -> embeddings [B, N, D] (no positions yet).
  at::Tensor embed(const at::Tensor& patches);
  // Embedded tokens of a grid of `tubelets` tubelets -> encoded [B, N, D], their positions those of
  // the table's tubelets from `first` on. With `keep` ([B, K] token indices), only those tokens are
  // encoded (JEPA's context encoder sees visible tokens only).
  at::Tensor encode(const at::Tensor& embedded, int64_t tubelets, const at::Tensor& keep = at::Tensor(),
                    int64_t first = 0);
  // Position rows of `tubelets` tubelets from tubelet `first` on: [tubelets * mel_patches, D].
  at::Tensor positions(int64_t tubelets, int64_t first = 0) const;

  int64_t mel_patches() const { return mel_patches_; }
  const Options& options() const { return options_; }

  torch::nn::Linear patch_embed{nullptr};
  torch::nn::ModuleList layers{nullptr};
  std::vector<TransformerBlock> blocks;
  torch::nn::LayerNorm norm{nullptr};

 private:
  Options options_;
  int64_t mel_patches_;
  at::Tensor position_table_;  // fixed, derived from the sizes: not a parameter, not saved
};
TORCH_MODULE(Encoder);

// Gathers rows of x [B, N, D] at indices [B, K] -> [B, K, D].
at::Tensor gather_tokens(const at::Tensor& x, const at::Tensor& indices);

}  // namespace escd::vjepa2
