// esc-mqtt's settings (daemon/mqtt_options.h): the shipped config, and every kind of mistake
// stopping it with a message that names the file, the table and the key.
#include <gtest/gtest.h>

#include <fstream>

#include "mqtt_options.h"
#include "util/toml_json.h"

namespace escd::daemon {
namespace {

MqttBridgeOptions from_toml(const std::string& text) {
  MqttBridgeOptions o;
  apply_mqtt_config(o, parse_toml(text, "esc-mqtt.toml"), "esc-mqtt.toml");
  return o;
}

// The ConfigError message of loading and validating `text`; "" if it loads.
std::string error_of(const std::string& text) {
  try {
    validate(from_toml(text));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(MqttOptions, TheShippedConfigIsTheDefaults) {
  MqttBridgeOptions shipped;
  apply_mqtt_config_file(shipped, std::string(ESCD_SOURCE_DIR) + "/config/esc-mqtt.toml");
  validate(shipped);
  const MqttBridgeOptions defaults;
  EXPECT_EQ(shipped.broker.host, defaults.broker.host);
  EXPECT_EQ(shipped.broker.port, 1883);
  EXPECT_FALSE(shipped.broker.tls.enabled);
  EXPECT_EQ(shipped.topic_prefix, "escd");
  EXPECT_EQ(shipped.discovery_prefix, "homeassistant");
  EXPECT_TRUE(shipped.classes.empty());
  ASSERT_EQ(shipped.sources.size(), 1u);
  EXPECT_EQ(shipped.sources[0].name, "main");
  EXPECT_EQ(shipped.sources[0].escd.endpoint, "tcp://127.0.0.1:5556");
}

TEST(MqttOptions, EveryKeyIsRead) {
  const MqttBridgeOptions o = from_toml(R"(
[broker]
host = "broker.lan"
port = 8883
client_id = "kitchen-bridge"
username = "escd"
password = "secret"
[broker.tls]
ca_file = ""
insecure = true
enabled = true
[topics]
prefix = "home/escd"
[homeassistant]
discovery_prefix = "ha"
classes = ["dog", "glass_breaking"]
[bridge]
offline_after_s = 3.5
level_interval_s = 0
[[escd]]
name = "kitchen"
endpoint = "tcp://10.0.0.2:5556"
[[escd]]
name = "hall"
device_name = "Hall microphone"
endpoint = "ipc:///run/escd/escd.sock"
)");
  validate(o);
  EXPECT_EQ(o.broker.host, "broker.lan");
  EXPECT_EQ(o.broker.port, 8883);
  EXPECT_EQ(o.broker.client_id, "kitchen-bridge");
  EXPECT_EQ(broker_password(o.broker), "secret");
  EXPECT_TRUE(o.broker.tls.enabled);
  EXPECT_TRUE(o.broker.tls.insecure);
  EXPECT_EQ(o.topic_prefix, "home/escd");
  EXPECT_EQ(o.discovery_prefix, "ha");
  EXPECT_EQ(o.classes, (std::vector<std::string>{"dog", "glass_breaking"}));
  EXPECT_DOUBLE_EQ(o.offline_after_s, 3.5);
  EXPECT_DOUBLE_EQ(o.level_interval_s, 0);
  ASSERT_EQ(o.sources.size(), 2u);
  EXPECT_EQ(o.sources[1].device_name, "Hall microphone");
  EXPECT_EQ(o.sources[1].escd.endpoint, "ipc:///run/escd/escd.sock");
}

TEST(MqttOptions, MistakesNameTheTableAndTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[broker]\nport = 70000\n", "esc-mqtt.toml: [broker] port: expected an integer 1..65535, got 70000"},
      {"[broker]\nport = \"1883\"\n", "esc-mqtt.toml: [broker] port: expected an integer"},
      {"[broker]\nprot = 1883\n", "esc-mqtt.toml: [broker] prot: unknown key"},
      {"[brokr]\n", "esc-mqtt.toml brokr: unknown key"},
      {"[broker.tls]\ninsecure = \"yes\"\n", "[broker.tls] insecure: expected true or false"},
      {"[broker.tls]\nca_file = \"/no/such/ca.pem\"\n", "[broker.tls] ca_file: /no/such/ca.pem: no such file"},
      {"[broker]\npassword = \"x\"\n", "[broker] username: a password needs a username"},
      {"[broker]\nusername = \"u\"\npassword = \"x\"\npassword_file = \"/etc/hostname\"\n",
       "[broker] password, password_file: give one of them"},
      {"[broker]\nusername = \"u\"\npassword_file = \"/no/such/file\"\n", "[broker] password_file: /no/such/file: no such file"},
      {"[topics]\nprefix = \"escd/#\"\n", "[topics] prefix: expected a topic prefix"},
      {"[homeassistant]\ndiscovery_prefix = \"/ha\"\n", "[homeassistant] discovery_prefix: expected a topic prefix"},
      {"[homeassistant]\nclasses = [\"dog\", 3]\n", "[homeassistant] classes: expected a string, got 3"},
      {"[bridge]\noffline_after_s = 0.1\n", "[bridge] offline_after_s: expected a finite number >= 0.5"},
      {"[bridge]\noffline_after_s = nan\n", "[bridge] offline_after_s: expected a finite number >= 0.5"},
      {"[bridge]\nlevel_interval_s = inf\n", "[bridge] level_interval_s: expected a finite number >= 0"},
      {"[broker]\nreconnect_max_s = -inf\n", "[broker] reconnect_max_s: expected a finite number"},
      {"[broker.tls]\ncert_file = \"/etc/hostname\"\nkey_file = \"/etc/hostname\"\n",
       "[broker.tls] cert_file: a client certificate needs ca_file or ca_path too"},
      {"[[escd]]\nname = \"a-b\"\nendpoint = \"tcp://x:1\"\n[[escd]]\nname = \"a_b\"\nendpoint = \"tcp://y:1\"\n",
       "[[escd]] name: 'a-b' and 'a_b' are the same Home Assistant node 'escd_a_b'"},
      {"[bridge]\nlog_level = \"loud\"\n", "[bridge] log_level: expected trace|debug|info|warn|error|critical|off"},
      {"escd = []\n", "esc-mqtt.toml escd: expected one or more [[escd]] tables"},
      {"[[escd]]\nendpoint = \"tcp://127.0.0.1:5556\"\n", "[[escd]] #1 name: expected a name"},
      {"[[escd]]\nname = \"a\"\n", "[[escd]] #1 endpoint: expected escd's endpoint"},
      {"[[escd]]\nname = \"a\"\nendpoint = \"tcp://x:1\"\nport = 2\n", "[[escd]] #1 port: unknown key"},
      {"[[escd]]\nname = \"a b\"\nendpoint = \"tcp://x:1\"\n", "[[escd]] name: expected letters, digits, _ or -"},
      {"[[escd]]\nname = \"bridge\"\nendpoint = \"tcp://x:1\"\n", "(and not 'bridge'"},
      {"[[escd]]\nname = \"a\"\nendpoint = \"tcp://x:1\"\n[[escd]]\nname = \"a\"\nendpoint = \"tcp://y:1\"\n",
       "[[escd]] name: 'a' is used twice"},
      {"[[escd]]\nname = \"a\"\nendpoint = \"udp://x:1\"\n", "[[escd]] 'a' endpoint: expected tcp://host:port or ipc://path"},
      {"[[escd]]\nname = \"a\"\nendpoint = \"tcp://x:1\"\ncurve_server_key = \"/etc/hostname\"\n",
       "[[escd]] 'a' curve_server_key, curve_client_key: CURVE needs both"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string error = error_of(text);
    EXPECT_NE(error.find(expected), std::string::npos) << "config:\n" << text << "error: '" << error << "'\nexpected: " << expected;
  }
}

TEST(MqttOptions, ErrorsNeverShowThePassword) {
  for (const std::string& text : {std::string("[broker]\npassword = 12345678\n"),
                                  std::string("[broker]\npassword = [\"hunter2\"]\n"),
                                  std::string("broker = [{password = \"hunter2\"}]\n")}) {
    std::string error;
    try {
      from_toml(text);
    } catch (const ConfigError& e) {
      error = e.what();
    }
    EXPECT_FALSE(error.empty()) << text;
    EXPECT_EQ(error.find("12345678"), std::string::npos) << error;
    EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
    EXPECT_NE(error.find("(hidden)"), std::string::npos) << error;
  }
}

TEST(MqttOptions, TheClientIdIsEscMqttAndTheHostName) {
  const std::string id = MqttBroker{}.client_id;
  EXPECT_EQ(id, default_mqtt_client_id());
  ASSERT_GT(id.size(), 9u) << id;
  EXPECT_EQ(id.rfind("esc-mqtt-", 0), 0u) << id;
  EXPECT_EQ(id.find('.'), std::string::npos) << id << ": the short host name";
}

TEST(MqttOptions, AFileThatDoesNotParseNamesItsLine) {
  const std::string path = ::testing::TempDir() + "esc-mqtt-broken.toml";
  std::ofstream(path) << "[broker]\nport = = 3\n";
  MqttBridgeOptions o;
  try {
    apply_mqtt_config_file(o, path);
    FAIL() << "a broken file loaded";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":2:"), std::string::npos) << e.what();
  }
}

TEST(MqttOptions, ThePasswordFileGivesItsFirstLine) {
  const std::string path = ::testing::TempDir() + "esc-mqtt-password";
  std::ofstream(path) << "s3cret\r\nsecond line\n";
  MqttBroker b;
  b.username = "escd";
  b.password_file = path;
  EXPECT_EQ(broker_password(b), "s3cret");
}

}  // namespace
}  // namespace escd::daemon
