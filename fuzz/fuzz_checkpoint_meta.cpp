// The metadata record inside a checkpoint (JSON: format, version, architecture, hyperparameters,
// front end, class names) and the model it asks for. Mutating the zip archive around it rarely
// reaches this code, so it gets a fuzzer of its own. Accepted: a model, or a CheckpointError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "models/common/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    escd::checkpoint_from_meta(std::string(reinterpret_cast<const char*>(data), size), "fuzz.ckpt");
  } catch (const escd::CheckpointError&) {
  }
  return 0;
}
