#include "daemon_options.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>

#include "audio/raw_pcm_source.h"
#include "models/common/registry.h"
#include "util/toml_json.h"

namespace escd::daemon {
namespace {

using Json = nlohmann::json;
using Setter = std::function<void(DaemonOptions&, const Json&)>;

std::string type_error(const char* expected, const Json& v) { return std::string("expected ") + expected + ", got " + v.dump(); }

// One value of a config key into a field of its type.
void read_value(const Json& v, std::string& out) {
  if (!v.is_string()) throw ConfigError(type_error("a string", v));
  out = v.get<std::string>();
}
void read_value(const Json& v, int& out) {
  if (!v.is_number_integer()) throw ConfigError(type_error("an integer", v));
  out = v.get<int>();
}
void read_value(const Json& v, double& out) {
  if (!v.is_number()) throw ConfigError(type_error("a number", v));
  out = v.get<double>();
}
void read_value(const Json& v, bool& out) {
  if (!v.is_boolean()) throw ConfigError(type_error("true or false", v));
  out = v.get<bool>();
}
void read_value(const Json& v, std::vector<std::string>& out) {
  if (!v.is_array()) throw ConfigError(type_error("an array of strings", v));
  out.clear();
  for (const auto& s : v) {
    if (!s.is_string()) throw ConfigError(type_error("strings", s));
    out.push_back(s.get<std::string>());
  }
}

// Setters for a field of DaemonOptions, of its [events] and of its [recordings].
template <typename T>
Setter option(T DaemonOptions::*f) {
  return [f](DaemonOptions& o, const Json& v) { read_value(v, o.*f); };
}
template <typename T>
Setter event_option(T EventConfig::*f) {
  return [f](DaemonOptions& o, const Json& v) { read_value(v, o.events.*f); };
}
template <typename T>
Setter recording_option(T RecordingOptions::*f) {
  return [f](DaemonOptions& o, const Json& v) { read_value(v, o.recordings.*f); };
}

std::set<std::string> string_set(const Json& v) {
  if (!v.is_array()) throw ConfigError(type_error("an array of class names", v));
  std::set<std::string> out;
  for (const auto& s : v) {
    if (!s.is_string()) throw ConfigError(type_error("class names (strings)", s));
    out.insert(s.get<std::string>());
  }
  return out;
}

// [table] -> key -> setter. The layout of config/escd.toml.
const std::map<std::string, std::map<std::string, Setter>>& schema() {
  static const std::map<std::string, std::map<std::string, Setter>> tables = {
      {"daemon",
       {{"models",
         [](DaemonOptions& o, const Json& v) {
           if (v.is_array() && v.empty()) throw ConfigError(type_error("a non-empty array of model names", v));
           read_value(v, o.models);
         }},
        {"ensemble", option(&DaemonOptions::ensemble)},
        {"pub", option(&DaemonOptions::pub)},
        {"proxy", option(&DaemonOptions::proxy)},
        {"source", option(&DaemonOptions::source)},
        {"send_hwm", option(&DaemonOptions::send_hwm)},
        {"hop_ms", option(&DaemonOptions::hop_ms)},
        {"health_interval_s", option(&DaemonOptions::health_interval_s)},
        {"log_level", option(&DaemonOptions::log_level)},
        {"threads", option(&DaemonOptions::threads)}}},
      {"input",
       {{"device", option(&DaemonOptions::device)},
        {"file", option(&DaemonOptions::input)},
        {"format", option(&DaemonOptions::format)},
        {"rate", option(&DaemonOptions::rate)},
        {"channels", option(&DaemonOptions::channels)},
        {"fast", option(&DaemonOptions::fast)}}},
      {"scores", {{"top_k", option(&DaemonOptions::top_k)}, {"full", option(&DaemonOptions::full_scores)}}},
      {"spectrogram",
       {{"enabled", option(&DaemonOptions::spectrogram)},
        {"frames_per_column", option(&DaemonOptions::spectrogram_frames_per_column)}}},
      {"events",
       {{"threshold", event_option(&EventConfig::threshold)},
        {"off_margin", event_option(&EventConfig::off_margin)},
        {"min_hits", event_option(&EventConfig::min_hits)},
        {"hold_seconds", event_option(&EventConfig::hold_seconds)},
        {"background_threshold", event_option(&EventConfig::background_threshold)},
        {"include", [](DaemonOptions& o, const Json& v) { o.events.include = string_set(v); }},
        {"exclude", [](DaemonOptions& o, const Json& v) { o.events.exclude = string_set(v); }},
        {"thresholds", [](DaemonOptions& o, const Json& v) {
          if (!v.is_object()) throw ConfigError(type_error("a table of class = threshold", v));
          o.events.class_thresholds.clear();
          for (const auto& [k, t] : v.items()) {
            if (!t.is_number()) throw ConfigError("class '" + k + "': " + type_error("a number", t));
            o.events.class_thresholds[k] = t.get<double>();
          }
        }}}},
      {"recordings",
       {{"enabled", recording_option(&RecordingOptions::enabled)},
        {"directory", recording_option(&RecordingOptions::directory)},
        {"sample_rate", recording_option(&RecordingOptions::sample_rate)},
        {"pre_roll_s", recording_option(&RecordingOptions::pre_roll_s)},
        {"post_roll_s", recording_option(&RecordingOptions::post_roll_s)},
        {"max_event_s", recording_option(&RecordingOptions::max_event_s)},
        {"models", recording_option(&RecordingOptions::models)},
        {"max_age_days", recording_option(&RecordingOptions::max_age_days)},
        {"max_total_mb", recording_option(&RecordingOptions::max_total_mb)},
        {"max_files_per_class", recording_option(&RecordingOptions::max_files_per_class)}}},
      {"security",
       {{"curve_server_key", option(&DaemonOptions::curve_server_key)},
        {"curve_client_keys", option(&DaemonOptions::curve_client_keys)},
        {"curve_proxy_key", option(&DaemonOptions::curve_proxy_key)}}},
      {"models", {}},  // [models.<name>] checkpoint = "..." (handled below)
  };
  return tables;
}

// A model name escd has no architecture for; `where` names it, the message lists the ones escd has.
void require_known_model(const std::string& name, const std::string& where) {
  const std::vector<std::string> known = model_names();
  if (std::find(known.begin(), known.end(), name) != known.end()) return;
  throw ConfigError(where + ": no such model (escd has " + model_name_list() + ")");
}

void require_pcm_format(const std::string& format) {
  try {
    parse_pcm_format(format);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("format: ") + e.what());
  }
}

}  // namespace

