#include "mqtt_options.h"

#include <unistd.h>

#include <cctype>
#include <climits>
#include <cmath>
#include <map>
#include <filesystem>
#include <fstream>
#include <set>

#include "mqtt_discovery.h"
#include "topic.h"
#include "util/toml_json.h"

namespace escd::daemon {
namespace {

using Json = nlohmann::json;

// A value as an error message shows it: what secret keys hold is never printed (logs outlive configs).
Json redacted(const std::string& key, const Json& value) {
  if (key == "password") return "(hidden)";
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [k, v] : value.items()) out[k] = redacted(k, v);
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const Json& v : value) out.push_back(redacted("", v));
    return out;
  }
  return value;
}

// Reads one table's keys into fields, each checked as it is read; a key no reader asked for is an
// error (a typo must not be silently ignored). Messages: "<where> [<table>] <key>: expected ...".
class TableReader {
 public:
  TableReader(const Json& table, std::string where) : table_(table), where_(std::move(where)) {
    if (!table_.is_object()) throw ConfigError(where_ + ": expected a table, got " + redacted("", table_).dump());
  }
  void text(const char* key, std::string& out) {
    if (const Json* v = take(key)) out = as_text(key, *v);
  }
  void integer(const char* key, int& out, int min, int max) {
    const Json* v = take(key);
    if (!v) return;
    if (!v->is_number_integer() || v->get<int64_t>() < min || v->get<int64_t>() > max) {
      fail(key, "an integer " + std::to_string(min) + ".." + std::to_string(max), *v);
    }
    out = v->get<int>();
  }
  void number(const char* key, double& out, double min) {
    const Json* v = take(key);
    if (!v) return;
    if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < min) {
      fail(key, "a finite number >= " + Json(min).dump(), *v);
    }
    out = v->get<double>();
  }
  void flag(const char* key, bool& out) {
    const Json* v = take(key);
    if (!v) return;
    if (!v->is_boolean()) fail(key, "true or false", *v);
    out = v->get<bool>();
  }
  void texts(const char* key, std::vector<std::string>& out) {
    const Json* v = take(key);
    if (!v) return;
    if (!v->is_array()) fail(key, "an array of strings", *v);
    out.clear();
    for (const Json& item : *v) out.push_back(as_text(key, item));
  }
  const Json* table(const char* key) { return take(key); }
  // Every key must have been read.
  void finish() const {
    for (const auto& [key, value] : table_.items()) {
      if (!read_.count(key)) throw ConfigError(where_ + " " + key + ": unknown key (expected " + expected() + ")");
    }
  }
  [[noreturn]] void fail(const std::string& key, const std::string& expected, const Json& got) const {
    throw ConfigError(where_ + " " + key + ": expected " + expected + ", got " + redacted(key, got).dump());
  }

 private:
  const Json* take(const char* key) {
    read_.insert(key);
    asked_.push_back(key);
    const auto it = table_.find(key);
    return it == table_.end() ? nullptr : &*it;
  }
  std::string as_text(const char* key, const Json& v) const {
    if (!v.is_string()) fail(key, "a string", v);
    return v.get<std::string>();
  }
  std::string expected() const {
    std::string out;
    for (const auto& k : asked_) out += (out.empty() ? "" : ", ") + k;
    return out;
  }

  const Json& table_;
  std::string where_;
  std::set<std::string> read_;
  std::vector<std::string> asked_;
};

void read_tls(MqttTls& tls, const Json& table, const std::string& where) {
  TableReader r(table, where + ": [broker.tls]");
  r.flag("enabled", tls.enabled);
  r.text("ca_file", tls.ca_file);
  r.text("ca_path", tls.ca_path);
  r.text("cert_file", tls.cert_file);
  r.text("key_file", tls.key_file);
  r.flag("insecure", tls.insecure);
  r.finish();
  if (!tls.ca_file.empty() || !tls.ca_path.empty() || !tls.cert_file.empty()) tls.enabled = true;
}

