// What esc-mqtt puts on the broker, as pure functions: the topic of everything it publishes, and
// the Home Assistant MQTT discovery configs of one escd (a device with a binary sensor per class,
// a sensor for each model's top label and one for the level). docs/MQTT.md lists the topics.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace escd::daemon {

// One MQTT message to send.
struct Publication {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

inline constexpr const char* kOnline = "online";
inline constexpr const char* kOffline = "offline";
inline constexpr const char* kOn = "ON";
inline constexpr const char* kOff = "OFF";

// A label or name as a topic level and id part: lower case letters, digits and '_' only.
std::string topic_slug(const std::string& text);

// A class label as a topic level and entity id: its topic_slug when that is the label itself (all of
// ESC-50's), else the slug and a short hash of the label, so that the user's own labels that slug
// alike ("Kettle" and "kettle", or two names in another script) stay apart.
std::string label_slug(const std::string& label);

class MqttTopics {
 public:
  explicit MqttTopics(std::string prefix) : prefix_(std::move(prefix)) {}
  // esc-mqtt's own: "online" while connected, "offline" as its last will (retained).
  std::string bridge_availability() const { return prefix_ + "/bridge/availability"; }
  // escd's: "online" while it is heard from, "offline" after [bridge] offline_after_s of silence.
  std::string availability(const std::string& source) const { return prefix_ + "/" + source + "/availability"; }
  std::string level(const std::string& source) const { return prefix_ + "/" + source + "/level"; }
  std::string top(const std::string& source, const std::string& model) const { return model_base(source, model) + "/top"; }
  // escd's event messages as they are (start/end, label, score...).
  std::string event(const std::string& source, const std::string& model) const {
    return model_base(source, model) + "/event";
  }
  // ON while an event of that class is open, OFF otherwise (retained).
  std::string class_state(const std::string& source, const std::string& model, const std::string& label) const {
    return model_base(source, model) + "/class/" + label_slug(label);
  }
  // The Home Assistant node id and device identifier of one escd: "<prefix>_<source>", slugged.
  std::string node(const std::string& source) const { return topic_slug(prefix_ + "_" + source); }
  const std::string& prefix() const { return prefix_; }

 private:
  std::string model_base(const std::string& source, const std::string& model) const {
    return prefix_ + "/" + source + "/" + topic_slug(model);
  }
  std::string prefix_;
};

// The models one escd runs, each with its class labels (from its esc.health), in escd's order.
using ModelLabels = std::vector<std::pair<std::string, std::vector<std::string>>>;

struct DiscoveryDevice {
  std::string source;       // the [[escd]] name
  std::string device_name;  // shown in Home Assistant
  std::string sw_version;   // esc-mqtt's version
};

// Whether a label gets a binary sensor: every label but "background" (it never starts an event),
// or only those in `classes` when that is not empty.
bool is_exposed(const std::string& label, const std::vector<std::string>& classes);
// The labels among `labels` that get one, in their order.
std::vector<std::string> exposed_labels(const std::vector<std::string>& labels, const std::vector<std::string>& classes);

// Every discovery config of one escd, retained with QoS 1, under
// <discovery_prefix>/<component>/<node>/<object>/config.
std::vector<Publication> discovery_configs(const MqttTopics& topics, const std::string& discovery_prefix,
                                           const DiscoveryDevice& device, const ModelLabels& models,
                                           const std::vector<std::string>& classes);

}  // namespace escd::daemon
