#include "command_line.h"

#include <sstream>
#include <type_traits>

namespace escd::daemon {
namespace {

// An option whose value is the config key [table] key.
template <typename T>
void setting(CLI::App& app, CommandLine& line, const std::string& flag, const char* table, const char* key,
             const std::string& help) {
  app.add_option_function<T>(
      flag,
      [&line, table, key](const T& value) {
        if constexpr (std::is_same_v<T, std::string>) {
          if (value.empty()) return;  // an empty text leaves the file's value, as it always has
        }
        line.overrides[table][key] = value;
      },
      help);
}

// A flag that sets the config key [table] key to true.
void switch_on(CLI::App& app, CommandLine& line, const std::string& flag, const char* table, const char* key,
               const std::string& help) {
  app.add_flag_callback(flag, [&line, table, key] { line.overrides[table][key] = true; }, help);
}

}  // namespace

void add_command_line(CLI::App& app, CommandLine& line) {
  app.add_option("--config", line.config, "Config file (default /etc/escd/escd.toml or config/escd.toml)");
  app.add_option_function<std::string>(
      "--model",
      [&line](const std::string& list) {
        nlohmann::json models = nlohmann::json::array();
        std::stringstream items(list);
        for (std::string m; std::getline(items, m, ',');) {
          if (!m.empty()) models.push_back(m);
        }
        line.overrides["daemon"]["models"] = models;
      },
      "Model(s), comma-separated: liquid_s4, mamba, vjepa2 (default mamba)");
  switch_on(app, line, "--ensemble", "daemon", "ensemble",
            "With several models: also publish their combined probabilities as model 'ensemble' (esc.scores.ensemble)");
  app.add_option("--checkpoint", line.checkpoint, "Checkpoint file (with a single --model)");
  app.add_flag("--list-devices", line.list_devices, "List audio input devices and exit");
  setting<std::string>(app, line, "--device", "input", "device", "Input device: index or name substring");
  setting<std::string>(app, line, "--input", "input", "file",
                       "Audio file, or - for raw PCM on stdin (instead of a microphone)");
  setting<std::string>(app, line, "--format", "input", "format",
                       "Raw PCM format on stdin, little-endian: s16le | s24_le (24 bits in 4-byte words) | s24_3le "
                       "(24 bits packed in 3 bytes) | s32le | f32le; arecord's -f names work too (S16_LE, S24_LE, "
                       "S24_3LE, S32_LE, FLOAT_LE)");
  setting<int>(app, line, "--rate", "input", "rate", "Raw PCM sample rate on stdin");
  setting<int>(app, line, "--channels", "input", "channels", "Raw PCM channels on stdin");
  switch_on(app, line, "--spectrogram", "spectrogram", "enabled",
            "Also publish a small live spectrogram on esc.spectrogram (for esc-web's page)");
  switch_on(app, line, "--fast", "input", "fast", "Files and stdin: as fast as possible (not real time); exit at the end");
  setting<std::string>(app, line, "--pub", "daemon", "pub", "ZeroMQ endpoint to publish on (tcp://127.0.0.1:5556, ipc://...)");
  setting<std::string>(app, line, "--proxy", "daemon", "proxy",
                       "Publish by connecting to an esc-proxy at this endpoint (its --publishers) instead of binding --pub");
  setting<std::string>(app, line, "--source", "daemon", "source",
                       "This microphone's name, the last part of every topic (default: the host name)");
  setting<double>(app, line, "--hop-ms", "daemon", "hop_ms", "Prediction interval in ms (multiple of 32, at least one frame)");
  setting<int>(app, line, "--threads", "daemon", "threads", "Inference threads");
  setting<std::string>(app, line, "--log-level", "daemon", "log_level", "trace|debug|info|warn|error");
  app.add_option_function<std::string>(
      "--record",
      [&line](const std::string& directory) {
        line.overrides["recordings"]["enabled"] = true;
        line.overrides["recordings"]["directory"] = directory;
      },
      "Keep each event's audio as FLAC in DIR/<class>/ (with pre- and post-roll; [recordings] in the config)");
  setting<std::string>(app, line, "--curve-server-key", "security", "curve_server_key",
                       "escd's CURVE key pair file: encrypt, subscribers need its .pub");
  setting<std::string>(app, line, "--curve-client-keys", "security", "curve_client_keys",
                       "Allowlist of subscriber public keys ([clients] name = \"key\")");
  setting<std::string>(app, line, "--curve-proxy-key", "security", "curve_proxy_key",
                       "With --proxy and --curve-server-key: the esc-proxy's CURVE public key file (its NAME.pub)");
  app.add_option("--generate-curve-keypair", line.generate_keypair,
                 "Write a CURVE key pair to FILE (0600) and FILE.pub, then exit");
}

}  // namespace escd::daemon
