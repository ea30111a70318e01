// Where the daemon's messages go: escd's ZeroMQ publisher (publisher.h), or, in tests, a list kept in
// memory, so that the processing loop can be driven in process.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace escd::daemon {

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // Sends `body` on `topic`; the sink adds seq (per topic), t = stream_time and wall.
  virtual void publish(const std::string& topic, nlohmann::json body, double stream_time) = 0;
  // Where the messages go (for the log), and the sink's own counters (for esc.health).
  virtual const std::string& endpoint() const = 0;
  virtual nlohmann::json stats() const = 0;
};

}  // namespace escd::daemon
