// The message load_checkpoint gives for a file, for tests of what a bad checkpoint is told.
#pragma once

#include <string>

#include "models/common/checkpoint.h"

namespace escd::test {

// The CheckpointError's message, or "no error" if the file loaded.
inline std::string error_loading(const std::string& path, const std::string& expected_architecture = "") {
  try {
    load_checkpoint(path, expected_architecture);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace escd::test
