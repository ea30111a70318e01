#include "models/common/mel_conv_stream.h"

#include <ATen/Functions.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "models/common/tensor_floats.h"

namespace escd {
MelConvStream::MelConvStream(const MelConv& conv, int64_t batch)
    : time_kernel_(conv->time_kernel()),
      out_features_(conv->out_features()),
      seen_(batch, 0),
      context_(static_cast<int64_t>(conv->layers()) * (conv->time_kernel() - 1)) {
  history_.assign(static_cast<size_t>(batch * context_), -1);
  for (size_t l = 0; l < conv->layers(); ++l) {
    Layer layer;
    const at::Tensor w = conv->weight(l);  // [C_out, C_in, time_kernel, kernel]
    const int64_t out_channels = w.size(0);
    // Tap-major rows: block t is W[:, :, t, :] flattened to [C_out, C_in · kernel].
    const at::Tensor taps = w.permute({2, 0, 1, 3}).reshape({time_kernel_ * out_channels, -1});
    at::Tensor bias = at::zeros({time_kernel_ * out_channels}, w.options());
    bias.slice(0, (time_kernel_ - 1) * out_channels).copy_(conv->bias(l));
    layer.taps = PackedLinear(taps, bias);
    layer.gamma = tensor_floats(conv->norm(l)->weight);
    layer.beta = tensor_floats(conv->norm(l)->bias);
    layer.eps = static_cast<float>(conv->norm(l)->options.eps());
    layer.in_channels = conv->input_channels(l);
    layer.in_bands = conv->input_bands(l);
    layer.out_channels = out_channels;
    layer.out_bands = conv->output_bands_of(l);
    layer.kernel = conv->kernel(l);
    layer.pending_size = (time_kernel_ - 1) * layer.output_size();
    pending_.emplace_back(static_cast<size_t>(batch * layer.pending_size), 0.0f);
    layers_.push_back(std::move(layer));
  }
}

void MelConvStream::clear(int64_t row) {
  for (size_t l = 0; l < layers_.size(); ++l) {
    const int64_t per_row = layers_[l].pending_size;
    auto first = pending_[l].begin() + (row < 0 ? 0 : row * per_row);
    std::fill(first, row < 0 ? pending_[l].end() : first + per_row, 0.0f);
  }
  if (row < 0) {
    std::fill(seen_.begin(), seen_.end(), 0);
  } else {
    seen_.at(row) = 0;
  }
}

void MelConvStream::run_rows(const float* frames, int64_t frame_stride, const std::vector<int64_t>& rows) {
  const auto n = static_cast<int64_t>(rows.size());
  const float* x = frames;  // row i's input frame, [C_in][bands_in], at x + i * x_stride
  int64_t x_stride = frame_stride;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    const int64_t pad = L.kernel / 2, K = L.taps.in(), C = L.out_channels, out_size = L.output_size();
    const int64_t taps_width = time_kernel_ * C;
    columns_.resize(static_cast<size_t>(n * L.out_bands * K));
    tap_products_.resize(static_cast<size_t>(n * L.out_bands * taps_width));
    sums_.resize(static_cast<size_t>(n * out_size));
    activations_[l % 2].resize(static_cast<size_t>(n * out_size));
    float* normalised = activations_[l % 2].data();

    // im2col of the new frames: one row of columns per output band, in the weight's (C_in, kernel)
    // order; bands outside the spectrum are the zero padding of the parallel forward.
    float* col = columns_.data();
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = x + i * x_stride;
      for (int64_t f = 0; f < L.out_bands; ++f) {
        const int64_t first = MelConvImpl::kStride * f - pad;  // the band under kernel tap 0
        const bool inside = first >= 0 && first + L.kernel <= L.in_bands;
        for (int64_t c = 0; c < L.in_channels; ++c) {
          const float* src = xi + c * L.in_bands;
          if (inside) {  // all but the edge bands: a plain copy
            std::copy_n(src + first, L.kernel, col);
            col += L.kernel;
            continue;
          }
          for (int64_t j = 0; j < L.kernel; ++j) {
            const int64_t band = first + j;
            *col++ = band >= 0 && band < L.in_bands ? src[band] : 0.0f;
          }
        }
      }
    }
    // Every row's bands with every tap at once: [n · bands_out][time_kernel][C_out].
    L.taps.apply(columns_.data(), n * L.out_bands, K, tap_products_.data(), taps_width);

