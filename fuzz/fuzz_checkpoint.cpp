// Checkpoint files (models/*.ckpt, runs/*/best.ckpt) as escd and esc-train load them: libtorch's
// archive (a zip of pickles and tensor records), our metadata record, the model it describes and
// each stored tensor. Accepted outcomes: a model, or a CheckpointError naming the file.
#include <cstddef>
#include <cstdint>

#include "memory_file.h"
#include "models/common/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const escd::fuzz::MemoryFile file(data, size);
  try {
    escd::load_checkpoint(file.path());
  } catch (const escd::CheckpointError&) {
  }
  return 0;
}
