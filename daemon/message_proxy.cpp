#include "message_proxy.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>
#include <zmq.hpp>

#include "connection_monitor.h"
#include "curve_keys.h"
#include "endpoint_scope.h"
#include "message_stamp.h"
#include "topic.h"
#include "zap_handler.h"

namespace escd::daemon {
namespace {

constexpr const char* kHealthEndpoint = "inproc://esc-proxy-health";
constexpr const char* kControlEndpoint = "inproc://esc-proxy-control";

// One side's socket as a CURVE server with the proxy's key pair; with an allowlist, the side's own
// ZAP handler (in the side's own context) admits only the listed keys.
std::unique_ptr<ZapHandler> secure(zmq::context_t& context, zmq::socket_t& socket, const CurveKeypair& own,
                                   const std::string& allowlist_file, const std::string& peers) {
  socket.set(zmq::sockopt::curve_server, true);
  socket.set(zmq::sockopt::curve_secretkey, own.secret_key);
  socket.set(zmq::sockopt::zap_domain, "esc-proxy");
  if (allowlist_file.empty()) {
    spdlog::warn("CURVE without an allowlist for {}s: traffic is encrypted, but any {} that knows the proxy's public "
                 "key is let in",
                 peers, peers);
    return nullptr;
  }
  auto allowed = read_curve_client_keys(allowlist_file);
  spdlog::info("CURVE: {} {} key(s) allowed from {}", allowed.size(), peers, allowlist_file);
  return std::make_unique<ZapHandler>(context, std::move(allowed), peers, "esc-proxy", peers == "publisher" ? "publisher" : "client");
}

std::string bind_side(zmq::socket_t& socket, const std::string& endpoint, const std::string& what) {
  try {
    socket.bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot bind the " + what + " endpoint " + endpoint + ": " + e.what());
  }
  return socket.get(zmq::sockopt::last_endpoint);
}

}  // namespace

MessageProxy::MessageProxy(const ProxyOptions& options)
    : options_(options),
      publishers_context_(std::make_unique<zmq::context_t>(1)),
      subscribers_context_(std::make_unique<zmq::context_t>(1)),
      started_(std::chrono::steady_clock::now()),
      last_health_(started_) {
  if (!is_source_name(options_.name)) {
    throw std::runtime_error("--name: expected 1-64 characters of A-Z a-z 0-9 _ - (it ends the proxy's topic), got '" +
                             options_.name + "'");
  }
  xsub_ = std::make_unique<zmq::socket_t>(*publishers_context_, zmq::socket_type::xsub);
  xpub_ = std::make_unique<zmq::socket_t>(*subscribers_context_, zmq::socket_type::xpub);
  for (auto* socket : {xsub_.get(), xpub_.get()}) {
    socket->set(zmq::sockopt::sndhwm, options_.hwm);
    socket->set(zmq::sockopt::rcvhwm, options_.hwm);
    socket->set(zmq::sockopt::linger, 0);
  }
  if (!options_.server_key.empty()) {
    require_curve_support("--curve-server-key");
    const CurveKeypair own = read_curve_key_file(options_.server_key, /*need_secret=*/true);
    publishers_zap_ = secure(*publishers_context_, *xsub_, own, options_.publisher_keys, "publisher");
    subscribers_zap_ = secure(*subscribers_context_, *xpub_, own, options_.subscriber_keys, "subscriber");
    spdlog::info("CURVE on both sides: escd (--curve-proxy-key) and subscribers (--curve-server-key) need the proxy's "
                 "public key {}",
                 own.public_key);
  } else if (!options_.publisher_keys.empty() || !options_.subscriber_keys.empty()) {
    throw std::runtime_error("--curve-publisher-keys and --curve-client-keys need --curve-server-key (the proxy's own "
                             "key pair)");
  }
  publishers_monitor_ = std::make_unique<ConnectionMonitor>(*publishers_context_, *xsub_);
  subscribers_monitor_ = std::make_unique<ConnectionMonitor>(*subscribers_context_, *xpub_);
  publishers_endpoint_ = bind_side(*xsub_, options_.publishers, "publishers'");
  subscribers_endpoint_ = bind_side(*xpub_, options_.subscribers, "subscribers'");
  if (options_.server_key.empty()) {
    for (const auto& endpoint : {publishers_endpoint_, subscribers_endpoint_}) {
      if (!is_local_only_endpoint(endpoint)) {
        spdlog::warn("{} without CURVE: anyone who can reach it can publish or read everything (README: Security)",
                     endpoint);
      }
    }
  }
  // The proxy's own health joins the stream on the escd side, over inproc (no handshake, no ZAP).
  xsub_->bind(kHealthEndpoint);
  health_socket_ = std::make_unique<zmq::socket_t>(*publishers_context_, zmq::socket_type::pub);
  health_socket_->set(zmq::sockopt::linger, 0);
  health_socket_->connect(kHealthEndpoint);

  steer_ = std::make_unique<zmq::socket_t>(*subscribers_context_, zmq::socket_type::pair);
  steer_->bind(kControlEndpoint);
  control_ = std::make_unique<zmq::socket_t>(*subscribers_context_, zmq::socket_type::pair);
  control_->set(zmq::sockopt::linger, 0);
  control_->connect(kControlEndpoint);
  forwarder_ = std::thread([this] {
    // Signals are the owner's loop's: one landing here would end zmq_proxy_steerable with EINTR.
    sigset_t signals;
    sigfillset(&signals);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    // Returns on TERMINATE (from the destructor); the sockets are the forwarder's until then.
    if (zmq_proxy_steerable(xsub_->handle(), xpub_->handle(), nullptr, steer_->handle()) != 0) {
      spdlog::error("the forwarder stopped: {}", zmq_strerror(zmq_errno()));
    }
    forwarding_ = false;
  });
  spdlog::info("esc-proxy '{}': escd instances publish to {}, subscribers connect to {}", options_.name,
               publishers_endpoint_, subscribers_endpoint_);
}

MessageProxy::~MessageProxy() {
  if (forwarder_.joinable()) {
    // A forwarder that already returned reads nothing; one that is stuck is systemd's to kill.
    if (forwarding_.load()) (void)control_->send(zmq::str_buffer("TERMINATE"), zmq::send_flags::dontwait);
    forwarder_.join();
  }
}

std::optional<ProxyTraffic> MessageProxy::traffic(std::chrono::milliseconds timeout) {
  if (!forwarding_.load()) return std::nullopt;
  std::vector<uint64_t> counters;
  try {
    // A reply that came after an earlier call gave up would be read as this one's: drop it first.
    for (zmq::message_t stale; control_->recv(stale, zmq::recv_flags::dontwait);) {
    }
    // Never blocks: requests a stuck forwarder leaves unread must not fill the pipe and hang us.
    if (!control_->send(zmq::str_buffer("STATISTICS"), zmq::send_flags::dontwait)) return std::nullopt;
    // Eight counters: messages and bytes in and out of the escd side, then of the subscribers' side.
    control_->set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
    for (zmq::message_t frame; counters.size() < 8;) {
      if (!control_->recv(frame)) return std::nullopt;
      if (frame.size() != sizeof(uint64_t)) return std::nullopt;
      uint64_t value = 0;
      std::memcpy(&value, frame.data(), sizeof value);
      counters.push_back(value);
      if (!frame.more()) break;
    }
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    return std::nullopt;  // a signal (SIGTERM) while waiting: the owner's loop looks at why
  }
  if (counters.size() != 8) return std::nullopt;
  return ProxyTraffic{counters[0], counters[1], counters[4]};
}

std::optional<nlohmann::json> MessageProxy::publish_health() {
  const auto now = std::chrono::steady_clock::now();
  const auto counts = traffic();
  if (!counts) return std::nullopt;
  const double seconds = std::chrono::duration<double>(now - last_health_).count();
  const auto rate = [seconds](uint64_t now_count, uint64_t before) {
    return seconds > 0 ? static_cast<double>(now_count - before) / seconds : 0.0;
  };
  nlohmann::json body = {
      {"messages", counts->messages},
      {"bytes", counts->bytes},
      {"subscriptions", counts->subscriptions},
      {"messages_per_s", rate(counts->messages, last_traffic_.messages)},
      {"bytes_per_s", rate(counts->bytes, last_traffic_.bytes)},
      {"publishers", {{"endpoint", publishers_endpoint_}, {"connections", publishers_monitor_->stats()}}},
      {"subscribers", {{"endpoint", subscribers_endpoint_}, {"connections", subscribers_monitor_->stats()}}},
      {"curve", !options_.server_key.empty()},
      {"uptime_s", std::chrono::duration<double>(now - started_).count()}};
  if (publishers_zap_) {
    body["publishers"]["allowlist"] = {{"admitted", publishers_zap_->accepted()}, {"refused", publishers_zap_->denied()}};
  }
  if (subscribers_zap_) {
    body["subscribers"]["allowlist"] = {{"admitted", subscribers_zap_->accepted()}, {"refused", subscribers_zap_->denied()}};
  }
  last_traffic_ = *counts;
  last_health_ = now;
  nlohmann::json message = body;
  stamp_message(message, health_seq_++, std::chrono::duration<double>(now - started_).count(), options_.name);
  const std::string topic = topic_name({"proxy", "", options_.name});
  const std::string payload = message.dump();
  if (!health_socket_->send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait) ||
      !health_socket_->send(zmq::buffer(payload), zmq::send_flags::dontwait)) {
    spdlog::debug("esc.proxy not sent: the forwarder's inproc queue is full");
  }
  return body;
}

}  // namespace escd::daemon
