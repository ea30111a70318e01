// Liquid-S4 hyperparameters as a typed, validated struct (the JSON form lives in liquid_s4_defaults()).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace escd::liquid_s4 {

// Which causal liquid term each S4 layer adds to its linear SSM (docs/MODELS.md 1.4).
enum class LiquidKernel {
  none,   // plain S4
  polyb,  // pointwise products of neighbouring inputs, one trained coefficient per degree and channel
  kb,     // the exact degree-p truncation of the liquid recurrence (chained causal convolutions)
};

enum class Discretization { zoh, bilinear };

enum class NormKind {
  scalar_affine,  // "layer": upstream TransposedLN (per-frame standardisation, one gain and one shift per norm)
  layernorm,      // "layernorm": standard LayerNorm(H) with per-channel gain and bias
};

struct Options {
  int64_t d_model = 128;
  int64_t n_layers = 4;
  int64_t d_state = 64;  // N: real state size; N/2 complex modes are stored
  double dt_min = 1e-3;
  double dt_max = 1e-1;
  LiquidKernel liquid_kernel = LiquidKernel::kb;
  int64_t liquid_degree = 2;
  bool liquid_tanh = false;  // liquid_contract "tanh": bound each liquid input with tanh
  Discretization discretization = Discretization::zoh;
  NormKind norm = NormKind::layernorm;
  double dropout = 0.0;
  int64_t mel_conv_channels = 16;  // MelConv front end's first-layer channels; 0 = Linear(n_mels -> H)
  int64_t mel_conv_time_kernel = 3;  // frames each MelConv layer sees (causal); 1 = per frame

  int64_t modes() const { return d_state / 2; }
  // Extra degrees q = 2..p carried by the liquid term (0 for plain S4).
  int64_t liquid_terms() const { return liquid_kernel == LiquidKernel::none ? 0 : liquid_degree - 1; }

  // Reads complete hyperparameters (as produced by liquid_s4_defaults() merged with overrides) and
  // checks them; std::invalid_argument names the offending key. The same shape as the other models'
  // options (MambaConfig::from_json, vjepa2::Options::from_json).
  static Options from_json(const nlohmann::json& hyperparameters);
  nlohmann::json to_json() const;
};

}  // namespace escd::liquid_s4
