#include "mqtt_test_broker.h"

#include <arpa/inet.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

namespace escd::test {
namespace {

using Clock = std::chrono::steady_clock;

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

bool accepts_connections(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in a = loopback(port);
  const bool ok = connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

}  // namespace

int free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(0);
  socklen_t size = sizeof(a);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) != 0) {
    close(fd);
    throw std::runtime_error("no free loopback port");
  }
  close(fd);
  return ntohs(a.sin_port);
}

TestBroker::TestBroker(const std::string& dir, int port, const std::string& listener_options)
    : dir_(dir), port_(port), listener_options_(listener_options) {}

TestBroker::~TestBroker() { stop(); }

void TestBroker::write_config() const {
  // connection_messages: "Client <id> disconnected." (a DISCONNECT) or "... closed its connection."
  std::ofstream(dir_ + "/mosquitto.conf") << "persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n"
                                          << "log_type notice\nlog_type information\nconnection_messages true\n"
                                          << "listener " << port_ << " 127.0.0.1\n" << listener_options_;
}

std::string TestBroker::start_once() {
  write_config();
  const size_t log_start = log().size();
  process_ = std::make_unique<ChildProcess>(kMosquittoBin, std::vector<std::string>{"-c", dir_ + "/mosquitto.conf"},
                                            dir_ + "/mosquitto.log");
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < deadline) {
    // "running" comes once its listener is open: then a connection is to this mosquitto, not to
    // whatever else took the port.
    if (!process_->running()) break;
    if (log().find(" running", log_start) != std::string::npos && accepts_connections(port_)) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return process_->running() ? "timed out" : "exited";
}

bool TestBroker::start(std::string& error) {
  for (int attempt = 1;; ++attempt) {
    const size_t log_start = log().size();
    const std::string why = start_once();
    if (why.empty()) {
      started_before_ = true;
      return true;
    }
    const bool taken = log().find("Address already in use", log_start) != std::string::npos;
    if (!taken || started_before_ || attempt == 5) {
      error = "mosquitto did not start on port " + std::to_string(port_) + " (" + why + "); its log:\n" + log();
      return false;
    }
    stop();
    port_ = free_loopback_port();  // taken since it was free: another one
  }
}

void TestBroker::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  if (process_->wait(std::chrono::seconds(10)) == -1) process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(10));
  process_.reset();
}

std::string TestBroker::log() const {
  std::ifstream in(dir_ + "/mosquitto.log");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

MqttRecorder::MqttRecorder(int port, const std::vector<std::string>& filters, const MqttLogin& login)
    : filters_(filters) {
  mosquitto_lib_init();
  mosq_ = mosquitto_new(nullptr, true, this);
  if (!mosq_) throw std::runtime_error("mosquitto_new failed");
  if (!login.username.empty()) mosquitto_username_pw_set(mosq_, login.username.c_str(), login.password.c_str());
  if (!login.ca_file.empty()) mosquitto_tls_set(mosq_, login.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
  mosquitto_connect_callback_set(mosq_, &MqttRecorder::on_connect);
  mosquitto_message_callback_set(mosq_, &MqttRecorder::on_message);
  mosquitto_subscribe_callback_set(mosq_, &MqttRecorder::on_subscribe);
  if (mosquitto_connect(mosq_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) {
    throw std::runtime_error("the test's MQTT client cannot connect to port " + std::to_string(port));
  }
  mosquitto_loop_start(mosq_);
}

MqttRecorder::~MqttRecorder() {
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, true);
  mosquitto_destroy(mosq_);
}

void MqttRecorder::on_connect(mosquitto* mosq, void* self, int rc) {
  auto* r = static_cast<MqttRecorder*>(self);
  if (rc != 0) return;
  for (const std::string& f : r->filters_) mosquitto_subscribe(mosq, nullptr, f.c_str(), 1);
}

void MqttRecorder::on_subscribe(mosquitto*, void* self, int, int, const int*) {
  auto* r = static_cast<MqttRecorder*>(self);
  {
    std::lock_guard<std::mutex> lock(r->mutex_);
    ++r->acknowledged_;
  }
  r->arrived_.notify_all();
}

void MqttRecorder::on_message(mosquitto*, void* self, const mosquitto_message* m) {
  auto* r = static_cast<MqttRecorder*>(self);
  MqttMessage message{m->topic, m->payloadlen > 0 ? std::string(static_cast<const char*>(m->payload), m->payloadlen) : "",
                      m->retain};
  {
    std::lock_guard<std::mutex> lock(r->mutex_);
    r->messages_.push_back(std::move(message));
  }
  r->arrived_.notify_all();
}

std::optional<MqttMessage> MqttRecorder::wait_for(const std::function<bool(const MqttMessage&)>& match,
                                                  std::chrono::milliseconds timeout, size_t from) {
  std::unique_lock<std::mutex> lock(mutex_);
  size_t checked = from;
  std::optional<MqttMessage> found;
  arrived_.wait_for(lock, timeout, [&] {
    for (; checked < messages_.size(); ++checked) {
      if (match(messages_[checked])) {
        found = messages_[checked];
        return true;
      }
    }
    return false;
  });
  return found;
}

bool MqttRecorder::wait_for(const std::string& topic, const std::string& payload, std::chrono::milliseconds timeout,
                            size_t from) {
  return wait_for([&](const MqttMessage& m) { return m.topic == topic && m.payload == payload; }, timeout, from)
      .has_value();
}

size_t MqttRecorder::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return messages_.size();
}

std::vector<MqttMessage> MqttRecorder::messages() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return messages_;
}

bool MqttRecorder::subscribed(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return arrived_.wait_for(lock, timeout, [this] { return acknowledged_ >= filters_.size(); });
}

}  // namespace escd::test
