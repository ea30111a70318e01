#include "message_stamp.h"

#include <chrono>

namespace escd::daemon {

void stamp_message(nlohmann::json& body, uint64_t seq, double stream_time, const std::string& source) {
  body["seq"] = seq;
  body["t"] = stream_time;
  body["wall"] = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (!source.empty()) body["source"] = source;
}

}  // namespace escd::daemon
