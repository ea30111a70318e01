#include "publisher.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>
#include <zmq.hpp>

namespace escd::daemon {

Publisher::Publisher(const std::string& endpoint, int send_hwm)
    : endpoint_(endpoint), context_(std::make_unique<zmq::context_t>(1)) {
  socket_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::pub);
  socket_->set(zmq::sockopt::sndhwm, send_hwm);
  socket_->set(zmq::sockopt::linger, 200);  // a short flush on shutdown, never a hang
  try {
    socket_->bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot publish on " + endpoint + ": " + e.what());
  }
}

Publisher::~Publisher() = default;

void Publisher::publish(const std::string& topic, nlohmann::json body, double stream_time) {
  body["seq"] = seq_[topic]++;
  body["t"] = stream_time;
  body["wall"] = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string payload = body.dump();
  try {
    const auto first = socket_->send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    const auto second = first ? socket_->send(zmq::buffer(payload), zmq::send_flags::dontwait) : first;
    if (first && second) {
      ++sent_;
    } else {
      ++failures_;
    }
  } catch (const zmq::error_t& e) {
    ++failures_;
    spdlog::warn("publish on {} failed: {}", topic, e.what());
  }
}

}  // namespace escd::daemon
