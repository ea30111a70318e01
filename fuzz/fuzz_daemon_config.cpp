// escd's config file (config/escd.toml, /etc/escd/escd.toml): TOML parsing, the schema, validation.
// Accepted outcomes: the options, or a ConfigError naming the file (and table, key) at fault.
#include <cstddef>
#include <cstdint>

#include "daemon_options.h"
#include "memory_file.h"
#include "util/toml_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const escd::fuzz::MemoryFile file(data, size);
  escd::daemon::DaemonOptions options;
  try {
    escd::daemon::apply_config_file(options, file.path());
    escd::daemon::validate(options);
  } catch (const escd::ConfigError&) {
  }
  return 0;
}
