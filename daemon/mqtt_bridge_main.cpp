// esc-mqtt: escd's events, top labels and levels on an MQTT broker, with Home Assistant discovery.
// Settings: config/esc-mqtt.toml (installed as /etc/escd/esc-mqtt.toml); the command line wins.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>

#include "mqtt_bridge.h"
#include "mqtt_client.h"
#include "mqtt_options.h"
#include "mqtt_secrets.h"
#include "util/toml_json.h"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esc-mqtt: escd's events, top labels and levels on MQTT, with Home Assistant discovery"};
  std::string config;
  nlohmann::json overrides = nlohmann::json::object();  // as the config file spells them
  nlohmann::json source = nlohmann::json::object();
  // An option whose value is the config key [table] key.
  const auto setting = [&](const std::string& flag, const char* table, const char* key, const std::string& help) {
    return app.add_option_function<std::string>(
        flag, [&overrides, table, key](const std::string& v) { overrides[table][key] = v; }, help);
  };
  app.add_option("--config", config, "Config file (default /etc/escd/esc-mqtt.toml if it exists)");
  setting("--host", "broker", "host", "MQTT broker host");
  app.add_option_function<int>(
      "--port", [&](int port) { overrides["broker"]["port"] = port; }, "MQTT broker port");
  setting("--client-id", "broker", "client_id", "MQTT client id");
  setting("--username", "broker", "username", "MQTT user name");
  setting("--password-file", "broker", "password_file", "File whose first line is the MQTT password");
  setting("--topic-prefix", "topics", "prefix", "Topic prefix (default escd)");
  setting("--discovery-prefix", "homeassistant", "discovery_prefix", "Home Assistant discovery prefix");
  setting("--log-level", "bridge", "log_level", "trace|debug|info|warn|error");
  app.add_option_function<double>(
      "--offline-after", [&](double s) { overrides["bridge"]["offline_after_s"] = s; },
      "escd counts as offline after this many seconds without a message");
  auto* connect = app.add_option_function<std::string>(
      "--connect", [&](const std::string& v) { source["endpoint"] = v; },
      "One escd to bridge (instead of the config's [[escd]] list)");
  app.add_option_function<std::string>("--name", [&](const std::string& v) { source["name"] = v; },
                                       "With --connect: its name in topics and Home Assistant (default main)")
      ->needs(connect);
  app.add_option_function<std::string>("--curve-server-key", [&](const std::string& v) { source["curve_server_key"] = v; },
                                       "With --connect: escd's CURVE public key file")
      ->needs(connect);
  app.add_option_function<std::string>("--curve-client-key", [&](const std::string& v) { source["curve_client_key"] = v; },
                                       "With --connect: esc-mqtt's CURVE key pair file")
      ->needs(connect);
  CLI11_PARSE(app, argc, argv);
  // stderr, unbuffered: each line reaches journald (or a test's log) as it is written.
  spdlog::set_default_logger(spdlog::stderr_color_mt("esc-mqtt"));
  if (!source.empty()) {
    if (!source.contains("name")) source["name"] = "main";
    overrides["escd"] = nlohmann::json::array({source});
  }

  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGTERM, SIGINT}) sigaction(sig, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  const escd::daemon::MosquittoLibrary mosquitto;
  escd::daemon::MqttBridgeOptions options;
  std::unique_ptr<escd::daemon::MqttBridge> bridge;
  try {
    const std::string path = config.empty() ? escd::daemon::default_mqtt_config_path() : config;
    if (!path.empty()) escd::daemon::apply_mqtt_config_file(options, path);
    escd::daemon::apply_mqtt_config(options, overrides, "command line");
    escd::daemon::validate(options);
    spdlog::set_level(spdlog::level::from_str(options.log_level));
    for (const std::string& warning : escd::daemon::password_exposure_warnings(options, path)) spdlog::warn("{}", warning);
    bridge = std::make_unique<escd::daemon::MqttBridge>(options, ESCD_VERSION);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }
  spdlog::info("esc-mqtt {}: {} escd(s) to MQTT broker {}:{}, topics under {}/, discovery {}", ESCD_VERSION,
               options.sources.size(), options.broker.host, options.broker.port, options.topic_prefix,
               options.discovery ? "under " + options.discovery_prefix + "/" : std::string("off"));
  try {
    return bridge->run(g_stop);
  } catch (const std::exception& e) {
    spdlog::error("stopping after an error: {}", e.what());
    bridge->stop();
    return 1;
  }
}
