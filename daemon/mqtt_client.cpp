#include "mqtt_client.h"

#include <mosquitto.h>
#include <spdlog/spdlog.h>

#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include "util/toml_json.h"

namespace escd::daemon {
namespace {

std::string describe(int rc) {
  return rc == MOSQ_ERR_ERRNO ? std::string(std::strerror(errno)) : std::string(mosquitto_strerror(rc));
}

const char* or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

}  // namespace

MosquittoLibrary::MosquittoLibrary() { mosquitto_lib_init(); }
MosquittoLibrary::~MosquittoLibrary() { mosquitto_lib_cleanup(); }

MqttClient::MqttClient(const MqttBroker& broker, const Publication& will) : broker_(broker) {
  mosq_ = mosquitto_new(broker.client_id.c_str(), /*clean_session=*/true, this);
  if (!mosq_) throw std::runtime_error(std::string("cannot create an MQTT client: ") + std::strerror(errno));
  // This client's network loop runs on its own thread while others publish.
  mosquitto_threaded_set(mosq_, true);
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  if (!broker.username.empty()) {
    const std::string password = broker_password(broker);
    if (const int rc = mosquitto_username_pw_set(mosq_, broker.username.c_str(), or_null(password)); rc != MOSQ_ERR_SUCCESS) {
      throw ConfigError("[broker] username: " + describe(rc));
    }
  }
  const MqttTls& tls = broker.tls;
  if (tls.enabled) {
    if (tls.ca_file.empty() && tls.ca_path.empty()) {
      // The system's CAs (a broker with a certificate from a public CA).
      if (const int rc = mosquitto_int_option(mosq_, MOSQ_OPT_TLS_USE_OS_CERTS, 1); rc != MOSQ_ERR_SUCCESS) {
        throw ConfigError("[broker.tls] enabled: libmosquitto cannot use the system's CAs: " + describe(rc));
      }
    } else if (const int rc = mosquitto_tls_set(mosq_, or_null(tls.ca_file), or_null(tls.ca_path), or_null(tls.cert_file),
                                                or_null(tls.key_file), nullptr);
               rc != MOSQ_ERR_SUCCESS) {
      throw ConfigError("[broker.tls] ca_file, ca_path, cert_file, key_file: libmosquitto cannot use them: " + describe(rc));
    }
    mosquitto_tls_insecure_set(mosq_, tls.insecure);
  }
  if (const int rc = mosquitto_will_set(mosq_, will.topic.c_str(), static_cast<int>(will.payload.size()),
                                        will.payload.data(), will.qos, will.retain);
      rc != MOSQ_ERR_SUCCESS) {
    throw ConfigError("[topics] prefix: the last will's topic " + will.topic + " is refused: " + describe(rc));
  }
  mosquitto_connect_callback_set(mosq_, &MqttClient::on_connect);
  mosquitto_disconnect_callback_set(mosq_, &MqttClient::on_disconnect);
  mosquitto_message_callback_set(mosq_, &MqttClient::on_message_cb);
  mosquitto_publish_callback_set(mosq_, &MqttClient::on_publish);
}

MqttClient::~MqttClient() {
  stop(nullptr, std::chrono::milliseconds(0));
  mosquitto_destroy(mosq_);  // closes a socket still open without a DISCONNECT: the broker sends the will
}

std::string MqttClient::address() const { return broker_.host + ":" + std::to_string(broker_.port); }

void MqttClient::start() {
  // SIGTERM and SIGINT stay with the main thread (its poll returns EINTR and it stops): the new
  // thread inherits this mask.
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  thread_ = std::thread([this] { run(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

bool MqttClient::publish(const Publication& m) {
  if (!connected_.load() ||
      mosquitto_publish(mosq_, nullptr, m.topic.c_str(), static_cast<int>(m.payload.size()),
                        m.payload.empty() ? nullptr : m.payload.data(), m.qos, m.retain) != MOSQ_ERR_SUCCESS) {
    ++dropped_;
    return false;
  }
  return true;
}

void MqttClient::unsubscribe(const std::string& topic) {
  if (connected_.load()) mosquitto_unsubscribe(mosq_, nullptr, topic.c_str());
}

bool MqttClient::publish_acknowledged(const Publication& m, std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    collecting_ = true;  // from now on on_publish notes every mid: `last`'s may come before its mid is known
  }
  int mid = -1;
  if (!connected_.load() ||
      mosquitto_publish(mosq_, &mid, m.topic.c_str(), static_cast<int>(m.payload.size()),
                        m.payload.empty() ? nullptr : m.payload.data(), m.qos, m.retain) != MOSQ_ERR_SUCCESS) {
    return false;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  return wake_.wait_until(lock, deadline, [&] { return acknowledged_.count(mid) > 0 || finished_; }) &&
         acknowledged_.count(mid) > 0;
}

void MqttClient::stop(const Publication* last, std::chrono::milliseconds flush) {
  if (!thread_.joinable()) return;
  const auto deadline = std::chrono::steady_clock::now() + flush;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    disconnecting_ = true;
  }
  wake_.notify_all();
  if (connected_.load()) {
    if (!last || publish_acknowledged(*last, deadline)) {
      // Only now: a DISCONNECT ahead of `last` would drop the will and leave "online" retained.
      mosquitto_disconnect(mosq_);
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_until(lock, deadline, [this] { return finished_; });
    } else {
      spdlog::warn("MQTT broker {}: {} not acknowledged within {} ms: closing without DISCONNECT (the broker "
                   "publishes the last will)", address(), last->topic, flush.count());
    }
  }
  stopping_ = true;
  wake_.notify_all();
  thread_.join();
}

void MqttClient::wait(std::chrono::duration<double> delay) {
  std::unique_lock<std::mutex> lock(mutex_);
  wake_.wait_for(lock, delay, [this] { return disconnecting_ || stopping_.load(); });
}

bool MqttClient::leaving() {
  std::lock_guard<std::mutex> lock(mutex_);
  return disconnecting_ || stopping_.load();
}

std::string MqttClient::connect_once(uint64_t before) {
  // Returns at once: mosquitto_loop completes the TCP connect and the TLS handshake, and CONNECT
  // (credentials, will) goes out when the socket is ready.
  int rc = mosquitto_connect_async(mosq_, broker_.host.c_str(), broker_.port, broker_.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) return "cannot connect: " + describe(rc);
  // Until stop(): at once if no connection is up (a pending connect is abandoned), else once the
  // DISCONNECT went out (or stop() gave up on the broker).
  while (!stopping_.load() && (rc = mosquitto_loop(mosq_, 200, 1)) == MOSQ_ERR_SUCCESS) {
    if (!connected_.load() && leaving()) break;
  }
  const bool was_up = connected_.exchange(false);
  if (refused_) return std::string("refused: ") + mosquitto_connack_string(refused_);
  if (rc == MOSQ_ERR_SUCCESS) return "stopped";
  return std::string(was_up || connections_.load() != before ? "connection lost: " : "cannot connect: ") + describe(rc);
}

void MqttClient::run() {
  const auto min_delay = std::chrono::duration<double>(broker_.reconnect_min_s);
  const auto max_delay = std::chrono::duration<double>(broker_.reconnect_max_s);
  auto delay = min_delay;
  while (!leaving()) {
    refused_ = 0;
    const uint64_t before = connections_.load();
    const std::string why = connect_once(before);
    if (leaving()) break;
    if (connections_.load() != before) delay = min_delay;  // this connection was accepted: start over
    spdlog::warn("MQTT broker {}: {}; retrying in {:.1f} s", address(), why, delay.count());
    wait(delay);
    delay = std::min(delay * 2, max_delay);
  }
  connected_ = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
  }
  wake_.notify_all();
}

void MqttClient::on_publish(mosquitto*, void* self, int mid) {
  auto* client = static_cast<MqttClient*>(self);
  {
    std::lock_guard<std::mutex> lock(client->mutex_);
    if (!client->collecting_) return;
    client->acknowledged_.insert(mid);
  }
  client->wake_.notify_all();
}

void MqttClient::on_connect(mosquitto* mosq, void* self, int rc) {
  auto* client = static_cast<MqttClient*>(self);
  if (rc != 0) {
    client->refused_ = rc;
    return;
  }
  if (client->on_connected) client->on_connected();
  for (const std::string& topic : client->subscriptions_) mosquitto_subscribe(mosq, nullptr, topic.c_str(), 1);
  client->connected_ = true;
  ++client->connections_;
  spdlog::info("MQTT broker {}: connected", client->address());
}

void MqttClient::on_disconnect(mosquitto*, void* self, int) { static_cast<MqttClient*>(self)->connected_ = false; }

void MqttClient::on_message_cb(mosquitto*, void* self, const mosquitto_message* m) {
  auto* client = static_cast<MqttClient*>(self);
  if (!client->on_message || !m->topic) return;
  const std::string payload =
      m->payloadlen > 0 ? std::string(static_cast<const char*>(m->payload), static_cast<size_t>(m->payloadlen)) : "";
  client->on_message(m->topic, payload, m->retain);
}

}  // namespace escd::daemon
