// Turns per-hop class probabilities into detection events that start and end cleanly: an event
// starts after `min_hits` consecutive hops at or above the class's on-threshold, and ends once the
// probability has stayed below the (lower) off-threshold for `hold_seconds`. Hysteresis plus a hold
// keep one sound from flickering into many events; finish() ends whatever is open (shutdown).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace escd {

struct EventConfig {
  double threshold = 0.5;          // on-threshold for classes without their own
  double off_margin = 0.15;        // off-threshold = on-threshold - off_margin
  int min_hits = 2;                // consecutive hops at/above the on-threshold before a start
  double hold_seconds = 1.0;       // time below the off-threshold before an end
  std::map<std::string, double> class_thresholds;  // per-class on-thresholds
  std::set<std::string> include;   // if non-empty, only these classes produce events
  std::set<std::string> exclude;   // never these
  // With a model that has a background output (models/common/label_set.h): a window is background
  // when that output is the top class or at least this probability, and no event starts on it
  // (open events go on ending by their own rule). Lower it to be stricter about quiet rooms.
  double background_threshold = 0.5;
};

struct DetectionEvent {
  enum class Kind { kStart, kEnd } kind;
  int class_index;
  std::string label;
  double t;           // stream time (s) of the hop that triggered it
  double score;       // probability at that hop (start), peak probability of the event (end)
  double started_at;  // for ends: when the event started
};

class EventDetector {
 public:
  EventDetector(EventConfig config, std::vector<std::string> class_names);
  // One hop's probabilities (n_classes) at stream time t; returns the events it triggers.
  std::vector<DetectionEvent> update(const std::vector<float>& probabilities, double t);
  // Whether these probabilities say "nothing here" (always false without a background output).
  bool is_background(const std::vector<float>& probabilities) const;
  // Ends every open event at time t.
  std::vector<DetectionEvent> finish(double t);
  // Replaces thresholds and filters (SIGHUP), keeping open events; classes that the new filters
  // exclude are ended at time t.
  std::vector<DetectionEvent> reconfigure(EventConfig config, double t);
  size_t open_events() const;

 private:
  struct ClassState {
    int hits = 0;
    bool open = false;
    double started_at = 0, below_since = -1, peak = 0;
  };
  bool eligible(int c) const;
  double on_threshold(int c) const;
  DetectionEvent end_event(int c, double t);

  EventConfig config_;
  std::vector<std::string> names_;
  std::optional<size_t> background_;
  std::vector<ClassState> state_;
};

}  // namespace escd
