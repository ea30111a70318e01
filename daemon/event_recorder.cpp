#include "event_recorder.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>

namespace escd::daemon {
namespace {

// A class name as a directory name: letters, digits, '-', '_', non-ASCII (UTF-8) bytes and '.' (not
// leading) kept, the rest '_'.
std::string directory_name(const std::string& label) {
  std::string out;
  for (const char c : label) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = std::isalnum(u) || u >= 0x80 || c == '-' || c == '_' || (c == '.' && !out.empty());
    out += plain ? c : '_';
  }
  return out.empty() ? "_" : out;
}

// UTC with milliseconds, without ':' (which some file systems and tools refuse in names).
std::string file_time(int64_t unix_ms) {
  const auto seconds = static_cast<std::time_t>(unix_ms / 1000);
  return fmt::format("{:%Y-%m-%dT%H-%M-%S}.{:03d}Z", fmt::gmtime(seconds), unix_ms % 1000);
}

std::string iso_time(std::chrono::system_clock::time_point wall) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(wall)));
}

}  // namespace

EventRecorder::EventRecorder(const RecordingOptions& options, int rate, RecordingWriter& writer)
    : options_(options),
      rate_(rate),
      writer_(writer),
      // The pre-roll, plus a second: start() is called a block after the audio that triggered it arrived.
      history_(static_cast<size_t>(std::ceil((options.pre_roll_s + 1.0) * rate))) {}

uint64_t EventRecorder::index_at(double t) const {
  const double offset = std::round((t - anchor_time_) * rate_);
  if (offset < 0 && static_cast<uint64_t>(-offset) > anchor_index_) return 0;
  return offset < 0 ? anchor_index_ - static_cast<uint64_t>(-offset) : anchor_index_ + static_cast<uint64_t>(offset);
}

double EventRecorder::time_at(uint64_t index) const {
  return anchor_time_ + (static_cast<double>(index) - static_cast<double>(anchor_index_)) / rate_;
}

void EventRecorder::push(const float* samples, size_t n) {
  history_.push(samples, n);
  for (auto it = active_.begin(); it != active_.end();) {
    it = feed(it->second) ? std::next(it) : active_.erase(it);
  }
}

bool EventRecorder::feed(Active& a) {
  const uint64_t until = std::min(a.limit, history_.end());
  if (a.next < until) {
    std::vector<float> samples;
    samples.reserve(until - a.next);
    history_.copy(a.next, until, samples);
    if (!writer_.append(a.id, std::move(samples))) {
      writer_.abort(a.id, a.file, "dropped: the disk is not keeping up (the queue of audio waiting for it is full)");
      return false;
    }
    a.next = until;
  }
  if (a.next < a.limit) return true;
  writer_.finish(a.id);
  if (!a.ended) outlasted_[{a.model, a.class_index}] = {a.file, time_at(a.first), time_at(a.limit), true};
  return false;
}

void EventRecorder::realign(double t) {
  for (auto& [id, a] : active_) {
    if (a.ended) a.limit = a.next;
  }
  for (auto it = active_.begin(); it != active_.end();) {
    it = feed(it->second) ? std::next(it) : active_.erase(it);
  }
  anchor_index_ = history_.end();
  anchor_time_ = t;
}

void EventRecorder::start(const std::string& model, int class_index, const std::string& label, double score, double t,
                          std::chrono::system_clock::time_point wall) {
  if (!options_.models.empty() && std::find(options_.models.begin(), options_.models.end(), model) == options_.models.end()) {
    return;
  }
  // Names are unique within a run: each one at least a millisecond after the last (files as fast
  // as they decode start several events in the same millisecond).
  const int64_t wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
  last_name_ms_ = std::max(wall_ms, last_name_ms_ + 1);
  Active a{next_id_++, model, label, directory_name(label) + "/" + file_time(last_name_ms_) + "_" + model + ".flac",
           class_index, 0, 0, 0};
  std::vector<float> pre_roll;
  const uint64_t from = index_at(t - options_.pre_roll_s);
  const uint64_t limit = std::max(from, history_.begin()) + static_cast<uint64_t>(std::llround(options_.max_event_s * rate_));
  a.first = history_.copy(from, std::min(limit, history_.end()), pre_roll);
  a.next = std::min(limit, history_.end());
  a.limit = limit;
  const nlohmann::json about = {{"model", model}, {"label", label}, {"score", score}, {"event_start", t},
                                {"recording_start", time_at(a.first)}};
  RecordingTags tags{label, about.dump(), iso_time(wall)};
  identities_[a.id] = {model, label};
  if (!writer_.begin(a.id, a.file, rate_, std::move(tags), std::move(pre_roll))) {
    writer_.abort(a.id, a.file, "dropped: the disk is not keeping up (the queue of audio waiting for it is full)");
    return;
  }
  // The pre-roll may already reach the limit (max_event_s shorter than it): finish at once.
  if (feed(a)) active_.emplace(a.id, std::move(a));
}

std::optional<RecordingSpan> EventRecorder::end(const std::string& model, int class_index, double t, bool post_roll) {
  if (const auto done = outlasted_.find({model, class_index}); done != outlasted_.end()) {
    const RecordingSpan span = done->second;
    outlasted_.erase(done);
    return span;
  }
  for (auto it = active_.begin(); it != active_.end(); ++it) {
    Active& a = it->second;
    if (a.model != model || a.class_index != class_index || a.ended) continue;
    a.ended = true;
    const uint64_t post_roll_end = std::max(index_at(t + (post_roll ? options_.post_roll_s : 0.0)), a.next);
    const bool truncated = post_roll_end > a.limit;
    a.limit = std::min(a.limit, post_roll_end);
    RecordingSpan span{a.file, time_at(a.first), time_at(a.limit), truncated};
    if (!feed(a)) active_.erase(it);
    return span;
  }
  return std::nullopt;  // not recorded
}

void EventRecorder::finish_all() {
  for (auto& [id, a] : active_) writer_.finish(id);
  active_.clear();
}

std::vector<std::pair<std::string, nlohmann::json>> EventRecorder::finished() {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (const RecordingResult& r : writer_.take_results()) {
    const auto who = identities_.find(r.id);
    if (who == identities_.end()) continue;
    const auto [model, label] = who->second;
    identities_.erase(who);
    nlohmann::json body = {{"model", model},     {"label", label},     {"file", r.file},
                           {"written", r.written}, {"rate", r.rate},     {"samples", r.samples},
                           {"seconds", r.rate > 0 ? static_cast<double>(r.samples) / r.rate : 0.0},
                           {"bytes", r.bytes}};
    if (!r.written) body["error"] = r.error;
    out.emplace_back(model, std::move(body));
  }
  return out;
}

nlohmann::json EventRecorder::stats() const {
  nlohmann::json s = writer_.stats();
  s["recording"] = active_.size();
  s["rate"] = rate_;
  return s;
}

}  // namespace escd::daemon
