// esc-web: what escd hears, live in a browser (http://127.0.0.1:8088/ by default), and /metrics for
// Prometheus. Subscribes to one escd like esc-sub (CURVE included) and serves the page and the
// stream from its own threads; this loop only receives escd's messages and notices when it goes
// quiet.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>

#include "endpoint_scope.h"
#include "escd_subscription.h"
#include "service_notify.h"
#include "topic.h"
#include "web_server.h"
#include "web_state.h"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

// "host:port" or "[v6 host]:port".
std::pair<std::string, int> parse_listen(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    throw std::invalid_argument("--listen: expected HOST:PORT (e.g. 127.0.0.1:8088), got '" + text + "'");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
  }
  if (host.empty() || port < 0 || port > 65535) {
    throw std::invalid_argument("--listen: expected HOST:PORT with a port 0..65535, got '" + text + "'");
  }
  return {host, port};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esc-web: escd live in a browser, and Prometheus metrics"};
  escd::daemon::EscdEndpoint escd{"tcp://127.0.0.1:5556", "", ""};
  std::string name = "main", listen = "127.0.0.1:8088", log_level = "info", only_source;
  double offline_after_s = 5.0;
  app.add_option("--connect", escd.endpoint, "escd's endpoint (its pub)")->capture_default_str();
  app.add_option("--name", name, "This escd's name on the page and in the metrics' source label")->capture_default_str();
  app.add_option("--source", only_source, "Through an esc-proxy: show only this source (escd --source)");
  app.add_option("--listen", listen, "HTTP address HOST:PORT (port 0: any free port; not loopback: anyone who can reach it sees what the room hears)")
      ->capture_default_str();
  auto* server_key = app.add_option("--curve-server-key", escd.server_key_file, "escd's CURVE public key file (its NAME.pub)");
  auto* client_key = app.add_option("--curve-client-key", escd.client_key_file, "esc-web's CURVE key pair file");
  server_key->needs(client_key);
  client_key->needs(server_key);
  app.add_option("--offline-after", offline_after_s, "escd counts as unreachable after this many seconds without a message")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (!only_source.empty() && !escd::daemon::is_source_name(only_source)) {
    std::fprintf(stderr, "esc-web: --source: expected escd's --source (1-64 of A-Z a-z 0-9 _ -), got '%s'\n",
                 only_source.c_str());
    return 2;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("esc-web"));
  spdlog::set_level(spdlog::level::from_str(log_level));

  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGTERM, SIGINT}) sigaction(sig, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  zmq::context_t context(1);
  zmq::socket_t socket;
  escd::daemon::WebState state(name, escd.endpoint,
                               std::chrono::milliseconds(static_cast<int64_t>(offline_after_s * 1000)));
  std::unique_ptr<escd::daemon::WebServer> server;
  try {
    const auto [host, port] = parse_listen(listen);
    socket = escd::daemon::subscribe_to_escd(context, escd, {"esc.scores.", "esc.event.", "esc.level", "esc.health", "esc.spectrogram"});
    socket.set(zmq::sockopt::rcvtimeo, 200);  // wake up to notice signals and a quiet escd
    server = std::make_unique<escd::daemon::WebServer>(state, host, port);
    if (!escd::daemon::is_local_only_endpoint("tcp://[" + host + "]:" + std::to_string(port))) {
      spdlog::warn("listening on {}: anyone who can reach it sees what the room hears (no authentication; "
                   "keep it on loopback behind an authenticating reverse proxy)", host);
    }
    spdlog::info("live view on http://{}:{}/ (metrics on /metrics), escd {} as '{}'", host.find(':') == std::string::npos ? host : "[" + host + "]",
                 server->port(), escd.endpoint, name);
    escd::daemon::notify_ready("serving on port " + std::to_string(server->port()) + ", escd " + escd.endpoint);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }

  escd::daemon::WatchdogFeeder watchdog;
  while (!g_stop.load()) {
    if (const auto message = escd::daemon::receive_escd_message(socket)) {
      // One page shows one microphone: through a proxy, the others' messages are not its own.
      const auto topic = escd::daemon::parse_topic(message->topic);
      if (only_source.empty() || (topic && topic->source == only_source)) {
        state.on_message(message->topic, message->body, escd::daemon::WebState::Clock::now());
      }
    }
    state.tick(escd::daemon::WebState::Clock::now());
    watchdog.feed();
  }
  spdlog::info("stopping");
  return 0;
}
