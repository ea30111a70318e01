// esc-mqtt end to end, against a real broker: Debian's mosquitto on a free loopback port, escd on a
// clip (tests/fixtures/synthetic_16k.wav played twice in real time, the shipped models/mamba.pt,
// thresholds low enough for that clip to start events), esc-mqtt between them, and an MQTT client
// in the test. Skips, saying so, when mosquitto is not installed.
//
//   1. discovery configs (retained), each class the escd stream started going ON then OFF, the top
//      label and the level; escd gone: its availability "offline"; back: "online"
//   2. esc-mqtt killed: the broker publishes its last will, availability "offline"; stopped
//      (SIGTERM): its own "offline", retained, and a clean DISCONNECT
//   3. the broker restarted on the same port: esc-mqtt reconnects, discovery and "online" again
//   4. esc-mqtt restarted with fewer classes: the configs it no longer wants are cleared
// and esc-mqtt's command line: mistakes stop it with exit code 2 and a message naming the key.
#include <gtest/gtest.h>
#include <sndfile.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <zmq.hpp>

#include "audio/decode.h"
#include "child_process.h"
#include "escd_subscription.h"
#include "mqtt_test_broker.h"
#include "test_support.h"

namespace escd::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The fixture clip, `times` times in a row (escd's events need two full 5 s windows in a row).
void write_repeated_clip(const std::string& path, int times) {
  const std::vector<float> clip = decode_audio_file(fixture("synthetic_16k.wav"), 16000).samples;
  std::vector<float> samples;
  for (int i = 0; i < times; ++i) samples.insert(samples.end(), clip.begin(), clip.end());
  write_audio(path, samples, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
}

class EscMqtt : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kMosquittoBin, X_OK) != 0) {
      GTEST_SKIP() << kMosquittoBin << " is not installed (Debian package mosquitto, which scripts/install-deps.sh "
                   << "installs): esc-mqtt's broker tests did not run";
    }
    endpoint_ = "ipc://" + dir_.path("escd.sock");
    start_broker();
    // The clip's top classes reach 0.1 to 0.15 with the shipped Mamba: low thresholds make them events.
    std::ofstream(dir_.path("escd.toml")) << "[events]\nthreshold = 0.1\noff_margin = 0.05\n";
    write_repeated_clip(dir_.path("clip.wav"), 2);
  }
  void TearDown() override {
    escd_.reset();
    bridge_.reset();
    broker_.reset();
  }

  // A broker on a free port (`listener_options`: TestBroker's), and esc-mqtt's config for it.
  void start_broker(const std::string& listener_options = "allow_anonymous true\n") {
    broker_.reset();
    broker_ = std::make_unique<TestBroker>(dir_.str(), free_loopback_port(), listener_options);
    std::string error;
    ASSERT_TRUE(broker_->start(error)) << error;
    port_ = broker_->port();
    std::ofstream(dir_.path("esc-mqtt.toml"))
        << "[broker]\nhost = \"127.0.0.1\"\nport = " << port_
        << "\nclient_id = \"esc-mqtt-test\"\nkeepalive_s = 5\nreconnect_min_s = 0.5\nreconnect_max_s = 2\n"
        << "[bridge]\noffline_after_s = 3\nlevel_interval_s = 0\ntop_interval_s = 0\nlog_level = \"debug\"\n"
        << "[[escd]]\nname = \"test\"\nendpoint = \"" << endpoint_ << "\"\n";
  }
  void start_bridge_with(const std::vector<std::string>& extra) {
    std::vector<std::string> args{"--config", dir_.path("esc-mqtt.toml")};
    args.insert(args.end(), extra.begin(), extra.end());
    bridge_ = std::make_unique<ChildProcess>(ESC_MQTT_BIN, args, dir_.path("esc-mqtt.log"));
  }
  void start_bridge() { start_bridge_with({}); }
  void start_escd() {
    escd_ = std::make_unique<ChildProcess>(
        ESCD_BIN,
        std::vector<std::string>{"--model", "mamba", "--checkpoint", std::string(ESCD_SOURCE_DIR) + "/models/mamba.pt",
                                 "--config", dir_.path("escd.toml"), "--input", dir_.path("clip.wav"), "--pub",
                                 endpoint_, "--hop-ms", "256"},
        dir_.path("escd.log"));
  }
  std::string logs() const {
    return "\n--- esc-mqtt:\n" + read_text(dir_.path("esc-mqtt.log")) + "\n--- escd:\n" + read_text(dir_.path("escd.log")) +
           "\n--- mosquitto:\n" + (broker_ ? broker_->log() : "");
  }
  // mosquitto reads its files as its own user, once it dropped root's privileges.
  void readable_by_mosquitto(const std::vector<std::string>& files) {
    using std::filesystem::perms;
    std::filesystem::permissions(dir_.str(), perms::others_read | perms::others_exec, std::filesystem::perm_options::add);
    for (const auto& f : files) std::filesystem::permissions(f, perms::others_read, std::filesystem::perm_options::add);
  }
  std::unique_ptr<MqttRecorder> recorder() {
    auto r = std::make_unique<MqttRecorder>(port_, std::vector<std::string>{"escd/#", "homeassistant/#"});
    EXPECT_TRUE(r->subscribed(10s)) << "the test's MQTT client got no SUBACK";
    return r;
  }

  TempDir dir_;
  int port_ = 0;
  std::string endpoint_;
  std::unique_ptr<TestBroker> broker_;
  std::unique_ptr<ChildProcess> bridge_, escd_;
};

