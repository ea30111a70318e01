// Pre-norm transformer pieces of V-JEPA 2 (docs/MODELS.md 3.2-3.3): a self-attention block and the
// attentive pooler's cross-attention block. Written on ATen matmul/softmax (libtorch 1.13 has no
// fused scaled-dot-product attention).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace escd::vjepa2 {

// softmax(q k^T / sqrt(d_h)) v over heads. q: [B, Nq, D], k, v: [B, Nk, D] -> [B, Nq, D].
at::Tensor multi_head_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads);

// trunc-normal(0.02) weights, zero biases for every Linear of a module (upstream's _init_weights).
void init_vit_weights(torch::nn::Module& module);

// x <- x + DropPath(Attn(LN1(x)));  x <- x + DropPath(MLP(LN2(x)))
class TransformerBlockImpl : public torch::nn::Module {
 public:
  TransformerBlockImpl(int64_t dim, int64_t heads, int64_t mlp_ratio, double drop_path);
  at::Tensor forward(const at::Tensor& x);
  // Upstream's depth rescaling: attn.proj and mlp.fc2 weights divided by sqrt(2 * layer).
  void rescale(int64_t layer);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr};

 private:
  // Zeroes whole residual branches per sample with probability drop_path_ (training only).
  at::Tensor drop_path(const at::Tensor& branch) const;
  int64_t heads_;
  double drop_path_;
};
TORCH_MODULE(TransformerBlock);

// The attentive pooler's block: q <- q + XAttn(q, LN1(x)); q <- q + MLP(LN2(q)). No output
// projection after the heads, and the query itself is not normalised (as upstream).
class CrossAttentionBlockImpl : public torch::nn::Module {
 public:
  CrossAttentionBlockImpl(int64_t dim, int64_t heads, int64_t mlp_ratio);
  // query: [B, Nq, D], tokens: [B, N, D] -> [B, Nq, D]
  at::Tensor forward(const at::Tensor& query, const at::Tensor& tokens);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear q{nullptr}, kv{nullptr}, fc1{nullptr}, fc2{nullptr};

 private:
  int64_t heads_;
};
TORCH_MODULE(CrossAttentionBlock);

}  // namespace escd::vjepa2
