#include "models/common/mel_conv_stream.h"

#include <ATen/Functions.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

namespace escd {

MelConvStream::MelConvStream(MelConv conv, int64_t batch)
    : conv_(std::move(conv)), seen_(batch, 0), context_(static_cast<int64_t>(conv_->layers()) * (conv_->time_kernel() - 1)) {
  const int64_t k = conv_->time_kernel();
  if (k == 1) return;
  for (size_t l = 0; l < conv_->layers(); ++l) {
    history_.push_back(at::zeros({batch, conv_->input_channels(l), k - 1, conv_->input_bands(l)}));
  }
}

void MelConvStream::clear(int64_t row) {
  for (at::Tensor& h : history_) row < 0 ? h.zero_() : h[row].zero_();
  if (row < 0) {
    std::fill(seen_.begin(), seen_.end(), 0);
  } else {
    seen_.at(row) = 0;
  }
}

at::Tensor MelConvStream::run_rows(const at::Tensor& frames, const at::Tensor& rows) {
  const int64_t k = conv_->time_kernel();
  at::Tensor x = frames.unsqueeze(1);  // [n, 1 channel, n_mels]
  const int64_t n = frames.size(0);
  for (size_t l = 0; l < conv_->layers(); ++l) {
    // rows undefined: rows 0..n-1, the common case, read and written in place without gathering.
    const at::Tensor past = rows.defined() ? history_[l].index_select(0, rows) : history_[l].narrow(0, 0, n);
    const at::Tensor window = at::cat({past, x.unsqueeze(2)}, 2);  // [n, C, k, F]
    if (rows.defined()) {
      history_[l].index_copy_(0, rows, window.narrow(2, 1, k - 1));
    } else {
      history_[l].narrow(0, 0, n).copy_(window.narrow(2, 1, k - 1));
    }
    x = conv_->layer(l, window).squeeze(2);
  }
  return x.reshape({n, -1});
}

at::Tensor MelConvStream::step(const at::Tensor& frames, int64_t rows) {
  c10::InferenceMode inference;
  const bool shared = frames.size(0) == 1 && rows > 1;
  if (conv_->time_kernel() == 1) {
    uniform_ = shared;
    const at::Tensor features = conv_->forward(frames);
    return shared ? features.expand({rows, features.size(1)}) : features;
  }
  // Rows that have seen the same frames for their whole context have the same state: with a shared
  // frame, one of them stands for all, and only rows reset within the context run on their own.
  const bool states_shared = shared && shared_streak_ >= context_;
  std::vector<int64_t> computed, copies;
  int64_t representative = -1;
  for (int64_t r = 0; r < rows; ++r) {
    if (!states_shared || seen_[r] < context_) {
      computed.push_back(r);
    } else if (representative < 0) {
      representative = r;
      computed.push_back(r);
    } else {
      copies.push_back(r);
    }
  }
  const int64_t n = static_cast<int64_t>(computed.size());
  const at::Tensor input = shared ? frames.expand({n, frames.size(1)}).contiguous() : frames;
  if (n == rows) {  // every row on its own (computed is 0..rows-1): no gather, no scatter
    const at::Tensor features = run_rows(input, at::Tensor());
    advance_counters(rows, shared);
    uniform_ = false;
    return features;
  }
  const at::Tensor index = at::tensor(computed, at::kLong);
  const at::Tensor features = run_rows(input, index);
  at::Tensor out = at::empty({rows, features.size(1)});
  out.index_copy_(0, index, features);
  if (!copies.empty()) {
    // One copy per tensor for all the rows the representative stands for (not one per row).
    const at::Tensor targets = at::tensor(copies, at::kLong);
    const auto n_copies = static_cast<int64_t>(copies.size());
    auto spread = [&](at::Tensor& t) {
      std::vector<int64_t> shape = t.sizes().vec();
      shape[0] = n_copies;
      t.index_copy_(0, targets, t.narrow(0, representative, 1).clone().expand(shape));
    };
    spread(out);
    for (at::Tensor& h : history_) spread(h);
  }
  advance_counters(rows, shared);
  uniform_ = n == 1;  // rows > 1 here
  return out;
}

void MelConvStream::advance_counters(int64_t rows, bool shared) {
  for (int64_t r = 0; r < rows; ++r) seen_[r] = std::min(seen_[r] + 1, context_);
  shared_streak_ = shared ? std::min(shared_streak_ + 1, context_) : 0;
}

}  // namespace escd
