// What esc-web knows about one escd: the latest scores per model, the open events, the latest level
// and health (for a new browser's first view), the counters /metrics reports, and a short history
// of messages that the live streams (Server-Sent Events) read from. Fed by the subscriber loop,
// read by the HTTP server's threads: every member function is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace escd::daemon {

// One message for the live streams: the SSE event name and its JSON.
struct LiveMessage {
  uint64_t seq;
  std::string event;  // scores | event | level | health | spectrogram | source
  std::string data;
};

class WebState {
 public:
  using Clock = std::chrono::steady_clock;
  WebState(std::string name, std::string endpoint, std::chrono::milliseconds offline_after);

  // One of escd's messages as it arrived.
  void on_message(const std::string& topic, const nlohmann::json& body, Clock::time_point now);
  // Marks escd unreachable after `offline_after` without a message (called from the loop).
  void tick(Clock::time_point now);

  // The first message of a new stream: {"source", "scores", "open_events", "level", "health",
  // "spectrogram" (the last 30 s of columns, or null)}; `seq`, if given, receives the seq of the
  // newest message it includes (the stream goes on after it).
  nlohmann::json snapshot(uint64_t* seq = nullptr) const;
  // Messages after `after` (a seq), waiting up to `timeout` for one; `after` then moves on. A stream
  // that fell further behind than the history gets a fresh snapshot instead of a gap.
  std::vector<LiveMessage> next(uint64_t& after, std::chrono::milliseconds timeout);
  // Wakes every stream waiting in next() (shutdown).
  void close();
  bool closed() const;

  // Prometheus text exposition of the counters and gauges.
  std::string metrics() const;
  // Live streams: a new one is refused (false) when `max` are open already.
  bool open_stream(size_t max);
  void close_stream();

 private:
  void publish(const std::string& event, const nlohmann::json& data);  // mutex held
  void keep_columns(const nlohmann::json& spectrogram);                 // mutex held
  void apply(const std::string& topic, const nlohmann::json& body);     // mutex held; may throw on bad fields
  nlohmann::json snapshot_locked() const;                               // mutex held
  nlohmann::json source_json() const;                                   // mutex held

  const std::string name_, endpoint_;
  const std::chrono::milliseconds offline_after_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool connected_ = false, closed_ = false;
  Clock::time_point last_message_{};
  std::map<std::string, nlohmann::json> scores_;                       // model -> latest scores
  std::map<std::pair<std::string, std::string>, nlohmann::json> open_;  // (model, label) -> start
  nlohmann::json level_, health_;
  nlohmann::json spectrogram_;                 // the latest message's fields, columns replaced by...
  std::deque<nlohmann::json> columns_;         // ...the last 30 s of columns
  std::deque<LiveMessage> history_;
  uint64_t seq_ = 0;
  // For /metrics.
  std::map<std::string, uint64_t> scores_received_;                            // model
  std::map<std::pair<std::string, std::string>, uint64_t> event_starts_;       // (model, label)
  uint64_t messages_ = 0, malformed_ = 0, streams_ = 0, streams_total_ = 0;
};

}  // namespace escd::daemon
