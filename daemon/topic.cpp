#include "topic.h"

#include <unistd.h>

#include <algorithm>
#include <vector>

namespace escd::daemon {
namespace {

bool kind_has_model(const std::string& kind) { return kind == "scores" || kind == "event" || kind == "recording"; }
bool kind_has_no_model(const std::string& kind) {
  return kind == "level" || kind == "health" || kind == "spectrogram" || kind == "proxy";
}

bool source_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::vector<std::string> split_on_dots(const std::string& name) {
  std::vector<std::string> parts;
  size_t from = 0;
  for (size_t dot; (dot = name.find('.', from)) != std::string::npos; from = dot + 1) {
    parts.push_back(name.substr(from, dot - from));
  }
  parts.push_back(name.substr(from));
  return parts;
}

}  // namespace

std::string topic_name(const Topic& topic) {
  std::string name = "esc." + topic.kind;
  if (!topic.model.empty()) name += "." + topic.model;
  if (!topic.source.empty()) name += "." + topic.source;
  return name;
}

std::string with_source(const std::string& stream, const std::string& source) {
  return source.empty() ? stream : stream + "." + source;
}

std::optional<Topic> parse_topic(const std::string& name) {
  const std::vector<std::string> parts = split_on_dots(name);
  if (parts.size() < 2 || parts[0] != "esc") return std::nullopt;
  Topic topic{parts[1], "", ""};
  size_t rest = 2;
  if (kind_has_model(topic.kind)) {
    if (parts.size() < 3 || parts[2].empty()) return std::nullopt;
    topic.model = parts[2];
    rest = 3;
  } else if (!kind_has_no_model(topic.kind)) {
    return std::nullopt;
  }
  if (parts.size() == rest + 1) {
    if (!is_source_name(parts[rest])) return std::nullopt;
    topic.source = parts[rest];
  } else if (parts.size() != rest) {
    return std::nullopt;
  }
  return topic;
}

std::string stream_of(const std::string& name) {
  auto topic = parse_topic(name);
  if (!topic) return name;
  topic->source.clear();
  return topic_name(*topic);
}

bool is_source_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), source_char);
}

std::string default_source_name() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) return "escd";
  std::string name(host);
  name = name.substr(0, name.find('.'));
  std::replace_if(name.begin(), name.end(), [](char c) { return !source_char(c); }, '-');
  if (name.size() > 64) name.resize(64);
  return name.empty() ? "escd" : name;
}

}  // namespace escd::daemon
