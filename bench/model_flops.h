// Analytic forward FLOPs of the three models, shared by the benchmarks (a multiply-add counts 2;
// exp, softplus, SiLU, GELU count 1 per element; normalisations and residual adds included).
// A training step is counted as 3x the forward (backward ≈ 2x forward for the products that
// dominate), plus Liquid-S4's kernel generation once per batch.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "models/common/mel_conv.h"
#include "models/liquid_s4/liquid_s4_options.h"
#include "models/mamba/mamba_config.h"
#include "models/vjepa2/vjepa2_options.h"

namespace escd::bench {

// The MelConv front end per frame (C = channels; layers 1→C k5, C→2C k5, 2C→2C k3, stride 2):
//   per layer  2·in·out·k·kt·L (conv; kt = time kernel) + 8·out·L (GroupNorm: mean, variance,
//   normalise, affine) + out·L (GELU)
// with L the layer's output bands. 0 without the front end.
inline double mel_conv_flops_per_frame(int64_t channels, int64_t n_mels, int64_t time_kernel) {
  if (channels <= 0) return 0;
  const int64_t kernels[3] = {5, 5, 3}, widths[3] = {channels, 2 * channels, 2 * channels};
  double flops = 0, in = 1, bands = static_cast<double>(n_mels);
  for (int i = 0; i < 3; ++i) {
    bands = std::floor((bands + 2 * (kernels[i] / 2) - kernels[i]) / 2) + 1;
    flops += 2 * in * widths[i] * kernels[i] * time_kernel * bands + 9 * widths[i] * bands;
    in = static_cast<double>(widths[i]);
  }
  return flops;
}
// What the input Linear reads per frame: n_mels, or the MelConv's flattened output.
inline double embedded_width(int64_t channels, int64_t n_mels) {
  return channels > 0 ? 2.0 * static_cast<double>(channels * MelConvImpl::output_bands(n_mels))
                      : static_cast<double>(n_mels);
}

//   per frame:  MelConv (above) + 2·M'·D (input Linear; M' = embedded_width)
//             + n_layers · [ 2·D·2E (in_proj) + 2·K·E (conv) + E (SiLU) + 2·E·(R+2N) (x_proj)
//                            + 2·R·E + E (dt_proj, softplus) + 7·E·N (scan: Δ·A, exp, a·h, Δx·B, +, C·h, +)
//                            + 6·E (Δ·x, D·x, gate) + 2·E·D (out_proj) + 4·D (RMSNorm) + D (residual)
//                            + MLP: 2·D·2H + 3·H (gate) + 2·H·D + 5·D ]
//             + 4·D (final RMSNorm) + D (pooling sum)
//   per clip:   frames · per frame + 2·D·C (head)
inline double mamba_flops_per_clip(const MambaConfig& c, int64_t frames, int64_t n_mels, int64_t n_classes) {
  const double D = c.d_model, E = c.d_inner(), N = c.d_state, K = c.d_conv, R = c.dt_rank;
  const double H = c.has_mlp() ? c.mlp_hidden() : 0;
  double layer = 2 * D * 2 * E + 2 * K * E + E + 2 * E * (R + 2 * N) + 2 * R * E + E + 7 * E * N + 6 * E + 2 * E * D +
                 4 * D + D;
  if (c.has_mlp()) layer += 2 * D * 2 * H + 3 * H + 2 * H * D + 5 * D;
  const double per_frame = mel_conv_flops_per_frame(c.mel_conv_channels, n_mels, c.mel_conv_time_kernel) +
                           2 * embedded_width(c.mel_conv_channels, n_mels) * D + c.n_layers * layer + 4 * D + D;
  return frames * per_frame + 2 * D * n_classes;
}

// Liquid-S4 forward per clip of T frames, with n = 2T (FFT length):
//   MelConv, encoder             (MelConv (above) + 2·M'·H)·T, M' = embedded_width
//   per layer  norm              8·H·T
//              FFTs              F · 2.5·n·log2(n) · H     F = 2 (none, polyb) or 2p (kb: rfft and
//                                                          irfft for each G convolution and for K's)
//              spectral products P · 6·(n/2+1) · H         P = 1 (none, polyb) or p (kb)
//              D·u, GELU, GLU, residual  (2 + 8 + 6 + 1)·H·T
//              liquid terms      4·H·T per degree q = 2..p
//              Linear H->2H      4·H²·T
//   final norm, mean, head       9·H·T + 2·H·classes
// Kernel generation per forward call, shared by the whole batch (so not per clip): per layer
// 20·H·(N/2)·2√T for the complex exponentials (two power tables, see vandermonde_kernels) and
// R·8·H·(N/2)·T for the mode sums, plus R kernel rFFTs, R = 2 for kb (K and G), 1 otherwise.
struct LiquidS4Flops {
  double per_clip, kernel_per_call;
};
inline LiquidS4Flops liquid_s4_flops(const liquid_s4::Options& o, int64_t T, int64_t n_mels, int64_t n_classes) {
  const double H = o.d_model, M = o.modes();
  const double n = 2.0 * T;
  const double fft = 2.5 * n * std::log2(n) * H;
  const double spectral_product = 6.0 * (n / 2 + 1) * H;
  const bool kb = o.liquid_kernel == liquid_s4::LiquidKernel::kb;
  const double ffts = kb ? 2.0 * o.liquid_degree : 2.0;
  const double products = kb ? o.liquid_degree : 1.0;
  const double liquid = 4.0 * H * T * o.liquid_terms();
  const double layer = 8 * H * T + ffts * fft + products * spectral_product + 2 * H * T + liquid + 8 * H * T +
                       4 * H * H * T + 6 * H * T + H * T;
  const double front = mel_conv_flops_per_frame(o.mel_conv_channels, n_mels, o.mel_conv_time_kernel) +
                       2.0 * embedded_width(o.mel_conv_channels, n_mels) * H;
  const double total = front * T + o.n_layers * layer + 8 * H * T + H * T + 2 * H * n_classes;
  const double R = kb ? 2 : 1;
  const double kernel = o.n_layers * (20.0 * H * M * 2.0 * std::sqrt(T) + R * 8.0 * H * M * T + R * fft);
  return {total, kernel};
}

// V-JEPA2 forward per clip of T frames: N = tubelets · mel patches tokens of V values, width D.
//   MelConv                    per frame of the used tubelets (above)
//   patch embedding            2·V·D·N
//   per block  2 LayerNorms    16·D·N
//              qkv, proj       2·D·3D·N + 2·D·D·N
//              attention       2·N·N·D (QKᵀ) + 5·heads·N·N (scale, softmax) + 2·N·N·D (AV)
//              MLP             2·D·rD·N + rD·N (GELU) + 2·rD·D·N,  r = mlp_ratio
//              residuals       2·D·N
//   final LayerNorm            8·D·N
//   pooler     LayerNorm, kv   8·D·N + 2·D·2D·N;  one query: q 2·D·D, attention 4·N·D, MLP, LN
//   head                       2·D·classes
inline double vjepa2_flops_per_clip(const vjepa2::Options& o, int64_t T, int64_t n_mels, int64_t n_classes) {
  const double tubelets = static_cast<double>(std::min(T / o.tubelet_frames, o.max_tubelets));
  const double N = tubelets * (n_mels / o.patch_mels), V = o.patch_values(), D = o.embed_dim;
  const double r = o.mlp_ratio, heads = o.heads;
  const double mlp = 2 * D * r * D + r * D + 2 * r * D * D;
  const double block = 16 * D * N + 8 * D * D * N + 4 * N * N * D + 5 * heads * N * N + mlp * N + 2 * D * N;
  const double pooler = 8 * D * N + 4 * D * D * N + 2 * D * D + 4 * N * D + 5 * o.pool_heads * N + 8 * D + mlp + 2 * D;
  const double front = mel_conv_flops_per_frame(o.mel_conv_channels, n_mels, o.mel_conv_time_kernel) * tubelets * o.tubelet_frames;
  return front + 2 * V * D * N + o.depth * block + 8 * D * N + pooler + 2 * D * n_classes;
}

// Forward FLOPs of one clip of `frames` frames for a model named by its architecture, with its
// hyperparameters as a checkpoint stores them (SequenceClassifier::hyperparameters()): per_clip,
// and per_call, work done once per forward call whatever the batch (Liquid-S4's kernel
// generation; 0 for the others). Throws std::invalid_argument for an architecture it does not know.
struct ForwardFlops {
  double per_clip = 0, per_call = 0;
};
inline ForwardFlops forward_flops(const std::string& architecture, const nlohmann::json& hyperparameters,
                                  int64_t frames, int64_t n_mels, int64_t n_classes) {
  if (architecture == "mamba") {
    return {mamba_flops_per_clip(MambaConfig::from_json(hyperparameters), frames, n_mels, n_classes), 0};
  }
  if (architecture == "liquid_s4") {
    const LiquidS4Flops f = liquid_s4_flops(liquid_s4::Options::from_json(hyperparameters), frames, n_mels, n_classes);
    return {f.per_clip, f.kernel_per_call};
  }
  if (architecture == "vjepa2") {
    return {vjepa2_flops_per_clip(vjepa2::Options::from_json(hyperparameters, n_mels), frames, n_mels, n_classes), 0};
  }
  throw std::invalid_argument("no FLOP count for architecture '" + architecture + "'");
}

// FLOPs of one training step on a batch: backward is about twice the forward, and Liquid-S4's
// kernels are generated once per batch.
inline double training_flops_per_step(const ForwardFlops& flops, int64_t batch) {
  return 3.0 * (flops.per_clip * static_cast<double>(batch) + flops.per_call);
}

}  // namespace escd::bench
