#include "connection_monitor.h"

#include <zmq.h>

#include <cstring>
#include <zmq.hpp>

namespace escd::daemon {
namespace {

// One endpoint name per monitor: escd has one publisher, tests may create several in a process.
std::string monitor_endpoint(const void* socket) {
  return "inproc://escd-connection-monitor-" + std::to_string(reinterpret_cast<uintptr_t>(socket));
}

constexpr int kEvents = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_ACCEPT_FAILED | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                        ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                        ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

}  // namespace

ConnectionMonitor::ConnectionMonitor(zmq::context_t& context, zmq::socket_t& socket) : monitored_(socket) {
  const std::string endpoint = monitor_endpoint(socket.handle());
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), kEvents) != 0) {
    throw zmq::error_t();
  }
  events_ = std::make_unique<zmq::socket_t>(context, zmq::socket_type::pair);
  events_->set(zmq::sockopt::linger, 0);
  events_->connect(endpoint);
  thread_ = std::thread([this] { run(); });
}

ConnectionMonitor::~ConnectionMonitor() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  zmq_socket_monitor(monitored_.handle(), nullptr, 0);
}

void ConnectionMonitor::run() {
  zmq::pollitem_t item{events_->handle(), 0, ZMQ_POLLIN, 0};
  while (!stop_.load()) {
    if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
    // Two frames: 16-bit event and 32-bit value, then the endpoint's address.
    zmq::message_t header, address;
    if (!events_->recv(header, zmq::recv_flags::dontwait)) continue;
    if (header.more()) (void)events_->recv(address);
    if (header.size() < sizeof(uint16_t)) continue;
    uint16_t event = 0;
    std::memcpy(&event, header.data(), sizeof event);
    switch (event) {
      case ZMQ_EVENT_ACCEPTED: ++accepted_; break;
      case ZMQ_EVENT_CONNECTED: ++connected_; break;
      case ZMQ_EVENT_DISCONNECTED: ++closed_; break;
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: ++handshakes_; break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: ++auth_failures_; break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: ++protocol_failures_; break;
      case ZMQ_EVENT_ACCEPT_FAILED: ++accept_failures_; break;
      default: break;
    }
  }
  events_->close();
}

nlohmann::json ConnectionMonitor::stats() const {
  const uint64_t opened = accepted_.load() + connected_.load(), closed = closed_.load();
  return {{"open", opened >= closed ? opened - closed : 0},
          {"accepted", accepted_.load()},
          {"connected", connected_.load()},
          {"closed", closed},
          {"handshakes", handshakes_.load()},
          {"auth_failures", auth_failures_.load()},
          {"protocol_failures", protocol_failures_.load()},
          {"accept_failures", accept_failures_.load()}};
}

}  // namespace escd::daemon
