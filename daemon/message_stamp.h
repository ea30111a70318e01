// What every message escd (or esc-proxy, for its own health) publishes carries besides its own
// fields.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace escd::daemon {

// Sets `seq` (per topic, without gaps), stream time `t`, wall-clock `wall` (Unix seconds) and
// `source` (left out when empty).
void stamp_message(nlohmann::json& body, uint64_t seq, double stream_time, const std::string& source);

}  // namespace escd::daemon
