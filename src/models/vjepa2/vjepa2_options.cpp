#include "models/vjepa2/vjepa2_options.h"

#include "models/common/json_fields.h"
#include "models/common/mel_conv.h"
#include "models/common/model_limits.h"

#include <stdexcept>
#include <string>

namespace escd::vjepa2 {

nlohmann::json vjepa2_defaults() {
  // Sized for training on a CPU (bench_models prints the parameter count and FLOPs per clip): 19
  // tubelets x 8 mel patches = 152 tokens of 8 frames x 16 bands (the latest 152 frames of a
  // 155-frame window), 4 blocks of width 128. config/vjepa2.toml repeats these values.
  return {{"embed_dim", 128},     {"depth", 4},         {"heads", 4},           {"mlp_ratio", 4},
          {"tubelet_frames", 8},  {"patch_mels", 16},   {"max_tubelets", 19},   {"pool_heads", 4},
          {"drop_path", 0.1},     {"predictor_dim", 96}, {"predictor_depth", 2}, {"predictor_heads", 4},
          {"mel_conv_channels", 16}, {"mel_conv_time_kernel", 3}};
}

Options Options::from_json(const nlohmann::json& h, int64_t n_mels) {
  Options o;
  try {
    // Typed and range-checked before conversion (models/common/json_fields.h).
    o.embed_dim = integer_field(h, "embed_dim", 1, kMaxModelDimension);
    o.depth = integer_field(h, "depth", 1, kMaxModelDimension);
    o.heads = integer_field(h, "heads", 1, kMaxModelDimension);
    o.mlp_ratio = integer_field(h, "mlp_ratio", 1, kMaxModelDimension);
    o.tubelet_frames = integer_field(h, "tubelet_frames", 1, kMaxModelDimension);
    o.patch_mels = integer_field(h, "patch_mels", 1, kMaxModelDimension);
    o.max_tubelets = integer_field(h, "max_tubelets", 1, kMaxModelDimension);
    o.pool_heads = integer_field(h, "pool_heads", 1, kMaxModelDimension);
    o.drop_path = number_field(h, "drop_path", 0.0, 1.0);
    o.predictor_dim = integer_field(h, "predictor_dim", 1, kMaxModelDimension);
    o.predictor_depth = integer_field(h, "predictor_depth", 1, kMaxModelDimension);
    o.mel_conv_channels = integer_field(h, "mel_conv_channels", 0, kMaxModelDimension);  // 0: raw log-mel tokens
    o.mel_conv_time_kernel = integer_field(h, "mel_conv_time_kernel", 1, kMaxMelConvTimeKernel);
    o.predictor_heads = integer_field(h, "predictor_heads", 1, kMaxModelDimension);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("vjepa2 hyperparameters: ") + e.what());
  }
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("vjepa2 hyperparameters: " + what);
  };
  require(o.embed_dim % o.heads == 0, "embed_dim must be divisible by heads");
  require(o.embed_dim % o.pool_heads == 0, "embed_dim must be divisible by pool_heads");
  require(n_mels % o.patch_mels == 0,
          "patch_mels must divide n_mels (" + std::to_string(n_mels) + ")");
  // The MelConv keeps one band in 8 (three stride-2 layers), so a patch must cover whole output bands.
  require(o.mel_conv_channels == 0 || (o.patch_mels % 8 == 0 && n_mels % 8 == 0),
          "with mel_conv_channels, patch_mels and n_mels must be multiples of 8");
  // The sin-cos table splits D in half (time, mel), each half into sin and cos.
  require(o.embed_dim % 4 == 0 && o.predictor_dim % 4 == 0, "embed_dim and predictor_dim must be multiples of 4");
  require(o.drop_path < 1, "drop_path must be in [0, 1)");
  require(o.predictor_dim % o.predictor_heads == 0, "predictor_dim must be divisible by predictor_heads");
  // Every parameter tensor (encoder and predictor blocks, pooler, patch embedding, MelConv) and the
  // position table, bounded from above before anything is allocated: sizes that are each within
  // kMaxModelDimension can still multiply to terabytes.
  const double D = o.embed_dim, P = o.predictor_dim, r = o.mlp_ratio;
  auto block = [r](double width) { return (4 + 2 * r) * width * width + (9 + r) * width; };
  const double tokens = double(o.max_tubelets) * double(n_mels / o.patch_mels);
  const double parameters =
      o.depth * block(D) + o.predictor_depth * block(P) + 2 * D * P + block(D) + double(o.patch_values()) * D +
      tokens * D + (o.mel_conv_channels > 0 ? double(MelConvImpl::parameter_count(o.mel_conv_channels, o.mel_conv_time_kernel)) : 0.0);
  require(parameters <= kMaxModelParameters,
          "embed_dim " + std::to_string(o.embed_dim) + ", depth " + std::to_string(o.depth) + ", mlp_ratio " +
              std::to_string(o.mlp_ratio) + "... make about " + std::to_string(int64_t(parameters / 1e6)) +
              " M parameters; at most " + std::to_string(int64_t(kMaxModelParameters / 1e6)) + " M are accepted");
  return o;
}

}  // namespace escd::vjepa2
