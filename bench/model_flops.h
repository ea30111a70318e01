// Analytic forward FLOPs of the three models, shared by the benchmarks (a multiply-add counts 2;
// exp, softplus, SiLU, GELU count 1 per element; normalisations and residual adds included).
// A training step is counted as 3x the forward (backward ≈ 2x forward for the products that
// dominate), plus Liquid-S4's kernel generation once per batch.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "models/liquid_s4/liquid_s4_options.h"
#include "models/mamba/mamba_config.h"
#include "models/vjepa2/vjepa2_options.h"

namespace escd::bench {

//   per frame:  2·M·D (input Linear)
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
  const double per_frame = 2 * n_mels * D + c.n_layers * layer + 4 * D + D;
  return frames * per_frame + 2 * D * n_classes;
}

// Liquid-S4 forward per clip of T frames, with n = 2T (FFT length):
//   encoder                      2·n_mels·H·T
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
  const double total = 2.0 * n_mels * H * T + o.n_layers * layer + 8 * H * T + H * T + 2 * H * n_classes;
  const double R = kb ? 2 : 1;
  const double kernel = o.n_layers * (20.0 * H * M * 2.0 * std::sqrt(T) + R * 8.0 * H * M * T + R * fft);
  return {total, kernel};
}

// V-JEPA2 forward per clip of T frames: N = tubelets · mel patches tokens of V values, width D.
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
  return 2 * V * D * N + o.depth * block + 8 * D * N + pooler + 2 * D * n_classes;
}

}  // namespace escd::bench
