// escd: microphone (or file, or stdin) to environmental-sound predictions over ZeroMQ.
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "command_line.h"
#include "curve_keygen.h"
#include "daemon_options.h"
#include "pipeline.h"
#include "publisher.h"
#include "source_factory.h"
#include "systemd_notify.h"
#include "wait_for_device.h"
#include "util/compute_threads.h"
#include "util/toml_json.h"

namespace {

escd::daemon::PipelineSignals* g_signals = nullptr;
escd::AudioSource* g_source = nullptr;

// Async-signal-safe: only atomics (and the source's interrupt flag).
void on_signal(int sig) {
  if (!g_signals) return;
  if (sig == SIGHUP) {
    g_signals->reload = true;
  } else {
    g_signals->stop = true;
    if (g_source) g_source->interrupt();
  }
}

}  // namespace

int main(int argc, char** argv) {
  using escd::daemon::DaemonOptions;
  CLI::App app{"escd: real-time environmental-sound classification, published over ZeroMQ"};
  escd::daemon::CommandLine line;
  escd::daemon::add_command_line(app, line);
  CLI11_PARSE(app, argc, argv);

  if (line.list_devices) return escd::daemon::print_devices();
  if (!line.generate_keypair.empty()) {
    try {
      const auto keys = escd::daemon::generate_curve_keypair();
      escd::daemon::write_curve_keypair(line.generate_keypair, keys);
      std::printf("%s\n", keys.public_key.c_str());
      spdlog::info("wrote {} (secret) and {}.pub; public key {}", line.generate_keypair, line.generate_keypair,
                   keys.public_key);
      return 0;
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return 2;
    }
  }

  // Signals first: a SIGTERM while the config and models load must stop escd cleanly (exit 0), not
  // kill it with the default action.
  escd::daemon::PipelineSignals signals;
  g_signals = &signals;
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  DaemonOptions options;
  try {
    const std::string path = line.config.empty() ? escd::daemon::default_config_path() : line.config;
    if (!path.empty()) escd::daemon::apply_config_file(options, path);
    // The command line wins over the file.
    escd::daemon::apply_config(options, line.overrides, "command line");
    if (!line.checkpoint.empty()) options.checkpoint = line.checkpoint;
    escd::daemon::validate(options);
    // Key files are settings too: a bad one is a start-up error that names it (exit 2).
    if (!options.curve_server_key.empty()) {
      escd::daemon::require_curve_support("--curve-server-key");
      escd::daemon::read_curve_key_file(options.curve_server_key, /*need_secret=*/true);
    }
    if (!options.curve_client_keys.empty()) escd::daemon::read_curve_client_keys(options.curve_client_keys);
    if (!options.curve_proxy_key.empty()) escd::daemon::read_curve_key_file(options.curve_proxy_key, /*need_secret=*/false);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  escd::set_compute_threads(options.threads);
  // ATen's own kernels instead of oneDNN's: oneDNN compiles its kernels at run time into writable,
  // executable memory, which the systemd units forbid (MemoryDenyWriteExecute=yes), and Liquid-S4's
  // GELU on [rows, 128] steps would go to it ("could not create a primitive"). Same results; no
  // measurable CPU difference on these small tensors (tests/sandbox_escd.sh, README).
  at::globalContext().setUserEnabledMkldnn(false);

  try {
    // Everything that can fail for good fails before the wait for a microphone: an endpoint that
    // does not bind, a checkpoint that does not load. A wrong setting must end a (systemd) start
    // at once with its reason, not hide behind "waiting for the audio input".
    if (!options.proxy.empty()) spdlog::info("publishing to the proxy {}: pub ({}) is not bound", options.proxy, options.pub);
    escd::daemon::Publisher publisher(
        {options.proxy.empty() ? options.pub : options.proxy, !options.proxy.empty(), options.send_hwm, options.source},
        {options.curve_server_key, options.curve_client_keys, options.curve_proxy_key});
    escd::daemon::Pipeline pipeline(options, publisher);
    // A microphone that is not there yet is waited for (health says so); SIGTERM ends the wait.
    std::unique_ptr<escd::AudioSource> source =
        escd::daemon::open_source_waiting(options, publisher, signals.stop, escd::daemon::systemd_status);
    if (!source) {
      spdlog::info("stopped while waiting for the audio input");
      return 0;
    }
    // The signal handler must stop using the source before the pipeline, which owns it, is gone:
    // declared after the pipeline, this clears it first, also when run() throws.
    struct ForgetSource {
      ~ForgetSource() { g_source = nullptr; }
    } forget_source;
    g_source = source.get();
    escd::daemon::attach_systemd(pipeline);
    return pipeline.run(std::move(source), signals);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