    // Slot s of a row's pending sums holds what the earlier frames add to the output s frames after
    // this one (slot 0: this frame's). This frame's output is its own product with the last tap plus
    // slot 0; then every slot moves one frame closer and takes this frame's product with the tap
    // that reaches it (tap 0: the farthest).
    const int64_t slots = time_kernel_ - 1;
    for (int64_t i = 0; i < n; ++i) {
      float* pending = pending_[l].data() + rows[i] * L.pending_size;  // [slots][bands_out][C_out]
      for (int64_t f = 0; f < L.out_bands; ++f) {
        const float* product = tap_products_.data() + (i * L.out_bands + f) * taps_width;  // [tap][C_out]
        float* y = sums_.data() + i * out_size + f * C;
        std::copy_n(product + slots * C, C, y);
        if (slots == 0) continue;
        float* slot = pending + f * C;  // slot s at slot + s * out_size
        for (int64_t c = 0; c < C; ++c) y[c] += slot[c];
        for (int64_t s = 0; s + 1 < slots; ++s) {
          const float* later = slot + (s + 1) * out_size;
          const float* tap = product + (slots - 1 - s) * C;
          for (int64_t c = 0; c < C; ++c) slot[s * out_size + c] = later[c] + tap[c];
        }
        std::copy_n(product, C, slot + (slots - 1) * out_size);
      }
    }

    // GroupNorm(1) over each frame's channels and bands (population variance, as ATen), the affine
    // per channel, written channel-major for the next layer.
    for (int64_t i = 0; i < n; ++i) {
      const float* y = sums_.data() + i * out_size;
      double sum = 0, sum_sq = 0;
      for (int64_t k = 0; k < out_size; ++k) sum += y[k];
      const double mean = sum / static_cast<double>(out_size);
      for (int64_t k = 0; k < out_size; ++k) sum_sq += (y[k] - mean) * (y[k] - mean);
      const auto inv_std = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(out_size) + L.eps));
      float* dst = normalised + i * out_size;
      for (int64_t c = 0; c < C; ++c) {
        const float scale = inv_std * L.gamma[c], shift = L.beta[c] - static_cast<float>(mean) * scale;
        for (int64_t f = 0; f < L.out_bands; ++f) dst[c * L.out_bands + f] = y[f * C + c] * scale + shift;
      }
    }
    // ATen's exact GELU, the same vectorised function the parallel forward applies, in place.
    at::Tensor view = at::from_blob(normalised, {n * out_size}, at::kFloat);
    at::gelu_out(view, view);
    x = normalised;
    x_stride = out_size;
  }
}

void MelConvStream::copy_context(int64_t from, int64_t to) {
  for (size_t l = 0; l < layers_.size(); ++l) {
    const int64_t per_row = layers_[l].pending_size;
    std::copy_n(pending_[l].begin() + from * per_row, per_row, pending_[l].begin() + to * per_row);
  }
}

