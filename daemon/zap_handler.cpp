#include "zap_handler.h"

#include <spdlog/spdlog.h>
#include <zmq.h>

#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

namespace escd::daemon {
namespace {

// Denials are logged one by one up to this many, then once per this many: a client retrying in a
// loop must not flood the log (the count in esc.health stays exact).
constexpr uint64_t kDenialsLogged = 20;

std::string z85(const zmq::message_t& binary_key) {
  if (binary_key.size() != 32) return "(not a 32-byte key)";
  char text[41];
  zmq_z85_encode(text, static_cast<const uint8_t*>(binary_key.data()), 32);
  return text;
}

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context, std::map<std::string, std::string> allowed, std::string peers,
                       std::string owner, std::string list)
    : allowed_(std::move(allowed)),
      peers_(std::move(peers)),
      owner_(std::move(owner)),
      list_(std::move(list)),
      socket_(std::make_unique<zmq::socket_t>(context, zmq::socket_type::rep)) {
  socket_->set(zmq::sockopt::linger, 0);
  socket_->bind("inproc://zeromq.zap.01");
  thread_ = std::thread([this] { run(); });
}

ZapHandler::~ZapHandler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ZapHandler::run() {
  zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
  while (!stop_.load()) {
    if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
    std::vector<zmq::message_t> request;
    if (!zmq::recv_multipart(*socket_, std::back_inserter(request), zmq::recv_flags::dontwait)) continue;
    // RFC 27: version, request id, domain, address, routing id, mechanism, credentials...
    const bool well_formed = request.size() >= 6 && request[0].to_string_view() == "1.0";
    const std::string request_id = request.size() > 1 ? request[1].to_string() : "";
    const std::string address = request.size() > 3 ? request[3].to_string() : "?";
    std::string status = "400", text = "not in " + owner_ + "'s CURVE " + list_ + " allowlist", user;
    if (!well_formed) {
      status = "500";
      text = "malformed ZAP request";
    } else if (request[5].to_string_view() == "CURVE" && request.size() == 7) {
      const std::string key = z85(request[6]);
      if (const auto it = allowed_.find(key); it != allowed_.end()) {
        status = "200";
        text = "OK";
        user = it->second;
      } else {
        text = "CURVE public key " + key + " is not in " + owner_ + "'s " + list_ + " allowlist";
      }
    } else {
      text = "mechanism " + request[5].to_string() + " is not allowed (CURVE only)";
    }
    if (status == "200") {
      ++accepted_;
      spdlog::info("{} '{}' authenticated (CURVE) from {}", peers_, user, address);
    } else {
      const uint64_t n = ++denied_;
      if (n <= kDenialsLogged || n % 1000 == 0) {
        spdlog::warn("{} from {} refused: {} ({} refused so far)", peers_, address, text, n);
      }
    }
    std::vector<zmq::const_buffer> reply = {zmq::str_buffer("1.0"), zmq::buffer(request_id), zmq::buffer(status),
                                            zmq::buffer(text), zmq::buffer(user), zmq::const_buffer()};
    zmq::send_multipart(*socket_, reply);
  }
  socket_->close();
}

}  // namespace escd::daemon
