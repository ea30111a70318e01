// esc-proxy's core: ZeroMQ's own XSUB/XPUB forwarder (zmq_proxy_steerable) between many escd and
// their subscribers. escd instances connect to the publishers' endpoint (escd --proxy) and publish;
// subscribers connect to the subscribers' endpoint exactly as they would to one escd, and their
// subscriptions travel upstream to every escd, so each escd sends only what someone wants.
//
// Security, per side, as escd does it: with the proxy's key pair both sockets are CURVE servers,
// each with its own context and ZAP handler, so that the escd allowlist and the subscriber
// allowlist are kept apart. The proxy's own health (esc.proxy.<name>) enters through an inproc
// publisher on the XSUB side, so it reaches subscribers like any escd's messages.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace escd::daemon {

class ConnectionMonitor;
class ZapHandler;

struct ProxyOptions {
  std::string publishers = "tcp://127.0.0.1:5565";   // escd --proxy connects here (XSUB)
  std::string subscribers = "tcp://127.0.0.1:5566";  // esc-sub, esc-web, esc-mqtt connect here (XPUB)
  std::string name;                                   // the proxy's own source name (topic.h)
  int hwm = 10000;                                    // messages queued per peer on each side
  double health_interval_s = 1.0;                     // 0.1 .. 10 (the watchdog is fed with it)
  std::string server_key;       // the proxy's CURVE key pair ("" = no CURVE)
  std::string publisher_keys;   // allowlist of escd public keys ("" = any that knows the proxy's key)
  std::string subscriber_keys;  // allowlist of subscriber public keys ("" = any that knows the proxy's key)
};

// Forwarded traffic as the proxy counts it (zmq_proxy_steerable's STATISTICS, which libzmq 4.3.4
// counts per message, not per frame): messages and bytes from escd to subscribers, the proxy's own
// health included, and subscriptions going the other way.
struct ProxyTraffic {
  uint64_t messages = 0, bytes = 0;  // escd -> subscribers
  uint64_t subscriptions = 0;        // subscribers -> escd (subscribe and unsubscribe messages)
};

class MessageProxy {
 public:
  // Binds both sides and starts forwarding on a thread of its own. Throws std::runtime_error naming
  // the endpoint or key file when that cannot be done.
  explicit MessageProxy(const ProxyOptions& options);
  ~MessageProxy();  // stops forwarding and joins its thread

  // False once the forwarding thread has returned (it only does on an error): the owner must stop.
  bool forwarding() const { return forwarding_.load(); }
  const std::string& publishers_endpoint() const { return publishers_endpoint_; }
  const std::string& subscribers_endpoint() const { return subscribers_endpoint_; }

  // Asks the forwarding thread for its counters; std::nullopt when it does not answer within
  // `timeout` (then it is stuck, and the service watchdog must not be fed).
  std::optional<ProxyTraffic> traffic(std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));
  // Publishes esc.proxy.<name> (traffic, rates since the last one, connections and CURVE admissions
  // per side) to the subscribers and returns it; std::nullopt when the forwarding thread is stuck.
  // One thread (the owner's loop) calls it.
  std::optional<nlohmann::json> publish_health();

 private:
  ProxyOptions options_;
  std::string publishers_endpoint_, subscribers_endpoint_;
  std::unique_ptr<zmq::context_t> publishers_context_, subscribers_context_;
  std::unique_ptr<ZapHandler> publishers_zap_, subscribers_zap_;
  std::unique_ptr<zmq::socket_t> xsub_, xpub_;
  std::unique_ptr<ConnectionMonitor> publishers_monitor_, subscribers_monitor_;
  std::unique_ptr<zmq::socket_t> control_, steer_;  // PAIR: steer_ is the forwarder's end, control_ ours
  std::unique_ptr<zmq::socket_t> health_socket_;    // PUB into the XSUB over inproc
  std::thread forwarder_;
  std::atomic<bool> forwarding_{true};
  std::chrono::steady_clock::time_point started_, last_health_;
  ProxyTraffic last_traffic_;
  uint64_t health_seq_ = 0;
};

}  // namespace escd::daemon