const float* MelConvStream::step_groups(const at::Tensor& frames, int64_t rows) {
  c10::InferenceMode inference;
  // The loops below index raw buffers: a shape they were not built for must stop here.
  const int64_t n_mels = layers_.front().in_bands;
  if (frames.dim() != 2 || frames.size(1) != n_mels || rows < 1 || rows > static_cast<int64_t>(seen_.size()) ||
      (frames.size(0) != rows && frames.size(0) != 1)) {
    throw std::invalid_argument("MelConvStream::step: expected frames [" + std::to_string(rows) + " or 1, " +
                                std::to_string(n_mels) + "] for at most " + std::to_string(seen_.size()) +
                                " rows, got " + std::to_string(frames.dim()) + "-D [" +
                                std::to_string(frames.dim() > 0 ? frames.size(0) : 0) + ", " +
                                std::to_string(frames.dim() > 1 ? frames.size(1) : 0) + "] for " +
                                std::to_string(rows) + " rows");
  }
  const int64_t frame_stride = frames.size(0) == 1 ? 0 : n_mels;
  const at::Tensor input = frames.to(at::kFloat).contiguous();
  const float* in = input.data_ptr<float>();
  group_rows(in, frame_stride, rows);
  std::vector<int64_t>& computed = computed_rows_;
  computed.clear();
  for (int64_t r = 0; r < rows; ++r) {
    if (sources_[r] == r) computed.push_back(r);
  }
  // The computed rows' frames, contiguous unless one frame serves every row.
  const float* computed_frames = in;
  if (frame_stride != 0 && static_cast<int64_t>(computed.size()) < rows) {
    gathered_.resize(computed.size() * n_mels);
    for (size_t i = 0; i < computed.size(); ++i) {
      std::copy_n(in + computed[i] * n_mels, n_mels, gathered_.data() + i * n_mels);
    }
    computed_frames = gathered_.data();
  }
  run_rows(computed_frames, frame_stride, computed);
  for (int64_t r = 0; r < rows; ++r) {
    if (sources_[r] != r) copy_context(sources_[r], r);
  }
  advance_history(rows);
  return activations_[(layers_.size() - 1) % 2].data();
}

at::Tensor MelConvStream::step(const at::Tensor& frames, int64_t rows) {
  const float* computed = step_groups(frames, rows);
  at::Tensor features = at::empty({rows, out_features_});
  float* out = features.data_ptr<float>();
  for (size_t i = 0; i < computed_rows_.size(); ++i) {
    std::copy_n(computed + i * out_features_, out_features_, out + computed_rows_[i] * out_features_);
  }
  for (int64_t r = 0; r < rows; ++r) {
    if (sources_[r] != r) std::copy_n(out + sources_[r] * out_features_, out_features_, out + r * out_features_);
  }
  return features;
}

void MelConvStream::group_rows(const float* frames, int64_t frame_stride, int64_t rows) {
  const int64_t n_mels = layers_.front().in_bands;
  labels_.resize(static_cast<size_t>(rows));
  sources_.resize(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    labels_[r] = frame_stride == 0 && r > 0 ? labels_[0] : -1;  // one frame for every row: one label
    for (int64_t q = 0; q < r && labels_[r] < 0; ++q) {
      if (std::memcmp(frames + r * frame_stride, frames + q * frame_stride, n_mels * sizeof(float)) == 0) {
        labels_[r] = labels_[q];
      }
    }
    if (labels_[r] < 0) labels_[r] = next_label_++;
  }
  for (int64_t r = 0; r < rows; ++r) {
    sources_[r] = r;
    const int64_t* history = history_.data() + r * context_;
    for (int64_t q = 0; q < r; ++q) {
      if (sources_[q] != q || labels_[q] != labels_[r] || seen_[q] != seen_[r]) continue;
      // A row's state depends on its latest min(seen, context) frames: seen_ is capped at context_,
      // and the history holds the labels of the latest seen_[r] of them, newest last.
      const int64_t* other = history_.data() + q * context_;
      if (std::equal(history + context_ - seen_[r], history + context_, other + context_ - seen_[r])) {
        sources_[r] = q;
        break;
      }
    }
  }
}

void MelConvStream::advance_history(int64_t rows) {
  for (int64_t r = 0; r < rows; ++r) {
    int64_t* history = history_.data() + r * context_;
    if (context_ > 0) {
      std::copy(history + 1, history + context_, history);
      history[context_ - 1] = labels_[r];
    }
    seen_[r] = std::min(seen_[r] + 1, context_);
  }
}

}  // namespace escd
