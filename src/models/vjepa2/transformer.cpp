#include "models/vjepa2/transformer.h"

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>
#include <ATen/record_function.h>
#include <torch/nn/init.h>

#include <cmath>

namespace escd::vjepa2 {
namespace {

torch::nn::LayerNorm layer_norm(int64_t dim) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6));
}

// [B, N, D] -> [B, heads, N, D / heads]
at::Tensor split_heads(const at::Tensor& x, int64_t heads) {
  return x.reshape({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

at::Tensor mlp(const at::Tensor& x, torch::nn::Linear& fc1, torch::nn::Linear& fc2) {
  RECORD_USER_SCOPE("mlp");
  return fc2->forward(at::gelu(fc1->forward(x)));
}

}  // namespace

at::Tensor multi_head_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads) {
  RECORD_USER_SCOPE("attention");  // the heads' scores, softmax and weighted sum; projections are "block"
  const at::Tensor qh = split_heads(q, heads), kh = split_heads(k, heads), vh = split_heads(v, heads);
  const double scale = 1.0 / std::sqrt(static_cast<double>(qh.size(-1)));
  const at::Tensor weights = at::softmax(at::matmul(qh * scale, kh.transpose(-2, -1)), -1);
  const at::Tensor out = at::matmul(weights, vh);  // [B, h, Nq, d_h]
  return out.transpose(1, 2).reshape({q.size(0), q.size(1), q.size(2)});
}

namespace {

void init_linear(torch::nn::LinearImpl& linear) {
  // Truncated normal(0, 0.02) at +-2 sigma, by resampling the tails.
  at::Tensor w = linear.weight;
  w.normal_(0.0, 0.02);
  at::Tensor outside = w.abs() > 0.04;
  while (outside.any().item<bool>()) {
    w.masked_scatter_(outside, at::randn({outside.sum().item<int64_t>()}) * 0.02);
    outside = w.abs() > 0.04;
  }
  if (linear.bias.defined()) linear.bias.zero_();
}

}  // namespace

void init_vit_weights(torch::nn::Module& module) {
  at::NoGradGuard no_grad;
  // include_self = false: constructors call this before the module is owned by a shared_ptr.
  if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(&module)) init_linear(*linear);
  for (auto& m : module.modules(/*include_self=*/false)) {
    if (auto* linear = m->as<torch::nn::Linear>()) init_linear(*linear);
  }
}

TransformerBlockImpl::TransformerBlockImpl(int64_t dim, int64_t heads, int64_t mlp_ratio, double drop_path)
    : heads_(heads), drop_path_(drop_path) {
  norm1 = register_module("norm1", layer_norm(dim));
  qkv = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
  proj = register_module("proj", torch::nn::Linear(dim, dim));
  norm2 = register_module("norm2", layer_norm(dim));
  fc1 = register_module("fc1", torch::nn::Linear(dim, mlp_ratio * dim));
  fc2 = register_module("fc2", torch::nn::Linear(mlp_ratio * dim, dim));
  init_vit_weights(*this);
}

void TransformerBlockImpl::rescale(int64_t layer) {
  at::NoGradGuard no_grad;
  const double s = std::sqrt(2.0 * static_cast<double>(layer));
  proj->weight.div_(s);
  fc2->weight.div_(s);
}

at::Tensor TransformerBlockImpl::drop_path(const at::Tensor& branch) const {
  if (!is_training() || drop_path_ <= 0.0) return branch;
  const double keep = 1.0 - drop_path_;
  const at::Tensor mask = at::bernoulli(at::full({branch.size(0), 1, 1}, keep, branch.options()));
  return branch * mask / keep;
}

at::Tensor TransformerBlockImpl::forward(const at::Tensor& x) {
  RECORD_USER_SCOPE("block");
  const at::Tensor qkv_out = qkv->forward(norm1->forward(x));
  const auto parts = qkv_out.chunk(3, -1);
  at::Tensor y = x + drop_path(proj->forward(multi_head_attention(parts[0], parts[1], parts[2], heads_)));
  return y + drop_path(mlp(norm2->forward(y), fc1, fc2));
}

CrossAttentionBlockImpl::CrossAttentionBlockImpl(int64_t dim, int64_t heads, int64_t mlp_ratio) : heads_(heads) {
  norm1 = register_module("norm1", layer_norm(dim));
  q = register_module("q", torch::nn::Linear(dim, dim));
  kv = register_module("kv", torch::nn::Linear(dim, 2 * dim));
  norm2 = register_module("norm2", layer_norm(dim));
  fc1 = register_module("fc1", torch::nn::Linear(dim, mlp_ratio * dim));
  fc2 = register_module("fc2", torch::nn::Linear(mlp_ratio * dim, dim));
  init_vit_weights(*this);
}

at::Tensor CrossAttentionBlockImpl::forward(const at::Tensor& query, const at::Tensor& tokens) {
  RECORD_USER_SCOPE("attentive_head");
  const auto kv_parts = kv->forward(norm1->forward(tokens)).chunk(2, -1);
  at::Tensor y = query + multi_head_attention(q->forward(query), kv_parts[0], kv_parts[1], heads_);
  return y + mlp(norm2->forward(y), fc1, fc2);
}

}  // namespace escd::vjepa2
