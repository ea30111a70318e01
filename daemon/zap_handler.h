// The ZAP handler (ZeroMQ RFC 27) that makes a CURVE client allowlist work (escd's, esc-proxy's two):
// libzmq asks it, over inproc://zeromq.zap.01 in the socket's context, whether a client that completed the
// CURVE handshake may connect; it answers 200 for listed public keys and 400 for all others.
// Written here rather than taken from czmq's zauth because ZAP is per context and escd's sockets
// live in a cppzmq context, not in czmq's; the protocol is six frames each way.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace escd::daemon {

class ZapHandler {
 public:
  // Binds the ZAP endpoint in `context` (before any socket that needs it accepts connections) and
  // starts the thread. `allowed`: Z85 public key -> client name (for the log). `peers`, `owner`
  // and `list` name them in the log: a "subscriber" not in "escd"'s "client" allowlist, or a
  // "publisher" not in "esc-proxy"'s "publisher" allowlist.
  ZapHandler(zmq::context_t& context, std::map<std::string, std::string> allowed, std::string peers = "subscriber",
             std::string owner = "escd", std::string list = "client");
  ~ZapHandler();  // stops and joins the thread

  uint64_t accepted() const { return accepted_.load(); }
  uint64_t denied() const { return denied_.load(); }

 private:
  void run();

  std::map<std::string, std::string> allowed_;
  std::string peers_, owner_, list_;
  std::unique_ptr<zmq::socket_t> socket_;  // REP on inproc://zeromq.zap.01; used by the thread only
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> accepted_{0}, denied_{0};
  std::thread thread_;
};

}  // namespace escd::daemon
