// The ZeroMQ PUB side: multipart messages (topic, JSON), a sequence number per topic with no gaps,
// stream time `t` and wall-clock `wall` in every message. Sends never block: a subscriber past the
// high-water mark loses messages (ZeroMQ drops them for that subscriber only, silently; its `seq`
// shows the gap), and a send the socket refuses is counted, never waited for.
//
// Security: with a server key pair the socket is a CURVE server (every subscriber is encrypted and
// must know escd's public key); with a client allowlist too, a ZAP handler admits only the listed
// subscriber keys. Nothing a subscriber sends is read by escd: a PUB socket consumes subscription
// messages inside libzmq, and escd receives nothing on it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "message_sink.h"

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace escd::daemon {

class ConnectionMonitor;
class ZapHandler;

struct PublisherSecurity {
  std::string server_key_file;   // escd's CURVE key pair ("" = no CURVE)
  std::string client_keys_file;  // subscribers' public keys allowed in ("" = any that knows escd's key)
};

class Publisher : public MessageSink {
 public:
  // Binds `endpoint`; throws std::runtime_error naming it (or the key file) when that fails.
  Publisher(const std::string& endpoint, int send_hwm, const PublisherSecurity& security = {});
  ~Publisher();

  // Adds seq, t and wall to `body` and sends it on `topic`. Not thread-safe: one thread publishes.
  void publish(const std::string& topic, nlohmann::json body, double stream_time) override;

  // The bound endpoint (a tcp://host:* wildcard port resolved to the port the system chose).
  const std::string& endpoint() const override { return endpoint_; }
  // For esc.health: messages sent and refused, connections, handshakes, CURVE admissions.
  nlohmann::json stats() const override;

 private:
  std::string endpoint_;
  bool curve_ = false;
  std::unique_ptr<zmq::context_t> context_;
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<ConnectionMonitor> monitor_;
  std::map<std::string, uint64_t> seq_;
  uint64_t sent_ = 0, failures_ = 0;
};

}  // namespace escd::daemon
