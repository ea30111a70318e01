// esc-mqtt's settings: the broker (address, credentials, TLS), the topic and discovery prefixes,
// which classes Home Assistant sees, and the escd instances to bridge. The layout of
// config/esc-mqtt.toml; esc-mqtt's command line writes the same keys. Every error is
// a ConfigError naming the file (or "command line"), the table and the key.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "escd_subscription.h"

namespace escd::daemon {

struct MqttTls {
  bool enabled = false;   // true when any TLS key is set, or `enabled = true` (system CAs)
  std::string ca_file;    // PEM bundle of the CAs to trust ("" with ca_path "": the system's)
  std::string ca_path;    // a directory of hashed CA certificates
  std::string cert_file;  // client certificate (with key_file), for brokers that ask for one
  std::string key_file;
  bool insecure = false;  // skip the host name check (self-signed test brokers only)
};

// "esc-mqtt-<host name>" (the short name): unique per host, as a broker needs client ids to be.
std::string default_mqtt_client_id();

struct MqttBroker {
  std::string host = "127.0.0.1";
  int port = 1883;  // 8883 is the usual TLS port
  std::string client_id = default_mqtt_client_id();
  std::string username;
  std::string password;       // or, better, password_file (its first line)
  std::string password_file;
  int keepalive_s = 30;
  double reconnect_min_s = 1;   // the first retry after a failed or lost connection...
  double reconnect_max_s = 30;  // ...doubling up to this
  MqttTls tls;
};

// One escd: a Home Assistant device, topics under <topic_prefix>/<name>/.
struct MqttSource {
  std::string name;         // [A-Za-z0-9_-]: topics, unique ids
  std::string device_name;  // shown in Home Assistant ("" = "escd <name>")
  EscdEndpoint escd;
  std::string source;       // through an esc-proxy: this escd's --source ("" = every message at the endpoint)
};

struct MqttBridgeOptions {
  MqttBroker broker;
  std::string topic_prefix = "escd";
  bool discovery = true;
  std::string discovery_prefix = "homeassistant";
  std::vector<std::string> classes;  // binary sensors for these classes only (empty: every class)
  double offline_after_s = 5;        // escd silent this long: its availability goes "offline"
  double level_interval_s = 5;       // at most one level message per this many seconds (0: every hop)
  double top_interval_s = 1;         // the same for the top label, except that a new label goes at once
  std::string log_level = "info";
  std::vector<MqttSource> sources = {{"main", "", {"tcp://127.0.0.1:5556", "", ""}, ""}};
};

// Applies a config file's tables over `options` (keys it does not mention keep their values).
void apply_mqtt_config_file(MqttBridgeOptions& options, const std::string& path);
// The same for settings already parsed (the command line's overrides); `where` names them in errors.
void apply_mqtt_config(MqttBridgeOptions& options, const nlohmann::json& settings, const std::string& where);
// Checks the values together (ranges, files that must exist, names); throws ConfigError naming the key.
void validate(const MqttBridgeOptions& options);
// The broker password: `password`, or the first line of `password_file` (ConfigError if unreadable).
std::string broker_password(const MqttBroker& broker);
// /etc/escd/esc-mqtt.toml if it exists, else "" (built-in defaults).
std::string default_mqtt_config_path();

}  // namespace escd::daemon
