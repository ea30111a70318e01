// esc-mqtt's connection to the broker, through libmosquitto: MQTT 3.1.1, clean session, a last will
// (retained) that the broker publishes when the connection dies without a DISCONNECT, optional
// username/password and TLS. A thread of its own (SIGTERM and SIGINT blocked: they go to the main
// thread) connects without blocking (mosquitto_connect_async; mosquitto_loop finishes the TCP and
// TLS handshakes), runs libmosquitto's network loop in 200 ms steps so that stop() never waits for
// a connect, and, when the connection fails or drops, reconnects with backoff (reconnect_min_s
// doubling up to reconnect_max_s, back to the minimum after a successful CONNACK), logging why each
// time. Other threads publish; `connections()` tells them when a new connection needs the retained
// state sent again.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mqtt_discovery.h"
#include "mqtt_options.h"

struct mosquitto;
struct mosquitto_message;

namespace escd::daemon {

// libmosquitto's global state (mosquitto_lib_init / mosquitto_lib_cleanup): one in main, around
// every client.
class MosquittoLibrary {
 public:
  MosquittoLibrary();
  ~MosquittoLibrary();
  MosquittoLibrary(const MosquittoLibrary&) = delete;
  MosquittoLibrary& operator=(const MosquittoLibrary&) = delete;
};

class MqttClient {
 public:
  // Checks the settings with libmosquitto (TLS files, credentials) and throws ConfigError naming
  // the key; connects only on start().
  MqttClient(const MqttBroker& broker, const Publication& will);
  ~MqttClient();  // stop()
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Topics to subscribe to on every connection; set before start().
  void subscribe(const std::string& topic) { subscriptions_.push_back(topic); }
  // Messages on those topics, called on the client's thread (`retained`: sent from the broker's store).
  std::function<void(const std::string& topic, const std::string& payload, bool retained)> on_message;
  // Each accepted connection, called on the client's thread before it subscribes.
  std::function<void()> on_connected;
  // Ends a subscription of this connection (the next connection has them all again).
  void unsubscribe(const std::string& topic);

  void start();
  // Publishes `message` if connected (false otherwise: the caller sends its whole state again on
  // the next connection, so nothing is queued while the broker is away).
  bool publish(const Publication& message);
  // Sends `last` (e.g. "offline" in place of the will, which a clean disconnect does not trigger),
  // waits at most `flush` for the broker to acknowledge it, then disconnects cleanly and stops the
  // thread. Not acknowledged in time: no DISCONNECT (the socket closes with the client), so that the
  // broker publishes the will instead.
  void stop(const Publication* last = nullptr, std::chrono::milliseconds flush = std::chrono::milliseconds(2000));

  bool connected() const { return connected_.load(); }
  // Successful connections (CONNACK accepted) so far: a change means "send everything again".
  uint64_t connections() const { return connections_.load(); }
  uint64_t dropped() const { return dropped_.load(); }
  std::string address() const;

 private:
  void run();
  // Sleeps `delay`, or less if stop() is called.
  void wait(std::chrono::duration<double> delay);
  static void on_connect(mosquitto*, void* self, int rc);
  static void on_disconnect(mosquitto*, void* self, int rc);
  static void on_message_cb(mosquitto*, void* self, const mosquitto_message* m);
  static void on_publish(mosquitto*, void* self, int mid);
  // One connection, from mosquitto_connect_async to its end; returns why it ended.
  std::string connect_once(uint64_t before);
  // Publishes `last` and waits until `deadline` for its acknowledgement.
  bool publish_acknowledged(const Publication& last, std::chrono::steady_clock::time_point deadline);
  bool leaving();

  MqttBroker broker_;
  mosquitto* mosq_ = nullptr;
  std::vector<std::string> subscriptions_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool disconnecting_ = false, finished_ = false;  // under mutex_: stop() asked; run() returned
  bool collecting_ = false;                        // under mutex_: stop() waits for an acknowledgement...
  std::set<int> acknowledged_;                     // ...of one of these mids (PUBACK, or sent for QoS 0)
  std::atomic<bool> stopping_{false}, connected_{false};
  std::atomic<uint64_t> connections_{0}, dropped_{0};
  std::atomic<int> refused_{0};  // the broker's CONNACK refusal code of the last attempt
};

}  // namespace escd::daemon
