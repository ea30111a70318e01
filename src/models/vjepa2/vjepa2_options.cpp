#include "models/vjepa2/vjepa2_options.h"

#include "models/common/model_limits.h"

#include <stdexcept>
#include <string>

namespace escd::vjepa2 {

nlohmann::json vjepa2_defaults() {
  // Sized for CPU training within an hour (bench_vjepa2 prints parameters and FLOPs): 19 tubelets
  // x 8 mel patches = 152 tokens of 8 frames x 16 bands, 4 blocks of width 128.
  return {{"embed_dim", 128},     {"depth", 4},         {"heads", 4},           {"mlp_ratio", 4},
          {"tubelet_frames", 8},  {"patch_mels", 16},   {"max_tubelets", 19},   {"pool_heads", 4},
          {"drop_path", 0.1},     {"predictor_dim", 96}, {"predictor_depth", 2}, {"predictor_heads", 4},
          {"mel_conv_channels", 16}, {"mel_conv_time_kernel", 3}};
}

Options Options::from_json(const nlohmann::json& h, int64_t n_mels) {
  Options o;
  try {
    o.embed_dim = h.at("embed_dim").get<int64_t>();
    o.depth = h.at("depth").get<int64_t>();
    o.heads = h.at("heads").get<int64_t>();
    o.mlp_ratio = h.at("mlp_ratio").get<int64_t>();
    o.tubelet_frames = h.at("tubelet_frames").get<int64_t>();
    o.patch_mels = h.at("patch_mels").get<int64_t>();
    o.max_tubelets = h.at("max_tubelets").get<int64_t>();
    o.pool_heads = h.at("pool_heads").get<int64_t>();
    o.drop_path = h.at("drop_path").get<double>();
    o.predictor_dim = h.at("predictor_dim").get<int64_t>();
    o.predictor_depth = h.at("predictor_depth").get<int64_t>();
    o.mel_conv_channels = h.at("mel_conv_channels").get<int64_t>();
    o.mel_conv_time_kernel = h.at("mel_conv_time_kernel").get<int64_t>();
    o.predictor_heads = h.at("predictor_heads").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("vjepa2 hyperparameters: ") + e.what());
  }
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("vjepa2 hyperparameters: " + what);
  };
  require(o.embed_dim > 0 && o.depth > 0 && o.heads > 0 && o.mlp_ratio > 0, "sizes must be positive");
  require(o.embed_dim % o.heads == 0, "embed_dim must be divisible by heads");
  require(o.pool_heads > 0 && o.embed_dim % o.pool_heads == 0, "embed_dim must be divisible by pool_heads");
  require(o.tubelet_frames > 0 && o.max_tubelets > 0, "tubelet_frames and max_tubelets must be positive");
  require(o.patch_mels > 0 && n_mels % o.patch_mels == 0,
          "patch_mels must divide n_mels (" + std::to_string(n_mels) + ")");
  require(o.mel_conv_channels >= 0 && o.mel_conv_channels <= kMaxModelDimension,
          "mel_conv_channels must be in [0, " + std::to_string(kMaxModelDimension) + "] (0 = raw log-mel tokens)");
  require(o.mel_conv_time_kernel >= 1 && o.mel_conv_time_kernel <= kMaxMelConvTimeKernel,
          "mel_conv_time_kernel must be in [1, " + std::to_string(kMaxMelConvTimeKernel) + "] (1 = per frame)");
  // The MelConv keeps one band in 8 (three stride-2 layers), so a patch must cover whole output bands.
  require(o.mel_conv_channels == 0 || (o.patch_mels % 8 == 0 && n_mels % 8 == 0),
          "with mel_conv_channels, patch_mels and n_mels must be multiples of 8");
  // The sin-cos table splits D in half (time, mel), each half into sin and cos.
  require(o.embed_dim % 4 == 0 && o.predictor_dim % 4 == 0, "embed_dim and predictor_dim must be multiples of 4");
  require(o.drop_path >= 0 && o.drop_path < 1, "drop_path must be in [0, 1)");
  require(o.predictor_dim > 0 && o.predictor_depth > 0 && o.predictor_heads > 0 &&
              o.predictor_dim % o.predictor_heads == 0,
          "predictor sizes must be positive, predictor_dim divisible by predictor_heads");
  return o;
}

}  // namespace escd::vjepa2
