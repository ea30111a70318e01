// esc-proxy: one place to subscribe to many escd. Each escd (one per microphone, room or site)
// connects to it with --proxy and publishes; subscribers (esc-sub, esc-web, esc-mqtt, your own)
// connect to it as they would to one escd and tell the sources apart by the topics' last part.
// The forwarding is ZeroMQ's own (message_proxy.h); this loop publishes the proxy's health and
// feeds the systemd watchdog while the forwarder answers.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <thread>

#include "message_proxy.h"
#include "service_notify.h"
#include "topic.h"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esc-proxy: many escd, one endpoint to subscribe to"};
  escd::daemon::ProxyOptions options;
  options.name = escd::daemon::default_source_name();
  std::string log_level = "info";
  app.add_option("--publishers", options.publishers, "Where escd instances connect and publish (their --proxy)")
      ->capture_default_str();
  app.add_option("--subscribers", options.subscribers, "Where subscribers connect (esc-sub --connect)")->capture_default_str();
  app.add_option("--name", options.name, "The proxy's name: its health is published on esc.proxy.NAME")
      ->capture_default_str();
  app.add_option("--hwm", options.hwm, "Messages queued per peer on each side before ZeroMQ drops for that peer")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--health-interval", options.health_interval_s,
                 "Seconds between esc.proxy messages (they also feed the service watchdog)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 10.0));
  app.add_option("--curve-server-key", options.server_key,
                 "The proxy's CURVE key pair file (escd --generate-curve-keypair): both sides encrypted");
  app.add_option("--curve-publisher-keys", options.publisher_keys,
                 "Allowlist of escd public keys that may publish ([clients] name = \"key\")");
  app.add_option("--curve-client-keys", options.subscriber_keys,
                 "Allowlist of subscriber public keys ([clients] name = \"key\")");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_default_logger(spdlog::stderr_color_mt("esc-proxy"));
  spdlog::set_level(spdlog::level::from_str(log_level));

  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGTERM, SIGINT}) sigaction(sig, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<escd::daemon::MessageProxy> proxy;
  try {
    proxy = std::make_unique<escd::daemon::MessageProxy>(options);
  } catch (const std::exception& e) {
    // A taken port, a bad key file or name: restarting cannot fix it (the unit does not retry 2).
    spdlog::error("{}", e.what());
    return 2;
  }
  escd::daemon::notify_ready("escd publish to " + proxy->publishers_endpoint() + ", subscribers connect to " +
                             proxy->subscribers_endpoint());

  escd::daemon::WatchdogFeeder watchdog;
  const auto interval = std::chrono::duration<double>(options.health_interval_s);
  auto next_health = std::chrono::steady_clock::now();
  while (!g_stop.load()) {
    if (!proxy->forwarding() && !g_stop.load()) {
      spdlog::error("the forwarder stopped; exiting so that the service restarts");
      return 1;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_health) {
      // From now, not from the missed time: after a stall, no burst of back-to-back reports.
      next_health = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
      const auto health = proxy->publish_health();
      if (!health) {
        // The watchdog is not fed: systemd restarts a proxy whose forwarder hangs.
        if (!g_stop.load()) spdlog::error("the forwarder did not answer within 1 s");
        continue;
      }
      escd::daemon::notify_status(
          std::to_string(static_cast<long long>((*health)["messages_per_s"].get<double>())) + " messages/s, " +
          std::to_string((*health)["publishers"]["connections"]["open"].get<uint64_t>()) + " escd, " +
          std::to_string((*health)["subscribers"]["connections"]["open"].get<uint64_t>()) + " subscriber(s)");
      watchdog.feed();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  spdlog::info("stopping");
  return 0;
}
