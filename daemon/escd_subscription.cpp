#include "escd_subscription.h"

#include <cerrno>
#include <stdexcept>

#include "curve_keys.h"

namespace escd::daemon {

zmq::socket_t subscribe_to_escd(zmq::context_t& context, const EscdEndpoint& escd,
                                const std::vector<std::string>& topics, int reconnect_max_ms) {
  zmq::socket_t socket(context, zmq::socket_type::sub);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::reconnect_ivl, 100);
  socket.set(zmq::sockopt::reconnect_ivl_max, reconnect_max_ms);
  if (!escd.server_key_file.empty() || !escd.client_key_file.empty()) {
    if (escd.server_key_file.empty() || escd.client_key_file.empty()) {
      throw std::runtime_error("CURVE needs both escd's public key file and this subscriber's key pair file");
    }
    require_curve_support("--curve-server-key");
    const CurveKeypair server = read_curve_key_file(escd.server_key_file, /*need_secret=*/false);
    const CurveKeypair own = read_curve_key_file(escd.client_key_file, /*need_secret=*/true);
    socket.set(zmq::sockopt::curve_serverkey, server.public_key);
    socket.set(zmq::sockopt::curve_publickey, own.public_key);
    socket.set(zmq::sockopt::curve_secretkey, own.secret_key);
  }
  try {
    socket.connect(escd.endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error("cannot connect to " + escd.endpoint + ": " + e.what());
  }
  for (const auto& t : topics.empty() ? std::vector<std::string>{""} : topics) socket.set(zmq::sockopt::subscribe, t);
  return socket;
}

std::optional<EscdMessage> receive_escd_message(zmq::socket_t& socket, zmq::recv_flags flags) {
  zmq::message_t topic, payload;
  try {
    if (!socket.recv(topic, flags)) return std::nullopt;
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    return std::nullopt;  // a signal (SIGTERM) while waiting: the caller's loop looks at why
  }
  if (!topic.more()) return std::nullopt;
  if (!socket.recv(payload)) return std::nullopt;
  // Frames of one message arrive together: any beyond escd's two are there to be dropped.
  for (zmq::message_t extra; payload.more() && socket.recv(extra) && extra.more();) {
  }
  return EscdMessage{topic.to_string(), nlohmann::json::parse(payload.to_string(), nullptr, false)};
}

}  // namespace escd::daemon
