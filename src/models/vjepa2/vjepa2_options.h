// V-JEPA2 audio classifier hyperparameters (docs/MODELS.md section 3), read from the complete JSON that
// vjepa2_defaults() documents.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace escd::vjepa2 {

struct Options {
  int64_t embed_dim = 0;       // D, token width
  int64_t depth = 0;           // encoder blocks
  int64_t heads = 0;           // attention heads (D divisible by heads)
  int64_t mlp_ratio = 0;       // MLP hidden = mlp_ratio * D
  int64_t tubelet_frames = 0;  // frames per tubelet (the time extent of a token)
  int64_t patch_mels = 0;      // mel bands per token (n_mels divisible by it)
  int64_t max_tubelets = 0;    // positions in the table: the latest max_tubelets tubelets are used
  int64_t pool_heads = 0;      // attentive pooler's cross-attention heads
  double drop_path = 0;        // stochastic depth at the last block (linear from 0), training only
  int64_t predictor_dim = 0;   // JEPA predictor width (pretraining only)
  int64_t predictor_depth = 0;
  int64_t predictor_heads = 0;
  int64_t mel_conv_channels = 0;  // MelConv front end's first-layer channels; 0 = tokens of raw log-mel
  int64_t mel_conv_time_kernel = 1;  // frames each MelConv layer sees (causal); 1 = per frame

  int64_t window_frames() const { return max_tubelets * tubelet_frames; }
  // Values per frame in one token: patch_mels log-mel bands, or with the MelConv (which keeps one
  // band in 8, in 2C channels) the patch_mels / 8 bands' features.
  int64_t patch_width() const { return mel_conv_channels > 0 ? patch_mels / 8 * 2 * mel_conv_channels : patch_mels; }
  int64_t patch_values() const { return tubelet_frames * patch_width(); }

  static Options from_json(const nlohmann::json& hyperparameters, int64_t n_mels);
};

nlohmann::json vjepa2_defaults();

}  // namespace escd::vjepa2