void read_broker(MqttBroker& b, const Json& table, const std::string& where) {
  TableReader r(table, where + ": [broker]");
  r.text("host", b.host);
  r.integer("port", b.port, 1, 65535);
  r.text("client_id", b.client_id);
  r.text("username", b.username);
  r.text("password", b.password);
  r.text("password_file", b.password_file);
  r.integer("keepalive_s", b.keepalive_s, 5, 65535);
  r.number("reconnect_min_s", b.reconnect_min_s, 0.1);
  r.number("reconnect_max_s", b.reconnect_max_s, 0.1);
  if (const Json* tls = r.table("tls")) read_tls(b.tls, *tls, where);
  r.finish();
}

MqttSource read_source(const Json& table, const std::string& where) {
  MqttSource s;
  TableReader r(table, where);
  r.text("name", s.name);
  r.text("device_name", s.device_name);
  r.text("endpoint", s.escd.endpoint);
  r.text("curve_server_key", s.escd.server_key_file);
  r.text("curve_client_key", s.escd.client_key_file);
  r.text("source", s.source);
  r.finish();
  if (s.name.empty()) r.fail("name", "a name for this escd ([A-Za-z0-9_-])", Json(s.name));
  if (s.escd.endpoint.empty()) r.fail("endpoint", "escd's endpoint, e.g. tcp://127.0.0.1:5556", Json(s.escd.endpoint));
  return s;
}

bool is_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

// An MQTT topic prefix: not empty, no wildcards, no leading or trailing slash.
bool is_topic_prefix(const std::string& s) {
  return !s.empty() && s.find_first_of("+#") == std::string::npos && s.front() != '/' && s.back() != '/';
}

void require_file(const std::string& key, const std::string& path) {
  std::error_code ec;
  if (!path.empty() && !std::filesystem::exists(path, ec)) throw ConfigError(key + ": " + path + ": no such file");
}

}  // namespace

void apply_mqtt_config(MqttBridgeOptions& o, const Json& settings, const std::string& where) {
  TableReader top(settings, where);
  if (const Json* b = top.table("broker")) read_broker(o.broker, *b, where);
  if (const Json* t = top.table("topics")) {
    TableReader r(*t, where + ": [topics]");
    r.text("prefix", o.topic_prefix);
    r.finish();
  }
  if (const Json* h = top.table("homeassistant")) {
    TableReader r(*h, where + ": [homeassistant]");
    r.flag("discovery", o.discovery);
    r.text("discovery_prefix", o.discovery_prefix);
    r.texts("classes", o.classes);
    r.finish();
  }
  if (const Json* p = top.table("bridge")) {
    TableReader r(*p, where + ": [bridge]");
    r.number("offline_after_s", o.offline_after_s, 0.5);
    r.number("level_interval_s", o.level_interval_s, 0);
    r.number("top_interval_s", o.top_interval_s, 0);
    r.text("log_level", o.log_level);
    r.finish();
  }
  if (const Json* list = top.table("escd")) {
    if (!list->is_array() || list->empty()) {
      top.fail("escd", "one or more [[escd]] tables (name, endpoint)", *list);
    }
    o.sources.clear();
    for (size_t i = 0; i < list->size(); ++i) {
      o.sources.push_back(read_source((*list)[i], where + ": [[escd]] #" + std::to_string(i + 1)));
    }
  }
  top.finish();
}

void apply_mqtt_config_file(MqttBridgeOptions& options, const std::string& path) {
  apply_mqtt_config(options, load_toml_file(path), path);
}

