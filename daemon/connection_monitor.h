// Counts who connects to a socket (escd's PUB, esc-proxy's two sides), from libzmq's socket monitor
// events: connections accepted (a bound socket) or made (a connected one) and closed, handshakes that succeeded, and handshakes that failed (CURVE
// authentication refused, or a peer that does not speak ZMTP). A thread reads the events as they
// come, so that libzmq's monitor queue never fills however many subscribers come and go.
//
// What it cannot count: messages a PUB socket drops for a subscriber at its high-water mark.
// libzmq drops them silently per subscriber and reports nothing (the draft API's pipe statistics
// are not built into Debian 12's libzmq5); each subscriber sees its own losses as gaps in `seq`.
#pragma once

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace escd::daemon {

class ConnectionMonitor {
 public:
  // Starts monitoring `socket` (call from the thread that owns it, before it binds).
  ConnectionMonitor(zmq::context_t& context, zmq::socket_t& socket);
  // Stops the thread and the monitor (from the owning thread, before the socket closes).
  ~ConnectionMonitor();

  // Counters so far; "open" = accepted + connected - closed (peers connected right now, authenticated
  // or not).
  nlohmann::json stats() const;
  uint64_t accepted() const { return accepted_.load(); }
  uint64_t closed() const { return closed_.load(); }

 private:
  void run();

  zmq::socket_t& monitored_;
  std::unique_ptr<zmq::socket_t> events_;  // PAIR connected to the monitor endpoint; used by the thread
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> accepted_{0}, connected_{0}, closed_{0}, handshakes_{0}, auth_failures_{0}, protocol_failures_{0},
      accept_failures_{0};
  std::thread thread_;
};

}  // namespace escd::daemon
