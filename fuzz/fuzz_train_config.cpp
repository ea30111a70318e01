// esc-train's recipe file (config/<model>.toml): the top-level tables, the [train] table and the
// [model] hyperparameters as esc-train merges them with the model's defaults. Accepted outcomes:
// the settings, or a ConfigError / std::invalid_argument naming the file and the key at fault.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "config_file.h"
#include "memory_file.h"
#include "models/common/registry.h"
#include "models/liquid_s4/liquid_s4.h"
#include "models/mamba/mamba.h"
#include "train_config.h"
#include "util/toml_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const escd::fuzz::MemoryFile file(data, size);
  try {
    const auto config = escd::train::read_model_config(file.path());
    escd::train::TrainConfig train;
    escd::train::apply_train_table(train, config.train, file.path() + " [train]");
    escd::merge_hyperparameters(escd::mamba_defaults(), config.model, file.path() + " [model]");
    escd::merge_hyperparameters(escd::liquid_s4_defaults(), config.model, file.path() + " [model]");
  } catch (const escd::ConfigError&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
