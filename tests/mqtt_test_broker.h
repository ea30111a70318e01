// esc-mqtt's integration tests: a private Mosquitto broker (Debian's /usr/sbin/mosquitto) on a free
// loopback port, and an MQTT client (libmosquitto) that records every message it receives, with
// waits that end as soon as what a test waits for has arrived.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "child_process.h"

struct mosquitto;
struct mosquitto_message;

namespace escd::test {

inline constexpr const char* kMosquittoBin = "/usr/sbin/mosquitto";

// A port on 127.0.0.1 that nothing listened on a moment ago.
int free_loopback_port();

class TestBroker {
 public:
  // Its config (no persistence: a restart forgets retained messages) goes in `dir`, with
  // `listener_options` for its one listener (who may connect: anonymous clients by default; TLS).
  TestBroker(const std::string& dir, int port, const std::string& listener_options = "allow_anonymous true\n");
  ~TestBroker();
  // Starts it and waits until it runs and accepts connections; false (with its log) after 15 s. The
  // first start moves to another free port when this one was taken meanwhile (port() tells); a
  // restart keeps the port its clients know.
  bool start(std::string& error);
  void stop();  // SIGTERM, then waits for it
  int port() const { return port_; }
  std::string log() const;

 private:
  // One attempt on port_: "" once it runs, else why not.
  std::string start_once();
  void write_config() const;

  std::string dir_;
  int port_;
  std::string listener_options_;
  bool started_before_ = false;
  std::unique_ptr<ChildProcess> process_;
};

// How the test's client logs in: a user (when `username` is set) and TLS (when `ca_file` is).
struct MqttLogin {
  std::string username, password, ca_file;
};

struct MqttMessage {
  std::string topic, payload;
  bool retained = false;
};

class MqttRecorder {
 public:
  // Connects to 127.0.0.1:port and subscribes to `filters` (e.g. "escd/#").
  MqttRecorder(int port, const std::vector<std::string>& filters, const MqttLogin& login = {});
  ~MqttRecorder();
  // The first message that `match` accepts among those from the `from`th on (0: the start of the
  // recording), waiting up to `timeout`.
  std::optional<MqttMessage> wait_for(const std::function<bool(const MqttMessage&)>& match,
                                      std::chrono::milliseconds timeout, size_t from = 0);
  // The first message on `topic` with `payload`, from the `from`th on.
  bool wait_for(const std::string& topic, const std::string& payload, std::chrono::milliseconds timeout,
                size_t from = 0);
  // How many messages arrived so far: a `from` for what is still to come.
  size_t count() const;
  std::vector<MqttMessage> messages() const;
  // Waits until the broker acknowledged the subscriptions: from then on nothing published is missed.
  bool subscribed(std::chrono::milliseconds timeout);

 private:
  static void on_connect(mosquitto*, void* self, int rc);
  static void on_message(mosquitto*, void* self, const mosquitto_message* m);
  static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted);

  mosquitto* mosq_ = nullptr;
  std::vector<std::string> filters_;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<MqttMessage> messages_;
  size_t acknowledged_ = 0;  // SUBACKs
};

}  // namespace escd::test
