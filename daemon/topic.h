// escd's ZeroMQ topic names: esc.<kind>[.<model>].<source>, e.g. esc.scores.mamba.kitchen or
// esc.level.kitchen. The source (the name of the microphone's escd) comes last, so a subscription,
// which is a prefix, to esc.scores.mamba matches every source. A prefix cannot pick one source
// exactly (esc.level.kitchen also matches kitchen-2): subscribers compare the parsed source
// (esc-sub --source, esc-web --source, esc-mqtt's source).
// Kinds with a model: scores, event, recording; without: level, health, spectrogram, and proxy (an
// esc-proxy's own health, its source being the proxy's name).
#pragma once

#include <optional>
#include <string>

namespace escd::daemon {

struct Topic {
  std::string kind;    // "scores", "level", ...
  std::string model;   // "" for the kinds without a model
  std::string source;  // "" for a topic without one (escd before sources had names)
};

// The name of `topic`; an empty model or source is left out.
std::string topic_name(const Topic& topic);

// `stream` (esc.<kind>[.<model>], as the pipeline names what it publishes) with `source` appended.
std::string with_source(const std::string& stream, const std::string& source);

// Splits a topic name; std::nullopt for names that are not escd's (another prefix, an unknown kind,
// too many or too few parts).
std::optional<Topic> parse_topic(const std::string& name);

// The topic without its source: esc.scores.mamba for esc.scores.mamba.kitchen; names that are not
// escd's are returned unchanged.
std::string stream_of(const std::string& name);

// A source name: 1-64 characters of A-Z a-z 0-9 _ - (no dot: it is one part of a topic).
bool is_source_name(const std::string& name);

// The default source name: this machine's host name up to its first dot, other characters than the
// allowed ones replaced by '-'; "escd" when there is none.
std::string default_source_name();

}  // namespace escd::daemon