void apply_config_file(DaemonOptions& options, const std::string& path) {
  const Json all = load_toml_file(path);
  options.config_path = path;
  apply_config(options, all, path);
}

void apply_config(DaemonOptions& options, const Json& all, const std::string& path) {
  for (const auto& [table, body] : all.items()) {
    const auto t = schema().find(table);
    if (t == schema().end() || !body.is_object()) {
      throw ConfigError(path + ": unknown table [" + table + "] (expected daemon, input, models, scores, spectrogram, events, recordings, security)");
    }
    for (const auto& [key, value] : body.items()) {
      const std::string where = path + ": [" + table + "] " + key + ": ";
      if (table == "models") {
        if (!value.is_object() || value.size() != 1 || !value.contains("checkpoint") || !value["checkpoint"].is_string()) {
          throw ConfigError(where + "expected a table [models." + key + "] with checkpoint = \"<file>\"");
        }
        options.checkpoints_by_model.push_back(key + "=" + value["checkpoint"].get<std::string>());
        continue;
      }
      const auto setter = t->second.find(key);
      if (setter == t->second.end()) throw ConfigError(where + "unknown key");
      try {
        setter->second(options, value);
      } catch (const ConfigError& e) {
        throw ConfigError(where + e.what());
      }
    }
  }
}

