#include "web_state.h"

#include "topic.h"
#include "web_metrics.h"

#include <cmath>
#include <stdexcept>

namespace escd::daemon {
namespace {

// Messages kept for streams that fall behind: about a minute of one model's scores and levels.
constexpr size_t kHistory = 512;
// Spectrogram a new view starts with.
constexpr double kSpectrogramSeconds = 30.0;

}  // namespace

WebState::WebState(std::string name, std::string endpoint, std::chrono::milliseconds offline_after)
    : name_(std::move(name)), endpoint_(std::move(endpoint)), offline_after_(offline_after) {}

nlohmann::json WebState::source_json() const {
  return {{"name", name_}, {"endpoint", endpoint_}, {"connected", connected_}};
}

void WebState::publish(const std::string& event, const nlohmann::json& data) {
  history_.push_back({++seq_, event, data.dump()});
  if (history_.size() > kHistory) history_.pop_front();
  changed_.notify_all();
}

void WebState::keep_columns(const nlohmann::json& body) {
  const auto columns = body.find("columns");
  const double column_s = body.value("column_s", 0.0);
  if (columns == body.end() || !columns->is_array() || !(column_s > 0)) return;
  spectrogram_ = body;
  spectrogram_.erase("columns");
  for (const auto& c : *columns) columns_.push_back(c);
  const auto keep = static_cast<size_t>(std::ceil(kSpectrogramSeconds / column_s));
  while (columns_.size() > keep) columns_.pop_front();
}

void WebState::on_message(const std::string& topic, const nlohmann::json& body, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  ++messages_;
  last_message_ = now;
  if (!connected_) {
    connected_ = true;
    publish("source", source_json());
  }
  try {
    if (!body.is_object()) throw std::invalid_argument("not a JSON object");
    apply(topic, body);
  } catch (const std::exception&) {  // a field of the wrong type: counted, never fatal
    ++malformed_;
  }
}

void WebState::apply(const std::string& name, const nlohmann::json& body) {
  const std::string topic = stream_of(name);  // the source is the one escd this page shows
  const std::string model = body.value("model", "");
  if (topic.rfind("esc.scores.", 0) == 0) {
    scores_[model] = body;
    ++scores_received_[model];
    publish("scores", body);
  } else if (topic.rfind("esc.event.", 0) == 0) {
    const std::string label = body.value("label", "");
    if (body.value("type", "") == "start") {
      open_[{model, label}] = body;
      ++event_starts_[{model, label}];
    } else {
      open_.erase({model, label});
    }
    publish("event", body);
  } else if (topic == "esc.level") {
    level_ = body;
    publish("level", body);
  } else if (topic == "esc.health") {
    health_ = body;
    publish("health", body);
  } else if (topic == "esc.spectrogram") {
    keep_columns(body);
    publish("spectrogram", body);
  }
}

void WebState::tick(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (connected_ && now - last_message_ > offline_after_) {
    connected_ = false;
    open_.clear();  // nothing is known to be going on in a room escd no longer reports on
    publish("source", source_json());
  }
}

nlohmann::json WebState::snapshot(uint64_t* seq) const {
  std::lock_guard lock(mutex_);
  if (seq) *seq = seq_;
  return snapshot_locked();
}

nlohmann::json WebState::snapshot_locked() const {
  nlohmann::json open = nlohmann::json::array();
  for (const auto& [key, start] : open_) open.push_back(start);
  nlohmann::json scores = nlohmann::json::object();
  for (const auto& [model, body] : scores_) scores[model] = body;
  nlohmann::json spectrogram = nullptr;
  if (!columns_.empty()) {
    spectrogram = spectrogram_;
    spectrogram["columns"] = columns_;
  }
  return {{"source", source_json()}, {"scores", scores}, {"open_events", open}, {"level", level_}, {"health", health_},
          {"spectrogram", spectrogram}};
}

std::vector<LiveMessage> WebState::next(uint64_t& after, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return closed_ || seq_ > after; });
  std::vector<LiveMessage> out;
  if (!history_.empty() && history_.front().seq > after + 1) {
    // Messages this stream never saw are gone (an event's end among them): start it afresh.
    after = seq_;
    out.push_back({seq_, "snapshot", snapshot_locked().dump()});
    return out;
  }
  for (const LiveMessage& m : history_) {
    if (m.seq > after) out.push_back(m);
  }
  if (!out.empty()) after = out.back().seq;
  return out;
}

void WebState::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  changed_.notify_all();
}

bool WebState::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

bool WebState::open_stream(size_t max) {
  std::lock_guard lock(mutex_);
  if (streams_ >= max) return false;
  ++streams_;
  ++streams_total_;
  return true;
}

void WebState::close_stream() {
  std::lock_guard lock(mutex_);
  --streams_;
}

std::string WebState::metrics() const {
  MetricsView v;
  {
    std::lock_guard lock(mutex_);
    v.source = name_;
    v.up = connected_;
    v.health = health_;
    v.level = level_;
    v.scores = scores_received_;
    v.starts = event_starts_;
    for (const auto& [key, start] : open_) v.open.insert(key);
    v.messages = messages_;
    v.malformed = malformed_;
    v.streams = streams_;
    v.streams_total = streams_total_;
  }
  return prometheus_text(v);
}

}  // namespace escd::daemon
