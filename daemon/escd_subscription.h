// The subscriber's side of escd's ZeroMQ stream, shared by esc-sub and esc-mqtt: a SUB socket
// connected to escd (as a CURVE client when given escd's public key and a key pair of its own),
// and escd's two-frame messages (topic, JSON) as they arrive.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

namespace escd::daemon {

struct EscdEndpoint {
  std::string endpoint;         // escd's `pub`, e.g. tcp://127.0.0.1:5556
  std::string server_key_file;  // escd's CURVE public key file (its NAME.pub); "" = no CURVE
  std::string client_key_file;  // this subscriber's CURVE key pair (escd --generate-curve-keypair)
};

// A SUB socket connected to `escd`, subscribed to `topics` ("" = everything). ZeroMQ reconnects by
// itself when escd restarts, with backoff from 100 ms doubling up to `reconnect_max_ms`. Throws
// std::runtime_error naming the key file and key, or the endpoint, when that cannot be done.
zmq::socket_t subscribe_to_escd(zmq::context_t& context, const EscdEndpoint& escd,
                                const std::vector<std::string>& topics, int reconnect_max_ms = 5000);

struct EscdMessage {
  std::string topic;
  nlohmann::json body;  // discarded (is_discarded()) when the payload is not JSON
};

// One message, waiting as the socket's receive timeout says (or not at all with dontwait);
// std::nullopt when none came or a signal interrupted the wait. A lone frame (not escd's topic +
// payload) is skipped.
std::optional<EscdMessage> receive_escd_message(zmq::socket_t& socket, zmq::recv_flags flags = zmq::recv_flags::none);

}  // namespace escd::daemon