// The labels of the binary sensors among `messages` (discovery configs of escd "test", model mamba).
std::set<std::string> binary_sensor_labels(const std::vector<MqttMessage>& messages, bool retained_only) {
  const std::string prefix = "homeassistant/binary_sensor/escd_test/mamba_";
  std::set<std::string> out;
  for (const MqttMessage& m : messages) {
    if (m.topic.rfind(prefix, 0) != 0 || m.payload.empty() || (retained_only && !m.retained)) continue;
    out.insert(m.topic.substr(prefix.size(), m.topic.size() - prefix.size() - 7));  // without "/config"
  }
  return out;
}

TEST_F(EscMqtt, AClipThroughEscdShowsDiscoveryEventsOnThenOffTopLabelAndLevel) {
  auto mqtt = recorder();
  start_bridge();
  ASSERT_TRUE(mqtt->wait_for("escd/bridge/availability", "online", 20s)) << logs();

  // escd's own stream, to know which classes it started.
  zmq::context_t context(1);
  zmq::socket_t events = escd::daemon::subscribe_to_escd(context, {endpoint_, "", ""}, {"esc.event."});
  events.set(zmq::sockopt::rcvtimeo, 100);
  start_escd();
  ASSERT_TRUE(mqtt->wait_for("escd/test/availability", "online", 60s)) << logs();
  // Discovery with escd's first health message (every second): one binary sensor per class of the
  // shipped checkpoint (50, not "background"), the top label and the level, the level last; a
  // subscriber arriving after that gets them retained.
  const auto is_level_config = [](const MqttMessage& m) { return m.topic == "homeassistant/sensor/escd_test/level/config"; };
  ASSERT_TRUE(mqtt->wait_for(is_level_config, 10s)) << logs();
  auto late = recorder();
  ASSERT_TRUE(late->wait_for(is_level_config, 10s));
  size_t retained_binary_sensors = 0;  // the broker sends retained messages in an order of its own
  late->wait_for([&](const MqttMessage& m) {
    if (m.retained && m.topic.rfind("homeassistant/binary_sensor/", 0) == 0) ++retained_binary_sensors;
    return retained_binary_sensors >= 50;
  }, 10s);
  const std::set<std::string> labels = binary_sensor_labels(late->messages(), /*retained_only=*/true);
  EXPECT_EQ(labels.size(), 50u);
  EXPECT_TRUE(labels.count("dog") && labels.count("crying_baby") && !labels.count("background"));
  const auto dog = late->wait_for(
      [](const MqttMessage& m) { return m.topic == "homeassistant/binary_sensor/escd_test/mamba_dog/config"; }, 1s);
  ASSERT_TRUE(dog);
  EXPECT_TRUE(dog->retained);
  const Json config = Json::parse(dog->payload);
  EXPECT_EQ(config["state_topic"], "escd/test/mamba/class/dog");
  EXPECT_EQ(config["unique_id"], "escd_test_mamba_dog");
  EXPECT_EQ(config["availability"][0]["topic"], "escd/bridge/availability");
  EXPECT_EQ(config["availability"][1]["topic"], "escd/test/availability");
  const auto top_config = late->wait_for(
      [](const MqttMessage& m) { return m.topic == "homeassistant/sensor/escd_test/mamba_top/config"; }, 1s);
  ASSERT_TRUE(top_config);
  EXPECT_TRUE(top_config->retained);
  EXPECT_TRUE(late->wait_for("escd/test/mamba/class/dog", "OFF", 1s));  // every state starts known

  // The clip: events start after 5 s of audio and end when escd reaches the end of the file.
  std::set<std::string> started;
  bool ended = false;
  const auto deadline = Clock::now() + 60s;
  const auto note = [&](const std::optional<escd::daemon::EscdMessage>& m) {
    if (m && m->body.value("type", "") == "start") started.insert(m->body.value("label", ""));
    return m.has_value();
  };
  while (!ended && Clock::now() < deadline) {
    note(escd::daemon::receive_escd_message(events));
    ended = !escd_->running();
  }
  // What escd sent just before it exited may still be queued here.
  while (note(escd::daemon::receive_escd_message(events, zmq::recv_flags::dontwait))) {
  }
  const size_t gone = mqtt->count();  // escd's offline comes offline_after_s (3 s) later
  ASSERT_TRUE(ended) << "escd did not finish the 10 s clip within 60 s" << logs();
  ASSERT_FALSE(started.empty()) << "escd started no event on the clip" << logs();
  for (const std::string& label : started) {
    const std::string topic = "escd/test/mamba/class/" + label;
    EXPECT_TRUE(mqtt->wait_for(topic, "ON", 10s)) << topic << logs();
    EXPECT_TRUE(mqtt->wait_for(topic, "OFF", 10s)) << topic;
    // OFF after ON.
    const auto all = mqtt->messages();
    size_t on = all.size(), off_after = all.size();
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].topic == topic && all[i].payload == "ON" && on == all.size()) on = i;
      if (all[i].topic == topic && all[i].payload == "OFF" && i > on) off_after = i;
    }
    EXPECT_LT(on, off_after) << topic << ": no OFF after its ON";
    EXPECT_TRUE(mqtt->wait_for([&](const MqttMessage& m) {
      return m.topic == "escd/test/mamba/event" && Json::parse(m.payload).value("label", "") == label;
    }, 1s)) << "escd's event for " << label << " was not forwarded";
  }
  for (const MqttMessage& m : mqtt->messages()) {
    if (m.topic.rfind("escd/test/mamba/class/", 0) == 0 && m.payload == "ON") {
      EXPECT_TRUE(started.count(m.topic.substr(22))) << m.topic << " went ON without an escd event";
    }
  }
  const auto top = mqtt->wait_for([](const MqttMessage& m) {
    return m.topic == "escd/test/mamba/top" && !Json::parse(m.payload).value("warming_up", true);
  }, 1s);
  ASSERT_TRUE(top);
  EXPECT_FALSE(Json::parse(top->payload).value("label", "").empty());
  const auto level = mqtt->wait_for([](const MqttMessage& m) { return m.topic == "escd/test/level"; }, 1s);
  ASSERT_TRUE(level);
  EXPECT_TRUE(Json::parse(level->payload)["dbfs"].is_number());

  // escd gone: offline after [bridge] offline_after_s (3 s); back: online.
  EXPECT_EQ(escd_->wait(1s), 0);
  EXPECT_TRUE(mqtt->wait_for("escd/test/availability", "offline", 15s, gone)) << logs();
  auto again = recorder();
  start_escd();
  EXPECT_TRUE(again->wait_for([](const MqttMessage& m) {
    return m.topic == "escd/test/availability" && m.payload == "online" && !m.retained;
  }, 60s)) << logs();
}

