// esc-web's /metrics: what it has seen of one escd, in the Prometheus text exposition format
// (version 0.0.4). Counters escd keeps itself (windows, overflows, reconnects, gaps, recordings)
// come from its latest health message; events are counted as esc-web sees them start.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>

namespace escd::daemon {

struct MetricsView {
  std::string source;                   // the escd's name, a label on every series
  bool up = false;                      // heard from within offline_after
  nlohmann::json health, level;         // the latest, or null
  std::map<std::string, uint64_t> scores;                           // model -> score messages
  std::map<std::pair<std::string, std::string>, uint64_t> starts;   // (model, label) -> event starts
  std::set<std::pair<std::string, std::string>> open;               // events open now
  uint64_t messages = 0, malformed = 0, streams = 0, streams_total = 0;
};

std::string prometheus_text(const MetricsView& view);

}  // namespace escd::daemon