void validate(const MqttBridgeOptions& o) {
  static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  const MqttBroker& b = o.broker;
  if (b.host.empty()) throw ConfigError("[broker] host: expected the broker's host name or address");
  if (b.client_id.empty()) throw ConfigError("[broker] client_id: expected a non-empty id");
  if (!b.password.empty() && !b.password_file.empty()) {
    throw ConfigError("[broker] password, password_file: give one of them, not both");
  }
  if ((!b.password.empty() || !b.password_file.empty()) && b.username.empty()) {
    throw ConfigError("[broker] username: a password needs a username (MQTT 3.1.1)");
  }
  require_file("[broker] password_file", b.password_file);
  if (b.reconnect_max_s < b.reconnect_min_s) throw ConfigError("[broker] reconnect_max_s: expected >= reconnect_min_s");
  require_file("[broker.tls] ca_file", b.tls.ca_file);
  require_file("[broker.tls] ca_path", b.tls.ca_path);
  require_file("[broker.tls] cert_file", b.tls.cert_file);
  require_file("[broker.tls] key_file", b.tls.key_file);
  if (!b.tls.cert_file.empty() && b.tls.ca_file.empty() && b.tls.ca_path.empty()) {
    throw ConfigError("[broker.tls] cert_file: a client certificate needs ca_file or ca_path too");
  }
  if (b.tls.cert_file.empty() != b.tls.key_file.empty()) {
    throw ConfigError("[broker.tls] cert_file, key_file: a client certificate needs its key, and a key its certificate");
  }
  if (!is_topic_prefix(o.topic_prefix)) {
    throw ConfigError("[topics] prefix: expected a topic prefix without + or # and without a leading or trailing /, got '" +
                      o.topic_prefix + "'");
  }
  if (!is_topic_prefix(o.discovery_prefix)) {
    throw ConfigError("[homeassistant] discovery_prefix: expected a topic prefix without + or # and without a leading "
                      "or trailing /, got '" + o.discovery_prefix + "'");
  }
  if (!levels.count(o.log_level)) {
    throw ConfigError("[bridge] log_level: expected trace|debug|info|warn|error|critical|off, got '" + o.log_level + "'");
  }
  std::set<std::string> names;
  std::map<std::string, std::string> nodes;  // Home Assistant node -> the name it came from
  const MqttTopics topics(o.topic_prefix);
  for (const MqttSource& s : o.sources) {
    const std::string where = "[[escd]] '" + s.name + "'";
    if (!is_name(s.name) || s.name == "bridge") {
      throw ConfigError("[[escd]] name: expected letters, digits, _ or - (and not 'bridge', which esc-mqtt uses), got '" +
                        s.name + "'");
    }
    if (!names.insert(s.name).second) throw ConfigError("[[escd]] name: '" + s.name + "' is used twice");
    const std::string node = topics.node(s.name);
    if (const auto [it, added] = nodes.emplace(node, s.name); !added) {
      throw ConfigError("[[escd]] name: '" + it->second + "' and '" + s.name + "' are the same Home Assistant node '" +
                        node + "' (ids and discovery topics): rename one");
    }
    if (!s.source.empty() && !is_source_name(s.source)) {
      throw ConfigError(where + " source: expected escd's --source (1-64 of A-Z a-z 0-9 _ -), got '" + s.source + "'");
    }
    const std::string& e = s.escd.endpoint;
    if (e.rfind("tcp://", 0) != 0 && e.rfind("ipc://", 0) != 0) {
      throw ConfigError(where + " endpoint: expected tcp://host:port or ipc://path, got '" + e + "'");
    }
    if (s.escd.server_key_file.empty() != s.escd.client_key_file.empty()) {
      throw ConfigError(where + " curve_server_key, curve_client_key: CURVE needs both (escd's public key file and "
                        "esc-mqtt's key pair)");
    }
    require_file(where + " curve_server_key", s.escd.server_key_file);
    require_file(where + " curve_client_key", s.escd.client_key_file);
  }
}

std::string broker_password(const MqttBroker& broker) {
  if (broker.password_file.empty()) return broker.password;
  std::ifstream in(broker.password_file);
  std::string line;
  if (!in || !std::getline(in, line)) {
    throw ConfigError("[broker] password_file: " + broker.password_file + ": cannot read a password from it");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string default_mqtt_client_id() {
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || !host[0]) return "esc-mqtt";
  std::string name(host);
  return "esc-mqtt-" + name.substr(0, name.find('.'));
}

std::string default_mqtt_config_path() {
  std::error_code ec;
  return std::filesystem::exists("/etc/escd/esc-mqtt.toml", ec) ? "/etc/escd/esc-mqtt.toml" : "";
}

}  // namespace escd::daemon
