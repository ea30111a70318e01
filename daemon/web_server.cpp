#include "web_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "live_page.h"  // generated from daemon/web/live.html
#include "web_state.h"

namespace escd::daemon {
namespace {

// Browsers reconnect by themselves; a comment line keeps proxies and idle timeouts from closing a
// quiet stream and tells the server when the browser has gone.
constexpr auto kKeepAlive = std::chrono::seconds(15);
// One thread per open live view; the rest keep the page and /metrics answering (a Prometheus scrape
// must not wait behind browsers).
constexpr size_t kThreads = 16;
constexpr size_t kMaxStreams = 12;

std::string sse(const std::string& event, const std::string& data) { return "event: " + event + "\ndata: " + data + "\n\n"; }

bool write(httplib::DataSink& sink, const std::string& text) { return sink.write(text.data(), text.size()); }

}  // namespace

const char* live_page() { return kLivePage; }

WebServer::WebServer(WebState& state, const std::string& host, int port)
    : state_(state), server_(std::make_unique<httplib::Server>()) {
  server_->new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  server_->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content(kLivePage, "text/html; charset=utf-8");
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(state_.metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/events", [this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");  // a reverse proxy must not hold the stream back
    if (!state_.open_stream(kMaxStreams)) {
      res.status = 503;
      res.set_content("esc-web: " + std::to_string(kMaxStreams) + " live views are open already\n", "text/plain");
      return;
    }
    auto after = std::make_shared<uint64_t>(0);
    auto started = std::make_shared<bool>(false);
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, after, started](size_t, httplib::DataSink& sink) {
          if (!*started) {  // the snapshot, then every message after the newest it includes
            *started = true;
            return write(sink, sse("snapshot", state_.snapshot(after.get()).dump()));
          }
          const std::vector<LiveMessage> messages = state_.next(*after, kKeepAlive);
          if (state_.closed()) return false;
          if (messages.empty()) return write(sink, ": keep-alive\n\n");
          std::string text;
          for (const LiveMessage& m : messages) text += sse(m.event, m.data);
          return write(sink, text);
        },
        [this](bool) { state_.close_stream(); });
  });
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second esc-web on the same
  // port would start and share the connections instead of failing.
  server_->set_socket_options([](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  port_ = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + " (in use, or no such address)");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only works once the server runs: wait for it, so that a SIGTERM at once cannot hang.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

WebServer::~WebServer() {
  state_.close();
  server_->stop();
  thread_.join();
}

}  // namespace escd::daemon
