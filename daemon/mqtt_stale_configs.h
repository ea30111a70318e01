// Discovery configs a previous esc-mqtt left retained on the broker that this one no longer
// publishes (a class dropped from [homeassistant] classes, a model gone while esc-mqtt was down):
// on every connection esc-mqtt subscribes to <discovery_prefix>/+/<node>/+/config of each escd it
// bridges, collects the retained configs for a settle time (or until the first live message, which
// comes after every retained one), and, once that escd has said which configs it wants (its first
// health), clears the others with an empty retained message; then it unsubscribes. Pure state: the
// bridge feeds it the messages (on the MQTT thread) and the time (on its own), and sends what it returns.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mqtt_discovery.h"

namespace escd::daemon {

class StaleConfigSweep {
 public:
  using Clock = std::chrono::steady_clock;
  // The configs one node wants, or nullopt while that is not known yet (no health from its escd).
  using Wanted = std::function<std::optional<std::set<std::string>>(size_t node)>;

  StaleConfigSweep(std::string discovery_prefix, std::vector<std::string> nodes,
                   std::chrono::milliseconds settle = std::chrono::milliseconds(1000));

  // The subscription of each node, in the order of `nodes`.
  const std::vector<std::string>& filters() const { return filters_; }
  // A new connection: collect again from now on.
  void start(Clock::time_point now);
  // A message from the broker (any thread).
  void on_message(const std::string& topic, const std::string& payload, bool retained);

  struct Step {
    std::vector<Publication> clear;        // empty retained configs
    std::vector<std::string> unsubscribe;  // the filters of the nodes done
  };
  // The nodes settled whose wanted configs are known: their stale configs, and done.
  Step finish(Clock::time_point now, const Wanted& wanted);

 private:
  // The node whose config `topic` is (<prefix>/<component>/<node>/<object>/config), or nodes_.size().
  size_t node_of(const std::string& topic) const;

  struct Node {
    bool active = false, live_seen = false;
    std::set<std::string> retained;
  };
  std::string prefix_;
  std::vector<std::string> nodes_, filters_;
  std::chrono::milliseconds settle_;
  std::mutex mutex_;
  Clock::time_point started_{};
  std::vector<Node> state_;
};

}  // namespace escd::daemon
