// One escd as esc-mqtt sees it: what escd's messages become on MQTT, and when escd counts as
// gone. Pure state, no sockets: the caller feeds it escd's messages and the time, and sends what it
// returns (mqtt_bridge.h).
//
//   esc.health         the models and their labels: discovery configs (again when they change),
//                      every class state, availability "online"; a smaller uptime than before means
//                      escd restarted, and the events it had open are over (OFF)
//   esc.event.<model>  escd's event as it is on <model>/event, and ON/OFF on <model>/class/<label>
//   esc.scores.<model> the top label on <model>/top: at once when it changes, else at most every
//                      top_interval
//   esc.level          <source>/level, at most every level_interval
//   silence            no message for offline_after: availability "offline", open events OFF
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "mqtt_discovery.h"
#include "mqtt_options.h"

namespace escd::daemon {

// The latest message of a frequent kind and when it went out.
struct ThrottledMessage {
  std::string payload, key;
  std::chrono::steady_clock::time_point sent{};
  // Takes `payload` (true: send it) if `key` changed (the top label) or `interval` has passed.
  bool offer(std::string next, const std::string& next_key, std::chrono::duration<double> interval,
             std::chrono::steady_clock::time_point now);
};

class SourceBridge {
 public:
  using Clock = std::chrono::steady_clock;

  SourceBridge(const MqttSource& source, const MqttBridgeOptions& options, std::string sw_version);

  std::vector<Publication> on_message(const std::string& topic, const nlohmann::json& body, Clock::time_point now);
  std::vector<Publication> on_tick(Clock::time_point now);
  // Everything retained, as it stands: for a new broker connection (the broker may have lost it
  // all) and for Home Assistant coming online.
  std::vector<Publication> full_state() const;

  const std::string& name() const { return source_.name; }
  bool online() const { return online_; }
  // The models and labels escd last reported (empty before its first health message).
  const ModelLabels& models() const { return models_; }
  // The discovery config topics it publishes for them (empty before the first health message).
  const std::set<std::string>& config_topics() const { return config_topics_; }

 private:
  std::vector<Publication> discovery() const;
  std::vector<Publication> class_states() const;
  Publication availability() const;
  void on_health(const nlohmann::json& body, std::vector<Publication>& out);
  void on_event(const std::string& model, const nlohmann::json& body, std::vector<Publication>& out);
  void on_scores(const std::string& model, const nlohmann::json& body, Clock::time_point now, std::vector<Publication>& out);
  void on_level(const nlohmann::json& body, Clock::time_point now, std::vector<Publication>& out);
  // Every open event OFF and forgotten (escd restarted or went silent).
  void close_events(std::vector<Publication>& out);

  MqttSource source_;
  MqttTopics topics_;
  bool discovery_enabled_;
  std::string discovery_prefix_;
  std::vector<std::string> classes_;
  std::chrono::duration<double> offline_after_, level_interval_, top_interval_;
  DiscoveryDevice device_;

  ModelLabels models_;
  std::set<std::string> config_topics_;               // discovery configs published for models_
  std::map<std::string, std::set<std::string>> open_;  // model -> labels with an open event
  bool online_ = false;
  Clock::time_point last_seen_{};
  double last_uptime_ = -1;
  std::map<std::string, ThrottledMessage> top_;  // by model
  ThrottledMessage level_;
};

}  // namespace escd::daemon
