// What esc-mqtt does with the messages an escd endpoint sends it (daemon/mqtt_source.h): the input
// is lines of "<topic> <JSON>", fed in order one second apart, then the silence that makes escd
// offline and the full state of a new broker connection. Accepted outcome: publications, whatever
// the topics and JSON; nothing may escape (a message esc-mqtt does not understand is dropped).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include <spdlog/spdlog.h>

#include "mqtt_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  escd::daemon::MqttBridgeOptions options;
  options.classes = {"dog", "rain"};
  escd::daemon::SourceBridge bridge({"fuzz", "", {"tcp://127.0.0.1:5556", "", ""}}, options, "0");
  auto now = escd::daemon::SourceBridge::Clock::time_point{};
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  for (std::string line; std::getline(lines, line);) {
    const size_t space = line.find(' ');
    const nlohmann::json body = nlohmann::json::parse(space == std::string::npos ? "" : line.substr(space + 1), nullptr, false);
    if (body.is_discarded()) continue;  // esc-mqtt drops what does not parse before this point
    now += std::chrono::seconds(1);
    bridge.on_message(line.substr(0, space), body, now);
    bridge.on_tick(now);
  }
  bridge.on_tick(now + std::chrono::minutes(1));
  bridge.full_state();
  return 0;
}
