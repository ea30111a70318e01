// esc-mqtt's loop: escd's messages from every [[escd]] (one SUB socket each, ZeroMQ reconnecting by
// itself) through their SourceBridge onto the broker (MqttClient, reconnecting with backoff). On
// every new broker connection, and when Home Assistant announces itself online, the whole retained
// state goes out again: esc-mqtt's availability, then each escd's discovery configs, states and
// availability; retained configs that a previous run left and this one does not want are cleared. On SIGTERM it publishes "offline" itself (a clean disconnect sends no will).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "mqtt_client.h"
#include "mqtt_options.h"
#include "mqtt_source.h"
#include "mqtt_stale_configs.h"

namespace escd::daemon {

class MqttBridge {
 public:
  // Connects the SUB sockets (throws naming a key file or endpoint) and prepares the MQTT client.
  MqttBridge(const MqttBridgeOptions& options, const std::string& version);
  ~MqttBridge();
  // Runs until `stop` becomes true, then stop(); returns the exit code. Throws on a failure of
  // ZeroMQ (the caller then calls stop()).
  int run(const std::atomic<bool>& stop);
  // Publishes esc-mqtt's "offline" and disconnects (mqtt_client.h: MqttClient::stop).
  void stop();

 private:
  void send(const std::vector<Publication>& messages);
  void send_everything();
  // Clears the retained discovery configs that no escd wants any more (mqtt_stale_configs.h).
  void sweep_stale_configs(SourceBridge::Clock::time_point now);
  std::string status() const;

  MqttBridgeOptions options_;
  MqttTopics topics_;
  zmq::context_t context_{1};
  std::vector<zmq::socket_t> sockets_;
  std::vector<SourceBridge> sources_;
  std::atomic<bool> home_assistant_online_{false};  // set on the client's thread
  std::unique_ptr<StaleConfigSweep> sweep_;  // with discovery only
  std::unique_ptr<MqttClient> client_;
};

}  // namespace escd::daemon
