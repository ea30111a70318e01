// The Mamba classifier's hyperparameters, read from the (complete) JSON that mamba_defaults()
// documents, with the derived sizes in one place.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace escd {

struct MambaConfig {
  int64_t d_model = 0;         // residual stream width D
  int64_t n_layers = 0;        // Mamba blocks
  int64_t d_state = 0;         // N, state size per channel
  int64_t d_conv = 0;          // causal depthwise conv taps
  int64_t expand = 0;          // E = expand · D
  int64_t dt_rank = 0;         // R, resolved (never 0 here)
  int64_t d_intermediate = 0;  // gated-MLP request; 0 = no MLP
  int64_t mel_conv_channels = 0;  // MelConv front end's first-layer channels; 0 = Linear(n_mels -> D)
  int64_t mel_conv_time_kernel = 1;  // frames each MelConv layer sees (causal); 1 = per frame
  double dt_min = 0, dt_max = 0, dt_init_floor = 0;
  double norm_eps = 0;

  int64_t d_inner() const { return expand * d_model; }
  bool has_mlp() const { return d_intermediate > 0; }
  // The gated MLP's hidden width: d_intermediate rounded up to a multiple of 128 (as upstream).
  int64_t mlp_hidden() const { return (d_intermediate + 127) / 128 * 128; }

  // Reads every key (a missing one is an error: the registry merges defaults first), resolves
  // dt_rank = 0 to ceil(d_model / 16), and rejects sizes that cannot build a model.
  static MambaConfig from_json(const nlohmann::json& hyperparameters);
};

}  // namespace escd
