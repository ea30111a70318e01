// escd's settings: defaults, then the config file (config/escd.toml, installed as
// /etc/escd/escd.toml), then the command line, which wins. Every option exists in both places.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "recording_options.h"
#include "streaming/event_detector.h"
#include "topic.h"

namespace escd::daemon {

struct DaemonOptions {
  std::vector<std::string> models{"mamba"};
  bool ensemble = false;            // with several models: also publish their combined probabilities
  std::string checkpoint;           // only with a single model: overrides the lookup
  std::vector<std::string> checkpoints_by_model;  // "name=path" from [models] checkpoint keys
  std::string config_path;          // the file these options came from ("" = none)
  std::string pub = "tcp://127.0.0.1:5556";
  std::string proxy;                // an esc-proxy's endpoint: connect and publish there instead of binding pub
  std::string source = default_source_name();  // this microphone's name: the last part of every topic
  int send_hwm = 1000;              // ZeroMQ send high-water mark (messages per subscriber)
  double hop_ms = 500.0;            // prediction interval; rounded to whole 32 ms frames, at least one
  double health_interval_s = 1.0;
  std::string log_level = "info";
  int threads = 1;                  // torch threads for inference
  // security ([security] in the config file; README: Security)
  std::string curve_server_key;     // escd's CURVE key pair file ("" = plain ZeroMQ)
  std::string curve_client_keys;    // allowlist of subscriber public keys ("" = any with escd's key)
  std::string curve_proxy_key;      // with proxy: the esc-proxy's public key file (its NAME.pub)
  // input
  std::string device;               // PortAudio device: index or name substring ("" = default)
  std::string input;                // audio file, or "-" for raw PCM on stdin ("" = microphone)
  std::string format = "s16le";     // raw PCM on stdin: audio/raw_pcm_source.h lists the formats
  int rate = 16000;                 // raw PCM on stdin
  int channels = 1;                 // raw PCM on stdin
  bool fast = false;                // files: as fast as possible, exit at the end
  // output
  int top_k = 5;
  bool full_scores = false;
  bool spectrogram = false;         // [spectrogram] enabled: esc.spectrogram for live views (esc-web)
  int spectrogram_frames_per_column = 4;  // 32 ms frames per column: 4 = about 8 columns a second
  EventConfig events;
  RecordingOptions recordings;      // [recordings]: the audio of events, kept on disk
};

// Reads a config file into `options` (only the keys present change). Throws ConfigError naming
// the file, the table and the key for unknown keys, wrong types and bad values.
void apply_config_file(DaemonOptions& options, const std::string& path);

// The same for tables already parsed ({table: {key: value}}, e.g. the command line's overrides);
// `source` names them in errors.
void apply_config(DaemonOptions& options, const nlohmann::json& tables, const std::string& source);

// Checks values that do not depend on where they came from; throws ConfigError with the reason.
void validate(const DaemonOptions& options);

// The default config: /etc/escd/escd.toml if present, else config/escd.toml in the working
// directory or the source tree; "" when none exists.
std::string default_config_path();

}  // namespace escd::daemon
