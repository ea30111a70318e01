#include "mqtt_bridge.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>

#include "escd_subscription.h"
#include "service_notify.h"
#include "util/toml_json.h"

namespace escd::daemon {

MqttBridge::MqttBridge(const MqttBridgeOptions& options, const std::string& version)
    : options_(options), topics_(options.topic_prefix) {
  for (const MqttSource& source : options.sources) {
    try {
      sockets_.push_back(subscribe_to_escd(context_, source.escd, {"esc."}));
    } catch (const std::exception& e) {
      throw ConfigError("[[escd]] '" + source.name + "': " + e.what());
    }
    sources_.emplace_back(source, options, version);
  }
  client_ = std::make_unique<MqttClient>(options.broker, Publication{topics_.bridge_availability(), kOffline, 1, true});
  if (options.discovery) {
    std::vector<std::string> nodes;
    for (const MqttSource& source : options.sources) nodes.push_back(topics_.node(source.name));
    sweep_ = std::make_unique<StaleConfigSweep>(options.discovery_prefix, nodes);
    for (const std::string& filter : sweep_->filters()) client_->subscribe(filter);
    client_->on_connected = [this] { sweep_->start(StaleConfigSweep::Clock::now()); };
    // Home Assistant says "online" here when it starts: discovery configs go out again.
    const std::string status = options.discovery_prefix + "/status";
    client_->subscribe(status);
    client_->on_message = [this, status](const std::string& topic, const std::string& payload, bool retained) {
      if (topic == status) {
        if (payload == kOnline) home_assistant_online_ = true;
      } else {
        sweep_->on_message(topic, payload, retained);
      }
    };
  }
}

MqttBridge::~MqttBridge() = default;

void MqttBridge::send(const std::vector<Publication>& messages) {
  for (const Publication& m : messages) client_->publish(m);
}

void MqttBridge::send_everything() {
  client_->publish({topics_.bridge_availability(), kOnline, 1, true});
  for (const SourceBridge& source : sources_) send(source.full_state());
}

void MqttBridge::sweep_stale_configs(SourceBridge::Clock::time_point now) {
  if (!sweep_) return;
  const StaleConfigSweep::Step step = sweep_->finish(now, [this](size_t i) -> std::optional<std::set<std::string>> {
    if (sources_[i].models().empty()) return std::nullopt;  // escd not heard yet: nothing is stale
    return sources_[i].config_topics();
  });
  for (const Publication& p : step.clear) spdlog::info("discovery config {} is not wanted any more: cleared", p.topic);
  send(step.clear);
  for (const std::string& filter : step.unsubscribe) client_->unsubscribe(filter);
}

std::string MqttBridge::status() const {
  std::string s = "MQTT " + client_->address() + (client_->connected() ? " connected" : " reconnecting");
  for (const SourceBridge& source : sources_) s += "; escd '" + source.name() + "' " + (source.online() ? kOnline : kOffline);
  return s;
}

int MqttBridge::run(const std::atomic<bool>& stop) {
  client_->start();
  notify_ready(status());
  WatchdogFeeder watchdog;
  uint64_t synced = 0;  // the broker connection whose retained state was sent
  std::string last_status;
  std::vector<zmq::pollitem_t> items;
  for (zmq::socket_t& socket : sockets_) items.push_back({socket.handle(), 0, ZMQ_POLLIN, 0});
  while (!stop.load()) {
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(200));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;  // a signal: the loop checks `stop`; anything else: main stops
    }
    const auto now = SourceBridge::Clock::now();
    for (size_t i = 0; i < sockets_.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      while (const auto message = receive_escd_message(sockets_[i], zmq::recv_flags::dontwait)) {
        if (message->body.is_discarded()) {
          spdlog::warn("escd '{}': {}: payload is not JSON", sources_[i].name(), message->topic);
          continue;
        }
        send(sources_[i].on_message(message->topic, message->body, now));
      }
    }
    for (SourceBridge& source : sources_) send(source.on_tick(now));
    const uint64_t connection = client_->connections();
    if (connection != synced || home_assistant_online_.exchange(false)) {
      synced = connection;
      if (client_->connected()) send_everything();
    }
    sweep_stale_configs(now);
    watchdog.feed();
    if (std::string s = status(); s != last_status) {
      notify_status(s);
      last_status = std::move(s);
    }
  }
  this->stop();
  return 0;
}

void MqttBridge::stop() {
  spdlog::info("stopping: esc-mqtt's availability goes offline");
  const Publication offline{topics_.bridge_availability(), kOffline, 1, true};
  client_->stop(&offline);
}

}  // namespace escd::daemon
