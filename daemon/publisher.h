// The ZeroMQ PUB side: multipart messages (topic, JSON), a sequence number per topic with no gaps,
// stream time `t` and wall-clock `wall` in every message. Sends never block: a subscriber past the
// high-water mark loses messages (ZeroMQ drops them for that subscriber only; its `seq` shows the
// gap), and a send the socket refuses is counted, never waited for.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace escd::daemon {

class Publisher {
 public:
  Publisher(const std::string& endpoint, int send_hwm);
  ~Publisher();

  // Adds seq, t and wall to `body` and sends it on `topic`. Not thread-safe: one thread publishes.
  void publish(const std::string& topic, nlohmann::json body, double stream_time);

  uint64_t sent() const { return sent_; }
  uint64_t send_failures() const { return failures_; }
  const std::string& endpoint() const { return endpoint_; }

 private:
  std::string endpoint_;
  std::unique_ptr<zmq::context_t> context_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::map<std::string, uint64_t> seq_;
  uint64_t sent_ = 0, failures_ = 0;
};

}  // namespace escd::daemon
