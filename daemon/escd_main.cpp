// escd: microphone (or file, or stdin) to environmental-sound predictions over ZeroMQ.
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

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
  std::string config, models, pub, device, input, format, log_level, checkpoint;
  std::string curve_server_key, curve_client_keys, generate_keypair;
  double hop_ms = 0;
  int rate = 0, channels = 0, threads = 0;
  bool fast = false, list_devices = false, ensemble = false;
  app.add_option("--config", config, "Config file (default /etc/escd/escd.toml or config/escd.toml)");
  app.add_option("--model", models, "Model(s), comma-separated: liquid_s4, mamba, vjepa2 (default mamba)");
  app.add_flag("--ensemble", ensemble,
               "With several models: also publish their mean probability as model 'ensemble' (esc.scores.ensemble)");
  app.add_option("--checkpoint", checkpoint, "Checkpoint file (with a single --model)");
  app.add_flag("--list-devices", list_devices, "List audio input devices and exit");
  app.add_option("--device", device, "Input device: index or name substring");
  app.add_option("--input", input, "Audio file, or - for raw PCM on stdin (instead of a microphone)");
  app.add_option("--format", format,
                 "Raw PCM format on stdin, little-endian: s16le | s24_le (24 bits in 4-byte words) | s24_3le "
                 "(24 bits packed in 3 bytes) | s32le | f32le; arecord's -f names work too (S16_LE, S24_LE, "
                 "S24_3LE, S32_LE, FLOAT_LE)");
  app.add_option("--rate", rate, "Raw PCM sample rate on stdin");
  app.add_option("--channels", channels, "Raw PCM channels on stdin");
  app.add_flag("--fast", fast, "Files and stdin: as fast as possible (not real time); exit at the end");
  app.add_option("--pub", pub, "ZeroMQ endpoint to publish on (tcp://127.0.0.1:5556, ipc://...)");
  app.add_option("--hop-ms", hop_ms, "Prediction interval in ms (multiple of 32, at least one frame)");
  app.add_option("--threads", threads, "Inference threads");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
  app.add_option("--curve-server-key", curve_server_key, "escd's CURVE key pair file: encrypt, subscribers need its .pub");
  app.add_option("--curve-client-keys", curve_client_keys, "Allowlist of subscriber public keys ([clients] name = \"key\")");
  app.add_option("--generate-curve-keypair", generate_keypair, "Write a CURVE key pair to FILE (0600) and FILE.pub, then exit");
  CLI11_PARSE(app, argc, argv);

  if (list_devices) return escd::daemon::print_devices();
  if (!generate_keypair.empty()) {
    try {
      const auto keys = escd::daemon::generate_curve_keypair();
      escd::daemon::write_curve_keypair(generate_keypair, keys);
      std::printf("%s\n", keys.public_key.c_str());
      spdlog::info("wrote {} (secret) and {}.pub; public key {}", generate_keypair, generate_keypair, keys.public_key);
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
    const std::string path = config.empty() ? escd::daemon::default_config_path() : config;
    if (!path.empty()) escd::daemon::apply_config_file(options, path);
    // The command line wins over the file.
    if (!models.empty()) {
      options.models.clear();
      std::stringstream list(models);
      for (std::string m; std::getline(list, m, ',');) {
        if (!m.empty()) options.models.push_back(m);
      }
    }
    if (!checkpoint.empty()) options.checkpoint = checkpoint;
    if (!pub.empty()) options.pub = pub;
    if (!device.empty()) options.device = device;
    if (!input.empty()) options.input = input;
    if (!format.empty()) options.format = format;
    if (rate) options.rate = rate;
    if (channels) options.channels = channels;
    if (fast) options.fast = true;
    if (ensemble) options.ensemble = true;
    if (hop_ms) options.hop_ms = hop_ms;
    if (threads) options.threads = threads;
    if (!log_level.empty()) options.log_level = log_level;
    if (!curve_server_key.empty()) options.curve_server_key = curve_server_key;
    if (!curve_client_keys.empty()) options.curve_client_keys = curve_client_keys;
    escd::daemon::validate(options);
    // Key files are settings too: a bad one is a start-up error that names it (exit 2).
    if (!options.curve_server_key.empty()) {
      escd::daemon::require_curve_support("--curve-server-key");
      escd::daemon::read_curve_key_file(options.curve_server_key, /*need_secret=*/true);
    }
    if (!options.curve_client_keys.empty()) escd::daemon::read_curve_client_keys(options.curve_client_keys);
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
    escd::daemon::Publisher publisher(options.pub, options.send_hwm,
                                      {options.curve_server_key, options.curve_client_keys});
    escd::daemon::Pipeline pipeline(options, publisher);
    // A microphone that is not there yet is waited for (health says so); SIGTERM ends the wait.
    std::unique_ptr<escd::AudioSource> source =
        escd::daemon::open_source_waiting(options, publisher, signals.stop, escd::daemon::systemd_status);
    if (!source) {
      spdlog::info("stopped while waiting for the audio input");
      return 0;
    }
    g_source = source.get();
    escd::daemon::attach_systemd(pipeline);
    const int code = pipeline.run(std::move(source), signals);
    g_source = nullptr;
    return code;
  } catch (const std::exception& e) {
    g_source = nullptr;
    spdlog::error("{}", e.what());
    return 1;
  }
}