TEST_F(EscMqtt, KilledEscMqttLeavesItsLastWillOffline) {
  auto mqtt = recorder();
  start_bridge();
  ASSERT_TRUE(mqtt->wait_for("escd/bridge/availability", "online", 20s)) << logs();
  bridge_->signal(SIGKILL);
  ASSERT_EQ(bridge_->wait(10s), 128 + SIGKILL);
  EXPECT_TRUE(mqtt->wait_for("escd/bridge/availability", "offline", 15s)) << logs();
  // Retained: a subscriber arriving later learns it too.
  auto late = recorder();
  const auto will = late->wait_for([](const MqttMessage& m) { return m.topic == "escd/bridge/availability"; }, 5s);
  ASSERT_TRUE(will);
  EXPECT_EQ(will->payload, "offline");
  EXPECT_TRUE(will->retained);
}

// Its "offline" is acknowledged before its DISCONNECT: retained for those who come later, and the
// disconnect is clean (mosquitto: "Client <id> disconnected.", not "closed its connection").
TEST_F(EscMqtt, SigtermPublishesOfflineItselfAndExitsZero) {
  auto mqtt = recorder();
  start_bridge();
  ASSERT_TRUE(mqtt->wait_for("escd/bridge/availability", "online", 20s)) << logs();
  bridge_->signal(SIGTERM);
  EXPECT_EQ(bridge_->wait(10s), 0) << logs();
  EXPECT_TRUE(mqtt->wait_for("escd/bridge/availability", "offline", 5s)) << logs();
  auto late = recorder();
  const auto retained = late->wait_for([](const MqttMessage& m) { return m.topic == "escd/bridge/availability"; }, 5s);
  ASSERT_TRUE(retained) << logs();
  EXPECT_EQ(retained->payload, "offline");
  EXPECT_TRUE(retained->retained);
  EXPECT_TRUE(wait_for_text(dir_.path("mosquitto.log"), "Client esc-mqtt-test disconnected.", 5s)) << logs();
  EXPECT_EQ(broker_->log().find("Client esc-mqtt-test closed its connection"), std::string::npos) << logs();
}

