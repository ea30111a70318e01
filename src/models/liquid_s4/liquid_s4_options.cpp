#include "models/liquid_s4/liquid_s4_options.h"

#include <stdexcept>
#include <string>

#include "models/common/json_fields.h"
#include "models/common/mel_conv.h"
#include "models/common/model_limits.h"

namespace escd::liquid_s4 {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& why) {
  throw std::invalid_argument("'" + key + "' " + why);
}

// Every check, with errors that name the key; Options::from_json adds the model.
Options parse_options(const nlohmann::json& h) {
  Options o;
  o.d_model = integer_field(h, "d_model", 1, kMaxModelDimension);
  o.n_layers = integer_field(h, "n_layers", 1, kMaxModelDimension);
  // HiPPO-LegS is diagonalised as a dense N x N matrix: N beyond a few thousand is minutes of work.
  o.d_state = integer_field(h, "d_state", 2, 2048);
  // The state is stored as N/2 complex modes standing for N real dimensions (conjugate pairs).
  if (o.d_state % 2 != 0) bad("d_state", "should be even, got " + std::to_string(o.d_state));
  o.dt_min = number_field(h, "dt_min");
  o.dt_max = number_field(h, "dt_max");
  if (!(o.dt_min > 0.0)) bad("dt_min", "should be > 0");
  if (!(o.dt_max >= o.dt_min)) bad("dt_max", "should be >= dt_min");

  const std::string kernel = string_field(h, "liquid_kernel");
  if (kernel == "none") o.liquid_kernel = LiquidKernel::none;
  else if (kernel == "polyb") o.liquid_kernel = LiquidKernel::polyb;
  else if (kernel == "kb") o.liquid_kernel = LiquidKernel::kb;
  else bad("liquid_kernel", "should be \"none\", \"polyb\" or \"kb\", got \"" + kernel + "\"");
  // Degree q uses B (1^T B)^(2^(q-1) - 1): beyond 8 the powers say nothing a float can hold.
  o.liquid_degree = integer_field(h, "liquid_degree", 2, 8);

  const std::string contract = string_field(h, "liquid_contract");
  if (contract == "none") o.liquid_tanh = false;
  else if (contract == "tanh") o.liquid_tanh = true;
  else bad("liquid_contract", "should be \"none\" or \"tanh\", got \"" + contract + "\"");

  const std::string disc = string_field(h, "discretization");
  if (disc == "zoh") o.discretization = Discretization::zoh;
  else if (disc == "bilinear") o.discretization = Discretization::bilinear;
  else bad("discretization", "should be \"zoh\" or \"bilinear\", got \"" + disc + "\"");

  const std::string norm = string_field(h, "norm");
  if (norm == "layer") o.norm = NormKind::scalar_affine;
  else if (norm == "layernorm") o.norm = NormKind::layernorm;
  else bad("norm", "should be \"layer\" or \"layernorm\", got \"" + norm + "\"");

  o.dropout = number_field(h, "dropout");
  if (!(o.dropout >= 0.0 && o.dropout < 1.0)) bad("dropout", "should be in [0, 1)");
  o.mel_conv_channels = integer_field(h, "mel_conv_channels", 0, kMaxModelDimension);
  o.mel_conv_time_kernel = integer_field(h, "mel_conv_time_kernel", 1, kMaxMelConvTimeKernel);
  // Every parameter tensor of a layer (diagonal_ssm.cpp, s4_layer.cpp, frame_norm.cpp), bounded
  // from above, plus the dense N x N HiPPO matrix built once per layer.
  const double H = o.d_model, N = o.d_state;
  const double per_layer = H * (3 * N + 2) + 2 * H * H + 2 * H + H * o.liquid_degree + 2 * H + N * N;
  const double front_end = o.mel_conv_channels > 0 ? double(MelConvImpl::parameter_count(o.mel_conv_channels, o.mel_conv_time_kernel)) : 0.0;
  if (o.n_layers * per_layer + front_end > kMaxModelParameters) {
    bad("d_model", "with d_state " + std::to_string(o.d_state) + " and n_layers " + std::to_string(o.n_layers) +
                       " makes about " + std::to_string(int64_t(o.n_layers * per_layer / 1e6)) + " M parameters; at most " +
                       std::to_string(int64_t(kMaxModelParameters / 1e6)) + " M are accepted");
  }
  return o;
}

}  // namespace

Options Options::from_json(const nlohmann::json& h) {
  if (!h.is_object()) throw std::invalid_argument("liquid_s4: hyperparameters must be a JSON object");
  try {
    return parse_options(h);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("liquid_s4: hyperparameter ") + e.what());
  }
}

nlohmann::json Options::to_json() const {
  const Options& o = *this;
  auto kernel = o.liquid_kernel == LiquidKernel::none ? "none" : o.liquid_kernel == LiquidKernel::polyb ? "polyb" : "kb";
  return {{"d_model", o.d_model},
          {"n_layers", o.n_layers},
          {"d_state", o.d_state},
          {"dt_min", o.dt_min},
          {"dt_max", o.dt_max},
          {"liquid_kernel", kernel},
          {"liquid_degree", o.liquid_degree},
          {"liquid_contract", o.liquid_tanh ? "tanh" : "none"},
          {"discretization", o.discretization == Discretization::zoh ? "zoh" : "bilinear"},
          {"norm", o.norm == NormKind::scalar_affine ? "layer" : "layernorm"},
          {"dropout", o.dropout},
          {"mel_conv_channels", o.mel_conv_channels},
          {"mel_conv_time_kernel", o.mel_conv_time_kernel}};
}

}  // namespace escd::liquid_s4
