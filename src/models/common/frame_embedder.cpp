#include "models/common/frame_embedder.h"

#include <ATen/Functions.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "models/common/tensor_floats.h"

namespace escd {
namespace {

// Sessions run plain float loops over float snapshots of the weights: a float64 model has no session.
const at::Tensor& require_float32(const SequenceClassifier& model, const at::Tensor& weight) {
  if (weight.scalar_type() != at::kFloat) {
    throw std::invalid_argument(model.architecture() + " session: the model must be float32");
  }
  return weight;
}

}  // namespace

FrameEmbedder::FrameEmbedder(const SequenceClassifier& model, MelConv mel_conv, const torch::nn::Linear& linear,
                             int64_t batch)
    : linear_(require_float32(model, linear->weight), linear->bias), n_mels_(model.n_mels()) {
  if (mel_conv) mel_conv_.emplace(std::move(mel_conv), batch);
  input_mean_ = tensor_floats(model.input_mean());
  input_inv_std_ = tensor_floats(model.input_inv_std());
  if (model.level_norm() == LevelNorm::window_max) window_level_.emplace(batch);
  input_.assign(batch * n_mels_, 0.0f);
  input_view_ = at::from_blob(input_.data(), {batch, n_mels_}, at::kFloat);
}

void FrameEmbedder::apply(const at::Tensor& frames, float* out) {
  const int64_t rows = frames.size(0), M = n_mels_, D = width();
  const at::Tensor f = frames.to(at::kFloat).contiguous();
  std::memcpy(input_.data(), f.data_ptr<float>(), rows * M * sizeof(float));
  // Relative to each row's own window level: rows that started at different frames differ here.
  if (window_level_) window_level_->apply(input_.data(), rows, M);
  const float* in = input_.data();
  bool all_rows_equal = rows > 1;
  for (int64_t r = 1; r < rows && all_rows_equal; ++r) {
    all_rows_equal = std::memcmp(in, in + r * M, M * sizeof(float)) == 0;
  }
  const int64_t distinct = all_rows_equal ? 1 : rows;
  for (int64_t r = 0; r < distinct; ++r) {
    for (int64_t m = 0; m < M; ++m) input_[r * M + m] = (input_[r * M + m] - input_mean_[m]) * input_inv_std_[m];
  }
  if (!mel_conv_) {
    linear_.apply(input_.data(), distinct, M, out, D);
    for (int64_t r = distinct; r < rows; ++r) std::copy(out, out + D, out + r * D);
    return;
  }
  c10::InferenceMode inference;
  // The Linear runs on the rows the MelConv computed; the rows that share their features copy the
  // outputs.
  const float* features = mel_conv_->step_groups(input_view_.narrow(0, 0, distinct), rows);
  const std::vector<int64_t>& computed = mel_conv_->last_step_computed_rows();
  const std::vector<int64_t>& sources = mel_conv_->last_step_sources();
  const auto n = static_cast<int64_t>(computed.size());
  products_.resize(static_cast<size_t>(n * D));
  linear_.apply(features, n, mel_conv_->out_features(), products_.data(), D);
  for (int64_t i = 0; i < n; ++i) std::copy_n(products_.data() + i * D, D, out + computed[i] * D);
  for (int64_t r = 0; r < rows; ++r) {
    if (sources[r] != r) std::copy_n(out + sources[r] * D, D, out + r * D);
  }
}

void FrameEmbedder::clear(int64_t row) {
  if (window_level_) window_level_->clear(row);
  if (mel_conv_) mel_conv_->clear(row);
}

}  // namespace escd
