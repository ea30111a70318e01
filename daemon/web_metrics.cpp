#include "web_metrics.h"

#include <fmt/format.h>

#include <tuple>

namespace escd::daemon {
namespace {

// A label value with \, " and newline escaped, as the format requires.
std::string escaped(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

class Exposition {
 public:
  explicit Exposition(std::string source) : source_(escaped(source)) {}
  // Starts a metric family: HELP and TYPE once.
  void family(const std::string& name, const char* type, const std::string& help) {
    text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  // One sample; `labels` are extra name="value" pairs after source.
  void sample(const std::string& name, double value, const std::map<std::string, std::string>& labels = {}) {
    std::string l = "source=\"" + source_ + "\"";
    for (const auto& [k, v] : labels) l += "," + k + "=\"" + escaped(v) + "\"";
    text_ += fmt::format("{}{{{}}} {}\n", name, l, value);
  }
  const std::string& text() const { return text_; }

 private:
  std::string source_, text_;
};

// Fields of escd's messages, read without trusting their types: a missing or wrong one reads as 0,
// false or empty.
double number(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return 0.0;
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : 0.0;
}
bool flag(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return false;
  const auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}
nlohmann::json object_at(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nlohmann::json::object();
  const auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : nlohmann::json::object();
}

}  // namespace

std::string prometheus_text(const MetricsView& v) {
  Exposition out(v.source);
  out.family("escd_up", "gauge", "1 while escd is heard from, else 0");
  out.sample("escd_up", v.up ? 1 : 0);
  out.family("escd_messages_total", "counter", "Messages received from escd");
  out.sample("escd_messages_total", static_cast<double>(v.messages));
  out.family("escd_malformed_messages_total", "counter", "Messages from escd that were not JSON objects");
  out.sample("escd_malformed_messages_total", static_cast<double>(v.malformed));
  out.family("escd_scores_total", "counter", "Score messages (one per hop) received, per model");
  for (const auto& [model, n] : v.scores) out.sample("escd_scores_total", static_cast<double>(n), {{"model", model}});
  out.family("escd_events_total", "counter", "Events started, per model and class");
  for (const auto& [key, n] : v.starts) {
    out.sample("escd_events_total", static_cast<double>(n), {{"model", key.first}, {"label", key.second}});
  }
  out.family("escd_event_open", "gauge", "1 while an event of the class is open, per model and class");
  for (const auto& [key, n] : v.starts) {
    out.sample("escd_event_open", v.open.count(key) ? 1 : 0, {{"model", key.first}, {"label", key.second}});
  }
  out.family("escd_web_streams_open", "gauge", "Live views (Server-Sent Event streams) open now");
  out.sample("escd_web_streams_open", static_cast<double>(v.streams));
  out.family("escd_web_streams_total", "counter", "Live views opened");
  out.sample("escd_web_streams_total", static_cast<double>(v.streams_total));
  if (v.level.is_object()) {
    out.family("escd_level_dbfs", "gauge", "Input level of the last hop, dBFS");
    out.sample("escd_level_dbfs", number(v.level, "dbfs"));
  }
  if (!v.health.is_object()) return out.text();
  const nlohmann::json& h = v.health;
  out.family("escd_uptime_seconds", "gauge", "escd's uptime");
  out.sample("escd_uptime_seconds", number(h, "uptime_s"));
  out.family("escd_cpu_usage_ratio", "gauge", "escd's CPU time per wall-clock time since its last health report (1 = one core)");
  out.sample("escd_cpu_usage_ratio", number(h, "cpu_percent") / 100.0);
  const nlohmann::json input = object_at(h, "input");
  out.family("escd_input_connected", "gauge", "1 while the audio input is connected");
  out.sample("escd_input_connected", flag(input, "connected") ? 1 : 0);
  out.family("escd_input_overflows_total", "counter", "Audio lost to overflows: in the device, or in escd's ring");
  out.sample("escd_input_overflows_total", number(input, "device_overflows"), {{"kind", "device"}});
  out.sample("escd_input_overflows_total", number(input, "ring_overflows"), {{"kind", "ring"}});
  out.family("escd_input_reconnects_total", "counter", "Times the audio input was reopened");
  out.sample("escd_input_reconnects_total", number(input, "reconnects"));
  out.family("escd_input_gaps_total", "counter", "Gaps in the audio (discontinuities); the windows restart after each");
  out.sample("escd_input_gaps_total", number(input, "discontinuities"));
  const nlohmann::json models = object_at(h, "models");
  out.family("escd_windows_total", "counter", "Windows classified, per model");
  for (const auto& [model, m] : models.items()) out.sample("escd_windows_total", number(m, "windows"), {{"model", model}});
  // Each family's samples together, as the format requires. The ensemble has no latency of its own.
  for (const auto& [family, p50, p99, help] :
       {std::tuple{"escd_window_latency_seconds", "window_us_p50", "window_us_p99",
                   "Time to step the frame that completes a window, percentiles per model"},
        std::tuple{"escd_frame_latency_seconds", "frame_us_p50", "frame_us_p99", "Time to step one frame, percentiles per model"}}) {
    out.family(family, "summary", help);
    for (const auto& [model, m] : models.items()) {
      if (!m.is_object() || !m.contains(p50)) continue;
      out.sample(family, number(m, p50) * 1e-6, {{"model", model}, {"quantile", "0.5"}});
      out.sample(family, number(m, p99) * 1e-6, {{"model", model}, {"quantile", "0.99"}});
    }
  }
  if (const auto r = h.find("recordings"); r != h.end() && r->is_object()) {
    out.family("escd_recordings_total", "counter", "Event recordings, by outcome");
    for (const char* outcome : {"written", "failed", "dropped"}) {
      out.sample("escd_recordings_total", number(*r, outcome), {{"outcome", outcome}});
    }
  }
  return out.text();
}

}  // namespace escd::daemon
