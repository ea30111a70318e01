#include "mqtt_source.h"

#include <algorithm>
#include <spdlog/spdlog.h>

#include "topic.h"

namespace escd::daemon {
namespace {

using Json = nlohmann::json;

// The models escd's health lists, with their labels; a model without labels (an older escd) gets
// the configured classes, so that those still have binary sensors.
ModelLabels models_from_health(const Json& health, const std::vector<std::string>& classes) {
  ModelLabels out;
  const auto models = health.find("models");
  if (models == health.end() || !models->is_object()) return out;
  for (const auto& [name, model] : models->items()) {
    std::vector<std::string> labels;
    if (model.is_object() && model.contains("labels") && model["labels"].is_array()) {
      for (const Json& l : model["labels"]) {
        if (l.is_string()) labels.push_back(l.get<std::string>());
      }
    } else {
      labels = classes;
    }
    out.emplace_back(name, std::move(labels));
  }
  return out;
}

// escd's health while it waits for its audio input (daemon/wait_for_device.cpp): no models yet.
bool waiting_for_device(const Json& health) {
  const auto input = health.find("input");
  return input != health.end() && input->is_object() && input->value("waiting_for_device", false);
}

}  // namespace

bool ThrottledMessage::offer(std::string next, const std::string& next_key, std::chrono::duration<double> interval,
                             std::chrono::steady_clock::time_point now) {
  if (!payload.empty() && next_key == key && now - sent < interval) return false;
  payload = std::move(next);
  key = next_key;
  sent = now;
  return true;
}

SourceBridge::SourceBridge(const MqttSource& source, const MqttBridgeOptions& options, std::string sw_version)
    : source_(source),
      topics_(options.topic_prefix),
      discovery_enabled_(options.discovery),
      discovery_prefix_(options.discovery_prefix),
      classes_(options.classes),
      offline_after_(options.offline_after_s),
      level_interval_(options.level_interval_s),
      top_interval_(options.top_interval_s),
      device_{source.name, source.device_name.empty() ? "escd " + source.name : source.device_name,
              std::move(sw_version)} {}

std::vector<Publication> SourceBridge::discovery() const {
  if (!discovery_enabled_ || models_.empty()) return {};
  return discovery_configs(topics_, discovery_prefix_, device_, models_, classes_);
}

std::vector<Publication> SourceBridge::class_states() const {
  std::vector<Publication> out;
  for (const auto& [model, labels] : models_) {
    const auto open = open_.find(model);
    for (const std::string& label : exposed_labels(labels, classes_)) {
      const bool on = open != open_.end() && open->second.count(label) > 0;
      out.push_back({topics_.class_state(source_.name, model, label), on ? kOn : kOff, 1, true});
    }
  }
  return out;
}

Publication SourceBridge::availability() const {
  return {topics_.availability(source_.name), online_ ? kOnline : kOffline, 1, true};
}

std::vector<Publication> SourceBridge::on_message(const std::string& topic, const Json& body, Clock::time_point now) {
  std::vector<Publication> out;
  const auto parsed = parse_topic(topic);
  // Through an esc-proxy the stream carries every microphone and the proxy's own health: this
  // device is the one escd named by `source`.
  if (parsed && (parsed->kind == "proxy" || (!source_.source.empty() && parsed->source != source_.source))) return out;
  last_seen_ = now;
  if (!body.is_object()) return out;
  try {
    const std::string kind = parsed ? parsed->kind : "";
    if (kind == "health") {
      on_health(body, out);
    } else if (kind == "event") {
      on_event(parsed->model, body, out);
    } else if (kind == "scores") {
      on_scores(parsed->model, body, now, out);
    } else if (kind == "level") {
      on_level(body, now, out);
    }
  } catch (const Json::exception& e) {
    // A field of another type than escd writes (a different escd version, or not escd at all):
    // the message is dropped, never the bridge.
    spdlog::warn("escd '{}': {}: unexpected content ({}), dropped", source_.name, topic, e.what());
  }
  if (!online_) {
    online_ = true;
    spdlog::info("escd '{}' ({}): online", source_.name, source_.escd.endpoint);
    out.push_back(availability());
  }
  return out;
}

void SourceBridge::on_health(const Json& body, std::vector<Publication>& out) {
  const double uptime = body.value("uptime_s", 0.0);
  if (uptime < last_uptime_) {
    spdlog::info("escd '{}' restarted (uptime {:.1f} s): its open events are over", source_.name, uptime);
    close_events(out);
  }
  last_uptime_ = uptime;
  // An escd still waiting for its microphone reports no models: that says nothing about the
  // entities (deleting them would lose every Home Assistant customisation), so they stay.
  if (waiting_for_device(body)) return;
  ModelLabels models = models_from_health(body, classes_);
  if (models.empty() || models == models_) return;
  models_ = std::move(models);
  std::set<std::string> topics;
  for (Publication& p : discovery()) {
    topics.insert(p.topic);
    out.push_back(std::move(p));
  }
  // An entity whose model or class is gone: an empty retained config removes it.
  for (const std::string& old : config_topics_) {
    if (!topics.count(old)) out.push_back({old, "", 1, true});
  }
  config_topics_ = std::move(topics);
  const std::vector<Publication> states = class_states();
  out.insert(out.end(), states.begin(), states.end());
  spdlog::info("escd '{}': {} model(s), {} discovery config(s)", source_.name, models_.size(), config_topics_.size());
}

void SourceBridge::on_event(const std::string& model, const Json& body, std::vector<Publication>& out) {
  out.push_back({topics_.event(source_.name, model), body.dump(), 1, false});
  const std::string label = body.value("label", "");
  const std::string type = body.value("type", "");
  if (label.empty() || (type != "start" && type != "end")) return;
  if (type == "start") {
    open_[model].insert(label);
  } else {
    open_[model].erase(label);
  }
  if (is_exposed(label, classes_)) out.push_back({topics_.class_state(source_.name, model, label), type == "start" ? kOn : kOff, 1, true});
}

void SourceBridge::on_scores(const std::string& model, const Json& body, Clock::time_point now,
                             std::vector<Publication>& out) {
  const auto top = body.find("top");
  if (top == body.end() || !top->is_array() || top->empty() || !(*top)[0].is_object()) return;
  const bool background = body.value("background", false);
  Json state = {{"label", background ? std::string("background") : (*top)[0].value("label", "")},
                {"p", background ? body.value("background_p", 0.0) : (*top)[0].value("p", 0.0)},
                {"warming_up", body.value("warming_up", false)},
                {"background", background},
                {"t", body.value("t", 0.0)}};
  ThrottledMessage& last = top_[model];
  if (last.offer(state.dump(), state["label"].get<std::string>(), top_interval_, now)) {
    out.push_back({topics_.top(source_.name, model), last.payload, 0, true});
  }
}

void SourceBridge::on_level(const Json& body, Clock::time_point now, std::vector<Publication>& out) {
  const Json state = {{"dbfs", body.value("dbfs", -120.0)}, {"rms", body.value("rms", 0.0)},
                      {"peak", body.value("peak", 0.0)}, {"t", body.value("t", 0.0)}};
  if (level_.offer(state.dump(), "", level_interval_, now)) {
    out.push_back({topics_.level(source_.name), level_.payload, 0, true});
  }
}

void SourceBridge::close_events(std::vector<Publication>& out) {
  for (auto& [model, labels] : open_) {
    for (const std::string& label : labels) {
      if (is_exposed(label, classes_)) out.push_back({topics_.class_state(source_.name, model, label), kOff, 1, true});
    }
  }
  open_.clear();
}

std::vector<Publication> SourceBridge::on_tick(Clock::time_point now) {
  std::vector<Publication> out;
  if (!online_ || now - last_seen_ < offline_after_) return out;
  spdlog::warn("escd '{}' ({}): nothing for {:.1f} s: offline", source_.name, source_.escd.endpoint,
               offline_after_.count());
  online_ = false;
  close_events(out);
  out.push_back(availability());
  return out;
}

std::vector<Publication> SourceBridge::full_state() const {
  std::vector<Publication> out = discovery();
  const std::vector<Publication> states = class_states();
  out.insert(out.end(), states.begin(), states.end());
  for (const auto& [model, last] : top_) out.push_back({topics_.top(source_.name, model), last.payload, 0, true});
  if (!level_.payload.empty()) out.push_back({topics_.level(source_.name), level_.payload, 0, true});
  out.push_back(availability());
  return out;
}

}  // namespace escd::daemon
