// esc-web's HTTP side (cpp-httplib): the live page at /, its Server-Sent Events stream at /events
// (a snapshot, then every message as esc-web receives it, and a keep-alive comment every 15 s), and
// /metrics for Prometheus. Runs on its own threads; everything it serves comes from WebState.
#pragma once

#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace escd::daemon {

class WebState;

class WebServer {
 public:
  // Binds host:port (port 0: any free port) and starts serving. Throws std::runtime_error naming the
  // address when it cannot bind.
  WebServer(WebState& state, const std::string& host, int port);
  // Ends every stream and stops.
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;
  int port() const { return port_; }

 private:
  WebState& state_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

// The page, as built into esc-web (daemon/web/live.html).
const char* live_page();

}  // namespace escd::daemon