TEST_F(EscMqtt, ARestartedBrokerGetsDiscoveryAndOnlineAgain) {
  auto mqtt = recorder();
  start_bridge();
  start_escd();
  ASSERT_TRUE(mqtt->wait_for([](const MqttMessage& m) {
    return m.topic == "homeassistant/binary_sensor/escd_test/mamba_dog/config";
  }, 60s)) << logs();
  mqtt.reset();
  broker_->stop();  // no persistence: every retained message is gone with it
  std::string error;
  ASSERT_TRUE(broker_->start(error)) << error;
  auto fresh = recorder();
  EXPECT_TRUE(fresh->wait_for("escd/bridge/availability", "online", 30s)) << logs();
  EXPECT_TRUE(fresh->wait_for([](const MqttMessage& m) {
    return m.topic == "homeassistant/binary_sensor/escd_test/mamba_dog/config" && !m.payload.empty();
  }, 10s)) << logs();
  EXPECT_TRUE(fresh->wait_for([](const MqttMessage& m) { return m.topic == "homeassistant/sensor/escd_test/level/config"; }, 10s));
  EXPECT_TRUE(fresh->wait_for([](const MqttMessage& m) { return m.topic == "escd/test/availability"; }, 10s));
  EXPECT_NE(read_text(dir_.path("esc-mqtt.log")).find("retrying in"), std::string::npos)
      << "esc-mqtt did not log its reconnection" << logs();
  EXPECT_TRUE(bridge_->running());
}

