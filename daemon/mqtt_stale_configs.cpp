#include "mqtt_stale_configs.h"

namespace escd::daemon {

StaleConfigSweep::StaleConfigSweep(std::string discovery_prefix, std::vector<std::string> nodes,
                                   std::chrono::milliseconds settle)
    : prefix_(std::move(discovery_prefix)), nodes_(std::move(nodes)), settle_(settle), state_(nodes_.size()) {
  for (const std::string& node : nodes_) filters_.push_back(prefix_ + "/+/" + node + "/+/config");
}

void StaleConfigSweep::start(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  started_ = now;
  for (Node& n : state_) n = Node{true, false, {}};
}

size_t StaleConfigSweep::node_of(const std::string& topic) const {
  const std::string head = prefix_ + "/";
  const std::string tail = "/config";
  if (topic.size() <= head.size() + tail.size() || topic.compare(0, head.size(), head) != 0 ||
      topic.compare(topic.size() - tail.size(), tail.size(), tail) != 0) {
    return nodes_.size();
  }
  // <component>/<node>/<object>
  const std::string middle = topic.substr(head.size(), topic.size() - head.size() - tail.size());
  const size_t first = middle.find('/');
  const size_t second = first == std::string::npos ? first : middle.find('/', first + 1);
  if (second == std::string::npos || middle.find('/', second + 1) != std::string::npos) return nodes_.size();
  const std::string node = middle.substr(first + 1, second - first - 1);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i] == node) return i;
  }
  return nodes_.size();
}

void StaleConfigSweep::on_message(const std::string& topic, const std::string& payload, bool retained) {
  const size_t i = node_of(topic);
  if (i == nodes_.size()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  Node& n = state_[i];
  if (!n.active) return;
  if (!retained) {
    n.live_seen = true;  // the broker sends the retained ones first: they are all here
  } else if (!n.live_seen && !payload.empty()) {
    n.retained.insert(topic);
  }
}

StaleConfigSweep::Step StaleConfigSweep::finish(Clock::time_point now, const Wanted& wanted) {
  Step step;
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < state_.size(); ++i) {
    Node& n = state_[i];
    if (!n.active || (!n.live_seen && now - started_ < settle_)) continue;
    const std::optional<std::set<std::string>> keep = wanted(i);
    if (!keep) continue;
    for (const std::string& topic : n.retained) {
      if (!keep->count(topic)) step.clear.push_back({topic, "", 1, true});
    }
    step.unsubscribe.push_back(filters_[i]);
    n = Node{};
  }
  return step;
}

}  // namespace escd::daemon