void validate(const DaemonOptions& o) {
  static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (o.hop_ms <= 0 || o.hop_ms > 5000) throw ConfigError("hop_ms: expected 0 < hop_ms <= 5000, got " + std::to_string(o.hop_ms));
  require_pcm_format(o.format);
  if (o.rate < 1000 || o.rate > 384000) throw ConfigError("rate: expected 1000..384000 Hz, got " + std::to_string(o.rate));
  if (o.channels < 1 || o.channels > 64) throw ConfigError("channels: expected 1..64, got " + std::to_string(o.channels));
  if (o.top_k < 1) throw ConfigError("top_k: expected at least 1");
  if (o.spectrogram_frames_per_column < 1 || o.spectrogram_frames_per_column > 64) {
    throw ConfigError("spectrogram.frames_per_column: expected 1..64");
  }
  if (o.send_hwm < 1) throw ConfigError("send_hwm: expected at least 1");
  if (o.threads < 1) throw ConfigError("threads: expected at least 1");
  if (o.health_interval_s <= 0) throw ConfigError("health_interval_s: expected > 0");
  if (!levels.count(o.log_level)) throw ConfigError("log_level: expected trace|debug|info|warn|error|critical|off, got '" + o.log_level + "'");
  if (o.events.min_hits < 1) throw ConfigError("events.min_hits: expected at least 1");
  if (o.events.threshold <= 0 || o.events.threshold > 1) throw ConfigError("events.threshold: expected 0 < threshold <= 1");
  if (o.events.background_threshold <= 0 || o.events.background_threshold > 1) {
    throw ConfigError("events.background_threshold: expected 0 < background_threshold <= 1");
  }
  if (!o.curve_client_keys.empty() && o.curve_server_key.empty()) {
    throw ConfigError("curve_client_keys: needs curve_server_key too (escd's own key pair, from escd --generate-curve-keypair)");
  }
  for (const std::string& model : o.models) require_known_model(model, "model '" + model + "'");
  for (const std::string& entry : o.checkpoints_by_model) {
    const std::string name = entry.substr(0, entry.find('='));
    require_known_model(name, "[models." + name + "] checkpoint");
  }
  if (!o.checkpoint.empty() && o.models.size() != 1) throw ConfigError("--checkpoint needs exactly one --model");
  if (o.ensemble && o.models.size() < 2) {
    throw ConfigError("ensemble: needs at least two models (e.g. --model mamba,liquid_s4,vjepa2), got " +
                      std::to_string(o.models.size()));
  }
  validate(o.recordings);
  for (const std::string& model : o.recordings.models) {
    if (model != "ensemble") require_known_model(model, "recordings.models: '" + model + "'");
  }
  if (o.pub.rfind("tcp://", 0) != 0 && o.pub.rfind("ipc://", 0) != 0 && o.pub.rfind("inproc://", 0) != 0) {
    throw ConfigError("pub: expected a ZeroMQ endpoint tcp://host:port or ipc://path, got '" + o.pub + "'");
  }
  // An esc-proxy is another process: inproc:// cannot reach it.
  if (!o.proxy.empty() && o.proxy.rfind("tcp://", 0) != 0 && o.proxy.rfind("ipc://", 0) != 0) {
    throw ConfigError("proxy: expected the esc-proxy's ZeroMQ endpoint tcp://host:port or ipc://path, got '" + o.proxy +
                      "'");
  }
  if (!is_source_name(o.source)) {
    throw ConfigError("source: expected 1-64 characters of A-Z a-z 0-9 _ - (it ends every topic name), got '" +
                      o.source + "'");
  }
  if (!o.curve_proxy_key.empty() && (o.proxy.empty() || o.curve_server_key.empty())) {
    throw ConfigError("curve_proxy_key: needs proxy (the esc-proxy to connect to) and curve_server_key (escd's own key pair)");
  }
  if (!o.proxy.empty() && !o.curve_server_key.empty() && o.curve_proxy_key.empty()) {
    throw ConfigError("curve_server_key with proxy: needs curve_proxy_key too (the esc-proxy's public key, its NAME.pub)");
  }
  if (!o.proxy.empty() && !o.curve_client_keys.empty()) {
    throw ConfigError("curve_client_keys: escd publishing to a proxy admits no subscribers itself; give the allowlist "
                      "to esc-proxy (--curve-client-keys)");
  }
}

std::string default_config_path() {
  for (const std::string& p : {std::string("/etc/escd/escd.toml"), std::string("config/escd.toml"),
                               std::string(ESCD_SOURCE_DIR) + "/config/escd.toml"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return {};
}

}  // namespace escd::daemon
