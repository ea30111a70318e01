#include "publisher.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>
#include <zmq.hpp>

#include "connection_monitor.h"
#include "curve_keys.h"
#include "endpoint_scope.h"
#include "zap_handler.h"

namespace escd::daemon {

Publisher::Publisher(const std::string& endpoint, int send_hwm, const PublisherSecurity& security)
    : endpoint_(endpoint), curve_(!security.server_key_file.empty()), context_(std::make_unique<zmq::context_t>(1)) {
  CurveKeypair server;
  if (curve_) {
    require_curve_support("--curve-server-key");
    server = read_curve_key_file(security.server_key_file, /*need_secret=*/true);
    // The handler must be bound before the socket accepts anyone: without one, libzmq lets every
    // client that knows the server key in.
    if (!security.client_keys_file.empty()) {
      auto allowed = read_curve_client_keys(security.client_keys_file);
      spdlog::info("CURVE: {} subscriber key(s) allowed from {}", allowed.size(), security.client_keys_file);
      zap_ = std::make_unique<ZapHandler>(*context_, std::move(allowed));
    }
  } else if (!security.client_keys_file.empty()) {
    throw std::runtime_error("--curve-client-keys needs --curve-server-key (escd's own key pair)");
  }
  socket_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::pub);
  socket_->set(zmq::sockopt::sndhwm, send_hwm);
  socket_->set(zmq::sockopt::linger, 200);  // a short flush on shutdown, never a hang
  if (curve_) {
    socket_->set(zmq::sockopt::curve_server, true);
    socket_->set(zmq::sockopt::curve_secretkey, server.secret_key);
    socket_->set(zmq::sockopt::zap_domain, "escd");
  }
  monitor_ = std::make_unique<ConnectionMonitor>(*context_, *socket_);
  try {
    socket_->bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot publish on " + endpoint + ": " + e.what());
  }
  endpoint_ = socket_->get(zmq::sockopt::last_endpoint);
  if (curve_) {
    spdlog::info("CURVE on {}: subscribers need escd's public key {}", endpoint_, server.public_key);
    if (!zap_) {
      spdlog::warn("CURVE without --curve-client-keys: traffic is encrypted, but any subscriber that knows "
                   "escd's public key may subscribe");
    }
  } else if (!is_local_only_endpoint(endpoint_)) {
    spdlog::warn("publishing on {} without CURVE: anyone who can reach this address can subscribe and read "
                 "everything escd reports; give --curve-server-key and --curve-client-keys (README: Security)",
                 endpoint_);
  }
}

// Members are destroyed in reverse order: the monitor stops before the socket closes, and the ZAP
// handler and the context go last.
Publisher::~Publisher() = default;

void Publisher::publish(const std::string& topic, nlohmann::json body, double stream_time) {
  body["seq"] = seq_[topic]++;
  body["t"] = stream_time;
  body["wall"] = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string payload = body.dump();
  try {
    const auto first = socket_->send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    const auto second = first ? socket_->send(zmq::buffer(payload), zmq::send_flags::dontwait) : first;
    if (first && second) {
      ++sent_;
    } else {
      ++failures_;
    }
  } catch (const zmq::error_t& e) {
    ++failures_;
    spdlog::warn("publish on {} failed: {}", topic, e.what());
  }
}

nlohmann::json Publisher::stats() const {
  nlohmann::json out = {{"sent", sent_}, {"send_failures", failures_}, {"curve", curve_}, {"connections", monitor_->stats()}};
  if (zap_) out["allowlist"] = {{"admitted", zap_->accepted()}, {"refused", zap_->denied()}};
  return out;
}

}  // namespace escd::daemon
