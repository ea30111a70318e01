#include "mqtt_discovery.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "models/common/label_set.h"
#include "util/fnv_hash.h"

namespace escd::daemon {
namespace {

using Json = nlohmann::json;

// "crying_baby" -> "Crying baby": how Home Assistant shows the entity.
std::string display_name(const std::string& label) {
  std::string out = label;
  std::replace(out.begin(), out.end(), '_', ' ');
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

// The parts every entity of one escd shares: its device, both availability topics (esc-mqtt's
// own and escd's: an entity is available only while both are online), where the config came from.
Json common(const MqttTopics& topics, const DiscoveryDevice& device, const std::string& unique_id,
            const std::string& name, const std::string& state_topic) {
  return {{"name", name},
          {"unique_id", unique_id},
          {"state_topic", state_topic},
          {"availability",
           Json::array({{{"topic", topics.bridge_availability()}, {"payload_available", kOnline},
                         {"payload_not_available", kOffline}},
                        {{"topic", topics.availability(device.source)}, {"payload_available", kOnline},
                         {"payload_not_available", kOffline}}})},
          {"availability_mode", "all"},
          {"device",
           {{"identifiers", Json::array({topics.node(device.source)})},
            {"name", device.device_name},
            {"manufacturer", "escd"},
            {"model", "environmental-sound classifier"},
            {"sw_version", device.sw_version}}},
          {"origin", {{"name", "esc-mqtt"}, {"sw_version", device.sw_version}}}};
}

Publication config(const std::string& discovery_prefix, const char* component, const std::string& node,
                   const std::string& object, const Json& body) {
  return {discovery_prefix + "/" + component + "/" + node + "/" + object + "/config", body.dump(), 1, true};
}

}  // namespace

std::string topic_slug(const std::string& text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_';
  }
  return out;
}

std::string label_slug(const std::string& label) {
  const std::string slug = topic_slug(label);
  if (slug == label) return slug;
  Fnv1a hash;
  hash.feed(label.data(), label.size());
  return slug + "_" + hash.hex().substr(0, 6);
}

bool is_exposed(const std::string& label, const std::vector<std::string>& classes) {
  return label != kBackgroundLabel && (classes.empty() || std::find(classes.begin(), classes.end(), label) != classes.end());
}

std::vector<std::string> exposed_labels(const std::vector<std::string>& labels, const std::vector<std::string>& classes) {
  std::vector<std::string> out;
  for (const std::string& label : labels) {
    if (is_exposed(label, classes)) out.push_back(label);
  }
  return out;
}

std::vector<Publication> discovery_configs(const MqttTopics& topics, const std::string& discovery_prefix,
                                           const DiscoveryDevice& device, const ModelLabels& models,
                                           const std::vector<std::string>& classes) {
  const std::string node = topics.node(device.source);
  std::vector<Publication> out;
  for (const auto& [model, labels] : models) {
    const std::string m = topic_slug(model);
    // With several models each entity says whose it is.
    const std::string suffix = models.size() > 1 ? " (" + model + ")" : "";
    for (const std::string& label : exposed_labels(labels, classes)) {
      const std::string object = m + "_" + label_slug(label);
      Json body = common(topics, device, node + "_" + object, display_name(label) + suffix,
                         topics.class_state(device.source, model, label));
      body["payload_on"] = kOn;
      body["payload_off"] = kOff;
      body["device_class"] = "sound";
      body["qos"] = 1;
      out.push_back(config(discovery_prefix, "binary_sensor", node, object, body));
    }
    Json top = common(topics, device, node + "_" + m + "_top", "Heard" + suffix, topics.top(device.source, model));
    top["value_template"] = "{{ value_json.label }}";
    top["json_attributes_topic"] = topics.top(device.source, model);
    top["icon"] = "mdi:ear-hearing";
    out.push_back(config(discovery_prefix, "sensor", node, m + "_top", top));
  }
  Json level = common(topics, device, node + "_level", "Level", topics.level(device.source));
  level["value_template"] = "{{ value_json.dbfs }}";
  level["unit_of_measurement"] = "dBFS";
  level["state_class"] = "measurement";
  level["suggested_display_precision"] = 1;
  level["icon"] = "mdi:volume-high";
  out.push_back(config(discovery_prefix, "sensor", node, "level", level));
  return out;
}

}  // namespace escd::daemon
