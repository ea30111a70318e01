// The ZeroMQ PUB side: multipart messages (topic, JSON), a sequence number per topic with no gaps,
// stream time `t` and wall-clock `wall` in every message. Sends never block: a subscriber past the
// high-water mark loses messages (ZeroMQ drops them for that subscriber only, silently; its `seq`
// shows the gap), and a send the socket refuses is counted, never waited for.
//
// Every topic ends with the source's name (topic.h) and every message says `source`.
//
// The socket binds its endpoint (subscribers connect to escd), or connects to an esc-proxy (which
// subscribers connect to instead); ZeroMQ reconnects by itself when the proxy restarts and, while it
// is away, keeps up to send_hwm messages for it (ZeroMQ's connect-side queue). What the proxy held
// when it stopped is lost, and subscribers see that as a gap in `seq`.
//
// Security: with a server key pair the socket is a CURVE server (every subscriber is encrypted and
// must know escd's public key); with a client allowlist too, a ZAP handler admits only the listed
// subscriber keys. Connected to a proxy, the socket is a CURVE client of the proxy with the same key
// pair, and the proxy's allowlists decide. Nothing a subscriber sends is read by escd: a PUB socket
// consumes subscription messages inside libzmq, and escd receives nothing on it.
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

struct PublisherEndpoint {
  std::string endpoint;     // where to bind, or the proxy to connect to
  bool connect = false;     // connect to an esc-proxy instead of binding
  int send_hwm = 1000;      // messages queued per subscriber (per proxy when connected)
  std::string source;       // appended to every topic; "" = none
};

struct PublisherSecurity {
  std::string server_key_file;   // escd's CURVE key pair ("" = no CURVE)
  std::string client_keys_file;  // subscribers' public keys allowed in ("" = any that knows escd's key)
  std::string proxy_key_file;    // connected: the proxy's public key file (needed with a key pair)
};

class Publisher : public MessageSink {
 public:
  // Binds or connects; throws std::runtime_error naming the endpoint (or the key file) when that fails.
  explicit Publisher(const PublisherEndpoint& where, const PublisherSecurity& security = {});
  ~Publisher();

  // Adds seq, t, wall and source to `body` and sends it on `topic` + "." + source. Not thread-safe:
  // one thread publishes.
  void publish(const std::string& topic, nlohmann::json body, double stream_time) override;

  // The bound endpoint (a tcp://host:* wildcard port resolved to the port the system chose), or the
  // proxy's.
  const std::string& endpoint() const override { return endpoint_; }
  // For esc.health: messages sent and refused, connections, handshakes, CURVE admissions.
  nlohmann::json stats() const override;

 private:
  std::string endpoint_;
  std::string source_;
  bool connected_to_proxy_ = false;
  bool curve_ = false;
  std::unique_ptr<zmq::context_t> context_;
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<ConnectionMonitor> monitor_;
  std::map<std::string, uint64_t> seq_;
  uint64_t sent_ = 0, failures_ = 0;
};

}  // namespace escd::daemon