// escd as esc-mqtt hears it, without a model: health (model mamba with `labels`) every 200 ms.
class FakeEscd {
 public:
  FakeEscd(const std::string& endpoint, const std::vector<std::string>& labels) : socket_(context_, zmq::socket_type::pub) {
    socket_.bind(endpoint);
    const std::string health = Json{{"uptime_s", 1.0}, {"models", {{"mamba", {{"labels", labels}}}}}}.dump();
    thread_ = std::thread([this, health] {
      while (!stop_.load()) {
        socket_.send(zmq::buffer(std::string("esc.health")), zmq::send_flags::sndmore);
        socket_.send(zmq::buffer(health), zmq::send_flags::none);
        std::this_thread::sleep_for(200ms);
      }
    });
  }
  ~FakeEscd() {
    stop_ = true;
    thread_.join();
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A restart with fewer classes: the configs of the classes dropped, which the previous run left
// retained, are cleared; a subscriber arriving later sees only the wanted ones.
TEST_F(EscMqtt, ARestartWithFewerClassesClearsTheConfigsNoLongerWanted) {
  FakeEscd escd(endpoint_, {"dog", "rain", "background"});
  auto mqtt = recorder();
  const std::string rain = "homeassistant/binary_sensor/escd_test/mamba_rain/config";
  start_bridge();
  ASSERT_TRUE(mqtt->wait_for([&](const MqttMessage& m) { return m.topic == rain && !m.payload.empty(); }, 20s)) << logs();
  bridge_->signal(SIGTERM);
  ASSERT_EQ(bridge_->wait(10s), 0) << logs();

  std::ofstream(dir_.path("esc-mqtt.toml"), std::ios::app) << "[homeassistant]\nclasses = [\"dog\"]\n";
  const size_t restarted = mqtt->count();
  start_bridge();
  EXPECT_TRUE(mqtt->wait_for([&](const MqttMessage& m) { return m.topic == rain && m.payload.empty(); }, 20s, restarted))
      << logs();
  auto late = recorder();
  const auto is_config = [](const std::string& object) {
    return [object](const MqttMessage& m) { return m.topic == "homeassistant/binary_sensor/escd_test/mamba_" + object + "/config"; };
  };
  ASSERT_TRUE(late->wait_for(is_config("dog"), 5s)) << logs();
  ASSERT_TRUE(late->wait_for([](const MqttMessage& m) { return m.topic == "homeassistant/sensor/escd_test/level/config"; }, 5s));
  EXPECT_FALSE(late->wait_for(is_config("rain"), 500ms)) << logs();
  EXPECT_EQ(binary_sensor_labels(late->messages(), /*retained_only=*/true), std::set<std::string>{"dog"});
  EXPECT_NE(read_text(dir_.path("esc-mqtt.log")).find(rain + " is not wanted any more: cleared"), std::string::npos) << logs();
}

// A broker that knows its users: esc-mqtt logs the refusal of a wrong password and keeps trying;
// with the right one (from its password_file) it connects.
TEST_F(EscMqtt, ABrokerWithUsersRefusesAWrongPasswordLoudlyAndTakesTheRightOne) {
  const std::string users = dir_.path("users");
  const std::string command = "/usr/bin/mosquitto_passwd -c -b " + users + " escd s3cret";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  readable_by_mosquitto({users});
  start_broker("allow_anonymous false\npassword_file " + users + "\n");
  auto mqtt = std::make_unique<MqttRecorder>(port_, std::vector<std::string>{"escd/#"}, MqttLogin{"escd", "s3cret", ""});
  ASSERT_TRUE(mqtt->subscribed(10s));

  std::ofstream(dir_.path("password")) << "wrong\n";
  start_bridge_with({"--username", "escd", "--password-file", dir_.path("password")});
  EXPECT_TRUE(wait_for_text(dir_.path("esc-mqtt.log"), "refused: Connection Refused: not authorised", 20s)) << logs();
  EXPECT_TRUE(bridge_->running()) << "a refusal must not stop esc-mqtt" << logs();
  EXPECT_FALSE(mqtt->wait_for("escd/bridge/availability", "online", 1s));

  bridge_.reset();
  std::ofstream(dir_.path("password")) << "s3cret\n";
  start_bridge_with({"--username", "escd", "--password-file", dir_.path("password")});
  EXPECT_TRUE(mqtt->wait_for("escd/bridge/availability", "online", 20s)) << logs();
}

// TLS: a broker with a certificate from a CA of the test's own; esc-mqtt trusts that CA
// ([broker.tls] ca_file) and checks the broker's address against the certificate.
TEST_F(EscMqtt, TlsToABrokerWhoseCertificateItsCaSigned) {
  if (access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "/usr/bin/openssl is not installed: no test certificates";
  broker_.reset();
  const std::string d = dir_.str();
  const std::string script =
      "cd " + d + " && exec >openssl.log 2>&1 && "
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=esc-mqtt-test-ca -keyout ca.key -out ca.crt && "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr && "
      "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt";
  ASSERT_EQ(std::system(script.c_str()), 0) << read_text(dir_.path("openssl.log"));
  readable_by_mosquitto({dir_.path("ca.crt"), dir_.path("server.crt"), dir_.path("server.key")});
  start_broker("allow_anonymous true\ncafile " + d + "/ca.crt\ncertfile " + d + "/server.crt\nkeyfile " + d +
               "/server.key\n");
  auto mqtt = std::make_unique<MqttRecorder>(port_, std::vector<std::string>{"escd/#"}, MqttLogin{"", "", d + "/ca.crt"});
  ASSERT_TRUE(mqtt->subscribed(10s)) << broker_->log();
  std::ofstream(dir_.path("esc-mqtt.toml"), std::ios::app) << "[broker.tls]\nca_file = \"" << d << "/ca.crt\"\n";
  start_bridge();
  EXPECT_TRUE(mqtt->wait_for("escd/bridge/availability", "online", 20s)) << logs();
}

// The command line and the config, as a user meets them: exit code 2 and the key named.
struct RunResult {
  int code;
  std::string output;
};
RunResult run_esc_mqtt(const TempDir& dir, const std::vector<std::string>& args) {
  const std::string log = dir.path("run.log");
  std::filesystem::remove(log);
  ChildProcess p(ESC_MQTT_BIN, args, log);
  const int code = p.wait(20s);
  return {code, read_text(log)};
}

TEST(EscMqttCommandLine, MistakesStopItWithAMessageNamingTheKey) {
  TempDir dir;
  // A config of the test's own for the cases about other options: never the machine's /etc/escd.
  std::ofstream(dir.path("empty.toml")) << "";
  const std::vector<std::string> config{"--config", dir.path("empty.toml")};
  const auto with_config = [&](std::vector<std::string> args) {
    args.insert(args.begin(), config.begin(), config.end());
    return args;
  };
  std::ofstream(dir.path("bad.toml")) << "[broker]\nport = 70000\n";
  RunResult r = run_esc_mqtt(dir, {"--config", dir.path("bad.toml")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find(dir.path("bad.toml") + ": [broker] port: expected an integer 1..65535, got 70000"),
            std::string::npos) << r.output;

  std::ofstream(dir.path("typo.toml")) << "[homeassistant]\ndiscovery_prefx = \"ha\"\n";
  r = run_esc_mqtt(dir, {"--config", dir.path("typo.toml")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("[homeassistant] discovery_prefx: unknown key"), std::string::npos) << r.output;

  r = run_esc_mqtt(dir, {"--config", dir.path("missing.toml")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("missing.toml"), std::string::npos) << r.output;

  r = run_esc_mqtt(dir, with_config({"--connect", "udp://escd:1"}));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("[[escd]] 'main' endpoint: expected tcp://host:port or ipc://path"), std::string::npos) << r.output;

  r = run_esc_mqtt(dir, with_config({"--connect", "tcp://127.0.0.1:5556", "--curve-server-key", dir.path("none.pub"),
                         "--curve-client-key", dir.path("none.key")}));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("curve_server_key: " + dir.path("none.pub") + ": no such file"), std::string::npos) << r.output;

  r = run_esc_mqtt(dir, with_config({"--port", "many"}));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--port"), std::string::npos) << r.output;

  r = run_esc_mqtt(dir, with_config({"--curve-server-key", "escd.pub"}));  // only with --connect
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--connect"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace escd::test
