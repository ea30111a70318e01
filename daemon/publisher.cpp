#include "publisher.h"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <zmq.hpp>

#include "connection_monitor.h"
#include "curve_keys.h"
#include "endpoint_scope.h"
#include "message_stamp.h"
#include "topic.h"
#include "zap_handler.h"

namespace escd::daemon {

namespace {

// Connected to an esc-proxy: the proxy is the CURVE server, escd a client with its own key pair.
void be_curve_client_of_proxy(zmq::socket_t& socket, const CurveKeypair& own, const std::string& proxy_key_file) {
  const CurveKeypair proxy = read_curve_key_file(proxy_key_file, /*need_secret=*/false);
  socket.set(zmq::sockopt::curve_serverkey, proxy.public_key);
  socket.set(zmq::sockopt::curve_publickey, own.public_key);
  socket.set(zmq::sockopt::curve_secretkey, own.secret_key);
}

}  // namespace

Publisher::Publisher(const PublisherEndpoint& where, const PublisherSecurity& security)
    : endpoint_(where.endpoint),
      source_(where.source),
      connected_to_proxy_(where.connect),
      curve_(!security.server_key_file.empty()),
      context_(std::make_unique<zmq::context_t>(1)) {
  if (connected_to_proxy_ && !security.client_keys_file.empty()) {
    throw std::runtime_error("--curve-client-keys with --proxy: the esc-proxy's allowlist decides who subscribes");
  }
  CurveKeypair own;
  if (curve_) {
    require_curve_support("--curve-server-key");
    own = read_curve_key_file(security.server_key_file, /*need_secret=*/true);
    if (connected_to_proxy_ && security.proxy_key_file.empty()) {
      throw std::runtime_error("--curve-server-key with --proxy needs --curve-proxy-key (the esc-proxy's public key)");
    }
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
  socket_->set(zmq::sockopt::sndhwm, where.send_hwm);
  socket_->set(zmq::sockopt::linger, 200);  // a short flush on shutdown, never a hang
  if (curve_ && connected_to_proxy_) {
    be_curve_client_of_proxy(*socket_, own, security.proxy_key_file);
  } else if (curve_) {
    socket_->set(zmq::sockopt::curve_server, true);
    socket_->set(zmq::sockopt::curve_secretkey, own.secret_key);
    socket_->set(zmq::sockopt::zap_domain, "escd");
  }
  monitor_ = std::make_unique<ConnectionMonitor>(*context_, *socket_);
  if (connected_to_proxy_) {
    // As a subscriber does: retry from 100 ms, backing off to 5 s while the proxy is away.
    socket_->set(zmq::sockopt::reconnect_ivl, 100);
    socket_->set(zmq::sockopt::reconnect_ivl_max, 5000);
    try {
      socket_->connect(where.endpoint);
    } catch (const zmq::error_t& e) {
      throw std::runtime_error("cannot connect to the proxy at " + where.endpoint + ": " + e.what());
    }
    spdlog::info("publishing as source '{}' through the esc-proxy at {}{}", source_, endpoint_,
                 curve_ ? " (CURVE)" : "");
    if (!curve_ && !is_local_only_endpoint(endpoint_)) {
      spdlog::warn("publishing to {} without CURVE: anyone on the way can read everything escd reports; give "
                   "--curve-server-key and --curve-proxy-key (README: Security)",
                   endpoint_);
    }
    return;
  }
  try {
    socket_->bind(where.endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot publish on " + where.endpoint + ": " + e.what());
  }
  endpoint_ = socket_->get(zmq::sockopt::last_endpoint);
  spdlog::info("publishing as source '{}' on {}", source_, endpoint_);
  if (curve_) {
    spdlog::info("CURVE on {}: subscribers need escd's public key {}", endpoint_, own.public_key);
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
  stamp_message(body, seq_[topic]++, stream_time, source_);
  const std::string payload = body.dump();
  const std::string name = with_source(topic, source_);
  try {
    const auto first = socket_->send(zmq::buffer(name), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
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
  if (connected_to_proxy_) out["proxy"] = endpoint_;
  if (zap_) out["allowlist"] = {{"admitted", zap_->accepted()}, {"refused", zap_->denied()}};
  return out;
}

}  // namespace escd::daemon
