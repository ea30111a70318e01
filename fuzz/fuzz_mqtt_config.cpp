// esc-mqtt's config file (config/esc-mqtt.toml, /etc/escd/esc-mqtt.toml): TOML parsing, the tables,
// validation. Accepted outcomes: the options, or a ConfigError naming the file (and table, key).
#include <cstddef>
#include <cstdint>

#include "memory_file.h"
#include "mqtt_options.h"
#include "util/toml_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const escd::fuzz::MemoryFile file(data, size);
  escd::daemon::MqttBridgeOptions options;
  try {
    escd::daemon::apply_mqtt_config_file(options, file.path());
    escd::daemon::validate(options);
  } catch (const escd::ConfigError&) {
  }
  return 0;
}
